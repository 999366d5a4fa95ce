/**
 * A local, STDP-like approximation of backpropagation with spiking neurons: the two-phase rule of
 * Shrestha et al. ("Approximating Back-propagation for a Biologically Plausible Local Learning Rule
 * in Spiking Neural Networks", ICONS 2019) in its EMSTDP form (Loihi, 2021).
 *
 * Phase 1 (T steps): integrate-and-fire layers run forward; spike counts h1 per neuron. The output
 * error e = y - h1_out/T is then fed in as extra current: to the output neurons directly and to the
 * hidden neurons through feedback weights (the transposed forward weights, or fixed random ones
 * for feedback alignment). Phase 2 (T more steps) gives counts h2. Each weight then changes by
 * pre-synaptic activity times the post-synaptic count change between the phases,
 *   dW = eta * (h1_pre / T) * (h2_post - h1_post) / T,
 * gated for hidden neurons by whether they fired in phase 1 (the spiking stand-in for f'). Every
 * quantity is local to a synapse and its two neurons, as an STDP trace rule can compute on chip.
 *
 * Input is the float SNN form's `current` encoding (intensity/255 injected every step), so the
 * trained network exports unchanged as a 784-H-10 IF network.
 */
import { fail } from "../../runtime/errors.js";
import type { FloatSnn } from "../float-snn.js";
import { Rng, checkRange } from "./core.js";
import type { DigitSet } from "./diehl-cook.js";

/** Network and learning parameters. */
export interface EmstdpParams {
  readonly nInputs: number;
  readonly nHidden: number;
  readonly nOutputs: number;
  /** Steps per phase. */
  readonly steps: number;
  readonly threshold: number;
  readonly learningRate: number;
  /** Gain of the error current injected in phase 2. */
  readonly errorGain: number;
  /** "symmetric": feedback through W2 transposed; "random": fixed random feedback (alignment). */
  readonly feedback: "symmetric" | "random";
}

/** The 784-100-10 network. */
export const EMSTDP_DEFAULTS: EmstdpParams = {
  nInputs: 784,
  nHidden: 100,
  nOutputs: 10,
  steps: 32,
  threshold: 1,
  learningRate: 0.5,
  errorGain: 1,
  feedback: "symmetric",
};

/** A two-layer IF network trained with the two-phase local rule. */
export class EmstdpNet {
  /** Input -> hidden weights, index input * nHidden + hidden (the float SNN's fan-out order). */
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  /** Hidden -> output weights, index hidden * nOutputs + output. */
  readonly w2: Float64Array;
  readonly b2: Float64Array;
  private readonly feedbackW: Float64Array | undefined;

  /** Uniform Glorot-style initial weights from `seed`. */
  constructor(
    readonly params: EmstdpParams,
    seed: number,
  ) {
    checkRange("nInputs", params.nInputs, 1, 1e5);
    checkRange("nHidden", params.nHidden, 1, 1e5);
    checkRange("nOutputs", params.nOutputs, 2, 1e4);
    checkRange("steps", params.steps, 1, 1e5);
    const rng = new Rng(seed);
    const a1 = Math.sqrt(6 / (params.nInputs + params.nHidden));
    const a2 = Math.sqrt(6 / (params.nHidden + params.nOutputs));
    this.w1 = Float64Array.from({ length: params.nInputs * params.nHidden }, () => rng.uniform(-a1, a1));
    this.w2 = Float64Array.from({ length: params.nHidden * params.nOutputs }, () => rng.uniform(-a2, a2));
    this.b1 = new Float64Array(params.nHidden);
    this.b2 = new Float64Array(params.nOutputs);
    this.feedbackW = params.feedback === "random" ? Float64Array.from({ length: params.nHidden * params.nOutputs }, () => rng.uniform(-a2, a2)) : undefined;
  }

  /** Constant hidden input current W1^T x + b1 for one image (x = intensity/255). */
  private hiddenCurrent(pixels: Uint8Array, offset: number): { x: Float64Array; current: Float64Array } {
    const { nInputs, nHidden } = this.params;
    const x = new Float64Array(nInputs);
    const current = Float64Array.from(this.b1);
    for (let i = 0; i < nInputs; i++) {
      const xi = (pixels[offset + i] as number) / 255;
      x[i] = xi;
      if (xi === 0) continue;
      const row = i * nHidden;
      for (let h = 0; h < nHidden; h++) current[h] = (current[h] as number) + xi * (this.w1[row + h] as number);
    }
    return { x, current };
  }

  /**
   * Runs one phase of `steps` IF steps (subtractive reset) and returns the spike counts. Extra
   * currents (phase 2) are added every step.
   */
  private phase(hiddenCurrent: Float64Array, extraHidden?: Float64Array, extraOutput?: Float64Array): { hidden: Int32Array; output: Int32Array } {
    const { nHidden, nOutputs, steps, threshold } = this.params;
    const vh = new Float64Array(nHidden);
    const vo = new Float64Array(nOutputs);
    const hidden = new Int32Array(nHidden);
    const output = new Int32Array(nOutputs);
    for (let t = 0; t < steps; t++) {
      for (let o = 0; o < nOutputs; o++) vo[o] = (vo[o] as number) + (this.b2[o] as number) + (extraOutput ? (extraOutput[o] as number) : 0);
      for (let h = 0; h < nHidden; h++) {
        let v = (vh[h] as number) + (hiddenCurrent[h] as number) + (extraHidden ? (extraHidden[h] as number) : 0);
        if (v >= threshold) {
          v -= threshold;
          hidden[h] = (hidden[h] as number) + 1;
          const row = h * nOutputs;
          for (let o = 0; o < nOutputs; o++) vo[o] = (vo[o] as number) + (this.w2[row + o] as number);
        }
        vh[h] = v;
      }
      for (let o = 0; o < nOutputs; o++)
        if ((vo[o] as number) >= threshold) {
          vo[o] = (vo[o] as number) - threshold;
          output[o] = (output[o] as number) + 1;
        }
    }
    return { hidden, output };
  }

  /** Output spike counts of the forward phase. */
  predictCounts(pixels: Uint8Array, offset: number): Int32Array {
    return this.phase(this.hiddenCurrent(pixels, offset).current).output;
  }

  /** The class with most output spikes (ties: the larger output potential is not kept; lowest index). */
  predict(pixels: Uint8Array, offset: number): number {
    const c = this.predictCounts(pixels, offset);
    let best = 0;
    for (let o = 1; o < c.length; o++) if ((c[o] as number) > (c[best] as number)) best = o;
    return best;
  }

  /** One two-phase learning step on one labelled image. */
  learn(pixels: Uint8Array, offset: number, label: number): void {
    const { nInputs, nHidden, nOutputs, steps, learningRate, errorGain } = this.params;
    if (!Number.isInteger(label) || label < 0 || label >= nOutputs) fail("SEMANTICS_BAD_INPUT", `label ${label} outside 0..${nOutputs - 1}`);
    const { x, current } = this.hiddenCurrent(pixels, offset);
    const p1 = this.phase(current);
    const err = new Float64Array(nOutputs);
    for (let o = 0; o < nOutputs; o++) err[o] = errorGain * ((o === label ? 1 : 0) - (p1.output[o] as number) / steps);
    const fb = this.feedbackW ?? this.w2;
    const errHidden = new Float64Array(nHidden);
    for (let h = 0; h < nHidden; h++) {
      let s = 0;
      for (let o = 0; o < nOutputs; o++) s += (fb[h * nOutputs + o] as number) * (err[o] as number);
      errHidden[h] = s;
    }
    const p2 = this.phase(current, errHidden, err);
    const lr = learningRate / steps;
    // hidden -> output: pre activity (phase 1) x post change
    for (let o = 0; o < nOutputs; o++) {
      const d = ((p2.output[o] as number) - (p1.output[o] as number)) / steps;
      if (d === 0) continue;
      this.b2[o] = (this.b2[o] as number) + lr * d;
      for (let h = 0; h < nHidden; h++) {
        const pre = (p1.hidden[h] as number) / steps;
        if (pre !== 0) this.w2[h * nOutputs + o] = (this.w2[h * nOutputs + o] as number) + lr * pre * d;
      }
    }
    // input -> hidden: gated by phase-1 firing (the spiking derivative)
    const dh = new Float64Array(nHidden);
    for (let h = 0; h < nHidden; h++) dh[h] = (p1.hidden[h] as number) > 0 ? ((p2.hidden[h] as number) - (p1.hidden[h] as number)) / steps : 0;
    for (let h = 0; h < nHidden; h++) this.b1[h] = (this.b1[h] as number) + lr * (dh[h] as number);
    for (let i = 0; i < nInputs; i++) {
      const xi = x[i] as number;
      if (xi === 0) continue;
      const row = i * nHidden;
      for (let h = 0; h < nHidden; h++) this.w1[row + h] = (this.w1[row + h] as number) + lr * xi * (dh[h] as number);
    }
  }

  /** Accuracy on a digit set. */
  accuracy(set: DigitSet): number {
    const n = this.params.nInputs;
    let correct = 0;
    for (let k = 0; k < set.count; k++) if (this.predict(set.pixels, k * n) === set.labels[k]) correct++;
    return correct / Math.max(1, set.count);
  }

  /** The trained network as a float SNN: 784-H-10 IF, current input, spike-count readout. */
  toFloatSnn(): FloatSnn {
    const { nInputs, nHidden, nOutputs, threshold, steps } = this.params;
    const side = Math.round(Math.sqrt(nInputs));
    const neuron = { model: "if" as const, threshold, leak: 1, reset: "subtract" as const, refractory: 0 };
    return {
      input: { shape: side * side === nInputs ? [1, side, side] : [1, 1, nInputs], encoding: "current", scale: 1 / 255 },
      layers: [
        { kind: "dense", name: "hidden", inputs: nInputs, outputs: nHidden, weights: Float32Array.from(this.w1), bias: Float32Array.from(this.b1), neuron },
        { kind: "dense", name: "output", inputs: nHidden, outputs: nOutputs, weights: Float32Array.from(this.w2), bias: Float32Array.from(this.b2), neuron },
      ],
      readout: "count",
      provenance: { source: "emstdp", tool: "picospike learn", settings: { steps, feedback: this.params.feedback, learningRate: this.params.learningRate } },
    };
  }
}

/** Trains for `epochs` shuffled passes; `onProgress` sees images done / total. Returns per-epoch test accuracy. */
export function trainEmstdp(
  net: EmstdpNet,
  train: DigitSet,
  test: DigitSet,
  epochs: number,
  seed: number,
  onProgress?: (done: number, total: number) => void,
): number[] {
  checkRange("epochs", epochs, 1, 1000);
  const n = net.params.nInputs;
  if (train.pixels.length !== train.count * n || test.pixels.length !== test.count * n)
    fail("SEMANTICS_BAD_INPUT", `digit sets must have ${n} pixels per image`);
  const rng = new Rng(seed);
  const order = Array.from({ length: train.count }, (_, k) => k);
  const curve: number[] = [];
  let done = 0;
  for (let ep = 0; ep < epochs; ep++) {
    rng.shuffle(order);
    for (const k of order) {
      net.learn(train.pixels, k * n, train.labels[k] as number);
      onProgress?.(++done, epochs * train.count);
    }
    if (!Number.isFinite(net.w1[0] as number)) fail("TOOLCHAIN_TRAINING", "EMSTDP weights diverged; lower the learning rate");
    curve.push(net.accuracy(test));
  }
  return curve;
}
