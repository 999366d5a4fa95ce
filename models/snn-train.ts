/**
 * Direct SNN training (`picospike train --snn`): backpropagation through time over LIF neurons
 * with a surrogate derivative of the spike, implemented with tf.customGrad.
 *
 * The forward pass is exactly the float SNN semantics of spec/float-snn.md §5 that quantization
 * and the integer interpreter run (current-encoded input, intensity/255 every step; per step and
 * layer v ← leak·v, v ← v + bias + W·x, spike when v ≥ θ, reset by subtraction; the last layer an
 * integrator read out by membrane argmax), so the trained weights are written unchanged into the
 * float SNN form. The leak is 1 − 2^−k, which the quantizer maps to the integer shift form
 * (spec/ops.md §4.2) with no approximation of the factor.
 *
 * Surrogates (dS/dv of the spike S = H(v − θ); the reset v ← v − θ·S stays in the graph):
 * - `approx`: the approximate derivative of Lee, Sarwar, Panda, Srinivasan & Roy (2020),
 *   "Enabling Spike-based Backpropagation for Training Deep Neural Network Architectures"
 *   (Front. Neurosci. 14:119). An IF neuron's spike count a ≈ net/θ, so ∂a/∂net = 1/θ; a LIF
 *   neuron loses charge to the leak, which the method accounts for with a correction computed
 *   from the neuron's own output spike train over the window:
 *     ∂a/∂net ≈ (1/θ) · (1 + (1/γ) Σ_k (−1/τ) e^{(t_k − T)/τ}),
 *   γ = number of output spikes, t_k their steps, T the window, τ = −1/ln(leak). One value per
 *   neuron and sample, used as dS/dv at every step. Neurons that never fire (γ = 0) get 0, as a
 *   rectifier below threshold. With the subtractive reset in the graph, a perturbation of one
 *   step's input changes that step's spike by c·δ and leaves v − θ·S changed by (1 − θc)·δ, so for
 *   IF (c = 1/θ) BPTT yields exactly the rate derivative d(count)/d(input) = 1/θ of the method.
 * - `fast-sigmoid`: SuperSpike's dS/dv = (1/θ) / (1 + β·|v − θ|/θ)² (Zenke & Ganguli 2018).
 */
import { fail } from "../runtime/errors.js";
import { seededRandom, type ImageSet } from "../runtime/datasets.js";
import type { FloatSnn } from "./float-snn.js";
import { tf, trainingProgress, type EpochMetrics } from "./tf.js";
import { imagesTensor } from "./train.js";

/** Surrogate derivative of the spike function. */
export type Surrogate = "approx" | "fast-sigmoid";

/** Options of one direct SNN training run. */
export interface SnnTrainOptions {
  /** Hidden LIF layer sizes, from the input (e.g. [256]). */
  readonly hidden: readonly number[];
  /** Time steps per sample (the BPTT window). */
  readonly steps: number;
  /** Leak 1 − 2^−leakShift per step; 0 means IF (no leak). */
  readonly leakShift: number;
  readonly surrogate: Surrogate;
  /** β of the fast sigmoid (steepness in units of the threshold). */
  readonly sigmoidSlope: number;
  readonly epochs: number;
  readonly batchSize: number;
  /** Initial Adam learning rate; cosine decay to 5% over the run. */
  readonly learningRate: number;
  /** Largest random shift in pixels per training image per epoch. */
  readonly maxShift: number;
  readonly seed: number;
  readonly quiet: boolean;
}

/** Defaults: a 784-256-10 LIF MLP, T = 25, leak 1 − 2^−4 (τ ≈ 15.5 steps). */
export const SNN_TRAIN_DEFAULTS: Omit<SnnTrainOptions, "quiet"> = {
  hidden: [512], // 784-512-10 for 30 epochs reaches 97.05% int8 at T = 25 (docs/ACCURACY.md); 256 × 12 epochs gave 96.25%
  steps: 25,
  leakShift: 4,
  surrogate: "approx",
  sigmoidSlope: 5,
  epochs: 30,
  batchSize: 64,
  learningRate: 2e-3,
  maxShift: 2,
  seed: 1,
};

/** Largest BPTT working set accepted: steps × batch × neurons (about 8 float32 tensors each). */
export const MAX_BPTT_CELLS = 1 << 23;
/** Firing threshold of every hidden layer (weights carry the scale). */
export const SNN_THRESHOLD = 1;

/** Leak factor per step of a shift (0 = no leak). */
export function leakOfShift(k: number): number {
  return k === 0 ? 1 : 1 - 2 ** -k;
}

/**
 * The leak-aware approximate derivative of Lee et al. (2020) for one neuron: `spikeSteps` are the
 * steps (1..T) of its output spikes. Returns 0 for a silent neuron, 1/θ for IF (leak 1).
 */
export function approxDerivative(spikeSteps: readonly number[], steps: number, leak: number, threshold: number): number {
  if (spikeSteps.length === 0) return 0;
  if (leak >= 1) return 1 / threshold;
  const tau = -1 / Math.log(leak);
  let sum = 0;
  for (const tk of spikeSteps) sum += Math.exp((tk - steps) / tau);
  return (1 / threshold) * (1 - sum / (spikeSteps.length * tau));
}

/** Fast-sigmoid surrogate dS/dv at membrane v. */
export function fastSigmoidDerivative(v: number, threshold: number, slope: number): number {
  const x = Math.abs(v - threshold) / threshold;
  return 1 / (threshold * (1 + slope * x) ** 2);
}

/**
 * A spike function for one layer: forward H(v − θ) (1 where v ≥ θ), backward dy·dS/dv.
 * For `approx` the derivative is `holder.value` ([B, N], one value per neuron and sample), read
 * when the gradient is taken, i.e. after the forward pass has filled it from the whole window.
 */
export function spikeFunction(surrogate: Surrogate, threshold: number, slope: number, holder: { value?: tf.Tensor }): (v: tf.Tensor) => tf.Tensor {
  return tf.customGrad(((v: tf.Tensor, save: tf.GradSaveFunc) => {
    save([v]);
    return {
      value: v.greaterEqual(threshold).toFloat(),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (surrogate === "approx") {
          if (!holder.value) throw new Error("approx surrogate: derivative not computed before the gradient");
          return [dy.mul(holder.value)];
        }
        const x = saved[0]!
          .sub(threshold)
          .abs()
          .mul(slope / threshold)
          .add(1);
        return [dy.div(x.square().mul(threshold))];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (v: tf.Tensor) => tf.Tensor;
}

/** Trainable parameters: per layer (hidden…, readout) weights [in, out] and biases [out]. */
export interface SnnParams {
  readonly weights: tf.Variable[];
  readonly biases: tf.Variable[];
}

/**
 * Seeded initial weights, zero biases; sizes [inputs, ...hidden, classes]. Hidden layers are
 * He-normal; the readout, which sums spike counts over the whole window, starts at std
 * 1/(fan-in · T)^½ so its initial logits are of order one.
 */
export function initParams(sizes: readonly number[], seed: number, steps = 1): SnnParams {
  const weights: tf.Variable[] = [];
  const biases: tf.Variable[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const [fanIn, fanOut] = [sizes[l]!, sizes[l + 1]!];
    const std = l + 2 === sizes.length ? Math.sqrt(1 / (fanIn * steps)) : Math.sqrt(2 / fanIn);
    weights.push(tf.variable(tf.randomNormal([fanIn, fanOut], 0, std, "float32", seed * 1000 + l), true, `snn_w${l}`));
    biases.push(tf.variable(tf.zeros([fanOut]), true, `snn_b${l}`));
  }
  return { weights, biases };
}

/** Result of one forward pass over the window. */
export interface SnnForward {
  /** Readout membrane after the window (the integrator's accumulated input): [B, classes]. */
  readonly logits: tf.Tensor2D;
  /** Total hidden spikes of the batch. */
  readonly spikes: tf.Tensor;
}

/**
 * Runs the network for `steps` steps on current-encoded inputs x ([B, inputs], values in
 * [0, 1]), recording the graph for gradients when called inside a gradient function. `holders`
 * receive, per hidden layer, the `approx` derivative computed from that layer's spike trains
 * (kept out of tidy scopes: the caller disposes `holders[l].value`).
 */
export function forwardSnn(
  params: SnnParams,
  x: tf.Tensor2D,
  opts: Pick<SnnTrainOptions, "steps" | "leakShift" | "surrogate" | "sigmoidSlope">,
  holders?: Array<{ value?: tf.Tensor }>,
): SnnForward {
  const leak = leakOfShift(opts.leakShift);
  const theta = SNN_THRESHOLD;
  const hiddenCount = params.weights.length - 1;
  const batch = x.shape[0];
  const hs: Array<{ value?: tf.Tensor }> = holders ?? Array.from({ length: hiddenCount }, () => ({}));
  const spikeFns = hs.map((h) => spikeFunction(opts.surrogate, theta, opts.sigmoidSlope, h));
  // Constant-current input: the first layer's drive is the same every step.
  const drive0 = tf.matMul(x, params.weights[0]!).add(params.biases[0]!);
  let v: tf.Tensor[] = params.weights.map((w) => tf.zeros([batch, w.shape[1]!]));
  // Per hidden layer: spike count γ and the leak-weighted sum Σ_k leak^(T − t_k).
  let count: tf.Tensor[] = v.slice(0, hiddenCount).map((a) => tf.zerosLike(a));
  let recent: tf.Tensor[] = v.slice(0, hiddenCount).map((a) => tf.zerosLike(a));
  for (let t = 1; t <= opts.steps; t++) {
    let act: tf.Tensor | undefined;
    const nv: tf.Tensor[] = [];
    for (let l = 0; l < params.weights.length; l++) {
      const drive = l === 0 ? drive0 : tf.matMul(act as tf.Tensor2D, params.weights[l]!).add(params.biases[l]!);
      const pre = (leak !== 1 && l < hiddenCount ? v[l]!.mul(leak) : v[l]!).add(drive);
      if (l === hiddenCount) {
        nv.push(pre);
        break;
      }
      const s = spikeFns[l]!(pre);
      nv.push(pre.sub(s.mul(theta)));
      count[l] = count[l]!.add(s);
      recent[l] = (leak !== 1 ? recent[l]!.mul(leak) : recent[l]!).add(s);
      act = s;
    }
    v = nv;
  }
  if (opts.surrogate === "approx") {
    // d = (1/θ)(1 − Σ_k e^{(t_k − T)/τ} / (γτ)); e^{−1/τ} = leak, so e^{(t_k − T)/τ} = leak^(T − t_k).
    const tau = leak >= 1 ? Infinity : -1 / Math.log(leak);
    count.forEach((g, l) => {
      const corr = Number.isFinite(tau) ? recent[l]!.div(g.maximum(1).mul(tau)) : tf.zerosLike(g);
      // Kept: gradients are taken after the forward scope ends; the caller disposes it.
      hs[l]!.value = tf.keep(tf.where(g.greater(0), tf.scalar(1).sub(corr).div(theta), tf.zerosLike(g)));
    });
  }
  const spikes = count.reduce((acc, g) => acc.add(g.sum()), tf.scalar(0));
  return { logits: v[v.length - 1]! as tf.Tensor2D, spikes };
}

/** One-hot labels of images `order` of a set. */
function oneHot(set: ImageSet, order: ArrayLike<number>, classes: number): tf.Tensor2D {
  const y = new Float32Array(order.length * classes);
  for (let k = 0; k < order.length; k++) y[k * classes + set.labels[order[k]!]!] = 1;
  return tf.tensor2d(y, [order.length, classes]);
}

/** Fraction of `set` the SNN classifies correctly (membrane argmax after the window). */
export function snnAccuracy(
  params: SnnParams,
  set: ImageSet,
  opts: Pick<SnnTrainOptions, "steps" | "leakShift" | "surrogate" | "sigmoidSlope">,
  batch = 500,
): number {
  let correct = 0;
  for (let start = 0; start < set.count; start += batch) {
    const order = Array.from({ length: Math.min(batch, set.count - start) }, (_, k) => start + k);
    const pred = tf.tidy(() =>
      forwardSnn(params, imagesTensor(set, "mlp", order) as tf.Tensor2D, { ...opts, surrogate: "fast-sigmoid" })
        .logits.argMax(-1)
        .dataSync(),
    );
    for (let k = 0; k < order.length; k++) if (pred[k] === set.labels[order[k]!]) correct++;
  }
  return correct / set.count;
}

/** Result of direct training. */
export interface SnnTrainResult {
  readonly snn: FloatSnn;
  readonly history: EpochMetrics[];
  /** Float accuracy of the final network on the test split at the training window. */
  readonly testAccuracy: number;
  readonly seconds: number;
}

/** Checks options; CLI_USAGE for values out of range or a BPTT working set over the bound. */
export function checkSnnOptions(opts: SnnTrainOptions, inputs: number): void {
  const bad = (msg: string): never => fail("CLI_USAGE", msg);
  if (opts.hidden.length < 1 || opts.hidden.length > 8 || opts.hidden.some((h) => !Number.isInteger(h) || h < 1 || h > 4096))
    bad("hidden layers: 1..8 sizes, each 1..4096");
  if (!Number.isInteger(opts.steps) || opts.steps < 1 || opts.steps > 256) bad(`steps must be 1..256, got ${opts.steps}`);
  if (!Number.isInteger(opts.leakShift) || opts.leakShift < 0 || opts.leakShift > 16) bad(`leak shift must be 0..16, got ${opts.leakShift}`);
  if (!(opts.sigmoidSlope > 0 && opts.sigmoidSlope <= 1000)) bad(`sigmoid slope must be in (0, 1000], got ${opts.sigmoidSlope}`);
  if (!(opts.learningRate > 0 && opts.learningRate < 1)) bad(`learning rate must be in (0, 1), got ${opts.learningRate}`);
  const neurons = opts.hidden.reduce((a, b) => a + b, 0) + 10;
  const cells = opts.steps * opts.batchSize * neurons;
  if (cells > MAX_BPTT_CELLS)
    bad(`BPTT keeps steps × batch × neurons = ${cells} values per tensor kind, over the bound ${MAX_BPTT_CELLS}; lower --steps or --batch-size`);
  if (inputs * opts.hidden[0]! > 1 << 26) bad("first layer too large");
}

/** The float SNN form (spec/float-snn.md) of trained parameters. */
export function toFloatSnn(params: SnnParams, height: number, width: number, opts: Omit<SnnTrainOptions, "quiet">, source: string): FloatSnn {
  const leak = leakOfShift(opts.leakShift);
  const hiddenCount = params.weights.length - 1;
  const layers = params.weights.map((w, l) => {
    const [inputs, outputs] = w.shape as [number, number];
    const isReadout = l === hiddenCount;
    return {
      kind: "dense" as const,
      name: isReadout ? "readout" : `lif${l + 1}`,
      inputs,
      outputs,
      weights: w.dataSync() as Float32Array,
      bias: params.biases[l]!.dataSync() as Float32Array,
      neuron: isReadout
        ? { model: "integrator" as const, threshold: 1, leak: 1, reset: "subtract" as const, refractory: 0 }
        : { model: leak === 1 ? ("if" as const) : ("lif" as const), threshold: SNN_THRESHOLD, leak, reset: "subtract" as const, refractory: 0 },
    };
  });
  return {
    input: { shape: [1, height, width], encoding: "current", scale: 1 / 255 },
    layers,
    readout: "membrane",
    provenance: {
      source,
      tool: "picospike train --snn 0.1.0",
      settings: {
        method: "bptt",
        surrogate: opts.surrogate,
        ...(opts.surrogate === "fast-sigmoid" ? { sigmoidSlope: opts.sigmoidSlope } : {}),
        steps: opts.steps,
        leakShift: opts.leakShift,
        hidden: opts.hidden.join("-"),
        epochs: opts.epochs,
        batchSize: opts.batchSize,
        learningRate: opts.learningRate,
        maxShift: opts.maxShift,
        seed: opts.seed,
      },
    },
  };
}

/** Trains a LIF MLP on `train` by BPTT, reporting float accuracy on `test` after each epoch. */
export async function trainSnn(train: ImageSet, test: ImageSet, opts: SnnTrainOptions, source = "picospike train --snn"): Promise<SnnTrainResult> {
  if (train.count === 0) fail("TOOLCHAIN_TRAINING", "no training images");
  const inputs = train.height * train.width;
  checkSnnOptions(opts, inputs);
  const t0 = performance.now();
  const params = initParams([inputs, ...opts.hidden, 10], opts.seed, opts.steps);
  const vars = [...params.weights, ...params.biases];
  const optimizer = tf.train.adam(opts.learningRate);
  const rand = seededRandom(opts.seed);
  const batches = Math.ceil(train.count / opts.batchSize);
  const progress = trainingProgress(opts.epochs, batches, opts.quiet);
  let testAccuracy = 0;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      (optimizer as unknown as { learningRate: number }).learningRate =
        opts.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * epoch) / opts.epochs)));
      const order = Array.from({ length: train.count }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      progress.beginEpoch(epoch);
      for (let b = 0; b < batches; b++) {
        const part = order.slice(b * opts.batchSize, (b + 1) * opts.batchSize);
        const x = imagesTensor(train, "mlp", part, opts.maxShift, rand) as tf.Tensor2D;
        const y = oneHot(train, part, 10);
        const holders: Array<{ value?: tf.Tensor }> = opts.hidden.map(() => ({}));
        let accTensor: tf.Tensor | undefined;
        const { value, grads } = tf.variableGrads(() => {
          const f = forwardSnn(params, x, opts, holders);
          accTensor = tf.keep(f.logits.argMax(-1).equal(y.argMax(-1)).toFloat().mean());
          return tf.losses.softmaxCrossEntropy(y, f.logits) as tf.Scalar;
        }, vars);
        optimizer.applyGradients(grads as tf.NamedTensorMap as Parameters<typeof optimizer.applyGradients>[0]);
        const loss = value.dataSync()[0]!;
        const acc = accTensor!.dataSync()[0]!;
        tf.dispose([x, y, value, accTensor!, ...Object.values(grads)]);
        for (const h of holders) h.value?.dispose();
        if (!Number.isFinite(loss)) fail("TOOLCHAIN_TRAINING", `training diverged at epoch ${epoch + 1} (loss ${loss}); lower --lr`);
        await progress.callbacks.onBatchEnd!(b, { loss, acc });
      }
      testAccuracy = snnAccuracy(params, test, opts);
      progress.endEpoch(testAccuracy);
    }
  } finally {
    progress.stop();
  }
  const snn = toFloatSnn(params, train.height, train.width, opts, source);
  optimizer.dispose();
  tf.dispose(vars);
  return { snn, history: progress.history, testAccuracy, seconds: (performance.now() - t0) / 1000 };
}
