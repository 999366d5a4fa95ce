/**
 * Unsupervised digit learning in the manner of Diehl & Cook 2015: Poisson-coded pixels drive an
 * excitatory LIF layer through plastic all-to-all synapses; lateral inhibition (their inhibitory
 * layer, collapsed into a direct all-but-self inhibition of the excitatory neurons) makes the
 * neurons compete; adaptive thresholds (theta += theta_plus per spike) stop one neuron from
 * winning everything; STDP (pre-post: w += nu_post x_pre at a post spike, w -= nu_pre x_post at a
 * pre spike) with per-neuron weight normalisation (sum = 78.4) learns prototypes. After learning,
 * each neuron is labelled with the class it responds to most; a digit is classified by the class
 * whose neurons fire most on average. Current-based LIF with the neuron parameters BindsNET uses for
 * this network (1 ms steps, 250 ms presentations), so it runs in minutes on a CPU.
 */
import { fail } from "../../runtime/errors.js";
import { LifPopulation, Rng, checkRange } from "./core.js";

/** Network and learning parameters (mV, ms, Hz). */
export interface DiehlCookParams {
  readonly nInputs: number;
  readonly nExc: number;
  readonly presentMs: number;
  readonly maxRateHz: number;
  /** Potential (mV) added per input spike and unit weight. */
  readonly inputGain: number;
  readonly vRest: number;
  readonly vReset: number;
  readonly vThreshold: number;
  readonly refractoryMs: number;
  readonly tauMs: number;
  readonly thetaPlus: number;
  /** Potential removed from every other excitatory neuron per spike (lateral inhibition). */
  readonly inhibition: number;
  readonly nuPre: number;
  readonly nuPost: number;
  readonly tauTraceMs: number;
  readonly wMax: number;
  /**
   * Target presynaptic trace at a post spike (Diehl & Cook's x_tar): w += nu_post (x_pre - x_tar),
   * so inputs silent before a post spike are depressed. 0 gives the plain pre-post rule.
   */
  readonly xTar: number;
  readonly normTotal: number;
  /** Too few spikes for a digit: present it again this much faster (their rule), up to 5 times. */
  readonly minSpikes: number;
  readonly rateBoostHz: number;
}

/**
 * 100 excitatory neurons on 28x28 digits. Rates are the paper's (intensity/4 Hz); the input gain
 * (0.5 mV per spike and unit weight, about what their conductance synapses give near rest) is
 * ours. theta_plus and the inhibition were chosen on the validation split only (the last 1,000 of
 * the 8,000 training digits, `validationSplit`): grid theta_plus {0.0625, 0.125} x inhibition
 * {30, 60, 120} mV x 1-2 passes x 2 readouts, recorded in bench/learning-results.json `tuning`;
 * best: 0.125 / 120 mV / one pass / proportion readout, 85.0% on validation.
 */
export const DIEHL_COOK_DEFAULTS: DiehlCookParams = {
  nInputs: 784,
  nExc: 100,
  presentMs: 250,
  maxRateHz: 63.75,
  inputGain: 0.5,
  vRest: -65,
  vReset: -60,
  vThreshold: -52,
  refractoryMs: 5,
  tauMs: 100,
  thetaPlus: 0.125,
  inhibition: 120,
  nuPre: 1e-4,
  nuPost: 1e-2,
  tauTraceMs: 20,
  wMax: 1,
  xTar: 0,
  normTotal: 78.4,
  minSpikes: 5,
  rateBoostHz: 32,
};

/** A Diehl & Cook network: weights input-major [input][exc], thresholds, labels. */
export class DiehlCookNet {
  /** Plastic input -> excitatory weights, index input * nExc + exc. */
  readonly weights: Float64Array;
  /** Adaptive threshold offsets theta (mV). */
  readonly theta: Float64Array;
  /** Class of each excitatory neuron after `assignLabels` (-1: never fired). */
  readonly labels: Int32Array;
  /**
   * After `assignLabels`: each neuron's mean response per class, normalised to sum 1 over the
   * classes (index class * nExc + exc; zero for neurons that never fired). Used by the
   * "proportion" readout.
   */
  readonly classProportions: Float64Array;
  private readonly rng: Rng;

  /** Random initial weights in [0, 0.3] (the paper's range), normalised. */
  constructor(
    readonly params: DiehlCookParams,
    seed: number,
  ) {
    checkRange("nInputs", params.nInputs, 1, 1e5);
    checkRange("nExc", params.nExc, 2, 1e5);
    checkRange("presentMs", params.presentMs, 1, 1e5);
    this.rng = new Rng(seed);
    this.weights = new Float64Array(params.nInputs * params.nExc);
    for (let i = 0; i < this.weights.length; i++) this.weights[i] = this.rng.uniform(0, 0.3);
    this.theta = new Float64Array(params.nExc);
    this.labels = new Int32Array(params.nExc).fill(-1);
    this.classProportions = new Float64Array(10 * params.nExc);
    this.normalise();
  }

  /** Scales each neuron's input weights to sum to normTotal. */
  normalise(): void {
    const { nInputs, nExc, normTotal } = this.params;
    for (let e = 0; e < nExc; e++) {
      let s = 0;
      for (let j = 0; j < nInputs; j++) s += this.weights[j * nExc + e] as number;
      if (s <= 0) continue;
      const f = normTotal / s;
      for (let j = 0; j < nInputs; j++) this.weights[j * nExc + e] = (this.weights[j * nExc + e] as number) * f;
    }
  }

  /** Poisson input spikes bucketed by 1 ms step: for each step, the list of spiking inputs. */
  private encode(pixels: Uint8Array, offset: number, rateScaleHz: number): Int32Array[] {
    const { nInputs, presentMs } = this.params;
    const buckets: number[][] = Array.from({ length: presentMs }, () => []);
    for (let j = 0; j < nInputs; j++) {
      const rate = ((pixels[offset + j] as number) / 255) * rateScaleHz;
      for (const t of this.rng.poissonTrain(rate, presentMs)) (buckets[Math.floor(t)] as number[]).push(j);
    }
    return buckets.map((b) => Int32Array.from(b));
  }

  /**
   * Presents one digit (pixels[offset .. offset + nInputs)); learns when `learn`. Returns the
   * spike count of each excitatory neuron for the presentation that reached minSpikes (or the last).
   */
  present(pixels: Uint8Array, offset: number, learn: boolean): Int32Array {
    const p = this.params;
    const counts = new Int32Array(p.nExc);
    for (let attempt = 0; attempt < 6; attempt++) {
      counts.fill(0);
      const buckets = this.encode(pixels, offset, p.maxRateHz + attempt * p.rateBoostHz);
      const exc = new LifPopulation(p.nExc, {
        tauMs: p.tauMs,
        vRest: p.vRest,
        vReset: p.vReset,
        vThreshold: p.vThreshold,
        refractoryMs: p.refractoryMs,
        dtMs: 1,
      });
      exc.thresholdOffsets.set(this.theta);
      const input = new Float64Array(p.nExc);
      const preTrace = new Float64Array(p.nInputs);
      const preLast = new Float64Array(p.nInputs);
      const postTrace = new Float64Array(p.nExc);
      const postDecay = Math.exp(-1 / p.tauTraceMs);
      let inhibitionPending = 0;
      const spikedLast = new Uint8Array(p.nExc);
      for (let t = 0; t < p.presentMs; t++) {
        // lateral inhibition from the previous step's spikes (one step of delay, like the inhibitory layer)
        for (let e = 0; e < p.nExc; e++) input[e] = -(inhibitionPending - (spikedLast[e] as number)) * p.inhibition;
        for (const j of buckets[t] as Int32Array) {
          const row = j * p.nExc;
          for (let e = 0; e < p.nExc; e++) input[e] = (input[e] as number) + (this.weights[row + e] as number) * p.inputGain;
          if (learn) {
            for (let e = 0; e < p.nExc; e++) {
              const w = (this.weights[row + e] as number) - p.nuPre * (postTrace[e] as number);
              this.weights[row + e] = w < 0 ? 0 : w;
            }
            preTrace[j] = (preTrace[j] as number) * Math.exp(-(t - (preLast[j] as number)) / p.tauTraceMs) + 1;
            preLast[j] = t;
          }
        }
        const spiked = exc.step(input);
        inhibitionPending = 0;
        for (let e = 0; e < p.nExc; e++) {
          postTrace[e] = (postTrace[e] as number) * postDecay;
          spikedLast[e] = spiked[e] as number;
          if (!spiked[e]) continue;
          inhibitionPending++;
          counts[e] = (counts[e] as number) + 1;
          if (!learn) continue;
          this.theta[e] = (this.theta[e] as number) + p.thetaPlus;
          exc.thresholdOffsets[e] = this.theta[e] as number;
          for (let j = 0; j < p.nInputs; j++) {
            const x = (preTrace[j] as number) * Math.exp(-(t - (preLast[j] as number)) / p.tauTraceMs);
            if (x < 1e-4 && p.xTar === 0) continue;
            const w = (this.weights[j * p.nExc + e] as number) + p.nuPost * (x - p.xTar);
            this.weights[j * p.nExc + e] = w > p.wMax ? p.wMax : w < 0 ? 0 : w;
          }
          postTrace[e] = (postTrace[e] as number) + 1;
        }
      }
      if (learn) this.normalise();
      let total = 0;
      for (const c of counts) total += c;
      if (total >= p.minSpikes) break;
    }
    return counts;
  }

  /** Labels each neuron with the class of highest mean response over the given responses. */
  assignLabels(responses: readonly Int32Array[], classes: ArrayLike<number>, nClasses: number): void {
    const { nExc } = this.params;
    if (responses.length !== classes.length) fail("SEMANTICS_BAD_INPUT", "one class per response is needed");
    const sums = new Float64Array(nClasses * nExc);
    const perClass = new Float64Array(nClasses);
    responses.forEach((r, k) => {
      const c = classes[k] as number;
      perClass[c] = (perClass[c] as number) + 1;
      for (let e = 0; e < nExc; e++) sums[c * nExc + e] = (sums[c * nExc + e] as number) + (r[e] as number);
    });
    if (nClasses > 10) fail("SEMANTICS_BAD_INPUT", "at most 10 classes");
    this.classProportions.fill(0);
    for (let e = 0; e < nExc; e++) {
      let best = -1;
      let bestRate = 0;
      let totalRate = 0;
      for (let c = 0; c < nClasses; c++) {
        const rate = (perClass[c] as number) > 0 ? (sums[c * nExc + e] as number) / (perClass[c] as number) : 0;
        this.classProportions[c * nExc + e] = rate;
        totalRate += rate;
        if (rate > bestRate) {
          bestRate = rate;
          best = c;
        }
      }
      for (let c = 0; c < nClasses; c++) this.classProportions[c * nExc + e] = totalRate > 0 ? (this.classProportions[c * nExc + e] as number) / totalRate : 0;
      this.labels[e] = best;
    }
  }

  /**
   * Classifies with the given readout: "mean" is the paper's (the class whose labelled neurons
   * fire most on average); "proportion" lets every neuron vote for every class with its spike
   * count times its class proportion (BindsNET's proportion weighting), so neurons that answer
   * to two similar digits are not forced onto one.
   */
  classifyWith(counts: Int32Array, nClasses: number, readout: DiehlCookReadout): number {
    if (readout === "mean") return this.classify(counts, nClasses);
    const nExc = this.params.nExc;
    let best = -1;
    let bestScore = 0;
    for (let c = 0; c < nClasses; c++) {
      let score = 0;
      for (let e = 0; e < nExc; e++) score += (counts[e] as number) * (this.classProportions[c * nExc + e] as number);
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    return best;
  }

  /** The class whose labelled neurons fired most on average (-1 when none fired). */
  classify(counts: Int32Array, nClasses: number): number {
    const sum = new Float64Array(nClasses);
    const n = new Float64Array(nClasses);
    for (let e = 0; e < counts.length; e++) {
      const l = this.labels[e] as number;
      if (l < 0) continue;
      sum[l] = (sum[l] as number) + (counts[e] as number);
      n[l] = (n[l] as number) + 1;
    }
    let best = -1;
    let bestRate = 0;
    for (let c = 0; c < nClasses; c++) {
      const rate = (n[c] as number) > 0 ? (sum[c] as number) / (n[c] as number) : 0;
      if (rate > bestRate) {
        bestRate = rate;
        best = c;
      }
    }
    return best;
  }
}

/** How a digit's class is read from the labelled neurons' spike counts (see `classifyWith`). */
export type DiehlCookReadout = "mean" | "proportion";

/** Images as the trainer needs them: pixels (count * nInputs) and labels. */
export interface DigitSet {
  readonly count: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
}

/** Images first .. first + count - 1 of a set (views, no copy). */
export function digitRange(set: DigitSet, first: number, count: number): DigitSet {
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 1 || first + count > set.count)
    fail("SEMANTICS_BAD_INPUT", `digit range ${first}:${count} is outside the ${set.count} digits`);
  const px = set.pixels.length / set.count;
  return { count, pixels: set.pixels.subarray(first * px, (first + count) * px), labels: set.labels.subarray(first, first + count) };
}

/** Digits kept out of the 8,000 training digits to choose hyper-parameters on. */
export const DIEHL_COOK_VALIDATION_COUNT = 1000;

/**
 * The deterministic validation split of a training set: its last `validationCount` digits
 * (the embedded train split is already a seeded permutation, so they are a random sample),
 * the rest for fitting. The held-out test digits are never used for choosing anything.
 */
export function validationSplit(train: DigitSet, validationCount = DIEHL_COOK_VALIDATION_COUNT): { fit: DigitSet; validation: DigitSet } {
  if (validationCount >= train.count) fail("SEMANTICS_BAD_INPUT", `validation split of ${validationCount} needs more than ${train.count} training digits`);
  return { fit: digitRange(train, 0, train.count - validationCount), validation: digitRange(train, train.count - validationCount, validationCount) };
}

/** One learning pass (unsupervised) over a set. */
export function learnEpoch(net: DiehlCookNet, train: DigitSet, onDigit?: () => void): void {
  const n = net.params.nInputs;
  for (let k = 0; k < train.count; k++) {
    net.present(train.pixels, k * n, true);
    onDigit?.();
  }
}

/** Labels the neurons from a learning-off pass over `train` (the paper's assignment). */
export function labelNeurons(net: DiehlCookNet, train: DigitSet, onDigit?: () => void): void {
  const n = net.params.nInputs;
  const responses: Int32Array[] = [];
  for (let k = 0; k < train.count; k++) {
    responses.push(net.present(train.pixels, k * n, false));
    onDigit?.();
  }
  net.assignLabels(responses, train.labels, 10);
}

/** Accuracy of every readout on `test` from one learning-off pass (the same spikes for each). */
export function scoreReadouts(net: DiehlCookNet, test: DigitSet, onDigit?: () => void): Record<DiehlCookReadout, number> {
  const n = net.params.nInputs;
  const correct = { mean: 0, proportion: 0 };
  for (let k = 0; k < test.count; k++) {
    const counts = net.present(test.pixels, k * n, false);
    for (const r of ["mean", "proportion"] as const) if (net.classifyWith(counts, 10, r) === test.labels[k]) correct[r]++;
    onDigit?.();
  }
  return { mean: correct.mean / test.count, proportion: correct.proportion / test.count };
}

/** One point of the validation search. */
export interface DiehlCookTrial {
  readonly thetaPlus: number;
  readonly inhibition: number;
  readonly epochs: number;
  readonly readout: DiehlCookReadout;
  readonly validationAccuracy: number;
}

/** The grid of the validation search: every theta_plus x inhibition, scored after each epoch. */
export interface DiehlCookGrid {
  readonly thetaPlus: readonly number[];
  readonly inhibition: readonly number[];
  readonly maxEpochs: number;
}

/**
 * Chooses hyper-parameters on validation only: for each theta_plus x inhibition a fresh network
 * learns on `fit` for 1..maxEpochs passes; after each pass it is labelled from `fit` and scored on
 * `validation` with both readouts. Returns every trial and the best (ties: fewer epochs, then
 * the earlier grid point).
 */
export function searchDiehlCook(
  base: DiehlCookParams,
  fit: DigitSet,
  validation: DigitSet,
  grid: DiehlCookGrid,
  seed: number,
  onProgress?: (done: number, total: number, phase: string) => void,
): { trials: DiehlCookTrial[]; best: DiehlCookTrial } {
  checkRange("maxEpochs", grid.maxEpochs, 1, 100);
  const trials: DiehlCookTrial[] = [];
  const total = grid.thetaPlus.length * grid.inhibition.length * grid.maxEpochs * (2 * fit.count + validation.count);
  let done = 0;
  for (const thetaPlus of grid.thetaPlus)
    for (const inhibition of grid.inhibition) {
      const net = new DiehlCookNet({ ...base, thetaPlus, inhibition }, seed);
      const phase = `theta+ ${thetaPlus}, inhibition ${inhibition}`;
      for (let epochs = 1; epochs <= grid.maxEpochs; epochs++) {
        const tick = (): void => onProgress?.(++done, total, phase);
        learnEpoch(net, fit, tick);
        labelNeurons(net, fit, tick);
        const acc = scoreReadouts(net, validation, tick);
        for (const readout of ["mean", "proportion"] as const) trials.push({ thetaPlus, inhibition, epochs, readout, validationAccuracy: acc[readout] });
      }
    }
  let best = trials[0] as DiehlCookTrial;
  for (const t of trials)
    if (t.validationAccuracy > best.validationAccuracy || (t.validationAccuracy === best.validationAccuracy && t.epochs < best.epochs)) best = t;
  return { trials, best };
}

/** Result of a Diehl & Cook run. */
export interface DiehlCookResult {
  readonly trainPresentations: number;
  readonly testAccuracy: number;
  readonly labelledNeurons: number;
  readonly classesCovered: number;
}

/**
 * Trains on `train` for `epochs` passes (unsupervised), labels the neurons from a learning-off
 * pass over the training digits, and measures accuracy on `test` with `readout`.
 */
export function runDiehlCook(
  net: DiehlCookNet,
  train: DigitSet,
  test: DigitSet,
  epochs: number,
  onProgress?: (done: number, total: number, phase: string) => void,
  readout: DiehlCookReadout = "mean",
): DiehlCookResult {
  checkRange("epochs", epochs, 1, 100);
  const n = net.params.nInputs;
  if (train.pixels.length !== train.count * n || test.pixels.length !== test.count * n)
    fail("SEMANTICS_BAD_INPUT", `digit sets must have ${n} pixels per image`);
  const total = epochs * train.count + train.count + test.count;
  let done = 0;
  for (let ep = 0; ep < epochs; ep++) learnEpoch(net, train, () => onProgress?.(++done, total, "learn"));
  labelNeurons(net, train, () => onProgress?.(++done, total, "label"));
  let correct = 0;
  for (let k = 0; k < test.count; k++) {
    if (net.classifyWith(net.present(test.pixels, k * n, false), 10, readout) === test.labels[k]) correct++;
    onProgress?.(++done, total, "test");
  }
  const covered = new Set(Array.from(net.labels).filter((l) => l >= 0));
  return {
    trainPresentations: epochs * train.count,
    testAccuracy: correct / test.count,
    labelledNeurons: Array.from(net.labels).filter((l) => l >= 0).length,
    classesCovered: covered.size,
  };
}
