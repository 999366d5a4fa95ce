/**
 * Input sources written `kind:detail` (DESIGN.md §7): each turns into samples of input events for
 * a model with `inputSize` inputs, `steps` steps each. Every verb that reads input (run, eval,
 * stream, compare, and calibration in convert and quantize) opens it here, through SOURCE_KINDS:
 * one vocabulary for all of them.
 */
import { fail } from "../runtime/errors.js";
import type { InputSample } from "../runtime/events.js";
import { encodeSample } from "../runtime/interpreter.js";
import { Xorshift32 } from "../runtime/prng.js";
import { decodeSpikeFile, sampleToInput } from "../runtime/spikefile.js";
import type { EventTable, Shape3 } from "../runtime/model.js";
import { image, loadDataset, slice } from "../models/datasets.js";
import { readFileOrFail } from "./io.js";
import { LIVE_SOURCE_KINDS, type SourceContext } from "./live-sources.js";

export type { SourceContext } from "./live-sources.js";

/** A source kind: parses its detail (the text after `kind:`) and yields samples. */
export interface SourceKind {
  /** One line for --help: the syntax and what it gives. */
  readonly help: string;
  /** True when the source never runs out of samples (so callers must bound how many they take). */
  readonly endless: boolean;
  /** True when every sample carries a class label (eval scores these). */
  readonly labelled?: boolean;
  /** True for sources that arrive while running (`stream` reads them with openLive, step by step). */
  readonly live?: boolean;
  /** Samples of `steps` steps for a model with `inputSize` inputs. May be endless (callers bound it). */
  open(detail: string, inputSize: number, steps: number, context?: SourceContext): Iterable<InputSample>;
  /** Live sources: samples of `chunkSteps` steps as they arrive, read on demand (backpressure). */
  openLive?(detail: string, inputSize: number, chunkSteps: number, context?: SourceContext): AsyncIterable<InputSample>;
}

/**
 * Converts a spike probability per step (0..1) into the uint8 intensity of rate encoding
 * (probability intensity/256, spec/ops.md §7.2): round(rate * 256), at most 255.
 */
export function intensityOfRate(rate: number): number {
  return Math.min(255, Math.round(rate * 256));
}

/** `random:RATE:SEED`: every input spikes with probability RATE per step, from one xorshift32 stream seeded with SEED. */
const randomSource: SourceKind = {
  help: "random:RATE:SEED  every input spikes with probability RATE (0..1, in steps of 1/256, at most 255/256) per step; xorshift32 seeded with SEED (1..4294967295), one stream across samples; endless",
  endless: true,
  open(detail, inputSize, steps) {
    const m = /^([0-9]*\.?[0-9]+(?:e-?[0-9]+)?):([0-9]+)$/i.exec(detail);
    if (!m) fail("CLI_BAD_SOURCE", `random source '${detail}' is not RATE:SEED (e.g. random:0.1:42)`);
    const rate = Number(m[1]);
    const seed = Number(m[2]);
    if (!(rate >= 0 && rate <= 1)) fail("CLI_BAD_SOURCE", `random RATE must be in 0..1, got ${m[1]}`);
    if (!Number.isInteger(seed) || seed < 1 || seed > 0xffffffff) fail("CLI_BAD_SOURCE", `random SEED must be an integer in 1..4294967295, got ${m[2]}`);
    const intensities = new Uint8Array(inputSize).fill(intensityOfRate(rate));
    const description = { size: inputSize, encoding: "rate", seed } as const;
    return {
      *[Symbol.iterator]() {
        const prng = new Xorshift32(seed);
        for (;;) yield { steps: encodeSample(description, intensities, steps, prng) };
      },
    };
  },
};

/** `spikes:FILE`: the samples of a spike file (spec/spike-file.md), cut or padded to `steps`. */
const spikeFileSource: SourceKind = {
  help: "spikes:FILE  the samples of a spike file (spec/spike-file.md), each cut or padded to --steps",
  endless: false,
  open(detail, inputSize, steps) {
    if (detail === "") fail("CLI_BAD_SOURCE", "spikes source needs a file: spikes:FILE");
    const file = decodeSpikeFile(readFileOrFail(detail));
    if (file.inputSize !== inputSize) {
      fail("SEMANTICS_BAD_INPUT", `spike file ${detail} addresses ${file.inputSize} inputs, the model has ${inputSize}`);
    }
    return {
      *[Symbol.iterator]() {
        for (const sample of file.samples) yield sampleToInput(sample, steps);
      },
    };
  },
};

/**
 * `mnist` or `mnist:START:COUNT`: held-out test digits (the embedded MNIST, or the IDX test set of
 * --data-dir), labelled, each encoded as the model's input says with a fresh encoder, as eval does.
 */
const mnistSource: SourceKind = {
  help: "mnist[:START:COUNT]  held-out MNIST test digits (labelled), encoded as the model's input says",
  endless: false,
  labelled: true,
  open(detail, inputSize, steps, context) {
    const m = /^(?:(\d+):(\d+))?$/.exec(detail);
    if (!m) fail("CLI_BAD_SOURCE", `'mnist:${detail}' is not mnist or mnist:START:COUNT`);
    if (inputSize !== 784) fail("SEMANTICS_BAD_INPUT", `mnist digits have 784 pixels, the model's input has ${inputSize}`);
    const description = context?.input ?? { size: inputSize, encoding: "current" as const, seed: 1 };
    const test = loadDataset(context?.dataDir).test;
    const set = m[1] === undefined ? test : slice(test, Number(m[1]), Number(m[2]));
    return {
      *[Symbol.iterator]() {
        for (let i = 0; i < set.count; i++) yield { steps: encodeSample(description, image(set, i), steps), label: set.labels[i]! };
      },
    };
  },
};

/** Every source kind, by the name before the first colon. */
export const SOURCE_KINDS: Readonly<Record<string, SourceKind>> = {
  mnist: mnistSource,
  random: randomSource,
  spikes: spikeFileSource,
  ...LIVE_SOURCE_KINDS,
};

/** True when the source string names an endless kind (false for unknown kinds: parseSource reports those). */
export function sourceIsEndless(spec: string): boolean {
  const kind = spec.split(":", 1)[0]!;
  return Object.hasOwn(SOURCE_KINDS, kind) && SOURCE_KINDS[kind]!.endless;
}

/**
 * Parses a source string `kind:detail` and opens it for a model with `inputSize` inputs, giving
 * samples of `steps` steps. Throws CLI_BAD_SOURCE for unknown kinds or malformed details.
 */
export function parseSource(spec: string, inputSize: number, steps: number, context?: SourceContext): Iterable<InputSample> {
  const { source, detail } = lookup(spec);
  return source.open(detail, inputSize, steps, context);
}

function lookup(spec: string): { source: SourceKind; detail: string } {
  const colon = spec.indexOf(":");
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const source = Object.hasOwn(SOURCE_KINDS, kind) ? SOURCE_KINDS[kind] : undefined;
  if (source === undefined) {
    fail(
      "CLI_BAD_SOURCE",
      `unknown input source '${spec}'; known kinds: ${Object.keys(SOURCE_KINDS)
        .map((k) => `${k}:`)
        .join(", ")}`,
    );
  }
  return { source, detail: colon < 0 ? "" : spec.slice(colon + 1) };
}

/** True when the source string names a live kind (ndjson:, serial:), which `stream` reads as it arrives. */
export function sourceIsLive(spec: string): boolean {
  const kind = spec.split(":", 1)[0]!;
  return Object.hasOwn(SOURCE_KINDS, kind) && SOURCE_KINDS[kind]!.live === true;
}

/**
 * Opens a live source for streaming: samples of `chunkSteps` steps as they arrive (1 in real-time
 * mode, so each step goes out as soon as it is read and due). CLI_BAD_SOURCE for non-live kinds.
 */
export function openLiveSource(spec: string, inputSize: number, chunkSteps: number, context?: SourceContext): AsyncIterable<InputSample> {
  const { source, detail } = lookup(spec);
  if (!source.openLive) fail("CLI_BAD_SOURCE", `'${spec}' is not a live source`);
  return source.openLive(detail, inputSize, chunkSteps, context);
}

/**
 * Opens a (non-live) source for `table`: its samples, and how many to take (`samples`, else all of
 * a file, or 1 of an endless source). The one entry point of run, eval, compare and stream.
 */
export function openInput(
  spec: string,
  table: EventTable,
  steps: number,
  samples: number | undefined,
  context: SourceContext = {},
): { samples: Iterable<InputSample>; count: number } {
  const source = parseSource(spec, table.input.size, steps, { ...(table.input.shape ? { shape: table.input.shape } : {}), input: table.input, ...context });
  const count = samples ?? (sourceIsEndless(spec) ? 1 : Number.MAX_SAFE_INTEGER);
  return { samples: source, count };
}

/** True when the source string names a kind whose samples all carry labels (mnist:). */
export function sourceIsLabelled(spec: string): boolean {
  const kind = spec.split(":", 1)[0]!;
  return Object.hasOwn(SOURCE_KINDS, kind) && SOURCE_KINDS[kind]!.labelled === true;
}

/** Steps each calibration sample is read for, when a source's samples are turned into intensities. */
export const CALIBRATION_STEPS = 32;

/**
 * `count` samples of a source as calibration images for convert and quantize, which normalize and
 * check saturation on intensities (one uint8 per input, as an image is encoded): each input's
 * intensity is its mean drive per step over CALIBRATION_STEPS steps, an event counting its value
 * when graded and 255 when a plain spike (a spike each step is full scale), capped at 255. The
 * source is opened for a model with `size` inputs (and `shape`, for event-file mapping); fewer
 * samples than asked are used when the source holds fewer.
 */
export function calibrationImages(spec: string, size: number, count: number, shape?: Shape3): { images: Uint8Array; count: number } {
  const source = parseSource(spec, size, CALIBRATION_STEPS, shape ? { shape } : {});
  const images: Uint8Array[] = [];
  for (const sample of source) {
    if (images.length >= count) break;
    const drive = new Float64Array(size);
    for (const step of sample.steps) {
      for (let e = 0; e < step.indices.length; e++) drive[step.indices[e]!]! += step.values === undefined ? 255 : step.values[e]!;
    }
    images.push(Uint8Array.from(drive, (d) => Math.min(255, Math.round(d / CALIBRATION_STEPS))));
  }
  if (images.length === 0) fail("CLI_BAD_SOURCE", `calibration input '${spec}' holds no samples`);
  const out = new Uint8Array(images.length * size);
  images.forEach((img, i) => out.set(img, i * size));
  return { images: out, count: images.length };
}
