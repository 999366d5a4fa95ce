import { describe, expect, it } from "vitest";
import { stepEvents } from "../runtime/events.js";
import type { FloatNeuron, FloatSnn } from "./float-snn.js";
import { FloatSimulator } from "./float-sim.js";

// Hand-computed traces of every version-2 neuron rule on one neuron fed by one input (weight w):
// the input spikes at the listed steps; the trace is the membrane/spike count step by step.

function oneNeuron(neuron: FloatNeuron, w: number, bias = 0, recurrent?: number): FloatSnn {
  return {
    input: { shape: [1, 1, 1], encoding: "rate", scale: 1 },
    layers: [
      {
        kind: "dense",
        name: "n",
        neuron,
        inputs: 1,
        outputs: 1,
        weights: new Float32Array([w]),
        bias: new Float32Array([bias]),
        ...(recurrent === undefined ? {} : { recurrent: new Float32Array([recurrent]) }),
      },
    ],
    readout: neuron.model === "integrator" ? "membrane" : "count",
    provenance: { source: "test", tool: "test", settings: {} },
  };
}

/** Spike counts per step for inputs at `on` over `T` steps (one sample per prefix). */
function trace(snn: FloatSnn, on: number[], T: number): number[] {
  const sim = new FloatSimulator(snn);
  const steps = Array.from({ length: T }, (_, t) => stepEvents(on.includes(t) ? [0] : []));
  const out: number[] = [];
  let prev = 0;
  for (let t = 1; t <= T; t++) {
    const c = sim.runSample({ steps: steps.slice(0, t) }).outputCounts[0]!;
    out.push(c - prev);
    prev = c;
  }
  return out;
}

const base: FloatNeuron = { model: "if", threshold: 1, leak: 1, reset: "subtract", refractory: 0 };

describe("float simulator: version-2 rules", () => {
  it("threshold test ge vs gt at v exactly θ", () => {
    expect(trace(oneNeuron({ ...base }, 0.5), [0, 1], 3)).toEqual([0, 1, 0]);
    expect(trace(oneNeuron({ ...base, compare: "gt" }, 0.5), [0, 1, 2], 4)).toEqual([0, 0, 1, 0]);
  });

  it("delayed subtraction: v[t] = v[t-1] + I[t] − θ·S[t−1] (snnTorch)", () => {
    // w = 1.2, θ = 1, leak 0.5, gt: t0 v=1.2 spike; t1 v=0.6+1.2−1=0.8 no; t2 v=0.4+1.2=1.6 spike; t3 v=0.8+0−1=−0.2
    const snn = oneNeuron({ ...base, model: "lif", leak: 0.5, compare: "gt", resetDelay: true }, 1.2);
    expect(trace(snn, [0, 1, 2], 4)).toEqual([1, 0, 1, 0]);
    // an immediate subtraction differs: t0 1.2→0.2; t1 0.1+1.2=1.3 spike→0.3; t2 0.15+1.2=1.35 spike
    expect(trace(oneNeuron({ ...base, model: "lif", leak: 0.5, compare: "gt" }, 1.2), [0, 1, 2], 3)).toEqual([1, 1, 1]);
  });

  it("multi-spike: n = floor(v/θ), n·θ subtracted, floor at vMin", () => {
    // w = 2.5, θ = 1: t0 v=2.5 → n=2, v=0.5; t1 v=3.0 → n=3, v=0
    expect(trace(oneNeuron({ ...base, multiSpike: true }, 2.5), [0, 1], 2)).toEqual([2, 3]);
    // negative input clamps at vMin −1: −5 → −1; then +1.9 → 0.9 (no spike); without floor −5+1.9 stays below
    const snn = oneNeuron({ ...base, multiSpike: true, vMin: -1 }, -5);
    const sim = new FloatSimulator({ ...snn, layers: [{ ...snn.layers[0]!, neuron: { ...snn.layers[0]!.neuron } }] });
    expect(sim.runSample({ steps: [stepEvents([0])] }).outputCounts).toEqual([0]);
  });

  it("reset to a value and an initial membrane", () => {
    // vInit 0.8, w 0.3: t0 1.1 ≥ 1 spike → v = −0.25; t1 0.05; t2 0.35; t3 0.65; t4 0.95; t5 1.25 spike
    expect(trace(oneNeuron({ ...base, reset: "value", vReset: -0.25, vInit: 0.8 }, 0.3), [0, 1, 2, 3, 4, 5], 6)).toEqual([1, 0, 0, 0, 0, 1]);
  });

  it("current-based synapse: i ← a·i + bias + input; v ← leak·v + i", () => {
    // a = 0.5, w = 0.6, leak 1, integrator: i = 0.6, 0.9, 0.45 (no input at t2); v = 0.6, 1.5, 1.95
    const snn = oneNeuron({ ...base, model: "integrator", synDecay: 0.5 }, 0.6);
    const sim = new FloatSimulator(snn);
    const r = sim.runSample({ steps: [stepEvents([0]), stepEvents([0]), stepEvents([])] });
    expect(r.outputMembranes![0]).toBeCloseTo(1.95, 6); // w is stored as float32;
  });

  it("a leaky integrator readout (LI) keeps its membrane", () => {
    const snn = oneNeuron({ ...base, model: "integrator", leak: 0.5 }, 1);
    const r = new FloatSimulator(snn).runSample({ steps: [stepEvents([0]), stepEvents([])] });
    expect(r.outputMembranes).toEqual([0.5]);
  });

  it("recurrence delivers the previous step's spikes", () => {
    // w 1 at t0 only, recurrent weight 1: t0 spike (v 1 → 0); t1 v = 0 + 1 (own spike of t0) → spike; ... self-sustaining
    expect(trace(oneNeuron({ ...base }, 1, 0, 1), [0], 4)).toEqual([1, 1, 1, 1]);
    expect(trace(oneNeuron({ ...base }, 1, 0, 0), [0], 4)).toEqual([1, 0, 0, 0]);
  });

  it("a threshold neuron keeps no state", () => {
    expect(trace(oneNeuron({ ...base, model: "threshold", compare: "gt", reset: "zero" }, 0.6), [0, 1, 2], 3)).toEqual([0, 0, 0]);
    expect(trace(oneNeuron({ ...base, model: "threshold", compare: "gt", reset: "zero" }, 1.5), [0, 2], 3)).toEqual([1, 0, 1]);
  });
});

describe("float SNN version 2 files", () => {
  it("round-trip every version-2 field; a plain network stays version 1", async () => {
    const { mkdtempSync, readFileSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { readFloatSnn, writeFloatSnn } = await import("./float-snn.js");
    const dir = mkdtempSync(join(tmpdir(), "fsnn-v2-"));
    const write = (p: string, d: Uint8Array | string) => writeFileSync(p, d);
    const snn = oneNeuron(
      {
        ...base,
        model: "lif",
        leak: 0.9,
        compare: "gt",
        resetDelay: true,
        vInit: 0.1,
        synDecay: 0.5,
        vMin: -2,
        perNeuron: { threshold: new Float32Array([0.75]), leak: new Float32Array([0.8]) },
      },
      1.5,
      0.25,
      0.5,
    );
    writeFloatSnn(join(dir, "v2.json"), snn, write);
    expect(JSON.parse(readFileSync(join(dir, "v2.json"), "utf8")).version).toBe(2);
    const back = readFloatSnn(join(dir, "v2.json"));
    expect(back.layers[0]!.neuron).toEqual(snn.layers[0]!.neuron);
    expect(back.layers[0]!.kind === "dense" && Array.from(back.layers[0]!.recurrent!)).toEqual([0.5]);
    writeFloatSnn(join(dir, "v1.json"), oneNeuron({ ...base, compare: "ge" }, 1), write);
    expect(JSON.parse(readFileSync(join(dir, "v1.json"), "utf8")).version).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });
});
