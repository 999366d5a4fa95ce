/**
 * Multi-sample online learning for probabilistic SNNs (Jang & Simeone, "Multi-Sample Online
 * Learning for Probabilistic Spiking Neural Networks", GEM-SNN). Neurons are generalised linear
 * models: neuron i spikes at step t with probability sigmoid(u_i,t), u = b + W x_bar (x_bar:
 * exponentially filtered presynaptic spikes). Visible output neurons are clamped to the teacher
 * spike train during training; hidden neurons are sampled, independently in each of K
 * compartments that share the weights. Generalised EM: the compartments' visible log-likelihoods,
 * accumulated online (a discounted sum, as in the authors' code), give importance weights
 * sigma_k = softmax_k(L_k) (the per-compartment learning signals); every synapse keeps
 * per-compartment eligibility traces e_k = filtered (s - p) x_bar, and moves by the three-factor
 * rule dw = eta * sum_k sigma_k e_k. K = 1 is the single-sample rule.
 *
 * Task: an event-based digit task from the embedded MNIST: 14x14 downsampled digits of a few
 * classes, each pixel a Bernoulli spike source (rate proportional to intensity) for T steps; the
 * teacher makes the correct class's output neuron spike at a high rate and the others at a low one.
 */
import { fail } from "../../runtime/errors.js";
import { Rng, checkRange } from "./core.js";
import type { DigitSet } from "./diehl-cook.js";

/** Model, task and learning parameters. */
export interface MultiSampleParams {
  readonly classes: readonly number[];
  /** Side of the downsampled image (28 / side must be an integer). */
  readonly side: number;
  readonly nHidden: number;
  readonly steps: number;
  /** Input spike probability per step of a full-intensity pixel. */
  readonly inputRate: number;
  /** Teacher spike probabilities of the correct and the other outputs. */
  readonly teacherOn: number;
  readonly teacherOff: number;
  /** Decay per step of the presynaptic filter, eligibility traces and learning signals. */
  readonly traceDecay: number;
  readonly eligibilityDecay: number;
  readonly signalDecay: number;
  readonly learningRate: number;
}

/**
 * Three classes (0, 1, 2), 14x14 inputs, 16 hidden neurons, 30 steps. Learning rate 0.02: at 0.05
 * (one pass) the trained model depended so much on the last samples seen that the seed-to-seed
 * spread of the test likelihood (±0.2-0.35 nats) hid any effect of K.
 */
export const MULTISAMPLE_DEFAULTS: MultiSampleParams = {
  classes: [0, 1, 2],
  side: 14,
  nHidden: 16,
  steps: 30,
  inputRate: 0.5,
  teacherOn: 0.9,
  teacherOff: 0.05,
  traceDecay: 0.5,
  eligibilityDecay: 0.5,
  signalDecay: 0.9,
  learningRate: 0.02,
};

const sigmoid = (u: number): number => 1 / (1 + Math.exp(-u));
const logSigmoid = (u: number): number => (u >= 0 ? -Math.log1p(Math.exp(-u)) : u - Math.log1p(Math.exp(u)));

/** An event-based sample: input spike raster (steps x inputs) and its class index. */
export interface SpikeSample {
  readonly raster: Uint8Array;
  readonly label: number;
}

/** Downsamples (block mean) and rate-encodes the digits of the chosen classes. */
export function encodeDigits(set: DigitSet, p: MultiSampleParams, maxPerClass: number, rng: Rng): SpikeSample[] {
  if (28 % p.side !== 0) fail("CLI_USAGE", `side ${p.side} must divide 28`);
  const block = 28 / p.side;
  const nIn = p.side * p.side;
  const taken = new Map<number, number>();
  const out: SpikeSample[] = [];
  for (let k = 0; k < set.count; k++) {
    const digit = set.labels[k] as number;
    const cls = p.classes.indexOf(digit);
    if (cls < 0 || (taken.get(cls) ?? 0) >= maxPerClass) continue;
    taken.set(cls, (taken.get(cls) ?? 0) + 1);
    const intensity = new Float64Array(nIn);
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        const idx = Math.floor(y / block) * p.side + Math.floor(x / block);
        intensity[idx] = (intensity[idx] as number) + (set.pixels[k * 784 + y * 28 + x] as number) / 255 / (block * block);
      }
    const raster = new Uint8Array(p.steps * nIn);
    for (let t = 0; t < p.steps; t++) for (let i = 0; i < nIn; i++) raster[t * nIn + i] = rng.next() < (intensity[i] as number) * p.inputRate ? 1 : 0;
    out.push({ raster, label: cls });
  }
  return out;
}

/** A probabilistic SNN: inputs -> hidden, inputs + hidden -> outputs. */
export class ProbabilisticSnn {
  readonly nIn: number;
  readonly nOut: number;
  /** Hidden weights [hidden][nIn + 1 (bias)], output weights [out][nIn + nHidden + 1 (bias)]. */
  readonly wHidden: Float64Array;
  readonly wOut: Float64Array;

  /** Small random weights from `seed`. */
  constructor(
    readonly params: MultiSampleParams,
    seed: number,
  ) {
    checkRange("nHidden", params.nHidden, 0, 1e4);
    checkRange("steps", params.steps, 1, 1e5);
    if (params.classes.length < 2) fail("CLI_USAGE", "the task needs at least two classes");
    const rng = new Rng(seed);
    this.nIn = params.side * params.side;
    this.nOut = params.classes.length;
    this.wHidden = Float64Array.from({ length: params.nHidden * (this.nIn + 1) }, () => rng.normal() * 0.1);
    this.wOut = Float64Array.from({ length: this.nOut * (this.nIn + params.nHidden + 1) }, () => rng.normal() * 0.1);
    for (let h = 0; h < params.nHidden; h++) this.wHidden[h * (this.nIn + 1) + this.nIn] = -2;
    for (let o = 0; o < this.nOut; o++) this.wOut[o * (this.nIn + params.nHidden + 1) + this.nIn + params.nHidden] = -2;
  }

  /**
   * Runs one sample through K compartments. `teacher` (training and likelihood evaluation) clamps
   * the outputs to a teacher train drawn from `rng`; `learn` applies the GEM three-factor update.
   * Returns the per-compartment visible log-likelihoods and output spike counts.
   */
  run(sample: SpikeSample, k: number, rng: Rng, mode: "learn" | "likelihood" | "free"): { logLik: Float64Array; outCounts: Int32Array } {
    const p = this.params;
    const { nIn, nOut } = this;
    const nH = p.nHidden;
    const hStride = nIn + 1;
    const oStride = nIn + nH + 1;
    // per compartment state; inputs are shared (visible), their trace too
    const xIn = new Float64Array(nIn + 1);
    xIn[nIn] = 1;
    const xHid = new Float64Array(k * nH);
    const eHid = mode === "learn" ? new Float64Array(k * nH * hStride) : undefined;
    const eOut = mode === "learn" ? new Float64Array(k * nOut * oStride) : undefined;
    const signal = new Float64Array(k);
    const logLik = new Float64Array(k);
    const outCounts = new Int32Array(k * nOut);
    const sHid = new Uint8Array(k * nH);
    const teacher = new Uint8Array(nOut);
    const preO = new Float64Array(oStride);
    const weights = new Float64Array(k);
    for (let t = 0; t < p.steps; t++) {
      if (mode !== "free") for (let o = 0; o < nOut; o++) teacher[o] = rng.next() < (o === sample.label ? p.teacherOn : p.teacherOff) ? 1 : 0;
      for (let c = 0; c < k; c++) {
        // hidden neurons: sample from their GLM given the (shared) input trace
        for (let h = 0; h < nH; h++) {
          let u = 0;
          const row = h * hStride;
          for (let i = 0; i <= nIn; i++) u += (this.wHidden[row + i] as number) * (xIn[i] as number);
          const pr = sigmoid(u);
          const s = rng.next() < pr ? 1 : 0;
          sHid[c * nH + h] = s;
          if (eHid) {
            const base = (c * nH + h) * hStride;
            const g = s - pr;
            for (let i = 0; i <= nIn; i++) eHid[base + i] = p.eligibilityDecay * (eHid[base + i] as number) + (1 - p.eligibilityDecay) * g * (xIn[i] as number);
          }
        }
        // outputs see the inputs and this compartment's hidden traces
        preO.set(xIn.subarray(0, nIn), 0);
        for (let h = 0; h < nH; h++) preO[nIn + h] = xHid[c * nH + h] as number;
        preO[nIn + nH] = 1;
        let ll = 0;
        for (let o = 0; o < nOut; o++) {
          let u = 0;
          const row = o * oStride;
          for (let i = 0; i < oStride; i++) u += (this.wOut[row + i] as number) * (preO[i] as number);
          const pr = sigmoid(u);
          const s = mode === "free" ? (rng.next() < pr ? 1 : 0) : (teacher[o] as number);
          if (s) outCounts[c * nOut + o] = (outCounts[c * nOut + o] as number) + 1;
          ll += s ? logSigmoid(u) : logSigmoid(-u);
          if (eOut) {
            const base = (c * nOut + o) * oStride;
            const g = s - pr;
            for (let i = 0; i < oStride; i++)
              eOut[base + i] = p.eligibilityDecay * (eOut[base + i] as number) + (1 - p.eligibilityDecay) * g * (preO[i] as number);
          }
        }
        logLik[c] = (logLik[c] as number) + ll;
        // the discounted SUM of the visible log-probabilities (not a (1 - decay)-scaled average):
        // the importance weights are a softmax over it, and scaling it down tempers the softmax
        // towards uniform weights, which turns GEM into plain averaging over the compartments
        signal[c] = p.signalDecay * (signal[c] as number) + ll;
      }
      if (eHid && eOut) {
        // importance weights: softmax of the smoothed visible log-likelihoods (the learning signals)
        let max = -Infinity;
        for (let c = 0; c < k; c++) max = Math.max(max, signal[c] as number);
        let z = 0;
        for (let c = 0; c < k; c++) z += weights[c] = Math.exp((signal[c] as number) - max);
        for (let c = 0; c < k; c++) weights[c] = (weights[c] as number) / z;
        const lr = p.learningRate;
        for (let c = 0; c < k; c++) {
          const wc = lr * (weights[c] as number);
          const hb = c * nH * hStride;
          for (let j = 0; j < nH * hStride; j++) this.wHidden[j] = (this.wHidden[j] as number) + wc * (eHid[hb + j] as number);
          const ob = c * nOut * oStride;
          for (let j = 0; j < nOut * oStride; j++) this.wOut[j] = (this.wOut[j] as number) + wc * (eOut[ob + j] as number);
        }
      }
      // presynaptic traces for the next step
      const row = sample.raster.subarray(t * nIn, (t + 1) * nIn);
      for (let i = 0; i < nIn; i++) xIn[i] = p.traceDecay * (xIn[i] as number) + (row[i] as number);
      for (let j = 0; j < k * nH; j++) xHid[j] = p.traceDecay * (xHid[j] as number) + (sHid[j] as number);
    }
    if (!Number.isFinite(this.wOut[0] as number)) fail("TOOLCHAIN_TRAINING", "probabilistic SNN weights diverged");
    return { logLik, outCounts };
  }
}

/** Test metrics of a trained probabilistic SNN. */
export interface MultiSampleEval {
  /** Mean over samples of log (1/K sum_k p(teacher outputs | compartment k)), per step. */
  readonly logLikelihoodPerStep: number;
  /** Accuracy of the majority output (spike counts summed over the K compartments, outputs free). */
  readonly accuracy: number;
}

/** Evaluates with `kEval` compartments. */
export function evaluateMultiSample(net: ProbabilisticSnn, samples: readonly SpikeSample[], kEval: number, seed: number): MultiSampleEval {
  const rng = new Rng(seed);
  let ll = 0;
  let correct = 0;
  for (const s of samples) {
    const { logLik } = net.run(s, kEval, rng, "likelihood");
    let max = -Infinity;
    for (const v of logLik) max = Math.max(max, v);
    let z = 0;
    for (const v of logLik) z += Math.exp(v - max);
    ll += max + Math.log(z / kEval);
    const { outCounts } = net.run(s, kEval, rng, "free");
    const votes = new Float64Array(net.nOut);
    for (let c = 0; c < kEval; c++) for (let o = 0; o < net.nOut; o++) votes[o] = (votes[o] as number) + (outCounts[c * net.nOut + o] as number);
    let best = 0;
    for (let o = 1; o < net.nOut; o++) if ((votes[o] as number) > (votes[best] as number)) best = o;
    if (best === s.label) correct++;
  }
  return { logLikelihoodPerStep: ll / samples.length / net.params.steps, accuracy: correct / samples.length };
}

/** Trains one net per K with the same data and evaluates each with its own K compartments. */
export function multiSampleSweep(
  train: readonly SpikeSample[],
  test: readonly SpikeSample[],
  ks: readonly number[],
  p: MultiSampleParams,
  epochs: number,
  seed: number,
  onProgress?: (done: number, total: number) => void,
): Array<{ k: number } & MultiSampleEval> {
  checkRange("epochs", epochs, 1, 1000);
  let done = 0;
  const total = ks.length * epochs * train.length;
  // one presentation order for every K (common random numbers): the K's then differ only in their
  // compartments' samples, which makes the comparison between K's paired rather than confounded
  const orderRng = new Rng(seed + 17);
  const orders = Array.from({ length: epochs }, () => orderRng.shuffle(train.map((_, i) => i)));
  return ks.map((k) => {
    checkRange("K", k, 1, 64);
    const net = new ProbabilisticSnn(p, seed);
    const rng = new Rng(seed + 1000 * k);
    for (const order of orders)
      for (const i of order) {
        net.run(train[i] as SpikeSample, k, rng, "learn");
        onProgress?.(++done, total);
      }
    return { k, ...evaluateMultiSample(net, test, k, seed + 7) };
  });
}
