import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPicospikeError } from "../runtime/errors.js";
import { Interpreter, encodeSample } from "../runtime/interpreter.js";
import { disposePrepared, prepareLayers, readFloatSnn, simulateFloat, writeFloatSnn } from "./float-snn.js";
import { quantizeSnn } from "./quantize.js";
import {
  SNN_TRAIN_DEFAULTS,
  approxDerivative,
  checkSnnOptions,
  fastSigmoidDerivative,
  forwardSnn,
  leakOfShift,
  spikeFunction,
  toFloatSnn,
  type SnnParams,
  type Surrogate,
} from "./snn-train.js";
import { initTf, tf } from "./tf.js";

beforeAll(async () => {
  await initTf();
});

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isPicospikeError(e) ? e.code : `non-picospike: ${String(e)}`;
  }
  return undefined;
}

/** Deterministic pseudo-random numbers in [−1, 1). */
function numbers(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

describe("approximate derivative (Lee et al. 2020)", () => {
  it("is 1/θ for IF, 0 for a silent neuron, and shrinks by the leak correction", () => {
    expect(approxDerivative([3, 7], 10, 1, 2)).toBe(0.5);
    expect(approxDerivative([], 10, 0.9, 1)).toBe(0);
    // leak 1/2: τ = 1/ln 2. One spike at the last step: (1/θ)(1 − e^0/τ) = 1 − ln 2.
    expect(approxDerivative([4], 4, 0.5, 1)).toBeCloseTo(1 - Math.LN2, 12);
    // Spikes at steps 2 and 4 of 4: Σ e^{(t_k − T)/τ} = 1/4 + 1 → 1 − 1.25·ln2/2; θ = 2 halves it.
    expect(approxDerivative([2, 4], 4, 0.5, 1)).toBeCloseTo(1 - (1.25 * Math.LN2) / 2, 12);
    expect(approxDerivative([2, 4], 4, 0.5, 2)).toBeCloseTo((1 - (1.25 * Math.LN2) / 2) / 2, 12);
  });

  it("fast sigmoid is 1/θ at threshold and 1/(θ(1+β)²) one threshold away", () => {
    expect(fastSigmoidDerivative(1, 1, 5)).toBe(1);
    expect(fastSigmoidDerivative(4, 2, 5)).toBeCloseTo(1 / (2 * 36), 12);
    expect(fastSigmoidDerivative(0, 2, 5)).toBeCloseTo(1 / (2 * 36), 12);
  });

  it("leak of shift k is 1 − 2^−k, 1 for k = 0", () => {
    expect(leakOfShift(0)).toBe(1);
    expect(leakOfShift(4)).toBe(0.9375);
  });
});

describe("spike function", () => {
  it("fires at v ≥ θ and passes dy times the surrogate derivative back", () => {
    const v = tf.tensor1d([0.2, 1, 1.5, -3]);
    const dy = tf.tensor1d([1, 2, -1, 0.5]);
    const fast = spikeFunction("fast-sigmoid", 1, 5, {});
    expect(Array.from(fast(v).dataSync())).toEqual([0, 1, 1, 0]);
    const g = tf
      .grad((x: tf.Tensor) => fast(x).mul(dy).sum())(v)
      .dataSync();
    [0.2, 1, 1.5, -3].forEach((x, i) => expect(g[i]).toBeCloseTo([1, 2, -1, 0.5][i]! * fastSigmoidDerivative(x, 1, 5), 6));
    const holder: { value?: tf.Tensor } = {};
    const approx = spikeFunction("approx", 1, 5, holder);
    holder.value = tf.tensor1d([0.5, 0.25, 0, 1]);
    const ga = tf
      .grad((x: tf.Tensor) => approx(x).mul(dy).sum())(v)
      .dataSync();
    expect(Array.from(ga)).toEqual([0.5, 0.5, -0, 0.5]);
  });
});

// A tiny network: 3 inputs, 4 LIF (leak 3/4), 2 readout, T = 6, batch 2.
const STEPS = 6;
const LEAK_SHIFT = 2;
const SIZES = [3, 4, 2];
const W0 = numbers(12, 7).map((x) => 1.5 * x);
const B0 = numbers(4, 8).map((x) => 0.3 * x + 0.2);
const W1 = numbers(8, 9);
const B1 = numbers(2, 10).map((x) => 0.1 * x);
const X = [
  [0.9, 0.4, 0.7],
  [0.2, 1, 0.5],
];
const LABELS = [1, 0];

interface RefParams {
  w0: number[];
  b0: number[];
  w1: number[];
  b1: number[];
}

/**
 * Reference in float64: runs the hard forward and returns its pre-spike membranes, spikes and the
 * approx derivative; with `frozen` it runs the surrogate-linearised forward around that run
 * (s = s* + S̃(v) − S̃(v*)), whose exact gradient is what BPTT with the surrogate computes.
 */
interface RefRun {
  loss: number;
  vpre: number[][][];
  spikes: number[][][];
  deriv: number[][];
}

function reference(p: RefParams, surrogate: Surrogate, frozen?: RefRun): RefRun {
  const leak = leakOfShift(LEAK_SHIFT);
  const [, nH, nOut] = SIZES as [number, number, number];
  const sTilde = (v: number, d: number) => (surrogate === "approx" ? d * v : (v - 1) / (1 + 5 * Math.abs(v - 1)));
  let loss = 0;
  const vpreAll: number[][][] = [];
  const spikesAll: number[][][] = [];
  const derivAll: number[][] = [];
  X.forEach((x, b) => {
    const v = new Array<number>(nH).fill(0);
    const out = new Array<number>(nOut).fill(0);
    const vpres: number[][] = [];
    const spikes: number[][] = [];
    for (let t = 0; t < STEPS; t++) {
      const pre = v.map((vi, j) => leak * vi + p.b0[j]! + x.reduce((acc, xi, i) => acc + xi * p.w0[i * nH + j]!, 0));
      const s = pre.map((u, j) => {
        const hard = u >= 1 ? 1 : 0;
        if (!frozen) return hard;
        const u0 = frozen.vpre[b]![t]![j]!;
        const d = frozen.deriv[b]![j]!;
        return frozen.spikes[b]![t]![j]! + sTilde(u, d) - sTilde(u0, d);
      });
      for (let j = 0; j < nH; j++) v[j] = pre[j]! - s[j]!;
      for (let k = 0; k < nOut; k++) out[k] = out[k]! + p.b1[k]! + s.reduce((acc, sj, j) => acc + sj * p.w1[j * nOut + k]!, 0);
      vpres.push(pre);
      spikes.push(s);
    }
    const m = Math.max(...out);
    const lse = m + Math.log(out.reduce((acc, o) => acc + Math.exp(o - m), 0));
    loss += (lse - out[LABELS[b]!]!) / X.length;
    vpreAll.push(vpres);
    spikesAll.push(spikes);
    derivAll.push(
      Array.from({ length: nH }, (_, j) => {
        const steps = spikes.flatMap((s, t) => (s[j]! >= 0.5 ? [t + 1] : []));
        return approxDerivative(steps, STEPS, leak, 1);
      }),
    );
  });
  return { loss, vpre: vpreAll, spikes: spikesAll, deriv: derivAll };
}

function tfParams(p: RefParams): SnnParams {
  return {
    weights: [tf.variable(tf.tensor2d(p.w0, [3, 4])), tf.variable(tf.tensor2d(p.w1, [4, 2]))],
    biases: [tf.variable(tf.tensor1d(p.b0)), tf.variable(tf.tensor1d(p.b1))],
  };
}

describe("BPTT gradients", () => {
  for (const surrogate of ["approx", "fast-sigmoid"] as const) {
    it(`match finite differences of the ${surrogate}-linearised forward on a tiny LIF network`, () => {
      const base: RefParams = { w0: W0, b0: B0, w1: W1, b1: B1 };
      const hard = reference(base, surrogate);
      const firing = hard.spikes.flat(2).reduce((a, b) => a + b, 0);
      expect(firing).toBeGreaterThan(5); // the test exercises spikes
      expect(firing).toBeLessThan(X.length * STEPS * 4);
      const params = tfParams(base);
      const holders: Array<{ value?: tf.Tensor }> = [{}];
      const y = tf.oneHot(tf.tensor1d(LABELS, "int32"), 2).toFloat();
      const { value, grads } = tf.variableGrads(() => {
        const f = forwardSnn(params, tf.tensor2d(X), { steps: STEPS, leakShift: LEAK_SHIFT, surrogate, sigmoidSlope: 5 }, holders);
        return tf.losses.softmaxCrossEntropy(y, f.logits) as tf.Scalar;
      }, [...params.weights, ...params.biases]);
      expect(value.dataSync()[0]).toBeCloseTo(hard.loss, 5);
      const names = [params.weights[0]!.name, params.biases[0]!.name, params.weights[1]!.name, params.biases[1]!.name];
      const keys: Array<keyof RefParams> = ["w0", "b0", "w1", "b1"];
      const h = 1e-5;
      keys.forEach((key, ki) => {
        const g = grads[names[ki]!]!.dataSync();
        base[key].forEach((_, i) => {
          const plus = { ...base, [key]: base[key].map((x, j) => (j === i ? x + h : x)) };
          const minus = { ...base, [key]: base[key].map((x, j) => (j === i ? x - h : x)) };
          const fd = (reference(plus, surrogate, hard).loss - reference(minus, surrogate, hard).loss) / (2 * h);
          expect(Math.abs(g[i]! - fd)).toBeLessThan(1e-4 + 1e-3 * Math.abs(fd));
        });
      });
      tf.dispose([value, y, ...Object.values(grads), ...params.weights, ...params.biases]);
      holders[0]!.value?.dispose();
    });
  }

  it("with IF neurons and the approx surrogate, one step's input moves the spike count by exactly 1/θ", () => {
    // The subtractive reset in the graph cancels the pass-through on the membrane (1 − θ·(1/θ) = 0).
    const x = tf.tensor2d([[0.9, 0.4, 0.7]]);
    const params = tfParams({ w0: W0, b0: B0, w1: [1, 0, 1, 0, 1, 0, 1, 0], b1: [0, 0] });
    const holders: Array<{ value?: tf.Tensor }> = [{}];
    const g = tf
      .grad((b: tf.Tensor) => {
        const p: SnnParams = { weights: params.weights, biases: [b as tf.Variable, params.biases[1]!] };
        return forwardSnn(p, x, { steps: STEPS, leakShift: 0, surrogate: "approx", sigmoidSlope: 5 }, holders).logits.slice([0, 0], [1, 1]).sum();
      })(params.biases[0]!)
      .dataSync();
    // d(total spikes)/d(bias) = T steps × 1/θ for firing neurons, 0 for silent ones.
    const d = holders[0]!.value!.dataSync();
    Array.from(g).forEach((gi, j) => expect(gi).toBeCloseTo(d[j]! > 0 ? STEPS : 0, 4));
    holders[0]!.value!.dispose();
    tf.dispose([x, ...params.weights, ...params.biases]);
  });
});

describe("float SNN output", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "snn-train-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("runs the same dynamics as the float SNN simulator, round-trips, quantizes to lif-shift and evaluates", () => {
    const h = 16;
    const weights = tf.tidy(() => tf.randomNormal([64, h], 0.02, 0.25, "float32", 3));
    const readout = tf.tidy(() => tf.randomNormal([h, 10], 0, 0.3, "float32", 4));
    const params: SnnParams = {
      weights: [tf.variable(weights), tf.variable(readout)],
      biases: [tf.variable(tf.fill([h], 0.05)), tf.variable(tf.zeros([10]))],
    };
    const opts = { ...SNN_TRAIN_DEFAULTS, hidden: [h], steps: 12 };
    const snn = toFloatSnn(params, 8, 8, opts, "test");
    const path = join(dir, "snn.json");
    writeFloatSnn(path, snn, (p, d) => writeFileSync(p, d));
    const back = readFloatSnn(path);
    expect(back.layers.map((l) => l.neuron.model)).toEqual(["lif", "integrator"]);
    expect(back.layers[0]!.neuron.leak).toBe(0.9375);
    expect(back.provenance.settings["surrogate"]).toBe("approx");

    const count = 40;
    const pixels = Uint8Array.from(numbers(count * 64, 5), (x) => Math.floor((x + 1) * 128));
    const x = tf.tensor2d(
      Float32Array.from(pixels, (p) => p / 255),
      [count, 64],
    );
    const ours = forwardSnn(params, x, { ...opts, surrogate: "fast-sigmoid" })
      .logits.argMax(-1)
      .dataSync();
    const prepared = prepareLayers(back);
    const sim = simulateFloat(back, prepared, pixels, count, [opts.steps]);
    disposePrepared(prepared);
    expect(Array.from(sim.predictions[0]!)).toEqual(Array.from(ours));
    expect(new Set(ours).size).toBeGreaterThan(1);

    const q = quantizeSnn(back, { weightBits: 8, perChannel: false, seed: 1, source: path });
    expect(q.table.layers[0]!.neuron.model).toBe("lif-shift");
    expect(q.table.layers[0]!.neuron.leakShift).toBe(4);
    expect(q.table.layers[1]!.neuron.model).toBe("integrator");
    expect(q.table.input.encoding).toBe("current");
    // The int8 table runs on the interpreter and mostly agrees with the float decision.
    const interp = new Interpreter(q.table);
    let agree = 0;
    for (let i = 0; i < count; i++) {
      interp.reset();
      for (const ev of encodeSample(q.table.input, pixels.subarray(i * 64, (i + 1) * 64), opts.steps)) interp.step(ev);
      if (interp.readoutClass() === ours[i]) agree++;
    }
    expect(agree).toBeGreaterThanOrEqual(count * 0.8);
    tf.dispose([x, ...params.weights, ...params.biases]);
  });
});

describe("options", () => {
  it("rejects out-of-range settings and unbounded BPTT memory with CLI_USAGE", () => {
    const ok = { ...SNN_TRAIN_DEFAULTS, quiet: true };
    expect(code(() => checkSnnOptions(ok, 784))).toBeUndefined();
    expect(code(() => checkSnnOptions({ ...ok, steps: 0 }, 784))).toBe("CLI_USAGE");
    expect(code(() => checkSnnOptions({ ...ok, hidden: [] }, 784))).toBe("CLI_USAGE");
    expect(code(() => checkSnnOptions({ ...ok, leakShift: 17 }, 784))).toBe("CLI_USAGE");
    expect(code(() => checkSnnOptions({ ...ok, steps: 256, batchSize: 4096, hidden: [4096] }, 784))).toBe("CLI_USAGE");
  });
});
