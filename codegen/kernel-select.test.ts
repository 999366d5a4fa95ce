import { describe, expect, it } from "vitest";
import { KERNELS } from "./kernels.js";
import { snake } from "./ir.js";
import { kernelSelection, learningMask, LEARN_BITS } from "./kernel-select.js";
import { DEFAULT_NEURON, type EventTable, type Plasticity } from "../runtime/model.js";

const RULE: Plasticity = {
  rule: "rstdp",
  preTraceShift: 3,
  postTraceShift: 3,
  traceIncrement: 1024,
  aPlus: 96,
  aMinus: 64,
  eligibilityShift: 4,
  learningShift: 10,
  baselineShift: 2,
  wMin: -127,
  wMax: 127,
};

function dense(plasticity?: Plasticity): EventTable {
  return {
    input: { size: 4, encoding: "spikes", seed: 0 },
    layers: [
      {
        name: "l0",
        size: 2,
        input: { kind: "dense", inputs: 4, outputs: 2, weights: { bits: 8, count: 8, data: new Int8Array(8), shift: Uint8Array.of(0) } },
        neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 4, threshold: 10 },
        ...(plasticity !== undefined ? { plasticity } : {}),
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "test", tool: "test", settings: {}, layerScales: [1] },
  };
}

const kept = (t: EventTable): string[] => KERNELS.filter(kernelSelection(t)).map((k) => snake(k.name));

describe("learningMask and kernel selection (PS_NET_LEARNING, ps_net.h)", () => {
  it("needs no learning code for a table that does not learn, and keeps no plasticity kernel", () => {
    expect(learningMask(dense())).toBe(0);
    expect(kept(dense()).filter((n) => n.startsWith("plastic_"))).toEqual([]);
  });

  it("keeps only the kernels of the timing and connection kind a learner uses", () => {
    const step = dense(RULE);
    expect(learningMask(step)).toBe(LEARN_BITS.step);
    const stepKernels = kept(step);
    expect(stepKernels).toContain("plastic_potentiate_dense");
    expect(stepKernels).toContain("scatter_dense_w16");
    expect(stepKernels).toContain("scatter_dense_w16_exact"); // exact where the bound over the clamp holds (ps_net.c)
    expect(stepKernels.some((n) => n.includes("sparse") && n.startsWith("plastic_"))).toBe(false);
    expect(stepKernels.some((n) => n.startsWith("plastic_event_"))).toBe(false);
    const event = dense({ ...RULE, timing: "event" });
    expect(learningMask(event)).toBe(LEARN_BITS.event);
    const eventKernels = kept(event);
    expect(eventKernels).toContain("plastic_event_reward_dense");
    expect(eventKernels).not.toContain("plastic_reward");
    expect(eventKernels).not.toContain("plastic_triplet_gain");
    const triplet = dense({ ...RULE, rule: "triplet", timing: "event", tripletShift: 5, a3Plus: 100 });
    expect(learningMask(triplet)).toBe(LEARN_BITS.event | LEARN_BITS.triplet);
    expect(kept(triplet)).toContain("plastic_triplet_gain");
    const epoch = dense({ ...RULE, timing: "epoch", epochShift: 4 });
    expect(learningMask(epoch)).toBe(LEARN_BITS.epoch);
    const epochKernels = kept(epoch);
    expect(epochKernels).toEqual(expect.arrayContaining(["plastic_epoch_dense", "plastic_epoch_add_reward", "plastic_mark"]));
    expect(epochKernels).not.toContain("plastic_reward");
    expect(epochKernels.some((n) => n.startsWith("plastic_event_"))).toBe(false);
  });
});
