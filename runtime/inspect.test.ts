import { describe, expect, it } from "vitest";
import { connectionSynapses, convSynapses, encodeTable, tableHash } from "./format.js";
import { summarizeTable } from "./inspect.js";
import { DEFAULT_NEURON, type EventTable, type Layer } from "./model.js";
import { randomTable } from "./testing/random-table.js";

const neuron = (extra: Partial<Layer["neuron"]> = {}): Layer["neuron"] => ({ ...DEFAULT_NEURON, threshold: 10, ...extra });

/** conv 1x3x3 → 1x3x3 (3x3 kernel, padding 1), pool 1x3x3 → 1x1x1 (k 2, s 2), sparse 1 → 4, dense 4 → 2. */
function smallTable(over: { dense?: Partial<Layer>; sparseWeights?: Int16Array } = {}): EventTable {
  return {
    input: { size: 9, shape: [1, 3, 3], encoding: "spikes", seed: 0 },
    layers: [
      {
        name: "conv",
        size: 9,
        shape: [1, 3, 3],
        input: {
          kind: "conv2d",
          inShape: [1, 3, 3],
          outShape: [1, 3, 3],
          kernel: [3, 3],
          stride: [1, 1],
          padding: [1, 1],
          weights: { bits: 8, count: 9, data: Int8Array.of(1, 1, 1, 1, 5, 1, 1, 1, 1), shift: Uint8Array.of(0) },
        },
        neuron: neuron(),
      },
      {
        name: "pool",
        size: 1,
        shape: [1, 1, 1],
        input: { kind: "pool", inShape: [1, 3, 3], outShape: [1, 1, 1], kernel: [2, 2], stride: [2, 2], weight: 4, shift: 1 },
        neuron: neuron(),
      },
      {
        name: "sparse",
        size: 4,
        input: {
          kind: "sparse",
          inputs: 1,
          outputs: 4,
          rowPtr: Uint32Array.of(0, 3),
          cols: Uint16Array.of(0, 2, 3),
          weights: { bits: 16, count: 3, data: over.sparseWeights ?? Int16Array.of(20, 30, 40), shift: Uint8Array.of(0, 0, 0, 9) },
        },
        neuron: neuron(),
      },
      {
        name: "dense",
        size: 2,
        input: { kind: "dense", inputs: 4, outputs: 2, weights: { bits: 4, count: 8, data: Uint8Array.of(0x21, 0x43, 0x65, 0x07), shift: Uint8Array.of(0) } },
        neuron: neuron(),
        ...over.dense,
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "inspect.test", tool: "test", settings: {}, layerScales: [1, 1, 1, 1] },
  };
}

describe("synapse counts", () => {
  it("counts conv synapses per output receptive field, excluding padding", () => {
    // 3x3 map, 3x3 kernel, padding 1: border outputs see 2 rows/cols, the centre 3 → (2+3+2)^2.
    expect(convSynapses([1, 3, 3], [1, 3, 3], [3, 3], [1, 1], [1, 1])).toBe(49);
    // Two input and three output channels multiply it.
    expect(convSynapses([2, 3, 3], [3, 3, 3], [3, 3], [1, 1], [1, 1])).toBe(49 * 6);
    // No padding, stride 2 on 5x5 with 3x3: 2x2 outputs, each 9 taps.
    expect(convSynapses([1, 5, 5], [1, 2, 2], [3, 3], [2, 2], [0, 0])).toBe(36);
  });

  it("counts dense as in·out, sparse as nnz, pool as out·kh·kw", () => {
    const t = smallTable();
    expect(t.layers.map((l) => connectionSynapses(l.input))).toEqual([49, 4, 3, 8]);
  });
});

describe("summarizeTable", () => {
  it("reports layers, totals, bytes per synapse and the file hash", () => {
    const t = smallTable();
    const bytes = encodeTable(t);
    const s = summarizeTable(t, bytes);
    expect(s.hash).toBe(tableHash(bytes));
    expect(s.fileBytes).toBe(bytes.length);
    expect(s.layers.map((l) => [l.name, l.kind, l.neurons, l.synapses, l.weightBits, l.weightBytes, l.indexBytes])).toEqual([
      ["conv", "conv2d", 9, 49, 8, 9, 0],
      ["pool", "pool", 1, 4, null, 0, 0],
      ["sparse", "sparse", 4, 3, 16, 6, 8 + 6],
      ["dense", "dense", 2, 8, 4, 4, 0],
    ]);
    expect(s.totals).toEqual({ neurons: 16, synapses: 64, weightBytes: 19, indexBytes: 14 });
    expect(s.bytesPerSynapse.weightPayload).toBeCloseTo(19 / 64, 12);
    expect(s.bytesPerSynapse.file).toBeCloseTo(bytes.length / 64, 12);
    // Layers' own bytes are part of the file.
    expect(s.layers.reduce((a, l) => a + l.bytes, 0)).toBeLessThan(bytes.length);
  });

  it("names the version-2 neuron rules and the learning rule of each layer", () => {
    const t = smallTable();
    const plain = summarizeTable(t, encodeTable(t));
    expect(plain.layers.map((l) => [l.neuronRules, l.learning])).toEqual(plain.layers.map(() => [[], null]));
    const dense = t.layers[3]!;
    const framework: EventTable = {
      ...t,
      layers: [
        ...t.layers.slice(0, 3),
        {
          ...dense,
          neuron: { ...dense.neuron, model: "lif-q15", leakQ15: 32767, compare: "gt", resetDelay: true, vInit: 3, leakQ15s: Uint16Array.of(30000, 31000) },
          plasticity: {
            rule: "rstdp",
            preTraceShift: 3,
            postTraceShift: 3,
            traceIncrement: 1024,
            aPlus: 96,
            aMinus: 64,
            eligibilityShift: 4,
            learningShift: 10,
            baselineShift: 0,
            wMin: -7,
            wMax: 7,
            timing: "event",
          },
        },
      ],
    };
    const s = summarizeTable(framework, encodeTable(framework)).layers[3]!;
    expect(s.neuronRules).toEqual(["fires when v > threshold", "subtracts the threshold one step late", "membrane starts at 3", "one leak per neuron"]);
    expect(s.learning).toBe("rstdp, event timing");
    const epoch: EventTable = {
      ...framework,
      layers: framework.layers.map((l) =>
        l.plasticity === undefined ? l : { ...l, plasticity: { ...l.plasticity, timing: "epoch" as const, epochShift: 4 } },
      ),
    };
    expect(summarizeTable(epoch, encodeTable(epoch)).layers[3]!.learning).toBe("rstdp, epoch timing (16 steps)");
  });

  it("warns about thresholds no input can reach, and only then", () => {
    // dense weights: every weight into neuron 1 (odd indices) is negative → neuron 1 can never fire.
    const negative = smallTable({
      dense: {
        input: { kind: "dense", inputs: 4, outputs: 2, weights: { bits: 4, count: 8, data: Uint8Array.of(0xf1, 0xf1, 0xf1, 0xf1), shift: Uint8Array.of(0) } },
      },
    });
    const s = summarizeTable(negative, encodeTable(negative));
    expect(s.warnings.filter((w) => w.includes("'dense'") && w.includes("1 of 2 neurons can never reach"))).toHaveLength(1);
    // With a leak, a drive of 1 per step tops out at (1+1)·2^2 − 1 = 7 < 10.
    const leaky = smallTable({
      dense: {
        input: { kind: "dense", inputs: 4, outputs: 2, weights: { bits: 4, count: 8, data: Uint8Array.of(0x01, 0, 0, 0), shift: Uint8Array.of(0) } },
        bias: Int32Array.of(0, 1),
        neuron: neuron({ model: "lif-shift", leakShift: 2 }),
      },
    });
    const l = summarizeTable(leaky, encodeTable(leaky));
    expect(l.warnings.some((w) => w.includes("'dense'") && w.includes("2 of 2 neurons can never reach the threshold 10 (at most 7"))).toBe(true);
    // In the plain table only sparse neuron 1, which no synapse reaches, is unreachable.
    const fine = smallTable();
    expect(summarizeTable(fine, encodeTable(fine)).warnings.filter((w) => w.includes("never reach"))).toEqual([
      "layer 2 'sparse': 1 of 4 neurons can never reach the threshold 10 (at most 0 with every input firing every step)",
    ]);
  });

  it("warns about leaks that round away, wasted int16 width and shift imbalance", () => {
    const t = smallTable({ dense: { neuron: neuron({ model: "lif-shift", leakShift: 4 }) } });
    const warnings = summarizeTable(t, encodeTable(t)).warnings;
    expect(warnings.some((w) => w.includes("'dense'") && w.includes("leak rounds to nothing"))).toBe(true);
    expect(warnings.some((w) => w.includes("'sparse'") && w.includes("int16") && w.includes("fits int8"))).toBe(true);
    expect(warnings.some((w) => w.includes("'sparse'") && w.includes("shifts range 0..9"))).toBe(true);
    const wide = smallTable({ sparseWeights: Int16Array.of(200, 30, 40) });
    expect(summarizeTable(wide, encodeTable(wide)).warnings.some((w) => w.includes("fits int8"))).toBe(false);
  });

  it("summarizes random tables without throwing, consistently with connectionSynapses", () => {
    for (let seed = 0; seed < 30; seed++) {
      const t = randomTable(seed);
      const s = summarizeTable(t, encodeTable(t));
      const expected = t.layers.reduce((a, l) => a + connectionSynapses(l.input) + (l.recurrent ? connectionSynapses(l.recurrent) : 0), 0);
      expect(s.totals.synapses).toBe(expected);
    }
  });
});
