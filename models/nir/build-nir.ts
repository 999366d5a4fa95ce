/**
 * Builds small NIR files (the layout `nir.write` produces) from a list of nodes, for tests, the
 * hostile-file catalogue and export: each node is a group of named fields, numbers as float32
 * (or int64 for sizes) and `type` as a string.
 */
import { writeHdf5Tree, type H5WriteNode } from "./hdf5.js";

/** A field value: a number array with its shape, an integer array, or a string. */
export type NirField =
  { f32: ArrayLike<number>; shape?: number[] } | { f64: ArrayLike<number>; shape?: number[] } | { i64: ArrayLike<number>; shape?: number[] } | string;

/** Nodes by name: their type and fields; nested graphs as `{ type: "NIRGraph", nodes, edges }`. */
export interface NirSpecNode {
  readonly type: string;
  readonly fields?: Record<string, NirField>;
  readonly nodes?: Record<string, NirSpecNode>;
  readonly edges?: ReadonlyArray<readonly [string, string]>;
}

function field(v: NirField): H5WriteNode {
  if (typeof v === "string") return { kind: "string", value: v };
  if ("f32" in v) return { kind: "float32", data: v.f32, shape: v.shape ?? [v.f32.length] };
  if ("f64" in v) return { kind: "float64", data: v.f64, shape: v.shape ?? [v.f64.length] };
  return { kind: "int64", data: v.i64, shape: v.shape ?? [v.i64.length] };
}

/** The HDF5 tree of a NIR graph (the group that `nir.write` names `node`). */
export function graphTree(nodes: Record<string, NirSpecNode>, edges: ReadonlyArray<readonly [string, string]>): H5WriteNode & { kind: "group" } {
  const children: [string, H5WriteNode][] = Object.entries(nodes).map(([name, n]) => {
    if (n.type === "NIRGraph") {
      const g = graphTree(n.nodes ?? {}, n.edges ?? []);
      return [name, g];
    }
    return [
      name,
      {
        kind: "group",
        children: [["type", { kind: "string", value: n.type }], ...Object.entries(n.fields ?? {}).map(([k, v]) => [k, field(v)] as [string, H5WriteNode])],
      },
    ];
  });
  return {
    kind: "group",
    children: [
      ["type", { kind: "string", value: "NIRGraph" }],
      ["nodes", { kind: "group", children }],
      ["edges", { kind: "strings", shape: [edges.length, 2], data: edges.flatMap((e) => [e[0], e[1]]) }],
    ],
  };
}

/** Writes a NIR file with the given graph and NIR version string. */
export async function writeNirFile(
  path: string,
  nodes: Record<string, NirSpecNode>,
  edges: ReadonlyArray<readonly [string, string]>,
  version = "1.0.0",
): Promise<void> {
  await writeHdf5Tree(path, {
    kind: "group",
    children: [
      ["node", graphTree(nodes, edges)],
      ["version", { kind: "string", value: version }],
    ],
  });
}
