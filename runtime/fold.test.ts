import { describe, expect, it } from "vitest";
import { int4At } from "./fixed.js";
import { foldDenseSpikes, foldSpikeLists, MAX_PACKED_BYTES, packDenseRows, sparseSpikeLists, windowSpikeLists } from "./fold.js";
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
          for (const [channels, plane] of [
            [1, outputs],
            [outputs, 1],
          ] as const) {
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
    expect(
      packDenseRows(
        inputs,
        outputs,
        () => 0,
        () => 0,
      ),
    ).toBeUndefined();
  });
});

describe("spike lists of spec/ops.md §12.3 item 2 against the IR kernels", () => {
  const EMPTY = new Uint8Array(0);
  const widths = [4, 8, 16] as const;
  const range = { 4: [-8, 7], 8: [-128, 127], 16: [-32768, 32767] } as const;
  const stored = (bits: 4 | 8 | 16, values: number[]): Uint8Array | Int8Array | Int16Array =>
    bits === 4 ? packInt4(values) : bits === 8 ? Int8Array.from(values) : Int16Array.from(values);

  it("conv2d: the integers and update counts of scatterConv2dW{4,8,16}Exact over random geometries", () => {
    const rng = new TestRng(77);
    for (let trial = 0; trial < 60; trial++) {
      const bits = widths[trial % 3]!;
      const [inC, inH, inW] = [rng.int(1, 3), rng.int(1, 12), rng.int(1, 12)];
      const [kh, kw, sy, sx] = [rng.int(1, 5), rng.int(1, 5), rng.int(1, 3), rng.int(1, 3)];
      const [py, px] = [rng.int(0, kh - 1), rng.int(0, kw - 1)];
      const outH = Math.max(1, Math.floor((inH + 2 * py - kh) / sy) + 1);
      const outW = Math.max(1, Math.floor((inW + 2 * px - kw) / sx) + 1);
      const outK = rng.int(1, 4);
      const values = Array.from({ length: outK * inC * kh * kw }, () => rng.int(range[bits][0], range[bits][1]));
      const data = stored(bits, values);
      const perChannel = rng.chance(0.5);
      const shift = perChannel ? Uint8Array.from({ length: outK }, () => rng.int(0, 6)) : Uint8Array.of(rng.int(0, 6));
      const lists = windowSpikeLists(
        { inC, inH, inW, outK, outH, outW, kh, kw, sy, sx, py, px },
        false,
        (kk, c, ky, kx) => values[((kk * inC + c) * kh + ky) * kw + kx]! * 2 ** shift[perChannel ? kk : 0]!,
      );
      const inputs = inC * inH * inW;
      const pre = spikesOf(rng, inputs, rng.int(0, inputs));
      const want = Int32Array.from({ length: outK * outH * outW }, () => rng.int(-1000, 1000));
      const got = Int32Array.from(want);
      const kernel = { 4: K.scatterConv2dW4Exact, 8: K.scatterConv2dW8Exact, 16: K.scatterConv2dW16Exact }[bits] as (...a: unknown[]) => number;
      const updates = kernel(pre, pre.length, EMPTY, false, inC, inH, inW, outH, outW, kh, kw, sy, sx, py, px, outK, data, shift, perChannel, want);
      expect(foldSpikeLists(lists!, pre, pre.length, got)).toBe(updates);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  it("pool: the integers and update counts of scatterPoolExact over random geometries (overlapping windows too)", () => {
    const rng = new TestRng(78);
    for (let trial = 0; trial < 40; trial++) {
      const [inC, inH, inW] = [rng.int(1, 3), rng.int(1, 12), rng.int(1, 12)];
      const [kh, kw, sy, sx] = [rng.int(1, 4), rng.int(1, 4), rng.int(1, 3), rng.int(1, 3)];
      const outH = Math.max(1, Math.floor((inH - kh) / sy) + 1);
      const outW = Math.max(1, Math.floor((inW - kw) / sx) + 1);
      const [weight, shift] = [rng.int(-300, 300), rng.int(0, 6)];
      const lists = windowSpikeLists({ inC, inH, inW, outK: inC, outH, outW, kh, kw, sy, sx, py: 0, px: 0 }, true, () => weight * 2 ** shift);
      const inputs = inC * inH * inW;
      const pre = spikesOf(rng, inputs, rng.int(0, inputs));
      const want = Int32Array.from({ length: inC * outH * outW }, () => rng.int(-1000, 1000));
      const got = Int32Array.from(want);
      const updates = K.scatterPoolExact(pre, pre.length, EMPTY, false, inH, inW, outH, outW, kh, kw, sy, sx, weight, shift, want);
      expect(foldSpikeLists(lists!, pre, pre.length, got)).toBe(updates);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
  });

  it("sparse: the integers and update counts of scatterSparseW8C16Exact / W16C32Exact, per-channel shifts too", () => {
    const rng = new TestRng(79);
    for (let trial = 0; trial < 40; trial++) {
      const [inputs, outputs] = [rng.int(1, 60), rng.int(1, 60)];
      const divisors = Array.from({ length: outputs }, (_, d) => d + 1).filter((d) => outputs % d === 0);
      const plane = rng.pick(divisors);
      const channels = outputs / plane;
      const rowPtr = new Uint32Array(inputs + 1);
      const cols: number[] = [];
      for (let p = 0; p < inputs; p++) {
        for (let j = 0; j < outputs; j++) if (rng.chance(0.3)) cols.push(j);
        rowPtr[p + 1] = cols.length;
      }
      const bits = trial % 2 === 0 ? 8 : 16;
      const values = cols.map(() => rng.int(range[bits][0], range[bits][1]));
      const perChannel = rng.chance(0.5);
      const shift = perChannel ? Uint8Array.from({ length: channels }, () => rng.int(0, 6)) : Uint8Array.of(rng.int(0, 6));
      const colArray = bits === 8 ? Uint16Array.from(cols) : Uint32Array.from(cols);
      const lists = sparseSpikeLists(rowPtr, colArray, (q, j) => values[q]! * 2 ** shift[perChannel ? Math.floor(j / plane) : 0]!);
      const pre = spikesOf(rng, inputs, rng.int(0, inputs));
      const want = Int32Array.from({ length: outputs }, () => rng.int(-1000, 1000));
      const got = Int32Array.from(want);
      const updates =
        bits === 8
          ? K.scatterSparseW8C16Exact(pre, pre.length, EMPTY, false, rowPtr, colArray as Uint16Array, Int8Array.from(values), shift, perChannel, plane, want)
          : K.scatterSparseW16C32Exact(pre, pre.length, EMPTY, false, rowPtr, colArray as Uint32Array, Int16Array.from(values), shift, perChannel, plane, want);
      expect(foldSpikeLists(lists!, pre, pre.length, got)).toBe(updates);
      expect(Array.from(got)).toEqual(Array.from(want));
    }
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
        name: "hidden",
        size: 50,
        input: {
          kind: "dense",
          inputs: 700,
          outputs: 50,
          weights: weights(
            700 * 50,
            Uint8Array.from({ length: 50 }, () => rng.int(0, 2)),
          ),
        },
        recurrent: { kind: "dense", inputs: 50, outputs: 50, weights: weights(2500, Uint8Array.of(1)) },
        neuron: { ...neuron, threshold: bits === 8 ? 20000 : 1500 },
      },
      {
        name: "out",
        size: 7,
        input: { kind: "dense", inputs: 50, outputs: 7, weights: weights(350, Uint8Array.of(2)) },
        neuron: { ...neuron, threshold: 900 },
      },
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
      const input = encodeSample(
        table.input,
        Uint8Array.from({ length: 700 }, () => 150 + rng.int(0, 105)),
        40,
      );
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
