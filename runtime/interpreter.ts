/**
 * The interpreter: runs an EventTable step by step exactly as spec/ops.md defines it. The per-step
 * arithmetic is the generated kernels of runtime/kernels_generated.ts (emitted from the kernel IR in
 * codegen/, like the C kernels of the firmware), and for dense int8/int4 spikes the packed fold of
 * runtime/fold.ts (spec/ops.md §12.3, the same integers); this file only validates the table, binds each
 * layer's parameters to its kernels and orchestrates a step (spec/ops.md §6), doing no arithmetic on
 * state itself. The hand-written oracle it is tested against is runtime/testing/reference-interpreter.ts.
 *
 * The constructor checks what the step path relies on (sizes, indices, parameter ranges), so a
 * table built in memory without runtime/format gets the same guarantees as a decoded one. No
 * allocation per step; synaptic work proportional to the number of events (fan-out scatter).
 */
import { rateEncode } from "./encoders.js";
import { fail } from "./errors.js";
import type { StepEvents } from "./events.js";
import { INT32_MAX, INT32_MIN, int4At } from "./fixed.js";
import { foldDenseSpikes, foldSpikeLists, packDenseRows, sparseSpikeLists, windowSpikeLists, type SpikeLists } from "./fold.js";
import * as K from "./kernels_generated.js";
import { usesNeuronRules, type Connection, type EventTable, type InputDescription, type Layer, type NeuronModel, type Shape3, type Weights } from "./model.js";
import { PlasticLayer, learnedTableOf, queueReward, type PlasticityState } from "./plasticity.js";
import { Xorshift32 } from "./prng.js";
import { readSnapshot, writeSnapshot } from "./snapshot.js";

/** Numeric code of each neuron model, as stored in snapshots (and in the C tables). */
export const NEURON_MODEL_CODE: Readonly<Record<NeuronModel, number>> = {
  if: 0,
  "lif-shift": 1,
  "lif-q15": 2,
  cuba: 3,
  integrator: 4,
};

/** Magic number that starts a snapshot (spec/ops.md §10); re-exported from runtime/snapshot.ts. */
export { SNAPSHOT_MAGIC } from "./snapshot.js";

const MAX_SHIFT = 23;

/** Most distinct steps with pending rewards (defined with the reward queue in runtime/plasticity.ts). */
export { MAX_PENDING_REWARDS } from "./plasticity.js";

/**
 * A connection bound to its kernel: folds the contributions of events pre[0..n-1] (with `values`
 * when `graded`, else all 1) into acc in the order of spec/ops.md §3.3; returns the synaptic updates.
 */
type Scatter = (pre: Uint32Array, n: number, values: Uint8Array, graded: boolean, acc: Int32Array) => number;

/**
 * A connection bound to its kernels: the saturating scatter (spec/ops.md §3), the plain-int32 one
 * that equals it under the accumulation bound (§12.1), and the bound itself: `bound(vmax, out)` adds
 * to out[j], saturating, |w|·vmax·2^shift of every synapse that can reach j in one step.
 */
interface BoundConnection {
  readonly sat: Scatter;
  readonly exact: Scatter;
  readonly bound: (vmax: number, out: Int32Array) => void;
  /**
   * The TS-only fold of spec/ops.md §12.3 for events that are spikes, equal to `exact` where the bound
   * holds (dense int8/int4 only); built on first request (it packs the weights), undefined where it
   * does not apply.
   */
  readonly spikeFold?: () => Scatter | undefined;
}

/** How the post layer's neurons map to channels (spec/ops.md §5.1): C channels of H·W neurons, or one per neuron. */
interface PostChannels {
  readonly channels: number;
  /** Neurons per channel (H*W, or 1 without a shape). */
  readonly plane: number;
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

/** Stored weights, checked against the count the geometry needs, by width. */
type CheckedWeights =
  { readonly bits: 4; readonly data: Uint8Array } | { readonly bits: 8; readonly data: Int8Array } | { readonly bits: 16; readonly data: Int16Array };

function checkWeights(weights: Weights, expectedCount: number, what: string): CheckedWeights {
  if (weights.count !== expectedCount) {
    fail("FORMAT_SIZE_MISMATCH", `${what}: ${weights.count} weights, the geometry needs ${expectedCount}`);
  }
  const data = weights.data;
  if (weights.bits === 4) {
    if (!(data instanceof Uint8Array) || data.length !== Math.ceil(expectedCount / 2)) {
      fail("FORMAT_SIZE_MISMATCH", `${what}: int4 weights need ${Math.ceil(expectedCount / 2)} packed bytes`);
    }
    return { bits: 4, data };
  }
  if (weights.bits === 8 && data instanceof Int8Array && data.length === expectedCount) return { bits: 8, data };
  if (weights.bits === 16 && data instanceof Int16Array && data.length === expectedCount) return { bits: 16, data };
  return fail("FORMAT_SIZE_MISMATCH", `${what}: expected ${expectedCount} int${weights.bits} weights`);
}

/** Checks a shift array (1 entry, or one per channel, each 0..23); returns whether it is per channel. */
function checkShift(weights: Weights, channels: number, what: string): boolean {
  const shift = weights.shift;
  if (shift.length !== 1 && shift.length !== channels) {
    fail("FORMAT_SIZE_MISMATCH", `${what}: shift needs 1 or ${channels} entries, has ${shift.length}`);
  }
  for (const s of shift) checkInt(`${what} shift`, s, 0, MAX_SHIFT);
  return shift.length !== 1;
}

/** `build` run once, on first request, its result kept (a fold's packed tables are built only if used). */
function once<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => (built ??= { value: build() }).value;
}

/**
 * The packed spike fold of spec/ops.md §12.3 item 1 over a dense connection; it hands steps of graded
 * values to the IR kernel `exact`. Undefined when the packed weights would be too large.
 */
function denseSpikeFold(
  inputs: number,
  outputs: number,
  weightAt: (q: number) => number,
  shift: Uint8Array,
  perChannel: boolean,
  plane: number,
  exact: Scatter,
): () => Scatter | undefined {
  return once(() => {
    const rows = packDenseRows(inputs, outputs, weightAt, (j) => shift[perChannel ? Math.floor(j / plane) : 0]!);
    return rows === undefined ? undefined : (pre, n, values, graded, acc) => (graded ? exact(pre, n, values, graded, acc) : foldDenseSpikes(rows, pre, n, acc));
  });
}

/**
 * The spike-list fold of spec/ops.md §12.3 item 2 (conv2d, pool, sparse); it hands steps of graded
 * values to the IR kernel `exact`. Undefined when the lists would be too large.
 */
function listSpikeFold(build: () => SpikeLists | undefined, exact: Scatter): () => Scatter | undefined {
  return once(() => {
    const lists = build();
    return lists === undefined
      ? undefined
      : (pre, n, values, graded, acc) => (graded ? exact(pre, n, values, graded, acc) : foldSpikeLists(lists, pre, n, acc));
  });
}

/** w·2^s, a spike's contribution through weight w with shift s (an int32 wherever §12.1's bound holds). */
function spikeContribution(w: number, s: number): number {
  return w * 2 ** s;
}

function denseScatter(inputs: number, outputs: number, weights: Weights, post: PostChannels, what: string): BoundConnection {
  const w = checkWeights(weights, inputs * outputs, what);
  const perChannel = checkShift(weights, post.channels, what);
  const { shift } = weights;
  const { channels, plane } = post;
  switch (w.bits) {
    case 4: {
      const exact: Scatter = (pre, n, values, graded, acc) => K.scatterDenseW4Exact(pre, n, values, graded, channels, w.data, shift, perChannel, plane, acc);
      return {
        sat: (pre, n, values, graded, acc) => K.scatterDenseW4(pre, n, values, graded, channels, w.data, shift, perChannel, plane, acc),
        exact,
        bound: (vmax, out) => K.boundDenseW4(inputs, channels, w.data, shift, perChannel, plane, vmax, out),
        spikeFold: denseSpikeFold(inputs, outputs, weightReader(weights), shift, perChannel, plane, exact),
      };
    }
    case 8: {
      const exact: Scatter = (pre, n, values, graded, acc) => K.scatterDenseW8Exact(pre, n, values, graded, channels, w.data, shift, perChannel, plane, acc);
      return {
        sat: (pre, n, values, graded, acc) => K.scatterDenseW8(pre, n, values, graded, channels, w.data, shift, perChannel, plane, acc),
        exact,
        bound: (vmax, out) => K.boundDenseW8(inputs, channels, w.data, shift, perChannel, plane, vmax, out),
        spikeFold: denseSpikeFold(inputs, outputs, weightReader(weights), shift, perChannel, plane, exact),
      };
    }
    case 16:
      return {
        sat: (pre, n, values, graded, acc) => K.scatterDenseW16(pre, n, values, graded, channels, w.data, shift, perChannel, plane, acc),
        exact: (pre, n, values, graded, acc) => K.scatterDenseW16Exact(pre, n, values, graded, channels, w.data, shift, perChannel, plane, acc),
        bound: (vmax, out) => K.boundDenseW16(inputs, channels, w.data, shift, perChannel, plane, vmax, out),
      };
  }
}

/** Reads stored weight q of any width as a number (int4 unpacked). */
function weightReader(weights: Weights): (q: number) => number {
  const data = weights.data;
  return weights.bits === 4 ? (q) => int4At(data as Uint8Array, q) : (q) => data[q]!;
}

/** `kernels` with the spike-list fold of spec/ops.md §12.3 item 2 over the lists `build` makes. */
function withListFold(kernels: BoundConnection, build: () => SpikeLists | undefined): BoundConnection {
  return { ...kernels, spikeFold: listSpikeFold(build, kernels.exact) };
}

function sparseScatter(c: Extract<Connection, { kind: "sparse" }>, post: PostChannels, what: string): BoundConnection {
  const kernels = sparseKernels(c, post, what);
  const { rowPtr, cols, weights } = c;
  const perChannel = weights.shift.length !== 1;
  const weightAt = weightReader(weights);
  const { plane } = post;
  return withListFold(kernels, () =>
    sparseSpikeLists(rowPtr, cols, (q, j) => spikeContribution(weightAt(q), weights.shift[perChannel ? Math.floor(j / plane) : 0]!)),
  );
}

function sparseKernels(c: Extract<Connection, { kind: "sparse" }>, post: PostChannels, what: string): BoundConnection {
  const { inputs, outputs, rowPtr, cols } = c;
  if (!(rowPtr instanceof Uint32Array) || rowPtr.length !== inputs + 1) fail("FORMAT_SIZE_MISMATCH", `${what}: rowPtr needs ${inputs + 1} entries`);
  if (rowPtr[0] !== 0) fail("FORMAT_OUT_OF_RANGE", `${what}: rowPtr[0] must be 0`);
  for (let p = 0; p < inputs; p++) {
    if (rowPtr[p + 1]! < rowPtr[p]!) fail("FORMAT_OUT_OF_RANGE", `${what}: rowPtr decreases at ${p}`);
  }
  const count = rowPtr[inputs]!;
  if (cols.length !== count) fail("FORMAT_SIZE_MISMATCH", `${what}: ${cols.length} cols for ${count} synapses`);
  for (let q = 0; q < count; q++) {
    if (cols[q]! >= outputs) fail("FORMAT_INDEX_OUT_OF_BOUNDS", `${what}: synapse ${q} targets ${cols[q]} >= ${outputs}`);
  }
  const w = checkWeights(c.weights, count, what);
  const perChannel = checkShift(c.weights, post.channels, what);
  const { shift } = c.weights;
  const { plane } = post;
  if (cols instanceof Uint16Array) {
    switch (w.bits) {
      case 4:
        return {
          sat: (pre, n, values, graded, acc) => K.scatterSparseW4C16(pre, n, values, graded, rowPtr, cols, w.data, shift, perChannel, plane, acc),
          exact: (pre, n, values, graded, acc) => K.scatterSparseW4C16Exact(pre, n, values, graded, rowPtr, cols, w.data, shift, perChannel, plane, acc),
          bound: (vmax, out) => K.boundSparseW4C16(inputs, rowPtr, cols, w.data, shift, perChannel, plane, vmax, out),
        };
      case 8:
        return {
          sat: (pre, n, values, graded, acc) => K.scatterSparseW8C16(pre, n, values, graded, rowPtr, cols, w.data, shift, perChannel, plane, acc),
          exact: (pre, n, values, graded, acc) => K.scatterSparseW8C16Exact(pre, n, values, graded, rowPtr, cols, w.data, shift, perChannel, plane, acc),
          bound: (vmax, out) => K.boundSparseW8C16(inputs, rowPtr, cols, w.data, shift, perChannel, plane, vmax, out),
        };
      case 16:
        return {
          sat: (pre, n, values, graded, acc) => K.scatterSparseW16C16(pre, n, values, graded, rowPtr, cols, w.data, shift, perChannel, plane, acc),
          exact: (pre, n, values, graded, acc) => K.scatterSparseW16C16Exact(pre, n, values, graded, rowPtr, cols, w.data, shift, perChannel, plane, acc),
          bound: (vmax, out) => K.boundSparseW16C16(inputs, rowPtr, cols, w.data, shift, perChannel, plane, vmax, out),
        };
    }
  }
  const cols32 = cols instanceof Uint32Array ? cols : Uint32Array.from(cols);
  switch (w.bits) {
    case 4:
      return {
        sat: (pre, n, values, graded, acc) => K.scatterSparseW4C32(pre, n, values, graded, rowPtr, cols32, w.data, shift, perChannel, plane, acc),
        exact: (pre, n, values, graded, acc) => K.scatterSparseW4C32Exact(pre, n, values, graded, rowPtr, cols32, w.data, shift, perChannel, plane, acc),
        bound: (vmax, out) => K.boundSparseW4C32(inputs, rowPtr, cols32, w.data, shift, perChannel, plane, vmax, out),
      };
    case 8:
      return {
        sat: (pre, n, values, graded, acc) => K.scatterSparseW8C32(pre, n, values, graded, rowPtr, cols32, w.data, shift, perChannel, plane, acc),
        exact: (pre, n, values, graded, acc) => K.scatterSparseW8C32Exact(pre, n, values, graded, rowPtr, cols32, w.data, shift, perChannel, plane, acc),
        bound: (vmax, out) => K.boundSparseW8C32(inputs, rowPtr, cols32, w.data, shift, perChannel, plane, vmax, out),
      };
    case 16:
      return {
        sat: (pre, n, values, graded, acc) => K.scatterSparseW16C32(pre, n, values, graded, rowPtr, cols32, w.data, shift, perChannel, plane, acc),
        exact: (pre, n, values, graded, acc) => K.scatterSparseW16C32Exact(pre, n, values, graded, rowPtr, cols32, w.data, shift, perChannel, plane, acc),
        bound: (vmax, out) => K.boundSparseW16C32(inputs, rowPtr, cols32, w.data, shift, perChannel, plane, vmax, out),
      };
  }
}

function checkWindow(what: string, kernel: readonly [number, number], stride: readonly [number, number]): void {
  checkInt(`${what} kernel height`, kernel[0], 1, 0xffff);
  checkInt(`${what} kernel width`, kernel[1], 1, 0xffff);
  checkInt(`${what} stride y`, stride[0], 1, 0xffff);
  checkInt(`${what} stride x`, stride[1], 1, 0xffff);
}

function conv2dScatter(c: Extract<Connection, { kind: "conv2d" }>, what: string): BoundConnection {
  const kernels = conv2dKernels(c, what);
  const [inC, inH, inW] = c.inShape;
  const [outK, outH, outW] = c.outShape;
  const [kh, kw] = c.kernel;
  const geometry = { inC, inH, inW, outK, outH, outW, kh, kw, sy: c.stride[0], sx: c.stride[1], py: c.padding[0], px: c.padding[1] };
  const weightAt = weightReader(c.weights);
  const { shift } = c.weights;
  const perChannel = shift.length !== 1;
  return withListFold(kernels, () =>
    windowSpikeLists(geometry, false, (kk, ch, ky, kx) => spikeContribution(weightAt(((kk * inC + ch) * kh + ky) * kw + kx), shift[perChannel ? kk : 0]!)),
  );
}

function conv2dKernels(c: Extract<Connection, { kind: "conv2d" }>, what: string): BoundConnection {
  checkShape(`${what} inShape`, c.inShape);
  checkShape(`${what} outShape`, c.outShape);
  checkWindow(what, c.kernel, c.stride);
  checkInt(`${what} padding y`, c.padding[0], 0, 0xffff);
  checkInt(`${what} padding x`, c.padding[1], 0, 0xffff);
  const [inC, inH, inW] = c.inShape;
  const [outK, outH, outW] = c.outShape;
  const [kh, kw] = c.kernel;
  const [sy, sx] = c.stride;
  const [py, px] = c.padding;
  const w = checkWeights(c.weights, outK * inC * kh * kw, what);
  const perChannel = checkShift(c.weights, outK, what);
  const { shift } = c.weights;
  const outPlane = outH * outW;
  switch (w.bits) {
    case 4:
      return {
        sat: (pre, n, values, graded, acc) =>
          K.scatterConv2dW4(pre, n, values, graded, inC, inH, inW, outH, outW, kh, kw, sy, sx, py, px, outK, w.data, shift, perChannel, acc),
        exact: (pre, n, values, graded, acc) =>
          K.scatterConv2dW4Exact(pre, n, values, graded, inC, inH, inW, outH, outW, kh, kw, sy, sx, py, px, outK, w.data, shift, perChannel, acc),
        bound: (vmax, out) => K.boundConv2dW4(inC, kh, kw, outK, outPlane, w.data, shift, perChannel, vmax, out),
      };
    case 8:
      return {
        sat: (pre, n, values, graded, acc) =>
          K.scatterConv2dW8(pre, n, values, graded, inC, inH, inW, outH, outW, kh, kw, sy, sx, py, px, outK, w.data, shift, perChannel, acc),
        exact: (pre, n, values, graded, acc) =>
          K.scatterConv2dW8Exact(pre, n, values, graded, inC, inH, inW, outH, outW, kh, kw, sy, sx, py, px, outK, w.data, shift, perChannel, acc),
        bound: (vmax, out) => K.boundConv2dW8(inC, kh, kw, outK, outPlane, w.data, shift, perChannel, vmax, out),
      };
    case 16:
      return {
        sat: (pre, n, values, graded, acc) =>
          K.scatterConv2dW16(pre, n, values, graded, inC, inH, inW, outH, outW, kh, kw, sy, sx, py, px, outK, w.data, shift, perChannel, acc),
        exact: (pre, n, values, graded, acc) =>
          K.scatterConv2dW16Exact(pre, n, values, graded, inC, inH, inW, outH, outW, kh, kw, sy, sx, py, px, outK, w.data, shift, perChannel, acc),
        bound: (vmax, out) => K.boundConv2dW16(inC, kh, kw, outK, outPlane, w.data, shift, perChannel, vmax, out),
      };
  }
}

function poolScatter(c: Extract<Connection, { kind: "pool" }>, what: string): BoundConnection {
  const kernels = poolKernels(c, what);
  const [inC, inH, inW] = c.inShape;
  const [, outH, outW] = c.outShape;
  const geometry = { inC, inH, inW, outK: inC, outH, outW, kh: c.kernel[0], kw: c.kernel[1], sy: c.stride[0], sx: c.stride[1], py: 0, px: 0 };
  const contribution = spikeContribution(c.weight, c.shift);
  return withListFold(kernels, () => windowSpikeLists(geometry, true, () => contribution));
}

function poolKernels(c: Extract<Connection, { kind: "pool" }>, what: string): BoundConnection {
  checkShape(`${what} inShape`, c.inShape);
  checkShape(`${what} outShape`, c.outShape);
  if (c.inShape[0] !== c.outShape[0]) fail("SEMANTICS_SHAPE_MISMATCH", `${what}: pooling keeps channels, ${c.inShape[0]} in vs ${c.outShape[0]} out`);
  checkWindow(what, c.kernel, c.stride);
  checkInt(`${what} weight`, c.weight, -32768, 32767);
  checkInt(`${what} shift`, c.shift, 0, MAX_SHIFT);
  const [, inH, inW] = c.inShape;
  const [, outH, outW] = c.outShape;
  const [kh, kw] = c.kernel;
  const [sy, sx] = c.stride;
  const { weight, shift } = c;
  const outputs = shapeSize(c.outShape);
  return {
    sat: (pre, n, values, graded, acc) => K.scatterPool(pre, n, values, graded, inH, inW, outH, outW, kh, kw, sy, sx, weight, shift, acc),
    exact: (pre, n, values, graded, acc) => K.scatterPoolExact(pre, n, values, graded, inH, inW, outH, outW, kh, kw, sy, sx, weight, shift, acc),
    bound: (vmax, out) => K.boundPool(kh, kw, weight, shift, outputs, vmax, out),
  };
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

/** Binds a connection to its kernel after checking it joins `inputs` neurons to `outputs`. */
function compileConnection(c: Connection, inputs: number, outputs: number, post: PostChannels, what: string): BoundConnection {
  const [declaredIn, declaredOut] = connectionSizes(c);
  if (declaredIn !== inputs || declaredOut !== outputs) {
    fail("SEMANTICS_SHAPE_MISMATCH", `${what}: connects ${declaredIn} → ${declaredOut}, the model needs ${inputs} → ${outputs}`);
  }
  switch (c.kind) {
    case "dense":
      return denseScatter(inputs, outputs, c.weights, post, what);
    case "sparse":
      return sparseScatter(c, post, what);
    case "conv2d":
      return conv2dScatter(c, what);
    case "pool":
      return poolScatter(c, what);
  }
}

/** All state and bound kernels of one layer. */
interface LayerRuntime {
  readonly size: number;
  readonly model: number;
  readonly refractory: number;
  /** Feed-forward and recurrent scatter for steps whose presynaptic events are spikes (value 1). */
  readonly spikeStep: StepScatter;
  /** The same for steps with graded input values (layer 0 only). */
  readonly gradedStep: StepScatter;
  /** Runs the layer's neuron kernel on `acc`, writing this step's spikes; returns how many spiked. */
  readonly update: (L: LayerRuntime) => number;
  /** Learning state of a plastic layer (spec/ops.md §11); its scatter is the feed-forward one. */
  readonly plastic: PlasticLayer | undefined;
  /** Multi-spike layer (spec/ops.md §4.9): its events carry `spikeValues[k]` spikes of neuron `spikes[k]`. */
  readonly multi: boolean;
  readonly spikeValues: Uint8Array;
  /** The membrane every reset starts from (spec/ops.md §4.9 `vInit`; 0 when absent). */
  readonly vInit: number;
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

/** The kernels one step of a layer folds with: saturating, or exact where §12.1's bound is proven. */
interface StepScatter {
  /** Whether the accumulation bound holds, so these are the exact kernels. */
  readonly exact: boolean;
  readonly feedForward: Scatter;
  readonly recurrent: Scatter | undefined;
}

/** Largest graded input value (spec/ops.md §7.1). */
const MAX_EVENT_VALUE = 255;

/**
 * The accumulation bound of spec/ops.md §12.1 for one layer: true when, for every neuron, the sum
 * of |w|·vmax·2^shift over every synapse of both connections that can reach it stays below
 * 2^31−1, so plain int32 products and adds never leave int32 and equal the saturating fold.
 */
function accumulationIsExact(size: number, feedForward: BoundConnection, feedForwardVmax: number, recurrent: BoundConnection | undefined): boolean {
  const bound = new Int32Array(size);
  feedForward.bound(feedForwardVmax, bound);
  recurrent?.bound(1, bound);
  return bound[K.argmaxI32(bound, size)]! < INT32_MAX;
}

/**
 * Picks the exact or saturating kernels of both connections for one kind of step; where exact, a
 * connection whose events are spikes (every recurrent one; the feed-forward one when vmax is 1) folds
 * with its §12.3 spike fold when it has one.
 */
function stepScatter(size: number, feedForward: BoundConnection, feedForwardVmax: number, recurrent: BoundConnection | undefined, folds: boolean): StepScatter {
  const exact = accumulationIsExact(size, feedForward, feedForwardVmax, recurrent);
  const exactSpikes = (c: BoundConnection): Scatter => (folds ? c.spikeFold?.() : undefined) ?? c.exact;
  return {
    exact,
    feedForward: !exact ? feedForward.sat : feedForwardVmax === 1 ? exactSpikes(feedForward) : feedForward.exact,
    recurrent: recurrent === undefined ? undefined : exact ? exactSpikes(recurrent) : recurrent.sat,
  };
}

const IF = NEURON_MODEL_CODE.if;
const LIF_SHIFT = NEURON_MODEL_CODE["lif-shift"];
const LIF_Q15 = NEURON_MODEL_CODE["lif-q15"];
const CUBA = NEURON_MODEL_CODE.cuba;
const INTEGRATOR = NEURON_MODEL_CODE.integrator;
const EMPTY_VALUES = new Uint8Array(0);
const EMPTY_INDICES = new Uint32Array(0);
const ZERO_BIAS = new Int32Array(1);

function buildLayer(layer: Layer, index: number, inputs: number, folds: boolean, prevMulti: boolean): LayerRuntime {
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
  // bias[b] applies to neurons b·biasPlane .. (b+1)·biasPlane−1 (§4.7); no bias is one zero entry over the whole layer
  let bias = ZERO_BIAS;
  let biasCount = 1;
  let biasPlane = size;
  if (layer.bias !== undefined) {
    const b = layer.bias;
    const copy = Int32Array.from(b);
    if (b.length === size) [bias, biasCount, biasPlane] = [copy, size, 1];
    else if (layer.shape !== undefined && b.length === layer.shape[0]) [bias, biasCount, biasPlane] = [copy, post.channels, post.plane];
    else fail("FORMAT_SIZE_MISMATCH", `${what}: bias has ${b.length} entries, needs ${size} or one per channel`);
  }
  const { threshold, resetValue, leakShift, leakQ15, currentShift, refractory, vMin } = p;
  const resetSubtract = p.reset === "subtract";
  const vInit = p.vInit ?? 0;
  checkInt(`${what} vInit`, vInit, INT32_MIN, INT32_MAX);
  const rules = usesNeuronRules(p);
  const update = ((): ((L: LayerRuntime) => number) => {
    if (rules) {
      // spec/ops.md §4.9: one kernel for every spiking model with a version-2 rule, one for the leaking readout
      const q15Cuba = model === CUBA && p.synapse === "q15";
      const leaks = p.leakQ15s !== undefined ? Uint16Array.from(p.leakQ15s) : Uint16Array.of(leakQ15);
      const leakPerNeuron = p.leakQ15s !== undefined;
      if (leaks.length !== (leakPerNeuron ? size : 1) || leaks.some((a) => a > 32767))
        fail("FORMAT_OUT_OF_RANGE", `${what}: leakQ15s must hold ${size} values 0..32767`);
      if (model === INTEGRATOR)
        return (L) => {
          K.neuronIntegratorQ15(biasCount, biasPlane, bias, L.acc, vMin, L.v, leaks, leakPerNeuron);
          return 0;
        };
      const currents = p.currentQ15s !== undefined ? Uint16Array.from(p.currentQ15s) : Uint16Array.of(p.currentQ15 ?? 0);
      const currentPerNeuron = p.currentQ15s !== undefined;
      if (currents.length !== (currentPerNeuron ? size : 1) || currents.some((a) => a > 32767))
        fail("FORMAT_OUT_OF_RANGE", `${what}: currentQ15s must hold ${size} values 0..32767`);
      const leakKind = model === LIF_Q15 || q15Cuba ? 2 : model === LIF_SHIFT || model === CUBA ? 1 : 0;
      const currentKind = q15Cuba ? 2 : model === CUBA ? 1 : 0;
      const compareGt = p.compare === "gt";
      const resetDelay = p.resetDelay === true;
      const multiSpike = p.multiSpike === true;
      if (multiSpike && (layer.recurrent !== undefined || layer.plasticity !== undefined))
        fail("FORMAT_OUT_OF_RANGE", `${what}: a multi-spike layer can have neither a recurrent connection nor plasticity`);
      return (L) =>
        K.neuronRule(
          biasCount,
          biasPlane,
          bias,
          L.acc,
          vMin,
          L.v,
          leakKind,
          leakShift,
          leaks,
          leakPerNeuron,
          currentKind,
          currentShift,
          currents,
          currentPerNeuron,
          L.current,
          threshold,
          compareGt,
          resetDelay,
          multiSpike,
          resetSubtract,
          resetValue,
          refractory,
          L.refractoryLeft,
          L.counts,
          L.spikes,
          L.spikeValues,
        );
    }
    switch (model) {
      case IF:
        return (L) =>
          K.neuronIf(biasCount, biasPlane, bias, L.acc, vMin, L.v, threshold, resetSubtract, resetValue, refractory, L.refractoryLeft, L.counts, L.spikes);
      case LIF_SHIFT:
        return (L) =>
          K.neuronLifShift(
            biasCount,
            biasPlane,
            bias,
            L.acc,
            vMin,
            L.v,
            leakShift,
            threshold,
            resetSubtract,
            resetValue,
            refractory,
            L.refractoryLeft,
            L.counts,
            L.spikes,
          );
      case LIF_Q15:
        return (L) =>
          K.neuronLifQ15(
            biasCount,
            biasPlane,
            bias,
            L.acc,
            vMin,
            L.v,
            leakQ15,
            threshold,
            resetSubtract,
            resetValue,
            refractory,
            L.refractoryLeft,
            L.counts,
            L.spikes,
          );
      case CUBA:
        return (L) =>
          K.neuronCuba(
            biasCount,
            biasPlane,
            bias,
            L.acc,
            vMin,
            L.v,
            leakShift,
            currentShift,
            L.current,
            threshold,
            resetSubtract,
            resetValue,
            refractory,
            L.refractoryLeft,
            L.counts,
            L.spikes,
          );
      default:
        return (L) => {
          K.neuronIntegrator(biasCount, biasPlane, bias, L.acc, vMin, L.v);
          return 0;
        };
    }
  })();

  const compiled = compileConnection(layer.input, inputs, size, post, `${what} input`);
  // a plastic layer folds through its int16 working weights, which change: always saturating (no §12.1 proof)
  const plastic = layer.plasticity === undefined ? undefined : new PlasticLayer(layer, inputs, what);
  const feedForward: BoundConnection =
    plastic === undefined ? compiled : { sat: plastic.scatter, exact: plastic.scatter, bound: (_vmax, out) => out.fill(INT32_MAX) };
  const recurrent = layer.recurrent === undefined ? undefined : compileConnection(layer.recurrent, size, size, post, `${what} recurrent`);
  const spikeStep = stepScatter(size, feedForward, 1, recurrent, folds);
  return {
    size,
    model,
    refractory,
    spikeStep,
    // layer 0 and the layer after a multi-spike layer receive graded values (§6, §4.9); other layers never take this path
    gradedStep: index === 0 || prevMulti ? stepScatter(size, feedForward, MAX_EVENT_VALUE, recurrent, folds) : spikeStep,
    multi: p.multiSpike === true,
    spikeValues: new Uint8Array(p.multiSpike === true ? size : 0),
    update,
    plastic,
    vInit,
    v: new Int32Array(size).fill(vInit),
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

/** Throws SEMANTICS_BAD_INPUT unless the events are valid for an input of `inputSize` (spec/ops.md §7.1). */
export function validateStepEvents(input: StepEvents, inputSize: number): void {
  const { indices, values } = input;
  if (!(indices instanceof Uint32Array)) fail("SEMANTICS_BAD_INPUT", "input indices must be a Uint32Array");
  if (values !== undefined) {
    if (!(values instanceof Uint8Array) || values.length !== indices.length) {
      fail("SEMANTICS_BAD_INPUT", "input values must be a Uint8Array as long as the indices");
    }
    for (let e = 0; e < values.length; e++) {
      if (values[e] === 0) fail("SEMANTICS_BAD_INPUT", `input event ${e} has value 0 (values are 1..255)`);
    }
  }
  let last = -1;
  for (let e = 0; e < indices.length; e++) {
    const i = indices[e]!;
    if (i >= inputSize) fail("SEMANTICS_BAD_INPUT", `input index ${i} is outside the input (size ${inputSize})`, { event: e });
    if (i <= last) fail("SEMANTICS_BAD_INPUT", `input indices must be strictly ascending (index ${i} after ${last})`, { event: e });
    last = i;
  }
}

/** Construction options of an Interpreter. */
export interface InterpreterOptions {
  /** Use the TS-only folds of spec/ops.md §12.3 where they apply (default true); false: the IR kernels only. */
  readonly folds?: boolean;
}

/** The interpreter of one event table (spec/ops.md), stepping with the generated kernels. */
export class Interpreter {
  /** The table this interpreter runs. */
  readonly table: EventTable;
  /** Synaptic updates (contributions folded into an accumulator) since construction; for benchmarks. Not part of the state. */
  synapticEvents = 0;
  private readonly layers: LayerRuntime[];
  private steps = 0;
  /** Rewards by target step (spec/ops.md §11.3), each the sat16 sum of the rewards aimed at it. */
  private readonly pendingRewards = new Map<number, number>();

  /**
   * Prepares the table for stepping; throws a PicospikeError if it is inconsistent. State starts reset.
   * `options.folds` (default true) uses the TS-only folds of spec/ops.md §12.3 where they apply;
   * false keeps the generated IR kernels everywhere (same results; for benchmarks and tests).
   */
  constructor(table: EventTable, options: InterpreterOptions = {}) {
    this.table = table;
    checkInt("input size", table.input.size, 1, 0x7fffffff);
    if (table.layers.length === 0) fail("SEMANTICS_SHAPE_MISMATCH", "the model has no layers");
    if (table.readout.kind !== "count" && table.readout.kind !== "membrane") {
      fail("FORMAT_UNKNOWN_KIND", `unknown readout '${table.readout.kind as string}'`);
    }
    const layers: LayerRuntime[] = [];
    let inputs = table.input.size;
    table.layers.forEach((layer, l) => {
      layers.push(buildLayer(layer, l, inputs, options.folds ?? true, l > 0 && table.layers[l - 1]!.neuron.multiSpike === true));
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

  /**
   * Per layer, whether the accumulation bound of spec/ops.md §12.1 holds on steps of spikes and on
   * steps of graded values (layer 0), i.e. whether the layer steps with the exact kernels. Throws
   * like the constructor on an inconsistent table.
   */
  static accumulationExact(table: EventTable): Array<{ readonly spikes: boolean; readonly graded: boolean }> {
    return new Interpreter(table).layers.map((L) => ({ spikes: L.spikeStep.exact, graded: L.gradedStep.exact }));
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

  /**
   * Held input (spec/ops.md §7.3): layer 0's feed-forward input of `input`, folded once exactly as a
   * step of those events folds it (one int32 per layer-0 neuron), for `stepHeld`. Leaves the state
   * unchanged; counts the fold's synaptic events. Throws SEMANTICS_BAD_INPUT on invalid events and
   * SEMANTICS_HELD_INPUT_PLASTIC when layer 0 learns (its input is then not constant).
   */
  holdInput(input: StepEvents): Int32Array {
    validateStepEvents(input, this.table.input.size);
    const L = this.layers[0]!;
    if (L.plastic !== undefined) fail("SEMANTICS_HELD_INPUT_PLASTIC", "layer 0 learns: its feed-forward input cannot be held");
    const held = new Int32Array(L.acc.length);
    const graded = input.values !== undefined;
    const scatter = graded ? L.gradedStep : L.spikeStep;
    this.synapticEvents += scatter.feedForward(input.indices, input.indices.length, input.values ?? EMPTY_VALUES, graded, held);
    return held;
  }

  /** One step whose input is the events `holdInput` folded into `held`: the same integers as `step` of those events (spec/ops.md §7.3). */
  stepHeld(held: Int32Array): void {
    const L = this.layers[0]!;
    if (L.plastic !== undefined) fail("SEMANTICS_HELD_INPUT_PLASTIC", "layer 0 learns: its feed-forward input cannot be held");
    if (held.length !== L.acc.length) fail("SEMANTICS_BAD_INPUT", `held input has ${held.length} values, layer 0 has ${L.acc.length} neurons`);
    this.stepFrom(undefined, held);
  }

  /** spec/ops.md §6 on validated events, or (§7.3) with layer 0's feed-forward input given as `held`. */
  private stepFrom(input: StepEvents | undefined, held: Int32Array | undefined): void {
    let pre: Uint32Array = input?.indices ?? EMPTY_INDICES;
    let preCount = pre.length;
    let values: Uint8Array | undefined = input?.values;
    let updates = 0;
    // spec/ops.md §11.3: a reward acts at the start of its step, before layer 0
    const reward = this.pendingRewards.get(this.steps);
    if (reward !== undefined) {
      this.pendingRewards.delete(this.steps);
      if (reward !== 0) for (const L of this.layers) if (L.plastic?.rewarded === true) L.plastic.reward(reward, this.steps);
    }
    for (const L of this.layers) {
      // last step's spikes become the recurrent source; this step writes into the other buffer
      const previous = L.spikes;
      L.spikes = L.previousSpikes;
      L.previousSpikes = previous;
      L.previousSpikeCount = L.spikeCount;
      const graded = values !== undefined;
      const scatter = graded ? L.gradedStep : L.spikeStep;
      if (held !== undefined && L === this.layers[0]) {
        L.acc.set(held);
      } else {
        L.acc.fill(0);
        updates += scatter.feedForward(pre, preCount, values ?? EMPTY_VALUES, graded, L.acc);
      }
      if (scatter.recurrent !== undefined) updates += scatter.recurrent(L.previousSpikes, L.previousSpikeCount, EMPTY_VALUES, false, L.acc);
      L.spikeCount = L.update(L);
      L.plastic?.learn(pre, preCount, L.spikes, L.spikeCount, this.steps); // §11.2: right after the neuron update
      pre = L.spikes;
      preCount = L.spikeCount;
      values = L.multi ? L.spikeValues : undefined;
    }
    this.synapticEvents += updates;
    this.steps++;
  }

  /**
   * Aims a reward (int16) at step `targetStep` (default: the next step, `t`); it acts at the start of
   * that step (spec/ops.md §11.3) on every rstdp layer. Rewards aimed at one step add (sat16).
   * Throws SEMANTICS_BAD_INPUT for a value outside int16, a step that has already run, or more than
   * MAX_PENDING_REWARDS distinct pending steps.
   */
  reward(value: number, targetStep: number = this.steps): void {
    queueReward(this.pendingRewards, this.steps, value, targetStep);
  }

  /** True when `layer` learns (has a plasticity record). */
  isPlastic(layer: number): boolean {
    return this.layer(layer).plastic !== undefined;
  }

  /** The int16 working weights of a plastic layer, in stored synapse order (live view). RangeError for a layer that does not learn. */
  weights(layer: number): Int16Array {
    const plastic = this.layer(layer).plastic;
    if (plastic === undefined) throw new RangeError(`layer ${layer} is not plastic`);
    return plastic.weights;
  }

  /** The learning state of a plastic layer (traces, eligibility, baseline; live), or undefined. */
  plasticity(layer: number): PlasticityState | undefined {
    return this.layer(layer).plastic;
  }

  /** Working weights of every plastic layer back to the table's stored weights (protocol RESET_STATE 1). */
  resetWeights(): void {
    for (const L of this.layers) L.plastic?.resetWeights();
  }

  /** The table with every plastic layer's stored weights replaced by its working weights (spec/ops.md §11.4). */
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
    return this.table.readout.kind === "count" ? K.argmaxU32(last.counts, last.size) : K.argmaxI32(last.v, last.size);
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
  }
}

/** Largest number of steps encodeSample produces for one sample (bounds its allocation). */
export const MAX_ENCODED_STEPS = 1_000_000;

/**
 * Turns a sample of intensities (uint8 per input) into `steps` steps of input events according to
 * the table's input encoding (spec/ops.md §7.2). `rate` draws from `prng`, by default a fresh
 * xorshift32 seeded with `input.seed`; pass a generator to continue a stream across samples.
 * Steps without events share one empty StepEvents; `current` and `spikes` share one per sample.
 */
export function encodeSample(input: InputDescription, intensities: Uint8Array, steps: number, prng?: Xorshift32): StepEvents[] {
  if (intensities.length !== input.size) {
    fail("SEMANTICS_BAD_INPUT", `sample has ${intensities.length} intensities, the model input has ${input.size}`);
  }
  if (!Number.isInteger(steps) || steps < 0 || steps > MAX_ENCODED_STEPS) {
    fail("SEMANTICS_BAD_INPUT", `steps must be an integer in 0..${MAX_ENCODED_STEPS}, got ${steps}`);
  }
  const out: StepEvents[] = [];
  if (input.encoding === "rate") return [...rateEncode(intensities, steps, prng ?? input.seed).steps];
  const nonzero: number[] = [];
  for (let i = 0; i < input.size; i++) if (intensities[i] !== 0) nonzero.push(i);
  const indices = Uint32Array.from(nonzero);
  let events: StepEvents;
  if (input.encoding === "current") events = { indices, values: Uint8Array.from(nonzero, (i) => intensities[i]!) };
  else if (input.encoding === "spikes") events = { indices };
  else return fail("FORMAT_UNKNOWN_KIND", `unknown input encoding '${input.encoding as string}'`);
  for (let t = 0; t < steps; t++) out.push(events);
  return out;
}
