/**
 * TensorFlow.js setup for the toolchain: the wasm backend by default (tfjs-node only when it is
 * already installed), the gradient kernels the wasm backend lacks, and a training progress bar.
 *
 * Measured on this project's 2-core machine (tfjs 4.22, Node 20): the wasm backend runs with SIMD
 * but single-threaded in Node. tfjs turns multithreading off under Node (tfjs issue 3830), and
 * forcing WASM_HAS_MULTITHREAD_SUPPORT fails: emscripten starts its pthread workers from a
 * `blob:` URL that Node's worker_threads rejects (ERR_WORKER_PATH). So one core trains.
 */
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import cliProgress from "cli-progress";
import { createRequire } from "node:module";
import { dirname } from "node:path";

let readyBackend: string | undefined;

/** The tfjs namespace, re-exported so models/ code shares one instance. */
export { tf };

/**
 * Initialises tfjs once and returns the backend name: `tensorflow` when @tensorflow/tfjs-node is
 * installed and PICOSPIKE_TF_BACKEND does not say otherwise, else `wasm`. `cpu` is used only when
 * PICOSPIKE_TF_BACKEND=cpu (slow; for debugging kernels).
 */
export async function initTf(): Promise<string> {
  if (readyBackend !== undefined) return readyBackend;
  const wanted = process.env["PICOSPIKE_TF_BACKEND"];
  const require = createRequire(import.meta.url);
  if (wanted === undefined || wanted === "tensorflow") {
    try {
      // Optional dependency: present only when the user installed it; it registers itself.
      require.resolve("@tensorflow/tfjs-node");
      await import(/* @vite-ignore */ "@tensorflow/tfjs-node" as string);
      if (await tf.setBackend("tensorflow")) return (readyBackend = "tensorflow");
    } catch {
      // not installed: fall through to wasm
    }
  }
  if (wanted === "cpu") {
    await tf.setBackend("cpu");
    return (readyBackend = "cpu");
  }
  const wasmFile = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
  setWasmPaths(dirname(wasmFile) + "/");
  registerWasmGradientKernels();
  if (!(await tf.setBackend("wasm"))) throw new Error("tfjs wasm backend failed to initialise");
  await tf.ready();
  return (readyBackend = "wasm");
}

/**
 * Registers kernels the wasm backend lacks but training conv nets needs, built from ops it has.
 * Conv2DBackpropFilter (missing in tfjs-backend-wasm 4.22) is one forward convolution (the im2col
 * + matMul the backend already runs through XNNPACK): with the batch as the contraction axis,
 * dW[ky][kx][ci][co] = Σ_{n,oy,ox} xpad[n][oy·sy+ky][ox·sx+kx][ci] · dy[n][oy][ox][co] is
 * conv2d(xpad as [Ci, Hp, Wp, N], dy as filter [OH, OW, N, Co], dilation (sy, sx)) as
 * [Ci, kh', kw', Co], cropped to kh × kw and transposed. This is about 5× faster than slicing per
 * kernel tap.
 */
export function registerWasmGradientKernels(): void {
  if (tf.getKernel("Conv2DBackpropFilter", "wasm")) return;
  tf.registerKernel({
    kernelName: "Conv2DBackpropFilter",
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs, backend }) => {
      const xInfo = (inputs as Record<string, tf.TensorInfo>)["x"]!;
      const dyInfo = (inputs as Record<string, tf.TensorInfo>)["dy"]!;
      const a = attrs as unknown as {
        strides: [number, number] | number;
        pad: "valid" | "same" | number;
        dataFormat: "NHWC" | "NCHW";
        dimRoundingMode?: "floor" | "round" | "ceil";
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat !== undefined && a.dataFormat !== "NHWC") throw new Error("Conv2DBackpropFilter (wasm): only NHWC");
      const engine = tf.engine();
      const values = tf.tidy(() => {
        const x = engine.makeTensorFromTensorInfo(xInfo) as tf.Tensor4D;
        const dy = engine.makeTensorFromTensorInfo(dyInfo) as tf.Tensor4D;
        const info = tf.backend_util.computeConv2DInfo(x.shape, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, "channelsLast");
        const { padInfo, strideHeight: sy, strideWidth: sx } = info;
        const [kh, kw, cin, cout] = a.filterShape;
        const xp = tf.pad(x, [
          [0, 0],
          [padInfo.top, Math.max(0, padInfo.bottom)],
          [padInfo.left, Math.max(0, padInfo.right)],
          [0, 0],
        ]);
        const xt = xp.transpose([3, 1, 2, 0]) as tf.Tensor4D; // [Ci, Hp, Wp, N]
        const dyf = dy.transpose([1, 2, 0, 3]) as tf.Tensor4D; // [OH, OW, N, Co]
        const full = tf.conv2d(xt, dyf, 1, "valid", "NHWC", [sy, sx]); // [Ci, Hp − sy(OH−1), Wp − sx(OW−1), Co]
        return full.slice([0, 0, 0, 0], [cin, kh, kw, cout]).transpose([1, 2, 0, 3]).dataSync() as Float32Array;
      });
      // The wasm backend's own allocator: the result lives in its heap like any kernel output.
      return (backend as unknown as { makeOutput(shape: number[], dtype: string, offset?: number, values?: Float32Array): tf.TensorInfo }).makeOutput(
        a.filterShape,
        "float32",
        undefined,
        values,
      );
    },
  });
}

/** Per-epoch metrics shown by the progress bar and returned by training. */
export interface EpochMetrics {
  readonly epoch: number;
  readonly loss: number;
  readonly acc: number;
  /** Accuracy on the held-out split, when measured. */
  readonly testAcc?: number;
}

/** A training progress display: one bar over all batches of all epochs. */
export interface TrainingProgress {
  /** Callbacks to pass to one `fit` call covering one epoch. */
  readonly callbacks: tf.CustomCallbackArgs;
  /** Starts epoch `epoch` (0-based); resets the running loss and accuracy. */
  beginEpoch(epoch: number): void;
  /** Ends the current epoch with its final metrics (shown, and kept in history). */
  endEpoch(testAcc?: number): EpochMetrics;
  stop(): void;
  readonly history: EpochMetrics[];
}

/**
 * A cli-progress bar on stderr over all batches, showing the current epoch's running loss and
 * accuracy and the last held-out accuracy. `quiet` disables drawing but still keeps history.
 */
export function trainingProgress(epochs: number, batchesPerEpoch: number, quiet: boolean): TrainingProgress {
  const history: EpochMetrics[] = [];
  const bar = new cliProgress.SingleBar(
    {
      format: "epoch {epoch}/{epochs} [{bar}] {percentage}% | loss {loss} | acc {acc} | test {test} | {duration_formatted}",
      stream: process.stderr,
      hideCursor: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let epoch = 0;
  let lossSum = 0;
  let accSum = 0;
  let count = 0;
  if (!quiet) bar.start(epochs * batchesPerEpoch, 0, { epoch: 1, epochs, loss: "-", acc: "-", test: "-" });
  return {
    history,
    beginEpoch: (e) => {
      epoch = e;
      lossSum = 0;
      accSum = 0;
      count = 0;
    },
    endEpoch: (testAcc) => {
      const m: EpochMetrics =
        testAcc === undefined
          ? { epoch, loss: lossSum / Math.max(1, count), acc: accSum / Math.max(1, count) }
          : { epoch, loss: lossSum / Math.max(1, count), acc: accSum / Math.max(1, count), testAcc };
      history.push(m);
      if (!quiet) bar.update({ test: testAcc === undefined ? "-" : testAcc.toFixed(4) });
      // Without a terminal the bar does not draw: one line per epoch instead.
      if (!quiet && !process.stderr.isTTY) {
        process.stderr.write(
          `epoch ${epoch + 1}/${epochs} loss ${m.loss.toFixed(4)} acc ${m.acc.toFixed(4)}${testAcc === undefined ? "" : ` test ${testAcc.toFixed(4)}`}\n`,
        );
      }
      return m;
    },
    stop: () => {
      if (!quiet) bar.stop();
    },
    callbacks: {
      onBatchEnd: async (_b, logs) => {
        lossSum += logs?.["loss"] ?? 0;
        accSum += logs?.["acc"] ?? 0;
        count++;
        if (!quiet) bar.increment(1, { epoch: epoch + 1, loss: (lossSum / count).toFixed(4), acc: (accSum / count).toFixed(4) });
      },
    },
  };
}
