/**
 * The hand-written reference interpreter, kept as the test oracle of the generated kernels: runs an
 * EventTable step by step exactly as spec/ops.md defines it, written directly from the spec and
 * independently of the kernel IR (codegen/). runtime/interpreter.ts (generated kernels), the C
 * kernels and this file must agree bit for bit (runtime/interpreter.test.ts, test/conformance). Pure TS on typed arrays, integer arithmetic only on the step path (runtime/fixed.ts), no
 * allocation per step, and synaptic work proportional to the number of events (fan-out scatter).
 *
 * The constructor checks what the step path relies on (sizes, indices, parameter ranges), so a
 * table built in memory without runtime/format gets the same guarantees as a decoded one.
 */
import { fail } from "../errors.js";
import type { StepEvents } from "../events.js";
import { INT32_MAX, INT32_MIN, clampMin, currentDecay, int4At, leakShift, q15Mul, satAdd32, satSub32, synContrib } from "../fixed.js";
import { EPOCH_SHIFT_DEFAULT, type Connection, type EventTable, type Layer, type NeuronModel, type Shape3, type Weights } from "../model.js";
import { NEURON_MODEL_CODE, validateStepEvents } from "../interpreter.js";
import { readSnapshot, writeSnapshot } from "../snapshot.js";
import { checkPlasticity, learnedTableOf, queueReward, storedWeights16, type PlasticityState } from "../plasticity.js";
import { q15Mul as q15, sat16, traceDecay } from "../fixed.js";

const MAX_SHIFT = 23;

/** A connection prepared for the step path: folds presynaptic events into an accumulator. */
interface CompiledConnection {
  /**
   * Folds the contributions of events pre[0..n-1] (values, or all 1 when absent) into acc in the
   * order of spec/ops.md §3.3, and returns the number of synaptic updates done.
   */
  scatter(pre: Uint32Array, n: number, values: Uint8Array | undefined, acc: Int32Array): number;
}

/** Number of neurons of a channel-major shape. */
function shapeSize(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

function checkInt(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    fail("FORMAT_OUT_OF_RANGE", `${what} must be an integer in ${min}..${max}, got ${value}`);
  }
}

function checkShape(what: string, shape: Shape3): void {
  for (const d of shape) checkInt(`${what} dimension`, d, 1, 0x7fffffff);
}

/** Unpacks stored weights (int4 nibbles, int8, int16) to plain integers, checking their storage. */
function unpackWeights(weights: Weights, expectedCount: number, what: string): Int32Array {
  if (weights.count !== expectedCount) {
    fail("FORMAT_SIZE_MISMATCH", `${what}: ${weights.count} weights, the geometry needs ${expectedCount}`);
  }
  const raw = new Int32Array(expectedCount);
  if (weights.bits === 4) {
    if (!(weights.data instanceof Uint8Array) || weights.data.length !== Math.ceil(expectedCount / 2)) {
      fail("FORMAT_SIZE_MISMATCH", `${what}: int4 weights need ${Math.ceil(expectedCount / 2)} packed bytes`);
    }
    for (let q = 0; q < expectedCount; q++) raw[q] = int4At(weights.data, q);
  } else {
    const wanted = weights.bits === 8 ? Int8Array : Int16Array;
    if (!(weights.data instanceof wanted) || weights.data.length !== expectedCount) {
      fail("FORMAT_SIZE_MISMATCH", `${what}: expected ${expectedCount} int${weights.bits} weights`);
    }
    raw.set(weights.data);
  }
  return raw;
}

/**
 * How the post layer's neurons map to channels (spec/table-format.md §3.3): a layer with shape
 * [C, H, W] has C channels and neuron j is in channel floor(j / (H*W)); otherwise every neuron is
 * its own channel.
 */
interface PostChannels {
  readonly channels: number;
  /** Neurons per channel (H*W, or 1 without a shape). */
  readonly plane: number;
}

/** The shift of each output channel (length `channels`), from a per-layer or per-channel array. */
function shiftPerChannel(weights: Weights, channels: number, what: string): Uint8Array {
  const shift = weights.shift;
  if (shift.length !== 1 && shift.length !== channels) {
    fail("FORMAT_SIZE_MISMATCH", `${what}: shift needs 1 or ${channels} entries, has ${shift.length}`);
  }
  const out = new Uint8Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = shift.length === 1 ? shift[0]! : shift[c]!;
    checkInt(`${what} shift`, s, 0, MAX_SHIFT);
    out[c] = s;
  }
  return out;
}

/** The shift of each post neuron j: the shift of j's channel. */
function shiftPerPost(weights: Weights, outputs: number, post: PostChannels, what: string): Uint8Array {
  const perChannel = shiftPerChannel(weights, post.channels, what);
  const out = new Uint8Array(outputs);
  for (let j = 0; j < outputs; j++) out[j] = perChannel[Math.floor(j / post.plane)]!;
  return out;
}

/** Dense fan-out: pre p reaches every post j with weight index p * outputs + j. */
class DenseKernel implements CompiledConnection {
  private readonly outputs: number;
  /** Contribution of a spike (value 1) per synapse, precomputed: synContrib(w, 1, shift[j]). */
  private readonly spikeContrib: Int32Array;
  private readonly raw: Int32Array;
  private readonly shiftOfPost: Uint8Array;

  constructor(inputs: number, outputs: number, weights: Weights, post: PostChannels, what: string) {
    this.outputs = outputs;
    this.raw = unpackWeights(weights, inputs * outputs, what);
    this.shiftOfPost = shiftPerPost(weights, outputs, post, what);
    this.spikeContrib = new Int32Array(this.raw.length);
    for (let q = 0; q < this.raw.length; q++) this.spikeContrib[q] = synContrib(this.raw[q]!, 1, this.shiftOfPost[q % outputs]!);
  }

  scatter(pre: Uint32Array, n: number, values: Uint8Array | undefined, acc: Int32Array): number {
    const outputs = this.outputs;
    for (let e = 0; e < n; e++) {
      const base = pre[e]! * outputs;
      const value = values === undefined ? 1 : values[e]!;
      if (value === 1) {
        const row = this.spikeContrib;
        for (let j = 0; j < outputs; j++) acc[j] = satAdd32(acc[j]!, row[base + j]!);
      } else {
        const raw = this.raw;
        const shift = this.shiftOfPost;
        for (let j = 0; j < outputs; j++) acc[j] = satAdd32(acc[j]!, synContrib(raw[base + j]!, value, shift[j]!));
      }
    }
    return n * outputs;
  }
}

/** CSR fan-out: pre p reaches cols[k] with weight k for k in rowPtr[p]..rowPtr[p+1]-1. */
class SparseKernel implements CompiledConnection {
  private readonly rowPtr: Uint32Array;
  private readonly cols: Uint32Array;
  private readonly spikeContrib: Int32Array;
  private readonly raw: Int32Array;
  private readonly shiftOfSynapse: Uint8Array;

  constructor(inputs: number, outputs: number, rowPtr: Uint32Array, cols: Uint16Array | Uint32Array, weights: Weights, post: PostChannels, what: string) {
    if (rowPtr.length !== inputs + 1) fail("FORMAT_SIZE_MISMATCH", `${what}: rowPtr needs ${inputs + 1} entries`);
    if (rowPtr[0] !== 0) fail("FORMAT_OUT_OF_RANGE", `${what}: rowPtr[0] must be 0`);
    for (let p = 0; p < inputs; p++) {
      if (rowPtr[p + 1]! < rowPtr[p]!) fail("FORMAT_OUT_OF_RANGE", `${what}: rowPtr decreases at ${p}`);
    }
    const count = rowPtr[inputs]!;
    if (cols.length !== count) fail("FORMAT_SIZE_MISMATCH", `${what}: ${cols.length} cols for ${count} synapses`);
    for (let k = 0; k < count; k++) {
      if (cols[k]! >= outputs) fail("FORMAT_INDEX_OUT_OF_BOUNDS", `${what}: synapse ${k} targets ${cols[k]} >= ${outputs}`);
    }
    this.rowPtr = rowPtr;
    this.cols = Uint32Array.from(cols);
    this.raw = unpackWeights(weights, count, what);
    const shiftOfPost = shiftPerPost(weights, outputs, post, what);
    this.shiftOfSynapse = new Uint8Array(count);
    this.spikeContrib = new Int32Array(count);
    for (let k = 0; k < count; k++) {
      const s = shiftOfPost[this.cols[k]!]!;
      this.shiftOfSynapse[k] = s;
      this.spikeContrib[k] = synContrib(this.raw[k]!, 1, s);
    }
  }

  scatter(pre: Uint32Array, n: number, values: Uint8Array | undefined, acc: Int32Array): number {
    const { rowPtr, cols } = this;
    let updates = 0;
    for (let e = 0; e < n; e++) {
      const p = pre[e]!;
      const start = rowPtr[p]!;
      const end = rowPtr[p + 1]!;
      const value = values === undefined ? 1 : values[e]!;
      if (value === 1) {
        const contrib = this.spikeContrib;
        for (let k = start; k < end; k++) {
          const j = cols[k]!;
          acc[j] = satAdd32(acc[j]!, contrib[k]!);
        }
      } else {
        const { raw, shiftOfSynapse } = this;
        for (let k = start; k < end; k++) {
          const j = cols[k]!;
          acc[j] = satAdd32(acc[j]!, synContrib(raw[k]!, value, shiftOfSynapse[k]!));
        }
      }
      updates += end - start;
    }
    return updates;
  }
}

/**
 * For each input coordinate, the (kernel tap, output coordinate) pairs it reaches along one axis:
 * tap t and output o with in + pad - t = o * stride, 0 <= o < outLen (spec/ops.md §5.4/5.5).
 * `start[y]..start[y+1]-1` index `tap` and `out`.
 */
interface AxisTaps {
  readonly start: Uint32Array;
  readonly tap: Uint32Array;
  readonly out: Uint32Array;
}

function axisTaps(inLen: number, outLen: number, kernel: number, stride: number, pad: number): AxisTaps {
  const start = new Uint32Array(inLen + 1);
  const taps: number[] = [];
  const outs: number[] = [];
  for (let y = 0; y < inLen; y++) {
    start[y] = taps.length;
    for (let t = 0; t < kernel; t++) {
      const offset = y + pad - t;
      if (offset < 0) break; // larger taps only make it more negative
      if (offset % stride !== 0) continue;
      const o = offset / stride;
      if (o < outLen) {
        taps.push(t);
        outs.push(o);
      }
    }
  }
  start[inLen] = taps.length;
  return { start, tap: Uint32Array.from(taps), out: Uint32Array.from(outs) };
}

/** Conv2d by event-driven scatter: an input event at (c, y, x) reaches (k, oy, ox) for every valid tap. */
class Conv2dKernel implements CompiledConnection {
  private readonly inH: number;
  private readonly inW: number;
  private readonly channelsIn: number;
  private readonly channelsOut: number;
  private readonly outH: number;
  private readonly outW: number;
  private readonly kh: number;
  private readonly kw: number;
  private readonly rows: AxisTaps;
  private readonly colsTaps: AxisTaps;
  private readonly spikeContrib: Int32Array;
  private readonly raw: Int32Array;
  private readonly shiftOfK: Uint8Array;

  constructor(c: Extract<Connection, { kind: "conv2d" }>, what: string) {
    checkShape(`${what} inShape`, c.inShape);
    checkShape(`${what} outShape`, c.outShape);
    const [channelsIn, inH, inW] = c.inShape;
    const [channelsOut, outH, outW] = c.outShape;
    const [kh, kw] = c.kernel;
    const [sy, sx] = c.stride;
    const [py, px] = c.padding;
    checkInt(`${what} kernel height`, kh, 1, 0xffff);
    checkInt(`${what} kernel width`, kw, 1, 0xffff);
    checkInt(`${what} stride y`, sy, 1, 0xffff);
    checkInt(`${what} stride x`, sx, 1, 0xffff);
    checkInt(`${what} padding y`, py, 0, 0xffff);
    checkInt(`${what} padding x`, px, 0, 0xffff);
    this.inH = inH;
    this.inW = inW;
    this.channelsIn = channelsIn;
    this.channelsOut = channelsOut;
    this.outH = outH;
    this.outW = outW;
    this.kh = kh;
    this.kw = kw;
    this.rows = axisTaps(inH, outH, kh, sy, py);
    this.colsTaps = axisTaps(inW, outW, kw, sx, px);
    this.raw = unpackWeights(c.weights, channelsOut * channelsIn * kh * kw, what);
    this.shiftOfK = shiftPerChannel(c.weights, channelsOut, what);
    this.spikeContrib = new Int32Array(this.raw.length);
    const perK = channelsIn * kh * kw;
    for (let q = 0; q < this.raw.length; q++) this.spikeContrib[q] = synContrib(this.raw[q]!, 1, this.shiftOfK[Math.floor(q / perK)]!);
  }

  scatter(pre: Uint32Array, n: number, values: Uint8Array | undefined, acc: Int32Array): number {
    const { inH, inW, channelsIn, channelsOut, outH, outW, kh, kw, rows, colsTaps, raw, shiftOfK } = this;
    const planeIn = inH * inW;
    let updates = 0;
    for (let e = 0; e < n; e++) {
      const p = pre[e]!;
      const c = Math.floor(p / planeIn);
      const rem = p - c * planeIn;
      const y = Math.floor(rem / inW);
      const x = rem - y * inW;
      const value = values === undefined ? 1 : values[e]!;
      const r0 = rows.start[y]!;
      const r1 = rows.start[y + 1]!;
      const c0 = colsTaps.start[x]!;
      const c1 = colsTaps.start[x + 1]!;
      for (let k = 0; k < channelsOut; k++) {
        const wBase = (k * channelsIn + c) * kh;
        const outBase = k * outH;
        for (let ri = r0; ri < r1; ri++) {
          const wRow = (wBase + rows.tap[ri]!) * kw;
          const outRow = (outBase + rows.out[ri]!) * outW;
          if (value === 1) {
            const spikeContrib = this.spikeContrib;
            for (let ci = c0; ci < c1; ci++) {
              const j = outRow + colsTaps.out[ci]!;
              acc[j] = satAdd32(acc[j]!, spikeContrib[wRow + colsTaps.tap[ci]!]!);
            }
          } else {
            const shift = shiftOfK[k]!;
            for (let ci = c0; ci < c1; ci++) {
              const j = outRow + colsTaps.out[ci]!;
              acc[j] = satAdd32(acc[j]!, synContrib(raw[wRow + colsTaps.tap[ci]!]!, value, shift));
            }
          }
        }
      }
      updates += channelsOut * (r1 - r0) * (c1 - c0);
    }
    return updates;
  }
}

/** Sum pooling by scatter: an input event at (c, y, x) reaches every window (c, oy, ox) containing it. */
class PoolKernel implements CompiledConnection {
  private readonly inH: number;
  private readonly inW: number;
  private readonly outH: number;
  private readonly outW: number;
  private readonly rows: AxisTaps;
  private readonly colsTaps: AxisTaps;
  private readonly weight: number;
  private readonly shift: number;
  private readonly spikeContrib: number;

  constructor(c: Extract<Connection, { kind: "pool" }>, what: string) {
    checkShape(`${what} inShape`, c.inShape);
    checkShape(`${what} outShape`, c.outShape);
    if (c.inShape[0] !== c.outShape[0]) fail("SEMANTICS_SHAPE_MISMATCH", `${what}: pooling keeps channels, ${c.inShape[0]} in vs ${c.outShape[0]} out`);
    checkInt(`${what} kernel height`, c.kernel[0], 1, 0xffff);
    checkInt(`${what} kernel width`, c.kernel[1], 1, 0xffff);
    checkInt(`${what} stride y`, c.stride[0], 1, 0xffff);
    checkInt(`${what} stride x`, c.stride[1], 1, 0xffff);
    checkInt(`${what} weight`, c.weight, -32768, 32767);
    checkInt(`${what} shift`, c.shift, 0, MAX_SHIFT);
    this.inH = c.inShape[1];
    this.inW = c.inShape[2];
    this.outH = c.outShape[1];
    this.outW = c.outShape[2];
    this.rows = axisTaps(this.inH, this.outH, c.kernel[0], c.stride[0], 0);
    this.colsTaps = axisTaps(this.inW, this.outW, c.kernel[1], c.stride[1], 0);
    this.weight = c.weight;
    this.shift = c.shift;
    this.spikeContrib = synContrib(c.weight, 1, c.shift);
  }

  scatter(pre: Uint32Array, n: number, values: Uint8Array | undefined, acc: Int32Array): number {
    const { inH, inW, outH, outW, rows, colsTaps } = this;
    const planeIn = inH * inW;
    let updates = 0;
    for (let e = 0; e < n; e++) {
      const p = pre[e]!;
      const c = Math.floor(p / planeIn);
      const rem = p - c * planeIn;
      const y = Math.floor(rem / inW);
      const x = rem - y * inW;
      const value = values === undefined ? 1 : values[e]!;
      const contrib = value === 1 ? this.spikeContrib : synContrib(this.weight, value, this.shift);
      const r0 = rows.start[y]!;
      const r1 = rows.start[y + 1]!;
      const c0 = colsTaps.start[x]!;
      const c1 = colsTaps.start[x + 1]!;
      for (let ri = r0; ri < r1; ri++) {
        const outRow = (c * outH + rows.out[ri]!) * outW;
        for (let ci = c0; ci < c1; ci++) {
          const j = outRow + colsTaps.out[ci]!;
          acc[j] = satAdd32(acc[j]!, contrib);
        }
      }
      updates += (r1 - r0) * (c1 - c0);
    }
    return updates;
  }
}

/** Input and output sizes a connection declares. */
function connectionSizes(c: Connection): [inputs: number, outputs: number] {
  switch (c.kind) {
    case "dense":
    case "sparse":
      return [c.inputs, c.outputs];
    case "conv2d":
    case "pool":
      return [shapeSize(c.inShape), shapeSize(c.outShape)];
    default:
      return fail("FORMAT_UNKNOWN_KIND", `unknown connection kind '${(c as { kind: string }).kind}'`);
  }
}

/** Prepares a connection for the step path after checking it joins `inputs` neurons to `outputs`. */
function compileConnection(c: Connection, inputs: number, outputs: number, post: PostChannels, what: string): CompiledConnection {
  const [declaredIn, declaredOut] = connectionSizes(c);
  if (declaredIn !== inputs || declaredOut !== outputs) {
    fail("SEMANTICS_SHAPE_MISMATCH", `${what}: connects ${declaredIn} → ${declaredOut}, the model needs ${inputs} → ${outputs}`);
  }
  switch (c.kind) {
    case "dense":
      return new DenseKernel(inputs, outputs, c.weights, post, what);
    case "sparse":
      return new SparseKernel(inputs, outputs, c.rowPtr, c.cols, c.weights, post, what);
    case "conv2d":
      return new Conv2dKernel(c, what);
    case "pool":
      return new PoolKernel(c, what);
  }
}

/** All state and hoisted constants of one layer. */
interface LayerRuntime {
  readonly size: number;
  readonly model: number;
  readonly threshold: number;
  readonly resetSubtract: boolean;
  readonly resetValue: number;
  readonly leakShift: number;
  readonly leakQ15: number;
  readonly currentShift: number;
  readonly refractory: number;
  readonly vMin: number;
  /** Version-2 rules (spec/ops.md §4.9), expanded per neuron. */
  readonly compareGt: boolean;
  readonly resetDelay: boolean;
  readonly multiSpike: boolean;
  /** Spikes per event of this step (multi-spike layers), beside `spikes`. */
  readonly spikeValues: Uint8Array;
  readonly vInit: number;
  readonly q15Cuba: boolean;
  /** Membrane retention per neuron (Q15) for lif-q15, Q15 cuba and a leaking integrator; undefined otherwise. */
  readonly leaks: Int32Array | undefined;
  /** Current retention per neuron (Q15 cuba). */
  readonly currents: Int32Array;
  /** Bias per neuron (per-channel biases expanded; zeros when the layer has none). */
  readonly bias: Int32Array;
  readonly feedForward: CompiledConnection;
  readonly plastic: ReferencePlastic | undefined;
  readonly recurrent: CompiledConnection | undefined;
  readonly v: Int32Array;
  /** Synaptic current (cuba), length size; length 0 for other models. */
  readonly current: Int32Array;
  readonly refractoryLeft: Uint8Array;
  readonly counts: Uint32Array;
  readonly acc: Int32Array;
  /** Double-buffered spike lists: `spikes` holds this step's, `previousSpikes` the last step's. */
  spikes: Uint32Array;
  spikeCount: number;
  previousSpikes: Uint32Array;
  previousSpikeCount: number;
}

const LIF_SHIFT = NEURON_MODEL_CODE["lif-shift"];
const LIF_Q15 = NEURON_MODEL_CODE["lif-q15"];
const CUBA = NEURON_MODEL_CODE.cuba;
const INTEGRATOR = NEURON_MODEL_CODE.integrator;

function buildLayer(layer: Layer, index: number, inputs: number): LayerRuntime {
  const what = `layer ${index} '${layer.name}'`;
  const size = layer.size;
  checkInt(`${what} size`, size, 1, 0x7fffffff);
  if (layer.shape !== undefined) {
    checkShape(`${what} shape`, layer.shape);
    if (shapeSize(layer.shape) !== size) fail("SEMANTICS_SHAPE_MISMATCH", `${what}: shape ${layer.shape.join("x")} is not ${size} neurons`);
  }
  const p = layer.neuron;
  const model = NEURON_MODEL_CODE[p.model];
  if (model === undefined) fail("FORMAT_UNKNOWN_KIND", `${what}: unknown neuron model '${p.model}'`);
  checkInt(`${what} threshold`, p.threshold, 1, INT32_MAX);
  checkInt(`${what} resetValue`, p.resetValue, INT32_MIN, INT32_MAX);
  checkInt(`${what} leakShift`, p.leakShift, 0, 31);
  checkInt(`${what} leakQ15`, p.leakQ15, 0, 32767);
  checkInt(`${what} currentShift`, p.currentShift, 0, 31);
  checkInt(`${what} refractory`, p.refractory, 0, 255);
  checkInt(`${what} vMin`, p.vMin, INT32_MIN, INT32_MAX);
  if (p.reset !== "subtract" && p.reset !== "value") fail("FORMAT_UNKNOWN_KIND", `${what}: unknown reset '${p.reset}'`);

  const post: PostChannels = layer.shape === undefined ? { channels: size, plane: 1 } : { channels: layer.shape[0], plane: layer.shape[1] * layer.shape[2] };
  const bias = new Int32Array(size);
  if (layer.bias !== undefined) {
    const b = layer.bias;
    if (b.length === size) bias.set(b);
    else if (layer.shape !== undefined && b.length === layer.shape[0]) {
      const plane = layer.shape[1] * layer.shape[2];
      for (let j = 0; j < size; j++) bias[j] = b[Math.floor(j / plane)]!;
    } else fail("FORMAT_SIZE_MISMATCH", `${what}: bias has ${b.length} entries, needs ${size} or one per channel`);
  }

  const storedFeedForward = compileConnection(layer.input, inputs, size, post, `${what} input`);
  const plastic = layer.plasticity === undefined ? undefined : new ReferencePlastic(layer, inputs, post, what);
  return {
    size,
    model,
    threshold: p.threshold,
    resetSubtract: p.reset === "subtract",
    resetValue: p.resetValue,
    leakShift: p.leakShift,
    leakQ15: p.leakQ15,
    currentShift: p.currentShift,
    refractory: p.refractory,
    vMin: p.vMin,
    compareGt: p.compare === "gt",
    resetDelay: p.resetDelay === true,
    multiSpike: p.multiSpike === true,
    spikeValues: new Uint8Array(size),
    vInit: p.vInit ?? 0,
    q15Cuba: model === CUBA && p.synapse === "q15",
    leaks:
      p.leakQ15s !== undefined
        ? Int32Array.from(p.leakQ15s)
        : model === LIF_Q15 || (model === CUBA && p.synapse === "q15")
          ? new Int32Array(size).fill(p.leakQ15)
          : undefined,
    currents: p.currentQ15s !== undefined ? Int32Array.from(p.currentQ15s) : new Int32Array(size).fill(p.currentQ15 ?? 0),
    bias,
    feedForward: plastic ?? storedFeedForward,
    plastic,
    recurrent: layer.recurrent === undefined ? undefined : compileConnection(layer.recurrent, size, size, post, `${what} recurrent`),
    v: new Int32Array(size).fill(p.vInit ?? 0),
    current: new Int32Array(model === CUBA ? size : 0),
    refractoryLeft: new Uint8Array(size),
    counts: new Uint32Array(size),
    acc: new Int32Array(size),
    spikes: new Uint32Array(size),
    spikeCount: 0,
    previousSpikes: new Uint32Array(size),
    previousSpikeCount: 0,
  };
}

/**
 * Updates every neuron of a layer from its accumulated input (spec/ops.md §4.1), writing the
 * neurons that spike, ascending, into layer.spikes.
 */
function updateNeurons(L: LayerRuntime): void {
  const { size, model, threshold, resetSubtract, resetValue, leakShift: ls, leakQ15, currentShift, refractory, vMin } = L;
  const { v, current, refractoryLeft, counts, acc, bias, spikes, leaks, currents, q15Cuba, compareGt, resetDelay } = L;
  // §4.9: the delayed subtraction is for the spikes of the previous step, read from that step's spike list
  const spikedLast = new Uint8Array(size);
  if (resetDelay) for (let k = 0; k < L.previousSpikeCount; k++) spikedLast[L.previousSpikes[k]!] = 1;
  const passes = (x: number): boolean => (compareGt ? x > threshold : x >= threshold);
  let fired = 0;
  for (let j = 0; j < size; j++) {
    let input = acc[j]!;
    let b = bias[j]!;
    if (q15Cuba) {
      // §4.9 step 1: the Q15 current takes the bias
      input = satAdd32(satAdd32(q15Mul(current[j]!, currents[j]!), b), input);
      current[j] = input;
      b = 0;
    } else if (model === CUBA) {
      // §4.4: the current evolves even while the membrane is refractory.
      input = satAdd32(currentDecay(current[j]!, currentShift), input);
      current[j] = input;
    }
    let x = v[j]!;
    if (model === INTEGRATOR) {
      if (leaks !== undefined) x = q15Mul(x, leaks[j]!);
      v[j] = clampMin(satAdd32(satAdd32(x, b), input), vMin);
      continue;
    }
    // leak
    if (leaks !== undefined) x = q15Mul(x, leaks[j]!);
    else if (model === LIF_SHIFT || model === CUBA) x = leakShift(x, ls);
    else if (model === LIF_Q15) x = q15Mul(x, leakQ15);
    const left = refractoryLeft[j]!;
    if (left > 0) {
      // refractory: leak and clamp only; bias and input are discarded (§4.1 step 2)
      refractoryLeft[j] = left - 1;
      v[j] = clampMin(x, vMin);
      continue;
    }
    x = satAdd32(satAdd32(x, b), input);
    if (spikedLast[j] === 1) x = satSub32(x, threshold);
    if (passes(x)) {
      // §4.9 multi-spike: as many whole thresholds as v holds, at most 255, as one event of that value
      let n = 1;
      if (L.multiSpike) {
        n = Math.min(255, Math.floor(x / threshold));
        x -= n * threshold;
      } else if (!resetDelay) x = resetSubtract ? x - threshold : resetValue;
      L.spikeValues[fired] = n;
      spikes[fired++] = j;
      counts[j] = Math.min(0xffffffff, counts[j]! + n);
      refractoryLeft[j] = refractory;
    }
    v[j] = clampMin(x, vMin);
  }
  L.spikeCount = fired;
}

/** §11.5's binary decay schedule of shift k, as the spec defines it: f0 = 2^15 − 2^(15−k), each next the square of the last in Q15, floored. */
function schedule(k: number): number[] {
  const f = [32768 - 2 ** (15 - k)];
  for (let i = 1; i < 16; i++) f.push(Math.floor((f[i - 1]! * f[i - 1]!) / 32768));
  return f;
}

/** x decayed over `steps` steps by the schedule `f` (§11.5): each set bit of steps, lowest first, scales |x| by f[bit] / 2^15, rounding |x| down. */
function decayed(x: number, steps: number, f: readonly number[]): number {
  if (steps >= 65536) return 0;
  let m = Math.abs(x);
  for (let bit = 0; bit < 16; bit++) if (Math.floor(steps / 2 ** bit) % 2 === 1) m = Math.floor((m * f[bit]!) / 32768);
  return x < 0 ? -m : m;
}

/**
 * Hand-written learning state of one plastic layer (spec/ops.md §11), with its own loops: a
 * synapse list (pre, post, shift) built from the connection and the rule written as the spec reads.
 */
class ReferencePlastic implements CompiledConnection, PlasticityState {
  readonly weights: Int16Array;
  readonly preTrace: Int16Array;
  readonly postTrace: Int16Array;
  readonly eligibility: Int16Array;
  readonly baseline = new Int32Array(1);
  /** Event timing: the step of each pre / post neuron's last event (empty for step timing). */
  readonly preStamp: Uint32Array;
  readonly postStamp: Uint32Array;
  /** Triplet rule: the slow post trace y2 (value at its neuron's last spike) and its stamps. */
  readonly slowTrace: Int16Array;
  readonly slowStamp: Uint32Array;
  /** Epoch timing (§11.7): the epoch's markers and reward sum. */
  readonly preMark: Uint8Array;
  readonly postMark: Uint8Array;
  readonly rewardSum: Int32Array;
  /** Epoch timing: steps per epoch (0 for the other timings). */
  private readonly epoch: number;
  /** Event timing: steps since each synapse was last touched, counted up every step (the per-step definition of §11.5). */
  private readonly synAge: Float64Array;
  private readonly event: boolean;
  private readonly decays: { pre: number[]; post: number[]; elig: number[]; slow: number[] };
  private readonly stored: Int16Array;
  private readonly rule: "stdp" | "rstdp" | "triplet";
  readonly params: NonNullable<Layer["plasticity"]>;
  /** Synapses of pre p: rowStart[p] .. rowStart[p+1]-1; their post neurons and shifts. */
  private readonly rowStart: Uint32Array;
  private readonly synPost: Uint32Array;
  private readonly synPre: Uint32Array;
  private readonly synShift: Uint8Array;
  private readonly postFired: Uint8Array;

  constructor(layer: Layer, inputs: number, post: PostChannels, what: string) {
    const c = layer.input;
    const p = layer.plasticity!;
    if (c.kind !== "dense" && c.kind !== "sparse") fail("FORMAT_OUT_OF_RANGE", `${what}: plasticity needs a dense or sparse input`);
    if (layer.neuron.model === "integrator") fail("FORMAT_OUT_OF_RANGE", `${what}: an integrator layer cannot be plastic`);
    checkPlasticity(p, c.weights, what);
    this.params = p;
    this.rule = p.rule;
    const outputs = c.outputs;
    this.rowStart = c.kind === "dense" ? Uint32Array.from({ length: inputs + 1 }, (_, i) => i * outputs) : Uint32Array.from(c.rowPtr);
    const count = this.rowStart[inputs]!;
    this.synPost = new Uint32Array(count);
    this.synPre = new Uint32Array(count);
    for (let pre = 0; pre < inputs; pre++) {
      for (let q = this.rowStart[pre]!; q < this.rowStart[pre + 1]!; q++) {
        this.synPre[q] = pre;
        this.synPost[q] = c.kind === "dense" ? q - pre * outputs : c.cols[q]!;
      }
    }
    const shifts = shiftPerPost(c.weights, outputs, post, what);
    this.synShift = Uint8Array.from(this.synPost, (j) => shifts[j]!);
    this.stored = storedWeights16(c.weights);
    for (const w of this.stored) if (w < p.wMin || w > p.wMax) fail("FORMAT_OUT_OF_RANGE", `${what}: a stored weight lies outside the plasticity clamp`);
    this.weights = Int16Array.from(this.stored);
    this.preTrace = new Int16Array(inputs);
    this.postTrace = new Int16Array(layer.size);
    this.eligibility = new Int16Array(p.rule === "rstdp" ? count : 0);
    this.postFired = new Uint8Array(layer.size);
    this.event = p.timing === "event";
    this.preStamp = new Uint32Array(this.event ? inputs : 0);
    this.postStamp = new Uint32Array(this.event ? layer.size : 0);
    this.synAge = new Float64Array(this.event ? count : 0);
    this.decays = { pre: schedule(p.preTraceShift), post: schedule(p.postTraceShift), elig: schedule(p.eligibilityShift), slow: schedule(p.tripletShift ?? 1) };
    this.slowTrace = new Int16Array(p.rule === "triplet" ? layer.size : 0);
    this.slowStamp = new Uint32Array(p.rule === "triplet" ? layer.size : 0);
    this.epoch = p.timing === "epoch" ? 2 ** (p.epochShift ?? EPOCH_SHIFT_DEFAULT) : 0;
    if (this.epoch > 0 && c.kind !== "dense") fail("FORMAT_OUT_OF_RANGE", `${what}: epoch timing applies to dense input connections`);
    this.preMark = new Uint8Array(this.epoch > 0 ? inputs : 0);
    this.postMark = new Uint8Array(this.epoch > 0 ? layer.size : 0);
    this.rewardSum = new Int32Array(this.epoch > 0 ? 1 : 0);
  }

  scatter(pre: Uint32Array, n: number, values: Uint8Array | undefined, acc: Int32Array): number {
    let updates = 0;
    for (let e = 0; e < n; e++) {
      const value = values === undefined ? 1 : values[e]!;
      const p = pre[e]!;
      for (let q = this.rowStart[p]!; q < this.rowStart[p + 1]!; q++) {
        const j = this.synPost[q]!;
        acc[j] = satAdd32(acc[j]!, synContrib(this.weights[q]!, value, this.synShift[q]!));
        updates++;
      }
    }
    return updates;
  }

  /** Changes synapse q by +amount or -amount (§11.2): weight at once (stdp) or eligibility (rstdp). */
  private pair(q: number, amount: number, sign: 1 | -1): void {
    if (this.rule !== "rstdp") {
      const w = this.weights[q]! + sign * Math.floor(amount / 2 ** this.params.learningShift);
      this.weights[q] = Math.min(Math.max(w, this.params.wMin), this.params.wMax);
    } else this.eligibility[q] = sat16(this.eligibility[q]! + sign * amount);
  }

  learn(pre: Uint32Array, n: number, fired: Uint32Array, nFired: number, now: number): void {
    if (this.epoch > 0) {
      this.learnEpoch(pre, n, fired, nFired, now);
      return;
    }
    if (this.event) {
      this.learnEvent(pre, n, fired, nFired, now);
      return;
    }
    const p = this.params;
    for (let i = 0; i < this.preTrace.length; i++) this.preTrace[i] = traceDecay(this.preTrace[i]!, p.preTraceShift);
    for (let j = 0; j < this.postTrace.length; j++) this.postTrace[j] = traceDecay(this.postTrace[j]!, p.postTraceShift);
    for (let q = 0; q < this.eligibility.length; q++) this.eligibility[q] = traceDecay(this.eligibility[q]!, p.eligibilityShift);
    for (let e = 0; e < n; e++) {
      const i = pre[e]!;
      for (let q = this.rowStart[i]!; q < this.rowStart[i + 1]!; q++) this.pair(q, q15(this.postTrace[this.synPost[q]!]!, p.aMinus), -1);
    }
    for (let e = 0; e < n; e++) this.preTrace[pre[e]!] = sat16(this.preTrace[pre[e]!]! + p.traceIncrement);
    for (let s = 0; s < nFired; s++) {
      this.postTrace[fired[s]!] = sat16(this.postTrace[fired[s]!]! + p.traceIncrement);
      this.postFired[fired[s]!] = 1;
    }
    if (nFired > 0) {
      for (let q = 0; q < this.synPost.length; q++) {
        if (this.postFired[this.synPost[q]!] === 1) this.pair(q, q15(this.preTrace[this.synPre[q]!]!, p.aPlus), 1);
      }
      this.postFired.fill(0);
    }
  }

  /**
   * §11.5 as written: a trace is its value at its neuron's last event decayed by the steps since;
   * a synapse's eligibility its value at its last touch (a pre or post spike of the synapse)
   * decayed by the steps since, which every synapse counts for itself, step by step.
   */
  private learnEvent(pre: Uint32Array, n: number, fired: Uint32Array, nFired: number, now: number): void {
    const p = this.params;
    const since = (stamp: number): number => now - stamp;
    const postNow = Array.from(this.postTrace, (y, j) => decayed(y, since(this.postStamp[j]!), this.decays.post));
    for (let e = 0; e < n; e++) {
      const i = pre[e]!;
      for (let q = this.rowStart[i]!; q < this.rowStart[i + 1]!; q++) this.touch(q, q15(postNow[this.synPost[q]!]!, p.aMinus), -1);
    }
    for (let e = 0; e < n; e++) {
      const i = pre[e]!;
      this.preTrace[i] = sat16(decayed(this.preTrace[i]!, since(this.preStamp[i]!), this.decays.pre) + p.traceIncrement);
      this.preStamp[i] = now;
    }
    if (nFired > 0) {
      for (let s = 0; s < nFired; s++) this.postFired[fired[s]!] = 1;
      const preNow = Array.from(this.preTrace, (x, i) => decayed(x, since(this.preStamp[i]!), this.decays.pre));
      // §11.6: a triplet post spike potentiates with A2+ plus A3+ times its slow trace just before it jumps
      const gain = Array.from(this.postFired, (_, j) =>
        this.rule !== "triplet" ? p.aPlus : Math.min(32767, p.aPlus + q15(decayed(this.slowTrace[j]!, since(this.slowStamp[j]!), this.decays.slow), p.a3Plus!)),
      );
      for (let q = 0; q < this.synPost.length; q++) {
        const j = this.synPost[q]!;
        if (this.postFired[j] === 1) this.touch(q, q15(preNow[this.synPre[q]!]!, gain[j]!), 1);
      }
      this.postFired.fill(0);
      for (let s = 0; s < nFired; s++) {
        const j = fired[s]!;
        this.postTrace[j] = sat16(decayed(this.postTrace[j]!, since(this.postStamp[j]!), this.decays.post) + p.traceIncrement);
        this.postStamp[j] = now;
        if (this.rule === "triplet") {
          this.slowTrace[j] = sat16(decayed(this.slowTrace[j]!, since(this.slowStamp[j]!), this.decays.slow) + p.traceIncrement);
          this.slowStamp[j] = now;
        }
      }
    }
    for (let q = 0; q < this.synAge.length; q++) this.synAge[q]! += 1;
  }

  /**
   * §11.7 as written: every step marks its pre events and post spikes; the epoch's last step runs
   * §11.2's five steps once with the marked neurons as P and S, each synapse's eligibility taking
   * its decay, depression and potentiation under one sat16, and then the epoch's summed reward.
   */
  private learnEpoch(pre: Uint32Array, n: number, fired: Uint32Array, nFired: number, now: number): void {
    for (let e = 0; e < n; e++) this.preMark[pre[e]!] = 1;
    for (let s = 0; s < nFired; s++) this.postMark[fired[s]!] = 1;
    if (now % this.epoch !== this.epoch - 1) return;
    const p = this.params;
    for (let i = 0; i < this.preTrace.length; i++) this.preTrace[i] = traceDecay(this.preTrace[i]!, p.preTraceShift);
    for (let j = 0; j < this.postTrace.length; j++) this.postTrace[j] = traceDecay(this.postTrace[j]!, p.postTraceShift);
    // depression reads y decayed, before the post increments; potentiation x after the pre increments
    const depression = Array.from(this.synPost, (j, q) => (this.preMark[this.synPre[q]!] === 1 ? q15(this.postTrace[j]!, p.aMinus) : 0));
    for (let i = 0; i < this.preTrace.length; i++) if (this.preMark[i] === 1) this.preTrace[i] = sat16(this.preTrace[i]! + p.traceIncrement);
    for (let j = 0; j < this.postTrace.length; j++) if (this.postMark[j] === 1) this.postTrace[j] = sat16(this.postTrace[j]! + p.traceIncrement);
    const potentiation = Array.from(this.synPost, (j, q) => (this.postMark[j] === 1 ? q15(this.preTrace[this.synPre[q]!]!, p.aPlus) : 0));
    const r = this.rewardSum[0] ?? 0;
    const b = this.baseline[0]!;
    const m = sat16(r - b);
    for (let q = 0; q < this.synPost.length; q++) {
      if (this.rule === "rstdp") {
        this.eligibility[q] = sat16(traceDecay(this.eligibility[q]!, p.eligibilityShift) - depression[q]! + potentiation[q]!);
        if (r !== 0) {
          const w = this.weights[q]! + Math.floor((m * this.eligibility[q]!) / 2 ** p.learningShift);
          this.weights[q] = Math.min(Math.max(w, p.wMin), p.wMax);
        }
      } else {
        const scale = 2 ** p.learningShift;
        const w = this.weights[q]! - Math.floor(depression[q]! / scale) + Math.floor(potentiation[q]! / scale);
        this.weights[q] = Math.min(Math.max(w, p.wMin), p.wMax);
      }
    }
    if (r !== 0 && p.baselineShift > 0) this.baseline[0] = b + Math.floor((r - b) / 2 ** p.baselineShift);
    this.preMark.fill(0);
    this.postMark.fill(0);
    this.rewardSum.fill(0);
  }

  /** An event-timed pairing of synapse q: stdp as §11.2; rstdp decays its eligibility over its age first, and restarts the age. */
  private touch(q: number, amount: number, sign: 1 | -1): void {
    if (this.rule === "rstdp") {
      this.eligibility[q] = sat16(decayed(this.eligibility[q]!, this.synAge[q]!, this.decays.elig) + sign * amount);
      this.synAge[q] = 0;
    } else this.pair(q, amount, sign);
  }

  reward(r: number): void {
    if (this.rule !== "rstdp") return;
    if (this.epoch > 0) {
      // §11.7: the epoch's rewards add up (sat16 after each step's) and act at its end
      this.rewardSum[0] = sat16(this.rewardSum[0]! + r);
      return;
    }
    const p = this.params;
    const b = this.baseline[0]!;
    const m = sat16(r - b);
    for (let q = 0; q < this.weights.length; q++) {
      // event timing: the eligibility at the end of the previous step (each synapse's age was counted up after it)
      const e = this.event ? (this.synAge[q]! === 0 ? 0 : decayed(this.eligibility[q]!, this.synAge[q]! - 1, this.decays.elig)) : this.eligibility[q]!;
      const w = this.weights[q]! + Math.floor((m * e) / 2 ** p.learningShift);
      this.weights[q] = Math.min(Math.max(w, p.wMin), p.wMax);
    }
    if (p.baselineShift > 0) this.baseline[0] = b + Math.floor((r - b) / 2 ** p.baselineShift);
  }

  reset(): void {
    this.preTrace.fill(0);
    this.postTrace.fill(0);
    this.eligibility.fill(0);
    this.baseline[0] = 0;
    this.preStamp.fill(0);
    this.postStamp.fill(0);
    this.slowTrace.fill(0);
    this.slowStamp.fill(0);
    this.synAge.fill(0);
    this.preMark.fill(0);
    this.postMark.fill(0);
    this.rewardSum.fill(0);
  }

  /** After a snapshot restore at step `now`: each synapse's age from its neurons' restored stamps. */
  restoredAt(now: number): void {
    for (let q = 0; q < this.synAge.length; q++) {
      this.synAge[q] = Math.min(now - this.preStamp[this.synPre[q]!]!, now - this.postStamp[this.synPost[q]!]!);
    }
  }

  resetWeights(): void {
    this.weights.set(this.stored);
  }
}

/** The hand-written reference interpreter of one event table (spec/ops.md); same public API as Interpreter. */
export class ReferenceInterpreter {
  /** The table this interpreter runs. */
  readonly table: EventTable;
  /** Synaptic updates (contributions folded into an accumulator) since construction; for benchmarks. Not part of the state. */
  synapticEvents = 0;
  private readonly layers: LayerRuntime[];
  private steps = 0;
  private readonly pendingRewards = new Map<number, number>();

  /** Prepares the table for stepping; throws a PicospikeError if it is inconsistent. State starts reset. */
  constructor(table: EventTable) {
    this.table = table;
    checkInt("input size", table.input.size, 1, 0x7fffffff);
    if (table.layers.length === 0) fail("SEMANTICS_SHAPE_MISMATCH", "the model has no layers");
    if (table.readout.kind !== "count" && table.readout.kind !== "membrane") {
      fail("FORMAT_UNKNOWN_KIND", `unknown readout '${table.readout.kind as string}'`);
    }
    const layers: LayerRuntime[] = [];
    let inputs = table.input.size;
    table.layers.forEach((layer, l) => {
      layers.push(buildLayer(layer, l, inputs));
      inputs = layer.size;
    });
    this.layers = layers;
  }

  /** Steps since the last reset. */
  get t(): number {
    return this.steps;
  }

  /** Number of layers. */
  get layerCount(): number {
    return this.layers.length;
  }

  /** Sets all state to its initial value (spec/ops.md §10): membranes, currents, counters, counts 0; no spikes; t = 0. */
  reset(): void {
    for (const L of this.layers) {
      L.v.fill(L.vInit);
      L.current.fill(0);
      L.refractoryLeft.fill(0);
      L.counts.fill(0);
      L.spikeCount = 0;
      L.previousSpikeCount = 0;
      L.plastic?.reset();
    }
    this.pendingRewards.clear();
    this.steps = 0;
  }

  /** Applies one step of input events (spec/ops.md §6). Throws SEMANTICS_BAD_INPUT, leaving the state unchanged, on invalid events. */
  step(input: StepEvents): void {
    validateStepEvents(input, this.table.input.size);
    this.stepFrom(input, undefined);
  }

  /** Layer 0's feed-forward fold of `input` (spec/ops.md §7.3); same contract as Interpreter.holdInput. */
  holdInput(input: StepEvents): Int32Array {
    validateStepEvents(input, this.table.input.size);
    const L = this.layers[0]!;
    if (L.plastic !== undefined) fail("SEMANTICS_HELD_INPUT_PLASTIC", "layer 0 learns: its feed-forward input cannot be held");
    const held = new Int32Array(L.acc.length);
    this.synapticEvents += L.feedForward.scatter(input.indices, input.indices.length, input.values, held);
    return held;
  }

  /** One step with layer 0's feed-forward input `held` (spec/ops.md §7.3); same contract as Interpreter.stepHeld. */
  stepHeld(held: Int32Array): void {
    const L = this.layers[0]!;
    if (L.plastic !== undefined) fail("SEMANTICS_HELD_INPUT_PLASTIC", "layer 0 learns: its feed-forward input cannot be held");
    if (held.length !== L.acc.length) fail("SEMANTICS_BAD_INPUT", `held input has ${held.length} values, layer 0 has ${L.acc.length} neurons`);
    this.stepFrom(undefined, held);
  }

  private stepFrom(input: StepEvents | undefined, held: Int32Array | undefined): void {
    let pre: Uint32Array = input?.indices ?? new Uint32Array(0);
    let preCount = pre.length;
    let values: Uint8Array | undefined = input?.values;
    let updates = 0;
    const reward = this.pendingRewards.get(this.steps) ?? 0;
    this.pendingRewards.delete(this.steps);
    if (reward !== 0) for (const L of this.layers) L.plastic?.reward(reward);
    for (const L of this.layers) {
      // last step's spikes become the recurrent source; this step writes into the other buffer
      const previous = L.spikes;
      L.spikes = L.previousSpikes;
      L.previousSpikes = previous;
      L.previousSpikeCount = L.spikeCount;
      if (held !== undefined && L === this.layers[0]) {
        L.acc.set(held);
      } else {
        L.acc.fill(0);
        updates += L.feedForward.scatter(pre, preCount, values, L.acc);
      }
      if (L.recurrent !== undefined) updates += L.recurrent.scatter(L.previousSpikes, L.previousSpikeCount, undefined, L.acc);
      updateNeurons(L);
      L.plastic?.learn(pre, preCount, L.spikes, L.spikeCount, this.steps);
      pre = L.spikes;
      preCount = L.spikeCount;
      values = L.multiSpike ? L.spikeValues : undefined;
    }
    this.synapticEvents += updates;
    this.steps++;
  }

  /** Aims a reward at a step (spec/ops.md §11.3); same contract as Interpreter.reward. */
  reward(value: number, targetStep: number = this.steps): void {
    queueReward(this.pendingRewards, this.steps, value, targetStep);
  }

  /** True when `layer` learns. */
  isPlastic(layer: number): boolean {
    return this.layer(layer).plastic !== undefined;
  }

  /** Working weights of a plastic layer (live view). */
  weights(layer: number): Int16Array {
    const plastic = this.layer(layer).plastic;
    if (plastic === undefined) throw new RangeError(`layer ${layer} is not plastic`);
    return plastic.weights;
  }

  /** Learning state of a plastic layer, or undefined. */
  plasticity(layer: number): PlasticityState | undefined {
    return this.layer(layer).plastic;
  }

  /** Working weights back to the stored weights. */
  resetWeights(): void {
    for (const L of this.layers) L.plastic?.resetWeights();
  }

  /** The table with learned weights (spec/ops.md §11.4). */
  learnedTable(): EventTable {
    return learnedTableOf(
      this.table,
      this.layers.map((L) => L.plastic),
    );
  }

  private layer(index: number): LayerRuntime {
    const L = this.layers[index];
    if (L === undefined) throw new RangeError(`layer ${index} does not exist (the model has ${this.layers.length})`);
    return L;
  }

  /** Indices of the neurons of `layer` that fired in the last step, ascending. A view, valid until the next step or reset. */
  lastSpikes(layer: number): Uint32Array {
    const L = this.layer(layer);
    return L.spikes.subarray(0, L.spikeCount);
  }

  /** Spikes per neuron of `layer` since reset. A live view: it changes as the interpreter steps. */
  spikeCounts(layer: number): Uint32Array {
    return this.layer(layer).counts;
  }

  /** Membrane values of `layer`. A live view: it changes as the interpreter steps (copy it to keep it). */
  membrane(layer: number): Int32Array {
    return this.layer(layer).v;
  }

  /** Synaptic currents of a `cuba` layer (live view); an empty array for other neuron models. */
  current(layer: number): Int32Array {
    return this.layer(layer).current;
  }

  /** The class read from the last layer (spec/ops.md §9): argmax of spike counts or of membranes, ties to the lowest index. */
  readoutClass(): number {
    const last = this.layers[this.layers.length - 1]!;
    const scores: Uint32Array | Int32Array = this.table.readout.kind === "count" ? last.counts : last.v;
    let best = 0;
    for (let j = 1; j < scores.length; j++) if (scores[j]! > scores[best]!) best = j;
    return best;
  }

  /** All state as bytes (layout in spec/ops.md §10, runtime/snapshot.ts). Does not include `synapticEvents`. */
  snapshot(): Uint8Array {
    return writeSnapshot(this.layers, this.steps);
  }

  /**
   * Restores state written by snapshot() of an interpreter of the same model. Throws
   * SEMANTICS_STATE_MISMATCH (leaving the state unchanged) when the bytes do not fit this model.
   */
  restore(bytes: Uint8Array): void {
    const { steps, apply } = readSnapshot(bytes, this.layers);
    apply();
    for (const L of this.layers) L.previousSpikeCount = 0;
    this.pendingRewards.clear();
    this.steps = steps;
    for (const L of this.layers) L.plastic?.restoredAt(steps);
  }
}
