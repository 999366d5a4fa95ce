import { describe, expect, it } from "vitest";
import { decodeTable, encodeTable } from "../runtime/format.js";
import type { ImageSet } from "../runtime/datasets.js";
import { evaluateTable } from "./evaluate.js";
import { prepareLayers, simulateFloat, type FloatSnn } from "./float-snn.js";
import { quantizeSnn } from "./quantize.js";
import { initTf } from "./tf.js";

/** A float SNN by hand: 4 inputs → 3 IF → 2 integrators; class 0 likes the left pixels, class 1 the right. */
function snn(encoding: "current" | "rate"): FloatSnn {
  return {
    input: { shape: [1, 2, 2], encoding, scale: 1 / 255 },
    layers: [
      {
        kind: "dense",
        name: "h",
        inputs: 4,
        outputs: 3,
        weights: Float32Array.from([0.6, 0, 0.2, 0, 0.6, 0.2, 0.6, 0, 0.2, 0, 0.6, 0.2]),
        bias: Float32Array.from([0, 0, -0.05]),
        neuron: { model: "if", threshold: 1, leak: 1, reset: "subtract", refractory: 0 },
      },
      {
        kind: "dense",
        name: "o",
        inputs: 3,
        outputs: 2,
        weights: Float32Array.from([1, -0.5, -0.5, 1, 0.1, 0.1]),
        neuron: { model: "integrator", threshold: 1, leak: 1, reset: "subtract", refractory: 0 },
      },
    ],
    readout: "membrane",
    provenance: { source: "hand", tool: "test", settings: {} },
  };
}

const set: ImageSet = {
  count: 4,
  height: 2,
  width: 2,
  // row-major 2×2: pixels (0,0) (0,1) / (1,0) (1,1): left column = inputs 0 and 2
  pixels: Uint8Array.from([250, 10, 200, 0, /**/ 0, 220, 30, 255, /**/ 120, 60, 90, 40, /**/ 10, 90, 0, 120]),
  labels: Uint8Array.from([0, 1, 0, 1]),
};

describe("integer tables on the interpreter", () => {
  it("decide as the float SNN (current and rate input), and survive encode/decode", async () => {
    await initTf();
    for (const encoding of ["current", "rate"] as const) {
      const float = snn(encoding);
      const fsim = simulateFloat(float, prepareLayers(float), set.pixels, set.count, [64], "current");
      expect(Array.from(fsim.predictions[0]!)).toEqual([0, 1, 0, 1]);
      const table = decodeTable(encodeTable(quantizeSnn(float, { weightBits: 8, perChannel: false, seed: 7, source: "hand" }).table));
      const ev = evaluateTable(table, set, [16, 64]);
      expect(ev.samples).toBe(4);
      expect(ev.perSteps.map((p) => p.steps)).toEqual([16, 64]);
      expect(ev.perSteps[1]!.accuracy).toBe(1);
      expect(ev.perSteps[1]!.meanSpikesPerSample).toBeGreaterThan(ev.perSteps[0]!.meanSpikesPerSample);
      expect(ev.perSteps[1]!.synEventsPerSample).toBeGreaterThan(0);
    }
  });
});
