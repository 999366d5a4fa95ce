/**
 * ReSuMe (Ponulak 2005; Ponulak & Kasinski 2010): remote supervised learning of a target spike
 * train by a single LIF neuron. For each afferent i,
 *   dw_i/dt = [S_d(t) - S_o(t)] * (a + integral_0^inf A exp(-s/tau_L) S_i(t - s) ds),
 * i.e. at every desired spike the weights grow by a + A x_i(t) and at every actual output spike they
 * shrink by the same amount (x_i: the afferent's exponential trace). Learning stops moving weights
 * once the output matches the target. Progress is measured with the van Rossum distance.
 */
import { fail } from "../../runtime/errors.js";
import { LifPopulation, Rng, TraceBank, checkRange, vanRossumDistance } from "./core.js";

/** ReSuMe experiment parameters (ms; the neuron's threshold is 1, rest and reset 0). */
export interface ResumeParams {
  readonly nAfferents: number;
  readonly inputRateHz: number;
  readonly durationMs: number;
  readonly dtMs: number;
  readonly tauMemMs: number;
  readonly tauSynMs: number;
  readonly refractoryMs: number;
  /** Non-Hebbian term a. */
  readonly a: number;
  /** Amplitude A and time constant tau_L of the learning window. */
  readonly aWindow: number;
  readonly tauLMs: number;
  /** Time constant of the van Rossum distance. */
  readonly vanRossumTauMs: number;
}

/** Defaults of the single-neuron experiment: 200 afferents at 10 Hz, 400 ms trials. */
export const RESUME_DEFAULTS: ResumeParams = {
  nAfferents: 200,
  inputRateHz: 10,
  durationMs: 400,
  dtMs: 0.5,
  tauMemMs: 10,
  tauSynMs: 5,
  refractoryMs: 2,
  a: 0.002,
  aWindow: 0.02,
  tauLMs: 5,
  vanRossumTauMs: 10,
};

/** A trained or training ReSuMe neuron with frozen input trains. */
export class ResumeNeuron {
  /** Afferent weights. */
  readonly weights: Float64Array;
  /** The frozen input spike trains, one sorted list per afferent. */
  readonly inputs: number[][];

  /** Draws the frozen Poisson inputs and small random weights from `rng`. */
  constructor(
    readonly params: ResumeParams,
    rng: Rng,
  ) {
    checkRange("nAfferents", params.nAfferents, 1, 100000);
    checkRange("duration", params.durationMs, params.dtMs, 1e6);
    this.inputs = Array.from({ length: params.nAfferents }, () => rng.poissonTrain(params.inputRateHz, params.durationMs));
    this.weights = new Float64Array(params.nAfferents);
    for (let i = 0; i < params.nAfferents; i++) this.weights[i] = rng.uniform(0, 0.1);
  }

  /**
   * Runs one trial. With `target`, applies ReSuMe online during the trial. Returns the output
   * spike times.
   */
  run(target?: readonly number[]): number[] {
    const p = this.params;
    const steps = Math.round(p.durationMs / p.dtMs);
    const neuron = new LifPopulation(1, { tauMs: p.tauMemMs, vRest: 0, vReset: 0, vThreshold: 1, refractoryMs: p.refractoryMs, dtMs: p.dtMs });
    const syn = new TraceBank(1, p.tauSynMs, p.dtMs);
    const window = new TraceBank(p.nAfferents, p.tauLMs, p.dtMs);
    const cursor = new Int32Array(p.nAfferents);
    const out: number[] = [];
    let targetIdx = 0;
    const input = new Float64Array(1);
    const drive = p.dtMs / p.tauMemMs;
    for (let s = 0; s < steps; s++) {
      const t = (s + 1) * p.dtMs;
      syn.decay();
      window.decay();
      for (let i = 0; i < p.nAfferents; i++) {
        const train = this.inputs[i] as number[];
        while ((cursor[i] as number) < train.length && (train[cursor[i] as number] as number) < t) {
          syn.bump(0, this.weights[i] as number);
          window.bump(i);
          cursor[i] = (cursor[i] as number) + 1;
        }
      }
      input[0] = (syn.values[0] as number) * drive * (p.tauMemMs / p.tauSynMs);
      const fired = neuron.step(input)[0] === 1;
      if (fired) out.push(t);
      if (target === undefined) continue;
      let desired = 0;
      while (targetIdx < target.length && (target[targetIdx] as number) <= t + 1e-9) {
        desired++;
        targetIdx++;
      }
      const teach = desired - (fired ? 1 : 0);
      if (teach !== 0)
        for (let i = 0; i < p.nAfferents; i++) this.weights[i] = (this.weights[i] as number) + teach * (p.a + p.aWindow * (window.values[i] as number));
    }
    if (!Number.isFinite(this.weights[0] as number)) fail("TOOLCHAIN_TRAINING", "ReSuMe weights diverged");
    return out;
  }
}

/**
 * A target train: `count` spikes, uniformly placed in [20, T - 20) ms, at least `minIsiMs` apart,
 * on whole milliseconds. Spike times are the ends of simulation steps (an output spike at t fired
 * in the step (t - dt, t]), so targets on the grid are reachable exactly when dt divides 1 ms.
 */
export function randomTargetTrain(count: number, durationMs: number, minIsiMs: number, rng: Rng): number[] {
  checkRange("target spike count", count, 1, 1000);
  if ((count + 1) * minIsiMs > durationMs - 40) fail("CLI_USAGE", `${count} spikes ${minIsiMs} ms apart do not fit in ${durationMs} ms`);
  for (let attempt = 0; attempt < 10000; attempt++) {
    const t = Array.from({ length: count }, () => rng.uniform(20, durationMs - 20)).sort((x, y) => x - y);
    if (t.every((v, k) => k === 0 || v - (t[k - 1] as number) >= minIsiMs)) return t.map((v) => Math.round(v));
  }
  fail("CLI_USAGE", "could not place the target spikes; lower the count or the minimum ISI");
}

/** The learning curve of a ReSuMe run: van Rossum distance to the target after each trial. */
export interface ResumeResult {
  readonly target: number[];
  readonly initialOutput: number[];
  readonly finalOutput: number[];
  readonly distances: number[];
  readonly initialDistance: number;
  readonly finalDistance: number;
}

/** Trains a fresh neuron on `target` for `trials` trials. */
export function trainResume(
  p: ResumeParams,
  target: readonly number[],
  trials: number,
  seed: number,
  onTrial?: (trial: number, distance: number) => void,
): ResumeResult {
  checkRange("trials", trials, 1, 1e6);
  const neuron = new ResumeNeuron(p, new Rng(seed));
  const initialOutput = neuron.run();
  const initialDistance = vanRossumDistance(initialOutput, target, p.vanRossumTauMs);
  const distances: number[] = [];
  let finalOutput = initialOutput;
  for (let k = 0; k < trials; k++) {
    neuron.run(target);
    finalOutput = neuron.run();
    const d = vanRossumDistance(finalOutput, target, p.vanRossumTauMs);
    distances.push(d);
    onTrial?.(k + 1, d);
  }
  return { target: [...target], initialOutput, finalOutput, distances, initialDistance, finalDistance: distances[distances.length - 1] ?? initialDistance };
}
