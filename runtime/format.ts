/**
 * Event-table files (spec/table-format.md): canonical CBOR encoding, hostile-input-safe decoding,
 * and the one validator that both paths run. `decodeTable` checks everything the spec lists and
 * hands back a table the interpreter and codegen may trust; `encodeTable` refuses to write a table
 * that `decodeTable` would reject.
 */
import { ByteString, type CborMap, type CborValue, decodeCanonical, encodeCanonical, isCborMap, isCborTypedArray } from "./cbor.js";
import { type ErrorCode, fail } from "./errors.js";
import { bytesEqual, SHA256_BYTES, sha256, toHex } from "./hash.js";
import {
  type Connection,
  type EventTable,
  FORMAT_NAME,
  FORMAT_VERSION,
  READABLE_FORMAT_VERSIONS,
  type InputDescription,
  type Layer,
  type NeuronParams,
  type Plasticity,
  type Provenance,
  type Readout,
  type Shape3,
  type Weights,
} from "./model.js";

/** Limits every reader enforces (spec/table-format.md §5). */
export const LIMITS = {
  /** Largest whole file. */
  maxFileBytes: 64 * 1024 * 1024,
  /** Most layers. */
  maxLayers: 64,
  /** Most neurons in one layer (and in the input). */
  maxNeuronsPerLayer: 2 ** 20,
  /** Most synapses over all connections of the table (spec §4 defines the count). */
  maxSynapses: 2 ** 26,
  /** Deepest nesting of arrays and maps in the body (outermost = 1). */
  maxDepth: 8,
  /** Most entries of any one array or map. */
  maxItems: 64,
  /** Longest text string anywhere, in UTF-8 bytes. */
  maxTextBytes: 256,
  /** Longest layer name, in UTF-8 bytes. */
  maxNameBytes: 64,
  /** Longest provenance settings key, in UTF-8 bytes. */
  maxSettingKeyBytes: 64,
  /** Most provenance settings. */
  maxSettings: 64,
  /** Largest kernel side and stride of conv2d and pool. */
  maxKernel: 64,
  /** Largest weight shift exponent. */
  maxShift: 23,
} as const;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UINT32_MAX = 4294967295;

const CBOR_LIMITS = {
  maxDepth: LIMITS.maxDepth,
  maxItems: LIMITS.maxItems,
  maxTextBytes: LIMITS.maxTextBytes,
  maxByteStringBytes: LIMITS.maxFileBytes,
};

const utf8 = new TextEncoder();

// ---- validation of the in-memory table ---------------------------------------------------------

/** isCborMap without narrowing (the in-memory types are not CborMaps). */
function mapLike(v: unknown): boolean {
  return isCborMap(v);
}

function isInt(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v);
}

/** Requires an integer in [min, max]; non-integers are FORMAT_BAD_TYPE. */
function intIn(v: unknown, min: number, max: number, path: string, overCode: ErrorCode = "FORMAT_OUT_OF_RANGE"): number {
  if (!isInt(v)) fail("FORMAT_BAD_TYPE", `${path} must be an integer, got ${describe(v)}`, { path });
  if (v < min) fail("FORMAT_OUT_OF_RANGE", `${path} is ${v}; it must be at least ${min}`, { path });
  if (v > max) fail(overCode, `${path} is ${v}; it must be at most ${max}`, { path });
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (ArrayBuffer.isView(v)) return v.constructor.name;
  if (v instanceof ByteString) return "a byte string";
  return typeof v === "object" ? "a map" : `${typeof v} ${JSON.stringify(v)}`;
}

function utf8Length(s: string): number {
  return utf8.encode(s).length;
}

function text(v: unknown, minBytes: number, maxBytes: number, path: string): string {
  if (typeof v !== "string") fail("FORMAT_BAD_TYPE", `${path} must be a text string, got ${describe(v)}`, { path });
  const n = utf8Length(v);
  if (n < minBytes) fail("FORMAT_OUT_OF_RANGE", `${path} must have at least ${minBytes} byte(s)`, { path });
  if (n > maxBytes) fail("FORMAT_LIMIT_EXCEEDED", `${path} has ${n} UTF-8 bytes; the limit is ${maxBytes}`, { path });
  return v;
}

function oneOf<T extends string>(v: unknown, allowed: readonly T[], path: string): T {
  if (typeof v !== "string") fail("FORMAT_BAD_TYPE", `${path} must be a text string, got ${describe(v)}`, { path });
  if (!(allowed as readonly string[]).includes(v)) fail("FORMAT_UNKNOWN_KIND", `${path} '${v}' is not one of ${allowed.join(", ")}`, { path });
  return v as T;
}

function typed<T>(v: unknown, ctor: abstract new (...args: never[]) => T, tagName: string, path: string): T {
  if (!(v instanceof ctor)) fail("FORMAT_BAD_TYPE", `${path} must be a ${tagName} typed array, got ${describe(v)}`, { path });
  return v;
}

/** Checks a Shape3 (each dimension 1..2^20, product ≤ 2^20) and returns its product. */
function shapeProduct(shape: unknown, path: string): number {
  if (!Array.isArray(shape) || shape.length !== 3) fail("FORMAT_BAD_TYPE", `${path} must be an array of 3 integers`, { path });
  let product = 1;
  for (let i = 0; i < 3; i++) {
    const d = intIn(shape[i], 1, LIMITS.maxNeuronsPerLayer, `${path}[${i}]`, "FORMAT_LIMIT_EXCEEDED");
    product *= d; // each factor ≤ 2^20, so checking after every step keeps the product exact
    if (product > LIMITS.maxNeuronsPerLayer) {
      fail("FORMAT_LIMIT_EXCEEDED", `${path} [${shape.join(", ")}] has more than ${LIMITS.maxNeuronsPerLayer} elements`, { path });
    }
  }
  return product;
}

function pair(v: unknown, min: number, max: number, path: string): readonly [number, number] {
  if (!Array.isArray(v) || v.length !== 2) fail("FORMAT_BAD_TYPE", `${path} must be an array of 2 integers`, { path });
  return [intIn(v[0], min, max, `${path}[0]`), intIn(v[1], min, max, `${path}[1]`)];
}

function sameShape(a: Shape3, b: Shape3): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

/** Size and layout of the population on one side of a connection. */
interface Population {
  readonly size: number;
  readonly shape: Shape3 | undefined;
  readonly what: string;
}

/** Channels of a population: shape[0] when it has a shape, else every neuron is its own channel. */
export function channelsOf(size: number, shape: Shape3 | undefined): number {
  return shape ? shape[0] : size;
}

/** Range of a stored weight of `bits` bits. */
export function weightRange(bits: 4 | 8 | 16): readonly [min: number, max: number] {
  return bits === 4 ? [-8, 7] : bits === 8 ? [-128, 127] : [-32768, 32767];
}

/** Reads weight `k` of `w` (unpacking int4 nibbles). Assumes a validated Weights. */
export function weightAt(w: Weights, k: number): number {
  if (w.bits !== 4) return w.data[k]!;
  const byte = w.data[k >> 1]!;
  const nib = k & 1 ? byte >> 4 : byte & 15;
  return nib >= 8 ? nib - 16 : nib;
}

/** Packs int4 values (-8..7) two per byte, low nibble first; the unused nibble of an odd count is 0. */
export function packInt4(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array((values.length + 1) >> 1);
  for (let k = 0; k < values.length; k++) {
    const v = values[k]!;
    if (!Number.isInteger(v) || v < -8 || v > 7) throw new RangeError(`packInt4: ${v} is not in -8..7`);
    out[k >> 1]! |= (v & 15) << ((k & 1) * 4);
  }
  return out;
}

function validateWeights(w: Weights, count: number, channels: number, path: string): void {
  if (!mapLike(w)) fail("FORMAT_BAD_TYPE", `${path} must be a map`, { path });
  const bits = w.bits;
  if (bits !== 4 && bits !== 8 && bits !== 16) fail("FORMAT_OUT_OF_RANGE", `${path}.bits is ${String(bits)}; it must be 4, 8 or 16`, { path });
  intIn(w.count, 0, LIMITS.maxSynapses, `${path}.count`, "FORMAT_LIMIT_EXCEEDED");
  if (w.count !== count) fail("FORMAT_SIZE_MISMATCH", `${path}.count is ${w.count}; the connection needs ${count}`, { path });
  if (bits === 8) typed(w.data, Int8Array, "int8 (tag 72)", `${path}.data`);
  else if (bits === 16) typed(w.data, Int16Array, "int16le (tag 77)", `${path}.data`);
  else typed(w.data, Uint8Array, "uint8 (tag 64, packed int4)", `${path}.data`);
  const dataLength = bits === 4 ? Math.ceil(count / 2) : count;
  if (w.data.length !== dataLength)
    fail("FORMAT_SIZE_MISMATCH", `${path}.data has ${w.data.length} elements; ${count} ${bits}-bit weights need ${dataLength}`, { path });
  if (bits === 4 && count % 2 === 1 && w.data[dataLength - 1]! >> 4 !== 0) {
    fail("FORMAT_OUT_OF_RANGE", `${path}.data: the unused high nibble of the last byte must be 0`, { path });
  }
  typed(w.shift, Uint8Array, "uint8 (tag 64)", `${path}.shift`);
  if (w.shift.length !== 1 && w.shift.length !== channels) {
    fail("FORMAT_SIZE_MISMATCH", `${path}.shift has ${w.shift.length} entries; it must have 1 or ${channels} (one per output channel)`, { path });
  }
  for (let c = 0; c < w.shift.length; c++) {
    if (w.shift[c]! > LIMITS.maxShift) fail("FORMAT_OUT_OF_RANGE", `${path}.shift[${c}] is ${w.shift[c]}; it must be 0..${LIMITS.maxShift}`, { path });
  }
}

/** Synapse count of a conv2d connection: (output, input) pairs whose input lies inside the map. */
export function convSynapses(
  inShape: Shape3,
  outShape: Shape3,
  kernel: readonly [number, number],
  stride: readonly [number, number],
  padding: readonly [number, number],
): number {
  const validAlong = (inLen: number, outLen: number, k: number, s: number, p: number): number => {
    let total = 0;
    for (let o = 0; o < outLen; o++) {
      const first = o * s - p;
      total += Math.max(0, Math.min(first + k, inLen) - Math.max(first, 0));
    }
    return total;
  };
  return (
    outShape[0] *
    inShape[0] *
    validAlong(inShape[1], outShape[1], kernel[0], stride[0], padding[0]) *
    validAlong(inShape[2], outShape[2], kernel[1], stride[1], padding[1])
  );
}

/** Synapse count of any connection (spec/table-format.md §4 "Synapses"). Assumes a validated connection. */
export function connectionSynapses(c: Connection): number {
  switch (c.kind) {
    case "dense":
      return c.inputs * c.outputs;
    case "sparse":
      return c.cols.length;
    case "conv2d":
      return convSynapses(c.inShape, c.outShape, c.kernel, c.stride, c.padding);
    case "pool":
      return c.outShape[0] * c.outShape[1] * c.outShape[2] * c.kernel[0] * c.kernel[1];
  }
}

function checkSynapseBudget(n: number, used: number, path: string): void {
  if (n + used > LIMITS.maxSynapses) {
    fail("FORMAT_LIMIT_EXCEEDED", `${path} brings the synapse count to ${n + used}; the limit is ${LIMITS.maxSynapses}`, { path });
  }
}

/** Checks the geometry of conv2d/pool; returns the validated shapes. */
function validateGeometry(
  c: { inShape: unknown; outShape: unknown; kernel: unknown; stride: unknown },
  padding: readonly [number, number],
  pre: Population,
  post: Population,
  path: string,
): void {
  shapeProduct(c.inShape, `${path}.inShape`);
  shapeProduct(c.outShape, `${path}.outShape`);
  const inShape = c.inShape as Shape3;
  const outShape = c.outShape as Shape3;
  const kernel = pair(c.kernel, 1, LIMITS.maxKernel, `${path}.kernel`);
  const stride = pair(c.stride, 1, LIMITS.maxKernel, `${path}.stride`);
  if (!pre.shape) fail("SEMANTICS_SHAPE_MISMATCH", `${path} needs a spatial input but ${pre.what} has no shape`, { path });
  if (!sameShape(inShape, pre.shape))
    fail("SEMANTICS_SHAPE_MISMATCH", `${path}.inShape [${inShape.join(", ")}] is not the shape [${pre.shape.join(", ")}] of ${pre.what}`, { path });
  if (!post.shape) fail("FORMAT_MISSING_FIELD", `${path} produces a feature map, so ${post.what} needs a shape`, { path });
  if (!sameShape(outShape, post.shape))
    fail("FORMAT_SIZE_MISMATCH", `${path}.outShape [${outShape.join(", ")}] is not the shape [${post.shape.join(", ")}] of ${post.what}`, { path });
  for (let axis = 0; axis < 2; axis++) {
    const inLen = inShape[axis + 1]!;
    const k = kernel[axis]!;
    const p = padding[axis]!;
    if (p >= k) fail("FORMAT_OUT_OF_RANGE", `${path}.padding[${axis}] is ${p}; it must be less than the kernel side ${k}`, { path });
    if (inLen + 2 * p < k) fail("FORMAT_OUT_OF_RANGE", `${path}: kernel side ${k} is larger than the padded input side ${inLen + 2 * p}`, { path });
    const expected = Math.floor((inLen + 2 * p - k) / stride[axis]!) + 1;
    if (outShape[axis + 1] !== expected) {
      fail(
        "FORMAT_SIZE_MISMATCH",
        `${path}.outShape[${axis + 1}] is ${outShape[axis + 1]}; input ${inLen}, kernel ${k}, stride ${stride[axis]}, padding ${p} give ${expected}`,
        { path },
      );
    }
  }
}

/** Validates one connection from `pre` onto `post`; returns its synapse count. */
function validateConnection(c: Connection, pre: Population, post: Population, used: number, anyColsWidth: boolean, path: string): number {
  if (!mapLike(c)) fail("FORMAT_BAD_TYPE", `${path} must be a map`, { path });
  const kind = oneOf(c.kind, ["dense", "sparse", "conv2d", "pool"] as const, `${path}.kind`);
  const postChannels = channelsOf(post.size, post.shape);
  if (kind === "dense" || kind === "sparse") {
    const conn = c as Extract<Connection, { kind: "dense" | "sparse" }>;
    const inputs = intIn(conn.inputs, 1, LIMITS.maxNeuronsPerLayer, `${path}.inputs`, "FORMAT_LIMIT_EXCEEDED");
    const outputs = intIn(conn.outputs, 1, LIMITS.maxNeuronsPerLayer, `${path}.outputs`, "FORMAT_LIMIT_EXCEEDED");
    if (inputs !== pre.size) fail("SEMANTICS_SHAPE_MISMATCH", `${path}.inputs is ${inputs} but ${pre.what} has ${pre.size} neurons`, { path });
    if (outputs !== post.size) fail("FORMAT_SIZE_MISMATCH", `${path}.outputs is ${outputs} but ${post.what} has ${post.size} neurons`, { path });
    if (kind === "dense") {
      checkSynapseBudget(inputs * outputs, used, path);
      validateWeights(conn.weights, inputs * outputs, postChannels, `${path}.weights`);
      return inputs * outputs;
    }
    const sp = conn as Extract<Connection, { kind: "sparse" }>;
    const rowPtr = typed(sp.rowPtr, Uint32Array, "uint32le (tag 70)", `${path}.rowPtr`);
    if (rowPtr.length !== inputs + 1) fail("FORMAT_SIZE_MISMATCH", `${path}.rowPtr has ${rowPtr.length} entries; inputs + 1 = ${inputs + 1}`, { path });
    if (rowPtr[0] !== 0) fail("FORMAT_INDEX_OUT_OF_BOUNDS", `${path}.rowPtr[0] is ${rowPtr[0]}; it must be 0`, { path });
    for (let i = 0; i < inputs; i++) {
      if (rowPtr[i + 1]! < rowPtr[i]!)
        fail("FORMAT_INDEX_OUT_OF_BOUNDS", `${path}.rowPtr decreases at entry ${i + 1} (${rowPtr[i]} → ${rowPtr[i + 1]})`, { path });
    }
    const nnz = rowPtr[inputs]!;
    checkSynapseBudget(nnz, used, path);
    if (anyColsWidth && (sp.cols instanceof Uint16Array || sp.cols instanceof Uint32Array)) {
      // In memory either width will do; the encoder writes the width the spec fixes.
    } else if (outputs <= 65536) typed(sp.cols, Uint16Array, "uint16le (tag 69) when outputs ≤ 65536", `${path}.cols`);
    else typed(sp.cols, Uint32Array, "uint32le (tag 70) when outputs > 65536", `${path}.cols`);
    if (sp.cols.length !== nnz) fail("FORMAT_SIZE_MISMATCH", `${path}.cols has ${sp.cols.length} entries; rowPtr[inputs] = ${nnz}`, { path });
    for (let i = 0; i < inputs; i++) {
      for (let k = rowPtr[i]!; k < rowPtr[i + 1]!; k++) {
        const col = sp.cols[k]!;
        if (col >= outputs) fail("FORMAT_INDEX_OUT_OF_BOUNDS", `${path}.cols[${k}] is ${col}; outputs = ${outputs}`, { path, synapse: k });
        if (k > rowPtr[i]! && col <= sp.cols[k - 1]!) {
          fail("FORMAT_INDEX_OUT_OF_BOUNDS", `${path}.cols[${k}]: columns of input ${i} must be strictly ascending`, { path, synapse: k });
        }
      }
    }
    validateWeights(sp.weights, nnz, postChannels, `${path}.weights`);
    return nnz;
  }
  if (kind === "conv2d") {
    const conv = c as Extract<Connection, { kind: "conv2d" }>;
    const padding = pair(conv.padding, 0, LIMITS.maxKernel - 1, `${path}.padding`);
    validateGeometry(conv, padding, pre, post, path);
    const n = convSynapses(conv.inShape, conv.outShape, conv.kernel, conv.stride, padding);
    checkSynapseBudget(n, used, path);
    const count = conv.outShape[0] * conv.inShape[0] * conv.kernel[0] * conv.kernel[1];
    validateWeights(conv.weights, count, postChannels, `${path}.weights`);
    return n;
  }
  const pool = c as Extract<Connection, { kind: "pool" }>;
  validateGeometry(pool, [0, 0], pre, post, path);
  if (pool.outShape[0] !== pool.inShape[0])
    fail("FORMAT_SIZE_MISMATCH", `${path}: pooling keeps channels, but outShape[0] ${pool.outShape[0]} ≠ inShape[0] ${pool.inShape[0]}`, { path });
  intIn(pool.weight, -32768, 32767, `${path}.weight`);
  intIn(pool.shift, 0, LIMITS.maxShift, `${path}.shift`);
  const n = connectionSynapses(pool);
  checkSynapseBudget(n, used, path);
  return n;
}

function validateNeuron(n: NeuronParams, isLast: boolean, size: number, path: string): void {
  if (!mapLike(n)) fail("FORMAT_BAD_TYPE", `${path} must be a map`, { path });
  const model = oneOf(n.model, ["if", "lif-shift", "lif-q15", "cuba", "integrator"] as const, `${path}.model`);
  const threshold = intIn(n.threshold, 1, INT32_MAX, `${path}.threshold`);
  const reset = oneOf(n.reset, ["subtract", "value"] as const, `${path}.reset`);
  const resetValue = intIn(n.resetValue, INT32_MIN, INT32_MAX, `${path}.resetValue`);
  const leakShift = intIn(n.leakShift, 0, 31, `${path}.leakShift`);
  const leakQ15 = intIn(n.leakQ15, 0, 32767, `${path}.leakQ15`);
  const currentShift = intIn(n.currentShift, 0, 31, `${path}.currentShift`);
  const refractory = intIn(n.refractory, 0, 255, `${path}.refractory`);
  const vMin = intIn(n.vMin, INT32_MIN, INT32_MAX, `${path}.vMin`);
  const unused = (field: string, value: number, neutral: number): void => {
    if (value !== neutral) fail("FORMAT_OUT_OF_RANGE", `${path}.${field} is ${value}, but model '${model}' does not use it; it must be ${neutral}`, { path });
  };
  // version-2 keys (spec/ops.md §4.9), checked in the order of the C reader (ps_table.c v_neuron)
  const compare = n.compare === undefined ? "ge" : oneOf(n.compare, ["ge", "gt"] as const, `${path}.compare`);
  if (n.resetDelay !== undefined && typeof n.resetDelay !== "boolean") fail("FORMAT_BAD_TYPE", `${path}.resetDelay must be a boolean`, { path });
  const resetDelay = n.resetDelay === true;
  if (n.multiSpike !== undefined && typeof n.multiSpike !== "boolean") fail("FORMAT_BAD_TYPE", `${path}.multiSpike must be a boolean`, { path });
  const multiSpike = n.multiSpike === true;
  const vInit = n.vInit === undefined ? 0 : intIn(n.vInit, INT32_MIN, INT32_MAX, `${path}.vInit`);
  const synapse = n.synapse === undefined ? "shift" : oneOf(n.synapse, ["shift", "q15"] as const, `${path}.synapse`);
  const currentQ15 = n.currentQ15 === undefined ? undefined : intIn(n.currentQ15, 0, 32767, `${path}.currentQ15`);
  const retentions = (field: "leakQ15s" | "currentQ15s"): Uint16Array | undefined => {
    const a = n[field];
    if (a === undefined) return undefined;
    typed(a, Uint16Array, "uint16le (tag 69)", `${path}.${field}`);
    if (a.length !== size) fail("FORMAT_SIZE_MISMATCH", `${path}.${field} has ${a.length} entries for ${size} neurons`, { path });
    for (let j = 0; j < a.length; j++) if (a[j]! > 32767) fail("FORMAT_OUT_OF_RANGE", `${path}.${field}[${j}] is ${a[j]}; it must be 0..32767`, { path });
    return a;
  };
  const leakQ15s = retentions("leakQ15s");
  const currentQ15s = retentions("currentQ15s");
  const q15Cuba = model === "cuba" && synapse === "q15";
  const rule = (ok: boolean, message: string): void => {
    if (!ok) fail("FORMAT_OUT_OF_RANGE", `${path}: ${message}`, { path });
  };
  rule(synapse === "shift" || model === "cuba", "synapse 'q15' is a cuba form");
  rule(currentQ15 === undefined || q15Cuba, "currentQ15 belongs to a cuba layer with synapse 'q15'");
  rule(currentQ15s === undefined || (q15Cuba && currentQ15 === undefined), "currentQ15s belongs to a cuba layer with synapse 'q15' and replaces currentQ15");
  rule(leakQ15s === undefined || model === "lif-q15" || q15Cuba || model === "integrator", `leakQ15s does not apply to model '${model}'`);
  if (leakQ15s !== undefined) unused("leakQ15", leakQ15, 32767);
  if (model !== "lif-shift" && !(model === "cuba" && !q15Cuba)) unused("leakShift", leakShift, 0);
  if (model !== "lif-q15" && !q15Cuba) unused("leakQ15", leakQ15, 32767);
  if (model !== "cuba" || q15Cuba) unused("currentShift", currentShift, 0);
  if (reset === "subtract") unused("resetValue", resetValue, 0);
  if (model === "integrator") {
    if (!isLast) fail("FORMAT_OUT_OF_RANGE", `${path}: an integrator never spikes, so it may only be the last layer`, { path });
    if (reset !== "subtract") fail("FORMAT_OUT_OF_RANGE", `${path}.reset must be 'subtract' for an integrator (it never resets)`, { path });
    unused("refractory", refractory, 0);
    rule(compare === "ge" && !resetDelay && !multiSpike, "an integrator has no spike test (compare, resetDelay, multiSpike)");
    return;
  }
  if (vMin >= threshold) fail("FORMAT_OUT_OF_RANGE", `${path}.vMin ${vMin} must be below the threshold ${threshold}`, { path });
  if (reset === "value" && (resetValue < vMin || resetValue >= threshold)) {
    fail("FORMAT_OUT_OF_RANGE", `${path}.resetValue ${resetValue} must be in [vMin, threshold) = [${vMin}, ${threshold})`, { path });
  }
  rule(!resetDelay || (reset === "subtract" && refractory === 0), "resetDelay needs reset 'subtract' and refractory 0");
  rule(!multiSpike || (reset === "subtract" && !resetDelay), "multiSpike needs reset 'subtract' without resetDelay");
  // a membrane that starts at or above the threshold would make §4.9's pending test see a spike that never happened
  rule(vInit < threshold, `vInit ${vInit} must be below the threshold ${threshold}`);
}

function validatePlasticity(p: Plasticity, layer: Layer, path: string): void {
  if (!mapLike(p)) fail("FORMAT_BAD_TYPE", `${path} must be a map`, { path });
  oneOf(p.rule, ["stdp", "rstdp", "triplet"] as const, `${path}.rule`);
  if (layer.input.kind !== "dense" && layer.input.kind !== "sparse") {
    fail("FORMAT_OUT_OF_RANGE", `${path}: plasticity applies to dense or sparse input connections, not '${layer.input.kind}'`, { path });
  }
  if (layer.neuron.model === "integrator") fail("FORMAT_OUT_OF_RANGE", `${path}: an integrator layer never spikes, so it cannot learn`, { path });
  intIn(p.preTraceShift, 1, 15, `${path}.preTraceShift`);
  intIn(p.postTraceShift, 1, 15, `${path}.postTraceShift`);
  intIn(p.traceIncrement, 1, 32767, `${path}.traceIncrement`);
  intIn(p.aPlus, 0, 32767, `${path}.aPlus`);
  intIn(p.aMinus, 0, 32767, `${path}.aMinus`);
  intIn(p.eligibilityShift, 1, 15, `${path}.eligibilityShift`);
  intIn(p.learningShift, 0, 31, `${path}.learningShift`);
  intIn(p.baselineShift, 0, 15, `${path}.baselineShift`);
  if (p.timing !== undefined) {
    oneOf(p.timing, ["step", "event", "epoch"] as const, `${path}.timing`);
    if (p.timing === "event" && layer.input.kind !== "dense")
      fail("FORMAT_OUT_OF_RANGE", `${path}: event timing applies to dense input connections, not '${layer.input.kind}'`, { path });
    if (p.timing === "epoch" && layer.input.kind !== "dense")
      fail("FORMAT_OUT_OF_RANGE", `${path}: epoch timing applies to dense input connections, not '${layer.input.kind}'`, { path });
  }
  if (p.epochShift !== undefined) {
    if (p.timing !== "epoch") fail("FORMAT_OUT_OF_RANGE", `${path}: epochShift belongs to timing 'epoch', not '${p.timing ?? "step"}'`, { path });
    intIn(p.epochShift, 1, 8, `${path}.epochShift`);
  }
  if (p.rule === "triplet") {
    if (p.timing !== "event") fail("FORMAT_OUT_OF_RANGE", `${path}: the triplet rule needs timing 'event'`, { path });
    if (p.tripletShift === undefined) fail("FORMAT_MISSING_FIELD", `${path}.tripletShift is missing (the triplet rule needs it)`, { path });
    if (p.a3Plus === undefined) fail("FORMAT_MISSING_FIELD", `${path}.a3Plus is missing (the triplet rule needs it)`, { path });
    intIn(p.tripletShift, 1, 15, `${path}.tripletShift`);
    intIn(p.a3Plus, 0, 32767, `${path}.a3Plus`);
  } else if (p.tripletShift !== undefined || p.a3Plus !== undefined) {
    fail("FORMAT_OUT_OF_RANGE", `${path}: tripletShift and a3Plus belong to the triplet rule, not '${p.rule}'`, { path });
  }
  const w = layer.input.weights;
  const [lo, hi] = weightRange(w.bits);
  const wMin = intIn(p.wMin, lo, hi, `${path}.wMin`);
  const wMax = intIn(p.wMax, lo, hi, `${path}.wMax`);
  if (wMin > wMax) fail("FORMAT_OUT_OF_RANGE", `${path}.wMin ${wMin} is above wMax ${wMax}`, { path });
  for (let k = 0; k < w.count; k++) {
    const v = weightAt(w, k);
    if (v < wMin || v > wMax) fail("FORMAT_OUT_OF_RANGE", `${path}: weight ${k} is ${v}, outside the clamp [${wMin}, ${wMax}]`, { path });
  }
}

function validateInput(input: InputDescription): Population {
  const path = "input";
  if (!mapLike(input)) fail("FORMAT_BAD_TYPE", `${path} must be a map`, { path });
  const size = intIn(input.size, 1, LIMITS.maxNeuronsPerLayer, `${path}.size`, "FORMAT_LIMIT_EXCEEDED");
  if (input.shape !== undefined && shapeProduct(input.shape, `${path}.shape`) !== size) {
    fail("FORMAT_SIZE_MISMATCH", `${path}.shape [${input.shape.join(", ")}] does not hold ${size} elements`, { path });
  }
  const encoding = oneOf(input.encoding, ["spikes", "rate", "current"] as const, `${path}.encoding`);
  const seed = intIn(input.seed, 0, UINT32_MAX, `${path}.seed`);
  if (encoding === "rate" && seed === 0) fail("FORMAT_OUT_OF_RANGE", `${path}.seed must be nonzero for rate encoding`, { path });
  return { size, shape: input.shape, what: "the input" };
}

function validateProvenance(p: Provenance, layerCount: number): void {
  const path = "provenance";
  if (!mapLike(p)) fail("FORMAT_BAD_TYPE", `${path} must be a map`, { path });
  text(p.source, 0, LIMITS.maxTextBytes, `${path}.source`);
  text(p.tool, 0, LIMITS.maxTextBytes, `${path}.tool`);
  if (!mapLike(p.settings)) fail("FORMAT_BAD_TYPE", `${path}.settings must be a map`, { path });
  const keys = Object.keys(p.settings);
  if (keys.length > LIMITS.maxSettings)
    fail("FORMAT_LIMIT_EXCEEDED", `${path}.settings has ${keys.length} entries; the limit is ${LIMITS.maxSettings}`, { path });
  for (const key of keys) {
    text(key, 1, LIMITS.maxSettingKeyBytes, `${path}.settings key '${key}'`);
    const v: unknown = p.settings[key];
    if (typeof v === "string") text(v, 0, LIMITS.maxTextBytes, `${path}.settings.${key}`);
    else if (typeof v === "number") {
      if (!Number.isFinite(v)) fail("FORMAT_OUT_OF_RANGE", `${path}.settings.${key} must be finite`, { path });
      if (Number.isInteger(v) && Math.abs(v) > Number.MAX_SAFE_INTEGER) fail("FORMAT_OUT_OF_RANGE", `${path}.settings.${key} is beyond ±(2^53-1)`, { path });
    } else if (typeof v !== "boolean") fail("FORMAT_BAD_TYPE", `${path}.settings.${key} must be a string, number or boolean, got ${describe(v)}`, { path });
  }
  if (!Array.isArray(p.layerScales)) fail("FORMAT_BAD_TYPE", `${path}.layerScales must be an array`, { path });
  if (p.layerScales.length !== layerCount)
    fail("FORMAT_SIZE_MISMATCH", `${path}.layerScales has ${p.layerScales.length} entries for ${layerCount} layers`, { path });
  p.layerScales.forEach((s, i) => {
    if (typeof s !== "number") fail("FORMAT_BAD_TYPE", `${path}.layerScales[${i}] must be a number`, { path });
    if (!Number.isFinite(s) || s <= 0) fail("FORMAT_OUT_OF_RANGE", `${path}.layerScales[${i}] is ${s}; it must be finite and > 0`, { path });
    if (Number.isInteger(s) && s > Number.MAX_SAFE_INTEGER) fail("FORMAT_OUT_OF_RANGE", `${path}.layerScales[${i}] is beyond 2^53-1`, { path });
  });
}

/** Options of validateTable. */
export interface ValidateOptions {
  /**
   * Accept sparse `cols` of either width whatever `outputs` is (true when validating a table about
   * to be encoded: the encoder writes the width the spec fixes). Decoded tables must be exact.
   */
  readonly anyColsWidth?: boolean;
}

/**
 * Checks every rule of spec/table-format.md §3–§5 on an in-memory table; throws PicospikeError
 * with the first violation. Returns the total synapse count.
 */
export function validateTable(table: EventTable, options: ValidateOptions = {}): number {
  const anyColsWidth = options.anyColsWidth ?? false;
  if (!mapLike(table)) fail("FORMAT_BAD_TYPE", "the table must be a map");
  let prev = validateInput(table.input);
  if (!Array.isArray(table.layers)) fail("FORMAT_BAD_TYPE", "layers must be an array");
  if (table.layers.length < 1) fail("FORMAT_OUT_OF_RANGE", "a table needs at least one layer");
  if (table.layers.length > LIMITS.maxLayers) fail("FORMAT_LIMIT_EXCEEDED", `${table.layers.length} layers; the limit is ${LIMITS.maxLayers}`);
  let synapses = 0;
  let prevMulti = false;
  table.layers.forEach((layer, i) => {
    const path = `layers[${i}]`;
    if (!mapLike(layer)) fail("FORMAT_BAD_TYPE", `${path} must be a map`, { path });
    const name = text(layer.name, 1, LIMITS.maxNameBytes, `${path}.name`);
    const where = `${path} '${name}'`;
    const size = intIn(layer.size, 1, LIMITS.maxNeuronsPerLayer, `${where}.size`, "FORMAT_LIMIT_EXCEEDED");
    if (layer.shape !== undefined && shapeProduct(layer.shape, `${where}.shape`) !== size) {
      fail("FORMAT_SIZE_MISMATCH", `${where}.shape [${layer.shape.join(", ")}] does not hold ${size} neurons`, { path });
    }
    const self: Population = { size, shape: layer.shape, what: `layer ${i} '${name}'` };
    validateNeuron(layer.neuron, i === table.layers.length - 1, size, `${where}.neuron`);
    synapses += validateConnection(layer.input, prev, self, synapses, anyColsWidth, `${where}.input`);
    if (layer.recurrent !== undefined) synapses += validateConnection(layer.recurrent, self, self, synapses, anyColsWidth, `${where}.recurrent`);
    if (layer.bias !== undefined) {
      const bias = typed(layer.bias, Int32Array, "int32le (tag 78)", `${where}.bias`);
      const channels = channelsOf(size, layer.shape);
      if (bias.length !== size && bias.length !== channels) {
        fail("FORMAT_SIZE_MISMATCH", `${where}.bias has ${bias.length} entries; it must have ${size} (per neuron) or ${channels} (per channel)`, { path });
      }
    }
    if (layer.plasticity !== undefined) validatePlasticity(layer.plasticity, layer, `${where}.plasticity`);
    // spec/ops.md §4.9: a multi-spike layer's events are graded; recurrence and learning take spikes
    const multi = layer.neuron.multiSpike === true;
    if (multi && (layer.recurrent !== undefined || layer.plasticity !== undefined))
      fail("FORMAT_OUT_OF_RANGE", `${where}: a multi-spike layer can have neither a recurrent connection nor plasticity`, { path });
    if (prevMulti && layer.plasticity !== undefined)
      fail("FORMAT_OUT_OF_RANGE", `${where}: a layer fed by a multi-spike layer cannot learn (its input events are graded)`, { path });
    prevMulti = multi;
    prev = self;
  });
  if (!mapLike(table.readout)) fail("FORMAT_BAD_TYPE", "readout must be a map");
  const readout = oneOf(table.readout.kind, ["count", "membrane"] as const, "readout.kind");
  const last = table.layers[table.layers.length - 1]!;
  if (readout === "count" && last.neuron.model === "integrator")
    fail("FORMAT_OUT_OF_RANGE", "readout 'count' needs a spiking last layer, but it is an integrator");
  validateProvenance(table.provenance, table.layers.length);
  return synapses;
}

// ---- table ⇄ CBOR tree -----------------------------------------------------------------------

function weightsToCbor(w: Weights): CborMap {
  return { bits: w.bits, count: w.count, data: w.data, shift: w.shift };
}

function connectionToCbor(c: Connection): CborMap {
  switch (c.kind) {
    case "dense":
      return { kind: c.kind, inputs: c.inputs, outputs: c.outputs, weights: weightsToCbor(c.weights) };
    case "sparse":
      return {
        kind: c.kind,
        inputs: c.inputs,
        outputs: c.outputs,
        rowPtr: c.rowPtr,
        // The spec fixes the column width by `outputs`, so one table has one encoding.
        cols: c.outputs <= 65536 && !(c.cols instanceof Uint16Array) ? Uint16Array.from(c.cols) : c.cols,
        weights: weightsToCbor(c.weights),
      };
    case "conv2d":
      return {
        kind: c.kind,
        inShape: [...c.inShape],
        outShape: [...c.outShape],
        kernel: [...c.kernel],
        stride: [...c.stride],
        padding: [...c.padding],
        weights: weightsToCbor(c.weights),
      };
    case "pool":
      return {
        kind: c.kind,
        inShape: [...c.inShape],
        outShape: [...c.outShape],
        kernel: [...c.kernel],
        stride: [...c.stride],
        weight: c.weight,
        shift: c.shift,
      };
  }
}

/** The CBOR tree of one layer (also used by inspect to measure a layer's bytes). */
export function layerToCbor(l: Layer): CborMap {
  const n = l.neuron;
  const out: Record<string, CborValue> = {
    name: l.name,
    size: l.size,
    input: connectionToCbor(l.input),
    neuron: {
      model: n.model,
      threshold: n.threshold,
      reset: n.reset,
      resetValue: n.resetValue,
      leakShift: n.leakShift,
      leakQ15: n.leakQ15,
      currentShift: n.currentShift,
      refractory: n.refractory,
      vMin: n.vMin,
      // version-2 keys only when set (the quantizer sets them only where they change the meaning), so a
      // model without them keeps its version-1 body and hash; a key holding its default is valid and
      // is written back as read, so decoding and re-encoding keeps the bytes
      ...(n.compare !== undefined ? { compare: n.compare } : {}),
      ...(n.resetDelay !== undefined ? { resetDelay: n.resetDelay } : {}),
      ...(n.multiSpike !== undefined ? { multiSpike: n.multiSpike } : {}),
      ...(n.vInit !== undefined ? { vInit: n.vInit } : {}),
      ...(n.synapse !== undefined ? { synapse: n.synapse } : {}),
      ...(n.currentQ15 !== undefined ? { currentQ15: n.currentQ15 } : {}),
      ...(n.leakQ15s !== undefined ? { leakQ15s: n.leakQ15s } : {}),
      ...(n.currentQ15s !== undefined ? { currentQ15s: n.currentQ15s } : {}),
    },
  };
  if (l.shape) out.shape = [...l.shape];
  if (l.recurrent) out.recurrent = connectionToCbor(l.recurrent);
  if (l.bias) out.bias = l.bias;
  if (l.plasticity) {
    const p = l.plasticity;
    out.plasticity = {
      rule: p.rule,
      preTraceShift: p.preTraceShift,
      postTraceShift: p.postTraceShift,
      traceIncrement: p.traceIncrement,
      aPlus: p.aPlus,
      aMinus: p.aMinus,
      eligibilityShift: p.eligibilityShift,
      learningShift: p.learningShift,
      baselineShift: p.baselineShift,
      wMin: p.wMin,
      wMax: p.wMax,
      // written only when it changes the meaning, so a step-timed model keeps its version-1 body and hash
      ...(p.timing === "event" || p.timing === "epoch" ? { timing: p.timing } : {}),
      ...(p.epochShift !== undefined ? { epochShift: p.epochShift } : {}),
      ...(p.tripletShift !== undefined ? { tripletShift: p.tripletShift } : {}),
      ...(p.a3Plus !== undefined ? { a3Plus: p.a3Plus } : {}),
    };
  }
  return out;
}

function tableToCbor(t: EventTable): CborMap {
  const input: Record<string, CborValue> = { size: t.input.size, encoding: t.input.encoding, seed: t.input.seed };
  if (t.input.shape) input.shape = [...t.input.shape];
  // Null prototype: a setting named "__proto__" must be stored as data, not swallowed by the setter.
  const settings = Object.create(null) as Record<string, CborValue>;
  for (const [k, v] of Object.entries(t.provenance.settings)) settings[k] = v;
  return {
    input,
    layers: t.layers.map(layerToCbor),
    readout: { kind: t.readout.kind },
    provenance: { source: t.provenance.source, tool: t.provenance.tool, settings, layerScales: [...t.provenance.layerScales] },
  };
}

/**
 * Reads a map's fields, failing on missing required ones and on unknown ones. `sinceV2` keys are
 * optional keys that format version 2 added: a version-1 file holding one is refused, so a
 * version-1 table always keeps its version-1 meaning (spec/table-format.md §7).
 */
function fields(
  v: CborValue | undefined,
  path: string,
  required: readonly string[],
  optional: readonly string[] = [],
  sinceV2: readonly string[] = [],
  version: number = FORMAT_VERSION,
): CborMap {
  if (v === undefined) fail("FORMAT_MISSING_FIELD", `${path} is missing`, { path });
  if (!isCborMap(v)) fail("FORMAT_BAD_TYPE", `${path} must be a map, got ${describe(v)}`, { path });
  for (const key of required) if (!(key in v)) fail("FORMAT_MISSING_FIELD", `${path}.${key} is missing`, { path });
  for (const key of Object.keys(v)) {
    if (sinceV2.includes(key)) {
      if (version < 2)
        fail("FORMAT_UNKNOWN_FIELD", `${path} has the field '${key}', which format version 2 added, but the file says version ${version}`, { path });
    } else if (!required.includes(key) && !optional.includes(key)) fail("FORMAT_UNKNOWN_FIELD", `${path} has the unknown field '${key}'`, { path });
  }
  return v;
}

/** Fails unless `v` is a CBOR array (typed checks of its items come in validateTable). */
function array(v: CborValue | undefined, path: string): readonly CborValue[] {
  if (!Array.isArray(v)) fail("FORMAT_BAD_TYPE", `${path} must be an array, got ${describe(v)}`, { path });
  return v;
}

function weightsFromCbor(v: CborValue | undefined, path: string): Weights {
  const m = fields(v, path, ["bits", "count", "data", "shift"]);
  return { bits: m.bits as Weights["bits"], count: m.count as number, data: m.data as Weights["data"], shift: m.shift as Uint8Array };
}

const SHAPE3 = (v: CborValue | undefined, path: string): Shape3 => array(v, path) as unknown as Shape3;
const PAIR = (v: CborValue | undefined, path: string): readonly [number, number] => array(v, path) as unknown as readonly [number, number];

function connectionFromCbor(v: CborValue | undefined, path: string, version: number): Connection {
  const head = fields(
    v,
    path,
    ["kind"],
    ["inputs", "outputs", "weights", "rowPtr", "cols", "inShape", "outShape", "kernel", "stride", "padding", "weight", "shift"],
    CONNECTION_FIELDS_V2,
    version,
  );
  const kind = oneOf(head.kind, ["dense", "sparse", "conv2d", "pool"] as const, `${path}.kind`);
  switch (kind) {
    case "dense": {
      const m = fields(v, path, ["kind", "inputs", "outputs", "weights"], [], CONNECTION_FIELDS_V2, version);
      return { kind, inputs: m.inputs as number, outputs: m.outputs as number, weights: weightsFromCbor(m.weights, `${path}.weights`) };
    }
    case "sparse": {
      const m = fields(v, path, ["kind", "inputs", "outputs", "rowPtr", "cols", "weights"], [], CONNECTION_FIELDS_V2, version);
      return {
        kind,
        inputs: m.inputs as number,
        outputs: m.outputs as number,
        rowPtr: m.rowPtr as Uint32Array,
        cols: m.cols as Uint16Array,
        weights: weightsFromCbor(m.weights, `${path}.weights`),
      };
    }
    case "conv2d": {
      const m = fields(v, path, ["kind", "inShape", "outShape", "kernel", "stride", "padding", "weights"], [], CONNECTION_FIELDS_V2, version);
      return {
        kind,
        inShape: SHAPE3(m.inShape, `${path}.inShape`),
        outShape: SHAPE3(m.outShape, `${path}.outShape`),
        kernel: PAIR(m.kernel, `${path}.kernel`),
        stride: PAIR(m.stride, `${path}.stride`),
        padding: PAIR(m.padding, `${path}.padding`),
        weights: weightsFromCbor(m.weights, `${path}.weights`),
      };
    }
    case "pool": {
      const m = fields(v, path, ["kind", "inShape", "outShape", "kernel", "stride", "weight", "shift"], [], CONNECTION_FIELDS_V2, version);
      return {
        kind,
        inShape: SHAPE3(m.inShape, `${path}.inShape`),
        outShape: SHAPE3(m.outShape, `${path}.outShape`),
        kernel: PAIR(m.kernel, `${path}.kernel`),
        stride: PAIR(m.stride, `${path}.stride`),
        weight: m.weight as number,
        shift: m.shift as number,
      };
    }
  }
}

const NEURON_FIELDS = ["model", "threshold", "reset", "resetValue", "leakShift", "leakQ15", "currentShift", "refractory", "vMin"] as const;
const PLASTICITY_FIELDS = [
  "rule",
  "preTraceShift",
  "postTraceShift",
  "traceIncrement",
  "aPlus",
  "aMinus",
  "eligibilityShift",
  "learningShift",
  "baselineShift",
  "wMin",
  "wMax",
] as const;

/** Layer keys that format version 2 added (optional; absent means the version-1 meaning). */
const LAYER_FIELDS_V2: readonly string[] = [];
/** Neuron keys that format version 2 added (optional; absent means the version-1 meaning). */
const NEURON_FIELDS_V2: readonly string[] = ["compare", "resetDelay", "multiSpike", "vInit", "synapse", "currentQ15", "leakQ15s", "currentQ15s"];
/** Plasticity keys that format version 2 added (optional; absent means the version-1 meaning). */
const PLASTICITY_FIELDS_V2: readonly string[] = ["timing", "tripletShift", "a3Plus", "epochShift"];
/** Connection keys that format version 2 added (optional; absent means the version-1 meaning). */
const CONNECTION_FIELDS_V2: readonly string[] = [];
/** Input keys that format version 2 added (optional; absent means the version-1 meaning). */
const INPUT_FIELDS_V2: readonly string[] = [];

function layerFromCbor(v: CborValue, path: string, version: number): Layer {
  const m = fields(v, path, ["name", "size", "input", "neuron"], ["shape", "recurrent", "bias", "plasticity"], LAYER_FIELDS_V2, version);
  const neuron = fields(m.neuron, `${path}.neuron`, NEURON_FIELDS, [], NEURON_FIELDS_V2, version) as unknown as NeuronParams;
  return {
    name: m.name as string,
    size: m.size as number,
    input: connectionFromCbor(m.input, `${path}.input`, version),
    neuron: { ...neuron },
    ...(m.shape !== undefined ? { shape: SHAPE3(m.shape, `${path}.shape`) } : {}),
    ...(m.recurrent !== undefined ? { recurrent: connectionFromCbor(m.recurrent, `${path}.recurrent`, version) } : {}),
    ...(m.bias !== undefined ? { bias: m.bias as Int32Array } : {}),
    ...(m.plasticity !== undefined
      ? { plasticity: { ...(fields(m.plasticity, `${path}.plasticity`, PLASTICITY_FIELDS, [], PLASTICITY_FIELDS_V2, version) as unknown as Plasticity) } }
      : {}),
  };
}

function tableFromCbor(body: CborValue, version: number): EventTable {
  const m = fields(body, "body", ["input", "layers", "readout", "provenance"]);
  const input = fields(m.input, "input", ["size", "encoding", "seed"], ["shape"], INPUT_FIELDS_V2, version);
  const layers = array(m.layers, "layers").map((l, i) => layerFromCbor(l, `layers[${i}]`, version));
  const readout = fields(m.readout, "readout", ["kind"]);
  const prov = fields(m.provenance, "provenance", ["source", "tool", "settings", "layerScales"]);
  if (!isCborMap(prov.settings)) fail("FORMAT_BAD_TYPE", `provenance.settings must be a map, got ${describe(prov.settings)}`);
  const settings = prov.settings;
  return {
    input: {
      size: input.size as number,
      encoding: input.encoding as InputDescription["encoding"],
      seed: input.seed as number,
      ...(input.shape !== undefined ? { shape: SHAPE3(input.shape, "input.shape") } : {}),
    },
    layers,
    readout: { kind: readout.kind as Readout["kind"] },
    provenance: {
      source: prov.source as string,
      tool: prov.tool as string,
      settings: { ...settings } as Provenance["settings"],
      layerScales: array(prov.layerScales, "provenance.layerScales") as number[],
    },
  };
}

// ---- files --------------------------------------------------------------------------------------

/** Canonical CBOR of the table body (what the hash covers). Validates first. */
export function encodeBody(table: EventTable): Uint8Array {
  validateTable(table, { anyColsWidth: true });
  return encodeCanonical(tableToCbor(table));
}

/**
 * Encodes a table into a `.cbor` file: the envelope {format, version, hash, body} around the
 * canonical body. Deterministic: the same table gives the same bytes. Throws PicospikeError when
 * the table breaks a rule of the spec (the same check decodeTable runs).
 */
export function encodeTable(table: EventTable): Uint8Array {
  const body = encodeBody(table);
  if (body.length > LIMITS.maxFileBytes - 64) fail("FORMAT_LIMIT_EXCEEDED", `the encoded table has ${body.length} bytes; the limit is ${LIMITS.maxFileBytes}`);
  return encodeCanonical({ format: FORMAT_NAME, version: FORMAT_VERSION, hash: new ByteString(sha256(body)), body: new ByteString(body) });
}

/** The envelope of a file: its checked body bytes, stored hash and format version. */
interface Envelope {
  readonly body: Uint8Array;
  readonly hash: Uint8Array;
  readonly version: number;
}

/** Reads and checks the envelope: size, well-formed canonical CBOR, name, version, hash. */
function openEnvelope(bytes: Uint8Array): Envelope {
  if (!(bytes instanceof Uint8Array)) fail("FORMAT_BAD_TYPE", "an event table must be given as bytes");
  if (bytes.length > LIMITS.maxFileBytes) fail("FORMAT_LIMIT_EXCEEDED", `the file has ${bytes.length} bytes; the limit is ${LIMITS.maxFileBytes}`);
  const top = decodeCanonical(bytes, { ...CBOR_LIMITS, maxDepth: 1 });
  if (!isCborMap(top) || typeof top.format !== "string")
    fail("FORMAT_NOT_EVENT_TABLE", "the file is CBOR but not an event table (no format name at the top level)");
  if (top.format !== FORMAT_NAME) fail("FORMAT_NOT_EVENT_TABLE", `format is '${top.format}', not '${FORMAT_NAME}'`);
  if (top.version === undefined) fail("FORMAT_MISSING_FIELD", "version is missing");
  if (!isInt(top.version)) fail("FORMAT_BAD_TYPE", "version must be an integer");
  if (!READABLE_FORMAT_VERSIONS.includes(top.version))
    fail("FORMAT_VERSION_UNSUPPORTED", `format version ${top.version}; this build reads versions ${READABLE_FORMAT_VERSIONS.join(" and ")}`);
  const env = fields(top, "file", ["format", "version", "hash", "body"]);
  if (!(env.hash instanceof ByteString) || env.hash.bytes.length !== SHA256_BYTES)
    fail("FORMAT_BAD_TYPE", `hash must be a byte string of ${SHA256_BYTES} bytes`);
  if (!(env.body instanceof ByteString)) fail("FORMAT_BAD_TYPE", "body must be a byte string");
  const body = env.body.bytes;
  const actual = sha256(body);
  if (!bytesEqual(actual, env.hash.bytes)) fail("FORMAT_HASH_MISMATCH", `stored hash ${toHex(env.hash.bytes)} but the body hashes to ${toHex(actual)}`);
  return { body, hash: env.hash.bytes, version: top.version };
}

/**
 * Decodes and validates a `.cbor` event table. Never trusts its input: every rule of
 * spec/table-format.md is checked, and every failure is a PicospikeError with a FORMAT_* code
 * (or SEMANTICS_SHAPE_MISMATCH for layers that do not chain). Typed arrays in the result are
 * fresh, aligned copies that share nothing with `bytes`.
 */
export function decodeTable(bytes: Uint8Array): EventTable {
  const { body, version } = openEnvelope(bytes);
  const table = tableFromCbor(decodeCanonical(body, CBOR_LIMITS), version);
  validateTable(table);
  // The decoder already refuses non-canonical CBOR; this also catches what only the schema fixes
  // (e.g. the column width of sparse connections).
  if (!bytesEqual(encodeCanonical(tableToCbor(table)), body)) fail("FORMAT_NON_CANONICAL", "the body is not the canonical encoding of the table it holds");
  return table;
}

/** Hex SHA-256 of a file's body after checking the envelope (format, version, hash). */
export function tableHash(bytes: Uint8Array): string {
  return toHex(openEnvelope(bytes).hash);
}

/** Hex SHA-256 of the canonical body of an in-memory table: the hash encodeTable would store. */
export function hashOfTable(table: EventTable): string {
  return toHex(sha256(encodeBody(table)));
}
