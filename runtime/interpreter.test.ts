import { describe, expect, it } from "vitest";
import type { StepEvents } from "./events.js";
import { NO_EVENTS } from "./events.js";
import { INT32_MAX, INT32_MIN } from "./fixed.js";
import { Interpreter as GeneratedInterpreter, encodeSample } from "./interpreter.js";
import { DEFAULT_NEURON, type Connection, type EventTable, type Layer, type NeuronParams, type Shape3, type Weights } from "./model.js";
import { XORSHIFT32_REFERENCE_SEED, Xorshift32 } from "./prng.js";
import { ReferenceInterpreter } from "./testing/reference-interpreter.js";
import { randomTable } from "./testing/random-table.js";
import { codeOf as errorCode } from "./testing/error-code.js";

/** The public surface both implementations share. */
type Sim = { [K in keyof GeneratedInterpreter]: GeneratedInterpreter[K] };
/** Every implementation runs every hand-computed test: the generated kernels and the hand-written oracle. */
const IMPLEMENTATIONS: Array<[name: string, Interpreter: new (table: EventTable) => Sim]> = [
  ["generated kernels", GeneratedInterpreter],
  ["reference oracle", ReferenceInterpreter],
];

// ---- helpers -------------------------------------------------------------------------------------

function w8(data: number[], shift: number[] = [0]): Weights {
  return { bits: 8, data: Int8Array.from(data), count: data.length, shift: Uint8Array.from(shift) };
}
function w16(data: number[], shift: number[] = [0]): Weights {
  return { bits: 16, data: Int16Array.from(data), count: data.length, shift: Uint8Array.from(shift) };
}
function dense(inputs: number, outputs: number, weights: Weights): Connection {
  return { kind: "dense", inputs, outputs, weights };
}
function layer(size: number, input: Connection, neuron: Partial<NeuronParams> = {}, extra: Partial<Layer> = {}): Layer {
  return { name: `l${size}`, size, input, neuron: { ...DEFAULT_NEURON, threshold: 1000, ...neuron }, ...extra };
}
function net(inputSize: number, layers: Layer[], readout: "count" | "membrane" = "count"): EventTable {
  return {
    input: { size: inputSize, encoding: "spikes", seed: 1 },
    layers,
    readout: { kind: readout },
    provenance: { source: "test", tool: "test", settings: {}, layerScales: layers.map(() => 1) },
  };
}
function ev(...indices: number[]): StepEvents {
  return { indices: Uint32Array.from(indices) };
}
/** Runs the steps and records membrane, spikes (and current) of one layer after each step. */
function trace(interp: Sim, steps: StepEvents[], l = 0): { v: number[][]; spikes: number[][]; i: number[][] } {
  const out = { v: [] as number[][], spikes: [] as number[][], i: [] as number[][] };
  for (const s of steps) {
    interp.step(s);
    out.v.push(Array.from(interp.membrane(l)));
    out.spikes.push(Array.from(interp.lastSpikes(l)));
    out.i.push(Array.from(interp.current(l)));
  }
  return out;
}
describe.each(IMPLEMENTATIONS)("%s", (_name, Interpreter) => {
  // ---- neurons ------------------------------------------------------------------------------------

  describe("if neurons on a dense connection", () => {
    it("integrates fan-out weights and resets by subtraction", () => {
      // weights pre-major: pre0 -> [3, -2], pre1 -> [1, 5]; threshold 5
      const sim = new Interpreter(net(2, [layer(2, dense(2, 2, w8([3, -2, 1, 5])), { threshold: 5 })]));
      const r = trace(sim, [ev(0), ev(0, 1), ev(1), NO_EVENTS]);
      // step0: acc [3,-2] -> v [3,-2]
      // step1: acc [3+1, -2+5] = [4,3] -> v [7,1]; 7 >= 5 spikes -> 7-5 = 2
      // step2: acc [1,5] -> v [3,6]; 6 spikes -> 1
      // step3: no input, no leak -> [3,1]
      expect(r.v).toEqual([
        [3, -2],
        [2, 1],
        [3, 1],
        [3, 1],
      ]);
      expect(r.spikes).toEqual([[], [0], [1], []]);
      expect(Array.from(sim.spikeCounts(0))).toEqual([1, 1]);
      expect(sim.t).toBe(4);
      expect(sim.synapticEvents).toBe(2 + 4 + 2); // events x fan-out 2
    });

    it("saturates at INT32_MAX and INT32_MIN instead of wrapping", () => {
      // int16 weights with shift 16: 32767 << 16 = 2147418112, -32768 << 16 = -2^31
      const up = new Interpreter(net(2, [layer(1, dense(2, 1, w16([32767, 32767], [16])), { threshold: INT32_MAX, reset: "value", resetValue: 0 })]));
      up.step(ev(0, 1)); // acc = sat(2 * 2147418112) = INT32_MAX >= threshold -> spike, reset to 0
      expect(Array.from(up.lastSpikes(0))).toEqual([0]);
      expect(up.membrane(0)[0]).toBe(0);
      up.step(ev(0)); // v = 2147418112 < threshold
      up.step(ev(0)); // v = sat(2 * 2147418112) = INT32_MAX -> spike
      expect(Array.from(up.lastSpikes(0))).toEqual([0]);

      const down = new Interpreter(net(2, [layer(1, dense(2, 1, w16([-32768, -32768], [16])))]));
      down.step(ev(0, 1)); // acc = sat(-2^31 - 2^31) = INT32_MIN
      expect(down.membrane(0)[0]).toBe(INT32_MIN);
      down.step(ev(0)); // v = sat(INT32_MIN - 2^31) = INT32_MIN, no wrap to 0
      expect(down.membrane(0)[0]).toBe(INT32_MIN);
    });

    it("folds contributions in ascending presynaptic order with saturation (spec §3.3)", () => {
      // pre0, pre1: +2147418112 each, pre2: -2^31. acc: 2147418112 -> sat -> INT32_MAX -> INT32_MAX - 2^31 = -1.
      // The exact sum would be 2147352576: the test pins the saturating fold.
      const sim = new Interpreter(net(3, [layer(1, dense(3, 1, w16([32767, 32767, -32768], [16])), { threshold: INT32_MAX })]));
      sim.step(ev(0, 1, 2));
      expect(sim.membrane(0)[0]).toBe(-1);
    });

    it("applies graded events as sat((w * value) << shift)", () => {
      const sim = new Interpreter(net(2, [layer(2, dense(2, 2, w8([-3, 1, 0, 0], [4])), { threshold: INT32_MAX })]));
      sim.step({ indices: Uint32Array.from([0]), values: Uint8Array.from([200]) });
      expect(Array.from(sim.membrane(0))).toEqual([-9600, 3200]); // -3*200*16, 1*200*16
    });
  });

  describe("leak forms on negative membranes", () => {
    it("lif-shift: negative v moves up to 0", () => {
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([-5])), { model: "lif-shift", leakShift: 1 })]));
      const r = trace(sim, [ev(0), NO_EVENTS, NO_EVENTS, NO_EVENTS, NO_EVENTS]);
      // leak(0)=0, +(-5) = -5; then -5-(-3) = -2; -2-(-1) = -1; -1-(-1) = 0; 0
      expect(r.v.map((v) => v[0])).toEqual([-5, -2, -1, 0, 0]);
    });

    it("lif-shift: positive v below 2^k stays, and the leak applies before input", () => {
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([7])), { model: "lif-shift", leakShift: 2 })]));
      const r = trace(sim, [ev(0), NO_EVENTS, NO_EVENTS, NO_EVENTS, NO_EVENTS, ev(0)]);
      // 7; 7-1 = 6; 6-1 = 5; 5-1 = 4; 4-1 = 3; then leak 3-0 = 3, +7 = 10
      expect(r.v.map((v) => v[0])).toEqual([7, 6, 5, 4, 3, 10]);
    });

    it("lif-q15: floor keeps -1 at -1", () => {
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([-5])), { model: "lif-q15", leakQ15: 16384 })]));
      const r = trace(sim, [ev(0), NO_EVENTS, NO_EVENTS, NO_EVENTS, NO_EVENTS]);
      // -5; floor(-2.5) = -3; floor(-1.5) = -2; floor(-1) = -1; floor(-0.5) = -1
      expect(r.v.map((v) => v[0])).toEqual([-5, -3, -2, -1, -1]);
    });

    it("lif-q15: positive v decays to 0; a = 32767 keeps -100", () => {
      const pos = new Interpreter(net(1, [layer(1, dense(1, 1, w8([5])), { model: "lif-q15", leakQ15: 16384 })]));
      // 5; floor(2.5) = 2; 1; floor(0.5) = 0
      expect(trace(pos, [ev(0), NO_EVENTS, NO_EVENTS, NO_EVENTS]).v.map((v) => v[0])).toEqual([5, 2, 1, 0]);
      const slow = new Interpreter(net(1, [layer(1, dense(1, 1, w8([-100])), { model: "lif-q15", leakQ15: 32767 })]));
      // -100; floor(-100 * 32767 / 32768) = floor(-99.997) = -100
      expect(trace(slow, [ev(0), NO_EVENTS, NO_EVENTS]).v.map((v) => v[0])).toEqual([-100, -100, -100]);
    });

    it("lif-shift at INT32_MIN halves without overflow", () => {
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w16([-32768], [16])), { model: "lif-shift", leakShift: 1 })]));
      sim.step(ev(0)); // v = -2^31
      sim.step(NO_EVENTS); // -2^31 - (-2^30) = -2^30
      expect(sim.membrane(0)[0]).toBe(-1073741824);
    });
  });

  describe("reset, clamp, bias and refractory", () => {
    it("reset to value is followed by the vMin clamp", () => {
      // threshold 10, resetValue -3, vMin -2: 12 fires -> -3 -> clamped to -2; then no input -> -2
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([12])), { threshold: 10, reset: "value", resetValue: -3, vMin: -2 })]));
      const r = trace(sim, [ev(0), NO_EVENTS]);
      expect(r.v).toEqual([[-2], [-2]]);
      expect(r.spikes).toEqual([[0], []]);
    });

    it("vMin clamps negative input", () => {
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([-100])), { vMin: -30 })]));
      const r = trace(sim, [ev(0), ev(0)]);
      expect(r.v).toEqual([[-30], [-30]]);
    });

    it("refractory neurons discard input and bias", () => {
      // IF, threshold 10, refractory 2, bias 1, weight 9, input every step.
      // t0: 0+1+9 = 10 fires -> 0, r=2; t1, t2: refractory (v stays 0); t3: 10 fires again; ...
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([9])), { threshold: 10, refractory: 2 }, { bias: Int32Array.from([1]) })]));
      const r = trace(
        sim,
        Array.from({ length: 7 }, () => ev(0)),
      );
      expect(r.spikes).toEqual([[0], [], [], [0], [], [], [0]]);
      expect(r.v.map((v) => v[0])).toEqual([0, 0, 0, 0, 0, 0, 0]);
    });

    it("refractory neurons keep leaking", () => {
      // lif-shift k=1, threshold 10, refractory 1, weight 13 every step.
      // t0: 0+13 = 13 fires -> 3, r=1; t1: refractory, leak 3-1 = 2; t2: leak 2-1 = 1, +13 = 14 fires -> 4;
      // t3: refractory, leak 4-2 = 2
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([13])), { model: "lif-shift", leakShift: 1, threshold: 10, refractory: 1 })]));
      const r = trace(sim, [ev(0), ev(0), ev(0), ev(0)]);
      expect(r.v.map((v) => v[0])).toEqual([3, 2, 4, 2]);
      expect(r.spikes).toEqual([[0], [], [0], []]);
    });

    it("per-channel bias is expanded over the channel's plane", () => {
      const sim = new Interpreter(net(1, [layer(4, dense(1, 4, w8([0, 0, 0, 0])), {}, { shape: [2, 1, 2] as Shape3, bias: Int32Array.from([5, -7]) })]));
      sim.step(NO_EVENTS);
      expect(Array.from(sim.membrane(0))).toEqual([5, 5, -7, -7]);
    });
  });

  describe("cuba neurons", () => {
    it("decays the current and integrates it into the membrane", () => {
      // currentShift 1, leakShift 0, threshold 100, input 40 at t0 only:
      // i: 40, 40-20 = 20, 20-10 = 10, 10-5 = 5; v: 40, 60, 70, 75
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([40])), { model: "cuba", currentShift: 1, threshold: 100 })]));
      const r = trace(sim, [ev(0), NO_EVENTS, NO_EVENTS, NO_EVENTS]);
      expect(r.i.map((i) => i[0])).toEqual([40, 20, 10, 5]);
      expect(r.v.map((v) => v[0])).toEqual([40, 60, 70, 75]);
    });

    it("keeps the current evolving while the membrane is refractory", () => {
      // threshold 50, refractory 1, currentShift 1, weight 60 at t0:
      // t0: i = 60, v = 60 fires -> 10, r = 1; t1: i = 30, refractory, v = 10;
      // t2: i = 30-15 = 15, v = 25; t3: i = 15-7 = 8, v = 33
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([60])), { model: "cuba", currentShift: 1, threshold: 50, refractory: 1 })]));
      const r = trace(sim, [ev(0), NO_EVENTS, NO_EVENTS, NO_EVENTS]);
      expect(r.i.map((i) => i[0])).toEqual([60, 30, 15, 8]);
      expect(r.v.map((v) => v[0])).toEqual([10, 10, 25, 33]);
    });

    it("with currentShift 0 the current is just this step's input", () => {
      const sim = new Interpreter(net(1, [layer(1, dense(1, 1, w8([40])), { model: "cuba", currentShift: 0, leakShift: 1 })]));
      const r = trace(sim, [ev(0), NO_EVENTS]);
      expect(r.i.map((i) => i[0])).toEqual([40, 0]);
      expect(r.v.map((v) => v[0])).toEqual([40, 20]); // leak 40 - 20
    });
  });

  describe("integrator readout", () => {
    it("integrates without firing and reads the argmax membrane, ties to the lowest index", () => {
      const table = net(
        2,
        [
          layer(2, dense(2, 2, w8([10, 0, 0, 10])), { threshold: 10 }),
          layer(3, dense(2, 3, w8([2, 5, 5, 7, 0, 0])), { model: "integrator", threshold: 1 }, { bias: Int32Array.from([1, 0, 0]) }),
        ],
        "membrane",
      );
      const sim = new Interpreter(table);
      sim.step(ev(0)); // layer0 neuron0 fires; layer1 v = [1+2, 5, 5] (same step) -> tie 1, 2 -> class 1
      expect(Array.from(sim.membrane(1))).toEqual([3, 5, 5]);
      expect(sim.lastSpikes(1).length).toBe(0);
      expect(sim.readoutClass()).toBe(1);
      sim.step(ev(1)); // layer0 neuron1 fires: v = [3+1+7, 5, 5] = [11, 5, 5]
      expect(Array.from(sim.membrane(1))).toEqual([11, 5, 5]);
      expect(sim.readoutClass()).toBe(0);
    });

    it("count readout breaks ties to the lowest index and gives 0 with no spikes", () => {
      const sim = new Interpreter(net(3, [layer(3, dense(3, 3, w8([0, 0, 0, 0, 5, 0, 0, 0, 5])), { threshold: 5 })]));
      expect(sim.readoutClass()).toBe(0);
      sim.step(ev(2));
      expect(sim.readoutClass()).toBe(2);
      sim.step(ev(1));
      expect(sim.readoutClass()).toBe(1); // counts [0,1,1]
    });
  });

  // ---- connections --------------------------------------------------------------------------------

  describe("sparse connections and int4 weights", () => {
    it("unpacks negative nibbles (duplicate columns, which the format forbids, would fold in CSR order)", () => {
      // int4 weights [-1, 7, -8, 3] packed low nibble first: 0x7F, 0x38; shift 2 (x4)
      // pre0: cols [2, 0, 2] weights [-1, 7, -8] -> acc[2] = -4 - 32 = -36, acc[0] = 28; pre1: col 1 weight 3 -> 12
      const sparse: Connection = {
        kind: "sparse",
        inputs: 2,
        outputs: 3,
        rowPtr: Uint32Array.from([0, 3, 4]),
        cols: Uint16Array.from([2, 0, 2, 1]),
        weights: { bits: 4, data: Uint8Array.from([0x7f, 0x38]), count: 4, shift: Uint8Array.from([2]) },
      };
      const sim = new Interpreter(net(2, [layer(3, sparse)]));
      sim.step(ev(0));
      expect(Array.from(sim.membrane(0))).toEqual([28, 0, -36]);
      expect(sim.synapticEvents).toBe(3);
      sim.step(ev(1));
      expect(Array.from(sim.membrane(0))).toEqual([28, 12, -36]);
    });

    it("int4 dense weights with an odd count use the last low nibble", () => {
      // 3 weights [-8, -1, 5]: bytes 0xF8 (low 8 = -8, high F = -1), 0x05
      const c = dense(1, 3, { bits: 4, data: Uint8Array.from([0xf8, 0x05]), count: 3, shift: Uint8Array.from([0]) });
      const sim = new Interpreter(net(1, [layer(3, c)]));
      sim.step(ev(0));
      expect(Array.from(sim.membrane(0))).toEqual([-8, -1, 5]);
    });

    it("per-channel shifts on a dense connection into a layer with a shape", () => {
      // post shape [2,1,2]: neurons 0,1 in channel 0 (shift 1), neurons 2,3 in channel 1 (shift 3)
      const sim = new Interpreter(net(1, [layer(4, dense(1, 4, w8([1, 1, 1, 1], [1, 3])), {}, { shape: [2, 1, 2] as Shape3 })]));
      sim.step(ev(0));
      expect(Array.from(sim.membrane(0))).toEqual([2, 2, 8, 8]);
    });

    it("per-output-channel shifts on dense weights", () => {
      const sim = new Interpreter(net(1, [layer(2, dense(1, 2, w8([3, -3], [1, 4])))]));
      sim.step(ev(0));
      expect(Array.from(sim.membrane(0))).toEqual([6, -48]);
    });
  });

  /** Direct gather: out[k][oy][ox] = sum of w[k][c][ky][kx] << shift over present input events (value 1). */
  function naiveConv(
    inShape: Shape3,
    outShape: Shape3,
    kernel: [number, number],
    stride: [number, number],
    padding: [number, number],
    w: number[],
    shift: number[],
    events: Set<number>,
  ): number[] {
    const [C, H, W] = inShape;
    const [K, OH, OW] = outShape;
    const out: number[] = [];
    for (let k = 0; k < K; k++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let sum = 0;
          for (let c = 0; c < C; c++)
            for (let ky = 0; ky < kernel[0]; ky++)
              for (let kx = 0; kx < kernel[1]; kx++) {
                const y = oy * stride[0] - padding[0] + ky;
                const x = ox * stride[1] - padding[1] + kx;
                if (y < 0 || y >= H || x < 0 || x >= W) continue; // zero padding
                if (events.has((c * H + y) * W + x))
                  sum += w[((k * C + c) * kernel[0] + ky) * kernel[1] + kx]! * 2 ** (shift.length === 1 ? shift[0]! : shift[k]!);
              }
          out.push(sum);
        }
    return out;
  }

  describe("conv2d scatter", () => {
    const ramp = w8([1, 2, 3, 4, 5, 6, 7, 8, 9]); // w[ky][kx] = 3*ky + kx + 1

    it("pads borders: a corner event reaches the four outputs around it", () => {
      const conv: Connection = { kind: "conv2d", inShape: [1, 3, 3], outShape: [1, 3, 3], kernel: [3, 3], stride: [1, 1], padding: [1, 1], weights: ramp };
      const sim = new Interpreter(net(9, [layer(9, conv)]));
      sim.step(ev(0)); // input (0,0): out(oy,ox) gets w[1-oy][1-ox]: (0,0) w11 = 5, (0,1) w10 = 4, (1,0) w01 = 2, (1,1) w00 = 1
      expect(Array.from(sim.membrane(0))).toEqual([5, 4, 0, 2, 1, 0, 0, 0, 0]);
      expect(sim.synapticEvents).toBe(4);
    });

    it("strides: an event reaches only outputs on the stride grid", () => {
      const conv: Connection = { kind: "conv2d", inShape: [1, 5, 5], outShape: [1, 2, 2], kernel: [3, 3], stride: [2, 2], padding: [0, 0], weights: ramp };
      const sim = new Interpreter(net(25, [layer(4, conv)]));
      sim.step(ev(2 * 5 + 2)); // input (2,2): 2 - ky = 2*oy -> (ky,oy) in {(0,1),(2,0)}: out(0,0) w22 = 9, (0,1) w20 = 7, (1,0) w02 = 3, (1,1) w00 = 1
      expect(Array.from(sim.membrane(0))).toEqual([9, 7, 3, 1]);
    });

    it("equals a direct gather on random geometries, weights and events", () => {
      const g = new Xorshift32(12345);
      const rnd = (n: number): number => g.next() % n;
      const configs: Array<{ inShape: Shape3; kernel: [number, number]; stride: [number, number]; padding: [number, number]; K: number; perK: boolean }> = [
        { inShape: [2, 7, 6], kernel: [3, 3], stride: [1, 1], padding: [1, 1], K: 3, perK: true },
        { inShape: [1, 9, 9], kernel: [3, 2], stride: [2, 3], padding: [2, 1], K: 2, perK: false },
        { inShape: [3, 8, 5], kernel: [5, 5], stride: [2, 2], padding: [2, 2], K: 4, perK: true },
        { inShape: [2, 4, 4], kernel: [1, 1], stride: [3, 1], padding: [0, 0], K: 2, perK: false },
      ];
      for (const cfg of configs) {
        const [C, H, W] = cfg.inShape;
        const OH = Math.floor((H + 2 * cfg.padding[0] - cfg.kernel[0]) / cfg.stride[0]) + 1;
        const OW = Math.floor((W + 2 * cfg.padding[1] - cfg.kernel[1]) / cfg.stride[1]) + 1;
        const outShape: Shape3 = [cfg.K, OH, OW];
        const wCount = cfg.K * C * cfg.kernel[0] * cfg.kernel[1];
        const weights = Array.from({ length: wCount }, () => rnd(256) - 128);
        const shift = cfg.perK ? Array.from({ length: cfg.K }, () => rnd(4)) : [1];
        const conv: Connection = {
          kind: "conv2d",
          inShape: cfg.inShape,
          outShape,
          kernel: cfg.kernel,
          stride: cfg.stride,
          padding: cfg.padding,
          weights: w8(weights, shift),
        };
        const sim = new Interpreter(net(C * H * W, [layer(cfg.K * OH * OW, conv, { threshold: INT32_MAX })]));
        for (let trial = 0; trial < 5; trial++) {
          const events = new Set<number>();
          for (let i = 0; i < C * H * W; i++) if (rnd(3) === 0) events.add(i);
          sim.reset();
          sim.step(ev(...[...events].sort((a, b) => a - b)));
          expect(Array.from(sim.membrane(0))).toEqual(naiveConv(cfg.inShape, outShape, cfg.kernel, cfg.stride, cfg.padding, weights, shift, events));
        }
      }
    });
  });

  describe("pooling", () => {
    it("sums non-overlapping windows with one weight and shift", () => {
      // 1x4x4 -> 1x2x2, kernel 2, stride 2, weight 3 << 1 = 6.
      // events (0,0), (0,1), (1,1) fall in window (0,0): 18; (3,3) in window (1,1): 6
      const pool: Connection = { kind: "pool", inShape: [1, 4, 4], outShape: [1, 2, 2], kernel: [2, 2], stride: [2, 2], weight: 3, shift: 1 };
      const sim = new Interpreter(net(16, [layer(4, pool)]));
      sim.step(ev(0, 1, 5, 15));
      expect(Array.from(sim.membrane(0))).toEqual([18, 0, 0, 6]);
    });

    it("reaches every overlapping window containing the event", () => {
      // 2x3x3 -> 2x2x2, kernel 2, stride 1: event (c=1, y=1, x=1) lies in all four windows of channel 1
      const pool: Connection = { kind: "pool", inShape: [2, 3, 3], outShape: [2, 2, 2], kernel: [2, 2], stride: [1, 1], weight: -2, shift: 0 };
      const sim = new Interpreter(net(18, [layer(8, pool)]));
      sim.step(ev(9 + 4));
      expect(Array.from(sim.membrane(0))).toEqual([0, 0, 0, 0, -2, -2, -2, -2]);
      expect(sim.synapticEvents).toBe(4);
    });
  });

  describe("delays", () => {
    it("recurrent spikes arrive one step later; feed-forward spikes cross layers in the same step", () => {
      // layer0: input -> neuron0 (weight 10); recurrent neuron0 -> neuron1 (weight 10); threshold 10
      // layer1: neuron1 of layer0 -> its only neuron (weight 10)
      const l0 = layer(2, dense(1, 2, w8([10, 0])), { threshold: 10 }, { recurrent: dense(2, 2, w8([0, 10, 0, 0])) });
      const l1 = layer(1, dense(2, 1, w8([0, 10])), { threshold: 10 });
      const sim = new Interpreter(net(1, [l0, l1]));
      const spikes: number[][][] = [];
      for (const s of [ev(0), NO_EVENTS, NO_EVENTS]) {
        sim.step(s);
        spikes.push([Array.from(sim.lastSpikes(0)), Array.from(sim.lastSpikes(1))]);
      }
      // t0: neuron0 fires; t1: neuron1 receives the recurrent spike and fires, layer1 fires in the same step; t2: quiet
      expect(spikes).toEqual([
        [[0], []],
        [[1], [0]],
        [[], []],
      ]);
    });

    it("reset forgets the last step's spikes", () => {
      const l0 = layer(2, dense(1, 2, w8([10, 0])), { threshold: 10 }, { recurrent: dense(2, 2, w8([0, 10, 0, 0])) });
      const sim = new Interpreter(net(1, [l0]));
      sim.step(ev(0));
      sim.reset();
      sim.step(NO_EVENTS);
      expect(Array.from(sim.lastSpikes(0))).toEqual([]);
      expect(Array.from(sim.membrane(0))).toEqual([0, 0]);
    });
  });

  // ---- input, snapshots, errors ---------------------------------------------------------------------

  describe("input validation", () => {
    const sim = new Interpreter(net(3, [layer(1, dense(3, 1, w8([1, 1, 1])))]));
    it("rejects out-of-range, unsorted, duplicate and zero-valued events without changing state", () => {
      sim.step(ev(0));
      const before = sim.snapshot();
      expect(errorCode(() => sim.step(ev(3)))).toBe("SEMANTICS_BAD_INPUT");
      expect(errorCode(() => sim.step(ev(2, 1)))).toBe("SEMANTICS_BAD_INPUT");
      expect(errorCode(() => sim.step(ev(1, 1)))).toBe("SEMANTICS_BAD_INPUT");
      expect(errorCode(() => sim.step({ indices: Uint32Array.from([1]), values: Uint8Array.from([0]) }))).toBe("SEMANTICS_BAD_INPUT");
      expect(errorCode(() => sim.step({ indices: Uint32Array.from([1]), values: Uint8Array.from([1, 2]) }))).toBe("SEMANTICS_BAD_INPUT");
      expect(sim.snapshot()).toEqual(before);
    });

    it("rejects inconsistent tables", () => {
      expect(errorCode(() => new Interpreter(net(2, [layer(1, dense(3, 1, w8([1, 1, 1])))])))).toBe("SEMANTICS_SHAPE_MISMATCH");
      expect(errorCode(() => new Interpreter(net(2, [layer(1, dense(2, 1, w8([1])))])))).toBe("FORMAT_SIZE_MISMATCH");
      expect(errorCode(() => new Interpreter(net(2, [layer(1, dense(2, 1, w8([1, 1], [24])))])))).toBe("FORMAT_OUT_OF_RANGE");
      expect(errorCode(() => new Interpreter(net(2, [layer(1, dense(2, 1, w8([1, 1])), { threshold: 0 })])))).toBe("FORMAT_OUT_OF_RANGE");
      const badCols: Connection = { kind: "sparse", inputs: 1, outputs: 2, rowPtr: Uint32Array.from([0, 1]), cols: Uint16Array.from([2]), weights: w8([1]) };
      expect(errorCode(() => new Interpreter(net(1, [layer(2, badCols)])))).toBe("FORMAT_INDEX_OUT_OF_BOUNDS");
    });
  });

  describe("encodeSample", () => {
    const base = { size: 2, seed: XORSHIFT32_REFERENCE_SEED } as const;

    it("rate: one draw per input per step, spike when the top byte is below the intensity", () => {
      // draws (top bytes) from the reference sequence: 0x2b 0x94 | 0x7b 0x77 | 0xd2 0x16 | 0x50 0x29
      // intensities [128, 30]: step0: 43<128 yes, 148<30 no; step1: 123 yes, 119 no; step2: 210 no, 22 yes; step3: 80 yes, 41 no
      const steps = encodeSample({ ...base, encoding: "rate" }, Uint8Array.from([128, 30]), 4);
      expect(steps.map((s) => Array.from(s.indices))).toEqual([[0], [0], [1], [0]]);
      // a caller's generator continues across samples: the second call starts at draw 9
      const g = new Xorshift32(XORSHIFT32_REFERENCE_SEED);
      encodeSample({ ...base, encoding: "rate" }, Uint8Array.from([0, 0]), 4, g);
      const ref = new Xorshift32(XORSHIFT32_REFERENCE_SEED);
      for (let k = 0; k < 8; k++) ref.next();
      expect(g.value).toBe(ref.value);
    });

    it("current gives graded events, spikes a binary frame", () => {
      const cur = encodeSample({ ...base, encoding: "current" }, Uint8Array.from([0, 77]), 2);
      expect(cur.map((s) => [Array.from(s.indices), Array.from(s.values ?? [])])).toEqual([
        [[1], [77]],
        [[1], [77]],
      ]);
      const spk = encodeSample({ ...base, encoding: "spikes" }, Uint8Array.from([9, 0]), 2);
      expect(spk.map((s) => [Array.from(s.indices), s.values])).toEqual([
        [[0], undefined],
        [[0], undefined],
      ]);
    });

    it("rejects samples of the wrong size and bad step counts", () => {
      expect(errorCode(() => encodeSample({ ...base, encoding: "rate" }, Uint8Array.from([1]), 2))).toBe("SEMANTICS_BAD_INPUT");
      expect(errorCode(() => encodeSample({ ...base, encoding: "rate" }, Uint8Array.from([1, 2]), -1))).toBe("SEMANTICS_BAD_INPUT");
    });
  });

  describe("snapshot and restore", () => {
    function busyTable(): EventTable {
      const g = new Xorshift32(99);
      const rw = (n: number): number[] => Array.from({ length: n }, () => (g.next() % 61) - 20);
      return net(
        6,
        [
          layer(
            5,
            dense(6, 5, w8(rw(30))),
            { model: "cuba", currentShift: 2, leakShift: 3, threshold: 40, refractory: 2 },
            { recurrent: dense(5, 5, w8(rw(25))) },
          ),
          layer(4, dense(5, 4, w8(rw(20))), { model: "lif-q15", leakQ15: 30000, threshold: 30, reset: "value", resetValue: -5, vMin: -50 }),
          layer(3, dense(4, 3, w8(rw(12))), { model: "integrator" }),
        ],
        "membrane",
      );
    }

    it("a restored interpreter continues identically", () => {
      const table = busyTable();
      const input = encodeSample({ size: 6, encoding: "rate", seed: 7 }, Uint8Array.from([200, 150, 90, 255, 30, 120]), 40);
      const a = new Interpreter(table);
      for (let t = 0; t < 20; t++) a.step(input[t]!);
      const snap = a.snapshot();
      const b = new Interpreter(table);
      b.restore(snap);
      expect(b.t).toBe(20);
      expect(b.snapshot()).toEqual(snap);
      let totalSpikes = 0;
      for (let t = 20; t < 40; t++) {
        a.step(input[t]!);
        b.step(input[t]!);
        for (let l = 0; l < 3; l++) {
          expect(Array.from(b.lastSpikes(l))).toEqual(Array.from(a.lastSpikes(l)));
          expect(Array.from(b.membrane(l))).toEqual(Array.from(a.membrane(l)));
          totalSpikes += a.lastSpikes(l).length;
        }
        expect(Array.from(b.current(0))).toEqual(Array.from(a.current(0)));
      }
      expect(totalSpikes).toBeGreaterThan(0); // the comparison exercised spiking state
      expect(b.readoutClass()).toBe(a.readoutClass());
    });

    it("rejects snapshots that do not fit, leaving the state unchanged", () => {
      const a = new Interpreter(busyTable());
      a.step(ev(0, 3));
      const snap = a.snapshot();
      const other = new Interpreter(net(6, [layer(5, dense(6, 5, w8(new Array(30).fill(1))))]));
      expect(errorCode(() => other.restore(snap))).toBe("SEMANTICS_STATE_MISMATCH");
      const b = new Interpreter(busyTable());
      const fresh = b.snapshot();
      for (const cut of [0, 3, 16, snap.length - 1]) expect(errorCode(() => b.restore(snap.subarray(0, cut)))).toBe("SEMANTICS_STATE_MISMATCH");
      const extended = new Uint8Array(snap.length + 1);
      extended.set(snap);
      expect(errorCode(() => b.restore(extended))).toBe("SEMANTICS_STATE_MISMATCH");
      expect(b.snapshot()).toEqual(fresh);
    });
  });

  describe("random tables (runtime/testing/random-table.ts)", () => {
    it("accepts every valid random table and snapshots mid-run continue identically", () => {
      for (let seed = 1; seed <= 12; seed++) {
        const table = randomTable(seed, { recurrentProbability: 0.5 });
        const a = new Interpreter(table);
        const g = new Xorshift32(seed);
        const intensities = Uint8Array.from({ length: table.input.size }, () => g.next() & 255);
        const input = encodeSample(table.input, intensities, 24);
        for (let t = 0; t < 12; t++) a.step(input[t]!);
        const b = new Interpreter(table);
        b.restore(a.snapshot());
        for (let t = 12; t < 24; t++) {
          a.step(input[t]!);
          b.step(input[t]!);
        }
        expect(b.snapshot()).toEqual(a.snapshot());
        expect(b.readoutClass()).toBe(a.readoutClass());
      }
    });
  });
});
