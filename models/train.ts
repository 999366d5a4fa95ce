/**
 * ANN training recipes (tfjs-layers): the MLP 784-256-10 and a small CNN with average pooling,
 * both built only from layers the converter turns into spiking form (Dense, Conv2D, ReLU,
 * AveragePooling2D, Flatten, Dropout; softmax output). Training augments with small random
 * shifts, since 8,000 digits are few.
 */
import { tf } from "./tf.js";
import { trainingProgress, type EpochMetrics } from "./tf.js";
import { seededRandom, type ImageSet } from "../runtime/datasets.js";
import { fail } from "../runtime/errors.js";

/** Architectures `picospike train --arch` knows. */
export type Arch = "mlp" | "cnn";

/** Options of one training run. */
export interface TrainOptions {
  readonly arch: Arch;
  readonly epochs: number;
  readonly batchSize: number;
  /** Initial Adam learning rate; decays by cosine to 5% over the run. */
  readonly learningRate: number;
  /** Largest random shift in pixels applied to each training image per epoch (0 = none). */
  readonly maxShift: number;
  readonly seed: number;
  readonly quiet: boolean;
}

/** Defaults per architecture, chosen to reach the accuracy targets on the embedded split. */
export const TRAIN_DEFAULTS: Record<Arch, Omit<TrainOptions, "arch" | "quiet">> = {
  mlp: { epochs: 30, batchSize: 64, learningRate: 1e-3, maxShift: 2, seed: 1 },
  cnn: { epochs: 15, batchSize: 64, learningRate: 2e-3, maxShift: 2, seed: 1 },
};

/** Result of training. */
export interface TrainResult {
  readonly model: tf.LayersModel;
  readonly history: EpochMetrics[];
  /** Accuracy of the final model on the test split. */
  readonly testAccuracy: number;
  readonly seconds: number;
}

/** Builds the untrained model of an architecture for h×w single-channel images. */
export function buildModel(arch: Arch, height: number, width: number, seed: number): tf.Sequential {
  const init = (k: number) => tf.initializers.heNormal({ seed: seed * 100 + k });
  const model = tf.sequential({ name: `picospike_${arch}` });
  if (arch === "mlp") {
    model.add(tf.layers.dense({ inputShape: [height * width], units: 256, activation: "relu", kernelInitializer: init(1), name: "fc1" }));
    model.add(tf.layers.dropout({ rate: 0.2, name: "drop1" }));
    model.add(tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(2), name: "fc2" }));
  } else {
    model.add(tf.layers.conv2d({ inputShape: [height, width, 1], filters: 16, kernelSize: 5, activation: "relu", kernelInitializer: init(1), name: "conv1" }));
    model.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: "pool1" }));
    model.add(tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: "relu", kernelInitializer: init(2), name: "conv2" }));
    model.add(tf.layers.averagePooling2d({ poolSize: 2, strides: 2, name: "pool2" }));
    model.add(tf.layers.flatten({ name: "flatten" }));
    model.add(tf.layers.dropout({ rate: 0.3, name: "drop1" }));
    model.add(tf.layers.dense({ units: 10, activation: "softmax", kernelInitializer: init(3), name: "fc" }));
  }
  return model;
}

/**
 * Images as a float tensor in [0, 1]: [n, h*w] for the MLP, [n, h, w, 1] for the CNN. With
 * maxShift > 0 each image is moved by a random whole-pixel offset in ±maxShift (zero fill).
 */
export function imagesTensor(set: ImageSet, arch: Arch, order: ArrayLike<number>, maxShift = 0, rand?: () => number): tf.Tensor {
  const { height: h, width: w } = set;
  const n = order.length;
  const out = new Float32Array(n * h * w);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const dy = maxShift > 0 && rand ? Math.floor(rand() * (2 * maxShift + 1)) - maxShift : 0;
    const dx = maxShift > 0 && rand ? Math.floor(rand() * (2 * maxShift + 1)) - maxShift : 0;
    const src = i * h * w;
    const dst = k * h * w;
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= w) continue;
        out[dst + y * w + x] = set.pixels[src + sy * w + sx]! / 255;
      }
    }
  }
  return arch === "mlp" ? tf.tensor2d(out, [n, h * w]) : tf.tensor4d(out, [n, h, w, 1]);
}

/** One-hot labels [n, 10]. */
function labelsTensor(set: ImageSet, order: ArrayLike<number>): tf.Tensor2D {
  const y = new Float32Array(order.length * 10);
  for (let k = 0; k < order.length; k++) y[k * 10 + set.labels[order[k]!]!] = 1;
  return tf.tensor2d(y, [order.length, 10]);
}

/** Fraction of images a model classifies correctly (batched, no gradient). */
export function accuracy(model: tf.LayersModel, set: ImageSet, arch: Arch, batch = 500): number {
  let correct = 0;
  for (let start = 0; start < set.count; start += batch) {
    const order = Array.from({ length: Math.min(batch, set.count - start) }, (_, k) => start + k);
    const pred = tf.tidy(() => (model.predict(imagesTensor(set, arch, order)) as tf.Tensor).argMax(-1).dataSync());
    for (let k = 0; k < order.length; k++) if (pred[k] === set.labels[order[k]!]) correct++;
  }
  return correct / set.count;
}

/** Trains an architecture on `train`, reporting accuracy on `test` after each epoch. */
export async function trainAnn(train: ImageSet, test: ImageSet, opts: TrainOptions): Promise<TrainResult> {
  if (train.count === 0) fail("TOOLCHAIN_TRAINING", "no training images");
  const t0 = performance.now();
  const model = buildModel(opts.arch, train.height, train.width, opts.seed);
  const optimizer = tf.train.adam(opts.learningRate);
  model.compile({ optimizer, loss: "categoricalCrossentropy", metrics: ["acc"] });
  const rand = seededRandom(opts.seed);
  const batches = Math.ceil(train.count / opts.batchSize);
  const progress = trainingProgress(opts.epochs, batches, opts.quiet);
  let testAccuracy = 0;
  try {
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      // Cosine decay to 5% of the initial rate: late epochs refine instead of bouncing.
      const lr = opts.learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos((Math.PI * epoch) / opts.epochs)));
      (optimizer as unknown as { learningRate: number }).learningRate = lr;
      const order = Array.from({ length: train.count }, (_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const x = imagesTensor(train, opts.arch, order, opts.maxShift, rand);
      const y = labelsTensor(train, order);
      progress.beginEpoch(epoch);
      const h = await model.fit(x, y, { epochs: 1, batchSize: opts.batchSize, shuffle: false, verbose: 0, callbacks: progress.callbacks });
      x.dispose();
      y.dispose();
      const loss = h.history["loss"]?.[0];
      if (typeof loss !== "number" || !Number.isFinite(loss))
        fail("TOOLCHAIN_TRAINING", `training diverged at epoch ${epoch + 1} (loss ${String(loss)}); lower --lr`);
      testAccuracy = accuracy(model, test, opts.arch);
      progress.endEpoch(testAccuracy);
    }
  } finally {
    progress.stop();
  }
  return { model, history: progress.history, testAccuracy, seconds: (performance.now() - t0) / 1000 };
}
