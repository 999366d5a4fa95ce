/**
 * The learning state of one plastic layer (spec/ops.md §11) bound to the generated plasticity
 * kernels (codegen/kernels-plasticity.ts → runtime/kernels_generated.ts). The interpreter owns one
 * per plastic layer: its feed-forward scatter reads the int16 working weights held here, `learn`
 * runs right after the layer's neuron update and `reward` at the start of a rewarded step. Like
 * the interpreter, this file does no arithmetic on state itself.
 */
import { fail } from "./errors.js";
import * as K from "./kernels_generated.js";
import { decayFactors, int4At, sat16 } from "./fixed.js";
import { EPOCH_SHIFT_DEFAULT, type EventTable, type Layer, type Plasticity, type Weights } from "./model.js";

const EMPTY_I16 = new Int16Array(0);
const EMPTY_U32 = new Uint32Array(0);
const EMPTY_U8 = new Uint8Array(0);
const EMPTY_I32 = new Int32Array(0);
const EMPTY_U16 = new Uint16Array(0);
const EMPTY_I8 = new Int8Array(0);

function checkRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) fail("FORMAT_OUT_OF_RANGE", `${what} must be an integer in ${min}..${max}, got ${value}`);
}

/** Checks a plasticity record against spec/table-format.md §3.6 (the interpreter accepts tables built in memory). */
export function checkPlasticity(p: Plasticity, weights: Weights, what: string): void {
  if (p.rule !== "stdp" && p.rule !== "rstdp" && p.rule !== "triplet") fail("FORMAT_UNKNOWN_KIND", `${what}: unknown learning rule '${p.rule as string}'`);
  if (p.rule === "triplet") {
    if (p.timing !== "event") fail("FORMAT_OUT_OF_RANGE", `${what}: the triplet rule needs timing 'event'`);
    checkRange(`${what} tripletShift`, p.tripletShift ?? Number.NaN, 1, 15);
    checkRange(`${what} a3Plus`, p.a3Plus ?? Number.NaN, 0, 32767);
  }
  checkRange(`${what} preTraceShift`, p.preTraceShift, 1, 15);
  checkRange(`${what} postTraceShift`, p.postTraceShift, 1, 15);
  checkRange(`${what} eligibilityShift`, p.eligibilityShift, 1, 15);
  checkRange(`${what} traceIncrement`, p.traceIncrement, 1, 32767);
  checkRange(`${what} aPlus`, p.aPlus, 0, 32767);
  checkRange(`${what} aMinus`, p.aMinus, 0, 32767);
  checkRange(`${what} learningShift`, p.learningShift, 0, 31);
  checkRange(`${what} baselineShift`, p.baselineShift, 0, 15);
  if (p.timing !== undefined && p.timing !== "step" && p.timing !== "event" && p.timing !== "epoch")
    fail("FORMAT_UNKNOWN_KIND", `${what}: unknown plasticity timing '${p.timing as string}'`);
  if (p.epochShift !== undefined) {
    if (p.timing !== "epoch") fail("FORMAT_OUT_OF_RANGE", `${what}: epochShift belongs to timing 'epoch'`);
    checkRange(`${what} epochShift`, p.epochShift, 1, 8);
  }
  const half = 2 ** (weights.bits - 1);
  checkRange(`${what} wMin`, p.wMin, -half, half - 1);
  checkRange(`${what} wMax`, p.wMin <= p.wMax ? p.wMax : Number.NaN, p.wMin, half - 1);
}

/** The stored weights as int16 values (int4 unpacked), in synapse order. */
export function storedWeights16(weights: Weights): Int16Array {
  const out = new Int16Array(weights.count);
  if (weights.bits === 4) {
    const packed = weights.data as Uint8Array;
    for (let q = 0; q < weights.count; q++) out[q] = int4At(packed, q);
  } else out.set(weights.data as Int8Array | Int16Array);
  return out;
}

/** The learning state of a plastic layer, as the interpreters expose it (live views). */
export interface PlasticityState {
  readonly params: Plasticity;
  readonly weights: Int16Array;
  readonly preTrace: Int16Array;
  readonly postTrace: Int16Array;
  readonly eligibility: Int16Array;
  readonly baseline: Int32Array;
  /** Event timing (spec/ops.md §11.5): the step of each pre / post neuron's last event; empty for step timing. */
  readonly preStamp: Uint32Array;
  readonly postStamp: Uint32Array;
  /** Triplet rule (spec/ops.md §11.6): the slow post trace y2 and its stamps; empty otherwise. */
  readonly slowTrace: Int16Array;
  readonly slowStamp: Uint32Array;
  /** Epoch timing (spec/ops.md §11.7): the epoch's pre / post markers (0 or 1) and its reward sum in rewardSum[0]; empty otherwise. */
  readonly preMark: Uint8Array;
  readonly postMark: Uint8Array;
  readonly rewardSum: Int32Array;
}

/** True when the layer's traces and eligibility are event-timed (spec/ops.md §11.5). */
export function eventTimed(p: Plasticity): boolean {
  return p.timing === "event";
}

/** Steps per epoch of an epoch-timed layer (spec/ops.md §11.7: 2^epochShift); 0 for other timings. */
export function epochSteps(p: Plasticity): number {
  return p.timing === "epoch" ? 1 << (p.epochShift ?? EPOCH_SHIFT_DEFAULT) : 0;
}

/** One plastic layer's working weights, traces, eligibility and baseline, with its §11 kernels. */
export class PlasticLayer implements PlasticityState {
  /** The rule's parameters. */
  readonly params: Plasticity;
  /** int16 working weights in the stored synapse order (a live view: the scatter reads it). */
  readonly weights: Int16Array;
  /** Pre traces (one per presynaptic neuron), post traces (one per neuron). */
  readonly preTrace: Int16Array;
  readonly postTrace: Int16Array;
  /** Eligibility per synapse (rstdp); empty for stdp. */
  readonly eligibility: Int16Array;
  /** Reward baseline b in baseline[0] (rstdp). */
  readonly baseline = new Int32Array(1);
  /** Event timing: the step of each pre / post neuron's last event (traces hold their value at that step); empty for step timing. */
  readonly preStamp: Uint32Array;
  readonly postStamp: Uint32Array;
  /** Triplet rule: the slow post trace y2 (value at its last jump) and its stamps; empty otherwise. */
  readonly slowTrace: Int16Array;
  readonly slowStamp: Uint32Array;
  /** Epoch timing: the epoch's markers and reward sum; empty otherwise. */
  readonly preMark: Uint8Array;
  readonly postMark: Uint8Array;
  readonly rewardSum: Int32Array;
  /**
   * Epoch-timed rstdp (spec/ops.md §11.7, the row skip): per presynaptic neuron a bound on |e| over its
   * row (0: the row's eligibility is all 0); derived state, not in the snapshot (restore() recomputes
   * it). Empty otherwise.
   */
  readonly rowBound: Uint16Array;
  /** Epoch timing: rows the epoch passes have visited since construction (the rest were skipped); for tests and benches. */
  epochRowsVisited = 0;
  private readonly learnAt: (pre: Uint32Array, n: number, fired: Uint32Array, nFired: number, now: number) => void;
  private readonly rewardAt: (r: number, now: number) => void;
  private readonly stored: Int16Array;
  private readonly depress: (pre: Uint32Array, n: number) => void;
  private readonly potentiate: (fired: Uint32Array, n: number) => void;
  /** Folds the events through the working weights (spec/ops.md §3, with int16 weights). */
  readonly scatter: (pre: Uint32Array, n: number, values: Uint8Array, graded: boolean, acc: Int32Array) => number;

  /** Binds `layer` (whose input is dense or sparse, already validated by the interpreter) with `inputs` presynaptic neurons. */
  constructor(layer: Layer, inputs: number, what: string) {
    const p = layer.plasticity;
    const c = layer.input;
    if (p === undefined) throw new RangeError(`${what} is not plastic`);
    if (c.kind !== "dense" && c.kind !== "sparse")
      fail("FORMAT_OUT_OF_RANGE", `${what}: plasticity applies to dense or sparse input connections, not '${c.kind}'`);
    if (layer.neuron.model === "integrator") fail("FORMAT_OUT_OF_RANGE", `${what}: an integrator layer cannot be plastic`);
    checkPlasticity(p, c.weights, what);
    if (p.timing === "epoch" && c.kind !== "dense") fail("FORMAT_OUT_OF_RANGE", `${what}: epoch timing applies to dense input connections, not '${c.kind}'`);
    this.params = p;
    this.stored = storedWeights16(c.weights);
    for (let q = 0; q < this.stored.length; q++) {
      const w = this.stored[q]!;
      if (w < p.wMin || w > p.wMax) fail("FORMAT_OUT_OF_RANGE", `${what}: stored weight ${q} = ${w} lies outside the plasticity clamp ${p.wMin}..${p.wMax}`);
    }
    const weights = Int16Array.from(this.stored);
    const size = layer.size;
    this.weights = weights;
    this.preTrace = new Int16Array(inputs);
    this.postTrace = new Int16Array(size);
    const direct = p.rule !== "rstdp";
    const elig = direct ? EMPTY_I16 : new Int16Array(weights.length);
    this.eligibility = elig;
    const event = eventTimed(p);
    this.preStamp = event ? new Uint32Array(inputs) : EMPTY_U32;
    this.postStamp = event ? new Uint32Array(size) : EMPTY_U32;
    const triplet = p.rule === "triplet";
    this.slowTrace = triplet ? new Int16Array(size) : EMPTY_I16;
    this.slowStamp = triplet ? new Uint32Array(size) : EMPTY_U32;
    const epoch = epochSteps(p);
    this.preMark = epoch > 0 ? new Uint8Array(inputs) : EMPTY_U8;
    this.postMark = epoch > 0 ? new Uint8Array(size) : EMPTY_U8;
    this.rewardSum = epoch > 0 ? new Int32Array(1) : EMPTY_I32;
    this.rowBound = epoch > 0 && !direct ? new Uint16Array(inputs) : EMPTY_U16;
    const { aPlus, aMinus, learningShift, wMin, wMax } = p;
    const pre = this.preTrace;
    const post = this.postTrace;
    const shift = c.weights.shift;
    const perChannel = shift.length !== 1;
    const channels = layer.shape === undefined ? size : layer.shape[0];
    const plane = layer.shape === undefined ? 1 : layer.shape[1] * layer.shape[2];
    if (c.kind === "dense") {
      const outputs = c.outputs;
      this.scatter = (ev, n, values, graded, acc) => K.scatterDenseW16(ev, n, values, graded, channels, weights, shift, perChannel, plane, acc);
      this.depress = (ev, n) => K.plasticDepressDense(ev, n, outputs, post, aMinus, direct, weights, elig, learningShift, wMin, wMax);
      this.potentiate = (fired, n) => K.plasticPotentiateDense(fired, n, inputs, outputs, pre, aPlus, direct, weights, elig, learningShift, wMin, wMax);
    } else {
      const { rowPtr } = c;
      const flags = new Uint8Array(size);
      if (c.cols instanceof Uint16Array) {
        const cols = c.cols;
        this.scatter = (ev, n, values, graded, acc) => K.scatterSparseW16C16(ev, n, values, graded, rowPtr, cols, weights, shift, perChannel, plane, acc);
        this.depress = (ev, n) => K.plasticDepressSparseC16(ev, n, rowPtr, cols, post, aMinus, direct, weights, elig, learningShift, wMin, wMax);
        this.potentiate = (fired, n) => {
          K.plasticMark(flags, fired, n, 1);
          K.plasticPotentiateSparseC16(flags, inputs, rowPtr, cols, pre, aPlus, direct, weights, elig, learningShift, wMin, wMax);
          K.plasticMark(flags, fired, n, 0);
        };
      } else {
        const cols = c.cols instanceof Uint32Array ? c.cols : Uint32Array.from(c.cols);
        this.scatter = (ev, n, values, graded, acc) => K.scatterSparseW16C32(ev, n, values, graded, rowPtr, cols, weights, shift, perChannel, plane, acc);
        this.depress = (ev, n) => K.plasticDepressSparseC32(ev, n, rowPtr, cols, post, aMinus, direct, weights, elig, learningShift, wMin, wMax);
        this.potentiate = (fired, n) => {
          K.plasticMark(flags, fired, n, 1);
          K.plasticPotentiateSparseC32(flags, inputs, rowPtr, cols, pre, aPlus, direct, weights, elig, learningShift, wMin, wMax);
          K.plasticMark(flags, fired, n, 0);
        };
      }
    }
    if (epoch > 0 && c.kind === "dense") {
      const outputs = c.outputs;
      const { preMark, postMark, rewardSum, rowBound } = this;
      const depAmt = new Int32Array(size);
      const { preTraceShift, postTraceShift, eligibilityShift, traceIncrement } = p;
      this.learnAt = (ev, n, fired, nFired, now) => {
        K.plasticMark(preMark, ev, n, 1);
        K.plasticMark(postMark, fired, nFired, 1);
        if ((now & (epoch - 1)) !== epoch - 1) return;
        this.epochRowsVisited += K.plasticEpochDense(
          preMark,
          postMark,
          inputs,
          outputs,
          pre,
          post,
          depAmt,
          preTraceShift,
          postTraceShift,
          eligibilityShift,
          traceIncrement,
          aPlus,
          aMinus,
          rewardSum[0]!,
          this.baseline,
          p.baselineShift,
          direct,
          weights,
          elig,
          learningShift,
          wMin,
          wMax,
          rowBound,
          false,
          EMPTY_I8,
        );
        rewardSum[0] = 0;
      };
      this.rewardAt = (r) => K.plasticEpochAddReward(rewardSum, r);
    } else if (event && c.kind === "dense") {
      const outputs = c.outputs;
      const gx = decayFactors(p.preTraceShift);
      const gy = decayFactors(p.postTraceShift);
      const ge = decayFactors(p.eligibilityShift);
      const preNow = new Int16Array(inputs);
      const postNow = new Int16Array(size);
      const preStamp = this.preStamp;
      const postStamp = this.postStamp;
      const { traceIncrement } = p;
      // potentiation gain per post neuron: aPlus for pair rules, recomputed per spike for triplet (§11.6)
      const gain = new Int32Array(size).fill(aPlus);
      const slow = this.slowTrace;
      const slowStamp = this.slowStamp;
      const gSlow = decayFactors(p.tripletShift ?? 1);
      const a3Plus = p.a3Plus ?? 0;
      this.learnAt = (ev, n, fired, nFired, now) => {
        if (n > 0) {
          K.plasticEventTraceNow(post, postStamp, size, now, gy, postNow);
          K.plasticEventDepressDense(ev, n, outputs, postNow, aMinus, preStamp, postStamp, now, ge, direct, weights, elig, learningShift, wMin, wMax);
          K.plasticEventBump(pre, preStamp, ev, n, now, gx, traceIncrement);
        }
        if (nFired > 0) {
          K.plasticEventTraceNow(pre, preStamp, inputs, now, gx, preNow);
          if (triplet) K.plasticTripletGain(fired, nFired, slow, slowStamp, now, gSlow, aPlus, a3Plus, gain);
          K.plasticEventPotentiateDense(
            fired,
            nFired,
            inputs,
            outputs,
            preNow,
            gain,
            preStamp,
            postStamp,
            now,
            ge,
            direct,
            weights,
            elig,
            learningShift,
            wMin,
            wMax,
          );
          K.plasticEventBump(post, postStamp, fired, nFired, now, gy, traceIncrement);
          if (triplet) K.plasticEventBump(slow, slowStamp, fired, nFired, now, gSlow, traceIncrement);
        }
      };
      this.rewardAt = (r, now) =>
        K.plasticEventRewardDense(
          weights,
          elig,
          inputs,
          outputs,
          preStamp,
          postStamp,
          (now - 1) >>> 0,
          ge,
          r,
          this.baseline,
          p.baselineShift,
          learningShift,
          wMin,
          wMax,
        );
    } else {
      this.learnAt = (ev, n, fired, nFired) => this.learnStep(ev, n, fired, nFired);
      this.rewardAt = (r) => K.plasticReward(weights, elig, weights.length, r, this.baseline, p.baselineShift, learningShift, wMin, wMax);
    }
  }

  /** True for the reward-modulated rule. */
  get rewarded(): boolean {
    return this.params.rule === "rstdp";
  }

  /**
   * spec/ops.md §11.2 (§11.5 for event timing), after the layer's neuron update of step `now`
   * (the steps since reset, modulo 2^32): pre events pre[0..n), this step's spikes fired[0..nFired).
   */
  learn(pre: Uint32Array, n: number, fired: Uint32Array, nFired: number, now: number): void {
    this.learnAt(pre, n, fired, nFired, now >>> 0);
  }

  private learnStep(pre: Uint32Array, n: number, fired: Uint32Array, nFired: number): void {
    const p = this.params;
    K.plasticDecay(this.preTrace, this.preTrace.length, p.preTraceShift);
    K.plasticDecay(this.postTrace, this.postTrace.length, p.postTraceShift);
    if (this.eligibility.length > 0) K.plasticDecay(this.eligibility, this.eligibility.length, p.eligibilityShift);
    if (n > 0) this.depress(pre, n);
    K.plasticBump(this.preTrace, pre, n, p.traceIncrement);
    K.plasticBump(this.postTrace, fired, nFired, p.traceIncrement);
    if (nFired > 0) this.potentiate(fired, nFired);
  }

  /** spec/ops.md §11.3 (§11.5; §11.7: added into the epoch's reward sum): the reward r (int16, nonzero) at the start of step `now` (steps since reset); rstdp only. */
  reward(r: number, now: number): void {
    this.rewardAt(r, now >>> 0);
  }

  /** Traces, eligibility and baseline to 0; the working weights stay (spec/ops.md §11.4). */
  reset(): void {
    this.preTrace.fill(0);
    this.postTrace.fill(0);
    this.eligibility.fill(0);
    this.baseline[0] = 0;
    this.preStamp.fill(0);
    this.postStamp.fill(0);
    this.slowTrace.fill(0);
    this.slowStamp.fill(0);
    this.preMark.fill(0);
    this.postMark.fill(0);
    this.rewardSum.fill(0);
    this.rowBound.fill(0);
  }

  /** Recomputes each row's eligibility bound from the eligibility (exact: max |e| over the row), after the state was replaced (spec/ops.md §11.7). */
  deriveRowBounds(): void {
    const bound = this.rowBound;
    if (bound.length === 0) return;
    const e = this.eligibility;
    const outputs = e.length / bound.length;
    for (let p = 0; p < bound.length; p++) {
      let max = 0;
      for (let q = p * outputs; q < (p + 1) * outputs; q++) max = Math.max(max, Math.abs(e[q]!));
      bound[p] = max;
    }
  }

  /** Working weights back to the table's stored weights. */
  resetWeights(): void {
    this.weights.set(this.stored);
  }
}

/** Stored weights of `bits` width holding the values of `w` (all within the width: the clamp lies inside it). */
export function packWeights(w: Int16Array, like: Weights): Weights {
  if (like.bits === 16) return { ...like, data: Int16Array.from(w) };
  if (like.bits === 8) return { ...like, data: Int8Array.from(w) };
  const packed = new Uint8Array(Math.ceil(w.length / 2));
  for (let q = 0; q < w.length; q++) packed[q >> 1]! |= (w[q]! & 15) << ((q & 1) * 4);
  return { ...like, data: packed };
}

/** Bytes the plasticity section adds to a snapshot (spec/ops.md §10): per plastic layer w, x, y, e (int16 each), b (int32), then the timing's state. */
export function plasticSnapshotLength(states: readonly (PlasticityState | undefined)[]): number {
  let length = 0;
  for (const st of states)
    if (st !== undefined)
      length +=
        2 * (st.weights.length + st.preTrace.length + st.postTrace.length + st.eligibility.length + st.slowTrace.length) +
        4 +
        4 * (st.preStamp.length + st.postStamp.length + st.slowStamp.length + st.rewardSum.length) +
        st.preMark.length +
        st.postMark.length;
  return length;
}

/** Writes the plasticity section at byte o; returns the offset after it. */
export function writePlasticSnapshot(view: DataView, o: number, states: readonly (PlasticityState | undefined)[]): number {
  for (const st of states) {
    if (st === undefined) continue;
    for (const a of [st.weights, st.preTrace, st.postTrace, st.eligibility]) {
      for (let i = 0; i < a.length; i++, o += 2) view.setInt16(o, a[i]!, true);
    }
    view.setInt32(o, st.baseline[0]!, true);
    o += 4;
    for (const a of [st.preStamp, st.postStamp]) {
      for (let i = 0; i < a.length; i++, o += 4) view.setUint32(o, a[i]!, true);
    }
    for (let i = 0; i < st.slowTrace.length; i++, o += 2) view.setInt16(o, st.slowTrace[i]!, true);
    for (let i = 0; i < st.slowStamp.length; i++, o += 4) view.setUint32(o, st.slowStamp[i]!, true);
    for (const a of [st.preMark, st.postMark]) {
      for (let i = 0; i < a.length; i++, o += 1) view.setUint8(o, a[i]!);
    }
    for (let i = 0; i < st.rewardSum.length; i++, o += 4) view.setInt32(o, st.rewardSum[i]!, true);
  }
  return o;
}

/**
 * Parses the plasticity section at byte o (checking weights against the clamp, traces ≥ 0, the
 * baseline in int16) without changing anything; `apply` then installs it. `mismatch` throws.
 */
export function readPlasticSnapshot(
  view: DataView,
  o: number,
  states: readonly (PlasticityState | undefined)[],
  mismatch: (why: string) => never,
): { end: number; apply: () => void } {
  const parsed: Array<() => void> = [];
  for (const st of states) {
    if (st === undefined) continue;
    const arrays = [st.weights, st.preTrace, st.postTrace, st.eligibility].map((a) => {
      if (o + a.length * 2 > view.byteLength) mismatch("it is truncated");
      const copy = new Int16Array(a.length);
      for (let i = 0; i < a.length; i++, o += 2) copy[i] = view.getInt16(o, true);
      return copy;
    });
    if (o + 4 > view.byteLength) mismatch("it is truncated");
    const baseline = view.getInt32(o, true);
    o += 4;
    const stamps = [st.preStamp, st.postStamp].map((a) => {
      if (o + a.length * 4 > view.byteLength) mismatch("it is truncated");
      const copy = new Uint32Array(a.length);
      for (let i = 0; i < a.length; i++, o += 4) copy[i] = view.getUint32(o, true);
      return copy;
    });
    if (o + st.slowTrace.length * 6 > view.byteLength) mismatch("it is truncated");
    const slow = new Int16Array(st.slowTrace.length);
    for (let i = 0; i < slow.length; i++, o += 2) slow[i] = view.getInt16(o, true);
    const slowStamp = new Uint32Array(st.slowStamp.length);
    for (let i = 0; i < slowStamp.length; i++, o += 4) slowStamp[i] = view.getUint32(o, true);
    if (slow.some((q) => q < 0)) mismatch("a trace is negative");
    const marks = [st.preMark, st.postMark].map((a) => {
      if (o + a.length > view.byteLength) mismatch("it is truncated");
      const copy = new Uint8Array(a.length);
      for (let i = 0; i < a.length; i++, o += 1) copy[i] = view.getUint8(o);
      return copy;
    });
    if (o + st.rewardSum.length * 4 > view.byteLength) mismatch("it is truncated");
    const rewardSum = new Int32Array(st.rewardSum.length);
    for (let i = 0; i < rewardSum.length; i++, o += 4) rewardSum[i] = view.getInt32(o, true);
    if (marks.some((a) => a.some((m) => m > 1))) mismatch("an epoch marker is neither 0 nor 1");
    if (rewardSum.some((r) => r < -32768 || r > 32767)) mismatch("the epoch reward sum is outside int16");
    const [w, x, y, e] = arrays as [Int16Array, Int16Array, Int16Array, Int16Array];
    if (w.some((q) => q < st.params.wMin || q > st.params.wMax)) mismatch("a plastic weight lies outside its clamp");
    if (x.some((q) => q < 0) || y.some((q) => q < 0)) mismatch("a trace is negative");
    if (baseline < -32768 || baseline > 32767) mismatch("the reward baseline is outside int16");
    parsed.push(() => {
      st.weights.set(w);
      st.preTrace.set(x);
      st.postTrace.set(y);
      st.eligibility.set(e);
      st.baseline[0] = baseline;
      st.preStamp.set(stamps[0]!);
      st.postStamp.set(stamps[1]!);
      st.slowTrace.set(slow);
      st.slowStamp.set(slowStamp);
      st.preMark.set(marks[0]!);
      st.postMark.set(marks[1]!);
      st.rewardSum.set(rewardSum);
      if (st instanceof PlasticLayer) st.deriveRowBounds();
    });
  }
  return { end: o, apply: () => parsed.forEach((f) => f()) };
}

/** Most distinct steps that may hold pending rewards at once (bounds the reward queue). */
export const MAX_PENDING_REWARDS = 1024;

/**
 * Queues a reward (int16) aimed at `targetStep` in `pending` (step → summed reward), given that
 * the next step to run is `nextStep`. Rewards aimed at one step add (sat16). Throws
 * SEMANTICS_BAD_INPUT for a value outside int16, a step that has already run, or more than
 * MAX_PENDING_REWARDS distinct pending steps. Shared by the interpreter and the reference oracle.
 */
export function queueReward(pending: Map<number, number>, nextStep: number, value: number, targetStep: number): void {
  if (!Number.isInteger(value) || value < -32768 || value > 32767) fail("SEMANTICS_BAD_INPUT", `a reward is an integer in -32768..32767, got ${value}`);
  if (!Number.isSafeInteger(targetStep) || targetStep < nextStep)
    fail("SEMANTICS_BAD_INPUT", `reward aimed at step ${targetStep}, but the next step is ${nextStep}`);
  const queued = pending.get(targetStep);
  if (queued === undefined && pending.size >= MAX_PENDING_REWARDS) fail("SEMANTICS_BAD_INPUT", `more than ${MAX_PENDING_REWARDS} steps with pending rewards`);
  pending.set(targetStep, sat16((queued ?? 0) + value));
}

/** `table` with each plastic layer's stored weights replaced by its working weights (spec/ops.md §11.4); `plastics[l]` is layer l's learning state. */
export function learnedTableOf(table: EventTable, plastics: readonly (PlasticityState | undefined)[]): EventTable {
  const layers = table.layers.map((layer, l): Layer => {
    const plastic = plastics[l];
    if (plastic === undefined || (layer.input.kind !== "dense" && layer.input.kind !== "sparse")) return layer;
    return { ...layer, input: { ...layer.input, weights: packWeights(plastic.weights, layer.input.weights) } };
  });
  return { ...table, layers };
}
