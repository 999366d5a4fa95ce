/**
 * From sensor events to input neurons and steps (spec/input-formats.md §5): optional denoise and
 * refractory filters on the sensor grid, then a time window, crop, polarity selection, integer
 * downsampling, and binning into steps of `dtUs` microseconds. All integer arithmetic on exact
 * doubles; the result is an InputSample whose steps hold strictly ascending indices.
 */
import { PicospikeError } from "../errors.js";
import { NO_EVENTS, type InputSample, type StepEvents } from "../events.js";
import type { Shape3 } from "../model.js";
import type { EventStream } from "./stream.js";

/** Filters applied on the full sensor grid, in stream order. */
export interface FilterOptions {
  /**
   * Background-activity filter window T in µs (0 or absent = off): an event is kept only when one
   * of its 8 neighbouring pixels had an event (kept or not) at time t' with t - t' <= T.
   */
  readonly denoiseUs?: number;
  /**
   * Refractory period R in µs (0 or absent = off): an event is dropped when the same pixel (either
   * polarity) had a kept event at time t' with t - t' < R. Runs after the denoise filter.
   */
  readonly refractoryUs?: number;
}

/** How events become input neurons and steps. */
export interface BinOptions extends FilterOptions {
  /** Step length in µs, integer >= 1. */
  readonly dtUs: number;
  /** Sensor rectangle kept (default: the whole sensor). */
  readonly crop?: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** Integer downsampling factor along x and y (default 1): x' = floor((x - crop.x) / factor). */
  readonly downsample?: number | readonly [fx: number, fy: number];
  /**
   * `merge` (default): one channel, both polarities; `split`: channel 0 = OFF, 1 = ON;
   * `on` / `off`: one channel, the other polarity dropped.
   */
  readonly polarity?: "merge" | "split" | "on" | "off";
  /** `spike` (default): value 1 however many events hit a neuron in a step; `count`: value = min(count, 255). */
  readonly accumulate?: "spike" | "count";
  /** Time of the start of step 0 in µs (default: the earliest event's time, or 0 with no events). */
  readonly startUs?: number;
  /** Number of steps (default: enough to hold the last event). Events at or after the end are dropped. */
  readonly steps?: number;
  /** Largest number of steps allowed (default 1,000,000), so a long recording with a tiny dt is an error, not an allocation. */
  readonly maxSteps?: number;
}

/** Shape of the input neurons a binning produces. */
export interface BinLayout {
  /** Channel-major shape [channels, height, width]; index = (c * height + y) * width + x. */
  readonly shape: Shape3;
  /** channels * height * width. */
  readonly size: number;
}

/** Largest sensor (pixels) the filters keep per-pixel times for (16 Mi pixels, 128 MiB of times). */
export const MAX_FILTER_PIXELS = 1 << 24;

const usage = (message: string): never => {
  throw new PicospikeError("CLI_USAGE", message);
};

function intIn(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) usage(`${name} must be an integer in ${lo}..${hi}, got ${v}`);
  return v;
}

function factors(options: BinOptions): [number, number] {
  const d = options.downsample ?? 1;
  const [fx, fy] = typeof d === "number" ? [d, d] : d;
  return [intIn("downsample x", fx, 1, 65536), intIn("downsample y", fy, 1, 65536)];
}

function cropOf(stream: Pick<EventStream, "width" | "height">, options: BinOptions): { x: number; y: number; width: number; height: number } {
  const c = options.crop ?? { x: 0, y: 0, width: stream.width, height: stream.height };
  intIn("crop x", c.x, 0, stream.width - 1);
  intIn("crop y", c.y, 0, stream.height - 1);
  intIn("crop width", c.width, 1, stream.width - c.x);
  intIn("crop height", c.height, 1, stream.height - c.y);
  return c;
}

/** The input layout that binning `stream` (its geometry) with `options` produces. */
export function binLayout(stream: Pick<EventStream, "width" | "height">, options: BinOptions): BinLayout {
  const crop = cropOf(stream, options);
  const [fx, fy] = factors(options);
  const channels = options.polarity === "split" ? 2 : 1;
  const width = Math.ceil(crop.width / fx);
  const height = Math.ceil(crop.height / fy);
  return { shape: [channels, height, width], size: channels * height * width };
}

/** floor(a / b) for exact integers a >= 0, b >= 1, corrected for rounding of the division. */
function floorDiv(a: number, b: number): number {
  let q = Math.floor(a / b);
  if (q * b > a) q--;
  else if ((q + 1) * b <= a) q++;
  return q;
}

/** Applies the denoise and refractory filters (FilterOptions); returns the kept events as a new stream. */
export function filterEvents(stream: EventStream, options: FilterOptions): EventStream {
  const denoise = options.denoiseUs ?? 0;
  const refractory = options.refractoryUs ?? 0;
  if (!(Number.isInteger(denoise) && denoise >= 0)) usage(`denoise window must be a non-negative integer of µs, got ${denoise}`);
  if (!(Number.isInteger(refractory) && refractory >= 0)) usage(`refractory period must be a non-negative integer of µs, got ${refractory}`);
  if (denoise === 0 && refractory === 0) return stream;
  const { width: w, height: h } = stream;
  if (w * h > MAX_FILTER_PIXELS) usage(`denoise/refractory filters need a sensor of at most ${MAX_FILTER_PIXELS} pixels, this one is ${w}x${h}`);
  const n = stream.t.length;
  const keep = new Uint8Array(n).fill(1);
  if (denoise > 0) {
    const last = new Float64Array(w * h).fill(Number.NaN);
    for (let k = 0; k < n; k++) {
      const x = stream.x[k]!;
      const y = stream.y[k]!;
      const t = stream.t[k]!;
      let supported = false;
      for (let dy = -1; dy <= 1 && !supported; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if ((dx === 0 && dy === 0) || xx < 0 || xx >= w) continue;
          const tn = last[yy * w + xx]!;
          if (tn === tn && t - tn <= denoise) {
            supported = true;
            break;
          }
        }
      }
      last[y * w + x] = t;
      if (!supported) keep[k] = 0;
    }
  }
  if (refractory > 0) {
    const lastKept = new Float64Array(w * h).fill(Number.NaN);
    for (let k = 0; k < n; k++) {
      if (!keep[k]) continue;
      const pixel = stream.y[k]! * w + stream.x[k]!;
      const tk = lastKept[pixel]!;
      const t = stream.t[k]!;
      if (tk === tk && t - tk < refractory) keep[k] = 0;
      else lastKept[pixel] = t;
    }
  }
  let m = 0;
  for (let k = 0; k < n; k++) m += keep[k]!;
  const out = { x: new Uint16Array(m), y: new Uint16Array(m), p: new Uint8Array(m), t: new Float64Array(m), width: w, height: h };
  for (let k = 0, j = 0; k < n; k++) {
    if (!keep[k]) continue;
    out.x[j] = stream.x[k]!;
    out.y[j] = stream.y[k]!;
    out.p[j] = stream.p[k]!;
    out.t[j] = stream.t[k]!;
    j++;
  }
  return out;
}

/**
 * Bins a stream into one InputSample: filters, then for each event with startUs <= t < end:
 * drop it outside the crop or of an excluded polarity, map it to
 * index = (c * H' + floor((y - cy) / fy)) * W' + floor((x - cx) / fx), and put it in step
 * floor((t - startUs) / dtUs). Several events on one neuron in one step give one event (value 1,
 * or min(count, 255) with accumulate `count`).
 */
export function binEvents(stream: EventStream, options: BinOptions): InputSample {
  const dt = intIn("dt (µs)", options.dtUs, 1, Number.MAX_SAFE_INTEGER);
  const maxSteps = intIn("maxSteps", options.maxSteps ?? 1_000_000, 1, 2 ** 31);
  const layout = binLayout(stream, options);
  const crop = cropOf(stream, options);
  const [fx, fy] = factors(options);
  const [, outH, outW] = layout.shape;
  const polarity = options.polarity ?? "merge";
  if (!["merge", "split", "on", "off"].includes(polarity)) usage(`polarity must be merge, split, on or off, got ${polarity}`);
  const accumulate = options.accumulate ?? "spike";
  if (accumulate !== "spike" && accumulate !== "count") usage(`accumulate must be spike or count, got ${accumulate}`);
  const events = filterEvents(stream, options);
  const n = events.t.length;
  let start = options.startUs;
  if (start === undefined) {
    start = n > 0 ? Infinity : 0;
    for (let k = 0; k < n; k++) if (events.t[k]! < start) start = events.t[k]!;
  } else if (!Number.isSafeInteger(start)) usage(`start time must be an integer of µs, got ${start}`);
  let steps = options.steps;
  if (steps === undefined) {
    let end = -1;
    for (let k = 0; k < n; k++) if (events.t[k]! >= start && events.t[k]! > end) end = events.t[k]!;
    steps = end < 0 ? 0 : floorDiv(end - start, dt) + 1;
    if (steps > maxSteps)
      usage(`the recording spans ${steps} steps of ${dt} µs, more than maxSteps ${maxSteps}: use a larger dt, fewer steps, or raise maxSteps`);
  } else intIn("steps", steps, 0, maxSteps);

  // Counting sort by step: stepOf[k] (or -1 for dropped), then one bucket per step.
  const stepOf = new Int32Array(n);
  const indexOf = new Uint32Array(n);
  const perStep = new Uint32Array(steps + 1);
  for (let k = 0; k < n; k++) {
    stepOf[k] = -1;
    const t = events.t[k]!;
    if (t < start) continue;
    const s = floorDiv(t - start, dt);
    if (s >= steps) continue;
    const p = events.p[k]!;
    if ((polarity === "on" && p !== 1) || (polarity === "off" && p !== 0)) continue;
    const x = events.x[k]! - crop.x;
    const y = events.y[k]! - crop.y;
    if (x < 0 || y < 0 || x >= crop.width || y >= crop.height) continue;
    const c = polarity === "split" ? p : 0;
    stepOf[k] = s;
    indexOf[k] = (c * outH + Math.floor(y / fy)) * outW + Math.floor(x / fx);
    perStep[s + 1]!++;
  }
  for (let s = 0; s < steps; s++) perStep[s + 1]! += perStep[s]!;
  const sorted = new Uint32Array(perStep[steps] ?? 0);
  const fill = perStep.slice(0, steps);
  for (let k = 0; k < n; k++) {
    const s = stepOf[k]!;
    if (s >= 0) sorted[fill[s]!++] = indexOf[k]!;
  }
  const out: StepEvents[] = new Array<StepEvents>(steps);
  for (let s = 0; s < steps; s++) {
    const bucket = sorted.subarray(perStep[s]!, perStep[s + 1]!).sort();
    if (bucket.length === 0) {
      out[s] = NO_EVENTS;
      continue;
    }
    let distinct = 1;
    for (let k = 1; k < bucket.length; k++) if (bucket[k] !== bucket[k - 1]) distinct++;
    const indices = new Uint32Array(distinct);
    const values = accumulate === "count" ? new Uint8Array(distinct) : undefined;
    let j = -1;
    for (let k = 0; k < bucket.length; k++) {
      if (k === 0 || bucket[k] !== bucket[k - 1]) indices[++j] = bucket[k]!;
      if (values && values[j]! < 255) values[j]!++;
    }
    out[s] = values ? { indices, values } : { indices };
  }
  return { steps: out };
}

/** Cuts a sample into consecutive samples of `stepsPerSample` steps (the last one may be shorter). */
export function splitSample(sample: InputSample, stepsPerSample: number): InputSample[] {
  intIn("steps per sample", stepsPerSample, 1, 2 ** 31);
  const out: InputSample[] = [];
  for (let s = 0; s < sample.steps.length; s += stepsPerSample) {
    const steps = sample.steps.slice(s, s + stepsPerSample);
    out.push(sample.label === undefined ? { steps } : { steps, label: sample.label });
  }
  return out;
}
