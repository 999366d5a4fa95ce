/**
 * Encoders: intensities and analog channels to spike steps (spec/input-formats.md §6). All four
 * are deterministic integer procedures: rate (Bernoulli per step with the spec's xorshift32,
 * exactly spec/ops.md §7.2), latency (time to first spike, linear or logarithmic), delta
 * (send-on-delta with up/down channels) and sigma-delta (first-order integrating quantizer with
 * feedback). Floats enter only through the two conversions at the top, which are exactly defined.
 */
import { PicospikeError, fail } from "./errors.js";
import { NO_EVENTS, type InputSample, type StepEvents } from "./events.js";
import { Xorshift32 } from "./prng.js";

const usage = (message: string): never => {
  throw new PicospikeError("CLI_USAGE", message);
};

function intParam(name: string, v: number, lo: number, hi: number): number {
  if (!Number.isInteger(v) || v < lo || v > hi) usage(`${name} must be an integer in ${lo}..${hi}, got ${v}`);
  return v;
}

/** Largest number of steps an encoder produces in one call. */
export const MAX_ENCODER_STEPS = 1 << 20;

// ---- float -> integer conversions ---------------------------------------------------------------

/**
 * A unit-interval value to an 8-bit intensity: x <= 0 gives 0, x >= 1 gives 255, otherwise
 * floor(x * 255 + 0.5) computed in IEEE-754 binary64 (round half up). NaN is SEMANTICS_BAD_INPUT.
 */
export function intensityFromUnit(x: number): number {
  if (Number.isNaN(x)) fail("SEMANTICS_BAD_INPUT", "intensity is NaN");
  if (x <= 0) return 0;
  if (x >= 1) return 255;
  return Math.floor(x * 255 + 0.5);
}

/** intensityFromUnit applied to every element. */
export function intensitiesFromUnit(xs: ArrayLike<number>): Uint8Array {
  return Uint8Array.from({ length: xs.length }, (_, i) => intensityFromUnit(xs[i]!));
}

/**
 * An analog value to an int32 sample: floor(x * scale + 0.5) in binary64 (round half up), clamped
 * to [-2^31, 2^31 - 1]. NaN or infinite x is SEMANTICS_BAD_INPUT; scale must be finite and > 0.
 */
export function sampleFromFloat(x: number, scale: number): number {
  if (!Number.isFinite(scale) || scale <= 0) usage(`sample scale must be a finite number > 0, got ${scale}`);
  if (!Number.isFinite(x)) fail("SEMANTICS_BAD_INPUT", `analog sample is ${x}`);
  const v = Math.floor(x * scale + 0.5);
  return v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : v;
}

function checkIntensities(xs: ArrayLike<number>): void {
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    if (!Number.isInteger(v) || v < 0 || v > 255) fail("SEMANTICS_BAD_INPUT", `intensity ${i} is ${v}, not an integer in 0..255`);
  }
}

function checkSample(row: ArrayLike<number>, channels: number, step: number): void {
  if (row.length !== channels) fail("SEMANTICS_BAD_INPUT", `sample ${step} has ${row.length} channels, expected ${channels}`);
  for (let c = 0; c < channels; c++) {
    const v = row[c]!;
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) fail("SEMANTICS_BAD_INPUT", `sample ${step} channel ${c} is ${v}, not an int32`);
  }
}

function events(indices: number[], values?: number[]): StepEvents {
  if (indices.length === 0) return NO_EVENTS;
  return values ? { indices: Uint32Array.from(indices), values: Uint8Array.from(values) } : { indices: Uint32Array.from(indices) };
}

// ---- rate ------------------------------------------------------------------------------------------

/**
 * Rate (Bernoulli) encoding, spec/ops.md §7.2: at each step, for i = 0..n-1 in order, draw
 * u = next(); input i spikes when (u >>> 24) < intensity[i]. One draw per input per step, whatever
 * the intensity. `prng` is a seed (a fresh generator) or a generator to continue.
 */
export function rateEncode(intensities: ArrayLike<number>, steps: number, prng: number | Xorshift32): InputSample {
  checkIntensities(intensities);
  intParam("steps", steps, 0, MAX_ENCODER_STEPS);
  const rng = typeof prng === "number" ? new Xorshift32(prng) : prng;
  const out: StepEvents[] = [];
  for (let s = 0; s < steps; s++) {
    const idx: number[] = [];
    for (let i = 0; i < intensities.length; i++) if (rng.next() >>> 24 < intensities[i]!) idx.push(i);
    out.push(events(idx));
  }
  return { steps: out };
}

// ---- latency ----------------------------------------------------------------------------------------

/** Latency encoder parameters. */
export interface LatencyOptions {
  /** Steps of the sample, 1..2^20; spikes fall in steps 0..steps-1. */
  readonly steps: number;
  /** Lowest intensity that spikes, 1..255 (default 1); weaker inputs stay silent. */
  readonly threshold?: number;
  /** `linear` (default) or `log` mapping of intensity to delay. */
  readonly mode?: "linear" | "log";
}

/**
 * log2 of q (1..255) in Q16 fixed point, computed exactly with integers: the integer part is the
 * bit length minus one, then 16 fraction bits by repeated squaring of the Q16 mantissa
 * m = q * 2^(16-n) in [2^16, 2^17): m = floor(m * m / 2^16); a bit is 1 when m >= 2^17, and then
 * m = floor(m / 2). (m * m < 2^34, exact in binary64 and in uint64.)
 */
export function log2Q16(q: number): number {
  intParam("log2Q16 argument", q, 1, 255);
  const n = 31 - Math.clz32(q);
  let m = q * 2 ** (16 - n);
  let frac = 0;
  for (let b = 15; b >= 0; b--) {
    m = Math.floor((m * m) / 65536);
    if (m >= 131072) {
      frac += 2 ** b;
      m = Math.floor(m / 2);
    }
  }
  return n * 65536 + frac;
}

/**
 * The step at which an input of intensity q spikes, or -1 when q < threshold. With T steps and
 * threshold h: linear t = floor((255 - q) * (T - 1) / (255 - h)); log
 * t = floor((T - 1) * (L(255) - L(q)) / (L(255) - L(h))) with L = log2Q16; both give 0 for
 * h = 255. So q = 255 spikes at step 0 and q = h at step T - 1; brighter is earlier.
 */
export function latencyStep(q: number, options: LatencyOptions): number {
  const T = intParam("steps", options.steps, 1, MAX_ENCODER_STEPS);
  const h = intParam("latency threshold", options.threshold ?? 1, 1, 255);
  if (q < h) return -1;
  if (h === 255) return 0;
  if ((options.mode ?? "linear") === "linear") return Math.floor(((255 - q) * (T - 1)) / (255 - h));
  if (options.mode !== "log") usage(`latency mode must be linear or log, got ${String(options.mode)}`);
  const top = log2Q16(255);
  return Math.floor(((T - 1) * (top - log2Q16(q))) / (top - log2Q16(h)));
}

/** Latency (time-to-first-spike) encoding: each input with intensity >= threshold spikes once, at latencyStep. */
export function latencyEncode(intensities: ArrayLike<number>, options: LatencyOptions): InputSample {
  checkIntensities(intensities);
  const buckets: number[][] = Array.from({ length: intParam("steps", options.steps, 1, MAX_ENCODER_STEPS) }, () => []);
  for (let i = 0; i < intensities.length; i++) {
    const t = latencyStep(intensities[i]!, options);
    if (t >= 0) buckets[t]!.push(i);
  }
  return { steps: buckets.map((b) => events(b)) };
}

// ---- delta --------------------------------------------------------------------------------------------

/** Delta (send-on-delta) encoder parameters. */
export interface DeltaOptions {
  /** Step of the reference, an integer in 1..2^30 (in sample units). */
  readonly threshold: number;
  /** `false` (default): at most one event of value 1 per channel and step; `true`: value n = min(floor(|d| / threshold), 255). */
  readonly graded?: boolean;
  /** Initial reference: `first` (default) = the first sample, so step 0 is silent; `zero` = 0. */
  readonly initial?: "first" | "zero";
}

/**
 * Stateful send-on-delta encoder over `channels` int32 channels. Channel c has a reference r[c];
 * each step, with d = x[c] - r[c]: if d >= threshold, channel 2c (up) fires with value n and
 * r[c] += n * threshold; if d <= -threshold, channel 2c+1 (down) fires with value n and
 * r[c] -= n * threshold; n = 1, or min(floor(|d| / threshold), 255) when graded. So
 * r[c] = r0 + threshold * (sum of up values - sum of down values) tracks x to within one
 * threshold whenever it is not slew-limited.
 */
export class DeltaEncoder {
  private readonly reference: Float64Array;
  private started = false;
  private readonly threshold: number;

  constructor(
    readonly channels: number,
    private readonly options: DeltaOptions,
  ) {
    intParam("channels", channels, 1, 1 << 24);
    this.threshold = intParam("delta threshold", options.threshold, 1, 2 ** 30);
    if (options.initial !== undefined && options.initial !== "first" && options.initial !== "zero")
      usage(`delta initial must be first or zero, got ${String(options.initial)}`);
    this.reference = new Float64Array(channels);
  }

  /** Encodes one sample (one int32 per channel) into this step's events. */
  step(sample: ArrayLike<number>): StepEvents {
    checkSample(sample, this.channels, 0);
    if (!this.started) {
      this.started = true;
      if ((this.options.initial ?? "first") === "first") for (let c = 0; c < this.channels; c++) this.reference[c] = sample[c]!;
    }
    const idx: number[] = [];
    const vals: number[] = [];
    const th = this.threshold;
    for (let c = 0; c < this.channels; c++) {
      const d = sample[c]! - this.reference[c]!;
      const mag = Math.abs(d);
      if (mag < th) continue;
      const n = this.options.graded ? Math.min(Math.floor(mag / th), 255) : 1;
      idx.push(d > 0 ? 2 * c : 2 * c + 1);
      vals.push(n);
      this.reference[c] = this.reference[c]! + (d > 0 ? n * th : -n * th);
    }
    return this.options.graded ? events(idx, vals) : events(idx);
  }
}

/** Delta-encodes a sequence of samples (one row of `channels` int32 values per step); 2 * channels inputs. */
export function deltaEncode(samples: readonly ArrayLike<number>[], options: DeltaOptions): InputSample {
  intParam("steps", samples.length, 0, MAX_ENCODER_STEPS);
  if (samples.length === 0) return { steps: [] };
  const enc = new DeltaEncoder(samples[0]!.length, options);
  return { steps: samples.map((row, s) => (checkSample(row, enc.channels, s), enc.step(row))) };
}

// ---- sigma-delta ----------------------------------------------------------------------------------------

/** Sigma-delta encoder parameters. */
export interface SigmaDeltaOptions {
  /** Full scale F, an integer in 1..2^30: the input magnitude that fires every step. */
  readonly fullScale: number;
  /** `true` (default): channels 2c (positive) and 2c+1 (negative), input clamped to [-F, F]; `false`: channel c only, input clamped to [0, F]. */
  readonly bipolar?: boolean;
}

/**
 * Stateful first-order sigma-delta modulator per channel (an integrating quantizer with
 * feedback): integrator e (starts at 0); each step, x = clamp(sample); e += x; if e >= F the
 * positive channel fires and e -= F; else, bipolar, if e <= -F the negative channel fires and
 * e += F. Hence e stays in (-F, F), and over any prefix sum(x) = F * (positive - negative spikes) + e:
 * spike density is x / F, with an error below one spike.
 */
export class SigmaDeltaEncoder {
  private readonly integrator: Float64Array;
  private readonly fullScale: number;
  private readonly bipolar: boolean;

  constructor(
    readonly channels: number,
    options: SigmaDeltaOptions,
  ) {
    intParam("channels", channels, 1, 1 << 24);
    this.fullScale = intParam("sigma-delta full scale", options.fullScale, 1, 2 ** 30);
    this.bipolar = options.bipolar ?? true;
    this.integrator = new Float64Array(channels);
  }

  /** Number of input neurons this encoder drives. */
  get inputs(): number {
    return this.bipolar ? 2 * this.channels : this.channels;
  }

  /** The integrator values (for tests and snapshots). */
  get state(): Float64Array {
    return this.integrator.slice();
  }

  /** Encodes one sample (one int32 per channel) into this step's events. */
  step(sample: ArrayLike<number>): StepEvents {
    checkSample(sample, this.channels, 0);
    const F = this.fullScale;
    const lo = this.bipolar ? -F : 0;
    const idx: number[] = [];
    for (let c = 0; c < this.channels; c++) {
      const raw = sample[c]!;
      const x = raw > F ? F : raw < lo ? lo : raw;
      let e = this.integrator[c]! + x;
      if (e >= F) {
        e -= F;
        idx.push(this.bipolar ? 2 * c : c);
      } else if (this.bipolar && e <= -F) {
        e += F;
        idx.push(2 * c + 1);
      }
      this.integrator[c] = e;
    }
    return events(idx);
  }
}

/** Sigma-delta-encodes a sequence of samples (one row of `channels` int32 values per step). */
export function sigmaDeltaEncode(samples: readonly ArrayLike<number>[], options: SigmaDeltaOptions): InputSample {
  intParam("steps", samples.length, 0, MAX_ENCODER_STEPS);
  if (samples.length === 0) return { steps: [] };
  const enc = new SigmaDeltaEncoder(samples[0]!.length, options);
  return { steps: samples.map((row, s) => (checkSample(row, enc.channels, s), enc.step(row))) };
}
