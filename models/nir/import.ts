/**
 * NIR → float SNN (spec/float-snn.md version 2). A `.nir` file says neither its time step, nor its
 * reset mechanism, nor which framework wrote it; each framework's simulator reads its own
 * parameters its own way (docs/NIR.md). So import takes a dialect (the writer's reading), detects
 * it from the file's fingerprints when asked, and maps every node with every assumption recorded
 * with its source: the file, the dialect, a flag, or a stated default. Nothing is guessed silently.
 */
import { fail } from "../../runtime/errors.js";
import { layerSize, type FloatLayer, type FloatNeuron, type FloatSnn, type PerNeuron, type Shape3, validateFloatSnn } from "../float-snn.js";
import { readHdf5Tree } from "./hdf5.js";
import { NEURON_TYPES, parseNirTree, spliceNestedIo, type NirGraph, type NirNode, type Tensor } from "./graph.js";

/** How the writer's simulator reads its own parameters. `nir` reads the ODEs literally (forward Euler). */
export type Dialect = "snntorch" | "norse" | "sinabs" | "rockpool" | "nir";
/** Every dialect, in the order `--from` lists them. */
export const DIALECTS: readonly Dialect[] = ["snntorch", "norse", "sinabs", "rockpool", "nir"];

/** Overrides of the dialect's assumptions (each reported with source `flag`). */
export interface ImportOptions {
  readonly from: Dialect | "auto";
  /** Time step in seconds. */
  readonly dt?: number;
  /** Reset after a spike: subtract now, subtract one step late (snnTorch), to zero, or to the file's v_reset. */
  readonly reset?: "subtract" | "subtract-delayed" | "zero" | "value";
  readonly compare?: "gt" | "ge";
  /** Membrane at the start of a sample: 0 or the file's v_leak. */
  readonly initial?: "zero" | "v_leak";
  readonly multiSpike?: boolean;
  /** Membrane floor after reset; `none` for no floor, `-threshold` for minus the threshold. */
  readonly vMin?: number | "none" | "-threshold";
  /** Source file name recorded in provenance. */
  readonly source?: string;
}

/** Where an assumption came from. */
export type AssumptionSource = "file" | "dialect" | "flag" | "default";

/** One thing the mapping relied on. */
export interface Assumption {
  readonly what: string;
  readonly value: string;
  readonly source: AssumptionSource;
}

/** How one NIR node was mapped. */
export interface NodeMapping {
  readonly node: string;
  readonly type: string;
  /** The float SNN layer (or part of one) it became. */
  readonly mappedTo: string;
  readonly assumptions: Assumption[];
}

/** What import found and did. */
export interface ImportReport {
  readonly dialect: Dialect;
  /** How the dialect was chosen: named by the user, or detected with reasons. */
  readonly dialectSource: "flag" | "detected";
  readonly fingerprints: string[];
  readonly dt: number;
  readonly dtSource: AssumptionSource;
  readonly nirVersion: string | undefined;
  readonly nodes: NodeMapping[];
  /** Assumptions that hold for the whole graph (time step, recurrence delay, input). */
  readonly global: Assumption[];
}

/** The dialects' own steps: the ones their exporters or simulators use (docs/NIR.md). */
const DIALECT_DT: Record<Dialect, { dt: number; why: string } | undefined> = {
  snntorch: { dt: 1e-4, why: "snnTorch's exporter hard-codes dt = 1e-4 s" },
  norse: { dt: 1e-3, why: "Norse cells integrate with dt = 1e-3 s by default" },
  sinabs: { dt: 1, why: "sinabs counts time in steps (dt = 1)" },
  rockpool: { dt: 1e-3, why: "Rockpool LIFTorch's default dt = 1e-3 s" },
  nir: undefined,
};

/** Default step for the literal reading when no flag gives one. */
const NIR_DEFAULT_DT = 1e-3;

/** Reads `path` and maps it (see importGraph). */
export async function importNir(path: string, options: ImportOptions): Promise<{ snn: FloatSnn; report: ImportReport }> {
  const tree = await readHdf5Tree(path);
  const graph = spliceNestedIo(parseNirTree(tree, path));
  return importGraph(graph, { ...options, source: options.source ?? path }, path);
}

// ---------------------------------------------------------------------------------------------
// Dialect detection

/** Scores every dialect on the file's fingerprints (node names, shapes, how r relates to τ). */
export function detectDialect(g: NirGraph): { dialect: Dialect; reasons: string[] } {
  const names = [...g.nodes.keys()];
  const nodes = [...g.nodes.values()];
  const score: Record<Dialect, number> = { snntorch: 0, norse: 0, sinabs: 0, rockpool: 0, nir: 0 };
  const why: Record<Dialect, string[]> = { snntorch: [], norse: [], sinabs: [], rockpool: [], nir: [] };
  const add = (d: Dialect, s: number, reason: string): void => {
    score[d] += s;
    why[d].push(reason);
  };
  const ratio = (a: Tensor, b: Tensor, f: (x: number, y: number) => number): boolean =>
    a.data.length > 0 && Array.from(a.data).every((x, i) => Math.abs(f(x, b.data[b.data.length === 1 ? 0 : i]!) - 1) < 1e-3);
  if (names.some((n) => /_(LinearTorch|LIFTorch|ExpSynTorch)$/.test(n))) add("rockpool", 3, "node names end in LinearTorch/LIFTorch (Rockpool module names)");
  const input = nodes.find((n) => n.type === "Input");
  if (input && input.type === "Input" && input.shape.length === 2 && input.shape[0] === 1)
    add("rockpool", 1, `Input shape [${input.shape.join(", ")}] keeps a batch dimension (Rockpool)`);
  if (names.includes("input_tensor") || names.some((n) => /^_\d+$/.test(n))) add("norse", 3, "node names input_tensor / _0, _1 … (Norse's to_nir)");
  if (names.some((n) => /^\d+\.(lif|w_rec)$/.test(n))) add("snntorch", 3, "node names N.lif / N.w_rec (snnTorch recurrent layers)");
  for (const n of nodes) {
    if (n.type === "LIF" && ratio(n.r, n.tau, (r, tau) => (r * 1e-4) / tau)) {
      add("snntorch", 3, `${n.name}: r = tau / 1e-4 (snnTorch's exporter writes r = 1/(1−β) with dt 1e-4)`);
      break;
    }
    if (n.type === "CubaLIF" && ratio(n.r, n.tauMem, (r, tau) => (r * 1e-4) / tau) && ratio(n.wIn, n.tauSyn, (w, ts) => (w * 1e-4) / ts)) {
      add("snntorch", 3, `${n.name}: r = tau_mem / 1e-4 and w_in = tau_syn / 1e-4 (snnTorch Synaptic)`);
      break;
    }
    if (n.type === "CubaLIF" && ratio(n.r, n.tauMem, (r, tau) => (r * 1e-3) / (tau * Math.exp(-1e-3 / tau)))) {
      add("rockpool", 3, `${n.name}: r = tau_mem·e^(−dt/tau_mem)/dt at dt 1e-3 (Rockpool's exporter)`);
      break;
    }
  }
  if (nodes.some((n) => n.type === "IF") && !nodes.some((n) => n.type === "LIF" || n.type === "CubaLIF"))
    add("sinabs", 2, "IF neurons only (sinabs IAF layers export as IF)");
  if (nodes.some((n) => n.type === "SumPool2d")) add("sinabs", 1, "SumPool2d nodes (sinabs)");
  if (names.every((n) => /^(\d+|input|output)$/.test(n)) && !nodes.some((n) => n.type === "LIF" || n.type === "CubaLIF"))
    add("sinabs", 1, "nodes named 0, 1, … with input/output and no LIF (sinabs' to_nir)");
  if (names.every((n) => /^(\d+(\.\w+)?|input|output)$/.test(n)) && nodes.some((n) => n.type === "LIF" || n.type === "CubaLIF"))
    add("snntorch", 1, "nodes named 0, 1, … with input/output and LIF neurons (snnTorch's export_to_nir)");
  const best = DIALECTS.filter((d) => d !== "nir").sort((a, b) => score[b] - score[a])[0]!;
  if (score[best] < 2) return { dialect: "nir", reasons: ["no writer's fingerprint found: reading the NIR equations literally (forward Euler)"] };
  return { dialect: best, reasons: why[best] };
}

// ---------------------------------------------------------------------------------------------
// Graph → chain of layers

/** A linear map on a flat vector with its shape, as one step of a run between two neuron nodes. */
interface LinearOp {
  readonly node: NirNode;
  readonly inShape: number[];
  readonly outShape: number[];
  /** y = A·x (without the bias). */
  apply(x: Float64Array): Float64Array;
  readonly bias: Float64Array | undefined;
}

function prod(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

function unsupported(node: NirNode, why: string): never {
  fail("INTERCHANGE_UNSUPPORTED_NODE", `node ${node.name} (${node.type}): ${why}`);
}

function badParam(node: NirNode, why: string): never {
  fail("INTERCHANGE_BAD_PARAMETER", `node ${node.name} (${node.type}): ${why}`);
}

/** Output size of a window op along one dimension (PyTorch's formula). */
function windowSize(n: number, k: number, s: number, p0: number, p1: number, d: number): number {
  return Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;
}

/** Builds the linear op of a node given the shape reaching it. */
function linearOp(node: NirNode, inShape: number[]): LinearOp {
  const size = prod(inShape);
  switch (node.type) {
    case "Affine":
    case "Linear": {
      const w = node.weight;
      if (w.shape.length !== 2) badParam(node, `weight must be 2-dimensional, got [${w.shape.join(", ")}]`);
      const [out, inp] = [w.shape[0]!, w.shape[1]!];
      if (inp !== size)
        fail("INTERCHANGE_UNSUPPORTED_GRAPH", `node ${node.name} (${node.type}) takes ${inp} inputs but receives ${size} ([${inShape.join(", ")}])`);
      let bias: Float64Array | undefined;
      if (node.type === "Affine") {
        if (node.bias.data.length !== out && node.bias.data.length !== 1) badParam(node, `bias has ${node.bias.data.length} values for ${out} outputs`);
        bias = node.bias.data.length === 1 ? new Float64Array(out).fill(node.bias.data[0]!) : Float64Array.from(node.bias.data);
      }
      return {
        node,
        inShape,
        outShape: [out],
        bias,
        apply: (x) => {
          const y = new Float64Array(out);
          for (let i = 0; i < inp; i++) {
            const xi = x[i]!;
            if (xi !== 0) for (let j = 0; j < out; j++) y[j]! += w.data[j * inp + i]! * xi;
          }
          return y;
        },
      };
    }
    case "Scale": {
      const s = node.scale.data;
      if (s.length !== 1 && s.length !== size) badParam(node, `scale has ${s.length} values for ${size} inputs`);
      return { node, inShape, outShape: inShape, bias: undefined, apply: (x) => x.map((v, i) => v * s[s.length === 1 ? 0 : i]!) };
    }
    case "Flatten": {
      const nd = inShape.length;
      const start = node.startDim < 0 ? nd + node.startDim : node.startDim;
      const end = node.endDim < 0 ? nd + node.endDim : node.endDim;
      if (start < 0 || end >= nd || start > end) {
        // nothing to merge (already flat), as torch.flatten does
        return { node, inShape, outShape: inShape, bias: undefined, apply: (x) => x };
      }
      const outShape = [...inShape.slice(0, start), prod(inShape.slice(start, end + 1)), ...inShape.slice(end + 1)];
      return { node, inShape, outShape, bias: undefined, apply: (x) => x };
    }
    case "Conv1d":
    case "Conv2d": {
      const is1d = node.type === "Conv1d";
      if (node.groups !== 1) unsupported(node, `groups = ${node.groups}; only groups = 1 is supported`);
      const shape = is1d ? (inShape.length === 2 ? [inShape[0]!, 1, inShape[1]!] : undefined) : inShape.length === 3 ? inShape : undefined;
      if (!shape)
        fail("INTERCHANGE_UNSUPPORTED_GRAPH", `node ${node.name} (${node.type}) receives shape [${inShape.join(", ")}], not ${is1d ? "[C, L]" : "[C, H, W]"}`);
      const [C, H, W] = shape as [number, number, number];
      const ws = node.weight.shape;
      const K = ws[0]!;
      if (ws[1] !== C) fail("INTERCHANGE_UNSUPPORTED_GRAPH", `node ${node.name} (${node.type}) expects ${ws[1]} input channels but receives ${C}`);
      const kh = is1d ? 1 : ws[2]!;
      const kw = is1d ? ws[2]! : ws[3]!;
      const stride = is1d ? [1, node.stride[0]!] : node.stride;
      const dil = is1d ? [1, node.dilation[0]!] : node.dilation;
      const [sy, sx] = [stride[0]!, stride[1]!];
      const [dy, dx] = [dil[0]!, dil[1]!];
      if (sy < 1 || sx < 1 || dy < 1 || dx < 1) badParam(node, "stride and dilation must be ≥ 1");
      let pads: [number, number, number, number]; // top, bottom, left, right
      if (node.padding === "valid") pads = [0, 0, 0, 0];
      else if (node.padding === "same") {
        if (sy !== 1 || sx !== 1) unsupported(node, `padding "same" with stride ${stride.join("x")} (PyTorch allows "same" only with stride 1)`);
        const ty = dy * (kh - 1);
        const tx = dx * (kw - 1);
        // PyTorch puts the odd extra row/column at the bottom/right
        pads = [Math.floor(ty / 2), ty - Math.floor(ty / 2), Math.floor(tx / 2), tx - Math.floor(tx / 2)];
      } else {
        const p = is1d ? [0, node.padding[0]!] : node.padding;
        pads = [p[0]!, p[0]!, p[1]!, p[1]!];
      }
      if (pads.some((p) => p < 0)) badParam(node, "padding must be ≥ 0");
      const OH = windowSize(H, kh, sy, pads[0], pads[1], dy);
      const OW = windowSize(W, kw, sx, pads[2], pads[3], dx);
      if (OH < 1 || OW < 1)
        fail("INTERCHANGE_UNSUPPORTED_GRAPH", `node ${node.name} (${node.type}): kernel larger than its padded input [${shape.join(", ")}]`);
      if (!is1d && node.inputShape && (node.inputShape[0] !== H || node.inputShape[1] !== W)) {
        fail("INTERCHANGE_UNSUPPORTED_GRAPH", `node ${node.name} (${node.type}) declares input ${node.inputShape.join("x")} but receives ${H}x${W}`);
      }
      const w = node.weight.data;
      let bias: Float64Array | undefined;
      if (node.bias) {
        if (node.bias.data.length !== K && node.bias.data.length !== 1) badParam(node, `bias has ${node.bias.data.length} values for ${K} channels`);
        bias = new Float64Array(K * OH * OW);
        for (let k = 0; k < K; k++) bias.fill(node.bias.data[node.bias.data.length === 1 ? 0 : k]!, k * OH * OW, (k + 1) * OH * OW);
      }
      const outShape = is1d ? [K, OW] : [K, OH, OW];
      return {
        node,
        inShape,
        outShape,
        bias,
        apply: (x) => {
          const y = new Float64Array(K * OH * OW);
          for (let k = 0; k < K; k++)
            for (let oy = 0; oy < OH; oy++)
              for (let ox = 0; ox < OW; ox++) {
                let acc = 0;
                for (let c = 0; c < C; c++)
                  for (let ky = 0; ky < kh; ky++) {
                    const iy = oy * sy - pads[0] + ky * dy;
                    if (iy < 0 || iy >= H) continue;
                    for (let kx = 0; kx < kw; kx++) {
                      const ix = ox * sx - pads[2] + kx * dx;
                      if (ix < 0 || ix >= W) continue;
                      const xi = x[(c * H + iy) * W + ix]!;
                      if (xi !== 0) acc += w[((k * C + c) * kh + ky) * kw + kx]! * xi;
                    }
                  }
                y[(k * OH + oy) * OW + ox] = acc;
              }
          return y;
        },
        ...({ conv: { C, H, W, K, OH, OW, kh, kw, sy, sx, dy, dx, pads } } as object),
      };
    }
    case "SumPool2d":
    case "AvgPool2d": {
      if (inShape.length !== 3) fail("INTERCHANGE_UNSUPPORTED_GRAPH", `node ${node.name} (${node.type}) receives shape [${inShape.join(", ")}], not [C, H, W]`);
      const [C, H, W] = inShape as [number, number, number];
      const [kh, kw] = [node.kernel[0]!, node.kernel[1]!];
      const [sy, sx] = [node.stride[0]!, node.stride[1]!];
      const [py, px] = [node.padding[0]!, node.padding[1]!];
      if (kh < 1 || kw < 1 || sy < 1 || sx < 1) badParam(node, "kernel_size and stride must be ≥ 1");
      if (py !== 0 || px !== 0) unsupported(node, `padding ${py}x${px}; pooling with padding is not supported`);
      const OH = windowSize(H, kh, sy, 0, 0, 1);
      const OW = windowSize(W, kw, sx, 0, 0, 1);
      if (OH < 1 || OW < 1) fail("INTERCHANGE_UNSUPPORTED_GRAPH", `node ${node.name} (${node.type}): window larger than its input`);
      const weight = node.type === "AvgPool2d" ? 1 / (kh * kw) : 1;
      return {
        node,
        inShape,
        outShape: [C, OH, OW],
        bias: undefined,
        apply: (x) => {
          const y = new Float64Array(C * OH * OW);
          for (let c = 0; c < C; c++)
            for (let oy = 0; oy < OH; oy++)
              for (let ox = 0; ox < OW; ox++) {
                let acc = 0;
                for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) acc += x[(c * H + oy * sy + ky) * W + ox * sx + kx]!;
                y[(c * OH + oy) * OW + ox] = acc * weight;
              }
          return y;
        },
        ...({ pool: { kh, kw, sy, sx, weight } } as object),
      };
    }
    default:
      fail("INTERCHANGE_UNSUPPORTED_GRAPH", `node ${node.name} (${node.type}) cannot stand between two neuron layers`);
  }
}

/** The synaptic part of a float SNN layer built from a run of linear ops. */
type Synapses =
  | { kind: "dense"; inputs: number; outputs: number; weights: Float64Array; bias: Float64Array }
  | {
      kind: "conv2d";
      inShape: Shape3;
      outShape: Shape3;
      kernel: [number, number];
      stride: [number, number];
      padding: [number, number];
      weights: Float64Array;
      bias: Float64Array;
    }
  | { kind: "pool"; inShape: Shape3; outShape: Shape3; kernel: [number, number]; stride: [number, number]; weight: number; bias: Float64Array };

/** Largest dense matrix made by composing linear ops. */
const MAX_COMPOSED_WEIGHTS = 1 << 24;

function toShape3(s: readonly number[]): Shape3 {
  return s.length === 3 ? [s[0]!, s[1]!, s[2]!] : s.length === 2 ? [s[0]!, 1, s[1]!] : [1, 1, prod(s)];
}

/**
 * Turns a run of linear ops into one layer's synapses: a single convolution or pooling stays one
 * (keeping its structure and sparsity); anything else (pool then dense, Scale, dilation, a conv
 * followed by a dense…) is composed exactly into one dense matrix, column by column.
 */
function synapsesOf(ops: LinearOp[], inShape: number[]): { syn: Synapses; mapping: string } {
  const real = ops.filter((o) => o.node.type !== "Flatten");
  const outShape = ops.length ? ops[ops.length - 1]!.outShape : inShape;
  const nOut = prod(outShape);
  const nIn = prod(inShape);
  const one = real.length === 1 ? (real[0] as LinearOp & { conv?: Record<string, number | number[]>; pool?: Record<string, number> }) : undefined;
  const bias = new Float64Array(nOut);
  let b: Float64Array = new Float64Array(nIn);
  for (const op of ops) {
    b = op.apply(b);
    if (op.bias) for (let j = 0; j < b.length; j++) b[j]! += op.bias[j]!;
  }
  bias.set(b);
  if (one?.conv) {
    const c = one.conv as {
      C: number;
      H: number;
      W: number;
      K: number;
      OH: number;
      OW: number;
      kh: number;
      kw: number;
      sy: number;
      sx: number;
      dy: number;
      dx: number;
      pads: number[];
    };
    const p = c.pads;
    const bottomOk = (c.OH - 1) * c.sy - p[0]! + c.kh > c.H - 1 + p[1]! + 1 ? false : true;
    if (c.dy === 1 && c.dx === 1 && p[0]! < c.kh && p[2]! < c.kw && bottomOk) {
      return {
        syn: {
          kind: "conv2d",
          inShape: [c.C, c.H, c.W],
          outShape: [c.K, c.OH, c.OW],
          kernel: [c.kh, c.kw],
          stride: [c.sy, c.sx],
          padding: [p[0]!, p[2]!],
          weights: Float64Array.from((one.node as { weight: Tensor }).weight.data),
          bias,
        },
        mapping: `conv2d ${c.C}x${c.H}x${c.W} → ${c.K}x${c.OH}x${c.OW}, kernel ${c.kh}x${c.kw}, stride ${c.sy}x${c.sx}, padding ${p[0]}x${p[2]}`,
      };
    }
  }
  if (one?.pool) {
    const q = one.pool;
    const s3 = toShape3(inShape);
    const o3 = toShape3(outShape);
    return {
      syn: { kind: "pool", inShape: s3, outShape: o3, kernel: [q["kh"]!, q["kw"]!], stride: [q["sy"]!, q["sx"]!], weight: q["weight"]!, bias },
      mapping: `pool ${q["kh"]}x${q["kw"]} stride ${q["sy"]}x${q["sx"]}, weight ${q["weight"]}`,
    };
  }
  if (nIn * nOut > MAX_COMPOSED_WEIGHTS) {
    fail(
      "INTERCHANGE_UNSUPPORTED_GRAPH",
      `nodes ${ops.map((o) => `${o.node.name} (${o.node.type})`).join(", ")} compose into a ${nIn}x${nOut} dense map, over the ${MAX_COMPOSED_WEIGHTS}-weight limit`,
    );
  }
  const weights = new Float64Array(nIn * nOut);
  const e = new Float64Array(nIn);
  for (let i = 0; i < nIn; i++) {
    e.fill(0);
    e[i] = 1;
    let y: Float64Array = e;
    for (const op of ops) y = op.apply(y);
    weights.set(y.subarray(0, nOut), i * nOut);
  }
  const what = real.length <= 1 ? (real[0]?.node.type ?? "identity") : `${real.map((o) => o.node.type).join(" ∘ ")} composed`;
  return { syn: { kind: "dense", inputs: nIn, outputs: nOut, weights, bias }, mapping: `dense ${nIn} → ${nOut} (${what})` };
}

// ---------------------------------------------------------------------------------------------
// Neurons

/** One neuron layer's float parameters, per neuron, and how the input is scaled into it. */
interface NeuronMap {
  neuron: FloatNeuron;
  /** Input gain per neuron (multiplies the synaptic weights onto it). */
  gain: Float64Array;
  /** Constant drive per neuron (v_leak's share), added to the bias. */
  drive: Float64Array;
  threshold: Float64Array | undefined;
  leak: Float64Array | undefined;
  vReset: Float64Array | undefined;
  vInit: Float64Array | undefined;
  synDecay: Float64Array | undefined;
}

function broadcast(t: Tensor | undefined, n: number, node: NirNode, field: string, fallback: number): Float64Array {
  if (t === undefined) return new Float64Array(n).fill(fallback);
  if (t.data.length === 1) return new Float64Array(n).fill(t.data[0]!);
  if (t.data.length !== n) badParam(node, `'${field}' has ${t.data.length} values for ${n} neurons`);
  return Float64Array.from(t.data);
}

function uniform(a: Float64Array): boolean {
  return a.every((x) => x === a[0]);
}

interface Settings {
  dialect: Dialect;
  dt: number;
  dtSource: AssumptionSource;
  options: ImportOptions;
}

/** Maps a neuron node to float neuron parameters at the dialect's reading, recording assumptions. */
function mapNeuron(node: NirNode, n: number, s: Settings, isLast: boolean, notes: Assumption[]): NeuronMap {
  const { dialect, dt } = s;
  const o = s.options;
  const note = (what: string, value: string, source: AssumptionSource): void => void notes.push({ what, value, source });
  const exact = dialect === "sinabs" || dialect === "rockpool";
  const f = (t: Tensor | undefined, field: string, fallback = 0): Float64Array => broadcast(t, n, node, field, fallback);
  let leak: Float64Array = new Float64Array(n).fill(1);
  let gain: Float64Array = new Float64Array(n).fill(1);
  const drive = new Float64Array(n);
  let synDecay: Float64Array | undefined;
  let threshold: Float64Array | undefined;
  let vReset: Float64Array | undefined;
  let vLeak: Float64Array | undefined;
  const decay = (tau: Float64Array, field: string): Float64Array =>
    tau.map((t) => {
      if (!(t > 0)) badParam(node, `'${field}' must be > 0, got ${t}`);
      const d = exact ? Math.exp(-dt / t) : 1 - dt / t;
      if (!(d >= 0 && d <= 1))
        badParam(
          node,
          `'${field}' = ${t} s is shorter than the step ${dt} s: forward Euler would be unstable (pass --dt, or --from with the writer's dialect)`,
        );
      return d;
    });
  const leakRule = exact ? "exact exponential e^(−dt/τ)" : "forward Euler 1 − dt/τ";
  switch (node.type) {
    case "IF":
    case "I": {
      const r = f(node.r, "r", 1);
      gain = r.map((x) => x * dt);
      note("membrane", `v ← v + dt·r·I (dt ${dt})`, "file");
      if (node.type === "IF") {
        threshold = f(node.vThreshold, "v_threshold");
        vReset = f(node.vReset, "v_reset");
        if (!node.vReset) note("v_reset", "0 (absent from the file: NIR's default)", "default");
      }
      break;
    }
    case "LIF":
    case "LI": {
      const tau = f(node.tau, "tau");
      leak = decay(tau, "tau");
      const r = f(node.r, "r", 1);
      vLeak = f(node.vLeak, "v_leak");
      gain = leak.map((l, j) => (1 - l) * r[j]!);
      for (let j = 0; j < n; j++) drive[j] = (1 - leak[j]!) * vLeak[j]!;
      note("leak", `${leakRule} at dt ${dt}`, "dialect");
      if (node.type === "LIF") {
        threshold = f(node.vThreshold, "v_threshold");
        vReset = f(node.vReset, "v_reset");
        if (!node.vReset) note("v_reset", "0 (absent from the file: NIR's default)", "default");
      }
      break;
    }
    case "CubaLIF":
    case "CubaLI": {
      const tauMem = f(node.tauMem, "tau_mem");
      const tauSyn = f(node.tauSyn, "tau_syn");
      leak = decay(tauMem, "tau_mem");
      synDecay = decay(tauSyn, "tau_syn");
      const r = f(node.r, "r", 1);
      const wIn = f(node.wIn, "w_in", 1);
      vLeak = f(node.vLeak, "v_leak");
      if (dialect === "rockpool") {
        // i ← α(i + w_in·S), v ← β·v + i: the file's r (τ·e^(−dt/τ)/dt) is not used by Rockpool's simulator
        gain = synDecay.map((a, j) => a * wIn[j]!);
        note("synapse", "Rockpool order: i += input; v, i decay by exact exponentials; v += i (r as written is not used)", "dialect");
        note("v bias", "0 (Rockpool drops its neuron bias on export)", "dialect");
      } else if (dialect === "norse") {
        // the current jumps by the full input: NIR Euler with w_in·τ_syn/dt
        gain = leak.map((l, j) => (1 - l) * r[j]! * wIn[j]!);
        note("synapse", "current jumps by the full input (Norse LIFCell): w_in·τ_syn/dt in NIR's Euler form", "dialect");
      } else {
        gain = leak.map((l, j) => (1 - l) * r[j]! * (1 - synDecay![j]!) * wIn[j]!);
        note(
          "synapse",
          `forward Euler I ← I + dt/τ_syn·(−I + w_in·S); v uses the new I${dialect === "snntorch" ? " (= snnTorch Synaptic: syn ← α·syn + input)" : ""}`,
          "dialect",
        );
      }
      // the layer's bias enters the synaptic current (spec/float-snn.md §5.1), so a resting level
      // on the membrane itself has no place: refuse rather than approximate it
      if (vLeak.some((x) => x !== 0))
        unsupported(node, "v_leak ≠ 0 with a current-based synapse is not supported (the float SNN's bias feeds the synaptic current)");
      note("leak", `${leakRule} at dt ${dt}`, "dialect");
      if (node.type === "CubaLIF") {
        threshold = f(node.vThreshold, "v_threshold");
        vReset = f(node.vReset, "v_reset");
        if (!node.vReset) note("v_reset", "0 (absent from the file: NIR's default)", "default");
      }
      break;
    }
    case "Threshold":
      threshold = f(node.threshold, "threshold");
      note("membrane", "none: spikes when this step's input passes the threshold", "file");
      break;
    default:
      unsupported(node, "is not a neuron");
  }
  const spiking = node.type === "IF" || node.type === "LIF" || node.type === "CubaLIF" || node.type === "Threshold";
  if (threshold) for (const t of threshold) if (!(t > 0)) badParam(node, `threshold must be > 0, got ${t}`);
  const model: FloatNeuron["model"] = !spiking ? "integrator" : node.type === "Threshold" ? "threshold" : node.type === "IF" ? "if" : "lif";
  if (!spiking && !isLast) unsupported(node, "a non-spiking neuron can only be the output layer");
  const neuron: FloatNeuron = { model, threshold: threshold ? threshold[0]! : 1, leak: 1, reset: "subtract", refractory: 0 };
  let outLeak: Float64Array | undefined = leak;
  if (model === "if" || model === "threshold" || (model === "integrator" && uniform(leak) && leak[0] === 1)) outLeak = undefined;
  if (spiking && model !== "threshold") {
    // reset
    const dialectReset: { r: NonNullable<ImportOptions["reset"]>; why: string } =
      dialect === "snntorch"
        ? {
            r: "subtract-delayed",
            why: "snnTorch's default reset_mechanism 'subtract' with reset_delay: v − θ·S[t−1], one step late and not decayed (the file says v_reset = 0 either way; pass --reset zero for reset_mechanism 'zero')",
          }
        : dialect === "sinabs" || dialect === "rockpool"
          ? { r: "subtract", why: `${dialect === "sinabs" ? "sinabs MembraneSubtract" : "Rockpool LIFTorch"}: n·θ subtracted` }
          : { r: "value", why: "NIR: v ← v_reset after a spike" };
    const reset = o.reset ?? dialectReset.r;
    note("reset", o.reset ? reset : `${reset}: ${dialectReset.why}`, o.reset ? "flag" : "dialect");
    if (reset === "subtract" || reset === "subtract-delayed") {
      neuron.reset = "subtract";
      if (reset === "subtract-delayed") neuron.resetDelay = true;
    } else if (reset === "zero" || (reset === "value" && vReset!.every((x) => x === 0))) {
      neuron.reset = "zero";
    } else {
      neuron.reset = "value";
      neuron.vReset = vReset![0]!;
    }
    // comparison
    const cmpDialect = dialect === "sinabs" || dialect === "rockpool" ? "ge" : "gt";
    const cmp = o.compare ?? cmpDialect;
    neuron.compare = cmp;
    note("threshold test", cmp === "gt" ? "v > θ" : "v ≥ θ", o.compare ? "flag" : "dialect");
    // multi-spike
    const multi = o.multiSpike ?? (dialect === "sinabs" || dialect === "rockpool");
    if (multi) {
      if (neuron.reset !== "subtract") fail("CLI_USAGE", `node ${node.name}: multi-spike needs a subtractive reset (got ${reset})`);
      neuron.multiSpike = true;
    }
    note("spikes per step", multi ? "n = floor(v/θ), n·θ subtracted" : "at most one", o.multiSpike !== undefined ? "flag" : "dialect");
    // floor
    const vMinOpt = o.vMin ?? (dialect === "sinabs" ? "-threshold" : "none");
    if (vMinOpt === "-threshold") {
      if (!uniform(threshold!)) unsupported(node, "a membrane floor of −threshold needs one threshold for the whole layer");
      neuron.vMin = -threshold![0]!;
    } else if (vMinOpt !== "none") neuron.vMin = vMinOpt;
    note(
      "membrane floor",
      neuron.vMin === undefined ? "none" : `${neuron.vMin}${vMinOpt === "-threshold" ? " (−θ: sinabs' min_v_mem as its from_nir rebuilds it)" : ""}`,
      o.vMin !== undefined ? "flag" : "dialect",
    );
  } else if (model === "threshold") {
    neuron.compare = o.compare ?? "gt";
    neuron.reset = "zero";
  }
  // initial membrane
  const init = o.initial ?? (dialect === "norse" ? "v_leak" : "zero");
  let vInit: Float64Array | undefined;
  if (init === "v_leak" && vLeak && vLeak.some((x) => x !== 0)) vInit = vLeak;
  if (model !== "threshold")
    note("initial membrane", init === "v_leak" ? "v_leak (Norse starts every sample at v = v_leak)" : "0", o.initial ? "flag" : "dialect");
  return {
    neuron,
    gain,
    drive,
    threshold: threshold && !uniform(threshold) ? threshold : undefined,
    leak: outLeak,
    vReset: neuron.reset === "value" && vReset && !uniform(vReset) ? vReset : undefined,
    vInit,
    synDecay,
  };
}

// ---------------------------------------------------------------------------------------------
// The whole graph

/** Maps a parsed (flattened) NIR graph to a float SNN, with the report of every node. */
export function importGraph(g: NirGraph, options: ImportOptions, path = "NIR graph"): { snn: FloatSnn; report: ImportReport } {
  const detected = options.from === "auto" ? detectDialect(g) : undefined;
  const dialect: Dialect = detected ? detected.dialect : (options.from as Dialect);
  const dd = DIALECT_DT[dialect];
  const dt = options.dt ?? dd?.dt ?? NIR_DEFAULT_DT;
  const dtSource: AssumptionSource = options.dt !== undefined ? "flag" : dd ? "dialect" : "default";
  if (!(dt > 0 && Number.isFinite(dt))) fail("CLI_USAGE", `--dt must be a positive number of seconds, got ${dt}`);
  const settings: Settings = { dialect, dt, dtSource, options };
  const unit = dialect === "sinabs" && options.dt === undefined ? " step" : " s";
  const global: Assumption[] = [
    {
      what: "time step",
      value: `${dt}${unit}${dd && options.dt === undefined ? ` (${dd.why})` : dtSource === "default" ? " (no dialect states one; pass --dt)" : ""}`,
      source: dtSource,
    },
  ];
  const mappings: NodeMapping[] = [];

  const inputs = [...g.nodes.values()].filter((n) => n.type === "Input");
  const outputs = [...g.nodes.values()].filter((n) => n.type === "Output");
  if (inputs.length !== 1 || outputs.length !== 1)
    fail(
      "INTERCHANGE_UNSUPPORTED_GRAPH",
      `${path}: the graph has ${inputs.length} Input and ${outputs.length} Output nodes; picospike maps graphs with exactly one of each`,
    );
  const input = inputs[0] as Extract<NirNode, { type: "Input" }>;
  const output = outputs[0]!;
  const succ = new Map<string, string[]>();
  const pred = new Map<string, string[]>();
  for (const name of g.nodes.keys()) {
    succ.set(name, []);
    pred.set(name, []);
  }
  for (const [a, b] of g.edges) {
    if (!g.nodes.has(a) || !g.nodes.has(b)) fail("INTERCHANGE_UNKNOWN_EDGE", `${path}: edge ${a} -> ${b} names a node the graph does not have`);
    succ.get(a)!.push(b);
    pred.get(b)!.push(a);
  }

  // Recurrences: from a neuron N, a chain of linear nodes (and at most one one-step Delay) back into N.
  const recurrent = new Map<string, NirNode[]>();
  const inCycle = new Set<string>();
  for (const [name, node] of g.nodes) {
    if (!NEURON_TYPES.has(node.type)) continue;
    for (const first of succ.get(name)!) {
      const chain: NirNode[] = [];
      let cur = first;
      let ok = false;
      for (let hops = 0; hops < 8; hops++) {
        const cn = g.nodes.get(cur)!;
        if (cur === name) {
          ok = true;
          break;
        }
        if (!["Affine", "Linear", "Scale", "Delay"].includes(cn.type) || succ.get(cur)!.length !== 1 || pred.get(cur)!.length !== 1) break;
        chain.push(cn);
        cur = succ.get(cur)![0]!;
      }
      if (ok && chain.length > 0) {
        if (recurrent.has(name)) fail("INTERCHANGE_UNSUPPORTED_GRAPH", `${path}: neuron ${name} has more than one recurrent loop`);
        recurrent.set(name, chain);
        for (const c of chain) inCycle.add(c.name);
      }
    }
  }

  // The forward path: Input → … → Output, one successor at a time (recurrent loops set aside).
  const path_: NirNode[] = [];
  const seen = new Set<string>();
  let cur = input.name;
  for (;;) {
    if (seen.has(cur))
      fail("INTERCHANGE_UNSUPPORTED_GRAPH", `${path}: node ${cur} is reached twice: a cycle that is not a one-step recurrence of one neuron layer`);
    seen.add(cur);
    const node = g.nodes.get(cur)!;
    path_.push(node);
    if (cur === output.name) break;
    const next = succ.get(cur)!.filter((s) => !inCycle.has(s));
    if (next.length !== 1)
      fail(
        "INTERCHANGE_UNSUPPORTED_GRAPH",
        `${path}: node ${cur} (${node.type}) has ${next.length} forward successors; picospike maps a chain of layers (no branches${next.length === 0 ? ", and the Output must be reached" : ""})`,
      );
    cur = next[0]!;
    const fwdPred = pred.get(cur)!.filter((p) => !inCycle.has(p));
    if (fwdPred.length !== 1)
      fail("INTERCHANGE_UNSUPPORTED_GRAPH", `${path}: node ${cur} (${g.nodes.get(cur)!.type}) has ${fwdPred.length} forward inputs; merges are not supported`);
  }
  const unused = [...g.nodes.keys()].filter((k) => !seen.has(k) && !inCycle.has(k));
  if (unused.length) fail("INTERCHANGE_UNSUPPORTED_GRAPH", `${path}: nodes ${unused.join(", ")} are not on the path from Input to Output`);

  // Input shape: [N], [C, H, W], [C, L]; a leading batch dimension of 1 (Rockpool) is dropped.
  let inShape = [...input.shape];
  if (inShape.length === 2 && inShape[0] === 1) {
    inShape = [inShape[1]!];
    global.push({ what: "input shape", value: `[${input.shape.join(", ")}] read as [${inShape[0]}]: a leading batch dimension of 1`, source: "file" });
  }
  if (inShape.length === 0 || inShape.length > 3 || inShape.some((d) => !(d >= 1)))
    fail("INTERCHANGE_UNSUPPORTED_GRAPH", `${path}: Input shape [${input.shape.join(", ")}] is not [N], [C, L] or [C, H, W]`);
  mappings.push({ node: input.name, type: "Input", mappedTo: `input ${toShape3(inShape).join("x")}, each event a spike worth 1`, assumptions: [] });
  const snnInputShape = toShape3(inShape);

  const layers: FloatLayer[] = [];
  let ops: LinearOp[] = [];
  let shape = inShape;
  let runIn = inShape;
  for (let k = 1; k < path_.length; k++) {
    const node = path_[k]!;
    if (node.type === "Output") {
      if (ops.some((o) => o.node.type !== "Flatten"))
        fail(
          "INTERCHANGE_UNSUPPORTED_GRAPH",
          `${path}: nodes ${ops.map((o) => o.node.name).join(", ")} come after the last neuron layer; the output must be a neuron layer`,
        );
      if (prod(node.shape) !== prod(shape))
        global.push({ what: "output shape", value: `[${node.shape.join(", ")}] holds the ${prod(shape)} neurons of the last layer`, source: "file" });
      mappings.push({ node: node.name, type: "Output", mappedTo: `readout of layer ${layers[layers.length - 1]?.name ?? "?"}`, assumptions: [] });
      break;
    }
    if (node.type === "Delay")
      fail(
        "INTERCHANGE_UNSUPPORTED_NODE",
        `node ${node.name} (Delay): a delay on the forward path is not supported (only a one-step delay inside a recurrent loop)`,
      );
    if (!NEURON_TYPES.has(node.type)) {
      const op = linearOp(node, shape);
      ops.push(op);
      shape = op.outShape;
      continue;
    }
    if (layers.length === 0 && ops.length === 0)
      fail(
        "INTERCHANGE_UNSUPPORTED_GRAPH",
        `${path}: neuron node ${node.name} takes the input directly; picospike needs synapses (an Affine, Linear or Conv) before the first neuron layer`,
      );
    const { syn, mapping } = synapsesOf(ops, runIn);
    for (const op of ops) mappings.push({ node: op.node.name, type: op.node.type, mappedTo: `synapses of layer ${node.name}: ${mapping}`, assumptions: [] });
    const n = prod(shape);
    const notes: Assumption[] = [];
    const isLast = path_[k + 1]?.type === "Output" || path_.slice(k + 1).every((x) => x.type === "Output" || x.type === "Flatten");
    const nm = mapNeuron(node, n, settings, isLast, notes);
    const layer = buildLayer(node.name, syn, nm, n, shape);
    const chain = recurrent.get(node.name);
    if (chain) {
      if (layer.kind !== "dense")
        fail(
          "INTERCHANGE_UNSUPPORTED_GRAPH",
          `${path}: recurrent loop on ${node.name}, whose input is a ${layer.kind} map; only dense layers can be recurrent`,
        );
      layer.recurrent = recurrentWeights(chain, n, nm.gain, layer, settings, notes, mappings, node.name);
    }
    layers.push(layer);
    mappings.push({ node: node.name, type: node.type, mappedTo: `layer ${node.name}: ${n} ${layer.neuron.model} neurons`, assumptions: notes });
    ops = [];
    runIn = shape;
  }
  if (layers.length === 0) fail("INTERCHANGE_UNSUPPORTED_GRAPH", `${path}: no neuron layer between Input and Output`);
  const last = layers[layers.length - 1]!;
  const readout = last.neuron.model === "integrator" ? "membrane" : "count";
  const snn: FloatSnn = {
    input: { shape: snnInputShape, encoding: "rate", scale: 1 },
    layers,
    readout,
    provenance: { source: options.source ?? path, tool: "picospike import (NIR)", settings: { dialect, dt, ...(g.version ? { nirVersion: g.version } : {}) } },
  };
  validateFloatSnn(snn, path);
  const report: ImportReport = {
    dialect,
    dialectSource: detected ? "detected" : "flag",
    fingerprints: detected ? detected.reasons : [],
    dt,
    dtSource,
    nirVersion: g.version,
    nodes: mappings,
    global,
  };
  return { snn, report };
}

function f32(a: Float64Array): Float32Array {
  return Float32Array.from(a);
}

/** Folds the neuron's input gain into the synapses and builds the float SNN layer. */
function buildLayer(name: string, syn: Synapses, nm: NeuronMap, n: number, shape: number[]): FloatLayer {
  if (layerSizeOf(syn) !== n)
    fail("INTERCHANGE_UNSUPPORTED_GRAPH", `layer ${name}: ${layerSizeOf(syn)} synaptic outputs for ${n} neurons ([${shape.join(", ")}])`);
  const bias = new Float64Array(n);
  for (let j = 0; j < n; j++) bias[j] = syn.bias[j]! * nm.gain[j]! + nm.drive[j]!;
  const perNeuron: PerNeuron = {};
  let layer: FloatLayer;
  if (syn.kind === "dense") {
    const w = new Float32Array(syn.weights.length);
    for (let i = 0; i < syn.inputs; i++) for (let j = 0; j < syn.outputs; j++) w[i * syn.outputs + j] = syn.weights[i * syn.outputs + j]! * nm.gain[j]!;
    layer = { kind: "dense", name, neuron: nm.neuron, inputs: syn.inputs, outputs: syn.outputs, weights: w, bias: f32(bias) };
  } else {
    const [K, OH, OW] = syn.outShape;
    const per = OH * OW;
    // a map's weights are shared per channel: the gain must be one per channel
    for (let k = 0; k < K; k++)
      for (let j = k * per; j < (k + 1) * per; j++)
        if (nm.gain[j] !== nm.gain[k * per])
          fail(
            "INTERCHANGE_UNSUPPORTED_GRAPH",
            `layer ${name}: neuron parameters differ within a channel, so the input gain cannot be folded into shared ${syn.kind} weights`,
          );
    const chBias = new Float32Array(K);
    let perChannel = true;
    for (let k = 0; k < K; k++) {
      chBias[k] = bias[k * per]!;
      for (let j = k * per; j < (k + 1) * per; j++) if (bias[j] !== bias[k * per]) perChannel = false;
    }
    if (!perChannel) perNeuron.bias = f32(bias);
    if (syn.kind === "conv2d") {
      const C = syn.inShape[0];
      const [kh, kw] = syn.kernel;
      const w = new Float32Array(syn.weights.length);
      for (let k = 0; k < K; k++) for (let r = 0; r < C * kh * kw; r++) w[k * C * kh * kw + r] = syn.weights[k * C * kh * kw + r]! * nm.gain[k * per]!;
      layer = {
        kind: "conv2d",
        name,
        neuron: nm.neuron,
        inShape: syn.inShape,
        outShape: syn.outShape,
        kernel: syn.kernel,
        stride: syn.stride,
        padding: syn.padding,
        weights: w,
        bias: chBias,
      };
    } else {
      const g0 = nm.gain[0]!;
      if (!uniform(nm.gain)) fail("INTERCHANGE_UNSUPPORTED_GRAPH", `layer ${name}: a pooling layer needs one input gain for all neurons`);
      layer = {
        kind: "pool",
        name,
        neuron: nm.neuron,
        inShape: syn.inShape,
        outShape: syn.outShape,
        kernel: syn.kernel,
        stride: syn.stride,
        weight: syn.weight * g0,
        bias: chBias,
      };
    }
  }
  if (nm.threshold) perNeuron.threshold = f32(nm.threshold);
  if (nm.leak) {
    if (uniform(nm.leak)) layer.neuron.leak = nm.leak[0]!;
    else {
      perNeuron.leak = f32(nm.leak);
      layer.neuron.leak = nm.leak[0]!;
    }
  }
  if (nm.vReset) perNeuron.vReset = f32(nm.vReset);
  if (nm.vInit) {
    if (uniform(nm.vInit)) layer.neuron.vInit = nm.vInit[0]!;
    else perNeuron.vInit = f32(nm.vInit);
  }
  if (nm.synDecay) {
    if (uniform(nm.synDecay)) layer.neuron.synDecay = nm.synDecay[0]!;
    else perNeuron.synDecay = f32(nm.synDecay);
  }
  if (Object.keys(perNeuron).length > 0) layer.neuron.perNeuron = perNeuron;
  if (layer.neuron.leak !== 1 && layer.neuron.model === "if") layer.neuron.model = "lif";
  return layer;
}

function layerSizeOf(s: Synapses): number {
  return s.kind === "dense" ? s.outputs : s.outShape[0] * s.outShape[1] * s.outShape[2];
}

/** The recurrent loop's weights (fan-out order, gain folded) and its bias folded into the layer's. */
function recurrentWeights(
  chain: NirNode[],
  n: number,
  gain: Float64Array,
  layer: FloatLayer & { kind: "dense" },
  s: Settings,
  notes: Assumption[],
  mappings: NodeMapping[],
  name: string,
): Float32Array {
  const ops: LinearOp[] = [];
  let shape = [n];
  for (const node of chain) {
    if (node.type === "Delay") {
      const d = node.delay.data;
      if (!Array.from(d).every((x) => Math.abs(x - s.dt) <= 1e-6 * s.dt))
        unsupported(node, `a delay of ${d[0]} s is not one step of ${s.dt} s; only a one-step delay in a recurrent loop is supported`);
      mappings.push({ node: node.name, type: node.type, mappedTo: `the one-step delay of layer ${name}'s recurrent loop`, assumptions: [] });
      continue;
    }
    const op = linearOp(node, shape);
    ops.push(op);
    shape = op.outShape;
    mappings.push({ node: node.name, type: node.type, mappedTo: `recurrent weights of layer ${name} (previous step's spikes)`, assumptions: [] });
  }
  if (prod(shape) !== n) fail("INTERCHANGE_UNSUPPORTED_GRAPH", `recurrent loop of ${name} maps ${n} neurons onto ${prod(shape)}`);
  const { syn } = synapsesOf(ops, [n]);
  if (syn.kind !== "dense") fail("INTERCHANGE_UNSUPPORTED_GRAPH", `recurrent loop of ${name} is not a dense map`);
  const rec = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) rec[i * n + j] = syn.weights[i * n + j]! * gain[j]!;
  const bias = layer.bias!;
  for (let j = 0; j < n; j++) bias[j] = bias[j]! + syn.bias[j]! * gain[j]!;
  notes.push({
    what: "recurrence",
    value: "the loop delivers the previous step's spikes (one-step recurrence); its bias acts every step from t = 0",
    source: "file",
  });
  void layerSize;
  return rec;
}
