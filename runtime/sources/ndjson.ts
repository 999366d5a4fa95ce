/**
 * NDJSON and analog input (spec/input-formats.md §7.2): lines of `{"t": STEP, "events": [...]}` or
 * `{"values": [...]}` decoded into steps, analog rows encoded into spikes, byte streams split into
 * bounded lines, and steps grouped into samples. Pure: the readers of stdin, files and ports are in
 * firmware-host/sources/.
 */
import { fail, PicospikeError } from "../errors.js";
import { NO_EVENTS, type InputSample, type StepEvents } from "../events.js";
import { DeltaEncoder, SigmaDeltaEncoder, intensityFromUnit, latencyEncode, rateEncode, sampleFromFloat } from "../encoders.js";
import { Xorshift32 } from "../prng.js";
import { choiceOpt, intOpt, numOpt } from "./options.js";

/** Longest NDJSON or serial text line, in bytes. */
export const MAX_LINE_BYTES = 1 << 20;
/** Most bytes the synchronous (run/compare) driver reads from an NDJSON input. */
export const MAX_NDJSON_BYTES = 256 << 20;
/** Most steps the synchronous (run/compare) driver holds from an NDJSON input (the spike-file limit). */
export const MAX_NDJSON_STEPS = 1 << 24;
/** Largest jump of `t` between two NDJSON event lines (empty steps filled in). */
export const MAX_STEP_GAP = 1_000_000;

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

/** The option keys of analog sources (ndjson:, serial:). */
export const ANALOG_OPTION_KEYS = ["encoder", "scale", "threshold", "graded", "full-scale", "unipolar", "seed", "window"] as const;

/** The analog options given after a source's path, with their defaults (`defaultEncoder` when no encoder= is given). */
export function analogOptions(kind: string, options: Map<string, string>, defaultEncoder: AnalogEncoder): AnalogOptions {
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

/** Decodes a whole NDJSON input (`where` names it in errors) into samples of `steps` steps, bounded by MAX_NDJSON_STEPS. */
export function decodeNdjson(bytes: Uint8Array, where: string, inputSize: number, steps: number, analog: AnalogOptions): InputSample[] {
  const decoder = new NdjsonDecoder(where, inputSize, analog);
  const splitter = new LineSplitter(where);
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
}

/** Groups steps into samples of `size` steps (the last one may be shorter), as an async stream. */
export async function* chunked(steps: AsyncIterable<StepEvents>, size: number): AsyncGenerator<InputSample> {
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
