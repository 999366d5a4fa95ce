/**
 * Voltage-based STDP (Clopath, Büsing, Vasilaki & Gerstner 2010) on an adaptive exponential
 * integrate-and-fire (AdEx) neuron with their spike after-depolarisation current and adaptive
 * threshold. The weight of one synapse follows
 *   dw/dt = -A_LTD X(t) [u_-(t) - theta_-]_+  +  A_LTP xbar(t) [u(t) - theta_+]_+ [u_+(t) - theta_-]_+
 * with u_-, u_+ the membrane potential low-pass filtered with tau_-, tau_+, X the presynaptic spike
 * train and xbar its trace (tau_x, jump 1/tau_x). Depression needs a depolarised membrane at a
 * presynaptic spike; potentiation needs a recent presynaptic spike while the membrane is above
 * theta_+ (during a postsynaptic spike) and was depolarised before. So post-pre pairs depress at low
 * frequency and potentiate at high frequency, where the next pair's pre spike precedes a post spike.
 *
 * Parameters: their Table 1b (visual cortex). Units: mV, ms, pA, nS, pF.
 */
import { fail } from "../../runtime/errors.js";
import { checkRange } from "./core.js";

/** AdEx neuron parameters (Clopath et al. 2010, Table 1a). */
export interface AdexParams {
  readonly cPf: number;
  readonly gLNs: number;
  readonly eLMv: number;
  readonly deltaTMv: number;
  readonly vTRestMv: number;
  readonly vTMaxMv: number;
  readonly tauVTMs: number;
  readonly tauWMs: number;
  readonly aNs: number;
  readonly bPa: number;
  readonly iSpPa: number;
  readonly tauZMs: number;
  /** Spike detection level; the membrane is then held at `spikeMv` for `spikeMs` and reset to E_L. */
  readonly spikeDetectMv: number;
  readonly spikeMv: number;
  readonly spikeMs: number;
}

/** Voltage-rule parameters (Table 1b, visual cortex). */
export interface ClopathParams {
  readonly thetaMinusMv: number;
  readonly thetaPlusMv: number;
  readonly aLtd: number;
  readonly aLtp: number;
  readonly tauMinusMs: number;
  readonly tauPlusMs: number;
  readonly tauXMs: number;
}

/** Clopath et al. 2010 AdEx values. */
export const CLOPATH_ADEX: AdexParams = {
  cPf: 281,
  gLNs: 30,
  eLMv: -70.6,
  deltaTMv: 2,
  vTRestMv: -50.4,
  vTMaxMv: -30.4,
  tauVTMs: 50,
  tauWMs: 144,
  aNs: 4,
  bPa: 80.5,
  iSpPa: 400,
  tauZMs: 40,
  spikeDetectMv: 20,
  spikeMv: 29.4,
  spikeMs: 2,
};

/** Clopath et al. 2010 visual-cortex plasticity values. */
export const CLOPATH_VISUAL: ClopathParams = { thetaMinusMv: -70.6, thetaPlusMv: -45.3, aLtd: 14e-5, aLtp: 8e-5, tauMinusMs: 10, tauPlusMs: 7, tauXMs: 15 };

/**
 * Simulates one AdEx neuron with one plastic synapse whose presynaptic spikes are `pre` (ms);
 * postsynaptic spikes are forced by `pulsePa` current pulses of `pulseMs` starting at `postDrive`
 * (the synapse itself is too weak to matter, as in the pairing experiments). Returns the total
 * weight change and the postsynaptic spike times.
 */
export function simulateVoltageStdp(
  pre: readonly number[],
  postDrive: readonly number[],
  durationMs: number,
  neuron: AdexParams = CLOPATH_ADEX,
  rule: ClopathParams = CLOPATH_VISUAL,
  dtMs = 0.05,
  pulsePa = 10000,
  pulseMs = 2,
): { dw: number; postSpikes: number[] } {
  checkRange("duration", durationMs, dtMs, 1e7);
  checkRange("dt", dtMs, 1e-4, 1);
  for (const t of [...pre, ...postDrive]) if (!Number.isFinite(t)) fail("CLI_USAGE", "spike and pulse times must be finite");
  const n = neuron;
  let v = n.eLMv;
  let wAd = 0;
  let z = 0;
  let vT = n.vTRestMv;
  let uMinus = n.eLMv;
  let uPlus = n.eLMv;
  let xBar = 0;
  let clampLeft = 0;
  let dw = 0;
  const postSpikes: number[] = [];
  const preSorted = [...pre].sort((a, b) => a - b);
  const drive = [...postDrive].sort((a, b) => a - b);
  let preIdx = 0;
  let driveIdx = 0;
  const fMinus = Math.exp(-dtMs / rule.tauMinusMs);
  const fPlus = Math.exp(-dtMs / rule.tauPlusMs);
  const fX = Math.exp(-dtMs / rule.tauXMs);
  const steps = Math.round(durationMs / dtMs);
  for (let s = 0; s < steps; s++) {
    const t = s * dtMs;
    while (driveIdx < drive.length && (drive[driveIdx] as number) + pulseMs <= t) driveIdx++;
    const iExt = driveIdx < drive.length && (drive[driveIdx] as number) <= t ? pulsePa : 0;
    // membrane
    if (clampLeft > 0) {
      clampLeft -= dtMs;
      v = clampLeft > 0 ? n.spikeMv : n.eLMv;
    } else {
      const expTerm = n.gLNs * n.deltaTMv * Math.exp(Math.min(20, (v - vT) / n.deltaTMv));
      v += (dtMs * (-n.gLNs * (v - n.eLMv) + expTerm - wAd + z + iExt)) / n.cPf;
      if (v >= n.spikeDetectMv) {
        v = n.spikeMv;
        clampLeft = n.spikeMs;
        postSpikes.push(t);
        wAd += n.bPa;
        z = n.iSpPa;
        vT = n.vTMaxMv;
      }
    }
    wAd += (dtMs * (n.aNs * (v - n.eLMv) - wAd)) / n.tauWMs;
    z -= (dtMs * z) / n.tauZMs;
    vT += (dtMs * (n.vTRestMv - vT)) / n.tauVTMs;
    // plasticity: LTD at presynaptic spikes reads u_- before this step's filtering
    while (preIdx < preSorted.length && (preSorted[preIdx] as number) <= t) {
      dw -= rule.aLtd * Math.max(0, uMinus - rule.thetaMinusMv);
      xBar += 1 / rule.tauXMs;
      preIdx++;
    }
    dw += dtMs * rule.aLtp * xBar * Math.max(0, v - rule.thetaPlusMv) * Math.max(0, uPlus - rule.thetaMinusMv);
    uMinus = v + (uMinus - v) * fMinus;
    uPlus = v + (uPlus - v) * fPlus;
    xBar *= fX;
  }
  return { dw, postSpikes };
}

/**
 * The frequency protocol of Clopath et al. Fig. 2b (Sjöström's): `pairs` pairings at
 * `frequencyHz`, the post spike `dtMs` after the pre spike (negative: post first). Returns the
 * weight change and how many post spikes the drive produced (one per pairing is expected).
 */
export function voltagePairing(
  frequencyHz: number,
  dtMs: number,
  pairs = 5,
  neuron: AdexParams = CLOPATH_ADEX,
  rule: ClopathParams = CLOPATH_VISUAL,
): { dw: number; postSpikes: number } {
  checkRange("frequency", frequencyHz, 1e-3, 1000);
  checkRange("pairs", pairs, 1, 10000);
  const period = 1000 / frequencyHz;
  const start = 20 + Math.max(0, -dtMs);
  const pre: number[] = [];
  const drive: number[] = [];
  // the pulse precedes the desired post spike time by the AdEx onset latency
  const latency = driveLatency(neuron);
  for (let k = 0; k < pairs; k++) {
    pre.push(start + k * period);
    drive.push(start + k * period + dtMs - latency);
  }
  const r = simulateVoltageStdp(pre, drive, start + pairs * period + 50, neuron, rule);
  return { dw: r.dw, postSpikes: r.postSpikes.length };
}

const latencyCache = new Map<AdexParams, number>();

/** Time from pulse onset to the spike, measured once per neuron parameter set. */
function driveLatency(neuron: AdexParams): number {
  const cached = latencyCache.get(neuron);
  if (cached !== undefined) return cached;
  const r = simulateVoltageStdp([], [10], 60, neuron);
  const first = r.postSpikes[0];
  if (first === undefined) fail("CLI_USAGE", "the pairing pulse does not make the AdEx neuron spike");
  latencyCache.set(neuron, first - 10);
  return first - 10;
}

/**
 * The pairing frequency (Hz) at which post-pre pairing (Δt = -10 ms) turns from depression into
 * potentiation, by bisection on [loHz, hiHz]; undefined when the sign does not change there.
 */
export function postPreCrossoverHz(loHz = 1, hiHz = 50, pairs = 5): number | undefined {
  let lo = loHz;
  let hi = hiHz;
  if (voltagePairing(lo, -10, pairs).dw >= 0 || voltagePairing(hi, -10, pairs).dw <= 0) return undefined;
  for (let it = 0; it < 12; it++) {
    const mid = (lo + hi) / 2;
    if (voltagePairing(mid, -10, pairs).dw < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
