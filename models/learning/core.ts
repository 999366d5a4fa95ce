/**
 * The shared neuron and trace core of the host-side learning rules: a seeded PRNG (nothing here
 * uses Math.random, so every experiment is reproducible from its seed), exponential traces, a
 * leaky integrate-and-fire population with clear parameters, and a spike recorder.
 *
 * Units: time in milliseconds, potentials in the rule's own units (mV for the biophysical rules,
 * dimensionless for the machine-learning ones). Arrays are Float64Array for accuracy on the host.
 */
import { fail } from "../../runtime/errors.js";

/** A small, fast, seeded PRNG (mulberry32) with the draws the experiments need. */
export class Rng {
  private state: number;

  /** Seeds the generator; the same seed gives the same stream on every platform. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) fail("CLI_USAGE", `seed must be a finite number, got ${seed}`);
    this.state = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher-Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** Sorted spike times of a homogeneous Poisson process of `rateHz` over [0, durationMs). */
  poissonTrain(rateHz: number, durationMs: number): number[] {
    const times: number[] = [];
    if (rateHz <= 0) return times;
    const meanIsi = 1000 / rateHz;
    let t = -Math.log(1 - this.next()) * meanIsi;
    while (t < durationMs) {
      times.push(t);
      t += -Math.log(1 - this.next()) * meanIsi;
    }
    return times;
  }
}

/**
 * A bank of exponential traces x_i with time constant tau: dx/dt = -x/tau, bumped at spikes.
 * `mode: "add"` accumulates (all-to-all interactions); `"reset"` sets to the bump value
 * (nearest-spike interactions: only the latest spike counts).
 */
export class TraceBank {
  /** Current trace values. */
  readonly values: Float64Array;
  private readonly decayPerStep: number;

  /** Creates `n` traces at zero that decay with `tauMs` when stepped by `dtMs`. */
  constructor(
    n: number,
    readonly tauMs: number,
    readonly dtMs: number,
    readonly mode: "add" | "reset" = "add",
  ) {
    if (!(tauMs > 0) || !(dtMs > 0)) fail("CLI_USAGE", `trace time constant and step must be > 0 (tau=${tauMs}, dt=${dtMs})`);
    this.values = new Float64Array(n);
    this.decayPerStep = Math.exp(-dtMs / tauMs);
  }

  /** Advances all traces by one time step. */
  decay(): void {
    const v = this.values;
    for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * this.decayPerStep;
  }

  /** Decays by an arbitrary interval (event-driven use). */
  decayBy(intervalMs: number): void {
    const f = Math.exp(-intervalMs / this.tauMs);
    const v = this.values;
    for (let i = 0; i < v.length; i++) v[i] = (v[i] as number) * f;
  }

  /** Registers a spike of trace `i`. */
  bump(i: number, amount = 1): void {
    this.values[i] = this.mode === "add" ? (this.values[i] as number) + amount : amount;
  }

  /** Zeroes all traces. */
  reset(): void {
    this.values.fill(0);
  }
}

/** Parameters of a leaky integrate-and-fire population (Euler, exact exponential leak). */
export interface LifParams {
  /** Membrane time constant, ms. */
  readonly tauMs: number;
  /** Resting potential the membrane leaks towards. */
  readonly vRest: number;
  /** Potential after a spike. */
  readonly vReset: number;
  /** Firing threshold (per neuron offsets go in `thresholdOffsets`). */
  readonly vThreshold: number;
  /** Refractory period, ms, during which the membrane is clamped at vReset. */
  readonly refractoryMs: number;
  /** Simulation step, ms. */
  readonly dtMs: number;
}

/**
 * A population of LIF neurons: v <- vRest + (v - vRest) * exp(-dt/tau) + input; a spike when
 * v >= vThreshold + thresholdOffsets[i], then v = vReset for the refractory period.
 */
export class LifPopulation {
  /** Membrane potentials. */
  readonly v: Float64Array;
  /** Per-neuron threshold offsets (adaptive thresholds write here). */
  readonly thresholdOffsets: Float64Array;
  /** Spikes of the last step (1 = spiked). */
  readonly spiked: Uint8Array;
  private readonly refractoryLeft: Float64Array;
  private readonly leak: number;

  /** Creates `n` neurons at rest. */
  constructor(
    readonly n: number,
    readonly params: LifParams,
  ) {
    if (!Number.isInteger(n) || n <= 0) fail("CLI_USAGE", `population size must be a positive integer, got ${n}`);
    if (!(params.tauMs > 0) || !(params.dtMs > 0)) fail("CLI_USAGE", "LIF tau and dt must be > 0");
    this.v = new Float64Array(n).fill(params.vRest);
    this.thresholdOffsets = new Float64Array(n);
    this.spiked = new Uint8Array(n);
    this.refractoryLeft = new Float64Array(n);
    this.leak = Math.exp(-params.dtMs / params.tauMs);
  }

  /** Advances one step with `input[i]` added to neuron i's potential; returns the spike flags. */
  step(input: ArrayLike<number>): Uint8Array {
    const p = this.params;
    for (let i = 0; i < this.n; i++) {
      this.spiked[i] = 0;
      if ((this.refractoryLeft[i] as number) > 0) {
        this.refractoryLeft[i] = (this.refractoryLeft[i] as number) - p.dtMs;
        this.v[i] = p.vReset;
        continue;
      }
      const v = p.vRest + ((this.v[i] as number) - p.vRest) * this.leak + (input[i] ?? 0);
      if (v >= p.vThreshold + (this.thresholdOffsets[i] as number)) {
        this.spiked[i] = 1;
        this.v[i] = p.vReset;
        this.refractoryLeft[i] = p.refractoryMs;
      } else {
        this.v[i] = v;
      }
    }
    return this.spiked;
  }

  /** Returns every neuron to rest (thresholds offsets are kept: they are learned state). */
  resetState(): void {
    this.v.fill(this.params.vRest);
    this.refractoryLeft.fill(0);
    this.spiked.fill(0);
  }
}

/** Records spikes as (time, neuron) pairs. */
export class SpikeRecorder {
  /** Spike times, ms. */
  readonly times: number[] = [];
  /** Neuron index of each spike. */
  readonly neurons: number[] = [];

  /** Records every set flag of `spiked` at time `tMs`. */
  record(tMs: number, spiked: Uint8Array): void {
    for (let i = 0; i < spiked.length; i++)
      if (spiked[i]) {
        this.times.push(tMs);
        this.neurons.push(i);
      }
  }

  /** Spike times of one neuron. */
  trainOf(neuron: number): number[] {
    const out: number[] = [];
    for (let k = 0; k < this.times.length; k++) if (this.neurons[k] === neuron) out.push(this.times[k] as number);
    return out;
  }

  /** Spike count per neuron. */
  counts(n: number): Int32Array {
    const c = new Int32Array(n);
    for (const i of this.neurons) c[i] = (c[i] as number) + 1;
    return c;
  }
}

/**
 * van Rossum distance between two spike trains: the L2 distance of the trains convolved with a
 * causal exponential of `tauMs`, D^2 = (1/tau) * integral (f - g)^2 dt, computed in closed form.
 */
export function vanRossumDistance(a: readonly number[], b: readonly number[], tauMs: number): number {
  const sumKernel = (x: readonly number[], y: readonly number[]): number => {
    let s = 0;
    for (const ti of x) for (const tj of y) s += Math.exp(-Math.abs(ti - tj) / tauMs);
    return s;
  };
  const d2 = (sumKernel(a, a) + sumKernel(b, b) - 2 * sumKernel(a, b)) / 2;
  return Math.sqrt(Math.max(0, d2));
}

/** Rejects a non-finite or out-of-range numeric experiment parameter with CLI_USAGE. */
export function checkRange(name: string, value: number, min: number, max: number): void {
  if (!Number.isFinite(value) || value < min || value > max) fail("CLI_USAGE", `${name} must be in [${min}, ${max}], got ${value}`);
}

/** Two-sided 95% Student-t quantiles by degrees of freedom 1..10 (beyond: the normal 1.96 bound is close). */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

/**
 * Mean of a small sample and the half-width of its 95% confidence interval (Student t,
 * n - 1 degrees of freedom; 0 for a single value): what the seed-to-seed spread of a figure allows.
 */
export function meanCi95(values: readonly number[]): { mean: number; halfWidth: number; n: number } {
  const n = values.length;
  if (n === 0) fail("SEMANTICS_BAD_INPUT", "no values to average");
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, halfWidth: 0, n };
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, halfWidth: ((T95[n - 2] ?? 1.96) * sd) / Math.sqrt(n), n };
}
