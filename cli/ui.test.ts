import { describe, expect, it } from "vitest";
import { randomTable } from "../runtime/testing/random-table.js";
import { feedMeta, feedStep, stepDivergences } from "./ui.js";

describe("the live view's feed from the verbs", () => {
  it("a step carries both runs' spikes as plain arrays, and membranes only when some layer integrates", () => {
    const s = feedStep(
      7,
      1,
      3,
      { indices: new Uint32Array([2, 5]) },
      [new Uint32Array([1]), new Uint32Array([])],
      [new Uint32Array([1]), new Uint32Array([0])],
      [null, null],
      4,
    );
    expect(s).toEqual({ i: 7, s: 1, t: 3, in: [2, 5], d: [[1], []], r: [[1], [0]], label: 4 });
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it("stepDivergences names the first differing neuron of every layer that differs", () => {
    const s = feedStep(10, 2, 4, { indices: new Uint32Array(0) }, [[1, 3, 7], [0], [2]], [[1, 4, 7], [0], [1, 2]]);
    expect(stepDivergences(s)).toEqual([
      { i: 10, sample: 2, step: 4, layer: 0, neuron: 3, kind: "spike", device: 1, interpreter: 0 },
      { i: 10, sample: 2, step: 4, layer: 2, neuron: 1, kind: "spike", device: 0, interpreter: 1 },
    ]);
    expect(stepDivergences(feedStep(0, 0, 0, { indices: new Uint32Array(0) }, [[1]]))).toEqual([]);
  });

  it("feedMeta describes the table: layers, integrators, readout and the input's shape", () => {
    const table = randomTable(3, { kinds: ["dense", "dense"], readout: "membrane" });
    const meta = feedMeta(table, "compare", "t", "mock", { reference: true, stepsPerSample: 16 });
    expect(meta.layers.map((l) => l.size)).toEqual(table.layers.map((l) => l.size));
    expect(meta.readout).toBe("membrane");
    expect(meta.layers.at(-1)!.integrator).toBe(table.layers.at(-1)!.neuron.model === "integrator");
    expect(meta.input.size).toBe(table.input.size);
    expect(meta.stepsPerSample).toBe(16);
  });
});
