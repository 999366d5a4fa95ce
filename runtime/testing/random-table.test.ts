import { describe, expect, it } from "vitest";
import { decodeTable, encodeTable, validateTable } from "../format.js";
import { toHex } from "../hash.js";
import { randomTable, TestRng } from "./random-table.js";

describe("randomTable", () => {
  it("is deterministic: same seed and options, same bytes; other seeds differ", () => {
    const a = encodeTable(randomTable(42, { layers: 6 }));
    expect(encodeTable(randomTable(42, { layers: 6 }))).toEqual(a);
    expect(toHex(encodeTable(randomTable(43, { layers: 6 })))).not.toBe(toHex(a));
  });

  it("gives valid tables for many seeds and option mixes", () => {
    for (let seed = 0; seed < 150; seed++) {
      const table = randomTable(seed, {
        layers: 1 + (seed % 9),
        weightBits: seed % 3 === 0 ? [4] : seed % 3 === 1 ? [8, 16] : [4, 8, 16],
        recurrentProbability: (seed % 4) / 3,
        plasticityProbability: (seed % 5) / 4,
        maxNeurons: 8 + (seed % 60),
      });
      validateTable(table);
      expect(decodeTable(encodeTable(table))).toStrictEqual(table);
    }
  });

  it("honours explicit kinds, models, encoding and readout", () => {
    const t = randomTable(1, { kinds: ["pool", "conv2d", "sparse"], models: ["lif-q15"], encoding: "current", readout: "count" });
    expect(t.layers.map((l) => l.input.kind)).toEqual(["pool", "conv2d", "sparse"]);
    expect(new Set(t.layers.map((l) => l.neuron.model))).toEqual(new Set(["lif-q15"]));
    expect(t.input.encoding).toBe("current");
    expect(t.readout.kind).toBe("count");
    const m = randomTable(2, { models: ["integrator"], readout: "membrane", layers: 3 });
    expect(m.layers.map((l) => l.neuron.model)).toEqual(["if", "if", "integrator"]);
  });

  it("covers every kind, model, width, bias form, shift form, recurrence and plasticity over a few seeds", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const t = randomTable(seed);
      seen.add(`encoding:${t.input.encoding}`);
      seen.add(`readout:${t.readout.kind}`);
      for (const l of t.layers) {
        seen.add(`kind:${l.input.kind}`);
        seen.add(`model:${l.neuron.model}`);
        seen.add(`reset:${l.neuron.reset}`);
        if (l.recurrent) seen.add(`recurrent:${l.recurrent.kind}`);
        if (l.plasticity) seen.add(`plasticity:${l.plasticity.rule}`);
        if (l.bias) seen.add(l.bias.length === l.size ? "bias:neuron" : "bias:channel");
        for (const c of l.recurrent ? [l.input, l.recurrent] : [l.input]) {
          if (c.kind === "pool") continue;
          seen.add(`bits:${c.weights.bits}`);
          seen.add(c.weights.shift.length === 1 ? "shift:layer" : "shift:channel");
        }
      }
    }
    const expected = [
      "kind:dense",
      "kind:sparse",
      "kind:conv2d",
      "kind:pool",
      "model:if",
      "model:lif-shift",
      "model:lif-q15",
      "model:cuba",
      "model:integrator",
      "bits:4",
      "bits:8",
      "bits:16",
      "bias:neuron",
      "bias:channel",
      "shift:layer",
      "shift:channel",
      "recurrent:dense",
      "recurrent:sparse",
      "recurrent:conv2d",
      "plasticity:stdp",
      "plasticity:rstdp",
      "reset:subtract",
      "reset:value",
      "encoding:spikes",
      "encoding:rate",
      "encoding:current",
      "readout:count",
      "readout:membrane",
    ];
    for (const e of expected) expect(seen, e).toContain(e);
  });

  it("has a PRNG with a fixed stream (xorshift32 after seed mixing)", () => {
    const r = new TestRng(1);
    const first = [r.next(), r.next(), r.next()];
    const again = new TestRng(1);
    expect([again.next(), again.next(), again.next()]).toEqual(first);
    for (let i = 0; i < 1000; i++) {
      const v = r.int(-3, 3);
      expect(v).toBeGreaterThanOrEqual(-3);
      expect(v).toBeLessThanOrEqual(3);
    }
  });
});
