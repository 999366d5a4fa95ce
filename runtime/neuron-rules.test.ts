/**
 * Hand-computed traces of the version-2 neuron rules (spec/ops.md §4.9), run by the generated
 * kernels and by the hand-written reference oracle.
 */
import { describe, expect, it } from "vitest";
import type { StepEvents } from "./events.js";
import { decodeTable, encodeTable } from "./format.js";
import { Interpreter } from "./interpreter.js";
import { DEFAULT_NEURON, type EventTable, type Layer, type NeuronParams } from "./model.js";
import { ReferenceInterpreter } from "./testing/reference-interpreter.js";
import { codeOf } from "./testing/error-code.js";

type Sim = Pick<Interpreter, "step" | "membrane" | "lastSpikes" | "current" | "reset">;
const IMPLEMENTATIONS: Array<[string, new (t: EventTable) => Sim]> = [
  ["generated kernels", Interpreter],
  ["reference oracle", ReferenceInterpreter],
];

/** One input per neuron, weight 1 (int16, shift 0): input i drives neuron i by its event value. */
function table(size: number, neuron: Partial<NeuronParams>, bias?: number[], last: Partial<Layer> = {}): EventTable {
  const eye = new Int16Array(size * size);
  for (let i = 0; i < size; i++) eye[i * size + i] = 1;
  const layer: Layer = {
    name: "l",
    size,
    input: { kind: "dense", inputs: size, outputs: size, weights: { bits: 16, data: eye, count: eye.length, shift: Uint8Array.of(0) } },
    neuron: { ...DEFAULT_NEURON, threshold: 10, ...neuron },
    ...(bias ? { bias: Int32Array.from(bias) } : {}),
    ...last,
  };
  return {
    input: { size, encoding: "current", seed: 1 },
    layers: [layer],
    readout: { kind: neuron.model === "integrator" ? "membrane" : "count" },
    provenance: { source: "t", tool: "t", settings: {}, layerScales: [1] },
  };
}

/** A step driving neuron 0 with `value` (0 = no event). */
const drive = (value: number): StepEvents => (value === 0 ? { indices: new Uint32Array(0) } : { indices: Uint32Array.of(0), values: Uint8Array.of(value) });

function run(sim: Sim, values: number[]): { v: number[]; s: number[]; i: number[] } {
  const out = { v: [] as number[], s: [] as number[], i: [] as number[] };
  for (const x of values) {
    sim.step(drive(x));
    out.v.push(sim.membrane(0)[0]!);
    out.s.push(sim.lastSpikes(0).length);
    out.i.push(sim.current(0)[0] ?? 0);
  }
  return out;
}

describe.each(IMPLEMENTATIONS)("version-2 neuron rules: %s", (_name, Sim) => {
  it("compare gt: v equal to the threshold does not spike; ge does", () => {
    expect(run(new Sim(table(1, { compare: "gt" })), [10, 1]).s).toEqual([0, 1]);
    expect(run(new Sim(table(1, {})), [10]).s).toEqual([1]);
  });

  it("resetDelay: the subtraction comes one step late, after the leak, not decayed (the spec's example)", () => {
    const t = table(1, { model: "lif-q15", leakQ15: 16384, compare: "gt", resetDelay: true });
    // 12 > 10 spikes, no reset; 12·½ + 0 − 10 = −4; floor(−2); floor(−1) + 4 = 3
    expect(run(new Sim(t), [12, 0, 0, 4])).toMatchObject({ v: [12, -4, -2, 3], s: [1, 0, 0, 0] });
  });

  it("resetDelay on IF spikes on consecutive steps while the input holds (snnTorch's mem[t] = mem[t−1] + I[t] − θ·S[t−1])", () => {
    // 25 → spike; 25 + 25 − 10 = 40 → spike; 40 + 0 − 10 = 30 → spike; 30 − 10 = 20 → spike; 10 (ge) → spike; 10 − 10 = 0
    expect(run(new Sim(table(1, { resetDelay: true })), [25, 25, 0, 0, 0, 0])).toMatchObject({ v: [25, 40, 30, 20, 10, 0], s: [1, 1, 1, 1, 1, 0] });
  });

  it("vInit: the membrane starts at vInit and returns there on reset (Norse's v_leak)", () => {
    const t = table(1, { model: "lif-q15", leakQ15: 16384, vInit: 8, reset: "value", resetValue: -3, compare: "gt" });
    const sim = new Sim(t);
    expect(Array.from(sim.membrane(0))).toEqual([8]);
    // 4 + 7 = 11 > 10 → spike, reset to −3; floor(−1.5) = −2
    expect(run(sim, [7, 0])).toMatchObject({ v: [-3, -2], s: [1, 0] });
    sim.reset();
    expect(Array.from(sim.membrane(0))).toEqual([8]);
  });

  it("leakQ15s: one retention per neuron", () => {
    const t = table(2, { model: "lif-q15", leakQ15: 32767, leakQ15s: Uint16Array.of(16384, 8192), threshold: 1000 }, [0, 0]);
    const sim = new Sim(t);
    sim.step({ indices: Uint32Array.of(0, 1), values: Uint8Array.of(100, 100) });
    sim.step({ indices: new Uint32Array(0) });
    expect(Array.from(sim.membrane(0))).toEqual([50, 25]);
  });

  it("cuba in Q15 form: i = c·i + b + input, v = a·v + i (snnTorch Synaptic, Norse LIFCell)", () => {
    const t = table(1, { model: "cuba", synapse: "q15", leakQ15: 16384, currentQ15: 16384, threshold: 100, compare: "gt", resetDelay: true }, [2]);
    // i = 0 + 2 + 40 = 42, v = 42; i = 21 + 2 = 23, v = 21 + 23 = 44; i = 11 + 2 + 80 = 93, v = 22 + 93 = 115 > 100 spike;
    // i = 46 + 2 = 48, v = 57 + 48 − 100 = 5
    expect(run(new Sim(t), [40, 0, 80, 0])).toMatchObject({ i: [42, 23, 93, 48], v: [42, 44, 115, 5], s: [0, 0, 1, 0] });
  });

  it("cuba in Q15 form with per-neuron current retention", () => {
    const t = table(1, { model: "cuba", synapse: "q15", leakQ15: 0, currentQ15s: Uint16Array.of(8192), threshold: 1000 });
    // a = 0: v is this step's current; i = 100, 25, 6
    expect(run(new Sim(t), [100, 0, 0])).toMatchObject({ i: [100, 25, 6], v: [100, 25, 6] });
  });

  it("multiSpike: n = min(floor(v/θ), 255) spikes as one event of value n, n·θ subtracted, counted n times (sinabs, Rockpool)", () => {
    const t = table(1, { multiSpike: true });
    const next: Layer = {
      name: "o",
      size: 1,
      input: { kind: "dense", inputs: 1, outputs: 1, weights: { bits: 16, data: Int16Array.of(2), count: 1, shift: Uint8Array.of(0) } },
      neuron: { ...DEFAULT_NEURON, model: "integrator" },
    };
    const two: EventTable = { ...t, layers: [t.layers[0]!, next], readout: { kind: "membrane" }, provenance: { ...t.provenance, layerScales: [1, 1] } };
    const sim = new Sim(two);
    // 35 ≥ 10: n = 3, v = 5, the next layer receives one event of value 3: 2·3 = 6; then 5 + 9 = 14: n = 1, v = 4
    expect(run(sim, [35, 9])).toMatchObject({ v: [5, 4], s: [1, 1] });
    expect(Array.from(sim.membrane(1))).toEqual([8]);
    expect(Array.from((sim as Interpreter).spikeCounts(0))).toEqual([4]);
    // the cap: θ 1 and v 1000 give 255 spikes, 745 left over
    const capTable = table(1, { multiSpike: true, threshold: 1 });
    (capTable.layers[0]!.input as { weights: { data: Int16Array } }).weights.data[0] = 1000;
    const capped = new Sim(capTable);
    expect(run(capped, [1, 0, 0])).toMatchObject({ v: [745, 490, 235], s: [1, 1, 1] });
    expect(Array.from((capped as Interpreter).spikeCounts(0))).toEqual([765]);
  });

  it("a leaking integrator: v = a·v + b + input", () => {
    const t = table(1, { model: "integrator", leakQ15s: Uint16Array.of(16384) }, [1]);
    expect(run(new Sim(t), [20, 0, 0])).toMatchObject({ v: [21, 11, 6], s: [0, 0, 0] });
  });
});

describe("version-2 neuron keys in the event table", () => {
  const base = table(2, { model: "lif-q15", leakQ15: 32767, leakQ15s: Uint16Array.of(100, 200), compare: "gt", resetDelay: true, vInit: 3 });

  it("round-trip through CBOR; a key holding its default is valid and keeps the bytes; without keys the body is version 1's", () => {
    const back = decodeTable(encodeTable(base));
    expect(back.layers[0]!.neuron).toMatchObject({ compare: "gt", resetDelay: true, vInit: 3 });
    expect(Array.from(back.layers[0]!.neuron.leakQ15s!)).toEqual([100, 200]);
    const explicit = encodeTable(table(1, { compare: "ge", resetDelay: false, vInit: 0 }));
    expect(encodeTable(decodeTable(explicit))).toEqual(explicit);
    const plain = decodeTable(encodeTable(table(1, {}))).layers[0]!.neuron;
    expect(Object.keys(plain).sort()).toEqual(Object.keys(DEFAULT_NEURON).sort());
  });

  it("are refused where they do not apply, with the codes of the spec", () => {
    const bad = (n: Partial<NeuronParams>, size = 1): string | undefined => codeOf(() => encodeTable(table(size, n)));
    expect(bad({ resetDelay: true, reset: "value" })).toBe("FORMAT_OUT_OF_RANGE");
    expect(bad({ resetDelay: true, refractory: 2 })).toBe("FORMAT_OUT_OF_RANGE");
    expect(bad({ vInit: 10 })).toBe("FORMAT_OUT_OF_RANGE");
    expect(bad({ synapse: "q15" })).toBe("FORMAT_OUT_OF_RANGE");
    expect(bad({ model: "lif-shift", leakShift: 2, leakQ15s: Uint16Array.of(1) })).toBe("FORMAT_OUT_OF_RANGE");
    expect(bad({ model: "lif-q15", leakQ15: 5, leakQ15s: Uint16Array.of(1) })).toBe("FORMAT_OUT_OF_RANGE");
    expect(bad({ model: "lif-q15", leakQ15s: Uint16Array.of(1, 2) })).toBe("FORMAT_SIZE_MISMATCH");
    expect(bad({ model: "lif-q15", leakQ15s: Uint16Array.of(40000) })).toBe("FORMAT_OUT_OF_RANGE");
    expect(bad({ compare: "lt" as never })).toBe("FORMAT_UNKNOWN_KIND");
    expect(bad({ model: "cuba", synapse: "q15", currentShift: 1 })).toBe("FORMAT_OUT_OF_RANGE");
  });
});

describe("multi-spike primitives (spec/ops.md §3, §4.9)", () => {
  it("spikeCount is min(floor(v/θ), 255) and subCount v − n·θ", async () => {
    const { spikeCount, subCount } = await import("./fixed.js");
    expect([spikeCount(35, 10), spikeCount(10, 10), spikeCount(2147483647, 1), spikeCount(2147483647, 2147483647)]).toEqual([3, 1, 255, 1]);
    expect([subCount(35, 3, 10), subCount(2147483647, 255, 1), subCount(2147483647, 1, 2147483647)]).toEqual([5, 2147483392, 0]);
  });
});
