/**
 * Sensor input sources (spec/input-formats.md §7): event-camera files (`nmnist:`, `aedat:`,
 * `evt2:`, `evt3:`) binned into steps and mapped onto the model's input, NDJSON samples or events
 * from stdin, a file or a named pipe (`ndjson:-`, `ndjson:PATH`), and a sensor printing text lines
 * of numbers on a serial port (`serial:/dev/ttyX@115200`). Options follow the path as `,key=value`.
 *
 * Live sources have two drivers: a bounded whole-input read for the synchronous verbs (`run`,
 * `compare`), and an async one for `stream` that reads with backpressure (the next line is read
 * only when the streamer asks for the next step) and stops on the abort signal.
 */
import { createReadStream, readSync, openSync, closeSync } from "node:fs";
import type { Readable } from "node:stream";
import { fail, PicospikeError } from "../runtime/errors.js";
import { NO_EVENTS, type InputSample, type StepEvents } from "../runtime/events.js";
import type { InputDescription, Shape3 } from "../runtime/model.js";
import { DeltaEncoder, SigmaDeltaEncoder, intensityFromUnit, latencyEncode, rateEncode, sampleFromFloat } from "../runtime/encoders.js";
import { binEvents, binLayout, readEventFile, type BinOptions, type EventFileKind } from "../runtime/eventfiles/index.js";
import { Xorshift32 } from "../runtime/prng.js";
import { readFileOrFail } from "./io.js";

/** What a verb tells a source beyond the input size: the step length and the input's shape. */
export interface SourceContext {
  /** Step length in µs (the stream's --dt); event files bin with it unless they set `dt=`. */
  readonly dtUs?: number;
  /** The model's input shape [channels, height, width], for the automatic event-file mapping. */
  readonly shape?: Shape3;
  /** Stops a live source that is waiting for input (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Where live sources report detection results and drops (stderr in the CLI). */
  readonly log?: (line: string) => void;
  /** The model's input description: dataset sources encode their images as it says (encoding, seed). */
  readonly input?: InputDescription;
  /** IDX dataset folder for dataset sources (--data-dir) instead of the embedded MNIST. */
  readonly dataDir?: string;
}

/** Default step length of event-file binning when neither `dt=` nor the verb gives one: 1 ms. */
export const DEFAULT_DT_US = 1000;
/** Longest NDJSON or serial text line, in bytes. */
export const MAX_LINE_BYTES = 1 << 20;
/** Most bytes the synchronous (run/compare) driver reads from an NDJSON input. */
export const MAX_NDJSON_BYTES = 256 << 20;
/** Most steps the synchronous (run/compare) driver holds from an NDJSON input (the spike-file limit). */
export const MAX_NDJSON_STEPS = 1 << 24;
/** Largest jump of `t` between two NDJSON event lines (empty steps filled in). */
export const MAX_STEP_GAP = 1_000_000;

// ---- `FILE,key=value,...` --------------------------------------------------------------------------

/** Splits `PATH,key=value,key=value` into the path and its options (a comma not followed by `key=` stays in the path). */
export function splitDetail(kind: string, detail: string, known: readonly string[]): { path: string; options: Map<string, string> } {
  const options = new Map<string, string>();
  const m = /,(?=[a-z-]+=)/.exec(detail);
  const path = m ? detail.slice(0, m.index) : detail;
  if (m) {
    for (const part of detail.slice(m.index + 1).split(",")) {
      const eq = part.indexOf("=");
      const key = part.slice(0, eq);
      if (eq < 0 || !known.includes(key)) fail("CLI_BAD_SOURCE", `${kind}: unknown option '${part}'; known: ${known.join(", ")}`);
      if (options.has(key)) fail("CLI_BAD_SOURCE", `${kind}: option ${key} given twice`);
      options.set(key, part.slice(eq + 1));
    }
  }
  if (path === "") fail("CLI_BAD_SOURCE", `${kind} source needs a path: ${kind}:PATH[,key=value...]`);
  return { path, options };
}

function intOpt(kind: string, options: Map<string, string>, key: string, lo: number, hi: number): number | undefined {
  const raw = options.get(key);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < lo || v > hi) fail("CLI_BAD_SOURCE", `${kind}: ${key} must be an integer in ${lo}..${hi}, got '${raw}'`);
  return v;
}

function numOpt(kind: string, options: Map<string, string>, key: string, lo: number): number | undefined {
  const raw = options.get(key);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < lo) fail("CLI_BAD_SOURCE", `${kind}: ${key} must be a number ≥ ${lo}, got '${raw}'`);
  return v;
}

function choiceOpt<T extends string>(kind: string, options: Map<string, string>, key: string, choices: readonly T[]): T | undefined {
  const raw = options.get(key);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) fail("CLI_BAD_SOURCE", `${kind}: ${key} must be one of ${choices.join(", ")}, got '${raw}'`);
  return raw as T;
}

// ---- event-camera files --------------------------------------------------------------------------------

const EVENT_FILE_OPTIONS = ["dt", "crop", "downsample", "polarity", "denoise", "refractory", "accumulate", "width", "height", "start", "label"] as const;

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

function eventFileKind(kind: EventFileKind, help: string): SourceKindLike {
  return {
    help,
    endless: false,
    open(detail, inputSize, steps, context = {}) {
      const { path, options } = splitDetail(kind, detail, EVENT_FILE_OPTIONS);
      const width = intOpt(kind, options, "width", 1, 32768);
      const height = intOpt(kind, options, "height", 1, 32768);
      const label = intOpt(kind, options, "label", 0, 2 ** 31 - 1);
      const stream = readEventFile(kind, readFileOrFail(path), { ...(width ? { width } : {}), ...(height ? { height } : {}) });
      const bin = eventBinOptions(kind, stream, options, inputSize, context);
      const sample = binEvents(stream, { ...bin, steps: Math.max(steps, 0) });
      return [label === undefined ? sample : { ...sample, label }];
    },
  };
}

/** The shape a source kind has (cli/sources.ts SourceKind, restated to keep the import one-way). */
export interface SourceKindLike {
  readonly help: string;
  readonly endless: boolean;
  /** True for sources that arrive while running (stream reads them with openLive). */
  readonly live?: boolean;
  open(detail: string, inputSize: number, steps: number, context?: SourceContext): Iterable<InputSample>;
  openLive?(detail: string, inputSize: number, chunkSteps: number, context?: SourceContext): AsyncIterable<InputSample>;
}

// ---- NDJSON ------------------------------------------------------------------------------------------------

/** Encoders for analog `values` lines. */
export const ANALOG_ENCODERS = ["rate", "latency", "delta", "sigma-delta"] as const;
/** One of ANALOG_ENCODERS. */
export type AnalogEncoder = (typeof ANALOG_ENCODERS)[number];

/** How analog lines become spikes. */
export interface AnalogOptions {
  readonly encoder: AnalogEncoder;
  /** delta / sigma-delta: int32 sample = floor(value · scale + 0.5). Default 1. */
  readonly scale: number;
  /** delta: threshold in sample units (default 1). */
  readonly threshold: number;
  /** delta: graded events (value = number of thresholds crossed). */
  readonly graded: boolean;
  /** sigma-delta: full scale in sample units (default 256); bipolar unless `unipolar`. */
  readonly fullScale: number;
  readonly bipolar: boolean;
  /** rate: PRNG seed (default 1). */
  readonly seed: number;
  /** latency: steps each line is spread over (default 8). */
  readonly window: number;
}

const ANALOG_OPTION_KEYS = ["encoder", "scale", "threshold", "graded", "full-scale", "unipolar", "seed", "window"] as const;

function analogOptions(kind: string, options: Map<string, string>, defaultEncoder: AnalogEncoder): AnalogOptions {
  const flag = (key: string): boolean => {
    const raw = options.get(key);
    if (raw === undefined) return false;
    if (raw !== "1" && raw !== "0" && raw !== "true" && raw !== "false") fail("CLI_BAD_SOURCE", `${kind}: ${key} must be true or false, got '${raw}'`);
    return raw === "1" || raw === "true";
  };
  return {
    encoder: choiceOpt(kind, options, "encoder", ANALOG_ENCODERS) ?? defaultEncoder,
    scale: numOpt(kind, options, "scale", Number.MIN_VALUE) ?? 1,
    threshold: intOpt(kind, options, "threshold", 1, 2 ** 30) ?? 1,
    graded: flag("graded"),
    fullScale: intOpt(kind, options, "full-scale", 1, 2 ** 30) ?? 256,
    bipolar: !flag("unipolar"),
    seed: intOpt(kind, options, "seed", 1, 0xffffffff) ?? 1,
    window: intOpt(kind, options, "window", 1, 1 << 16) ?? 8,
  };
}

/** Inputs an analog encoder drives for `channels` channels. */
export function analogInputs(options: AnalogOptions, channels: number): number {
  if (options.encoder === "delta") return 2 * channels;
  if (options.encoder === "sigma-delta") return options.bipolar ? 2 * channels : channels;
  return channels;
}

/**
 * Turns analog samples (one row of numbers per line) into steps with the chosen encoder; the
 * channel count comes from the first row and must match the model's input (SEMANTICS_BAD_INPUT).
 */
export class AnalogStepper {
  private channels = -1;
  private delta: DeltaEncoder | undefined;
  private sigma: SigmaDeltaEncoder | undefined;
  private readonly rng: Xorshift32;

  constructor(
    private readonly where: string,
    private readonly inputSize: number,
    private readonly options: AnalogOptions,
  ) {
    this.rng = new Xorshift32(options.seed);
  }

  /** Channels per row, once the first row has been seen (else -1). */
  get channelCount(): number {
    return this.channels;
  }

  /** The steps of one row (one step; `window` steps for latency). `at` names the line for errors. */
  row(values: readonly number[], at: string): StepEvents[] {
    if (this.channels < 0) {
      this.channels = values.length;
      if (values.length === 0) fail("CLI_BAD_INPUT_FILE", `${this.where}: ${at}: a sample with no values`);
      const inputs = analogInputs(this.options, values.length);
      if (inputs !== this.inputSize) {
        fail(
          "SEMANTICS_BAD_INPUT",
          `${this.where}: ${values.length} channels give ${inputs} inputs with the ${this.options.encoder} encoder, the model has ${this.inputSize}`,
        );
      }
      if (this.options.encoder === "delta") this.delta = new DeltaEncoder(values.length, { threshold: this.options.threshold, graded: this.options.graded });
      if (this.options.encoder === "sigma-delta")
        this.sigma = new SigmaDeltaEncoder(values.length, { fullScale: this.options.fullScale, bipolar: this.options.bipolar });
    }
    if (values.length !== this.channels) fail("CLI_BAD_INPUT_FILE", `${this.where}: ${at}: ${values.length} values, earlier samples had ${this.channels}`);
    for (const v of values) if (!Number.isFinite(v)) fail("CLI_BAD_INPUT_FILE", `${this.where}: ${at}: value ${v} is not a finite number`);
    switch (this.options.encoder) {
      case "rate":
        return [...rateEncode(values.map(intensityFromUnit), 1, this.rng).steps];
      case "latency":
        return [...latencyEncode(values.map(intensityFromUnit), { steps: this.options.window }).steps];
      case "delta":
        return [this.delta!.step(values.map((v) => sampleFromFloat(v, this.options.scale)))];
      case "sigma-delta":
        return [this.sigma!.step(values.map((v) => sampleFromFloat(v, this.options.scale)))];
    }
  }
}

/**
 * Decodes NDJSON lines into steps (spec/input-formats.md §7.2): `{"t": STEP, "events": [i, ...]}`
 * (t optional; strictly increasing; skipped steps are empty) or `{"values": [x, ...]}` (analog,
 * encoded by AnalogStepper). One input uses one kind of line. Errors name the line number.
 */
export class NdjsonDecoder {
  private nextStep = 0;
  private mode: "events" | "values" | undefined;
  private readonly analog: AnalogStepper;
  private lineNo = 0;

  constructor(
    private readonly where: string,
    private readonly inputSize: number,
    options: AnalogOptions,
  ) {
    this.analog = new AnalogStepper(where, inputSize, options);
  }

  /** Lines read so far (the number of the last one). */
  get lines(): number {
    return this.lineNo;
  }

  private bad(message: string): never {
    throw new PicospikeError("CLI_BAD_INPUT_FILE", `${this.where}: line ${this.lineNo}: ${message}`, { line: this.lineNo });
  }

  /** The steps one line gives (none for a blank line). */
  line(text: string): StepEvents[] {
    this.lineNo++;
    if (text.trim() === "") return [];
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      this.bad(`not JSON (${(e as Error).message})`);
    }
    if (typeof obj !== "object" || obj === null || Array.isArray(obj)) this.bad("expected a JSON object");
    const rec = obj as Record<string, unknown>;
    const hasEvents = Object.hasOwn(rec, "events");
    const hasValues = Object.hasOwn(rec, "values");
    if (hasEvents === hasValues) this.bad('expected exactly one of "events" and "values"');
    const mode = hasEvents ? "events" : "values";
    if (this.mode !== undefined && this.mode !== mode) this.bad(`"${mode}" line in an input of "${this.mode}" lines`);
    this.mode = mode;
    for (const key of Object.keys(rec)) if (key !== "t" && key !== mode) this.bad(`unknown field "${key}"`);
    if (mode === "values") {
      if (Object.hasOwn(rec, "t")) this.bad('"t" goes with "events" lines only');
      const values = rec["values"];
      if (!Array.isArray(values) || values.length > 1 << 20 || !values.every((v) => typeof v === "number")) this.bad('"values" must be an array of numbers');
      const steps = this.analog.row(values as number[], `line ${this.lineNo}`);
      this.nextStep += steps.length;
      return steps;
    }
    let t = this.nextStep;
    if (Object.hasOwn(rec, "t")) {
      const raw = rec["t"];
      if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 0) this.bad(`"t" must be a non-negative integer step, got ${JSON.stringify(raw)}`);
      if (raw < this.nextStep) this.bad(`"t" ${raw} is not after the previous step ${this.nextStep - 1}`);
      if (raw - this.nextStep > MAX_STEP_GAP) this.bad(`"t" jumps by more than ${MAX_STEP_GAP} steps`);
      t = raw;
    }
    const list = rec["events"];
    if (!Array.isArray(list) || list.length > this.inputSize) this.bad(`"events" must be an array of at most ${this.inputSize} input indices`);
    const indices = new Uint32Array(list.length);
    list.forEach((v, k) => {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v >= this.inputSize)
        this.bad(`event ${JSON.stringify(v)} is not an input index in 0..${this.inputSize - 1}`);
      indices[k] = v;
    });
    indices.sort();
    for (let k = 1; k < indices.length; k++) if (indices[k] === indices[k - 1]) this.bad(`input ${indices[k]} twice in one step`);
    const out: StepEvents[] = new Array<StepEvents>(t - this.nextStep).fill(NO_EVENTS);
    out.push(indices.length === 0 ? NO_EVENTS : { indices });
    this.nextStep = t + 1;
    return out;
  }
}

/** Splits a byte stream into text lines (LF, optional CR), bounded by MAX_LINE_BYTES. */
export class LineSplitter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private readonly decoder = new TextDecoder("utf-8", { fatal: false });
  /** Lines completed so far, counted from 1, for errors. */
  lines = 0;

  constructor(private readonly where: string) {}

  /** Complete lines in `chunk` (the tail waits for the next chunk). */
  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    let start = 0;
    for (let k = 0; k < chunk.length; k++) {
      if (chunk[k] !== 0x0a) continue;
      out.push(this.take(chunk.subarray(start, k)));
      start = k + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      this.pendingBytes += rest.length;
      if (this.pendingBytes > MAX_LINE_BYTES)
        throw new PicospikeError("CLI_BAD_INPUT_FILE", `${this.where}: line ${this.lines + 1} is longer than ${MAX_LINE_BYTES} bytes`, {
          line: this.lines + 1,
        });
      this.pending.push(rest.slice());
    }
    return out;
  }

  /** The last line when the input does not end with a newline. */
  end(): string[] {
    return this.pendingBytes > 0 ? [this.take(new Uint8Array(0))] : [];
  }

  private take(tail: Uint8Array): string {
    let bytes = tail;
    if (this.pendingBytes > 0) {
      bytes = new Uint8Array(this.pendingBytes + tail.length);
      let off = 0;
      for (const p of this.pending) {
        bytes.set(p, off);
        off += p.length;
      }
      bytes.set(tail, off);
      this.pending = [];
      this.pendingBytes = 0;
    }
    if (bytes.length > MAX_LINE_BYTES)
      throw new PicospikeError("CLI_BAD_INPUT_FILE", `${this.where}: line ${this.lines + 1} is longer than ${MAX_LINE_BYTES} bytes`, { line: this.lines + 1 });
    this.lines++;
    const text = this.decoder.decode(bytes);
    return text.endsWith("\r") ? text.slice(0, -1) : text;
  }
}

/** Reads all of stdin or a file synchronously, failing beyond `limit` bytes (no unbounded allocation). */
function readAllBounded(path: string, limit: number): Uint8Array {
  if (path !== "-") {
    const bytes = readFileOrFail(path);
    if (bytes.length > limit) fail("CLI_BAD_INPUT_FILE", `${path} is larger than ${limit} bytes`);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const fd = 0;
  const buf = new Uint8Array(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      if ((e as NodeJS.ErrnoException).code === "EOF") break;
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > limit) fail("CLI_BAD_INPUT_FILE", `stdin holds more than ${limit} bytes; stream it with \`picospike stream\` instead`);
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Groups steps into samples of `size` steps (the last one may be shorter), as an async stream. */
async function* chunked(steps: AsyncIterable<StepEvents>, size: number): AsyncGenerator<InputSample> {
  let buf: StepEvents[] = [];
  for await (const s of steps) {
    buf.push(s);
    if (buf.length >= size) {
      yield { steps: buf };
      buf = [];
    }
  }
  if (buf.length > 0) yield { steps: buf };
}

/** The next chunk of a Readable, or undefined at its end or when `signal` fires (reading only on demand: backpressure). */
function readChunk(stream: Readable, signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off("readable", tryRead);
      stream.off("end", onEnd);
      stream.off("error", onError);
      signal?.removeEventListener("abort", onEnd);
    };
    const tryRead = (): void => {
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) {
        cleanup();
        resolve(chunk);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(new PicospikeError("CLI_FILE_NOT_FOUND", `cannot read input: ${e.message}`));
    };
    if (signal?.aborted || stream.readableEnded) return resolve(undefined);
    stream.on("readable", tryRead);
    stream.on("end", onEnd);
    stream.on("error", onError);
    signal?.addEventListener("abort", onEnd);
    tryRead();
  });
}

const NDJSON_OPTIONS = ANALOG_OPTION_KEYS;

const ndjsonKind: SourceKindLike = {
  help: 'ndjson:-|PATH[,encoder=rate|latency|delta|sigma-delta,scale=S,threshold=N,full-scale=F,seed=N,window=T]  one JSON object per line from stdin, a file or a named pipe: {"t":STEP,"events":[i,...]} or {"values":[x,...]} (analog, encoded)',
  endless: false,
  live: true,
  open(detail, inputSize, steps) {
    const { path, options } = splitDetail("ndjson", detail, NDJSON_OPTIONS);
    const where = path === "-" ? "ndjson stdin" : `ndjson ${path}`;
    const decoder = new NdjsonDecoder(where, inputSize, analogOptions("ndjson", options, "rate"));
    const splitter = new LineSplitter(where);
    const bytes = readAllBounded(path, MAX_NDJSON_BYTES);
    const all: StepEvents[] = [];
    for (const line of [...splitter.push(bytes), ...splitter.end()]) {
      for (const step of decoder.line(line)) all.push(step);
      if (all.length > MAX_NDJSON_STEPS)
        fail("CLI_BAD_INPUT_FILE", `${where}: line ${decoder.lines}: more than ${MAX_NDJSON_STEPS} steps; stream it with \`picospike stream\` instead`, {
          line: decoder.lines,
        });
    }
    const samples: InputSample[] = [];
    for (let s = 0; s < all.length; s += steps) samples.push({ steps: all.slice(s, s + steps) });
    return samples;
  },
  openLive(detail, inputSize, chunkSteps, context = {}) {
    const { path, options } = splitDetail("ndjson", detail, NDJSON_OPTIONS);
    const where = path === "-" ? "ndjson stdin" : `ndjson ${path}`;
    const analog = analogOptions("ndjson", options, "rate");
    async function* steps(): AsyncGenerator<StepEvents> {
      const decoder = new NdjsonDecoder(where, inputSize, analog);
      const splitter = new LineSplitter(where);
      const stream: Readable = path === "-" ? process.stdin : createReadStream(path);
      if (path !== "-") {
        // A missing file or pipe is a CLI_FILE_NOT_FOUND, not a stream error later.
        try {
          closeSync(openSync(path, "r"));
        } catch (e) {
          fail("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      try {
        for (;;) {
          const chunk = await readChunk(stream, context.signal);
          if (chunk === undefined) break;
          for (const line of splitter.push(chunk)) yield* decoder.line(line);
        }
        if (!context.signal?.aborted) for (const line of splitter.end()) yield* decoder.line(line);
      } finally {
        if (path === "-") process.stdin.pause();
        else stream.destroy();
      }
    }
    return chunked(steps(), chunkSteps);
  },
};

// ---- serial sensor -----------------------------------------------------------------------------------------------

/** Lines the serial source uses to detect the channel count and sample rate (after dropping the first, possibly cut, line). */
export const SERIAL_DETECT_LINES = 10;
/** Lines the serial source holds while the streamer is busy; beyond it the oldest are dropped and counted. */
export const SERIAL_QUEUE_LINES = 1024;

/** Parses a data-forwarder line: numbers separated by commas, tabs or spaces; undefined when it is not one. */
export function parseNumberLine(text: string): number[] | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const parts = t.split(/[\s,;]+/);
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(p)) return undefined;
    out.push(Number(p));
  }
  return out;
}

/**
 * What the serial source learns from its first lines, as the Edge Impulse data forwarder does:
 * the channel count (every one of SERIAL_DETECT_LINES lines after the first must agree) and the
 * sample rate (lines per second between the first and last of them).
 */
export interface SerialDetection {
  readonly channels: number;
  readonly rateHz: number;
}

/** Detects channels and rate from timed lines; throws CLI_BAD_INPUT_FILE when the lines disagree or are not numbers. */
export function detectSerial(where: string, lines: ReadonlyArray<{ text: string; atMs: number }>): SerialDetection {
  const rows = lines.map((l, k) => {
    const row = parseNumberLine(l.text);
    if (!row)
      fail("CLI_BAD_INPUT_FILE", `${where}: line ${k + 2} is not numbers separated by commas, tabs or spaces: ${JSON.stringify(l.text.slice(0, 80))}`, {
        line: k + 2,
      });
    return row;
  });
  const channels = rows[0]?.length ?? 0;
  rows.forEach((r, k) => {
    if (r.length !== channels) fail("CLI_BAD_INPUT_FILE", `${where}: line ${k + 2} has ${r.length} values, line 2 had ${channels}`, { line: k + 2 });
  });
  const span = lines.length > 1 ? lines[lines.length - 1]!.atMs - lines[0]!.atMs : 0;
  return { channels, rateHz: span > 0 ? Math.round(((lines.length - 1) * 1000 * 10) / span) / 10 : 0 };
}

const serialKind: SourceKindLike = {
  help: "serial:PORT@BAUD[,encoder=delta|sigma-delta|rate|latency,scale=S,threshold=N,full-scale=F]  a sensor printing lines of numbers (data-forwarder style); channels and rate detected from the first lines; live, for stream",
  endless: true,
  live: true,
  open() {
    fail("CLI_BAD_SOURCE", "serial: sources are live: use them with `picospike stream`");
  },
  openLive(detail, inputSize, chunkSteps, context = {}) {
    const { path: portSpec, options } = splitDetail("serial", detail, ANALOG_OPTION_KEYS);
    const m = /^(.+?)(?:@(\d+))?$/.exec(portSpec)!;
    const port = m[1]!;
    const baud = m[2] === undefined ? 115200 : Number(m[2]);
    if (!(baud >= 50 && baud <= 10_000_000)) fail("CLI_BAD_SOURCE", `serial: baud must be in 50..10000000, got ${m[2]}`);
    const analog = analogOptions("serial", options, "delta");
    const where = `serial ${port}`;
    async function* steps(): AsyncGenerator<StepEvents> {
      const { SerialTransport } = await import("../firmware-host/transports/serial-transport.js");
      const transport = await SerialTransport.open(port, baud);
      const splitter = new LineSplitter(where);
      const queue: Array<{ text: string; atMs: number }> = [];
      let dropped = 0;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const offData = transport.onData((bytes) => {
        const atMs = performance.now();
        try {
          for (const text of splitter.push(bytes)) {
            queue.push({ text, atMs });
            if (queue.length > SERIAL_QUEUE_LINES + SERIAL_DETECT_LINES + 1) {
              queue.shift();
              dropped++;
            }
          }
        } catch (e) {
          failure = e;
        }
        notify();
      });
      const offClose = transport.onClose(notify);
      const onAbort = (): void => notify();
      context.signal?.addEventListener("abort", onAbort);
      const next = async (count: number): Promise<boolean> => {
        while (queue.length < count && failure === undefined && transport.isOpen && !context.signal?.aborted) await new Promise<void>((r) => (wake = r));
        if (failure !== undefined) throw failure;
        return queue.length >= count;
      };
      try {
        if (!(await next(SERIAL_DETECT_LINES + 1))) return;
        queue.shift(); // the first line may have been cut when the port opened
        const detection = detectSerial(where, queue.slice(0, SERIAL_DETECT_LINES));
        context.log?.(`${where}: ${detection.channels} channels at ${detection.rateHz} Hz (detected from ${SERIAL_DETECT_LINES} lines)`);
        const stepper = new AnalogStepper(where, inputSize, analog);
        let lineNo = 1;
        while (await next(1)) {
          const { text } = queue.shift()!;
          lineNo++;
          const row = parseNumberLine(text);
          if (!row) fail("CLI_BAD_INPUT_FILE", `${where}: line ${lineNo} is not numbers: ${JSON.stringify(text.slice(0, 80))}`, { line: lineNo });
          yield* stepper.row(row, `line ${lineNo}`);
        }
      } finally {
        offData();
        offClose();
        context.signal?.removeEventListener("abort", onAbort);
        if (dropped > 0) context.log?.(`${where}: ${dropped} lines dropped while the stream was behind`);
        await transport.close().catch(() => undefined);
      }
    }
    return chunked(steps(), chunkSteps);
  },
};

/** The sensor source kinds, by name, for cli/sources.ts's registry. */
export const LIVE_SOURCE_KINDS: Readonly<Record<string, SourceKindLike>> = {
  nmnist: eventFileKind(
    "nmnist",
    "nmnist:FILE[,dt=µs,crop=X:Y:W:H,downsample=N,polarity=merge|split|on|off,denoise=µs,refractory=µs,accumulate=spike|count,label=N]  N-MNIST binary events binned into steps (default dt: the stream's --dt, else 1000 µs; mapped onto the model's input shape unless crop/downsample are given)",
  ),
  aedat: eventFileKind("aedat", "aedat:FILE[,options as nmnist,width=W,height=H]  AEDAT 2.0/3.1/4.0 polarity events"),
  evt2: eventFileKind("evt2", "evt2:FILE[,options as nmnist]  Prophesee EVT 2.0 raw"),
  evt3: eventFileKind("evt3", "evt3:FILE[,options as nmnist]  Prophesee EVT 3.0 raw"),
  ndjson: ndjsonKind,
  serial: serialKind,
};
