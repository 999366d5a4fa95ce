import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../runtime/errors.js";
import { weightAt } from "../runtime/format.js";
import type { DenseConnection, PoolConnection } from "../runtime/model.js";
import type { FloatSnn } from "./float-snn.js";
import { chooseScale, integerLeak, quantizeSnn } from "./quantize.js";

function tinySnn(leak = 1, encoding: "current" | "rate" = "rate"): FloatSnn {
  return {
    input: { shape: [1, 1, 2], encoding, scale: 1 / 255 },
    layers: [
      {
        kind: "dense",
        name: "h",
        inputs: 2,
        outputs: 2,
        weights: Float32Array.from([0.5, -0.25, 0.125, 1.0]),
        bias: Float32Array.from([0.1, 0]),
        neuron: { model: leak === 1 ? "if" : "lif", threshold: 1, leak, reset: "subtract", refractory: 0 },
      },
      {
        kind: "dense",
        name: "o",
        inputs: 2,
        outputs: 2,
        weights: Float32Array.from([1, 0, 0, 1]),
        neuron: { model: "integrator", threshold: 1, leak: 1, reset: "subtract", refractory: 0 },
      },
    ],
    readout: "membrane",
    provenance: { source: "test", tool: "test", settings: { norm: "max" } },
  };
}

const opts = { weightBits: 8 as const, perChannel: false, seed: 1, source: "tiny" };

function weights(c: DenseConnection): number[] {
  return Array.from({ length: c.weights.count }, (_, k) => weightAt(c.weights, k));
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isPicospikeError(e) ? e.code : `non-picospike: ${String(e)}`;
  }
  return undefined;
}

describe("scale choice", () => {
  it("puts the threshold at 2^16 units and the largest weight in the top half of the range", () => {
    const a = chooseScale([1.0], 1, 127, 1);
    expect(a.scale).toBe(2 ** -16);
    expect(a.shifts).toEqual([10]); // 1.0 / (2^-16 · 2^10) = 64
    const b = chooseScale([0.001], 1, 127, 1);
    expect(b.scale).toBe(2 ** -17); // finer unit so 0.001 still maps to ≥ 64
    expect(b.shifts).toEqual([1]);
    // current input (event values up to 255) with int16: one contribution must fit int32
    const c = chooseScale([100], 1, 32767, 255);
    expect(32767 * 255 * 2 ** Math.max(...c.shifts)).toBeLessThanOrEqual(2 ** 31 - 1);
  });
});

describe("quantization arithmetic", () => {
  it("per layer, int8", () => {
    const { table, scales } = quantizeSnn(tinySnn(), opts);
    const h = table.layers[0]!;
    expect(scales[0]).toBe(2 ** -16);
    expect(h.neuron.threshold).toBe(65536);
    expect(Array.from(h.bias!)).toEqual([6554, 0]); // round(0.1 · 2^16)
    expect((h.input as DenseConnection).weights.shift).toEqual(Uint8Array.from([10]));
    expect(weights(h.input as DenseConnection)).toEqual([32, -16, 8, 64]);
    expect(h.neuron.model).toBe("if");
    expect(table.layers[1]!.neuron.model).toBe("integrator");
    expect(table.readout.kind).toBe("membrane");
    expect(table.provenance.layerScales).toEqual(scales);
    expect(table.input).toMatchObject({ size: 2, encoding: "rate", seed: 1 });
  });

  it("per channel, int8, and int4 packing", () => {
    const pc = quantizeSnn(tinySnn(), { ...opts, perChannel: true }).table.layers[0]!.input as DenseConnection;
    expect(Array.from(pc.weights.shift)).toEqual([9, 10]);
    expect(weights(pc)).toEqual([64, -16, 16, 64]);
    const q4 = quantizeSnn(tinySnn(), { ...opts, weightBits: 4 }).table.layers[0]!.input as DenseConnection;
    expect(q4.weights.bits).toBe(4);
    expect(Array.from(q4.weights.shift)).toEqual([14]); // step 2^-2
    expect(weights(q4)).toEqual([2, -1, 1, 4]);
  });

  it("current input folds the intensity scale into layer 0's weights", () => {
    const { table } = quantizeSnn(tinySnn(1, "current"), opts);
    const c = table.layers[0]!.input as DenseConnection;
    // effective weight per intensity unit: w/255; value = q · 2^shift · scale · 255 ≈ w
    const scale = table.provenance.layerScales[0]!;
    weights(c).forEach((q, k) => expect(Math.abs(q * 2 ** c.weights.shift[0]! * scale * 255 - [0.5, -0.25, 0.125, 1][k]!)).toBeLessThan(0.01));
    expect(table.input.encoding).toBe("current");
  });

  it("average pooling weight", () => {
    const snn: FloatSnn = {
      input: { shape: [1, 2, 2], encoding: "rate", scale: 1 / 255 },
      layers: [
        {
          kind: "pool",
          name: "p",
          inShape: [1, 2, 2],
          outShape: [1, 1, 1],
          kernel: [2, 2],
          stride: [2, 2],
          weight: 0.25,
          neuron: { model: "if", threshold: 1, leak: 1, reset: "zero", refractory: 0 },
        },
        {
          kind: "dense",
          name: "o",
          inputs: 1,
          outputs: 2,
          weights: Float32Array.from([1, -1]),
          neuron: { model: "integrator", threshold: 1, leak: 1, reset: "subtract", refractory: 0 },
        },
      ],
      readout: "membrane",
      provenance: { source: "", tool: "", settings: {} },
    };
    const l = quantizeSnn(snn, opts).table.layers[0]!;
    const p = l.input as PoolConnection;
    expect(p.weight * 2 ** p.shift).toBe(16384); // 0.25 of a 65536-unit threshold
    expect(l.neuron.reset).toBe("value");
    expect(l.neuron.resetValue).toBe(0);
  });
});

describe("leak and design rules", () => {
  it("maps leak factors to the integer forms of spec/ops.md", () => {
    expect(integerLeak(0.5, 65536, "l").params).toEqual({ model: "lif-shift", leakShift: 1, leakQ15: 32767 });
    expect(integerLeak(1 - 1 / 16, 65536, "l").params).toMatchObject({ model: "lif-shift", leakShift: 4 });
    expect(integerLeak(0.9, 65536, "l").params).toEqual({ model: "lif-q15", leakShift: 0, leakQ15: 29491 });
    const none = integerLeak(0.99999, 65536, "l");
    expect(none.params.model).toBe("if");
    expect(none.findings[0]!.rule).toBe("leak-no-leak");
    expect(integerLeak(1e-6, 65536, "l").findings[0]).toMatchObject({ level: "error", rule: "leak-full-wipe" });
    expect(integerLeak(1 - 2 ** -20, 1000, "l").findings[0]!.rule).toBe("leak-ineffective");
  });

  it("errors and warnings", () => {
    expect(code(() => quantizeSnn(tinySnn(1e-6), opts))).toBe("TOOLCHAIN_QUANTIZE_RULE");
    expect(code(() => quantizeSnn(tinySnn(), { ...opts, weightBits: 5 as 8 }))).toBe("TOOLCHAIN_QUANTIZE_RULE");
    expect(code(() => quantizeSnn(tinySnn(), { ...opts, seed: 0 }))).toBe("TOOLCHAIN_QUANTIZE_RULE");
    const lif = quantizeSnn(tinySnn(0.99999), opts);
    expect(lif.findings.map((f) => f.rule)).toContain("leak-no-leak");
    const sat = quantizeSnn(tinySnn(), opts, { maxMembrane: [1e6, 1], maxStepInput: [1, 1], images: 4, steps: 8 });
    expect(sat.findings.map((f) => `${f.rule}:${f.layer}`)).toContain("saturation:h");
    // A wide int16 layer fed 0..255 currents can overflow in the worst case.
    const wide: FloatSnn = {
      ...tinySnn(1, "current"),
      input: { shape: [1, 1, 4096], encoding: "current", scale: 1 / 255 },
      layers: [
        {
          kind: "dense",
          name: "w",
          inputs: 4096,
          outputs: 1,
          weights: new Float32Array(4096).fill(0.01),
          neuron: { model: "integrator", threshold: 1, leak: 1, reset: "subtract", refractory: 0 },
        },
      ],
    };
    expect(quantizeSnn(wide, { ...opts, weightBits: 16 }).findings.map((f) => f.rule)).toContain("fan-in-overflow");
  });
});

describe("version-2 rules (spec/float-snn.md §5.1 → spec/ops.md §4.9)", () => {
  /** One dense layer of 3 neurons over 2 inputs with the given neuron (and per-neuron fields). */
  function ruleSnn(neuron: FloatSnn["layers"][number]["neuron"], extra: { recurrent?: Float32Array } = {}): FloatSnn {
    return {
      input: { shape: [1, 1, 2], encoding: "rate", scale: 1 / 255 },
      layers: [
        {
          kind: "dense",
          name: "h",
          inputs: 2,
          outputs: 3,
          weights: Float32Array.from([0.5, 0.25, 0.75, -0.25, 0.5, 1.0]),
          bias: Float32Array.from([0.01, 0, -0.01]),
          neuron,
          ...extra,
        },
      ],
      readout: "count",
      provenance: { source: "test", tool: "test", settings: {} },
    };
  }
  const base = { threshold: 1, leak: 0.9, reset: "subtract" as const, refractory: 0 };

  it("maps snnTorch Leaky: per-neuron β to leakQ15s, > to gt, the late subtraction to resetDelay", () => {
    const snn = ruleSnn({ ...base, model: "lif", compare: "gt", resetDelay: true, perNeuron: { leak: Float32Array.from([0.8, 0.9, 0.95]) } });
    const n = quantizeSnn(snn, opts).table.layers[0]!.neuron;
    expect(n).toMatchObject({ model: "lif-q15", leakQ15: 32767, compare: "gt", resetDelay: true, reset: "subtract", threshold: 65536 });
    expect(Array.from(n.leakQ15s!)).toEqual([26214, 29491, 31130]);
  });

  it("maps Norse LIFBox: reset to v_reset, start at v_leak, one β for the layer when every neuron has the same", () => {
    const snn = ruleSnn({
      ...base,
      model: "lif",
      reset: "value",
      vReset: -0.25,
      vInit: 0.05,
      compare: "gt",
      perNeuron: { leak: new Float32Array(3).fill(0.5) },
    });
    const n = quantizeSnn(snn, opts).table.layers[0]!.neuron;
    expect(n).toMatchObject({ model: "lif-q15", leakQ15: 16384, reset: "value", resetValue: -16384, vInit: 3277, compare: "gt" });
    expect(n.leakQ15s).toBeUndefined();
  });

  it("maps the current-based synapse to cuba in Q15 form, and a leaking integrator to leakQ15s", () => {
    const snn = ruleSnn({ ...base, model: "lif", synDecay: 0.75, perNeuron: { leak: Float32Array.from([0.5, 0.6, 0.7]) } });
    const n = quantizeSnn(snn, opts).table.layers[0]!.neuron;
    expect(n).toMatchObject({ model: "cuba", synapse: "q15", currentQ15: 24576, leakShift: 0, currentShift: 0 });
    expect(Array.from(n.leakQ15s!)).toEqual([16384, 19661, 22938]);
    const readout: FloatSnn = { ...ruleSnn({ ...base, model: "integrator", leak: 0.96 }), readout: "membrane" };
    const r = quantizeSnn(readout, opts).table.layers[0]!.neuron;
    expect(r.model).toBe("integrator");
    expect(Array.from(r.leakQ15s!)).toEqual([31457, 31457, 31457]);
  });

  it("quantizes recurrent weights in the layer's unit", () => {
    const rec = Float32Array.from([0, 0.5, -0.5, 0.25, 0, 0, 0, 0, 0.125]);
    const t = quantizeSnn(ruleSnn({ ...base, model: "lif", compare: "gt" }, { recurrent: rec }), { ...opts, weightBits: 16 }).table;
    const c = t.layers[0]!.recurrent as DenseConnection;
    const s = t.provenance.layerScales[0]!;
    weights(c).forEach((q, k) => expect(q * 2 ** c.weights.shift[0]! * s).toBeCloseTo(rec[k]!, 4));
  });

  it("refuses what the event table cannot carry, naming the layer and the rule", () => {
    const multi = ruleSnn({ ...base, model: "if", leak: 1, multiSpike: true }, { recurrent: new Float32Array(9) });
    expect(() => quantizeSnn(multi, opts)).toThrow(/h: multiSpike with recurrent/);
    expect(quantizeSnn(ruleSnn({ ...base, model: "if", leak: 1, multiSpike: true, vMin: -1 }), opts).table.layers[0]!.neuron).toMatchObject({
      model: "if",
      multiSpike: true,
      vMin: -65536,
    });
    const perThreshold = ruleSnn({ ...base, model: "lif", perNeuron: { threshold: Float32Array.from([1, 2, 1]) } });
    expect(() => quantizeSnn(perThreshold, opts)).toThrow(/perNeuron\.threshold/);
  });

  it("runs as the float simulation does on a hand trace (int16: exact up to Q15 rounding)", async () => {
    const { FloatSimulator } = await import("./float-sim.js");
    const { Interpreter } = await import("../runtime/interpreter.js");
    const snn = ruleSnn({ ...base, model: "lif", compare: "gt", resetDelay: true, synDecay: 0.5, perNeuron: { leak: Float32Array.from([0.8, 0.9, 0.95]) } });
    const steps = Array.from({ length: 40 }, (_, t) => ({ indices: Uint32Array.from(t % 3 === 0 ? [0, 1] : t % 3 === 1 ? [0] : []) }));
    const float = new FloatSimulator(snn).runSample({ steps });
    const sim = new Interpreter(quantizeSnn(snn, { ...opts, weightBits: 16 }).table);
    for (const s of steps) sim.step(s);
    expect(Array.from(sim.spikeCounts(0))).toEqual(float.outputCounts);
  });
});
