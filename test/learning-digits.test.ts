import { describe, expect, it } from "vitest";
import { embeddedMnist } from "../firmware-host/sources/datasets.js";
import { slice } from "../runtime/datasets.js";
import { validateFloatSnn } from "../models/float-snn.js";
import { Rng, meanCi95 } from "../models/learning/core.js";
import { DIEHL_COOK_DEFAULTS, DiehlCookNet, runDiehlCook, validationSplit } from "../models/learning/diehl-cook.js";
import { EMSTDP_DEFAULTS, EmstdpNet, trainEmstdp } from "../models/learning/emstdp.js";
import { exportDiehlCook } from "../models/learning/export.js";
import { MULTISAMPLE_DEFAULTS, encodeDigits, multiSampleSweep } from "../models/learning/multisample.js";

const data = embeddedMnist();

describe("Diehl & Cook style unsupervised STDP (tiny)", () => {
  it("learns receptive fields that classify well above chance and exports a valid float SNN", () => {
    // few digits: thresholds must adapt faster (see DIEHL_COOK_DEFAULTS on theta_plus)
    const net = new DiehlCookNet({ ...DIEHL_COOK_DEFAULTS, nExc: 20, thetaPlus: 0.5 }, 3);
    const before = Float64Array.from(net.weights);
    const r = runDiehlCook(net, slice(data.train, 0, 150), slice(data.test, 0, 100), 1);
    expect(r.testAccuracy).toBeGreaterThan(0.3); // chance is 0.1
    expect(r.classesCovered).toBeGreaterThanOrEqual(5);
    // weights moved and every neuron's input weights still sum to the normalisation constant
    expect(net.weights.some((w, i) => Math.abs(w - before[i]!) > 1e-3)).toBe(true);
    let sum = 0;
    for (let j = 0; j < 784; j++) sum += net.weights[j * 20]!;
    expect(sum).toBeCloseTo(DIEHL_COOK_DEFAULTS.normTotal, 6);
    expect(Math.max(...net.theta)).toBeGreaterThan(0);
    const snn = exportDiehlCook(net);
    expect(() => validateFloatSnn(snn)).not.toThrow();
    expect(snn.layers.map((l) => l.kind === "dense" && [l.inputs, l.outputs])).toEqual([
      [784, 20],
      [20, 10],
    ]);
  });
});

describe("Diehl & Cook validation split and readouts", () => {
  it("splits the last digits of the training set off for validation, deterministically and disjointly", () => {
    const { fit, validation } = validationSplit(data.train);
    expect(fit.count + validation.count).toBe(data.train.count);
    expect(validation.count).toBe(1000);
    expect(Array.from(validation.labels)).toEqual(Array.from(data.train.labels.subarray(data.train.count - 1000)));
    expect(validation.pixels[0]).toBe(data.train.pixels[fit.count * 784]);
    expect(() => validationSplit(slice(data.train, 0, 10), 10)).toThrow();
  });

  it("the proportion readout lets a neuron split its vote between the classes it answers to", () => {
    const net = new DiehlCookNet({ ...DIEHL_COOK_DEFAULTS, nInputs: 4, nExc: 2 }, 1);
    // neuron 0 fires 10 for class 0 and 9 for class 1; neuron 1 fires 1 for class 1 only
    net.assignLabels([Int32Array.of(10, 0), Int32Array.of(9, 1)], [0, 1], 10);
    expect(Array.from(net.labels)).toEqual([0, 1]);
    const counts = Int32Array.of(5, 1);
    expect(net.classifyWith(counts, 10, "mean")).toBe(0); // class 0's neuron fires most
    expect(net.classifyWith(counts, 10, "proportion")).toBe(1); // 5 * 9/19 + 1 > 5 * 10/19
    // the exported label layer computes the same scores
    const snn = exportDiehlCook(net, "proportion");
    expect(() => validateFloatSnn(snn)).not.toThrow();
    const labels = snn.layers[1]!;
    if (labels.kind !== "dense") throw new Error("dense label layer expected");
    const score = (c: number): number => 5 * labels.weights[0 * 10 + c]! + 1 * labels.weights[1 * 10 + c]!;
    expect(score(1)).toBeGreaterThan(score(0));
    expect(score(0)).toBeCloseTo((5 * 10) / 19, 6);
  });
});

describe("meanCi95", () => {
  it("gives the mean and the Student-t 95% half-width", () => {
    const r = meanCi95([1, 2, 3]);
    expect(r.mean).toBe(2);
    expect(r.halfWidth).toBeCloseTo(4.303 / Math.sqrt(3), 6);
    expect(meanCi95([4]).halfWidth).toBe(0);
  });
});

describe("EMSTDP-style two-phase local learning (small)", () => {
  it("a 784-100-10 IF network passes 80% on held-out digits after one pass over 1,000", () => {
    const net = new EmstdpNet(EMSTDP_DEFAULTS, 1);
    const test = slice(data.test, 0, 300);
    const chance = net.accuracy(test);
    const [acc] = trainEmstdp(net, slice(data.train, 0, 1000), test, 1, 1);
    expect(chance).toBeLessThan(0.3);
    expect(acc!).toBeGreaterThan(0.8);
    const snn = net.toFloatSnn();
    expect(() => validateFloatSnn(snn)).not.toThrow();
    expect(snn.input.encoding).toBe("current");
  });
});

describe("multi-sample probabilistic SNN learning (GEM, tiny)", () => {
  it("learns above chance and more compartments do not hurt the likelihood", () => {
    const p = { ...MULTISAMPLE_DEFAULTS, steps: 20 };
    const rng = new Rng(5);
    const train = encodeDigits(data.train, p, 40, rng);
    const test = encodeDigits(data.test, p, 30, rng);
    expect(train.length).toBe(120);
    const [k1, k4] = multiSampleSweep(train, test, [1, 4], p, 1, 1);
    expect(k1!.accuracy).toBeGreaterThan(0.5); // chance 1/3
    expect(k4!.logLikelihoodPerStep).toBeGreaterThan(k1!.logLikelihoodPerStep);
  });
});
