/**
 * The float SNN form (spec/float-snn.md): what conversion (and direct training) writes and
 * quantization reads. A JSON description plus one little-endian float32 weights file. This module
 * defines the types, reads and validates the files (TOOLCHAIN_BAD_MODEL), writes them, and
 * simulates the network in float with tfjs, vectorised over a batch of images.
 */
import { fail } from "../runtime/errors.js";
import { parseJsonFile, readModelFile, type WriteFile } from "./io.js";
import { tf } from "./tf.js";
import { basename, dirname, join, resolve } from "node:path";

/** Format name in every float SNN JSON file. */
export const FLOAT_SNN_FORMAT = "picospike-float-snn";
/** Newest version this build writes and reads (1 is written when no version-2 field is used). */
export const FLOAT_SNN_VERSION = 2;

/** Channels, height, width (channel-major, like the event table). */
export type Shape3 = [number, number, number];

/**
 * Per-neuron values (version 2): each array has one value per neuron of the layer and replaces the
 * scalar of the same name (`bias` replaces the layer's bias, which is per channel for maps).
 */
export interface PerNeuron {
  threshold?: Float32Array;
  leak?: Float32Array;
  vReset?: Float32Array;
  vInit?: Float32Array;
  synDecay?: Float32Array;
  bias?: Float32Array;
}

/** Neuron parameters of one layer, in float membrane units. */
export interface FloatNeuron {
  /**
   * `if`: no leak; `lif`: v ← leak·v each step; `integrator`: non-spiking readout, v ← leak·v + input
   * (leak 1 in version 1); `threshold` (version 2): no state, spikes when this step's input passes the threshold.
   */
  model: "if" | "lif" | "integrator" | "threshold";
  /** Firing threshold (> 0). */
  threshold: number;
  /** Retention per step in (0, 1]: v ← leak·v before input (1 for if and integrator). τ = −1/ln(leak) steps. */
  leak: number;
  /** `subtract`: v ← v − threshold on a spike; `zero`: v ← 0; `value` (version 2): v ← vReset. */
  reset: "subtract" | "zero" | "value";
  /** Steps after a spike during which the neuron ignores input and cannot fire. */
  refractory: number;
  // ---- version 2 (spec/float-snn.md §5.1); absent = the version-1 meaning ----
  /** Spike test: `ge` v ≥ threshold (default), `gt` v > threshold. */
  compare?: "ge" | "gt";
  /** Subtractive reset applied one step late, after that step's leak and input, not decayed (snnTorch). */
  resetDelay?: boolean;
  /** n = floor(v/threshold) spikes in one step (a graded spike count), n·threshold subtracted. */
  multiSpike?: boolean;
  /** Reset value for `reset: value`. */
  vReset?: number;
  /** Lower clamp of the membrane after reset. */
  vMin?: number;
  /** Membrane at the start of every sample (default 0). */
  vInit?: number;
  /** Current-based synapse: i ← synDecay·i + input; the membrane takes i instead of the input. */
  synDecay?: number;
  perNeuron?: PerNeuron;
}

interface LayerCommon {
  name: string;
  neuron: FloatNeuron;
  /** Per output neuron (dense) or per output channel (conv2d); absent = zero. */
  bias?: Float32Array;
}

/** Fully connected: weight of input i onto output j is weights[i * outputs + j]. */
export interface FloatDense extends LayerCommon {
  kind: "dense";
  inputs: number;
  outputs: number;
  weights: Float32Array;
  /** Version 2: this layer's own spikes of the previous step, weight of i onto j at recurrent[i * outputs + j]. */
  recurrent?: Float32Array;
}

/** Convolution, weights [K][C][kh][kw]; output (k, oy, ox) sums inputs (c, oy*sy − py + ky, ox*sx − px + kx). */
export interface FloatConv2d extends LayerCommon {
  kind: "conv2d";
  inShape: Shape3;
  outShape: Shape3;
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  weights: Float32Array;
}

/** Sum pooling per channel with one fixed weight (average pooling: weight = 1/(kh·kw)), no padding. */
export interface FloatPool extends LayerCommon {
  kind: "pool";
  inShape: Shape3;
  outShape: Shape3;
  kernel: [number, number];
  stride: [number, number];
  weight: number;
}

/** Any layer. */
export type FloatLayer = FloatDense | FloatConv2d | FloatPool;

/** A whole float SNN. */
export interface FloatSnn {
  input: {
    shape: Shape3;
    /** Default input encoding for quantization: `current` or `rate`. */
    encoding: "current" | "rate";
    /** Float input value of one intensity unit: input = intensity (0..255) × scale. */
    scale: number;
  };
  layers: FloatLayer[];
  /** `membrane`: argmax of the last layer's membrane (an integrator); `count`: most spikes. */
  readout: "membrane" | "count";
  provenance: { source: string; tool: string; settings: Record<string, string | number | boolean>; normalization?: number[] };
}

/** Neurons of a layer. */
export function layerSize(l: FloatLayer): number {
  return l.kind === "dense" ? l.outputs : l.outShape[0] * l.outShape[1] * l.outShape[2];
}

/** Inputs of a layer. */
export function layerInputs(l: FloatLayer): number {
  return l.kind === "dense" ? l.inputs : l.inShape[0] * l.inShape[1] * l.inShape[2];
}

/** Output spatial size of a window op (no padding beyond `pad` on the leading side). */
export function windowOut(inSize: number, k: number, s: number, pad: number, outSize: number): boolean {
  // The last window must start inside the padded input and every output must see the input.
  return outSize >= 1 && (outSize - 1) * s - pad < inSize && (outSize - 1) * s - pad + k > 0 && -pad + k > 0;
}

// ---------------------------------------------------------------------------------------------
// Writing and reading

/** Writes `path` (JSON) and its weights file (same name, .bin) through `writeFile`. */
export function writeFloatSnn(path: string, snn: FloatSnn, writeFile: WriteFile): void {
  validateFloatSnn(snn, path);
  const arrays: Float32Array[] = [];
  let offset = 0;
  const ref = (a: Float32Array) => {
    arrays.push(a);
    const r = { offset, length: a.length };
    offset += a.length;
    return r;
  };
  const layers = snn.layers.map((l) => {
    const { weights: _w, bias, recurrent, neuron, ...rest } = l as FloatLayer & { weights?: Float32Array; recurrent?: Float32Array };
    const { perNeuron, ...scalars } = withoutDefaults(neuron);
    const out: Record<string, unknown> = { ...rest, neuron: scalars };
    if (perNeuron) {
      const refs: Record<string, unknown> = {};
      for (const [k, a] of Object.entries(perNeuron)) if (a) refs[k] = ref(a);
      (out["neuron"] as Record<string, unknown>)["perNeuron"] = refs;
    }
    if (l.kind !== "pool") out["weights"] = ref(l.weights);
    if (recurrent) out["recurrent"] = ref(recurrent);
    out["bias"] = bias ? ref(bias) : null;
    return out;
  });
  const binName = basename(path).replace(/\.json$/, "") + ".bin";
  const bin = new Uint8Array(offset * 4);
  const view = new DataView(bin.buffer);
  let k = 0;
  for (const a of arrays) for (const v of a) view.setFloat32(4 * k++, v, true);
  const json = {
    format: FLOAT_SNN_FORMAT,
    version: usesVersion2(snn) ? 2 : 1,
    weightsFile: binName,
    input: snn.input,
    layers,
    readout: snn.readout,
    provenance: snn.provenance,
  };
  writeFile(join(dirname(path), binName), bin);
  writeFile(path, JSON.stringify(json, null, 1));
}

/** Names allowed in `neuron.perNeuron`. */
const PER_NEURON_KEYS: readonly (keyof PerNeuron)[] = ["threshold", "leak", "vReset", "vInit", "synDecay", "bias"];

/** Fields of a neuron that only version 2 has. */
const V2_NEURON_KEYS = ["compare", "resetDelay", "multiSpike", "vReset", "vMin", "vInit", "synDecay", "perNeuron"] as const;

/** The neuron without version-2 fields that hold their default (so a plain network stays version 1). */
function withoutDefaults(n: FloatNeuron): FloatNeuron {
  const out = { ...n };
  if (out.compare === "ge") delete out.compare;
  if (out.resetDelay === false) delete out.resetDelay;
  if (out.multiSpike === false) delete out.multiSpike;
  return out;
}

/** True when the network uses anything version 1 cannot say (so it is written as version 2). */
export function usesVersion2(snn: FloatSnn): boolean {
  return snn.layers.some(
    (l) =>
      V2_NEURON_KEYS.some((k) => withoutDefaults(l.neuron)[k] !== undefined) ||
      l.neuron.reset === "value" ||
      l.neuron.model === "threshold" ||
      (l.neuron.model === "integrator" && l.neuron.leak !== 1) ||
      (l.kind === "dense" && l.recurrent !== undefined),
  );
}

function bad(path: string, msg: string): never {
  fail("TOOLCHAIN_BAD_MODEL", `${path}: ${msg}`);
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function posInt(v: unknown, what: string, path: string, max = 1 << 24): number {
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) bad(path, `${what} must be an integer in 1..${max}, got ${JSON.stringify(v)}`);
  return v as number;
}

function nonNegInt(v: unknown, what: string, path: string, max = 1 << 16): number {
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) bad(path, `${what} must be an integer in 0..${max}, got ${JSON.stringify(v)}`);
  return v as number;
}

function pair(v: unknown, what: string, path: string, min: 0 | 1): [number, number] {
  if (!Array.isArray(v) || v.length !== 2) bad(path, `${what} must be a pair of integers`);
  return [min ? posInt(v[0], what, path) : nonNegInt(v[0], what, path), min ? posInt(v[1], what, path) : nonNegInt(v[1], what, path)];
}

function shape3(v: unknown, what: string, path: string): Shape3 {
  if (!Array.isArray(v) || v.length !== 3) bad(path, `${what} must be [channels, height, width]`);
  return [posInt(v[0], what, path), posInt(v[1], what, path), posInt(v[2], what, path)];
}

function finiteNum(v: unknown, what: string, path: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) bad(path, `${what} must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

/** Reads and validates a float SNN JSON and its weights file. */
export function readFloatSnn(path: string): FloatSnn {
  const json = parseJsonFile(readModelFile(path, "float SNN", "CLI_FILE_NOT_FOUND"), path);
  if (!isObj(json)) bad(path, "top level is not an object");
  if (json["format"] !== FLOAT_SNN_FORMAT)
    bad(path, `format is ${JSON.stringify(json["format"])}, expected "${FLOAT_SNN_FORMAT}" (is this a float SNN written by picospike convert?)`);
  const version = json["version"];
  if (version !== 1 && version !== 2) bad(path, `version ${JSON.stringify(version)} is not 1 or 2`);
  const wf = json["weightsFile"];
  if (typeof wf !== "string" || wf.includes("/") || wf.includes("\\") || wf === "" || wf.startsWith("."))
    bad(path, "weightsFile must be a plain file name beside the JSON");
  const binBytes = readModelFile(resolve(dirname(path), wf), "float SNN weights file");
  if (binBytes.length % 4 !== 0) bad(path, `weights file ${wf} has ${binBytes.length} bytes, not a multiple of 4`);
  const floats = new Float32Array(binBytes.length / 4);
  const view = new DataView(binBytes.buffer, binBytes.byteOffset, binBytes.byteLength);
  for (let i = 0; i < floats.length; i++) floats[i] = view.getFloat32(4 * i, true);
  const arr = (v: unknown, length: number, what: string): Float32Array => {
    if (!isObj(v)) bad(path, `${what} must be {offset, length}`);
    const off = nonNegInt(v["offset"], `${what}.offset`, path, 1 << 30);
    const len = nonNegInt(v["length"], `${what}.length`, path, 1 << 30);
    if (len !== length) bad(path, `${what} has ${len} values, expected ${length}`);
    if (off + len > floats.length) bad(path, `${what} ends at ${off + len}, past the ${floats.length} values of ${wf}`);
    const a = floats.slice(off, off + len);
    for (const x of a) if (!Number.isFinite(x)) bad(path, `${what} holds a non-finite value`);
    return a;
  };
  const input = json["input"];
  if (!isObj(input)) bad(path, "input must be an object");
  const enc = input["encoding"];
  if (enc !== "current" && enc !== "rate") bad(path, `input.encoding must be current or rate, got ${JSON.stringify(enc)}`);
  const snnInput = {
    shape: shape3(input["shape"], "input.shape", path),
    encoding: enc as "current" | "rate",
    scale: finiteNum(input["scale"], "input.scale", path),
  };
  const rawLayers = json["layers"];
  if (!Array.isArray(rawLayers) || rawLayers.length === 0 || rawLayers.length > 64) bad(path, "layers must be a list of 1..64 layers");
  const layers: FloatLayer[] = rawLayers.map((rl, i) => {
    if (!isObj(rl)) bad(path, `layer ${i} is not an object`);
    const name = typeof rl["name"] === "string" && rl["name"].length > 0 ? rl["name"] : bad(path, `layer ${i} has no name`);
    const nz = rl["neuron"];
    if (!isObj(nz)) bad(path, `layer ${name}: neuron must be an object`);
    const v2 = version === 2;
    const models = v2 ? ["if", "lif", "integrator", "threshold"] : ["if", "lif", "integrator"];
    const resets = v2 ? ["subtract", "zero", "value"] : ["subtract", "zero"];
    const neuron: FloatNeuron = {
      model: models.includes(nz["model"] as string)
        ? (nz["model"] as FloatNeuron["model"])
        : bad(path, `layer ${name}: neuron.model must be ${models.join(", ")}`),
      threshold: finiteNum(nz["threshold"], `layer ${name}: neuron.threshold`, path),
      leak: finiteNum(nz["leak"], `layer ${name}: neuron.leak`, path),
      reset: resets.includes(nz["reset"] as string)
        ? (nz["reset"] as FloatNeuron["reset"])
        : bad(path, `layer ${name}: neuron.reset must be ${resets.join(", ")}`),
      refractory: nonNegInt(nz["refractory"], `layer ${name}: neuron.refractory`, path, 255),
    };
    if (!v2) {
      for (const k of V2_NEURON_KEYS) if (nz[k] !== undefined) bad(path, `layer ${name}: neuron.${k} needs version 2`);
    } else {
      if (nz["compare"] !== undefined)
        neuron.compare = nz["compare"] === "ge" || nz["compare"] === "gt" ? nz["compare"] : bad(path, `layer ${name}: neuron.compare must be ge or gt`);
      for (const k of ["resetDelay", "multiSpike"] as const) {
        if (nz[k] !== undefined) neuron[k] = typeof nz[k] === "boolean" ? nz[k] : bad(path, `layer ${name}: neuron.${k} must be true or false`);
      }
      for (const k of ["vReset", "vMin", "vInit", "synDecay"] as const) {
        if (nz[k] !== undefined) neuron[k] = finiteNum(nz[k], `layer ${name}: neuron.${k}`, path);
      }
    }
    const kind = rl["kind"];
    let layer: FloatLayer;
    if (kind === "dense") {
      const inputs = posInt(rl["inputs"], `layer ${name}: inputs`, path);
      const outputs = posInt(rl["outputs"], `layer ${name}: outputs`, path);
      if (inputs * outputs > 1 << 28) bad(path, `layer ${name}: ${inputs}x${outputs} weights is over the size limit`);
      layer = { kind, name, neuron, inputs, outputs, weights: arr(rl["weights"], inputs * outputs, `layer ${name}: weights`) };
    } else if (kind === "conv2d" || kind === "pool") {
      const inShape = shape3(rl["inShape"], `layer ${name}: inShape`, path);
      const outShape = shape3(rl["outShape"], `layer ${name}: outShape`, path);
      const kernel = pair(rl["kernel"], `layer ${name}: kernel`, path, 1);
      const stride = pair(rl["stride"], `layer ${name}: stride`, path, 1);
      if (kind === "conv2d") {
        const padding = pair(rl["padding"], `layer ${name}: padding`, path, 0);
        const n = outShape[0] * inShape[0] * kernel[0] * kernel[1];
        if (n > 1 << 28) bad(path, `layer ${name}: too many weights`);
        layer = { kind, name, neuron, inShape, outShape, kernel, stride, padding, weights: arr(rl["weights"], n, `layer ${name}: weights`) };
      } else {
        layer = { kind, name, neuron, inShape, outShape, kernel, stride, weight: finiteNum(rl["weight"], `layer ${name}: weight`, path) };
      }
    } else {
      bad(path, `layer ${name}: unknown kind ${JSON.stringify(kind)} (dense, conv2d or pool)`);
    }
    if (rl["bias"] !== null && rl["bias"] !== undefined)
      layer.bias = arr(rl["bias"], layer.kind === "dense" ? layer.outputs : layer.outShape[0], `layer ${name}: bias`);
    const size = layerSize(layer);
    if (v2 && nz["perNeuron"] !== undefined) {
      const pn = nz["perNeuron"];
      if (!isObj(pn)) bad(path, `layer ${name}: neuron.perNeuron must be an object`);
      const perNeuron: PerNeuron = {};
      for (const [k, v] of Object.entries(pn)) {
        if (!PER_NEURON_KEYS.includes(k as keyof PerNeuron)) bad(path, `layer ${name}: neuron.perNeuron.${k} is not a per-neuron parameter`);
        perNeuron[k as keyof PerNeuron] = arr(v, size, `layer ${name}: neuron.perNeuron.${k}`);
      }
      layer.neuron.perNeuron = perNeuron;
    }
    if (rl["recurrent"] !== undefined) {
      if (!v2 || layer.kind !== "dense") bad(path, `layer ${name}: recurrent weights need version 2 and a dense layer`);
      layer.recurrent = arr(rl["recurrent"], size * size, `layer ${name}: recurrent`);
    }
    return layer;
  });
  const readout = json["readout"];
  if (readout !== "membrane" && readout !== "count") bad(path, `readout must be membrane or count`);
  const prov = json["provenance"];
  const provenance: FloatSnn["provenance"] = isObj(prov)
    ? {
        source: String(prov["source"] ?? ""),
        tool: String(prov["tool"] ?? ""),
        settings: isObj(prov["settings"]) ? (prov["settings"] as Record<string, string | number | boolean>) : {},
      }
    : { source: "", tool: "", settings: {} };
  if (isObj(prov) && Array.isArray(prov["normalization"])) provenance.normalization = (prov["normalization"] as unknown[]).map(Number);
  const snn: FloatSnn = { input: snnInput, layers, readout, provenance };
  validateFloatSnn(snn, path);
  return snn;
}

/** Checks a float SNN's internal consistency (sizes chain, parameter ranges); TOOLCHAIN_BAD_MODEL otherwise. */
export function validateFloatSnn(snn: FloatSnn, path = "float SNN"): void {
  if (!(snn.input.scale > 0)) bad(path, "input.scale must be > 0");
  let prevSize = snn.input.shape[0] * snn.input.shape[1] * snn.input.shape[2];
  let prevShape: Shape3 | undefined = snn.input.shape;
  snn.layers.forEach((l, i) => {
    const n = l.neuron;
    const pn = n.perNeuron ?? {};
    if (!(n.threshold > 0)) bad(path, `layer ${l.name}: threshold must be > 0`);
    if (pn.threshold?.some((x) => !(x > 0))) bad(path, `layer ${l.name}: every per-neuron threshold must be > 0`);
    if (!(n.leak > 0 && n.leak <= 1)) bad(path, `layer ${l.name}: leak must be in (0, 1]`);
    if (pn.leak?.some((x) => !(x > 0 && x <= 1))) bad(path, `layer ${l.name}: every per-neuron leak must be in (0, 1]`);
    const leaky = n.model === "lif" || (n.model === "integrator" && usesVersion2(snn));
    if (!leaky && (n.leak !== 1 || pn.leak !== undefined)) bad(path, `layer ${l.name}: leak must be 1 for model ${n.model}`);
    if ((n.multiSpike || n.resetDelay) && n.reset !== "subtract") bad(path, `layer ${l.name}: multiSpike and resetDelay need reset subtract`);
    if (n.reset === "value" && n.vReset === undefined && pn.vReset === undefined) bad(path, `layer ${l.name}: reset value needs vReset`);
    const decays = pn.synDecay ?? (n.synDecay === undefined ? [] : [n.synDecay]);
    for (const d of decays) if (!(d >= 0 && d < 1)) bad(path, `layer ${l.name}: synDecay must be in [0, 1)`);
    if (n.model === "integrator" && i !== snn.layers.length - 1) bad(path, `layer ${l.name}: only the last layer can be an integrator`);
    if (layerInputs(l) !== prevSize) bad(path, `layer ${l.name} takes ${layerInputs(l)} inputs but the previous layer has ${prevSize} neurons`);
    if (l.kind !== "dense") {
      if (prevShape && (prevShape[0] !== l.inShape[0] || prevShape[1] !== l.inShape[1] || prevShape[2] !== l.inShape[2])) {
        bad(path, `layer ${l.name}: inShape ${l.inShape.join("x")} differs from the previous layer's ${prevShape.join("x")}`);
      }
      const pad = l.kind === "conv2d" ? l.padding : [0, 0];
      if (l.kind === "pool" && l.outShape[0] !== l.inShape[0]) bad(path, `layer ${l.name}: pooling keeps the channel count`);
      for (const d of [0, 1] as const) {
        if (!windowOut(l.inShape[d + 1]!, l.kernel[d], l.stride[d], pad[d]!, l.outShape[d + 1]!))
          bad(path, `layer ${l.name}: output ${l.outShape.join("x")} does not fit input, kernel, stride and padding`);
        if (pad[d]! >= l.kernel[d]) bad(path, `layer ${l.name}: padding must be smaller than the kernel`);
      }
      if (
        l.kind === "pool" &&
        ((l.outShape[1] - 1) * l.stride[0] + l.kernel[0] > l.inShape[1] || (l.outShape[2] - 1) * l.stride[1] + l.kernel[1] > l.inShape[2])
      ) {
        bad(path, `layer ${l.name}: pooling windows must lie inside the input (no padding)`);
      }
    }
    prevSize = layerSize(l);
    prevShape = l.kind === "dense" ? undefined : l.outShape;
  });
  const last = snn.layers[snn.layers.length - 1]!;
  if (snn.readout === "membrane" && last.neuron.model !== "integrator") bad(path, "readout membrane needs an integrator as the last layer");
}

// ---------------------------------------------------------------------------------------------
// Float simulation (tfjs, batched)

/** A layer prepared for tfjs: its affine map from the previous layer's activity (NHWC for maps). */
interface PreparedLayer {
  readonly src: FloatLayer;
  /** previous activity → this layer's input current (without bias), both [B, ...]. */
  apply(x: tf.Tensor): tf.Tensor;
  readonly bias: tf.Tensor | undefined;
  readonly stateShape: number[];
  /** Tensors this layer owns (freed by disposePrepared). */
  readonly owned: tf.Tensor[];
}

/** Builds the affine maps of every layer; activity is [B, N] after dense and [B, H, W, C] for maps. */
export function prepareLayers(snn: FloatSnn): PreparedLayer[] {
  return snn.layers.map((l) => {
    if (l.kind === "dense") {
      const w = tf.tensor2d(l.weights, [l.inputs, l.outputs]);
      const bias = l.bias ? tf.tensor1d(l.bias) : undefined;
      return {
        src: l,
        stateShape: [l.outputs],
        bias,
        owned: bias ? [w, bias] : [w],
        apply: (x) => {
          // Maps are flattened channel-major, as in the event table.
          const flat = x.rank === 4 ? x.transpose([0, 3, 1, 2]).reshape([x.shape[0]!, -1]) : x;
          return tf.matMul(flat as tf.Tensor2D, w);
        },
      };
    }
    const [, oh, ow] = l.outShape;
    const [c, h, wd] = l.inShape;
    const [kh, kw] = l.kernel;
    const [sy, sx] = l.stride;
    const [py, px] = l.kind === "conv2d" ? l.padding : [0, 0];
    const bottom = (oh - 1) * sy + kh - h - py;
    const right = (ow - 1) * sx + kw - wd - px;
    const fit = (x: tf.Tensor4D): tf.Tensor4D => {
      let y = x.rank === 4 ? x : ((x as tf.Tensor).reshape([x.shape[0]!, c, h, wd]).transpose([0, 2, 3, 1]) as tf.Tensor4D);
      y = tf.pad(y, [
        [0, 0],
        [py, Math.max(0, bottom)],
        [px, Math.max(0, right)],
        [0, 0],
      ]);
      if (bottom < 0 || right < 0) y = y.slice([0, 0, 0, 0], [-1, h + py + Math.min(0, bottom), wd + px + Math.min(0, right), -1]);
      return y;
    };
    if (l.kind === "conv2d") {
      const k = l.outShape[0];
      const filter = tf.tidy(() => tf.tensor4d(l.weights, [k, c, kh, kw]).transpose([2, 3, 1, 0]) as tf.Tensor4D);
      const bias = l.bias ? tf.tensor1d(l.bias) : undefined;
      return {
        src: l,
        stateShape: [oh, ow, k],
        bias,
        owned: bias ? [filter, bias] : [filter],
        apply: (x) => tf.conv2d(fit(x as tf.Tensor4D), filter, [sy, sx], "valid"),
      };
    }
    const factor = l.weight * kh * kw;
    const bias = l.bias ? tf.tensor1d(l.bias) : undefined;
    return {
      src: l,
      stateShape: [oh, ow, c],
      bias,
      owned: bias ? [bias] : [],
      apply: (x) => tf.avgPool(fit(x as tf.Tensor4D), [kh, kw], [sy, sx], "valid").mul(factor),
    };
  });
}

/** Input images [B, h*w*c] (0..255, channel-major) as the float input tensor, NHWC when the input is a map. */
export function inputTensor(snn: FloatSnn, images: Uint8Array, batch: number): tf.Tensor {
  const [c, h, w] = snn.input.shape;
  const x = tf.tensor2d(
    Float32Array.from(images, (v) => v * snn.input.scale),
    [batch, c * h * w],
  );
  const firstIsDense = snn.layers[0]!.kind === "dense";
  return firstIsDense ? x : x.reshape([batch, c, h, w]).transpose([0, 2, 3, 1]);
}

/** Statistics of a float simulation: predictions at checkpoints, spikes, and per-layer extremes. */
export interface FloatSimResult {
  /** predictions[k][b]: class of image b read out after checkpoints[k] steps. */
  readonly predictions: Int32Array[];
  /** Total spikes of all layers over all steps, per image. */
  readonly spikesPerImage: Float64Array;
  /** Per layer: largest |membrane| seen after integration, and largest |input current + bias| of one step. */
  readonly maxMembrane: number[];
  readonly maxStepInput: number[];
}

/**
 * Runs the float SNN on a batch for max(checkpoints) steps and reads the class out after each
 * checkpoint (a run of T steps is the prefix of a longer run, so one run serves all T).
 * Per step and layer: v ← leak·v; v ← v + bias + input; spike where v ≥ threshold; reset.
 * `current` input feeds intensity × scale every step; `rate` input spikes with probability
 * intensity/256 per step (seeded).
 */
export function simulateFloat(
  snn: FloatSnn,
  prepared: PreparedLayer[],
  images: Uint8Array,
  batch: number,
  checkpoints: number[],
  encoding: "current" | "rate" = snn.input.encoding,
  seed = 1,
): FloatSimResult {
  const steps = Math.max(...checkpoints);
  const predictions = checkpoints.map(() => new Int32Array(batch));
  const spikes = new Float64Array(batch);
  const maxMembrane = snn.layers.map(() => 0);
  const maxStepInput = snn.layers.map(() => 0);
  const readoutCount = snn.readout === "count";
  const x = inputTensor(snn, images, batch);
  const probs = encoding === "rate" ? tf.tidy(() => x.div(snn.input.scale * 256)) : undefined;
  // The first layer's input is the same every step under current encoding: compute it once.
  const firstCurrent = encoding === "current" ? tf.tidy(() => prepared[0]!.apply(x)) : undefined;
  let v = prepared.map((p) => tf.zeros([batch, ...p.stateShape]));
  let refr = prepared.map((p) => (p.src.neuron.refractory > 0 ? tf.zeros([batch, ...p.stateShape]) : undefined));
  let counts: tf.Tensor | undefined = readoutCount ? tf.zeros([batch, ...prepared[prepared.length - 1]!.stateShape]) : undefined;
  let spikeTotal = tf.zeros([batch]);
  for (let t = 1; t <= steps; t++) {
    const next = tf.tidy(() => {
      let act: tf.Tensor =
        encoding === "rate"
          ? tf
              .randomUniform(x.shape, 0, 1, "float32", seed * 100003 + t)
              .less(probs!)
              .toFloat()
          : x;
      const nv: tf.Tensor[] = [];
      const nr: Array<tf.Tensor | undefined> = [];
      let stepSpikes: tf.Tensor = tf.zeros([batch]);
      let newCounts = counts;
      prepared.forEach((p, i) => {
        const n = p.src.neuron;
        let cur = i === 0 && firstCurrent ? firstCurrent : p.apply(act);
        if (p.bias) cur = cur.add(p.bias);
        maxStepInput[i] = Math.max(maxStepInput[i]!, cur.abs().max().dataSync()[0]!);
        const r = refr[i];
        if (r) cur = cur.mul(r.lessEqual(0).toFloat());
        let vi = n.leak !== 1 ? v[i]!.mul(n.leak) : v[i]!;
        vi = vi.add(cur);
        maxMembrane[i] = Math.max(maxMembrane[i]!, vi.abs().max().dataSync()[0]!);
        if (n.model === "integrator") {
          nv.push(vi);
          nr.push(undefined);
          act = vi;
          return;
        }
        let s = vi.greaterEqual(n.threshold).toFloat();
        if (r) s = s.mul(r.lessEqual(0).toFloat());
        vi = n.reset === "subtract" ? vi.sub(s.mul(n.threshold)) : vi.mul(tf.scalar(1).sub(s));
        nv.push(vi);
        nr.push(r ? tf.maximum(r.sub(1), s.mul(n.refractory)) : undefined);
        stepSpikes = stepSpikes.add(s.reshape([batch, -1]).sum(1));
        if (i === prepared.length - 1 && newCounts) newCounts = newCounts.add(s);
        act = s;
      });
      return { nv, nr, stepSpikes, newCounts };
    });
    v.forEach((a) => a.dispose());
    refr.forEach((a) => a?.dispose());
    if (counts && counts !== next.newCounts) counts.dispose();
    v = next.nv;
    refr = next.nr;
    counts = next.newCounts;
    const total = spikeTotal.add(next.stepSpikes);
    spikeTotal.dispose();
    next.stepSpikes.dispose();
    spikeTotal = total;
    const k = checkpoints.indexOf(t);
    if (k >= 0) {
      const score = readoutCount ? counts! : v[v.length - 1]!;
      // argMax ties go to the lowest index, as the event table's readout does.
      predictions[k]!.set(tf.tidy(() => score.reshape([batch, -1]).argMax(1).dataSync()));
    }
  }
  spikes.set(spikeTotal.dataSync());
  tf.dispose([x, ...v, spikeTotal]);
  refr.forEach((a) => a?.dispose());
  counts?.dispose();
  probs?.dispose();
  firstCurrent?.dispose();
  return { predictions, spikesPerImage: spikes, maxMembrane, maxStepInput };
}

/** Disposes the tensors of prepared layers. */
export function disposePrepared(prepared: PreparedLayer[]): void {
  for (const p of prepared) tf.dispose(p.owned);
}
