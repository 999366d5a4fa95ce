/**
 * What `picospike inspect` reports about an event table: per-layer sizes, synapse counts
 * (spec/table-format.md §4), bytes, bytes per synapse, the hash, and design warnings that point at
 * a model that cannot work as intended (unreachable thresholds, leaks that round away, wasted bits).
 */
import { encodeCanonical } from "./cbor.js";
import { connectionSynapses, layerToCbor, tableHash, weightAt } from "./format.js";
import { epochSteps } from "./plasticity.js";
import type { Connection, EventTable, Layer, NeuronParams, Plasticity, Weights } from "./model.js";

/** One layer's line in the summary. */
export interface LayerSummary {
  /** Position of the layer, from 0. */
  readonly index: number;
  readonly name: string;
  /** Kind of the feed-forward input connection. */
  readonly kind: Connection["kind"];
  /** Kind of the recurrent connection, or null. */
  readonly recurrentKind: Connection["kind"] | null;
  /** Neuron model. */
  readonly neuronModel: string;
  readonly neurons: number;
  /** Synapses of the input and recurrent connections (spec/table-format.md §4). */
  readonly synapses: number;
  /** Bits per stored weight of the input connection; null for pooling (one shared weight). */
  readonly weightBits: number | null;
  /** Bytes of stored weight values (input and recurrent), int4 packed. */
  readonly weightBytes: number;
  /** Bytes of sparse indices (rowPtr and cols), input and recurrent. */
  readonly indexBytes: number;
  /** Bytes of the layer's canonical CBOR encoding (everything the layer adds to the body). */
  readonly bytes: number;
  /** True when the layer carries learning parameters. */
  readonly plastic: boolean;
  /** The version-2 neuron rules the layer uses (spec/ops.md §4.9), in words; empty for the version-1 rules. */
  readonly neuronRules: readonly string[];
  /** The learning rule and its timing (spec/ops.md §11), e.g. "rstdp, event timing"; null when the layer does not learn. */
  readonly learning: string | null;
}

/** The whole summary; also the `inspect --json` object. */
export interface TableSummary {
  /** SHA-256 of the body, lowercase hex. */
  readonly hash: string;
  readonly fileBytes: number;
  readonly input: { readonly size: number; readonly shape: readonly number[] | null; readonly encoding: string };
  readonly readout: string;
  readonly layers: readonly LayerSummary[];
  readonly totals: { readonly neurons: number; readonly synapses: number; readonly weightBytes: number; readonly indexBytes: number };
  /** Weight payload bytes per synapse, and whole-file bytes per synapse (null when no synapses). */
  readonly bytesPerSynapse: { readonly weightPayload: number | null; readonly file: number | null };
  /** Human-readable design warnings, each prefixed with the layer it concerns. */
  readonly warnings: readonly string[];
}

function weightBytesOf(c: Connection): number {
  return c.kind === "pool" ? 0 : c.weights.data.byteLength;
}

function indexBytesOf(c: Connection): number {
  return c.kind === "sparse" ? c.rowPtr.byteLength + c.cols.byteLength : 0;
}

/** Channel of post neuron j. */
function channelIndex(j: number, layer: Layer): number {
  return layer.shape ? Math.floor(j / (layer.shape[1] * layer.shape[2])) : j;
}

function shiftFor(w: Weights, channel: number): number {
  return w.shift.length === 1 ? w.shift[0]! : w.shift[channel]!;
}

/**
 * Adds to `drive[j]` the largest input connection `c` can deliver to post neuron j in one step
 * when every presynaptic neuron fires with value `maxValue`. Exact for dense and sparse; for conv2d
 * an upper bound (the whole kernel, ignoring borders).
 */
function addMaxDrive(c: Connection, layer: Layer, maxValue: number, drive: Float64Array): void {
  if (c.kind === "dense") {
    for (let i = 0; i < c.inputs; i++) {
      for (let j = 0; j < c.outputs; j++) {
        const w = weightAt(c.weights, i * c.outputs + j);
        if (w > 0) drive[j]! += w * 2 ** shiftFor(c.weights, channelIndex(j, layer)) * maxValue;
      }
    }
  } else if (c.kind === "sparse") {
    for (let k = 0; k < c.cols.length; k++) {
      const w = weightAt(c.weights, k);
      const j = c.cols[k]!;
      if (w > 0) drive[j]! += w * 2 ** shiftFor(c.weights, channelIndex(j, layer)) * maxValue;
    }
  } else if (c.kind === "conv2d") {
    const [K, oh, ow] = c.outShape;
    const perKernel = c.inShape[0] * c.kernel[0] * c.kernel[1];
    for (let k = 0; k < K; k++) {
      let sum = 0;
      for (let t = 0; t < perKernel; t++) sum += Math.max(0, weightAt(c.weights, k * perKernel + t));
      const value = sum * 2 ** shiftFor(c.weights, k) * maxValue;
      for (let p = 0; p < oh * ow; p++) drive[k * oh * ow + p]! += value;
    }
  } else {
    const value = Math.max(0, c.weight) * 2 ** c.shift * c.kernel[0] * c.kernel[1] * maxValue;
    for (let j = 0; j < drive.length; j++) drive[j]! += value;
  }
}

/** Largest membrane value a neuron can reach under a constant per-step drive (spec/ops.md leak forms). */
function reachableMembrane(layer: Layer, drive: number): number {
  const n = layer.neuron;
  let d = drive;
  if (n.model === "cuba") d = n.currentShift === 0 ? drive : (Math.max(0, drive) + 1) * 2 ** n.currentShift - 1;
  if (d <= 0) return 0;
  if (n.model === "lif-q15") return n.leakQ15 === 0 ? d : (d * 32768) / (32768 - n.leakQ15);
  const k = n.model === "if" ? 0 : n.leakShift;
  // No leak: a positive drive reaches any threshold eventually.
  if (k === 0) return Infinity;
  // v ← v − floor(v / 2^k) + d stops growing once floor(v / 2^k) = d.
  return (d + 1) * 2 ** k - 1;
}

function layerWarnings(table: EventTable, layer: Layer, index: number): string[] {
  const out: string[] = [];
  const tag = `layer ${index} '${layer.name}'`;
  const n = layer.neuron;
  if (n.model !== "integrator") {
    const drive = new Float64Array(layer.size);
    const maxValue = index === 0 && table.input.encoding === "current" ? 255 : 1;
    addMaxDrive(layer.input, layer, maxValue, drive);
    if (layer.recurrent) addMaxDrive(layer.recurrent, layer, 1, drive);
    let unreachable = 0;
    let best = 0;
    for (let j = 0; j < layer.size; j++) {
      const bias = layer.bias ? layer.bias[layer.bias.length === layer.size ? j : channelIndex(j, layer)]! : 0;
      const reach = reachableMembrane(layer, drive[j]! + bias);
      if (reach < n.threshold) {
        unreachable++;
        best = Math.max(best, reach);
      }
    }
    if (unreachable > 0) {
      out.push(
        `${tag}: ${unreachable} of ${layer.size} neurons can never reach the threshold ${n.threshold} (at most ${Math.floor(best)} with every input firing every step)`,
      );
    }
  }
  if (n.model === "lif-shift" && n.leakShift === 0) out.push(`${tag}: lif-shift with leakShift 0 has no leak (it behaves as 'if')`);
  if ((n.model === "lif-shift" || n.model === "cuba") && n.leakShift > 0 && 2 ** n.leakShift >= n.threshold) {
    out.push(`${tag}: leak rounds to nothing below threshold (v − floor(v / 2^${n.leakShift}) leaves every v in 0..${n.threshold - 1} unchanged)`);
  }
  if (n.model === "lif-q15" && n.leakQ15 === 0) out.push(`${tag}: leakQ15 0 wipes the membrane every step`);
  const connections: Array<[string, Connection]> = [["input", layer.input]];
  if (layer.recurrent) connections.push(["recurrent", layer.recurrent]);
  for (const [role, c] of connections) {
    if (c.kind === "pool") {
      if (c.weight === 0) out.push(`${tag}: ${role} pooling weight is 0, so it carries no signal`);
      continue;
    }
    const w = c.weights;
    let lo = 0;
    let hi = 0;
    for (let k = 0; k < w.count; k++) {
      const v = weightAt(w, k);
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (w.count > 0 && lo === 0 && hi === 0) out.push(`${tag}: every ${role} weight is 0, so it carries no signal`);
    else if (w.bits === 16 && lo >= -128 && hi <= 127)
      out.push(`${tag}: ${role} weights are int16 but all lie in ${lo}..${hi}, which fits int8 (half the bytes)`);
    if (w.shift.length > 1) {
      let smin = 255;
      let smax = 0;
      for (const s of w.shift) {
        smin = Math.min(smin, s);
        smax = Math.max(smax, s);
      }
      if (smax - smin >= 8) out.push(`${tag}: ${role} per-channel shifts range ${smin}..${smax}; channels with small shifts keep few significant bits`);
    }
  }
  return out;
}

/** The version-2 neuron rules of `n` (spec/ops.md §4.9), in words. */
function neuronRulesOf(n: NeuronParams): string[] {
  const rules: string[] = [];
  if (n.compare === "gt") rules.push("fires when v > threshold");
  if (n.resetDelay === true) rules.push("subtracts the threshold one step late");
  if (n.multiSpike === true) rules.push("several spikes per step");
  if (n.vInit !== undefined && n.vInit !== 0) rules.push(`membrane starts at ${n.vInit}`);
  if (n.synapse === "q15") rules.push("Q15 current-based synapse");
  if (n.leakQ15s !== undefined) rules.push("one leak per neuron");
  if (n.currentQ15s !== undefined) rules.push("one current retention per neuron");
  return rules;
}

/** The learning rule and timing of `p` in words. */
function learningOf(p: Plasticity): string {
  return p.timing === "epoch" ? `${p.rule}, epoch timing (${epochSteps(p)} steps)` : `${p.rule}, ${p.timing ?? "step"} timing`;
}

/**
 * Summarizes a decoded table and the file bytes it came from (for the hash and file size). The
 * table must have passed decodeTable (or validateTable); `bytes` must be its file.
 */
export function summarizeTable(table: EventTable, bytes: Uint8Array): TableSummary {
  const layers = table.layers.map((layer, index): LayerSummary => {
    const conns = layer.recurrent ? [layer.input, layer.recurrent] : [layer.input];
    return {
      index,
      name: layer.name,
      kind: layer.input.kind,
      recurrentKind: layer.recurrent ? layer.recurrent.kind : null,
      neuronModel: layer.neuron.model,
      neurons: layer.size,
      synapses: conns.reduce((s, c) => s + connectionSynapses(c), 0),
      weightBits: layer.input.kind === "pool" ? null : layer.input.weights.bits,
      weightBytes: conns.reduce((s, c) => s + weightBytesOf(c), 0),
      indexBytes: conns.reduce((s, c) => s + indexBytesOf(c), 0),
      bytes: encodeCanonical(layerToCbor(layer)).length,
      plastic: layer.plasticity !== undefined,
      neuronRules: neuronRulesOf(layer.neuron),
      learning: layer.plasticity === undefined ? null : learningOf(layer.plasticity),
    };
  });
  const totals = {
    neurons: layers.reduce((s, l) => s + l.neurons, 0),
    synapses: layers.reduce((s, l) => s + l.synapses, 0),
    weightBytes: layers.reduce((s, l) => s + l.weightBytes, 0),
    indexBytes: layers.reduce((s, l) => s + l.indexBytes, 0),
  };
  const perSynapse = (n: number): number | null => (totals.synapses > 0 ? n / totals.synapses : null);
  const warnings = table.layers.flatMap((layer, index) => layerWarnings(table, layer, index));
  return {
    hash: tableHash(bytes),
    fileBytes: bytes.length,
    input: { size: table.input.size, shape: table.input.shape ? [...table.input.shape] : null, encoding: table.input.encoding },
    readout: table.readout.kind,
    layers,
    totals,
    bytesPerSynapse: { weightPayload: perSynapse(totals.weightBytes), file: perSynapse(bytes.length) },
    warnings,
  };
}
