/**
 * Bounded HDF5 access for NIR files, through h5wasm (the HDF5 C library compiled to WebAssembly).
 * Reading turns the file into a plain tree of groups and datasets; every size is checked from the
 * metadata before any data is read, so a hostile file cannot make the library allocate or inflate
 * more than the limits below. Writing builds a file from the same tree shape (used by export).
 */
import { openSync, readSync, closeSync, statSync } from "node:fs";
import { fail, isPicospikeError } from "../../runtime/errors.js";
import { resolve } from "node:path";

/** Largest .nir file read. A model bigger than this would not fit a microcontroller. */
export const MAX_NIR_FILE_BYTES = 64 * 1024 * 1024;
/** Deepest group nesting read (root = 0). Eight nested NIR graphs need 2 + 2·8 levels plus a dataset. */
export const MAX_GROUP_DEPTH = 20;
/** Most entries in one group, and most objects in the whole file. */
export const MAX_GROUP_ENTRIES = 4096;
export const MAX_OBJECTS = 16384;
/** Most elements of one dataset, and of all datasets together. */
export const MAX_DATASET_ELEMENTS = 1 << 24;
export const MAX_TOTAL_ELEMENTS = 1 << 25;
/** Longest string dataset element, in bytes. */
const MAX_STRING_BYTES = 4096;

/** The eight bytes every HDF5 file written by h5py starts with (superblock at offset 0). */
const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** A dataset read from the file: numbers (as float64, with the stored width) or strings. */
export type H5Dataset =
  | { readonly kind: "numbers"; readonly shape: readonly number[]; readonly data: Float64Array; readonly stored: "float32" | "float64" | "int" }
  | { readonly kind: "strings"; readonly shape: readonly number[]; readonly data: readonly string[] };

/** A group: its children by name. */
export interface H5Group {
  readonly kind: "group";
  readonly children: ReadonlyMap<string, H5Group | H5Dataset>;
}

// h5wasm is loaded on first use: it is 4 MB of WebAssembly that only import/export need.
type H5 = typeof import("h5wasm/node").default;
let h5Promise: Promise<H5> | undefined;

/** Loads h5wasm once, with HDF5 errors thrown as exceptions (never printed to stderr). */
async function h5(): Promise<H5> {
  h5Promise ??= (async () => {
    const mod = (await import("h5wasm/node")).default;
    const module = await mod.ready;
    module.activate_throwing_error_handler();
    return mod;
  })();
  return h5Promise;
}

/** Element count of a declared shape, failing on overflow instead of wrapping. */
export function shapeElements(shape: readonly number[], where: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) fail("INTERCHANGE_SHAPE_OVERFLOW", `${where}: dimension ${d} is not a valid size`);
    n *= d;
    if (!Number.isSafeInteger(n)) fail("INTERCHANGE_SHAPE_OVERFLOW", `${where}: shape [${shape.join(", ")}] has more elements than can be counted`);
  }
  return n;
}

/** Maps a message from the HDF5 library onto the interchange band. */
function libraryFailure(e: unknown, where: string): never {
  const msg = e instanceof Error ? e.message : String(e);
  if (/truncated file/i.test(msg)) fail("INTERCHANGE_TRUNCATED", `${where}: the file is shorter than its HDF5 superblock declares (truncated)`);
  if (/signature not found/i.test(msg)) fail("INTERCHANGE_NOT_HDF5", `${where}: no HDF5 signature`);
  // The library's error stack is long; its last "minor:" line says what failed.
  const minor = [...msg.matchAll(/minor: ([^\n]+)/g)].map((m) => m[1]!.trim());
  const detail = [...msg.matchAll(/in [A-Za-z0-9_]+\(\): ([^\n]+)/g)].map((m) => m[1]!.trim()).pop();
  fail("INTERCHANGE_HDF5_ERROR", `${where}: HDF5 cannot read it: ${detail ?? minor.pop() ?? msg.split("\n")[0]}`);
}

/** Checks the size and the HDF5 signature before handing the file to the library. */
function precheck(path: string): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    fail("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!st.isFile()) fail("CLI_FILE_NOT_FOUND", `${path} is not a file`);
  const size = st.size;
  if (size > MAX_NIR_FILE_BYTES) fail("INTERCHANGE_FILE_TOO_LARGE", `${path} is ${size} bytes, over the ${MAX_NIR_FILE_BYTES}-byte import limit`);
  const head = Buffer.alloc(8);
  const fd = openSync(path, "r");
  let got: number;
  try {
    got = readSync(fd, head, 0, 8, 0);
  } finally {
    closeSync(fd);
  }
  if (got < 8 || !HDF5_SIGNATURE.every((b, i) => head[i] === b)) {
    fail("INTERCHANGE_NOT_HDF5", `${path} is not an HDF5 file (no HDF5 signature at its start), so it is not a NIR file`);
  }
}

/** Budget shared by one read. */
interface Budget {
  objects: number;
  elements: number;
}

/**
 * Reads a whole HDF5 file into a tree, bounded: file size, group depth, entries, and every
 * dataset's declared element count (against the per-dataset and the total budget) are checked
 * before its data is read. Compressed datasets are checked the same way before decompression, so
 * the inflated size is bounded by the limits, not by the file.
 */
export async function readHdf5Tree(path: string): Promise<H5Group> {
  precheck(path);
  const lib = await h5();
  let file: InstanceType<H5["File"]>;
  try {
    file = new lib.File(resolve(path), "r");
  } catch (e) {
    libraryFailure(e, path);
  }
  const budget: Budget = { objects: 0, elements: 0 };
  try {
    return walkGroup(lib, file, "/", 0, budget, path);
  } catch (e) {
    if (isPicospikeError(e)) throw e;
    return libraryFailure(e, path);
  } finally {
    try {
      file.close();
    } catch {
      /* the file is read-only; a failed close loses nothing */
    }
  }
}

function walkGroup(lib: H5, group: InstanceType<H5["Group"]>, where: string, depth: number, budget: Budget, path: string): H5Group {
  if (depth > MAX_GROUP_DEPTH)
    fail("INTERCHANGE_TOO_DEEP", `${path}: group ${where} is nested more than ${MAX_GROUP_DEPTH} levels deep (or loops back on itself)`);
  const keys = group.keys();
  if (keys.length > MAX_GROUP_ENTRIES)
    fail("INTERCHANGE_TOO_MANY_NODES", `${path}: group ${where} has ${keys.length} entries, over the ${MAX_GROUP_ENTRIES} limit`);
  const children = new Map<string, H5Group | H5Dataset>();
  for (const key of keys) {
    if (++budget.objects > MAX_OBJECTS) fail("INTERCHANGE_TOO_MANY_NODES", `${path}: more than ${MAX_OBJECTS} objects in the file`);
    const childPath = where === "/" ? `/${key}` : `${where}/${key}`;
    const obj = group.get(key);
    if (obj instanceof lib.Group) children.set(key, walkGroup(lib, obj, childPath, depth + 1, budget, path));
    else if (obj instanceof lib.Dataset) children.set(key, readDataset(obj, childPath, budget, path));
    // links to other files, named datatypes and references carry nothing a NIR graph uses
  }
  return { kind: "group", children };
}

function readDataset(ds: InstanceType<H5["Dataset"]>, where: string, budget: Budget, path: string): H5Dataset {
  const meta = ds.metadata;
  const shape = meta.shape ?? [];
  const n = shapeElements(shape, `${path}: dataset ${where}`);
  const compressed = ds.filters.length > 0;
  if (n > MAX_DATASET_ELEMENTS || budget.elements + n > MAX_TOTAL_ELEMENTS) {
    if (compressed)
      fail(
        "INTERCHANGE_GZIP_BOMB",
        `${path}: compressed dataset ${where} declares ${n} elements [${shape.join(", ")}], over the import limit; it was not decompressed`,
      );
    fail(
      "INTERCHANGE_DATASET_TOO_LARGE",
      `${path}: dataset ${where} declares ${n} elements [${shape.join(", ")}], over the import limit of ${MAX_DATASET_ELEMENTS} (and ${MAX_TOTAL_ELEMENTS} in all)`,
    );
  }
  if (meta.chunks) {
    const chunk = shapeElements(meta.chunks, `${path}: chunks of ${where}`);
    if (chunk > MAX_DATASET_ELEMENTS)
      fail(
        compressed ? "INTERCHANGE_GZIP_BOMB" : "INTERCHANGE_DATASET_TOO_LARGE",
        `${path}: dataset ${where} declares chunks of ${chunk} elements, over the import limit`,
      );
  }
  budget.elements += n;
  // H5T classes: 0 integer, 1 float, 3 string
  if (meta.type === 3) {
    if (meta.size > MAX_STRING_BYTES && !meta.vlen) fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: string dataset ${where} has ${meta.size}-byte elements`);
    const v = ds.value;
    const data =
      typeof v === "string"
        ? [v]
        : Array.isArray(v)
          ? v.map((x) => (typeof x === "string" ? x : fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: dataset ${where} mixes strings and other values`)))
          : fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: dataset ${where} is not a string dataset`);
    for (const s of data)
      if (s.length > MAX_STRING_BYTES) fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: dataset ${where} holds a string of ${s.length} characters`);
    return { kind: "strings", shape, data };
  }
  if (meta.type !== 0 && meta.type !== 1) {
    fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: dataset ${where} has HDF5 type class ${meta.type} (neither numbers nor a string)`);
  }
  if (meta.type === 1 && meta.size !== 4 && meta.size !== 8)
    fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: dataset ${where} holds ${meta.size * 8}-bit floats (float32 or float64 expected)`);
  if (meta.type === 0 && meta.size > 8) fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: dataset ${where} holds ${meta.size * 8}-bit integers`);
  const v = ds.value;
  const data = new Float64Array(n);
  if (typeof v === "number" || typeof v === "bigint") {
    data[0] = Number(v);
  } else if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    if ((v as { length: number }).length !== n)
      fail("INTERCHANGE_HDF5_ERROR", `${path}: dataset ${where} gave ${(v as { length: number }).length} values for ${n} declared`);
    const arr = v as unknown as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) data[i] = Number(arr[i]!);
  } else {
    fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: dataset ${where} did not read as numbers`);
  }
  return { kind: "numbers", shape, data, stored: meta.type === 0 ? "int" : meta.size === 4 ? "float32" : "float64" };
}

/** A tree to write: groups of groups, number arrays (with a shape and width) and strings. */
export type H5WriteNode =
  | { readonly kind: "group"; readonly children: ReadonlyArray<[string, H5WriteNode]> }
  | { readonly kind: "float32" | "float64" | "int64"; readonly shape: readonly number[]; readonly data: ArrayLike<number> }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "strings"; readonly shape: readonly number[]; readonly data: readonly string[] };

/**
 * Writes `root` as an HDF5 file at `path` (the caller renames it into place). Numbers are stored
 * uncompressed; strings as variable-length UTF-8, as h5py writes them for `nir.write`.
 */
export async function writeHdf5Tree(path: string, root: H5WriteNode & { kind: "group" }): Promise<void> {
  const lib = await h5();
  const file = new lib.File(resolve(path), "w");
  try {
    const put = (g: InstanceType<H5["Group"]>, name: string, node: H5WriteNode): void => {
      if (node.kind === "group") {
        const sub = g.create_group(name);
        for (const [k, v] of node.children) put(sub, k, v);
      } else if (node.kind === "string") {
        g.create_dataset({ name, data: node.value });
      } else if (node.kind === "strings") {
        g.create_dataset({ name, data: [...node.data], shape: [...node.shape] });
      } else {
        const data =
          node.kind === "float32"
            ? Float32Array.from(node.data)
            : node.kind === "float64"
              ? Float64Array.from(node.data)
              : BigInt64Array.from(Array.from(node.data, (x) => BigInt(x)));
        g.create_dataset({ name, data, shape: [...node.shape], dtype: node.kind === "float32" ? "<f" : node.kind === "float64" ? "<d" : "<q" });
      }
    };
    for (const [k, v] of root.children) put(file, k, v);
    file.flush();
  } finally {
    file.close();
  }
}
