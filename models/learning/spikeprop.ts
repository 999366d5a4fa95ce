/**
 * SpikeProp (Bohte, Kok & La Poutré 2002): error backpropagation on the first spike times of a
 * feed-forward network of spike-response-model neurons with multiple delayed synaptic terminals.
 * Neuron j's potential is x_j(t) = sum_i sum_k w_ijk eps(t - t_i - d_k), eps(s) = s/tau exp(1 - s/tau),
 * and t_j is the first time x_j reaches the threshold. The gradient of E = 1/2 sum (t_j - t_j^d)^2
 * follows by linearising x around t_j: dt_j/dw_ijk = -eps(t_j - t_i - d_k) / x_j'(t_j).
 *
 * Two optimisers on the same gradient: plain gradient descent (the paper's rule) and RProp
 * (iRprop-, as applied to SpikeProp by McKennoch, Liu & Bushnell 2006), which adapts a step size
 * per weight from the gradient's sign and so converges in far fewer epochs.
 *
 * The XOR task is the paper's: inputs fire at 0 ms ("0") or 6 ms ("1") plus a reference input at
 * 0 ms; the output must fire at 16 ms for equal inputs and 10 ms for different ones; 16 terminals
 * with delays 1..16 ms, tau = 7 ms; 3-5-1 with one inhibitory hidden neuron.
 */
import { fail } from "../../runtime/errors.js";
import { Rng, checkRange } from "./core.js";

/** Network and training parameters (ms). */
export interface SpikePropParams {
  readonly nInputs: number;
  readonly nHidden: number;
  /** Hidden neurons [nHidden - nInhibitory, nHidden) have only non-positive outgoing weights. */
  readonly nInhibitory: number;
  readonly nOutputs: number;
  /** Terminal delays of every connection. */
  readonly delaysMs: readonly number[];
  readonly tauMs: number;
  readonly threshold: number;
  /** Simulated window; a neuron silent in it has no spike. */
  readonly windowMs: number;
  /** Scan step for the first threshold crossing (refined by bisection). */
  readonly scanMs: number;
  /** Initial weights are uniform in [0, initMax] (sign-flipped for inhibitory neurons). */
  readonly initHidden: number;
  readonly initOutput: number;
  /** Keep weight signs (input->hidden and excitatory >= 0, inhibitory <= 0) as in the paper. */
  readonly signConstraints: boolean;
}

/** The paper's XOR setup. */
export const SPIKEPROP_XOR: SpikePropParams = {
  nInputs: 3,
  nHidden: 5,
  nInhibitory: 1,
  nOutputs: 1,
  delaysMs: Array.from({ length: 16 }, (_, k) => k + 1),
  tauMs: 7,
  threshold: 1,
  windowMs: 50,
  scanMs: 0.1,
  initHidden: 0.25,
  initOutput: 0.1,
  signConstraints: true,
};

/** One sample: input spike times and target output spike times. */
export interface TimingSample {
  readonly inputs: readonly number[];
  readonly targets: readonly number[];
}

/** XOR with the paper's encoding: [reference, a, b] -> 16 ms (equal) or 10 ms (different). */
export const XOR_SAMPLES: readonly TimingSample[] = [
  { inputs: [0, 0, 0], targets: [16] },
  { inputs: [0, 0, 6], targets: [10] },
  { inputs: [0, 6, 0], targets: [10] },
  { inputs: [0, 6, 6], targets: [16] },
];

/** The spike-response kernel eps(s) = s/tau exp(1 - s/tau) for s > 0. */
function eps(s: number, tau: number): number {
  return s > 0 ? (s / tau) * Math.exp(1 - s / tau) : 0;
}

/** Its derivative d eps / ds. */
function epsPrime(s: number, tau: number): number {
  return s > 0 ? (Math.exp(1 - s / tau) / tau) * (1 - s / tau) : 0;
}

/** Minimum |x'(t_j)| used in the gradient: near-tangential crossings would blow it up (paper's remark). */
const MIN_SLOPE = 0.05;

/** A layer of terminal weights, indexed [post][pre][terminal]. */
export class TerminalLayer {
  readonly w: Float64Array;
  constructor(
    readonly nPre: number,
    readonly nPost: number,
    readonly nTerm: number,
  ) {
    this.w = new Float64Array(nPre * nPost * nTerm);
  }
  index(post: number, pre: number, term: number): number {
    return (post * this.nPre + pre) * this.nTerm + term;
  }
}

/** A SpikeProp network with its forward pass and gradient. */
export class SpikePropNet {
  /** Input -> hidden and hidden -> output terminal weights. */
  readonly hidden: TerminalLayer;
  readonly output: TerminalLayer;

  /** Random initial weights from `rng`. */
  constructor(
    readonly params: SpikePropParams,
    rng: Rng,
  ) {
    checkRange("nInputs", params.nInputs, 1, 10000);
    checkRange("nHidden", params.nHidden, 1, 10000);
    checkRange("nInhibitory", params.nInhibitory, 0, params.nHidden);
    checkRange("nOutputs", params.nOutputs, 1, 10000);
    if (params.delaysMs.length === 0) fail("CLI_USAGE", "SpikeProp needs at least one terminal delay");
    const nT = params.delaysMs.length;
    this.hidden = new TerminalLayer(params.nInputs, params.nHidden, nT);
    this.output = new TerminalLayer(params.nHidden, params.nOutputs, nT);
    for (let i = 0; i < this.hidden.w.length; i++) this.hidden.w[i] = rng.uniform(0, params.initHidden);
    for (let o = 0; o < params.nOutputs; o++)
      for (let h = 0; h < params.nHidden; h++)
        for (let k = 0; k < nT; k++) this.output.w[this.output.index(o, h, k)] = (this.isInhibitory(h) ? -1 : 1) * rng.uniform(0, params.initOutput);
  }

  /** True for the hidden neurons whose outgoing weights are kept non-positive. */
  isInhibitory(h: number): boolean {
    return h >= this.params.nHidden - this.params.nInhibitory;
  }

  private potential(layer: TerminalLayer, post: number, preTimes: ArrayLike<number>, t: number): number {
    const { delaysMs, tauMs } = this.params;
    let x = 0;
    for (let i = 0; i < layer.nPre; i++) {
      const ti = preTimes[i] as number;
      if (!Number.isFinite(ti)) continue;
      const base = layer.index(post, i, 0);
      for (let k = 0; k < delaysMs.length; k++) x += (layer.w[base + k] as number) * eps(t - ti - (delaysMs[k] as number), tauMs);
    }
    return x;
  }

  private slope(layer: TerminalLayer, post: number, preTimes: ArrayLike<number>, t: number): number {
    const { delaysMs, tauMs } = this.params;
    let d = 0;
    for (let i = 0; i < layer.nPre; i++) {
      const ti = preTimes[i] as number;
      if (!Number.isFinite(ti)) continue;
      const base = layer.index(post, i, 0);
      for (let k = 0; k < delaysMs.length; k++) d += (layer.w[base + k] as number) * epsPrime(t - ti - (delaysMs[k] as number), tauMs);
    }
    return d;
  }

  /** First threshold crossing of `post`, or Infinity when silent in the window. */
  private firstSpike(layer: TerminalLayer, post: number, preTimes: ArrayLike<number>): number {
    const { scanMs, windowMs, threshold, delaysMs } = this.params;
    let earliest = Infinity;
    for (let i = 0; i < layer.nPre; i++) earliest = Math.min(earliest, preTimes[i] as number);
    if (!Number.isFinite(earliest)) return Infinity;
    let lo = earliest + Math.min(...delaysMs);
    for (let t = lo + scanMs; t <= windowMs; t += scanMs) {
      if (this.potential(layer, post, preTimes, t) >= threshold) {
        let hi = t;
        for (let it = 0; it < 20; it++) {
          const mid = (lo + hi) / 2;
          if (this.potential(layer, post, preTimes, mid) >= threshold) hi = mid;
          else lo = mid;
        }
        return hi;
      }
      lo = t;
    }
    return Infinity;
  }

  /** Forward pass: hidden and output first-spike times (Infinity = silent). */
  forward(inputs: readonly number[]): { hidden: Float64Array; output: Float64Array } {
    if (inputs.length !== this.params.nInputs) fail("SEMANTICS_BAD_INPUT", `expected ${this.params.nInputs} input times, got ${inputs.length}`);
    const hidden = new Float64Array(this.params.nHidden);
    for (let h = 0; h < hidden.length; h++) hidden[h] = this.firstSpike(this.hidden, h, inputs);
    const output = new Float64Array(this.params.nOutputs);
    for (let o = 0; o < output.length; o++) output[o] = this.firstSpike(this.output, o, hidden);
    return { hidden, output };
  }

  /**
   * Adds dE/dw of one sample into `gHidden`/`gOutput` and returns its squared error (ms²). A
   * silent output neuron is treated as firing at the window's end and its input weights are
   * pushed up (the paper's remedy is to avoid it with large enough initial weights); a silent
   * hidden neuron passes no gradient.
   */
  accumulateGradient(sample: TimingSample, gHidden: Float64Array, gOutput: Float64Array): number {
    const { delaysMs, tauMs, windowMs } = this.params;
    const nT = delaysMs.length;
    const { hidden, output } = this.forward(sample.inputs);
    const dEdtHidden = new Float64Array(this.params.nHidden);
    let sse = 0;
    for (let o = 0; o < this.params.nOutputs; o++) {
      const target = sample.targets[o];
      if (target === undefined) fail("SEMANTICS_BAD_INPUT", `sample has no target for output ${o}`);
      const to = output[o] as number;
      if (!Number.isFinite(to)) {
        sse += (windowMs - target) ** 2;
        for (let h = 0; h < this.params.nHidden; h++)
          if (Number.isFinite(hidden[h] as number) && !this.isInhibitory(h))
            for (let k = 0; k < nT; k++) gOutput[this.output.index(o, h, k)] = (gOutput[this.output.index(o, h, k)] as number) - 0.01;
        continue;
      }
      const err = to - target;
      sse += err * err;
      const denom = Math.max(MIN_SLOPE, this.slope(this.output, o, hidden, to));
      for (let h = 0; h < this.params.nHidden; h++) {
        const th = hidden[h] as number;
        if (!Number.isFinite(th)) continue;
        let dxdth = 0;
        for (let k = 0; k < nT; k++) {
          const s = to - th - (delaysMs[k] as number);
          const idx = this.output.index(o, h, k);
          gOutput[idx] = (gOutput[idx] as number) - (err * eps(s, tauMs)) / denom;
          dxdth -= (this.output.w[idx] as number) * epsPrime(s, tauMs);
        }
        // dt_o/dt_h = -(dx_o/dt_h) / x_o'
        dEdtHidden[h] = (dEdtHidden[h] as number) + (err * -dxdth) / denom;
      }
    }
    for (let h = 0; h < this.params.nHidden; h++) {
      const th = hidden[h] as number;
      if (!Number.isFinite(th) || dEdtHidden[h] === 0) continue;
      const denom = Math.max(MIN_SLOPE, this.slope(this.hidden, h, sample.inputs, th));
      for (let i = 0; i < this.params.nInputs; i++) {
        const ti = sample.inputs[i] as number;
        for (let k = 0; k < nT; k++) {
          const idx = this.hidden.index(h, i, k);
          gHidden[idx] = (gHidden[idx] as number) - ((dEdtHidden[h] as number) * eps(th - ti - (delaysMs[k] as number), tauMs)) / denom;
        }
      }
    }
    return sse;
  }

  /** Keeps the sign constraints: input->hidden and excitatory weights >= 0, inhibitory <= 0. */
  clampSigns(): void {
    if (!this.params.signConstraints) return;
    for (let i = 0; i < this.hidden.w.length; i++) if ((this.hidden.w[i] as number) < 0) this.hidden.w[i] = 0;
    const nT = this.params.delaysMs.length;
    for (let o = 0; o < this.params.nOutputs; o++)
      for (let h = 0; h < this.params.nHidden; h++)
        for (let k = 0; k < nT; k++) {
          const idx = this.output.index(o, h, k);
          const w = this.output.w[idx] as number;
          if (this.isInhibitory(h) ? w > 0 : w < 0) this.output.w[idx] = 0;
        }
  }
}

/**
 * Which update uses the gradient: plain descent (the paper), iRprop- (sign-based steps), or
 * QuickProp (Fahlman 1988: a secant step to the minimum of the parabola through the last two
 * slopes of each weight, growth capped at `quickpropMaxGrowth`). McKennoch et al. 2006 apply both
 * variants to SpikeProp.
 */
export type SpikePropOptimizer = "gradient" | "rprop" | "quickprop";

/** Training options. */
export interface SpikePropTraining {
  readonly optimizer: SpikePropOptimizer;
  readonly maxEpochs: number;
  /** Stop when the summed squared error over the set is below this (ms²). */
  readonly targetSse: number;
  /** Gradient descent step (the paper: 0.01). */
  readonly learningRate: number;
  /** RProp: initial, minimum and maximum step. */
  readonly rpropInit: number;
  readonly rpropMin: number;
  readonly rpropMax: number;
  /** QuickProp: largest ratio of a step to the previous one (Fahlman's mu, 1.75). */
  readonly quickpropMaxGrowth: number;
}

/** Defaults: the paper's learning rate; RProp's usual factors 1.2 / 0.5; QuickProp's mu 1.75. */
export const SPIKEPROP_TRAINING: SpikePropTraining = {
  optimizer: "gradient",
  maxEpochs: 3000,
  targetSse: 1,
  learningRate: 0.01,
  rpropInit: 0.001,
  rpropMin: 1e-6,
  rpropMax: 0.02,
  quickpropMaxGrowth: 1.75,
};

/** The result of a training run. */
export interface SpikePropResult {
  readonly optimizer: SpikePropOptimizer;
  readonly converged: boolean;
  readonly epochs: number;
  readonly sseCurve: number[];
  readonly finalSse: number;
  readonly outputs: number[];
}

/** Full-batch training on `samples`; `onEpoch` sees each epoch's SSE. */
export function trainSpikeProp(
  net: SpikePropNet,
  samples: readonly TimingSample[],
  opts: SpikePropTraining,
  onEpoch?: (epoch: number, sse: number) => void,
): SpikePropResult {
  checkRange("maxEpochs", opts.maxEpochs, 1, 1e6);
  const layers = [net.hidden.w, net.output.w];
  const grads = layers.map((w) => new Float64Array(w.length));
  const prevGrads = layers.map((w) => new Float64Array(w.length));
  const steps = layers.map((w) => new Float64Array(w.length).fill(opts.rpropInit));
  // QuickProp: the step each weight took last epoch (0 = none yet: plain gradient step)
  const lastSteps = layers.map((w) => new Float64Array(w.length));
  const sseCurve: number[] = [];
  const evaluate = (): number => {
    let sse = 0;
    for (const s of samples) {
      const out = net.forward(s.inputs).output;
      s.targets.forEach((t, o) => {
        const v = out[o] as number;
        sse += (Number.isFinite(v) ? v - t : net.params.windowMs - t) ** 2;
      });
    }
    return sse;
  };
  let sse = evaluate();
  let epoch = 0;
  while (epoch < opts.maxEpochs && sse >= opts.targetSse) {
    epoch++;
    for (const g of grads) g.fill(0);
    for (const s of samples) net.accumulateGradient(s, grads[0] as Float64Array, grads[1] as Float64Array);
    layers.forEach((w, l) => {
      const g = grads[l] as Float64Array;
      if (opts.optimizer === "gradient") {
        for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) - opts.learningRate * (g[i] as number);
        return;
      }
      if (opts.optimizer === "quickprop") {
        quickpropStep(w, g, prevGrads[l] as Float64Array, lastSteps[l] as Float64Array, opts.learningRate, opts.quickpropMaxGrowth);
        return;
      }
      const pg = prevGrads[l] as Float64Array;
      const st = steps[l] as Float64Array;
      for (let i = 0; i < w.length; i++) {
        const prod = (g[i] as number) * (pg[i] as number);
        if (prod > 0) st[i] = Math.min(opts.rpropMax, (st[i] as number) * 1.2);
        else if (prod < 0) {
          st[i] = Math.max(opts.rpropMin, (st[i] as number) * 0.5);
          g[i] = 0; // iRprop-: skip this step after a sign change
        }
        w[i] = (w[i] as number) - Math.sign(g[i] as number) * (st[i] as number);
        pg[i] = g[i] as number;
      }
    });
    net.clampSigns();
    sse = evaluate();
    if (!Number.isFinite(sse)) fail("TOOLCHAIN_TRAINING", "SpikeProp error diverged");
    sseCurve.push(sse);
    onEpoch?.(epoch, sse);
  }
  const outputs = samples.map((s) => net.forward(s.inputs).output[0] as number);
  return { optimizer: opts.optimizer, converged: sse < opts.targetSse, epochs: epoch, sseCurve, finalSse: sse, outputs };
}

/**
 * One QuickProp update of `w` from slopes `g` (dE/dw), the previous slopes `gPrev` and previous
 * steps `dPrev` (both updated in place). Per weight: without a previous step, plain descent
 * -eps g; otherwise the secant step dPrev g / (gPrev - g) to the vertex of the parabola through the
 * two slopes, replaced by mu dPrev when the parabola is not convex along the step or the vertex is
 * more than mu steps away; while the slope still points along the previous step the descent term
 * -eps g is added (Fahlman 1988).
 */
export function quickpropStep(w: Float64Array, g: Float64Array, gPrev: Float64Array, dPrev: Float64Array, eps: number, mu: number): void {
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] as number;
    const gp = gPrev[i] as number;
    const dp = dPrev[i] as number;
    let d: number;
    if (dp === 0) d = -eps * gi;
    else {
      // curvature along the last step: (g - gPrev) / dPrev > 0 means a convex parabola
      const convex = (gi - gp) / dp > 0;
      const secant = convex ? (dp * gi) / (gp - gi) : Number.POSITIVE_INFINITY;
      d = Math.abs(secant) > mu * Math.abs(dp) ? mu * dp : secant;
      if (-gi * dp > 0) d += -eps * gi; // still descending in the same direction
    }
    w[i] = (w[i] as number) + d;
    dPrev[i] = d;
    gPrev[i] = gi;
  }
}
