/**
 * Seeded random VALID event tables for tests: format round-trips, interpreter conformance (TS vs C),
 * codegen. Deterministic: the same seed and options give the same table, on every platform (an
 * xorshift32 PRNG, no Math.random). Every table passes `validateTable`.
 *
 * By default a table of four or more layers holds every connection kind (dense, sparse, conv2d,
 * pool) once or more, and draws neuron models, weight widths, per-layer or per-channel shifts and
 * biases, recurrent connections (dense, sparse or conv2d) and plasticity at random. Thresholds are
 * scaled to the fan-in so that layers are neither silent nor saturated on random input.
 */
import { channelsOf, packInt4, weightRange } from "../format.js";
import { Xorshift32 } from "../prng.js";
import type { Connection, EventTable, InputDescription, Layer, NeuronModel, NeuronParams, Plasticity, Shape3, WeightBits, Weights } from "../model.js";

/** Connection kinds a random layer can take as its input. */
export type ConnectionKind = Connection["kind"];

/** Knobs of randomTable; every one has a default. */
export interface RandomTableOptions {
  /** Number of layers (1..64). Default 4. Ignored when `kinds` is given. */
  readonly layers?: number;
  /** Input connection kind of each layer, in order. Default: every kind once (shuffled), then random. */
  readonly kinds?: readonly ConnectionKind[];
  /** Neuron models to draw from. Default all five (integrator only ever in the last layer). */
  readonly models?: readonly NeuronModel[];
  /** Weight widths to draw from. Default 4, 8 and 16. */
  readonly weightBits?: readonly WeightBits[];
  /** Upper bound of a dense/sparse layer's size. Default 48. */
  readonly maxNeurons?: number;
  /** Probability that a layer has a recurrent connection. Default 0.3. */
  readonly recurrentProbability?: number;
  /** Probability that a dense/sparse spiking layer is plastic. Default 0.3. */
  readonly plasticityProbability?: number;
  /** Probability that a plastic layer with dense input is event-timed (spec/ops.md §11.5). Default: never (and no draw, so older seeds keep their tables). */
  readonly eventTimingProbability?: number;
  /**
   * Probability that a plastic layer with dense input and a pair rule becomes epoch-timed (spec/ops.md
   * §11.7), drawn from its own stream after the table is built, so the rest of a seed's table stays as
   * it was. Default: never. Short epochs (2..8 steps) half the time, so a test's steps span several.
   */
  readonly epochTimingProbability?: number;
  /** Input encoding. Default random. */
  readonly encoding?: InputDescription["encoding"];
  /** Readout. Default random. */
  readonly readout?: "count" | "membrane";
}

/**
 * The spec's xorshift32 (runtime/prng.ts) with test conveniences (ranges, picks, shuffles) and a
 * mixed seed, so that any integer (0 included) and nearby seeds give unrelated streams. For test
 * data only: the per-step path uses Xorshift32 directly.
 */
export class TestRng extends Xorshift32 {
  /** Seeds the generator from any integer. */
  constructor(seed: number) {
    let s = (seed ^ 0x9e3779b9) >>> 0;
    s = Math.imul(s ^ (s >>> 16), 0x85ebca6b) >>> 0;
    s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
    s = (s ^ (s >>> 16)) >>> 0;
    super(s === 0 ? 0x6d2b79f5 : s);
  }

  /** Uniform integer in [lo, hi] (inclusive; hi - lo < 2^32). */
  int(lo: number, hi: number): number {
    return lo + Math.floor((this.next() / 4294967296) * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() / 4294967296 < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

const ALL_KINDS: readonly ConnectionKind[] = ["dense", "sparse", "conv2d", "pool"];
const ALL_MODELS: readonly NeuronModel[] = ["if", "lif-shift", "lif-q15", "cuba", "integrator"];
const INT32_MIN = -2147483648;

interface Pop {
  readonly size: number;
  readonly shape: Shape3 | undefined;
}

/** Random weights of `count` synapses; values within [lo, hi]. Returns the mean |w << shift|. */
function randomWeights(rng: TestRng, count: number, channels: number, bits: WeightBits, lo: number, hi: number): { weights: Weights; typical: number } {
  const values = Array.from({ length: count }, () => rng.int(lo, hi));
  const shift = rng.chance(0.5) ? Uint8Array.of(rng.int(0, 3)) : Uint8Array.from({ length: channels }, () => rng.int(0, 3));
  const data = bits === 4 ? packInt4(values) : bits === 8 ? Int8Array.from(values) : Int16Array.from(values);
  let sum = 0;
  for (const v of values) sum += Math.abs(v);
  const typical = Math.max(1, (sum / Math.max(1, count)) * 2 ** shift[0]!);
  return { weights: { bits, data, count, shift }, typical };
}

function flatShape(rng: TestRng, maxNeurons: number): Shape3 {
  const c = rng.int(1, 3);
  const h = rng.int(1, 4);
  const w = rng.int(1, Math.max(1, Math.min(4, Math.floor(maxNeurons / (c * h)))));
  return [c, h, w];
}

interface Built {
  readonly conn: Connection;
  readonly post: Pop;
  readonly fanIn: number;
  readonly typical: number;
}

/** A connection of `kind` from `pre`; picks the post population when `post` is not given. */
function buildConnection(
  rng: TestRng,
  kind: ConnectionKind,
  pre: Pop,
  post: Pop | undefined,
  bits: WeightBits,
  clamp: readonly [number, number],
  maxNeurons: number,
  isLast: boolean,
): Built {
  const [lo, hi] = clamp;
  if (kind === "dense" || kind === "sparse") {
    const target: Pop =
      post ??
      (isLast
        ? { size: rng.int(2, 10), shape: undefined }
        : (() => {
            const shape = flatShape(rng, maxNeurons);
            return { size: shape[0] * shape[1] * shape[2], shape };
          })());
    const channels = channelsOf(target.size, target.shape);
    if (kind === "dense") {
      const { weights, typical } = randomWeights(rng, pre.size * target.size, channels, bits, lo, hi);
      return { conn: { kind, inputs: pre.size, outputs: target.size, weights }, post: target, fanIn: pre.size, typical };
    }
    const density = rng.pick([0.1, 0.3, 0.6]);
    const rowPtr = new Uint32Array(pre.size + 1);
    const cols: number[] = [];
    for (let i = 0; i < pre.size; i++) {
      for (let j = 0; j < target.size; j++) if (rng.chance(density)) cols.push(j);
      rowPtr[i + 1] = cols.length;
    }
    const { weights, typical } = randomWeights(rng, cols.length, channels, bits, lo, hi);
    const conn: Connection = { kind, inputs: pre.size, outputs: target.size, rowPtr, cols: Uint16Array.from(cols), weights };
    return { conn, post: target, fanIn: Math.max(1, Math.round(pre.size * density)), typical };
  }
  const inShape = pre.shape!;
  const [C, H, W] = inShape;
  if (kind === "conv2d") {
    const recurrentSame = post !== undefined;
    const kh = recurrentSame ? 3 : rng.int(1, Math.min(3, H + 2));
    const kw = recurrentSame ? 3 : rng.int(1, Math.min(3, W + 2));
    const sy = recurrentSame ? 1 : rng.int(1, 2);
    const sx = recurrentSame ? 1 : rng.int(1, 2);
    // padding < kernel and the padded map must hold the kernel
    const py = recurrentSame ? 1 : rng.int(Math.max(0, Math.ceil((kh - H) / 2)), kh - 1);
    const px = recurrentSame ? 1 : rng.int(Math.max(0, Math.ceil((kw - W) / 2)), kw - 1);
    const K = recurrentSame ? C : rng.int(1, 3);
    const outShape: Shape3 = [K, Math.floor((H + 2 * py - kh) / sy) + 1, Math.floor((W + 2 * px - kw) / sx) + 1];
    const { weights, typical } = randomWeights(rng, K * C * kh * kw, K, bits, lo, hi);
    const conn: Connection = { kind, inShape, outShape, kernel: [kh, kw], stride: [sy, sx], padding: [py, px], weights };
    return { conn, post: { size: outShape[0] * outShape[1] * outShape[2], shape: outShape }, fanIn: C * kh * kw, typical };
  }
  const kh = rng.int(1, Math.min(2, H));
  const kw = rng.int(1, Math.min(2, W));
  const sy = rng.int(1, kh);
  const sx = rng.int(1, kw);
  const outShape: Shape3 = [C, Math.floor((H - kh) / sy) + 1, Math.floor((W - kw) / sx) + 1];
  const weight = rng.int(1, 64);
  const shift = rng.int(0, 3);
  const conn: Connection = { kind, inShape, outShape, kernel: [kh, kw], stride: [sy, sx], weight, shift };
  return { conn, post: { size: outShape[0] * outShape[1] * outShape[2], shape: outShape }, fanIn: kh * kw, typical: weight * 2 ** shift };
}

function randomNeuron(rng: TestRng, model: NeuronModel, threshold: number): NeuronParams {
  if (model === "integrator")
    return {
      model,
      threshold,
      reset: "subtract",
      resetValue: 0,
      leakShift: 0,
      leakQ15: 32767,
      currentShift: 0,
      refractory: 0,
      vMin: rng.chance(0.5) ? INT32_MIN : Math.max(INT32_MIN, -threshold * 8),
    };
  const vMin = rng.chance(0.5) ? INT32_MIN : Math.max(INT32_MIN, -threshold * rng.int(1, 8));
  const reset = rng.chance(0.5) ? "subtract" : "value";
  return {
    model,
    threshold,
    reset,
    resetValue: reset === "value" ? rng.int(Math.max(vMin, -threshold), threshold - 1) : 0,
    leakShift: model === "lif-shift" || model === "cuba" ? rng.int(1, 8) : 0,
    leakQ15: model === "lif-q15" ? rng.int(16384, 32767) : 32767,
    currentShift: model === "cuba" ? rng.int(0, 4) : 0,
    refractory: rng.chance(0.5) ? 0 : rng.int(1, 3),
    vMin,
  };
}

function randomPlasticity(rng: TestRng, clamp: readonly [number, number]): Plasticity {
  return {
    rule: rng.pick(["stdp", "rstdp"] as const),
    preTraceShift: rng.int(1, 6),
    postTraceShift: rng.int(1, 6),
    traceIncrement: rng.int(1, 32767),
    aPlus: rng.int(0, 32767),
    aMinus: rng.int(0, 32767),
    eligibilityShift: rng.int(1, 15),
    learningShift: rng.int(0, 31),
    baselineShift: rng.int(0, 15),
    wMin: clamp[0],
    wMax: clamp[1],
  };
}

/** `p` event-timed with probability `probability` when its input is dense; without a probability, `p` as it is and no draw. */
function withTiming(rng: TestRng, p: Plasticity, kind: ConnectionKind, probability: number | undefined): Plasticity {
  if (probability === undefined || kind !== "dense") return p;
  if (!rng.chance(probability)) return p;
  // a third of the event-timed layers learn with the triplet rule (spec/ops.md §11.6)
  if (rng.chance(1 / 3)) return { ...p, rule: "triplet", timing: "event", tripletShift: rng.int(1, 9), a3Plus: rng.int(0, 32767) };
  return { ...p, timing: "event" };
}

/** A valid random event table, the same for the same seed and options. */
export function randomTable(seed: number, options: RandomTableOptions = {}): EventTable {
  const rng = new TestRng(seed);
  const maxNeurons = Math.max(4, options.maxNeurons ?? 48);
  const models = options.models ?? ALL_MODELS;
  const bitChoices = options.weightBits ?? [4, 8, 16];
  const pRecurrent = options.recurrentProbability ?? 0.3;
  const pPlastic = options.plasticityProbability ?? 0.3;
  const layerCount = options.kinds?.length ?? Math.min(64, Math.max(1, options.layers ?? 4));
  const kinds =
    options.kinds ??
    (() => {
      const base = rng.shuffle(ALL_KINDS);
      while (base.length < layerCount) base.push(rng.pick(ALL_KINDS));
      return base.slice(0, layerCount);
    })();
  const readout = options.readout ?? rng.pick(["count", "membrane"] as const);
  const encoding = options.encoding ?? rng.pick(["spikes", "rate", "current"] as const);
  const inShape: Shape3 = [rng.int(1, 2), rng.int(4, 8), rng.int(4, 8)];
  const input: InputDescription = {
    size: inShape[0] * inShape[1] * inShape[2],
    shape: inShape,
    encoding,
    seed: encoding === "rate" ? rng.int(1, 0xffffffff) : 0,
  };

  let pre: Pop = { size: input.size, shape: inShape };
  const layers: Layer[] = [];
  kinds.forEach((kind, i) => {
    const isLast = i === kinds.length - 1;
    const spiking = models.filter((m) => m !== "integrator");
    let model: NeuronModel;
    if (isLast && readout === "membrane" && models.includes("integrator") && (spiking.length === 0 || rng.chance(0.5))) model = "integrator";
    else model = spiking.length > 0 ? rng.pick(spiking) : "if";
    const bits = rng.pick(bitChoices);
    const range = weightRange(bits);
    const plastic = (kind === "dense" || kind === "sparse") && model !== "integrator" && rng.chance(pPlastic);
    // A plastic layer clamps to a sub-range; its initial weights lie inside it.
    const clamp: readonly [number, number] = plastic ? [Math.ceil(range[0] / 2), Math.floor(range[1] / 2)] : range;
    const built = buildConnection(rng, kind, pre, undefined, bits, clamp, maxNeurons, isLast);
    const post = built.post;
    // Fire after roughly a quarter of the fan-in is active with typical weights.
    const threshold = Math.max(1, Math.min(2 ** 30, Math.round(built.typical * Math.max(1, built.fanIn / 4) * (0.5 + rng.int(0, 100) / 100))));
    let recurrent: Connection | undefined;
    if (rng.chance(pRecurrent) && model !== "integrator") {
      const rkind: ConnectionKind = post.shape && rng.chance(0.4) ? "conv2d" : rng.pick(["dense", "sparse"] as const);
      const rbits = rng.pick(bitChoices);
      recurrent = buildConnection(rng, rkind, post, post, rbits, weightRange(rbits), maxNeurons, false).conn;
    }
    let bias: Int32Array | undefined;
    if (rng.chance(0.5)) {
      const n = rng.chance(0.5) ? post.size : channelsOf(post.size, post.shape);
      const b = Math.max(1, threshold >> 3);
      bias = Int32Array.from({ length: n }, () => rng.int(-b, b));
    }
    layers.push({
      name: `${kind}${i}`,
      size: post.size,
      ...(post.shape ? { shape: post.shape } : {}),
      input: built.conn,
      ...(recurrent ? { recurrent } : {}),
      ...(bias ? { bias } : {}),
      neuron: randomNeuron(rng, model, threshold),
      ...(plastic ? { plasticity: withTiming(rng, randomPlasticity(rng, clamp), kind, options.eventTimingProbability) } : {}),
    });
    pre = post;
  });
  const last = layers[layers.length - 1]!;
  const epochs = options.epochTimingProbability;
  if (epochs !== undefined) {
    const er = new TestRng((seed ^ 0x3e70c4) >>> 0 || 1);
    layers.forEach((l, i) => {
      const p = l.plasticity;
      if (p === undefined || p.rule === "triplet" || l.input.kind !== "dense" || !er.chance(epochs)) return;
      layers[i] = { ...l, plasticity: { ...p, timing: "epoch", ...(er.chance(0.5) ? { epochShift: er.int(1, 3) } : {}) } };
    });
  }
  return {
    input,
    layers,
    readout: { kind: last.neuron.model === "integrator" ? "membrane" : readout },
    provenance: {
      source: `randomTable(${seed})`,
      tool: "picospike runtime/testing/random-table",
      settings: { seed, layers: layers.length, encoding },
      layerScales: layers.map(() => rng.int(1, 4096) / 1024),
    },
  };
}
