import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { Rng } from "./core.js";
import { SPIKEPROP_TRAINING, SPIKEPROP_XOR, SpikePropNet, XOR_SAMPLES, trainSpikeProp } from "./spikeprop.js";

describe("SpikeProp (Bohte et al. 2002) on XOR with 16 delayed terminals", () => {
  it("plain gradient descent converges below 1 ms² and RProp converges in fewer epochs", () => {
    const plain = trainSpikeProp(new SpikePropNet(SPIKEPROP_XOR, new Rng(1)), XOR_SAMPLES, { ...SPIKEPROP_TRAINING, optimizer: "gradient", maxEpochs: 1500 });
    const rprop = trainSpikeProp(new SpikePropNet(SPIKEPROP_XOR, new Rng(1)), XOR_SAMPLES, { ...SPIKEPROP_TRAINING, optimizer: "rprop", maxEpochs: 1500 });
    expect(plain.converged).toBe(true);
    expect(rprop.converged).toBe(true);
    expect(plain.finalSse).toBeLessThan(1);
    expect(rprop.finalSse).toBeLessThan(1);
    expect(rprop.epochs).toBeLessThan(plain.epochs);
    // the learned outputs separate the classes: early (10 ms) for different inputs, late (16 ms) for equal
    for (const r of [plain, rprop]) {
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
