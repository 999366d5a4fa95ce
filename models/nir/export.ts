/**
 * Event table → NIR 1.0 (the layout `nir.write` produces and `nir.read` accepts). Weights are
 * dequantized with the table's layer scales (provenance.layerScales: the float value of one
 * membrane unit); time constants, r and thresholds are stated at a chosen dt so that NIR's forward
 * Euler of each node gives picospike's per-step update; and what NIR cannot say (`≥`, reset by
 * subtraction, the membrane floor, refractory steps, the integer parameters) is written into each
 * node's metadata, so a reader can reproduce picospike bit for bit.
 */
import { fail } from "../../runtime/errors.js";
import { connectionSynapses } from "../../runtime/format.js";
import type { Connection, EventTable, Layer, Weights } from "../../runtime/model.js";
import { writeHdf5Tree, type H5WriteNode } from "./hdf5.js";

/** NIR version string written at the file's root (the format `nir.read` reads). */
export const NIR_EXPORT_VERSION = "1.0.0";

/** What export wrote, node by node. */
export interface ExportReport {
  readonly dt: number;
  readonly nodes: Array<{ node: string; type: string; from: string }>;
  readonly edges: Array<[string, string]>;
}

/** The float value of each stored weight (w · 2^shift per output channel). */
function weightValues(w: Weights, channelOf: (k: number) => number): Float64Array {
  const out = new Float64Array(w.count);
  for (let k = 0; k < w.count; k++) {
    let q: number;
    if (w.bits === 4) {
      const byte = (w.data as Uint8Array)[k >> 1]!;
      const nib = k & 1 ? byte >> 4 : byte & 15;
      q = nib >= 8 ? nib - 16 : nib;
    } else q = (w.data as Int8Array | Int16Array)[k]!;
    const shift = w.shift.length === 1 ? w.shift[0]! : w.shift[channelOf(k)]!;
    out[k] = q * 2 ** shift;
  }
  return out;
}

const f32 = (data: ArrayLike<number>, shape: number[]): H5WriteNode => ({ kind: "float32", data, shape });
const i64 = (data: number[], shape = [data.length]): H5WriteNode => ({ kind: "int64", data, shape });
const str = (value: string): H5WriteNode => ({ kind: "string", value });

function group(type: string, fields: Record<string, H5WriteNode>, metadata?: Record<string, string>): H5WriteNode {
  const children: [string, H5WriteNode][] = [["type", str(type)], ...Object.entries(fields)];
  if (metadata) children.push(["metadata", { kind: "group", children: Object.entries(metadata).map(([k, v]) => [k, str(v)] as [string, H5WriteNode]) }]);
  return { kind: "group", children };
}

function unsupported(layer: Layer, why: string): never {
  fail("INTERCHANGE_EXPORT_UNSUPPORTED", `layer ${layer.name}: ${why}`);
}

/** The NIR node(s) of one connection, in order, with the float weight of one stored unit (`unit`). */
function connectionNodes(
  layer: Layer,
  c: Connection,
  unit: number,
  bias: Float64Array | undefined,
  name: string,
  perChannelBias: boolean,
): Array<[string, H5WriteNode]> {
  if (c.kind === "dense" || c.kind === "sparse") {
    const { inputs, outputs } = c;
    const w = new Float64Array(inputs * outputs);
    if (c.kind === "dense") {
      const v = weightValues(c.weights, (k) => k % outputs);
      for (let i = 0; i < inputs; i++) for (let j = 0; j < outputs; j++) w[j * inputs + i] = v[i * outputs + j]! * unit;
    } else {
      const v = weightValues(c.weights, (k) => c.cols[k]!);
      for (let i = 0; i < inputs; i++) for (let k = c.rowPtr[i]!; k < c.rowPtr[i + 1]!; k++) w[c.cols[k]! * inputs + i] = v[k]! * unit;
    }
    return [[name, group("Affine", { weight: f32(w, [outputs, inputs]), bias: f32(bias ?? new Float64Array(outputs), [outputs]) })]];
  }
  if (c.kind === "conv2d") {
    const [C, H, W] = c.inShape;
    const [K, OH, OW] = c.outShape;
    const [kh, kw] = c.kernel;
    const [sy, sx] = c.stride;
    const [py, px] = c.padding;
    // NIR (PyTorch) pads symmetrically; picospike's implied bottom/right padding must agree
    if (OH !== Math.floor((H + 2 * py - kh) / sy) + 1 || OW !== Math.floor((W + 2 * px - kw) / sx) + 1) {
      unsupported(layer, `convolution output ${K}x${OH}x${OW} implies asymmetric padding, which NIR's Conv2d cannot state`);
    }
    if (bias && !perChannelBias) unsupported(layer, "a bias per neuron of a feature map (NIR's Conv2d bias is one per channel)");
    const per = C * kh * kw;
    const w = weightValues(c.weights, (k) => Math.floor(k / per)).map((x) => x * unit);
    return [
      [
        name,
        group("Conv2d", {
          input_shape: i64([H, W]),
          weight: f32(w, [K, C, kh, kw]),
          stride: i64([sy, sx]),
          padding: i64([py, px]),
          dilation: i64([1, 1]),
          groups: i64([1], []),
          bias: f32(bias ?? new Float64Array(K), [K]),
        }),
      ],
    ];
  }
  if (bias && bias.some((x) => x !== 0)) unsupported(layer, "a bias on a pooling layer (NIR's SumPool2d has none)");
  return [
    [`${name}.pool`, group("SumPool2d", { kernel_size: i64([...c.kernel]), stride: i64([...c.stride]), padding: i64([0, 0]) })],
    [name, group("Scale", { scale: f32([c.weight * 2 ** c.shift * unit], [1]) })],
  ];
}

/**
 * Builds the NIR graph of an event table at time step `dt` (seconds). Node names: `input`, then
 * per layer `NAME.w` (its synapses; a pool is `NAME.w.pool` and `NAME.w`), `NAME` (its neurons),
 * `NAME.rec` (its recurrent synapses), and `output`.
 */
export function exportGraph(table: EventTable, dt: number): { tree: H5WriteNode & { kind: "group" }; report: ExportReport } {
  if (!(dt > 0 && Number.isFinite(dt))) fail("CLI_USAGE", `--dt must be a positive number of seconds, got ${dt}`);
  const scales = table.provenance.layerScales;
  if (scales.length !== table.layers.length || scales.some((s) => !(s > 0 && Number.isFinite(s)))) {
    fail(
      "INTERCHANGE_EXPORT_UNSUPPORTED",
      "the table's provenance has no usable layer scales (float value of one membrane unit per layer), so weights cannot be dequantized",
    );
  }
  const nodes: Array<[string, H5WriteNode]> = [];
  const report: ExportReport = { dt, nodes: [], edges: [] };
  const edges: Array<[string, string]> = [];
  // a flat input is written [N], as the frameworks write it (picospike keeps it as 1x1xN)
  const inShape = table.input.shape && !(table.input.shape[0] === 1 && table.input.shape[1] === 1) ? [...table.input.shape] : [table.input.size];
  nodes.push(["input", group("Input", { shape: i64(inShape) }, { picospike_encoding: table.input.encoding })]);
  report.nodes.push({ node: "input", type: "Input", from: `input (${table.input.encoding})` });
  let prev = "input";
  let prevShape = inShape;
  table.layers.forEach((layer, l) => {
    const s = scales[l]!;
    const n = layer.size;
    const shape = layer.shape ? [...layer.shape] : [n];
    const perChannelBias = layer.bias !== undefined && layer.shape !== undefined && layer.bias.length === layer.shape[0];
    const bias = layer.bias ? Float64Array.from(layer.bias, (b) => b * s) : undefined;
    const wName = `${layer.name}.w`;
    if (layer.input.kind !== "conv2d" && layer.input.kind !== "pool" && prevShape.length > 1) {
      nodes.push([`${layer.name}.flatten`, group("Flatten", { start_dim: i64([0], []), end_dim: i64([-1], []), input_type: i64(prevShape) })]);
      edges.push([prev, `${layer.name}.flatten`]);
      prev = `${layer.name}.flatten`;
    }
    const conn = connectionNodes(
      layer,
      layer.input,
      s,
      bias && layer.input.kind !== "conv2d" && layer.input.kind !== "pool" && layer.bias!.length !== n ? expandBias(bias, n) : bias,
      wName,
      perChannelBias,
    );
    for (const [name, node] of conn) {
      nodes.push([name, node]);
      edges.push([prev, name]);
      report.nodes.push({ node: name, type: nodeType(node), from: `layer ${layer.name}: ${layer.input.kind} synapses (${connectionSynapses(layer.input)})` });
      prev = name;
    }
    const neuron = neuronNode(layer, s, dt, shape);
    nodes.push([layer.name, neuron.node]);
    edges.push([prev, layer.name]);
    report.nodes.push({ node: layer.name, type: neuron.type, from: `layer ${layer.name}: ${layer.neuron.model} neurons` });
    if (layer.recurrent) {
      const rec = connectionNodes(layer, layer.recurrent, s, undefined, `${layer.name}.rec`, false);
      if (rec.length !== 1) unsupported(layer, "a recurrent connection that is not dense or sparse");
      nodes.push(rec[0]!);
      edges.push([layer.name, `${layer.name}.rec`], [`${layer.name}.rec`, layer.name]);
      report.nodes.push({ node: `${layer.name}.rec`, type: "Affine", from: `layer ${layer.name}: recurrent synapses, one step later` });
    }
    prev = layer.name;
    prevShape = shape;
  });
  nodes.push(["output", group("Output", { shape: i64(prevShape) })]);
  edges.push([prev, "output"]);
  report.nodes.push({ node: "output", type: "Output", from: `readout (${table.readout.kind})` });
  report.edges.push(...edges);
  const graph: H5WriteNode & { kind: "group" } = {
    kind: "group",
    children: [
      ["type", str("NIRGraph")],
      ["nodes", { kind: "group", children: nodes }],
      ["edges", { kind: "strings", shape: [edges.length, 2], data: edges.flatMap((e) => [e[0], e[1]]) }],
      [
        "metadata",
        {
          kind: "group",
          children: [
            ["picospike_dt", str(String(dt))],
            ["picospike_readout", str(table.readout.kind)],
            ["picospike_source", str(table.provenance.source)],
          ],
        },
      ],
    ],
  };
  return {
    tree: {
      kind: "group",
      children: [
        ["node", graph],
        ["version", str(NIR_EXPORT_VERSION)],
      ],
    },
    report,
  };
}

/** The `type` string of a node group built by group(). */
function nodeType(node: H5WriteNode): string {
  const t = node.kind === "group" ? node.children.find(([k]) => k === "type")?.[1] : undefined;
  return t?.kind === "string" ? t.value : "?";
}

function expandBias(b: Float64Array, n: number): Float64Array {
  return b.length === n ? b : new Float64Array(n).fill(b[0] ?? 0);
}

/**
 * The neuron node of a layer. Each per-step integer rule is stated so that NIR's forward Euler at
 * dt gives the same float update: retention λ = 1 − dt/τ (τ = dt/(1 − λ)) and r = τ/dt (so the
 * input enters with weight 1); IF and I with r = 1/dt; CubaLIF with w_in = τ_syn/dt.
 */
function neuronNode(layer: Layer, s: number, dt: number, shape: number[]): { node: H5WriteNode; type: string } {
  const p = layer.neuron;
  const n = layer.size;
  const full = (x: number): H5WriteNode => f32(new Float64Array(n).fill(x), shape);
  const each = (x: Float64Array): H5WriteNode => f32(x, shape);
  const tauOf = (retention: number): number => dt / (1 - retention);
  const q15Cuba = p.model === "cuba" && p.synapse === "q15";
  const test = p.compare === "gt" ? ">" : ">=";
  const meta: Record<string, string> = {
    picospike_semantics: JSON.stringify({
      model: p.model,
      threshold: p.threshold,
      compare: test,
      reset: p.reset,
      resetValue: p.reset === "value" ? p.resetValue : undefined,
      leakShift: p.leakShift,
      leakQ15: p.leakQ15,
      currentShift: p.currentShift,
      refractory: p.refractory,
      vMin: p.vMin,
      // format version 2 (spec/ops.md §4.9), only where set
      resetDelay: p.resetDelay === true ? true : undefined,
      multiSpike: p.multiSpike === true ? true : undefined,
      vInit: p.vInit ? p.vInit : undefined,
      synapse: q15Cuba ? "q15" : undefined,
      currentQ15: q15Cuba && p.currentQ15s === undefined ? (p.currentQ15 ?? 0) : undefined,
      leakQ15s: p.leakQ15s ? Array.from(p.leakQ15s) : undefined,
      currentQ15s: p.currentQ15s ? Array.from(p.currentQ15s) : undefined,
      scale: s,
      order: q15Cuba
        ? `current i = q15(i, currentQ15) + bias + input; leak v = q15(v, leakQ15); v += i; ${p.resetDelay ? "subtract threshold if the neuron spiked last step; " : ""}threshold test (v ${test} threshold), reset, clamp (spec/ops.md §4.9)`
        : `leak, bias, synaptic input, ${p.resetDelay ? "subtract threshold if the neuron spiked last step, " : ""}threshold test (v ${test} threshold), ${p.resetDelay ? "no reset now" : "reset"}, clamp (spec/ops.md)`,
    }),
    picospike_dt: String(dt),
  };
  const vReset = p.reset === "value" ? p.resetValue * s : 0;
  const threshold = p.threshold * s;
  if (p.reset === "subtract")
    meta["picospike_reset"] = p.resetDelay
      ? "subtract one step late: v[t] = leak·v[t-1] + input[t] - threshold·S[t-1] (snnTorch's reset_delay; NIR's v_reset cannot say it; v_reset is written as 0)"
      : "subtract: v <- v - threshold (NIR's v_reset cannot say it; v_reset is written as 0)";
  if (p.multiSpike)
    meta["picospike_spikes"] = "several per step: n = min(floor(v / threshold), 255) spikes as one event of value n, v <- v - n·threshold (NIR cannot say it)";
  if (p.vInit) meta["picospike_v_init"] = `${p.vInit * s} (the membrane at every reset; NIR has no initial state)`;
  // Per neuron: the membrane retention λ_j (Q15 where the rules of spec/ops.md §4.9 give one per neuron).
  const q15 = p.model === "lif-q15" || q15Cuba || (p.model === "integrator" && p.leakQ15s !== undefined);
  const retention = p.model === "lif-shift" || (p.model === "cuba" && !q15Cuba) ? (p.leakShift === 0 ? 1 : 1 - 2 ** -p.leakShift) : q15 ? p.leakQ15 / 32768 : 1;
  const retentions = p.leakQ15s ? Float64Array.from(p.leakQ15s, (a) => a / 32768) : new Float64Array(n).fill(retention);
  const taus = retentions.map(tauOf);
  switch (p.model) {
    case "integrator":
      if (p.leakQ15s !== undefined) {
        // the leaking readout: NIR's LI, whose Euler step at dt is v <- λ·v + input with r = τ/dt
        return { node: group("LI", { tau: each(taus), r: each(taus.map((t) => t / dt)), v_leak: full(0) }, meta), type: "LI" };
      }
      return { node: group("I", { r: full(1 / dt) }, meta), type: "I" };
    case "if":
      return { node: group("IF", { r: full(1 / dt), v_threshold: full(threshold), v_reset: full(vReset) }, meta), type: "IF" };
    case "lif-shift":
    case "lif-q15": {
      if (p.leakQ15s === undefined && retention === 1)
        return { node: group("IF", { r: full(1 / dt), v_threshold: full(threshold), v_reset: full(vReset) }, meta), type: "IF" };
      return {
        node: group("LIF", { tau: each(taus), r: each(taus.map((t) => t / dt)), v_leak: full(0), v_threshold: full(threshold), v_reset: full(vReset) }, meta),
        type: "LIF",
      };
    }
    case "cuba": {
      const alphas = q15Cuba
        ? p.currentQ15s
          ? Float64Array.from(p.currentQ15s, (a) => a / 32768)
          : new Float64Array(n).fill((p.currentQ15 ?? 0) / 32768)
        : new Float64Array(n).fill(p.currentShift === 0 ? 0 : 1 - 2 ** -p.currentShift);
      const tauSyn = alphas.map(tauOf);
      const tauMem = taus.map((t, j) => (retentions[j] === 1 ? 1e9 : t));
      if (retentions.some((x) => x === 1)) meta["picospike_leak"] = "none where tau_mem is written as 1e9 s";
      return {
        node: group(
          "CubaLIF",
          {
            tau_syn: each(tauSyn),
            tau_mem: each(tauMem),
            r: each(tauMem.map((t) => t / dt)),
            v_leak: full(0),
            v_threshold: full(threshold),
            v_reset: full(vReset),
            w_in: each(tauSyn.map((t) => t / dt)),
          },
          meta,
        ),
        type: "CubaLIF",
      };
    }
  }
}

/** Writes the NIR file of `table` at `path` (the caller renames it into place). */
export async function exportNir(table: EventTable, path: string, dt: number): Promise<ExportReport> {
  const { tree, report } = exportGraph(table, dt);
  await writeHdf5Tree(path, tree);
  return report;
}
