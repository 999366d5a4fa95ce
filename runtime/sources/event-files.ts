/**
 * Event-camera recordings as input samples (spec/input-formats.md §7.1): the options after the path
 * (`dt=`, `crop=`, `downsample=`, `polarity=`, ...), the automatic mapping of the sensor onto the
 * model's input shape, and the decoding of a file's bytes into one sample of binned steps.
 */
import { fail } from "../errors.js";
import type { InputSample } from "../events.js";
import { binEvents, binLayout, readEventFile, type BinOptions, type EventFileKind } from "../eventfiles/index.js";
import type { SourceContext } from "./kind.js";
import { choiceOpt, intOpt, splitDetail } from "./options.js";

/** Default step length of event-file binning when neither `dt=` nor the verb gives one: 1 ms. */
export const DEFAULT_DT_US = 1000;

/** The options an event-file source accepts after its path. */
export const EVENT_FILE_OPTIONS = ["dt", "crop", "downsample", "polarity", "denoise", "refractory", "accumulate", "width", "height", "start", "label"] as const;

/**
 * Bin options for an event file: the user's `key=value` options, and where the user gave no crop
 * or downsampling and the binned size differs from the model's, the automatic mapping onto the
 * model's shape [c, h, w]: polarity `split` when c = 2, the largest integer factor f with
 * f·w ≤ width and f·h ≤ height, and the centred f·w × f·h crop (N-MNIST 34×34 → 28×28: crop 3..30).
 */
export function eventBinOptions(
  kind: string,
  geometry: { width: number; height: number },
  options: Map<string, string>,
  inputSize: number,
  context: SourceContext,
): BinOptions {
  const dtUs = intOpt(kind, options, "dt", 1, 2 ** 40) ?? context.dtUs ?? DEFAULT_DT_US;
  let polarity = choiceOpt(kind, options, "polarity", ["merge", "split", "on", "off"] as const);
  const accumulate = choiceOpt(kind, options, "accumulate", ["spike", "count"] as const);
  const denoiseUs = intOpt(kind, options, "denoise", 0, 2 ** 40);
  const refractoryUs = intOpt(kind, options, "refractory", 0, 2 ** 40);
  const startUs = intOpt(kind, options, "start", 0, Number.MAX_SAFE_INTEGER);
  let crop: BinOptions["crop"];
  const cropRaw = options.get("crop");
  if (cropRaw !== undefined) {
    const m = /^(\d+):(\d+):(\d+):(\d+)$/.exec(cropRaw);
    if (!m) fail("CLI_BAD_SOURCE", `${kind}: crop must be X:Y:WIDTH:HEIGHT, got '${cropRaw}'`);
    crop = { x: Number(m[1]), y: Number(m[2]), width: Number(m[3]), height: Number(m[4]) };
  }
  let downsample: BinOptions["downsample"];
  const dsRaw = options.get("downsample");
  if (dsRaw !== undefined) {
    const m = /^(\d+)(?:x(\d+))?$/.exec(dsRaw);
    if (!m) fail("CLI_BAD_SOURCE", `${kind}: downsample must be N or NxM, got '${dsRaw}'`);
    downsample = m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
  }
  const base = (): BinOptions => ({
    dtUs,
    ...(polarity ? { polarity } : {}),
    ...(accumulate ? { accumulate } : {}),
    ...(denoiseUs ? { denoiseUs } : {}),
    ...(refractoryUs ? { refractoryUs } : {}),
    ...(startUs !== undefined ? { startUs } : {}),
    ...(crop ? { crop } : {}),
    ...(downsample !== undefined ? { downsample } : {}),
  });
  const shape = context.shape;
  if (crop === undefined && downsample === undefined && shape && binLayout(geometry, base()).size !== inputSize) {
    const [c, h, w] = shape;
    if (polarity === undefined && c === 2) polarity = "split";
    const f = Math.floor(Math.min(geometry.width / w, geometry.height / h));
    if (f >= 1 && (c === 1 || c === 2)) {
      crop = { x: Math.floor((geometry.width - f * w) / 2), y: Math.floor((geometry.height - f * h) / 2), width: f * w, height: f * h };
      downsample = f;
    }
  }
  const options2 = base();
  const layout = binLayout(geometry, options2);
  if (layout.size !== inputSize) {
    fail(
      "SEMANTICS_BAD_INPUT",
      `${kind}: the ${geometry.width}x${geometry.height} sensor maps to ${layout.shape.join("x")} = ${layout.size} inputs, the model has ${inputSize}; ` +
        "set crop=X:Y:W:H, downsample=N and polarity=merge|split|on|off to match",
    );
  }
  return options2;
}

/** An event-file source's detail: its path and checked options (what eventFileDetail returns). */
export interface EventFileDetail {
  readonly path: string;
  readonly options: Map<string, string>;
  /** Sensor size overrides (width=, height=) for files that do not state it. */
  readonly geometry: { width?: number; height?: number };
  /** The class label the sample carries (label=N). */
  readonly label: number | undefined;
}

/** Splits an event-file source's detail into its path and checked options (CLI_BAD_SOURCE on unknown or bad ones). */
export function eventFileDetail(kind: EventFileKind, detail: string): EventFileDetail {
  const { path, options } = splitDetail(kind, detail, EVENT_FILE_OPTIONS);
  const width = intOpt(kind, options, "width", 1, 32768);
  const height = intOpt(kind, options, "height", 1, 32768);
  const label = intOpt(kind, options, "label", 0, 2 ** 31 - 1);
  return { path, options, geometry: { ...(width ? { width } : {}), ...(height ? { height } : {}) }, label };
}

/**
 * The one sample of the event file of `kind` holding `bytes`, with its `detail` (eventFileDetail),
 * binned into at least `steps` steps and mapped onto `inputSize` inputs.
 */
export function eventFileSample(
  kind: EventFileKind,
  detail: EventFileDetail,
  bytes: Uint8Array,
  inputSize: number,
  steps: number,
  context: SourceContext = {},
): InputSample {
  const stream = readEventFile(kind, bytes, detail.geometry);
  const bin = eventBinOptions(kind, stream, detail.options, inputSize, context);
  const sample = binEvents(stream, { ...bin, steps: Math.max(steps, 0) });
  return detail.label === undefined ? sample : { ...sample, label: detail.label };
}
