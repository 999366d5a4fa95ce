/**
 * The NIR graph (NIR 1.0, the `nir` Python package's HDF5 layout): typed nodes and edges read
 * from the tree that hdf5.ts gives. Every node type picospike maps is parsed into its own shape
 * with its required fields checked; nested NIRGraph nodes are flattened into one graph with dotted
 * names (their Input and Output nodes become pass-throughs and are spliced out).
 */
import { fail } from "../../runtime/errors.js";
import type { H5Dataset, H5Group } from "./hdf5.js";

/** Numbers of a node field, with their declared shape and stored width. */
export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
  readonly stored: "float32" | "float64" | "int";
}

/** Padding as NIR writes it: numbers per spatial dimension, or PyTorch's "same"/"valid". */
export type Padding = readonly number[] | "same" | "valid";

/** Every node type picospike reads, with its fields (NIR 1.0 names). */
export type NirNode =
  | { type: "Input"; name: string; shape: number[] }
  | { type: "Output"; name: string; shape: number[] }
  | { type: "Affine"; name: string; weight: Tensor; bias: Tensor }
  | { type: "Linear"; name: string; weight: Tensor }
  | { type: "Scale"; name: string; scale: Tensor }
  | {
      type: "Conv1d" | "Conv2d";
      name: string;
      weight: Tensor;
      bias: Tensor | undefined;
      stride: number[];
      padding: Padding;
      dilation: number[];
      groups: number;
      inputShape: number[] | undefined;
    }
  | { type: "SumPool2d" | "AvgPool2d"; name: string; kernel: number[]; stride: number[]; padding: number[] }
  | { type: "Flatten"; name: string; startDim: number; endDim: number; inputType: number[] | undefined }
  | { type: "IF"; name: string; r: Tensor; vThreshold: Tensor; vReset: Tensor | undefined }
  | { type: "LIF"; name: string; tau: Tensor; r: Tensor; vLeak: Tensor; vThreshold: Tensor; vReset: Tensor | undefined }
  | { type: "LI"; name: string; tau: Tensor; r: Tensor; vLeak: Tensor }
  | { type: "I"; name: string; r: Tensor }
  | { type: "CubaLIF"; name: string; tauSyn: Tensor; tauMem: Tensor; r: Tensor; vLeak: Tensor; vThreshold: Tensor; wIn: Tensor; vReset: Tensor | undefined }
  | { type: "CubaLI"; name: string; tauSyn: Tensor; tauMem: Tensor; r: Tensor; vLeak: Tensor; wIn: Tensor }
  | { type: "Threshold"; name: string; threshold: Tensor }
  | { type: "Delay"; name: string; delay: Tensor };

/** A flattened NIR graph: nodes by name and edges (source, target) as written. */
export interface NirGraph {
  readonly nodes: ReadonlyMap<string, NirNode>;
  readonly edges: ReadonlyArray<readonly [string, string]>;
  /** The `version` string at the file's root, when present. */
  readonly version: string | undefined;
  /** Names of nested NIRGraph nodes that were flattened (for the mapping report); their Input and Output nodes are `NAME.x`. */
  readonly flattened: readonly string[];
}

/** Node types that are neurons (they hold state and, except LI/I/CubaLI, spike). */
export const NEURON_TYPES = new Set(["IF", "LIF", "LI", "I", "CubaLIF", "CubaLI", "Threshold"]);

/** Most nested NIRGraph levels read. */
export const MAX_GRAPH_NESTING = 8;
/** Most nodes after flattening, and most edges. */
export const MAX_NODES = 4096;

type Child = H5Group | H5Dataset | undefined;

function group(g: H5Group, key: string): H5Group | undefined {
  const c = g.children.get(key);
  return c?.kind === "group" ? c : undefined;
}

function str(c: Child): string | undefined {
  return c && c.kind === "strings" && c.data.length === 1 ? c.data[0] : undefined;
}

/** Reads a NIR graph from an HDF5 tree (the whole file). */
export function parseNirTree(root: H5Group, path: string): NirGraph {
  const top = group(root, "node");
  if (!top || str(top.children.get("type")) !== "NIRGraph") {
    fail("INTERCHANGE_NOT_NIR", `${path} is HDF5 but not a NIR file: it has no group 'node' of type NIRGraph`);
  }
  const nodes = new Map<string, NirNode>();
  const edges: [string, string][] = [];
  const flattened: string[] = [];
  flatten(top, "", 0, nodes, edges, flattened, path);
  const version = str(root.children.get("version"));
  return { nodes, edges, version, flattened };
}

/**
 * Adds the nodes and edges of graph group `g` under `prefix`. A nested graph `s` becomes nodes
 * `s.x`; edges into `s` go to its Input nodes and edges out of `s` leave from its Output nodes,
 * which are then pass-throughs spliced out by the caller of the whole read.
 */
function flatten(g: H5Group, prefix: string, depth: number, nodes: Map<string, NirNode>, edges: [string, string][], flattened: string[], path: string): void {
  if (depth > MAX_GRAPH_NESTING) fail("INTERCHANGE_TOO_DEEP", `${path}: NIR graphs nested more than ${MAX_GRAPH_NESTING} deep at ${prefix || "the top"}`);
  const where = prefix === "" ? "the top graph" : `graph ${prefix.slice(0, -1)}`;
  const nodesGroup = group(g, "nodes");
  if (!nodesGroup) fail("INTERCHANGE_MISSING_FIELD", `${path}: ${where} has no 'nodes' group`);
  const edgeSet = g.children.get("edges");
  if (!edgeSet) fail("INTERCHANGE_MISSING_FIELD", `${path}: ${where} has no 'edges' dataset`);
  const local = new Map<string, { sub: boolean; inputs: string[]; outputs: string[] }>();
  for (const [name, child] of nodesGroup.children) {
    if (child.kind !== "group") fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: node ${prefix}${name} is a dataset, not a group`);
    const type = str(child.children.get("type"));
    if (type === undefined) fail("INTERCHANGE_MISSING_FIELD", `${path}: node ${prefix}${name} has no 'type' string`);
    if (type === "NIRGraph") {
      const sub = `${prefix}${name}`;
      flatten(child, `${sub}.`, depth + 1, nodes, edges, flattened, path);
      flattened.push(sub);
      // the nested graph's own Input/Output nodes (direct children, not deeper ones)
      const direct = [...(group(child, "nodes")?.children.keys() ?? [])].map((k) => `${sub}.${k}`).filter((k) => nodes.has(k));
      local.set(name, {
        sub: true,
        inputs: direct.filter((k) => nodes.get(k)!.type === "Input"),
        outputs: direct.filter((k) => nodes.get(k)!.type === "Output"),
      });
    } else {
      nodes.set(`${prefix}${name}`, parseNode(`${prefix}${name}`, type, child, path));
      local.set(name, { sub: false, inputs: [], outputs: [] });
    }
    if (nodes.size > MAX_NODES) fail("INTERCHANGE_TOO_MANY_NODES", `${path}: more than ${MAX_NODES} nodes`);
  }
  if (edgeSet.kind !== "strings") fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: ${where}: 'edges' must be strings`);
  const n = edgeSet.data.length;
  if (n !== 0 && (edgeSet.shape.length !== 2 || edgeSet.shape[1] !== 2))
    fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: ${where}: 'edges' must have shape [E, 2], got [${edgeSet.shape.join(", ")}]`);
  if (n / 2 > MAX_NODES * 4) fail("INTERCHANGE_TOO_MANY_NODES", `${path}: ${where} has ${n / 2} edges`);
  for (let e = 0; e < n; e += 2) {
    const [src, dst] = [edgeSet.data[e]!, edgeSet.data[e + 1]!];
    for (const end of [src, dst]) {
      if (!local.has(end)) fail("INTERCHANGE_UNKNOWN_EDGE", `${path}: ${where}: edge ${src} -> ${dst} names '${end}', which is not a node of that graph`);
    }
    const from = local.get(src)!;
    const to = local.get(dst)!;
    const sources = from.sub ? from.outputs : [`${prefix}${src}`];
    const targets = to.sub ? to.inputs : [`${prefix}${dst}`];
    if (sources.length === 0 || targets.length === 0)
      fail(
        "INTERCHANGE_UNSUPPORTED_GRAPH",
        `${path}: ${where}: edge ${src} -> ${dst} meets a nested graph without an ${sources.length === 0 ? "Output" : "Input"} node`,
      );
    for (const s of sources) for (const t of targets) edges.push([s, t]);
  }
}

function tensor(node: H5Group, field: string, name: string, type: string, path: string, required: boolean): Tensor | undefined {
  const c = node.children.get(field);
  if (c === undefined) {
    if (required) fail("INTERCHANGE_MISSING_FIELD", `${path}: node ${name} (${type}) has no '${field}'`);
    return undefined;
  }
  if (c.kind !== "numbers")
    fail("INTERCHANGE_BAD_DATASET_TYPE", `${path}: node ${name} (${type}): '${field}' must be numbers, got ${c.kind === "group" ? "a group" : "strings"}`);
  for (const x of c.data) if (!Number.isFinite(x)) fail("INTERCHANGE_BAD_PARAMETER", `${path}: node ${name} (${type}): '${field}' holds a non-finite value`);
  return { shape: c.shape, data: c.data, stored: c.stored };
}

/** Integer list field (shape, stride, ...); a scalar is broadcast to `dims` entries. */
function ints(node: H5Group, field: string, name: string, type: string, path: string, dims: number | undefined, fallback?: number[]): number[] {
  const t = tensor(node, field, name, type, path, fallback === undefined);
  if (t === undefined) return fallback!;
  const v = Array.from(t.data);
  for (const x of v)
    if (!Number.isInteger(x) || Math.abs(x) > 1 << 24)
      fail("INTERCHANGE_BAD_PARAMETER", `${path}: node ${name} (${type}): '${field}' must hold integers, got ${x}`);
  if (dims !== undefined && v.length === 1 && t.shape.length === 0) return new Array<number>(dims).fill(v[0]!);
  if (dims !== undefined && v.length !== dims)
    fail("INTERCHANGE_BAD_PARAMETER", `${path}: node ${name} (${type}): '${field}' must have ${dims} entries, got ${v.length}`);
  return v;
}

function parseNode(name: string, type: string, g: H5Group, path: string): NirNode {
  const t = (f: string): Tensor => tensor(g, f, name, type, path, true)!;
  const opt = (f: string): Tensor | undefined => tensor(g, f, name, type, path, false);
  switch (type) {
    case "Input":
    case "Output":
      return { type, name, shape: ints(g, "shape", name, type, path, undefined) };
    case "Affine":
      return { type, name, weight: t("weight"), bias: t("bias") };
    case "Linear":
      return { type, name, weight: t("weight") };
    case "Scale":
      return { type, name, scale: t("scale") };
    case "Conv1d":
    case "Conv2d": {
      const dims = type === "Conv1d" ? 1 : 2;
      const weight = t("weight");
      if (weight.shape.length !== dims + 2)
        fail("INTERCHANGE_BAD_PARAMETER", `${path}: node ${name} (${type}): weight must have ${dims + 2} dimensions, got [${weight.shape.join(", ")}]`);
      const padField = g.children.get("padding");
      let padding: Padding;
      const padStr = str(padField);
      if (padStr !== undefined) {
        if (padStr !== "same" && padStr !== "valid")
          fail("INTERCHANGE_UNSUPPORTED_NODE", `${path}: node ${name} (${type}): padding '${padStr}' is not "same", "valid" or numbers`);
        padding = padStr;
      } else {
        padding = ints(g, "padding", name, type, path, dims, new Array<number>(dims).fill(0));
      }
      const inputShape = g.children.has("input_shape") ? ints(g, "input_shape", name, type, path, dims) : undefined;
      return {
        type,
        name,
        weight,
        bias: opt("bias"),
        stride: ints(g, "stride", name, type, path, dims, new Array<number>(dims).fill(1)),
        padding,
        dilation: ints(g, "dilation", name, type, path, dims, new Array<number>(dims).fill(1)),
        groups: ints(g, "groups", name, type, path, 1, [1])[0]!,
        inputShape,
      };
    }
    case "SumPool2d":
    case "AvgPool2d":
      return {
        type,
        name,
        kernel: ints(g, "kernel_size", name, type, path, 2),
        stride: ints(g, "stride", name, type, path, 2),
        padding: ints(g, "padding", name, type, path, 2, [0, 0]),
      };
    case "Flatten":
      return {
        type,
        name,
        startDim: ints(g, "start_dim", name, type, path, 1, [1])[0]!,
        endDim: ints(g, "end_dim", name, type, path, 1, [-1])[0]!,
        inputType: g.children.has("input_type") ? ints(g, "input_type", name, type, path, undefined) : undefined,
      };
    case "IF":
      return { type, name, r: t("r"), vThreshold: t("v_threshold"), vReset: opt("v_reset") };
    case "LIF":
      return { type, name, tau: t("tau"), r: t("r"), vLeak: t("v_leak"), vThreshold: t("v_threshold"), vReset: opt("v_reset") };
    case "LI":
      return { type, name, tau: t("tau"), r: t("r"), vLeak: t("v_leak") };
    case "I":
      return { type, name, r: t("r") };
    case "CubaLIF":
      return {
        type,
        name,
        tauSyn: t("tau_syn"),
        tauMem: t("tau_mem"),
        r: t("r"),
        vLeak: t("v_leak"),
        vThreshold: t("v_threshold"),
        wIn: opt("w_in") ?? ones(),
        vReset: opt("v_reset"),
      };
    case "CubaLI":
      return { type, name, tauSyn: t("tau_syn"), tauMem: t("tau_mem"), r: t("r"), vLeak: t("v_leak"), wIn: opt("w_in") ?? ones() };
    case "Threshold":
      return { type, name, threshold: t("threshold") };
    case "Delay":
      return { type, name, delay: t("delay") };
    default:
      fail(
        "INTERCHANGE_UNSUPPORTED_NODE",
        `${path}: node ${name} has type ${type}, which picospike cannot map (supported: Input, Output, Affine, Linear, Scale, Conv1d, Conv2d, SumPool2d, AvgPool2d, Flatten, IF, LIF, LI, I, CubaLIF, CubaLI, Threshold, Delay, NIRGraph)`,
      );
  }
}

/** A scalar 1 (NIR's default w_in, absent in files older than NIR 1.0). */
function ones(): Tensor {
  return { shape: [], data: new Float64Array([1]), stored: "float32" };
}

/**
 * Splices out pass-through nodes (Input/Output of nested graphs, which flattening leaves in the
 * middle of the graph): each edge into one is joined to each edge out of it.
 */
export function spliceNestedIo(g: NirGraph): NirGraph {
  const nodes = new Map(g.nodes);
  let edges = g.edges.map((e) => [e[0], e[1]] as const);
  for (const [name, node] of g.nodes) {
    if ((node.type !== "Input" && node.type !== "Output") || !g.flattened.some((sub) => name.startsWith(`${sub}.`))) continue;
    const ins = edges.filter((e) => e[1] === name).map((e) => e[0]);
    const outs = edges.filter((e) => e[0] === name).map((e) => e[1]);
    edges = edges.filter((e) => e[0] !== name && e[1] !== name);
    for (const a of ins) for (const b of outs) edges.push([a, b]);
    nodes.delete(name);
  }
  return { ...g, nodes, edges };
}
