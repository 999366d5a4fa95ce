import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { Rng } from "./core.js";
import { SPIKEPROP_TRAINING, SPIKEPROP_XOR, SpikePropNet, XOR_SAMPLES, quickpropStep, trainSpikeProp } from "./spikeprop.js";

describe("SpikeProp (Bohte et al. 2002) on XOR with 16 delayed terminals", () => {
  it("plain gradient descent converges below 1 ms² and RProp and QuickProp converge in fewer epochs", () => {
    const plain = trainSpikeProp(new SpikePropNet(SPIKEPROP_XOR, new Rng(1)), XOR_SAMPLES, { ...SPIKEPROP_TRAINING, optimizer: "gradient", maxEpochs: 1500 });
    const rprop = trainSpikeProp(new SpikePropNet(SPIKEPROP_XOR, new Rng(1)), XOR_SAMPLES, { ...SPIKEPROP_TRAINING, optimizer: "rprop", maxEpochs: 1500 });
    const quick = trainSpikeProp(new SpikePropNet(SPIKEPROP_XOR, new Rng(1)), XOR_SAMPLES, { ...SPIKEPROP_TRAINING, optimizer: "quickprop", maxEpochs: 1500 });
    expect(plain.converged).toBe(true);
    expect(quick.converged).toBe(true);
    expect(quick.finalSse).toBeLessThan(1);
    expect(quick.epochs).toBeLessThan(plain.epochs);
    expect(rprop.converged).toBe(true);
    expect(plain.finalSse).toBeLessThan(1);
    expect(rprop.finalSse).toBeLessThan(1);
    expect(rprop.epochs).toBeLessThan(plain.epochs);
    // the learned outputs separate the classes: early (10 ms) for different inputs, late (16 ms) for equal
    for (const r of [plain, rprop, quick]) {
      expect(Math.min(r.outputs[0]!, r.outputs[3]!)).toBeGreaterThan(Math.max(r.outputs[1]!, r.outputs[2]!) + 3);
    }
  });

  it("keeps the inhibitory neuron's weights non-positive and the rest non-negative", () => {
    const net = new SpikePropNet(SPIKEPROP_XOR, new Rng(2));
    trainSpikeProp(net, XOR_SAMPLES, { ...SPIKEPROP_TRAINING, optimizer: "rprop", maxEpochs: 20 });
    expect(Math.min(...net.hidden.w)).toBeGreaterThanOrEqual(0);
    const nT = SPIKEPROP_XOR.delaysMs.length;
    for (let h = 0; h < SPIKEPROP_XOR.nHidden; h++)
      for (let k = 0; k < nT; k++) {
        const w = net.output.w[net.output.index(0, h, k)]!;
        if (net.isInhibitory(h)) expect(w).toBeLessThanOrEqual(0);
        else expect(w).toBeGreaterThanOrEqual(0);
      }
  });

  it("QuickProp jumps to the vertex of a convex parabola, grows by at most mu otherwise", () => {
    // E = (w - 3)^2: slope 2(w - 3); from w = 0 a gradient step, then the secant lands on 3 exactly
    const w = Float64Array.of(0);
    const gPrev = new Float64Array(1);
    const dPrev = new Float64Array(1);
    const slope = (): Float64Array => Float64Array.of(2 * (w[0]! - 3));
    quickpropStep(w, slope(), gPrev, dPrev, 0.1, 1.75);
    expect(w[0]).toBeCloseTo(0.6, 12);
    quickpropStep(w, slope(), gPrev, dPrev, 0.1, 1.75);
    // secant to the vertex capped at 1.75 x the previous step (0.6 -> +1.05), plus the descent term
    expect(w[0]).toBeCloseTo(0.6 + 1.05 + 0.1 * 4.8, 12);
    // a concave stretch (slope getting steeper along the step) grows the step by mu, no secant
    const v = Float64Array.of(0);
    const gp = Float64Array.of(-1);
    const dp = Float64Array.of(0.5);
    quickpropStep(v, Float64Array.of(-2), gp, dp, 0, 1.75);
    expect(v[0]).toBeCloseTo(0.875, 12);
  });

  it("rejects a sample of the wrong width with SEMANTICS_BAD_INPUT", () => {
    const net = new SpikePropNet(SPIKEPROP_XOR, new Rng(0));
    expect(() => net.forward([0, 1])).toThrow();
    try {
      net.forward([0]);
    } catch (e) {
      expect(isPicospikeError(e, "SEMANTICS_BAD_INPUT")).toBe(true);
    }
  });
});
