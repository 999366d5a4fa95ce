import { describe, expect, it } from "vitest";
import { initTf, tf } from "./tf.js";

describe("wasm Conv2DBackpropFilter", () => {
  it("matches the CPU backend's filter gradient (strides, padding, kernel sizes)", async () => {
    expect(await initTf()).toBe("wasm");
    const cases = [
      [1, "same", 3, 7],
      [2, "valid", 3, 7],
      [2, "same", 5, 8],
      [3, "valid", 2, 9],
    ] as const;
    for (const [stride, pad, k, hw] of cases) {
      const x = tf.randomNormal([2, hw, hw, 3], 0, 1, "float32", 11);
      const w = tf.randomNormal([k, k, 3, 4], 0, 1, "float32", 12);
      const loss = (ww: tf.Tensor) =>
        tf
          .conv2d(x as tf.Tensor4D, ww as tf.Tensor4D, stride, pad)
          .square()
          .sum();
      const wasm = tf.grad(loss)(w).dataSync();
      await tf.setBackend("cpu");
      const xc = tf.tensor(x.dataSync(), x.shape);
      const wc = tf.tensor(w.dataSync(), w.shape);
      const cpu = tf
        .grad((ww: tf.Tensor) =>
          tf
            .conv2d(xc as tf.Tensor4D, ww as tf.Tensor4D, stride, pad)
            .square()
            .sum(),
        )(wc)
        .dataSync();
      await tf.setBackend("wasm");
      let maxDiff = 0;
      let maxMag = 0;
      for (let i = 0; i < cpu.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(wasm[i]! - cpu[i]!));
        maxMag = Math.max(maxMag, Math.abs(cpu[i]!));
      }
      expect(maxDiff / maxMag).toBeLessThan(1e-5);
    }
  });
});
