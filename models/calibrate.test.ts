import { beforeAll, describe, expect, it } from "vitest";
import { calibrateSnn } from "./calibrate.js";
import { seededRandom } from "../runtime/datasets.js";
import type { FloatConv2d, FloatDense, FloatPool, FloatSnn } from "./float-snn.js";
import { initTf } from "./tf.js";
import { codeOf } from "../runtime/testing/error-code.js";

beforeAll(async () => {
  await initTf();
});

const IF = { model: "if", threshold: 1, leak: 1, reset: "subtract", refractory: 0 } as const;
const READOUT = { model: "integrator", threshold: 1, leak: 1, reset: "subtract", refractory: 0 } as const;

/** A converted-style MLP: `inputs` → `hidden` IF (threshold 1) → `outputs` integrator, seeded weights in a range that keeps rates below 1. */
function syntheticMlp(seed: number, inputs = 16, hidden = 12, outputs = 4): FloatSnn {
  const rand = seededRandom(seed);
  const w = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 0.6) * s);
  const h: FloatDense = { kind: "dense", name: "h", inputs, outputs: hidden, weights: w(inputs * hidden, 0.12), bias: w(hidden, 0.05), neuron: { ...IF } };
  const o: FloatDense = { kind: "dense", name: "o", inputs: hidden, outputs, weights: w(hidden * outputs, 0.5), neuron: { ...READOUT } };
  return {
    input: { shape: [1, 1, inputs], encoding: "current", scale: 1 / 255 },
    layers: [h, o],
    readout: "membrane",
    provenance: { source: "synthetic", tool: "test", settings: {} },
  };
}

function images(seed: number, count: number, size: number): Uint8Array {
  const rand = seededRandom(seed);
  return Uint8Array.from({ length: count * size }, () => Math.floor(rand() * 256));
}

/** Sum over images and hidden neurons of the ANN's clipped activation (the original network). */
function annSum(snn: FloatSnn, imgs: Uint8Array, count: number): number[] {
  const h = snn.layers[0] as FloatDense;
  const out: number[] = [];
  for (let b = 0; b < count; b++)
    for (let j = 0; j < h.outputs; j++) {
      let z = h.bias?.[j] ?? 0;
      for (let i = 0; i < h.inputs; i++) z += h.weights[i * h.outputs + j]! * imgs[b * h.inputs + i]! * snn.input.scale;
      out.push(Math.min(1, Math.max(0, z)));
    }
  return out;
}

/** Plain-JS reference, independent of tfjs: mean per-image-and-neuron |ANN − SNN rate| of the hidden layer (IF: v ← v + Wx + b, spike at v ≥ 1, v ← v − 1), the SNN's rates from `calibrated`, the ANN's from `original`. */
function perNeuronError(original: FloatSnn, calibrated: FloatSnn, imgs: Uint8Array, count: number, steps: number): number {
  const target = annSum(original, imgs, count);
  const h = calibrated.layers[0] as FloatDense;
  let err = 0;
  let k = 0;
  for (let b = 0; b < count; b++)
    for (let j = 0; j < h.outputs; j++) {
      let z = h.bias?.[j] ?? 0;
      for (let i = 0; i < h.inputs; i++) z += h.weights[i * h.outputs + j]! * imgs[b * h.inputs + i]! * calibrated.input.scale;
      let v = 0;
      let n = 0;
      for (let t = 0; t < steps; t++) {
        v += z;
        if (v >= 1) {
          v -= 1;
          n++;
        }
      }
      err += Math.abs(target[k++]! - n / steps);
    }
  return err / k;
}

describe("calibration of a converted SNN for short runs", () => {
  const snn = syntheticMlp(7);
  const imgs = images(3, 64, 16);

  it("shift adds θ/(2T) to every hidden bias, leaves the readout and the input network alone", () => {
    const before = Float32Array.from((snn.layers[0] as FloatDense).bias!);
    const { snn: out } = calibrateSnn(snn, imgs, 0, { method: "shift", steps: 4 });
    const h = out.layers[0] as FloatDense;
    h.bias!.forEach((b, j) => expect(b).toBeCloseTo(before[j]! + 1 / 8, 6));
    expect(out.layers[1]!.bias).toBeUndefined();
    expect(Array.from((snn.layers[0] as FloatDense).bias!)).toEqual(Array.from(before));
    expect(out.provenance.settings).toMatchObject({ calibrate: "shift", calibrateSteps: 4 });
  });

  it("brings the hidden rates closer to the ANN's activations at T = 4 and 8 (independent plain-JS check)", () => {
    for (const T of [4, 8]) {
      const plain = perNeuronError(snn, snn, imgs, 64, T);
      const shifted = perNeuronError(snn, calibrateSnn(snn, imgs, 0, { method: "shift", steps: T }).snn, imgs, 64, T);
      const biased = perNeuronError(snn, calibrateSnn(snn, imgs, 64, { method: "bias", steps: T }).snn, imgs, 64, T);
      expect(shifted).toBeLessThan(plain);
      expect(biased).toBeLessThan(plain);
    }
  });

  it("bias calibration shrinks every layer's channel-mean error, and is deterministic", () => {
    const a = calibrateSnn(snn, imgs, 64, { method: "bias", steps: 4 });
    const b = calibrateSnn(snn, imgs, 64, { method: "bias", steps: 4 });
    expect(a.report.meanErrorBefore).toHaveLength(2);
    a.report.meanErrorAfter.forEach((e, i) => expect(e).toBeLessThan(a.report.meanErrorBefore[i]!));
    expect(Array.from((a.snn.layers[0] as FloatDense).bias!)).toEqual(Array.from((b.snn.layers[0] as FloatDense).bias!));
    expect(Array.from(a.snn.layers[1]!.bias!)).toEqual(Array.from(b.snn.layers[1]!.bias!));
  });

  it("calibrates a small CNN with spiking pooling per channel", () => {
    const rand = seededRandom(11);
    const w = (n: number, s: number) => Float32Array.from({ length: n }, () => (rand() * 2 - 0.5) * s);
    const conv: FloatConv2d = {
      kind: "conv2d",
      name: "c",
      inShape: [1, 6, 6],
      outShape: [2, 4, 4],
      kernel: [3, 3],
      stride: [1, 1],
      padding: [0, 0],
      weights: w(18, 0.3),
      neuron: { ...IF },
    };
    const pool: FloatPool = {
      kind: "pool",
      name: "p",
      inShape: [2, 4, 4],
      outShape: [2, 2, 2],
      kernel: [2, 2],
      stride: [2, 2],
      weight: 0.25,
      neuron: { ...IF },
    };
    const fc: FloatDense = { kind: "dense", name: "d", inputs: 8, outputs: 3, weights: w(24, 1), neuron: { ...READOUT } };
    const cnn: FloatSnn = {
      input: { shape: [1, 6, 6], encoding: "current", scale: 1 / 255 },
      layers: [conv, pool, fc],
      readout: "membrane",
      provenance: { source: "synthetic", tool: "test", settings: {} },
    };
    const r = calibrateSnn(cnn, images(5, 48, 36), 48, { method: "bias", steps: 4 });
    expect(r.snn.layers.map((l) => l.bias?.length)).toEqual([2, 2, 3]);
    expect(r.report.meanErrorAfter.reduce((a, b) => a + b)).toBeLessThan(r.report.meanErrorBefore.reduce((a, b) => a + b));
  });

  it("none returns the network unchanged", () => {
    expect(calibrateSnn(snn, imgs, 0, { method: "none", steps: 8 }).snn).toBe(snn);
  });

  it("refuses what it cannot calibrate with TOOLCHAIN_CALIBRATION", () => {
    const lif: FloatSnn = { ...snn, layers: [{ ...snn.layers[0]!, neuron: { ...IF, model: "lif", leak: 0.9 } }, snn.layers[1]!] };
    expect(codeOf(() => calibrateSnn(lif, imgs, 64, { method: "shift", steps: 8 }))).toBe("TOOLCHAIN_CALIBRATION");
    const zero: FloatSnn = { ...snn, layers: [{ ...snn.layers[0]!, neuron: { ...IF, reset: "zero" } }, snn.layers[1]!] };
    expect(codeOf(() => calibrateSnn(zero, imgs, 64, { method: "bias", steps: 8 }))).toBe("TOOLCHAIN_CALIBRATION");
    expect(codeOf(() => calibrateSnn(snn, imgs, 0, { method: "bias", steps: 8 }))).toBe("TOOLCHAIN_CALIBRATION");
    expect(codeOf(() => calibrateSnn(snn, imgs, 64, { method: "shift", steps: 0 }))).toBe("TOOLCHAIN_CALIBRATION");
    expect(codeOf(() => calibrateSnn(snn, imgs, 64, { method: "bogus" as never, steps: 8 }))).toBe("TOOLCHAIN_CALIBRATION");
  });
});
