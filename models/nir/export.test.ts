import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stepEvents } from "../../runtime/events.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { randomTable } from "../../runtime/testing/random-table.js";
import { FloatSimulator } from "../float-sim.js";
import { quantizeSnn } from "../quantize.js";
import { writeNirFile, type NirSpecNode } from "./build-nir.js";
import { exportNir } from "./export.js";
import { readHdf5Tree, type H5Group } from "./hdf5.js";
import { parseNirTree, spliceNestedIo } from "./graph.js";
import { importNir } from "./import.js";

const dir = mkdtempSync(join(tmpdir(), "nir-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IF = (n: number): NirSpecNode => ({ type: "IF", fields: { r: { f32: new Array(n).fill(1) }, v_threshold: { f32: new Array(n).fill(0.5) } } });
const NODES: Record<string, NirSpecNode> = {
  input: { type: "Input", fields: { shape: { i64: [4] } } },
  fc: {
    type: "Affine",
    fields: { weight: { f32: [0.3, 0.1, -0.2, 0.4, 0.2, 0.2, 0.1, -0.1, 0.5, -0.3, 0.2, 0.1], shape: [3, 4] }, bias: { f32: [0.01, 0, -0.02] } },
  },
  n1: IF(3),
  fc2: { type: "Affine", fields: { weight: { f32: [0.3, 0.1, -0.2, 0.4, 0.2, 0.6], shape: [2, 3] }, bias: { f32: [0, 0] } } },
  n2: IF(2),
  output: { type: "Output", fields: { shape: { i64: [2] } } },
};
const EDGES: Array<[string, string]> = [
  ["input", "fc"],
  ["fc", "n1"],
  ["n1", "fc2"],
  ["fc2", "n2"],
  ["n2", "output"],
];

/** Node types along the path from Input to Output. */
function pathTypes(nodes: ReadonlyMap<string, { type: string }>, edges: ReadonlyArray<readonly [string, string]>): string[] {
  const types: string[] = [];
  let cur = [...nodes].find(([, n]) => n.type === "Input")![0];
  for (let i = 0; i < 64; i++) {
    types.push(nodes.get(cur)!.type);
    const next = edges.find(([a]) => a === cur);
    if (!next) break;
    cur = next[1];
  }
  return types;
}

describe("NIR export", () => {
  it("import → quantize → export keeps the graph's structure, and the export reads back", async () => {
    await writeNirFile(join(dir, "in.nir"), NODES, EDGES);
    const { snn } = await importNir(join(dir, "in.nir"), { from: "nir", dt: 1, compare: "ge", reset: "subtract" });
    const { table } = quantizeSnn(snn, { weightBits: 8, perChannel: false, seed: 1, source: "test" });
    await exportNir(table, join(dir, "out.nir"), 1e-3);
    const back = spliceNestedIo(parseNirTree(await readHdf5Tree(join(dir, "out.nir")), "out.nir"));
    const original = parseNirTree(await readHdf5Tree(join(dir, "in.nir")), "in.nir");
    expect(pathTypes(back.nodes, back.edges)).toEqual(pathTypes(original.nodes, original.edges));
    expect(back.version).toBe("1.0.0");
    // dequantized weights are the original ones within the int8 step
    const w = back.nodes.get("n1.w") as unknown as { weight: { shape: number[]; data: Float64Array } };
    expect(w.weight.shape).toEqual([3, 4]);
    const orig = (original.nodes.get("fc") as { weight: { data: Float64Array } }).weight.data;
    w.weight.data.forEach((x, i) => expect(Math.abs(x - orig[i]!)).toBeLessThan(0.5 / 127 + 1e-3));
  });

  it("the exported file, imported with picospike's semantics from its metadata, runs as the table does", async () => {
    await writeNirFile(join(dir, "in2.nir"), NODES, EDGES);
    const { snn } = await importNir(join(dir, "in2.nir"), { from: "nir", dt: 1, compare: "ge", reset: "subtract" });
    const { table } = quantizeSnn(snn, { weightBits: 8, perChannel: false, seed: 1, encoding: "rate", source: "test" });
    await exportNir(table, join(dir, "out2.nir"), 1e-3);
    const again = await importNir(join(dir, "out2.nir"), { from: "nir", dt: 1e-3, compare: "ge", reset: "subtract" });
    const sim = new FloatSimulator(again.snn);
    const interp = new Interpreter(table);
    const steps = Array.from({ length: 40 }, (_, t) => stepEvents([t % 4, (t * 3 + 1) % 4].filter((x, i, a) => a.indexOf(x) === i)));
    for (const s of steps) interp.step(s);
    expect(sim.runSample({ steps }).outputCounts).toEqual(Array.from(interp.spikeCounts(1)));
  });

  it("exports the version-2 rules (spec/ops.md §4.9): per-neuron τ, > and the late subtraction in the metadata, and reads back running as the table does", async () => {
    const lif = (n: number, tau: number[]): NirSpecNode => ({
      type: "LIF",
      fields: {
        tau: { f32: tau },
        r: { f32: tau.map((t) => t / 1e-4) },
        v_leak: { f32: new Array(n).fill(0) },
        v_threshold: { f32: new Array(n).fill(0.5) },
        v_reset: { f32: new Array(n).fill(0) },
      },
    });
    const nodes = { ...NODES, n1: lif(3, [5e-4, 1e-3, 2e-3]), n2: lif(2, [1e-3, 1e-3]) };
    await writeNirFile(join(dir, "in3.nir"), nodes, EDGES);
    const { snn } = await importNir(join(dir, "in3.nir"), { from: "nir", dt: 1e-4, compare: "gt", reset: "subtract-delayed" });
    const { table } = quantizeSnn(snn, { weightBits: 16, perChannel: false, seed: 1, source: "test" });
    expect(table.layers[0]!.neuron).toMatchObject({ model: "lif-q15", compare: "gt", resetDelay: true });
    await exportNir(table, join(dir, "out3.nir"), 1e-4);
    const tree = await readHdf5Tree(join(dir, "out3.nir"));
    const back = spliceNestedIo(parseNirTree(tree, "out3.nir"));
    const n1 = back.nodes.get("n1") as unknown as { tau: { data: Float64Array } };
    const q = table.layers[0]!.neuron.leakQ15s!;
    n1.tau.data.forEach((t, j) => expect(t).toBeCloseTo(1e-4 / (1 - q[j]! / 32768), 9));
    const child = (g: H5Group, name: string): H5Group => g.children.get(name) as H5Group;
    const metadata = child(child(child(tree, "node"), "nodes"), "n1").children.get("metadata") as H5Group;
    const text = metadata.children.get("picospike_semantics") as { data: readonly string[] };
    const semantics = JSON.parse(text.data[0]!) as Record<string, unknown>;
    expect(semantics).toMatchObject({ compare: ">", resetDelay: true, leakQ15s: Array.from(q) });
    const again = await importNir(join(dir, "out3.nir"), { from: "nir", dt: 1e-4, compare: "gt", reset: "subtract-delayed" });
    const sim = new FloatSimulator(again.snn);
    const interp = new Interpreter(table);
    const steps = Array.from({ length: 60 }, (_, t) => stepEvents([t % 4, (t * 3 + 1) % 4].filter((x, i, a) => a.indexOf(x) === i)));
    for (const s of steps) interp.step(s);
    expect(sim.runSample({ steps }).outputCounts).toEqual(Array.from(interp.spikeCounts(1)));
  });

  it("refuses what NIR cannot express, naming the layer", async () => {
    await expect(exportNir(randomTable(5), join(dir, "x.nir"), 1e-3)).rejects.toThrow(/layer pool2: a bias on a pooling layer/);
  });
});
