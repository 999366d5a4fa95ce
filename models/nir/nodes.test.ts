import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { stepEvents } from "../../runtime/events.js";
import { FloatSimulator } from "../float-sim.js";
import { writeNirFile, type NirSpecNode } from "./build-nir.js";
import { importNir } from "./import.js";

// Every node kind through a small hand-made file: structure, shapes and one hand-computed output.

const dir = mkdtempSync(join(tmpdir(), "nir-nodes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let k = 0;
async function imp(nodes: Record<string, NirSpecNode>, edges: Array<[string, string]>, from: "nir" | "sinabs" = "nir") {
  const path = join(dir, `m${k++}.nir`);
  await writeNirFile(path, nodes, edges);
  return importNir(path, { from, dt: 1 });
}
const chain = (...names: string[]): Array<[string, string]> => names.slice(1).map((n, i) => [names[i]!, n]);
const IF = (n: number, thr = 0.5): NirSpecNode => ({ type: "IF", fields: { r: { f32: new Array(n).fill(1) }, v_threshold: { f32: new Array(n).fill(thr) } } });
const io = (inShape: number[], out: number[]) => ({
  input: { type: "Input", fields: { shape: { i64: inShape } } },
  output: { type: "Output", fields: { shape: { i64: out } } },
});

describe("NIR node kinds", () => {
  it("Conv2d with padding 'same' stays a convolution; AvgPool2d → Flatten → Linear compose into one dense map", async () => {
    const w = new Array(2 * 1 * 3 * 3).fill(0.1);
    const { snn } = await imp(
      {
        ...io([1, 4, 4], [3]),
        c: {
          type: "Conv2d",
          fields: {
            weight: { f32: w, shape: [2, 1, 3, 3] },
            bias: { f32: [0, 0] },
            stride: { i64: [1, 1] },
            padding: "same",
            dilation: { i64: [1, 1] },
            groups: { i64: [1], shape: [] },
          },
        },
        n1: IF(2 * 16),
        p: { type: "AvgPool2d", fields: { kernel_size: { i64: [2], shape: [] }, stride: { i64: [2], shape: [] }, padding: { i64: [0, 0] } } },
        f: { type: "Flatten", fields: { start_dim: { i64: [0], shape: [] }, end_dim: { i64: [-1], shape: [] } } },
        l: { type: "Linear", fields: { weight: { f64: new Array(3 * 8).fill(1), shape: [3, 8] } } },
        n2: IF(3),
      },
      chain("input", "c", "n1", "p", "f", "l", "n2", "output"),
    );
    expect(snn.layers.map((l) => l.kind)).toEqual(["conv2d", "dense"]);
    const conv = snn.layers[0]!;
    expect(conv.kind === "conv2d" && [conv.outShape, conv.padding]).toEqual([
      [2, 4, 4],
      [1, 1],
    ]);
    const dense = snn.layers[1]!;
    // each pooled output averages 4 inputs: weight 1/4 from every map neuron
    expect(dense.kind === "dense" && dense.weights[0]).toBeCloseTo(0.25, 7);
  });

  it("Conv1d, Scale and a dilated conv compose into dense maps with the right sizes", async () => {
    const { snn } = await imp(
      {
        ...io([2, 6], [4]),
        c: {
          type: "Conv1d",
          fields: {
            weight: { f32: new Array(1 * 2 * 3).fill(1), shape: [1, 2, 3] },
            bias: { f32: [0] },
            stride: { i64: [1] },
            padding: "valid",
            dilation: { i64: [2] },
            groups: { i64: [1], shape: [] },
          },
        },
        s: { type: "Scale", fields: { scale: { f32: [2] } } },
        n: IF(2),
        a: { type: "Affine", fields: { weight: { f32: new Array(8).fill(1), shape: [4, 2] }, bias: { f32: [0, 0, 0, 0] } } },
        o: { type: "LI", fields: { tau: { f32: [2] }, r: { f32: [1] }, v_leak: { f32: [0] } } },
      },
      chain("input", "c", "s", "n", "a", "o", "output"),
    );
    // 6 − 2·(3−1) = 2 outputs of the dilated conv
    expect(snn.layers[0]!.kind === "dense" && [snn.layers[0]!.inputs, snn.layers[0]!.outputs]).toEqual([12, 2]);
    expect(snn.readout).toBe("membrane");
    expect(snn.layers[1]!.neuron).toMatchObject({ model: "integrator", leak: 0.5 });
  });

  it("a nested NIRGraph is flattened; a Delay of one step closes a recurrent loop", async () => {
    const { snn, report } = await imp(
      {
        ...io([2], [2]),
        a: { type: "Affine", fields: { weight: { f32: [1, 0, 0, 1], shape: [2, 2] }, bias: { f32: [0, 0] } } },
        sub: {
          type: "NIRGraph",
          nodes: {
            input: { type: "Input", fields: { shape: { i64: [2] } } },
            lif: { type: "LIF", fields: { tau: { f32: [2, 2] }, r: { f32: [2, 2] }, v_leak: { f32: [0, 0] }, v_threshold: { f32: [1, 1] } } },
            rec: { type: "Linear", fields: { weight: { f32: [0, 1, 1, 0], shape: [2, 2] } } },
            d: { type: "Delay", fields: { delay: { f32: [1, 1] } } },
            output: { type: "Output", fields: { shape: { i64: [2] } } },
          },
          edges: [
            ["input", "lif"],
            ["lif", "rec"],
            ["rec", "d"],
            ["d", "lif"],
            ["lif", "output"],
          ],
        },
        b: { type: "Affine", fields: { weight: { f32: [1, 0, 0, 1], shape: [2, 2] }, bias: { f32: [0, 0] } } },
        n: IF(2),
      },
      [
        ["input", "a"],
        ["a", "sub"],
        ["sub", "b"],
        ["b", "n"],
        ["n", "output"],
      ],
    );
    expect(snn.layers.map((l) => l.name)).toEqual(["sub.lif", "n"]);
    const lif = snn.layers[0]!;
    expect(lif.kind === "dense" && Array.from(lif.recurrent!)).toEqual([0, 1, 1, 0].map((x) => x * 1)); // gain (1 − leak)·r = 0.5·2 = 1
    expect(report.nodes.find((n) => n.node === "sub.d")!.mappedTo).toMatch(/one-step delay/);
  });

  it("I, CubaLI and Threshold nodes; scalar parameters broadcast; files without v_reset", async () => {
    const { snn } = await imp(
      {
        ...io([1], [1]),
        a: { type: "Affine", fields: { weight: { f32: [2], shape: [1, 1] }, bias: { f32: [0] } } },
        t: { type: "Threshold", fields: { threshold: { f32: [1] } } },
        b: { type: "Affine", fields: { weight: { f32: [1], shape: [1, 1] }, bias: { f32: [0] } } },
        i: { type: "I", fields: { r: { f32: [3] } } },
      },
      chain("input", "a", "t", "b", "i", "output"),
    );
    expect(snn.layers.map((l) => l.neuron.model)).toEqual(["threshold", "integrator"]);
    const r = new FloatSimulator(snn).runSample({ steps: [stepEvents([0]), stepEvents([]), stepEvents([0])] });
    expect(r.outputMembranes).toEqual([6]); // two threshold spikes × r 3 × dt 1
    const cuba = await imp(
      {
        ...io([1], [1]),
        a: { type: "Linear", fields: { weight: { f32: [1], shape: [1, 1] } } },
        c: { type: "CubaLI", fields: { tau_syn: { f32: [2] }, tau_mem: { f32: [4] }, r: { f32: [1] }, v_leak: { f32: [0] }, w_in: { f32: [1] } } },
      },
      chain("input", "a", "c", "output"),
    );
    expect(cuba.snn.layers[0]!.neuron).toMatchObject({ model: "integrator", leak: 0.75, synDecay: 0.5 });
  });

  it("refuses groups ≠ 1, naming the node and its type", async () => {
    await expect(
      imp(
        {
          ...io([2, 4, 4], [2]),
          c: {
            type: "Conv2d",
            fields: { weight: { f32: new Array(2 * 1 * 1 * 1).fill(1), shape: [2, 1, 1, 1] }, bias: { f32: [0, 0] }, groups: { i64: [2], shape: [] } },
          },
          n: IF(32),
        },
        chain("input", "c", "n", "output"),
      ),
    ).rejects.toThrow(/node c \(Conv2d\): groups = 2/);
  });
});
