/**
 * The in-memory form of an event table: what `runtime/format` decodes a `.cbor` into and encodes
 * from, what the interpreter runs, and what codegen turns into C tables. The normative meaning of
 * every field (types, ranges, limits) is spec/table-format.md; the arithmetic is spec/ops.md.
 *
 * All integers here are plain JS numbers in the ranges the spec gives (validated at load), or
 * typed arrays whose element type is the stored width.
 */

/** Format name stored in every table. */
export const FORMAT_NAME = "picospike-event-table";
/** Format version this build writes. Bumped on any change to what tables may hold (spec/table-format.md §7). */
export const FORMAT_VERSION = 2;
/** Format versions this build reads; an older table keeps its older meaning (spec/table-format.md §7). */
export const READABLE_FORMAT_VERSIONS: readonly number[] = [1, 2];

/** Bits per stored weight. int4 weights are packed two per byte, low nibble first. */
export type WeightBits = 4 | 8 | 16;

/**
 * Stored synaptic weights of one connection. The synaptic contribution of weight `w` to a neuron of
 * output channel `c` is `w << shift[c]` (shift has length 1 for per-layer scaling, or one entry per
 * output channel).
 */
export interface Weights {
  /** Bits per weight. */
  readonly bits: WeightBits;
  /** int8 for bits 8, int16 for bits 16, packed nibbles (two's complement, low nibble first) for bits 4. */
  readonly data: Int8Array | Int16Array | Uint8Array;
  /** Number of weights (for int4, data.length = ceil(count / 2)). */
  readonly count: number;
  /** Left-shift exponent per output channel, 0..23; length 1 (per layer) or channels. */
  readonly shift: Uint8Array;
}

/** Dense fan-out connection: weight of pre `i` onto post `j` is weights[i * outputs + j]. */
export interface DenseConnection {
  readonly kind: "dense";
  readonly inputs: number;
  readonly outputs: number;
  readonly weights: Weights;
}

/**
 * Sparse fan-out connection in CSR form: the synapses of pre `i` are entries rowPtr[i]..rowPtr[i+1]-1,
 * each with post index cols[k] and weight weights[k].
 */
export interface SparseConnection {
  readonly kind: "sparse";
  readonly inputs: number;
  readonly outputs: number;
  /** inputs + 1 entries, non-decreasing, rowPtr[0] = 0, rowPtr[inputs] = synapse count. */
  readonly rowPtr: Uint32Array;
  /** Post-synaptic neuron index of each synapse, < outputs. */
  readonly cols: Uint16Array | Uint32Array;
  readonly weights: Weights;
}

/** Channels, height, width of a layer laid out channel-major: index = (c * H + y) * W + x. */
export type Shape3 = readonly [channels: number, height: number, width: number];

/**
 * 2-D convolution applied by event-driven scatter: an input spike at (c, y, x) adds
 * w[k][c][ky][kx] to every output (k, oy, ox) with oy*strideY - padY + ky = y and
 * ox*strideX - padX + kx = x. Weights are laid out [K][C][kh][kw]; shift is per layer or per K.
 */
export interface Conv2dConnection {
  readonly kind: "conv2d";
  readonly inShape: Shape3;
  readonly outShape: Shape3;
  readonly kernel: readonly [kh: number, kw: number];
  readonly stride: readonly [sy: number, sx: number];
  readonly padding: readonly [py: number, px: number];
  readonly weights: Weights;
}

/**
 * Sum pooling over non-overlapping or strided windows of each channel with one integer weight
 * `weight << shift` per synapse. Average pooling is sum pooling with weight = 1/(kh*kw) in the
 * layer's scale.
 */
export interface PoolConnection {
  readonly kind: "pool";
  readonly inShape: Shape3;
  readonly outShape: Shape3;
  readonly kernel: readonly [kh: number, kw: number];
  readonly stride: readonly [sy: number, sx: number];
  /** The single weight, int16 range. */
  readonly weight: number;
  /** Left shift of the weight, 0..23. */
  readonly shift: number;
}

/** Any connection. Feed-forward ones deliver in the same step; recurrent ones one step later. */
export type Connection = DenseConnection | SparseConnection | Conv2dConnection | PoolConnection;

/**
 * Neuron models (spec/ops.md §Neurons):
 * - `if`: integrate-and-fire, no leak.
 * - `lif-shift`: leak `v -= floor(v / 2^leakShift)` (leakShift 0 = no leak).
 * - `lif-q15`: leak `v = floor(v * leakQ15 / 2^15)`.
 * - `cuba`: current-based LIF: synaptic current `i -= floor(i / 2^currentShift)`, `i += input`,
 *   then `v` leaks as lif-shift and integrates `i`.
 * - `integrator`: non-spiking readout; `v += bias + input`, never fires, never resets.
 */
export type NeuronModel = "if" | "lif-shift" | "lif-q15" | "cuba" | "integrator";

/** How a neuron resets after a spike. */
export type ResetMode = "subtract" | "value";

/** Integer parameters shared by all neurons of a layer. */
export interface NeuronParams {
  readonly model: NeuronModel;
  /** Firing threshold, 1..2^31-1; a neuron fires when v >= threshold. */
  readonly threshold: number;
  /** `subtract`: v -= threshold. `value`: v = resetValue. */
  readonly reset: ResetMode;
  /** Membrane value after a spike with reset `value` (int32). */
  readonly resetValue: number;
  /** lif-shift and cuba: membrane leak shift, 0..31 (0 = no leak). */
  readonly leakShift: number;
  /** lif-q15: membrane retention factor, 0..32767 (Q15). */
  readonly leakQ15: number;
  /** cuba: synaptic current decay shift, 0..31 (0 = current does not persist: i = input). */
  readonly currentShift: number;
  /** Steps a neuron ignores input and cannot fire after a spike, 0..255. */
  readonly refractory: number;
  /** Lower clamp of the membrane (int32); INT32_MIN means unclamped. */
  readonly vMin: number;
  // Format version 2 (spec/ops.md §4.9); each absent keeps the version-1 meaning.
  /** Spike test: `ge` (default) v >= threshold, `gt` v > threshold. */
  readonly compare?: "ge" | "gt";
  /** Reset subtract one step late, after the leak and the input, not decayed (snnTorch's default). */
  readonly resetDelay?: boolean;
  /** Reset subtract only: a neuron emits n = min(floor(v / threshold), 255) spikes in one step (one event of value n) and subtracts n·threshold (sinabs, Rockpool). */
  readonly multiSpike?: boolean;
  /** Membrane at every reset (default 0). */
  readonly vInit?: number;
  /** cuba only: `shift` (default, §4.4) or `q15` (Q15 retentions; the bias enters the current). */
  readonly synapse?: "shift" | "q15";
  /** cuba in Q15 form: the current's retention, 0..32767 (default 0). */
  readonly currentQ15?: number;
  /** One membrane retention per neuron (lif-q15, cuba in Q15 form, integrator), replacing leakQ15. */
  readonly leakQ15s?: Uint16Array;
  /** cuba in Q15 form: one current retention per neuron, replacing currentQ15. */
  readonly currentQ15s?: Uint16Array;
}

/** True when a layer's neurons use a version-2 step rule (spec/ops.md §4.9), which runs the rule kernels. */
export function usesNeuronRules(n: NeuronParams): boolean {
  return n.compare === "gt" || n.resetDelay === true || n.multiSpike === true || n.synapse === "q15" || n.leakQ15s !== undefined;
}

/**
 * Learning parameters of a plastic layer's feed-forward connection (spec/ops.md §Plasticity).
 * Traces are int16 with shift decay; weights stay in [wMin, wMax] of the stored width.
 */
export interface Plasticity {
  /**
   * `stdp`: pair STDP, each pairing changes the weight at once. `rstdp`: pairings change the
   * eligibility, which a reward turns into a weight change. `triplet` (format version 2, event
   * timing only): the minimal triplet rule of Pfister & Gerstner, spec/ops.md §11.6.
   */
  readonly rule: "stdp" | "rstdp" | "triplet";
  /** Pre-synaptic trace decay shift, 1..15. */
  readonly preTraceShift: number;
  /** Post-synaptic trace decay shift, 1..15. */
  readonly postTraceShift: number;
  /** Trace increment on a spike, 1..32767 (traces saturate at int16). */
  readonly traceIncrement: number;
  /** Potentiation amplitude (applied with the pre trace when the post neuron fires), 0..32767. */
  readonly aPlus: number;
  /** Depression amplitude (applied with the post trace when the pre neuron fires), 0..32767. */
  readonly aMinus: number;
  /** Eligibility trace decay shift, 1..15 (rstdp). */
  readonly eligibilityShift: number;
  /** Learning-rate shift: the weight change is floor(x / 2^learningShift), 0..31. */
  readonly learningShift: number;
  /** Running reward baseline decay shift, 0..15 (0 = no baseline). */
  readonly baselineShift: number;
  /** Weight clamp, within the stored width. */
  readonly wMin: number;
  readonly wMax: number;
  /**
   * When traces and eligibility are updated (spec/ops.md §11.5; format version 2, optional):
   * `step` (absent: the version-1 rule) decays every trace and eligibility every step; `event`
   * keeps each one with the step it was last touched and decays it by the elapsed steps at its
   * next event, so a synapse costs nothing in a step in which neither of its neurons spikes and no
   * reward arrives. Dense input connections only. `epoch` (spec/ops.md §11.7) learns at the
   * resolution of an epoch of 2^epochShift steps: each step only marks its pre events and post
   * spikes, and one fused pass per epoch does the pairings, the decay and the epoch's rewards.
   */
  readonly timing?: PlasticityTiming;
  /**
   * `epoch` timing only (format version 2, optional): the epoch is 2^epochShift steps, 1..8;
   * absent means EPOCH_SHIFT_DEFAULT. The decay shifts then act once per epoch.
   */
  readonly epochShift?: number;
  /** `triplet` only (then required): decay shift 1..15 of the slow post trace y2 (tau_y). */
  readonly tripletShift?: number;
  /** `triplet` only (then required): triplet potentiation amplitude A3+, 0..32767 (Q15 of the slow trace). */
  readonly a3Plus?: number;
}

/** Plasticity timing (spec/ops.md §11.5, §11.7): per step (version-1 rule), event-driven, or per epoch. */
export type PlasticityTiming = "step" | "event" | "epoch";

/** epochShift when an epoch-timed layer leaves it out: epochs of 2^5 = 32 steps (spec/ops.md §11.7, chosen by measurement in BENCHMARKS.md). */
export const EPOCH_SHIFT_DEFAULT = 5;

/** One layer of neurons and the connections that drive it. */
export interface Layer {
  /** Human-readable name (from the source model), 1..64 UTF-8 bytes. */
  readonly name: string;
  /** Number of neurons. */
  readonly size: number;
  /** Spatial layout when the layer is a feature map (size = C*H*W). */
  readonly shape?: Shape3;
  /** Feed-forward input from the previous layer (or the network input for layer 0). */
  readonly input: Connection;
  /** Optional recurrent/lateral connection from this layer's own spikes, delivered one step later. */
  readonly recurrent?: Connection;
  /** Constant current per neuron (length size) or per channel (length shape[0]); int32. */
  readonly bias?: Int32Array;
  readonly neuron: NeuronParams;
  /** Present when the feed-forward weights learn. */
  readonly plasticity?: Plasticity;
}

/**
 * How the network input is produced from data:
 * - `spikes`: events arrive already as spikes (value 1).
 * - `rate`: each step, input i spikes when the top 8 bits of the next PRNG draw are < intensity[i].
 * - `current`: each step, every nonzero input i delivers a graded event of value intensity[i]
 *   (0..255), so the first layer receives w * value.
 */
export interface InputDescription {
  readonly size: number;
  readonly shape?: Shape3;
  readonly encoding: "spikes" | "rate" | "current";
  /** Seed of the PRNG for `rate` encoding (uint32, nonzero). */
  readonly seed: number;
}

/** How a class is read from the last layer: most spikes, or highest final membrane (integrator). Ties go to the lowest index. */
export interface Readout {
  readonly kind: "count" | "membrane";
}

/** Where the model came from and how to recover float values. Free-form but bounded (spec). */
export interface Provenance {
  /** Source model description (file name, architecture). */
  readonly source: string;
  /** Tool and version that wrote the table. */
  readonly tool: string;
  /** Settings of the converter and quantizer, as strings or numbers. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Per layer, the float value of one unit of membrane (so v_float = v_int * scale). */
  readonly layerScales: readonly number[];
}

/** A whole event table, as decoded and validated. */
export interface EventTable {
  readonly input: InputDescription;
  readonly layers: readonly Layer[];
  readonly readout: Readout;
  readonly provenance: Provenance;
}

/** Default neuron parameters (IF, reset by subtraction, no clamp) to spread over when building models. */
export const DEFAULT_NEURON: NeuronParams = {
  model: "if",
  threshold: 1 << 16,
  reset: "subtract",
  resetValue: 0,
  leakShift: 0,
  leakQ15: 32767,
  currentShift: 0,
  refractory: 0,
  vMin: -2147483648,
};
