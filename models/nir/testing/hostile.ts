/**
 * The catalogue of hostile NIR files (for the hostile-file test and the CLI error catalogue):
 * truncated, not HDF5, HDF5 that is not NIR, wrong types, missing fields, overflowing shapes,
 * huge declared dimensions, a compressed dataset declaring a bomb, deep and cyclic groups, edges
 * naming unknown nodes… each with the one code import must refuse it with.
 */
import { readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import h5wasm from "h5wasm/node";
import type { ErrorCode } from "../../../runtime/errors.js";
import { writeNirFile, type NirSpecNode } from "../build-nir.js";

/** File names of the catalogue and the code each must be refused with. */
export const CATALOGUE: ReadonlyArray<[string, ErrorCode]> = [
  ["truncated.nir", "INTERCHANGE_TRUNCATED"],
  ["damaged.nir", "INTERCHANGE_HDF5_ERROR"],
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

/** A small valid graph: Input → Affine → LIF → Output. */
export const GOOD: Record<string, NirSpecNode> = {
  input: { type: "Input", fields: { shape: { i64: [3] } } },
  fc: { type: "Affine", fields: { weight: { f32: [1, 0, 0, 0, 1, 0], shape: [2, 3] }, bias: { f32: [0, 0] } } },
  lif: {
    type: "LIF",
    fields: { tau: { f32: [0.002, 0.002] }, r: { f32: [1, 1] }, v_leak: { f32: [0, 0] }, v_threshold: { f32: [0.5, 0.5] }, v_reset: { f32: [0, 0] } },
  },
  output: { type: "Output", fields: { shape: { i64: [2] } } },
};
/** Its edges. */
export const EDGES = [
  ["input", "fc"],
  ["fc", "lif"],
  ["lif", "output"],
] as const;

/** Writes a raw HDF5 file with h5wasm for the structures the NIR builder cannot make. */
async function rawFile(path: string, build: (f: InstanceType<typeof h5wasm.File>) => void): Promise<void> {
  const module = await h5wasm.ready;
  module.activate_throwing_error_handler();
  const f = new h5wasm.File(path, "w");
  build(f);
  f.close();
}

/** Writes the catalogue into `dir`; returns each file with the code import must refuse it with. */
export async function writeHostileNirFiles(dir: string): Promise<Array<[string, ErrorCode]>> {
  const p = (name: string): string => join(dir, name);
  await writeNirFile(p("good.nir"), GOOD, EDGES);
  const good = readFileSync(p("good.nir"));
  writeFileSync(p("truncated.nir"), good.subarray(0, Math.floor(good.length / 2)));
  // the superblock intact, the root group's object header overwritten
  const damaged = Uint8Array.from(good);
  damaged.fill(0xff, 96, 160);
  writeFileSync(p("damaged.nir"), damaged);
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
  await writeNirFile(
    p("missing-field.nir"),
    { ...GOOD, lif: { type: "LIF", fields: { r: { f32: [1, 1] }, v_leak: { f32: [0, 0] }, v_threshold: { f32: [0.5, 0.5] } } } },
    EDGES,
  );
  await writeNirFile(p("unknown-edge.nir"), GOOD, [...EDGES, ["lif", "nowhere"]]);
  await writeNirFile(p("unsupported-node.nir"), { ...GOOD, fc: { type: "Hypercube", fields: {} } }, EDGES);
  await writeNirFile(p("branch.nir"), { ...GOOD, fc2: GOOD["fc"]! }, [...EDGES, ["input", "fc2"], ["fc2", "lif"]]);
  await writeNirFile(
    p("bad-parameter.nir"),
    { ...GOOD, lif: { type: "LIF", fields: { tau: { f32: [-1, 0.002] }, r: { f32: [1, 1] }, v_leak: { f32: [0, 0] }, v_threshold: { f32: [0.5, 0.5] } } } },
    EDGES,
  );
  await writeNirFile(
    p("nan.nir"),
    { ...GOOD, fc: { type: "Affine", fields: { weight: { f32: [NaN, 0, 0, 0, 1, 0], shape: [2, 3] }, bias: { f32: [0, 0] } } } },
    EDGES,
  );
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
      const ds = fc.create_dataset({
        name: "weight",
        data: new Float32Array(1),
        shape: dims.map(() => 1),
        maxshape: dims.map(() => null),
        chunks: dims.map(() => 1),
        ...(gzip ? { compression: "gzip" as const } : {}),
      });
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
  return CATALOGUE.map(([f, c]) => [p(f), c]);
}
