/**
 * Spike-timing-dependent plasticity of one synapse, event-driven on given pre- and postsynaptic
 * spike trains: pair-based STDP (all-to-all or nearest-spike) and the triplet rule of Pfister &
 * Gerstner (2006), of which pair STDP is the special case A3+ = A3- = 0.
 *
 * Triplet rule (their eqs. 3-4): traces r1 (tau+), r2 (tau_x) of pre spikes, o1 (tau-), o2 (tau_y)
 * of post spikes. At a pre spike: w -= o1 * (A2- + A3- * r2), then r1, r2 jump. At a post spike:
 * w += r1 * (A2+ + A3+ * o2), then o1, o2 jump; the triplet term reads its trace just *before* the
 * jump (t - epsilon). "All-to-all" traces add 1 per spike; "nearest" traces are reset to 1.
 */
import { fail } from "../../runtime/errors.js";
import { TraceBank } from "./core.js";

/** How spikes are paired: every earlier spike counts, or only the nearest one. */
export type SpikeInteraction = "all-to-all" | "nearest";

/** Parameters of the triplet rule (pair STDP: a3Plus = a3Minus = 0). Times in ms. */
export interface TripletParams {
  readonly tauPlusMs: number;
  readonly tauMinusMs: number;
  readonly tauXMs: number;
  readonly tauYMs: number;
  readonly a2Plus: number;
  readonly a3Plus: number;
  readonly a2Minus: number;
  readonly a3Minus: number;
  readonly interaction: SpikeInteraction;
}

/**
 * Pfister & Gerstner 2006, minimal all-to-all models (A3- = 0, so tau_x is never used): the
 * visual-cortex row of their Table 3, fitted to Sjöström et al. 2001 (A2+ = 0, A3+ = 6.5e-3,
 * A2- = 7.1e-3, tau_y = 114 ms; the full model's row is the 5e-10 / 6.2e-3 / 7e-3 / 2.3e-4,
 * tau_y = 125 ms one), and the hippocampal row of their Table 4, fitted to Wang et al. 2005
 * (A2+ = 5.3e-3, A3+ = 8e-3, A2- = 3.5e-3, tau_y = 40 ms). tau+ = 16.8 ms, tau- = 33.7 ms in both.
 * Weight changes are fractional (w starts at 1), as in their fits. Checked against public
 * implementations (see docs/LEARNING.md, "Reference values").
 */
export const PFISTER_MINIMAL: Readonly<Record<"visual" | "hippocampal", TripletParams>> = {
  visual: { tauPlusMs: 16.8, tauMinusMs: 33.7, tauXMs: 101, tauYMs: 114, a2Plus: 0, a3Plus: 6.5e-3, a2Minus: 7.1e-3, a3Minus: 0, interaction: "all-to-all" },
  hippocampal: {
    tauPlusMs: 16.8,
    tauMinusMs: 33.7,
    tauXMs: 946,
    tauYMs: 40,
    a2Plus: 5.3e-3,
    a3Plus: 8e-3,
    a2Minus: 3.5e-3,
    a3Minus: 0,
    interaction: "all-to-all",
  },
};

/** Parameters of classic pair STDP (Bi & Poo window; Song, Miller & Abbott 2000 amplitudes). */
export interface PairParams {
  readonly aPlus: number;
  readonly aMinus: number;
  readonly tauPlusMs: number;
  readonly tauMinusMs: number;
  readonly interaction: SpikeInteraction;
}

/** Default pair-STDP parameters: A+ = 0.005, A- = 1.05 A+, tau+ = tau- = 20 ms (Song et al. 2000). */
export const PAIR_DEFAULTS: PairParams = { aPlus: 0.005, aMinus: 0.00525, tauPlusMs: 20, tauMinusMs: 20, interaction: "all-to-all" };

/** The triplet parameters that make the triplet rule the pair rule. */
export function pairAsTriplet(p: PairParams): TripletParams {
  return {
    tauPlusMs: p.tauPlusMs,
    tauMinusMs: p.tauMinusMs,
    tauXMs: 100,
    tauYMs: 100,
    a2Plus: p.aPlus,
    a3Plus: 0,
    a2Minus: p.aMinus,
    a3Minus: 0,
    interaction: p.interaction,
  };
}

function checkTrain(name: string, times: readonly number[]): void {
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    if (!Number.isFinite(t)) fail("CLI_USAGE", `${name} spike ${i} is not a finite time`);
    if (i > 0 && t < (times[i - 1] as number)) fail("CLI_USAGE", `${name} spike times must be sorted (index ${i})`);
  }
}

/**
 * Total weight change of one synapse under the triplet rule for the given sorted spike trains
 * (ms). Simultaneous pre and post spikes are processed pre first. Additive (no weight bounds), as
 * in the paper's fits of fractional weight change.
 */
export function tripletWeightChange(pre: readonly number[], post: readonly number[], p: TripletParams): number {
  checkTrain("pre", pre);
  checkTrain("post", post);
  const mode = p.interaction === "all-to-all" ? "add" : "reset";
  const r1 = new TraceBank(1, p.tauPlusMs, 1, mode);
  const r2 = new TraceBank(1, p.tauXMs, 1, mode);
  const o1 = new TraceBank(1, p.tauMinusMs, 1, mode);
  const o2 = new TraceBank(1, p.tauYMs, 1, mode);
  const banks = [r1, r2, o1, o2];
  let dw = 0;
  let now = -Infinity;
  let i = 0;
  let j = 0;
  while (i < pre.length || j < post.length) {
    const isPre = j >= post.length || (i < pre.length && (pre[i] as number) <= (post[j] as number));
    const t = isPre ? (pre[i] as number) : (post[j] as number);
    if (now !== -Infinity) for (const b of banks) b.decayBy(t - now);
    now = t;
    if (isPre) {
      dw -= (o1.values[0] as number) * (p.a2Minus + p.a3Minus * (r2.values[0] as number));
      r1.bump(0);
      r2.bump(0);
      i++;
    } else {
      dw += (r1.values[0] as number) * (p.a2Plus + p.a3Plus * (o2.values[0] as number));
      o1.bump(0);
      o2.bump(0);
      j++;
    }
  }
  return dw;
}

/** Pair-STDP weight change for the given spike trains. */
export function pairWeightChange(pre: readonly number[], post: readonly number[], p: PairParams = PAIR_DEFAULTS): number {
  return tripletWeightChange(pre, post, pairAsTriplet(p));
}

/** One point of an STDP window: Δt = t_post - t_pre (ms) and the weight change of one pair. */
export interface WindowPoint {
  readonly dtMs: number;
  readonly dw: number;
}

/** The weight-change window of pair STDP: one pre/post pair per Δt in `dts`. */
export function stdpWindow(dts: readonly number[], p: PairParams = PAIR_DEFAULTS): WindowPoint[] {
  return dts.map((dt) => ({ dtMs: dt, dw: dt >= 0 ? pairWeightChange([100], [100 + dt], p) : pairWeightChange([100 - dt], [100], p) }));
}

/**
 * The pairing protocol of Sjöström et al. 2001 as simulated by Pfister & Gerstner (Fig. 5):
 * `pairs` pre/post pairs at `frequencyHz`, the post spike `dtMs` after the pre spike (negative:
 * post before pre). Returns the total (fractional) weight change.
 */
export function pairingProtocol(p: TripletParams, frequencyHz: number, dtMs: number, pairs = 60): number {
  if (!(frequencyHz > 0) || !Number.isFinite(frequencyHz)) fail("CLI_USAGE", `pairing frequency must be > 0, got ${frequencyHz}`);
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > 100000) fail("CLI_USAGE", `pairs must be an integer in 1..100000, got ${pairs}`);
  const period = 1000 / frequencyHz;
  const pre: number[] = [];
  const post: number[] = [];
  const offset = Math.max(0, -dtMs);
  for (let k = 0; k < pairs; k++) {
    pre.push(offset + k * period);
    post.push(offset + k * period + dtMs);
  }
  post.sort((a, b) => a - b);
  return tripletWeightChange(pre, post, p);
}

/**
 * Sjöström et al. 2001 visual-cortex data as plotted in Pfister & Gerstner 2006 Fig. 5: fractional
 * weight change after 60 pairings at Δt = +10 ms and -10 ms per frequency.
 */
export const SJOSTROM_2001 = {
  frequenciesHz: [0.1, 10, 20, 40, 50],
  prePost10: [-0.04, 0.14, 0.29, 0.53, 0.56],
  postPre10: [-0.29, -0.41, -0.34, 0.56, 0.75],
  /** Standard errors of the points above (the error bars of the figure). */
  prePost10Sem: [0.05, 0.1, 0.14, 0.11, 0.26],
  postPre10Sem: [0.08, 0.11, 0.1, 0.32, 0.19],
} as const;
