/**
 * Spike files (spec/spike-file.md): recorded input events (and, later, recorded device output)
 * as one CBOR document, so `picospike run --input spikes:FILE` can replay them. Decoding never
 * trusts its input: a size cap before parsing, then every field checked; every failure is a
 * PicospikeError CLI_BAD_INPUT_FILE naming the offending field.
 */
import { Decoder, Encoder } from "cbor-x";
import { fail } from "./errors.js";
import { NO_EVENTS, type InputSample, type StepEvents } from "./events.js";

/** Format name stored in every spike file. */
export const SPIKE_FILE_FORMAT = "picospike-spikes";
/** Version this build writes and reads. */
export const SPIKE_FILE_VERSION = 1;

/** Limits every reader enforces (spec/spike-file.md §3). */
export const SPIKE_FILE_LIMITS = {
  /** Largest whole file. */
  maxFileBytes: 256 * 1024 * 1024,
  /** Largest input size (the event-table limit on neurons per layer). */
  maxInputSize: 2 ** 20,
  /** Most samples in one file. */
  maxSamples: 2 ** 20,
  /** Most steps of one sample. */
  maxSteps: 2 ** 24,
  /** Largest label. */
  maxLabel: 2 ** 31 - 1,
} as const;

/** One recorded sample: its events as parallel arrays sorted by step, then index. */
export interface SpikeFileSample {
  /** Class label, when known. */
  readonly label?: number;
  /** Duration in steps; every event's step is below it. */
  readonly steps: number;
  /** Step of each event. */
  readonly step: Uint32Array;
  /** Input index of each event, < the file's inputSize. */
  readonly index: Uint32Array;
  /** Value 1..255 of each event; absent means all 1 (spikes). */
  readonly value?: Uint8Array;
}

/** A whole spike file. */
export interface SpikeFile {
  /** Number of inputs the events address. */
  readonly inputSize: number;
  readonly samples: readonly SpikeFileSample[];
}

function bad(where: string, what: string): never {
  return fail("CLI_BAD_INPUT_FILE", `spike file: ${where}: ${what}`, { field: where });
}

function checkCount(where: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    bad(where, `must be an integer in ${min}..${max}, got ${typeof value === "number" ? value : typeof value}`);
  }
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function checkKeys(where: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) if (!allowed.includes(key)) bad(where, `unknown field '${key}'`);
}

/** Checks one sample against spec/spike-file.md §2 and returns it with fresh, aligned arrays. */
function checkSample(where: string, raw: unknown, inputSize: number): SpikeFileSample {
  if (!isPlainObject(raw)) bad(where, "must be a map");
  checkKeys(where, raw, ["label", "steps", "step", "index", "value"]);
  const steps = checkCount(`${where}.steps`, raw.steps, 0, SPIKE_FILE_LIMITS.maxSteps);
  if (!(raw.step instanceof Uint32Array)) bad(`${where}.step`, "must be a Uint32Array (RFC 8746 tag 70)");
  if (!(raw.index instanceof Uint32Array)) bad(`${where}.index`, "must be a Uint32Array (RFC 8746 tag 70)");
  const step = raw.step.slice();
  const index = raw.index.slice();
  if (step.length !== index.length) bad(where, `step has ${step.length} entries, index ${index.length}`);
  let value: Uint8Array | undefined;
  if (raw.value !== undefined) {
    if (!(raw.value instanceof Uint8Array)) bad(`${where}.value`, "must be a Uint8Array (tag 64) or a byte string");
    if (raw.value.length !== index.length) bad(`${where}.value`, `has ${raw.value.length} entries, index ${index.length}`);
    value = Uint8Array.from(raw.value);
    for (let k = 0; k < value.length; k++) if (value[k] === 0) bad(`${where}.value[${k}]`, "is 0 (values are 1..255)");
  }
  for (let k = 0; k < index.length; k++) {
    const s = step[k]!;
    const i = index[k]!;
    if (s >= steps) bad(`${where}.step[${k}]`, `is ${s}, not below steps ${steps}`);
    if (i >= inputSize) bad(`${where}.index[${k}]`, `is ${i}, not below inputSize ${inputSize}`);
    if (k > 0) {
      const ps = step[k - 1]!;
      if (s < ps || (s === ps && i <= index[k - 1]!)) bad(`${where} event ${k}`, "events must be sorted by step, then strictly by index");
    }
  }
  const label = raw.label === undefined ? undefined : checkCount(`${where}.label`, raw.label, 0, SPIKE_FILE_LIMITS.maxLabel);
  return {
    ...(label === undefined ? {} : { label }),
    steps,
    step,
    index,
    ...(value === undefined ? {} : { value }),
  };
}

/** Checks a whole file (the shape decodeSpikeFile returns); throws CLI_BAD_INPUT_FILE. */
function checkFile(doc: unknown): SpikeFile {
  if (!isPlainObject(doc)) bad("top level", "must be a map");
  checkKeys("top level", doc, ["format", "version", "inputSize", "samples"]);
  if (doc.format !== SPIKE_FILE_FORMAT) bad("format", `must be "${SPIKE_FILE_FORMAT}"`);
  if (doc.version !== SPIKE_FILE_VERSION) bad("version", `${String(doc.version)} is not supported (this build reads ${SPIKE_FILE_VERSION})`);
  const inputSize = checkCount("inputSize", doc.inputSize, 1, SPIKE_FILE_LIMITS.maxInputSize);
  if (!Array.isArray(doc.samples)) bad("samples", "must be an array");
  if (doc.samples.length > SPIKE_FILE_LIMITS.maxSamples) bad("samples", `more than ${SPIKE_FILE_LIMITS.maxSamples} samples`);
  const samples = doc.samples.map((s: unknown, n: number) => checkSample(`samples[${n}]`, s, inputSize));
  return { inputSize, samples };
}

/** Encodes a spike file (validating it first, so nothing invalid is ever written). */
export function encodeSpikeFile(file: SpikeFile): Uint8Array {
  const checked = checkFile({ format: SPIKE_FILE_FORMAT, version: SPIKE_FILE_VERSION, inputSize: file.inputSize, samples: file.samples });
  const encoder = new Encoder({ useRecords: false, mapsAsObjects: true });
  return encoder.encode({
    format: SPIKE_FILE_FORMAT,
    version: SPIKE_FILE_VERSION,
    inputSize: checked.inputSize,
    samples: checked.samples.map((s) => ({
      ...(s.label === undefined ? {} : { label: s.label }),
      steps: s.steps,
      step: s.step,
      index: s.index,
      ...(s.value === undefined ? {} : { value: s.value }),
    })),
  });
}

/** Decodes and validates a spike file; every failure is CLI_BAD_INPUT_FILE. */
export function decodeSpikeFile(bytes: Uint8Array): SpikeFile {
  if (bytes.length > SPIKE_FILE_LIMITS.maxFileBytes) bad("file", `${bytes.length} bytes exceeds the ${SPIKE_FILE_LIMITS.maxFileBytes}-byte limit`);
  let doc: unknown;
  try {
    // cbor-x bounds declared lengths by the data present, rejects trailing bytes and odd typed
    // array lengths; deep nesting ends in a RangeError caught here.
    doc = new Decoder({ useRecords: false, mapsAsObjects: true }).decode(bytes);
  } catch (e) {
    bad("file", `not well-formed CBOR (${(e as Error).message})`);
  }
  return checkFile(doc);
}

/**
 * Expands a sample into `steps` steps of input events (spec/spike-file.md §4): events at or after
 * `steps` are dropped, steps past the sample's end are empty. `steps` defaults to the sample's own.
 */
export function sampleToInput(sample: SpikeFileSample, steps: number = sample.steps): InputSample {
  if (!Number.isInteger(steps) || steps < 0 || steps > SPIKE_FILE_LIMITS.maxSteps) {
    fail("SEMANTICS_BAD_INPUT", `steps must be an integer in 0..${SPIKE_FILE_LIMITS.maxSteps}, got ${steps}`);
  }
  const out: StepEvents[] = new Array<StepEvents>(steps).fill(NO_EVENTS);
  const { step, index, value } = sample;
  let k = 0;
  while (k < step.length && step[k]! < steps) {
    const t = step[k]!;
    let end = k;
    while (end < step.length && step[end] === t) end++;
    out[t] = value === undefined ? { indices: index.slice(k, end) } : { indices: index.slice(k, end), values: value.slice(k, end) };
    k = end;
  }
  return sample.label === undefined ? { steps: out } : { steps: out, label: sample.label };
}

/** Collects recorded steps of events into a spike-file sample (the inverse of sampleToInput). */
export function sampleFromInput(input: InputSample): SpikeFileSample {
  const steps: number[] = [];
  const indices: number[] = [];
  const values: number[] = [];
  let graded = false;
  input.steps.forEach((events, t) => {
    events.indices.forEach((i, e) => {
      steps.push(t);
      indices.push(i);
      const v = events.values?.[e] ?? 1;
      if (v !== 1) graded = true;
      values.push(v);
    });
  });
  return {
    ...(input.label === undefined ? {} : { label: input.label }),
    steps: input.steps.length,
    step: Uint32Array.from(steps),
    index: Uint32Array.from(indices),
    ...(graded ? { value: Uint8Array.from(values) } : {}),
  };
}
