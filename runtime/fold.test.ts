import { describe, expect, it } from "vitest";
import { int4At } from "./fixed.js";
import { foldDenseSpikes, MAX_PACKED_BYTES, packDenseRows } from "./fold.js";
import { encodeSample, Interpreter } from "./interpreter.js";
import * as K from "./kernels_generated.js";
import { packInt4 } from "./format.js";
import { DEFAULT_NEURON, type EventTable, type Layer, type Weights } from "./model.js";
import { ReferenceInterpreter } from "./testing/reference-interpreter.js";
import { TestRng } from "./testing/random-table.js";

/** Ascending distinct presynaptic indices: `n` of 0..inputs−1. */
function spikesOf(rng: TestRng, inputs: number, n: number): Uint32Array {
  const all = Array.from({ length: inputs }, (_, i) => i);
  for (let i = inputs - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return Uint32Array.from(all.slice(0, n)).sort();
}

describe("spike fold of spec/ops.md §12.3 against the IR kernels", () => {
  // outputs across the 3-lane word and the 24-output tile edges; event counts across the 256-event chunk edge
  const OUTPUTS = [1, 2, 3, 4, 23, 24, 25, 26, 47, 48, 49, 100];
  const EVENTS = [0, 1, 255, 256, 257, 512, 513, 600];
  const INPUTS = 700;

  for (const bits of [8, 4] as const) {
    it(`gives the integers of scatterDenseW${bits}Exact on steps of spikes (extreme and random weights, per-layer and per-channel shifts)`, () => {
      const rng = new TestRng(bits);
      for (const outputs of OUTPUTS) {
        for (const fill of ["random", "min", "max"] as const) {
          const [lo, hi] = bits === 8 ? [-128, 127] : [-8, 7];
          const values = Array.from({ length: INPUTS * outputs }, () => (fill === "min" ? lo : fill === "max" ? hi : rng.int(lo, hi)));
          const data = bits === 8 ? Int8Array.from(values) : packInt4(values);
          for (const [channels, plane] of [[1, outputs], [outputs, 1]] as const) {
            const shift = channels === 1 ? Uint8Array.of(rng.int(0, 4)) : Uint8Array.from({ length: channels }, () => rng.int(0, 4));
            const perChannel = channels !== 1;
            const weightAt = bits === 8 ? (q: number) => (data as Int8Array)[q]! : (q: number) => int4At(data as Uint8Array, q);
            const rows = packDenseRows(INPUTS, outputs, weightAt, (j) => shift[perChannel ? Math.floor(j / plane) : 0]!);
            expect(rows).toBeDefined();
            for (const n of EVENTS) {
              const pre = spikesOf(rng, INPUTS, n);
              // acc starts where earlier folds (another connection, an earlier chunk) left it
              const start = Int32Array.from({ length: outputs }, () => rng.int(-1_000_000, 1_000_000));
              const want = Int32Array.from(start);
              const got = Int32Array.from(start);
              const kernel = bits === 8 ? K.scatterDenseW8Exact : K.scatterDenseW4Exact;
              const wantUpdates = (kernel as (...a: unknown[]) => number)(pre, n, new Uint8Array(0), false, channels, data, shift, perChannel, plane, want);
              expect(foldDenseSpikes(rows!, pre, n, got)).toBe(wantUpdates);
              expect(Array.from(got)).toEqual(Array.from(want));
            }
          }
        }
      }
    });
  }

  it("does not pack a connection above MAX_PACKED_BYTES (the interpreter keeps the IR kernel)", () => {
    const outputs = 3;
    const inputs = MAX_PACKED_BYTES / 8 + 1;
    expect(packDenseRows(inputs, outputs, () => 0, () => 0)).toBeUndefined();
  });
});

describe("the interpreter with the spike fold against the hand-written oracle", () => {
  /** 700 inputs (more than 256 spikes a step) → hidden (recurrent dense) → out, int8 or int4, per-channel shifts on the hidden layer. */
  function model(bits: 8 | 4, seed: number): EventTable {
    const rng = new TestRng(seed);
    const weights = (count: number, shift: Uint8Array): Weights => {
      const values = Array.from({ length: count }, () => (bits === 8 ? rng.int(-100, 127) : rng.int(-6, 7)));
      return { bits, data: bits === 8 ? Int8Array.from(values) : packInt4(values), count, shift };
    };
    const neuron = { ...DEFAULT_NEURON, model: "lif-shift" as const, leakShift: 3 };
    const layers: Layer[] = [
      {
        name: "hidden", size: 50,
        input: { kind: "dense", inputs: 700, outputs: 50, weights: weights(700 * 50, Uint8Array.from({ length: 50 }, () => rng.int(0, 2))) },
        recurrent: { kind: "dense", inputs: 50, outputs: 50, weights: weights(2500, Uint8Array.of(1)) },
        neuron: { ...neuron, threshold: bits === 8 ? 20000 : 1500 },
      },
      { name: "out", size: 7, input: { kind: "dense", inputs: 50, outputs: 7, weights: weights(350, Uint8Array.of(2)) }, neuron: { ...neuron, threshold: 900 } },
    ];
    return {
      input: { size: 700, encoding: "rate", seed: seed + 1 },
      layers,
      readout: { kind: "count" },
      provenance: { source: "test", tool: "runtime/fold.test.ts", settings: {}, layerScales: [1, 1] },
    };
  }

  for (const bits of [8, 4] as const) {
    it(`agrees step by step on a 700-input int${bits} model with a recurrent dense layer (and with the IR kernels alone)`, () => {
      const table = model(bits, 40 + bits);
      expect(Interpreter.accumulationExact(table).every((x) => x.spikes)).toBe(true);
      const gen = new Interpreter(table);
      const irOnly = new Interpreter(table, { folds: false });
      const ref = new ReferenceInterpreter(table);
      const rng = new TestRng(bits);
      const input = encodeSample(table.input, Uint8Array.from({ length: 700 }, () => 150 + rng.int(0, 105)), 40);
      expect(Math.max(...input.map((s) => s.indices.length))).toBeGreaterThan(256);
      let hidden = 0;
      for (const step of input) {
        gen.step(step);
        irOnly.step(step);
        ref.step(step);
        hidden += gen.lastSpikes(0).length;
        expect(Array.from(irOnly.membrane(0))).toEqual(Array.from(gen.membrane(0)));
        for (let l = 0; l < 2; l++) expect(Array.from(gen.lastSpikes(l))).toEqual(Array.from(ref.lastSpikes(l)));
        expect(Array.from(gen.membrane(0))).toEqual(Array.from(ref.membrane(0)));
      }
      expect(hidden).toBeGreaterThan(0);
      expect(gen.snapshot()).toEqual(ref.snapshot());
      expect(gen.synapticEvents).toBe(ref.synapticEvents);
    });
  }
});
