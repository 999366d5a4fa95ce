import { mkdtempSync, readFileSync, writeFileSync, truncateSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import h5wasm from "h5wasm/node";
import { isPicospikeError, type ErrorCode } from "../../runtime/errors.js";
import { writeNirFile, type NirSpecNode } from "./build-nir.js";
import { importNir } from "./import.js";

// The catalogue of hostile files: each is refused with its own code from the one error list,
// quickly, with a PicospikeError (which the CLI prints as one line, no stack trace).

const dir = mkdtempSync(join(tmpdir(), "nir-hostile-"));
const p = (name: string): string => join(dir, name);

const GOOD: Record<string, NirSpecNode> = {
  input: { type: "Input", fields: { shape: { i64: [3] } } },
  fc: { type: "Affine", fields: { weight: { f32: [1, 0, 0, 0, 1, 0], shape: [2, 3] }, bias: { f32: [0, 0] } } },
  lif: { type: "LIF", fields: { tau: { f32: [0.002, 0.002] }, r: { f32: [1, 1] }, v_leak: { f32: [0, 0] }, v_threshold: { f32: [0.5, 0.5] }, v_reset: { f32: [0, 0] } } },
  output: { type: "Output", fields: { shape: { i64: [2] } } },
};
const EDGES = [["input", "fc"], ["fc", "lif"], ["lif", "output"]] as const;

async function refused(path: string): Promise<ErrorCode> {
  try {
    await importNir(path, { from: "auto" });
  } catch (e) {
    if (isPicospikeError(e)) return e.code;
    throw e;
  }
  throw new Error(`${path} was accepted`);
}

/** Opens a raw HDF5 file with h5wasm for the structures the NIR builder cannot make. */
async function rawFile(path: string, build: (f: InstanceType<typeof h5wasm.File>) => void): Promise<void> {
  const module = await h5wasm.ready;
  module.activate_throwing_error_handler();
  const f = new h5wasm.File(path, "w");
  build(f);
  f.close();
}

beforeAll(async () => {
  await writeNirFile(p("good.nir"), GOOD, EDGES);
  const good = readFileSync(p("good.nir"));
  writeFileSync(p("truncated.nir"), good.subarray(0, Math.floor(good.length / 2)));
  writeFileSync(p("not-hdf5.nir"), "this is not HDF5\n");
  writeFileSync(p("empty.nir"), "");
  // a sparse file over the size limit, with the HDF5 signature in front
  writeFileSync(p("huge-file.nir"), Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]));
  truncateSync(p("huge-file.nir"), 65 * 1024 * 1024);
  await rawFile(p("not-nir.nir"), (f) => {
    f.create_group("experiment");
    f.create_dataset({ name: "data", data: new Float32Array([1, 2, 3]) });
  });
  await writeNirFile(p("wrong-type.nir"), { ...GOOD, fc: { type: "Affine", fields: { weight: "a string, not numbers", bias: { f32: [0, 0] } } } }, EDGES);
  await writeNirFile(p("missing-field.nir"), { ...GOOD, lif: { type: "LIF", fields: { r: { f32: [1, 1] }, v_leak: { f32: [0, 0] }, v_threshold: { f32: [0.5, 0.5] } } } }, EDGES);
  await writeNirFile(p("unknown-edge.nir"), GOOD, [...EDGES, ["lif", "nowhere"]]);
  await writeNirFile(p("unsupported-node.nir"), { ...GOOD, fc: { type: "Hypercube", fields: {} } }, EDGES);
  await writeNirFile(p("branch.nir"), { ...GOOD, fc2: GOOD["fc"]! }, [...EDGES, ["input", "fc2"], ["fc2", "lif"]]);
  await writeNirFile(p("bad-parameter.nir"), { ...GOOD, lif: { type: "LIF", fields: { tau: { f32: [-1, 0.002] }, r: { f32: [1, 1] }, v_leak: { f32: [0, 0] }, v_threshold: { f32: [0.5, 0.5] } } } }, EDGES);
  await writeNirFile(p("nan.nir"), { ...GOOD, fc: { type: "Affine", fields: { weight: { f32: [NaN, 0, 0, 0, 1, 0], shape: [2, 3] }, bias: { f32: [0, 0] } } } }, EDGES);
  // dimensions declared through a resizable (chunked, never written) dataset: nothing allocated
  const declared = (name: string, dims: number[], gzip: boolean) =>
    rawFile(p(name), (f) => {
      f.create_group("node");
      const g = f.get("node") as InstanceType<typeof h5wasm.Group>;
      g.create_dataset({ name: "type", data: "NIRGraph" });
      g.create_group("nodes");
      const n = g.get("nodes") as InstanceType<typeof h5wasm.Group>;
      n.create_group("fc");
      const fc = n.get("fc") as InstanceType<typeof h5wasm.Group>;
      fc.create_dataset({ name: "type", data: "Linear" });
      const ds = fc.create_dataset({ name: "weight", data: new Float32Array(1), shape: dims.map(() => 1), maxshape: dims.map(() => null), chunks: dims.map(() => 1), ...(gzip ? { compression: "gzip" as const } : {}) });
      ds.resize(dims);
      g.create_dataset({ name: "edges", data: ["fc", "fc"], shape: [1, 2] });
    });
  await declared("shape-overflow.nir", [2 ** 40, 2 ** 40, 2 ** 40], false);
  await declared("huge-dims.nir", [1 << 20, 1 << 10], false);
  await declared("gzip-bomb.nir", [1 << 20, 1 << 10], true);
  await rawFile(p("deep.nir"), (f) => {
    let g: InstanceType<typeof h5wasm.Group> = f;
    for (let d = 0; d < 40; d++) g = g.create_group(`g${d}`);
  });
  await rawFile(p("cyclic.nir"), (f) => {
    const node = f.create_group("node");
    node.create_dataset({ name: "type", data: "NIRGraph" });
    const nodes = node.create_group("nodes");
    nodes.create_hard_link("/node", "loop");
    node.create_dataset({ name: "edges", data: ["loop", "loop"], shape: [1, 2] });
  });
  await rawFile(p("too-many.nir"), (f) => {
    const g = f.create_group("node");
    for (let i = 0; i < 4100; i++) g.create_group(`n${i}`);
  });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("hostile NIR files", () => {
  const cases: Array<[string, ErrorCode]> = [
    ["truncated.nir", "INTERCHANGE_TRUNCATED"],
    ["not-hdf5.nir", "INTERCHANGE_NOT_HDF5"],
    ["empty.nir", "INTERCHANGE_NOT_HDF5"],
    ["huge-file.nir", "INTERCHANGE_FILE_TOO_LARGE"],
    ["not-nir.nir", "INTERCHANGE_NOT_NIR"],
    ["wrong-type.nir", "INTERCHANGE_BAD_DATASET_TYPE"],
    ["missing-field.nir", "INTERCHANGE_MISSING_FIELD"],
    ["unknown-edge.nir", "INTERCHANGE_UNKNOWN_EDGE"],
    ["unsupported-node.nir", "INTERCHANGE_UNSUPPORTED_NODE"],
    ["branch.nir", "INTERCHANGE_UNSUPPORTED_GRAPH"],
    ["bad-parameter.nir", "INTERCHANGE_BAD_PARAMETER"],
    ["nan.nir", "INTERCHANGE_BAD_PARAMETER"],
    ["shape-overflow.nir", "INTERCHANGE_SHAPE_OVERFLOW"],
    ["huge-dims.nir", "INTERCHANGE_DATASET_TOO_LARGE"],
    ["gzip-bomb.nir", "INTERCHANGE_GZIP_BOMB"],
    ["deep.nir", "INTERCHANGE_TOO_DEEP"],
    ["cyclic.nir", "INTERCHANGE_TOO_DEEP"],
    ["too-many.nir", "INTERCHANGE_TOO_MANY_NODES"],
    ["does-not-exist.nir", "CLI_FILE_NOT_FOUND"],
  ];
  it.each(cases)("%s is refused with %s", async (name, code) => {
    expect(await refused(p(name))).toBe(code);
  });

  it("the well-formed file of the catalogue imports", async () => {
    const { snn } = await importNir(p("good.nir"), { from: "nir", dt: 1e-3 });
    expect(snn.layers).toHaveLength(1);
  });

  it("names the node and its type when refusing an unsupported node", async () => {
    await expect(importNir(p("unsupported-node.nir"), { from: "auto" })).rejects.toThrow(/node fc has type Hypercube/);
  });
});
