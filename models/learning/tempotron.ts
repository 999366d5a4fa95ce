/**
 * The tempotron (Gütig & Sompolinsky 2006): a neuron whose potential is a weighted sum of
 * postsynaptic potentials K(t - t_i) = V0 (exp(-(t-t_i)/tau) - exp(-(t-t_i)/tau_s)), and which
 * classifies a pattern by whether its potential crosses threshold. Learning: on a miss (should
 * fire, did not) or a false alarm (fired, should not), every weight moves by
 * ± lambda * sum_{t_i < t_max} K(t_max - t_i), t_max being the time of the maximal potential.
 * Momentum (their mu) speeds learning, as in the paper's capacity simulations.
 */
import { fail } from "../../runtime/errors.js";
import { Rng, checkRange } from "./core.js";

/** Tempotron parameters (times in ms; the threshold is 1 and the resting potential 0). */
export interface TempotronParams {
  readonly nAfferents: number;
  readonly tauMs: number;
  readonly tauSMs: number;
  readonly durationMs: number;
  /** Grid step on which the maximal potential is searched. */
  readonly dtMs: number;
  readonly learningRate: number;
  readonly momentum: number;
}

/** The paper's values: tau = 15 ms, tau_s = tau/4, T = 500 ms. */
export const TEMPOTRON_DEFAULTS: TempotronParams = { nAfferents: 200, tauMs: 15, tauSMs: 3.75, durationMs: 500, dtMs: 0.5, learningRate: 3e-3, momentum: 0.99 };

/** One input pattern: a spike time per afferent (one spike each, the paper's latency patterns). */
export interface LatencyPattern {
  readonly spikeTimes: Float64Array;
  /** True: the neuron must fire (a "+" pattern). */
  readonly label: boolean;
}

/** Random patterns: each afferent spikes once, uniform in [0, T); labels are fair coin flips. */
export function randomPatterns(count: number, p: TempotronParams, rng: Rng): LatencyPattern[] {
  checkRange("pattern count", count, 1, 1e6);
  const out: LatencyPattern[] = [];
  for (let k = 0; k < count; k++) {
    const spikeTimes = new Float64Array(p.nAfferents);
    for (let i = 0; i < p.nAfferents; i++) spikeTimes[i] = rng.uniform(0, p.durationMs);
    out.push({ spikeTimes, label: rng.next() < 0.5 });
  }
  return out;
}

/** The grid-sorted form of a pattern, precomputed once for fast potential evaluation. */
interface PreparedPattern {
  readonly label: boolean;
  /** Afferents ordered by spike time. */
  readonly order: Int32Array;
  readonly times: Float64Array;
}

/** A trainable tempotron. */
export class Tempotron {
  /** Synaptic efficacies. */
  readonly weights: Float64Array;
  private readonly velocity: Float64Array;
  /** Normalisation so that a single PSP peaks at 1 (= threshold). */
  readonly v0: number;

  /** Creates a tempotron with small random weights (mean 0, sd 1e-3 of the threshold). */
  constructor(
    readonly params: TempotronParams,
    rng: Rng,
  ) {
    if (!Number.isInteger(params.nAfferents) || params.nAfferents < 1 || params.nAfferents > 1e6) fail("CLI_USAGE", `nAfferents must be in 1..1e6`);
    checkRange("tau", params.tauMs, 1e-3, 1e6);
    checkRange("tau_s", params.tauSMs, 1e-3, params.tauMs * 0.999);
    checkRange("dt", params.dtMs, 1e-3, params.durationMs);
    const tPeak = (params.tauMs * params.tauSMs * Math.log(params.tauMs / params.tauSMs)) / (params.tauMs - params.tauSMs);
    this.v0 = 1 / (Math.exp(-tPeak / params.tauMs) - Math.exp(-tPeak / params.tauSMs));
    this.weights = new Float64Array(params.nAfferents);
    for (let i = 0; i < this.weights.length; i++) this.weights[i] = rng.normal() * 1e-3;
    this.velocity = new Float64Array(params.nAfferents);
  }

  /** The PSP kernel K(s) (0 for s < 0). */
  kernel(s: number): number {
    if (s < 0) return 0;
    return this.v0 * (Math.exp(-s / this.params.tauMs) - Math.exp(-s / this.params.tauSMs));
  }

  private prepare(p: LatencyPattern): PreparedPattern {
    if (p.spikeTimes.length !== this.params.nAfferents)
      fail("SEMANTICS_BAD_INPUT", `pattern has ${p.spikeTimes.length} afferents, tempotron ${this.params.nAfferents}`);
    const order = Int32Array.from({ length: p.spikeTimes.length }, (_, i) => i).sort((a, b) => (p.spikeTimes[a] as number) - (p.spikeTimes[b] as number));
    return { label: p.label, order, times: p.spikeTimes };
  }

  /**
   * The maximal potential over [0, T] on the grid, and its time, without shunting (which does
   * not change whether the threshold is crossed first). Two running sums, exact at grid points.
   */
  maxPotential(p: LatencyPattern | PreparedPattern): { vMax: number; tMax: number } {
    const pp = "order" in p ? p : this.prepare(p);
    const { tauMs, tauSMs, dtMs, durationMs } = this.params;
    const dA = Math.exp(-dtMs / tauMs);
    const dB = Math.exp(-dtMs / tauSMs);
    let a = 0;
    let b = 0;
    let k = 0;
    let vMax = -Infinity;
    let tMax = 0;
    const steps = Math.ceil(durationMs / dtMs);
    for (let s = 0; s <= steps; s++) {
      const t = s * dtMs;
      a *= dA;
      b *= dB;
      while (k < pp.order.length && (pp.times[pp.order[k] as number] as number) <= t) {
        const i = pp.order[k] as number;
        const lag = t - (pp.times[i] as number);
        const w = this.weights[i] as number;
        a += w * Math.exp(-lag / tauMs);
        b += w * Math.exp(-lag / tauSMs);
        k++;
      }
      const v = this.v0 * (a - b);
      if (v > vMax) {
        vMax = v;
        tMax = t;
      }
    }
    return { vMax, tMax };
  }

  /** True when the tempotron fires for the pattern (its potential reaches threshold 1). */
  classify(p: LatencyPattern): boolean {
    return this.maxPotential(p).vMax >= 1;
  }

  /**
   * Trains until every pattern is classified correctly or `maxEpochs` pass; `onEpoch` sees the
   * error count of each epoch. Returns the epochs used and the final error count.
   */
  train(
    patterns: readonly LatencyPattern[],
    maxEpochs: number,
    rng: Rng,
    onEpoch?: (epoch: number, errors: number) => void,
  ): { epochs: number; errors: number } {
    const prepared = patterns.map((p) => this.prepare(p));
    const order = prepared.map((_, i) => i);
    const { learningRate, momentum } = this.params;
    let errors = prepared.length;
    let epoch = 0;
    while (epoch < maxEpochs && errors > 0) {
      epoch++;
      errors = 0;
      rng.shuffle(order);
      for (const idx of order) {
        const pp = prepared[idx] as PreparedPattern;
        const { vMax, tMax } = this.maxPotential(pp);
        const fired = vMax >= 1;
        // Momentum keeps decaying between errors, as in the paper's per-pattern update.
        for (let i = 0; i < this.velocity.length; i++) this.velocity[i] = (this.velocity[i] as number) * momentum;
        if (fired === pp.label) continue;
        errors++;
        const sign = pp.label ? 1 : -1;
        for (let i = 0; i < this.weights.length; i++) {
          const dw = sign * learningRate * this.kernel(tMax - (pp.times[i] as number));
          this.velocity[i] = (this.velocity[i] as number) + dw;
        }
        for (let i = 0; i < this.weights.length; i++) this.weights[i] = (this.weights[i] as number) + (this.velocity[i] as number);
      }
      if (!Number.isFinite(this.weights[0] as number)) fail("TOOLCHAIN_TRAINING", "tempotron weights diverged");
      onEpoch?.(epoch, errors);
    }
    return { epochs: epoch, errors };
  }
}

/** One point of the capacity curve: load alpha = P/N and whether training reached zero errors. */
export interface CapacityPoint {
  readonly load: number;
  readonly patterns: number;
  readonly epochs: number;
  readonly errors: number;
  readonly solved: boolean;
}

/** Trains a fresh tempotron at each load alpha (P = alpha N patterns) and records the outcome. */
export function capacityCurve(
  loads: readonly number[],
  p: TempotronParams,
  maxEpochs: number,
  seed: number,
  onPoint?: (pt: CapacityPoint) => void,
): CapacityPoint[] {
  return loads.map((load) => {
    const rng = new Rng(seed + Math.round(load * 1000));
    const patterns = randomPatterns(Math.round(load * p.nAfferents), p, rng);
    const t = new Tempotron(p, rng);
    const { epochs, errors } = t.train(patterns, maxEpochs, rng);
    const pt = { load, patterns: patterns.length, epochs, errors, solved: errors === 0 };
    onPoint?.(pt);
    return pt;
  });
}
