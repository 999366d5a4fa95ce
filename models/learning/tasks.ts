/**
 * The registry of learning rules and their tasks: what `picospike learn` and bench/learning.ts
 * run. Each task returns its measured figure, the published reference it is checked against and
 * whether the check passed, plus SVG plots and (where the network shape allows) a float SNN.
 */
import { fail } from "../../runtime/errors.js";
import type { FloatSnn } from "../float-snn.js";
import { Rng, meanCi95 } from "./core.js";
import { DIEHL_COOK_DEFAULTS, DiehlCookNet, runDiehlCook, type DiehlCookReadout, type DigitSet } from "./diehl-cook.js";
import { EMSTDP_DEFAULTS, EmstdpNet, trainEmstdp } from "./emstdp.js";
import { exportDiehlCook } from "./export.js";
import { MULTISAMPLE_DEFAULTS, encodeDigits, multiSampleSweep } from "./multisample.js";
import { RESUME_DEFAULTS, randomTargetTrain, trainResume } from "./resume.js";
import { SPIKEPROP_TRAINING, SPIKEPROP_XOR, SpikePropNet, XOR_SAMPLES, trainSpikeProp } from "./spikeprop.js";
import { PAIR_DEFAULTS, PFISTER_MINIMAL, SJOSTROM_2001, pairingProtocol, stdpWindow } from "./stdp.js";
import { renderChart } from "../../runtime/plot/chart.js";
import { TEMPOTRON_DEFAULTS, Tempotron, capacityCurve, randomPatterns } from "./tempotron.js";
import { postPreCrossoverHz, voltagePairing } from "./voltage-stdp.js";

/** What a task measured. */
export interface TaskResult {
  readonly rule: string;
  readonly task: string;
  /** The measured figure. */
  readonly figure: { readonly name: string; readonly value: number; readonly unit: string };
  /** The published behaviour it is checked against, and the check. */
  readonly reference: { readonly source: string; readonly value: string; readonly check: string };
  /**
   * Whether the check passed; null when this run could not make the check (a --quick run of a task
   * whose check needs the full size: fewer neurons or digits than the reference), so it is neither.
   */
  readonly passed: boolean | null;
  /** Further measurements for the report. */
  readonly details: Record<string, unknown>;
  /** SVG documents by file name. */
  readonly plots: Record<string, string>;
  /** The trained network in float-SNN form, when the rule's network fits it. */
  readonly floatSnn?: FloatSnn;
}

/** Options every task takes. */
export interface TaskOptions {
  readonly seed: number;
  /** Smaller, faster version (tests, quick looks); the full size is the documented one. */
  readonly quick: boolean;
  /** Progress in [0, 1] with a short phase label. */
  readonly onProgress?: (fraction: number, phase: string) => void;
  /** Digits for the dataset tasks (the embedded MNIST split by default, loaded by the caller). */
  readonly digits?: { readonly train: DigitSet; readonly test: DigitSet };
}

/** A runnable task. */
export interface LearningTask {
  readonly rule: string;
  readonly task: string;
  readonly description: string;
  readonly needsDigits: boolean;
  run(opts: TaskOptions): TaskResult;
}

function needDigits(opts: TaskOptions): { train: DigitSet; test: DigitSet } {
  if (!opts.digits) fail("TOOLCHAIN_TRAINING", "this task needs the digit dataset");
  return opts.digits;
}

const FREQS = [0.1, 1, 5, 10, 20, 30, 40, 50];

/** Every task, in the order of the documentation. */
export const TASKS: readonly LearningTask[] = [
  {
    rule: "pair-stdp",
    task: "window",
    description: "weight change of one pre/post pair vs Δt (all-to-all and nearest-spike)",
    needsDigits: false,
    run() {
      const dts = Array.from({ length: 41 }, (_, k) => -100 + k * 5).filter((d) => d !== 0);
      const win = stdpWindow(dts);
      const nearest = stdpWindow(dts, { ...PAIR_DEFAULTS, interaction: "nearest" });
      // fit log|dw| vs Δt on each side: the slopes must be -1/tau
      const fit = (pts: Array<{ dtMs: number; dw: number }>): number => {
        const xs = pts.map((p) => p.dtMs);
        const ys = pts.map((p) => Math.log(Math.abs(p.dw)));
        const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
        const my = ys.reduce((a, b) => a + b, 0) / ys.length;
        let sxy = 0;
        let sxx = 0;
        xs.forEach((x, k) => {
          sxy += (x - mx) * ((ys[k] as number) - my);
          sxx += (x - mx) ** 2;
        });
        return sxy / sxx;
      };
      const tauPlus = -1 / fit(win.filter((p) => p.dtMs > 0));
      const tauMinus = 1 / fit(win.filter((p) => p.dtMs < 0));
      const signsOk = win.every((p) => Math.sign(p.dw) === Math.sign(p.dtMs));
      const passed = signsOk && Math.abs(tauPlus - PAIR_DEFAULTS.tauPlusMs) < 1e-6 && Math.abs(tauMinus - PAIR_DEFAULTS.tauMinusMs) < 1e-6;
      return {
        rule: "pair-stdp",
        task: "window",
        figure: { name: "fitted tau+ / tau- of the window", value: tauPlus, unit: "ms" },
        reference: {
          source: "Bi & Poo 1998; Song, Miller & Abbott 2000",
          value: `LTP for Δt>0, LTD for Δt<0, exponential with tau = ${PAIR_DEFAULTS.tauPlusMs} ms`,
          check: "signs right at every Δt and fitted tau± equal the configured 20 ms",
        },
        passed,
        details: { tauPlusMs: tauPlus, tauMinusMs: tauMinus, window: win },
        plots: {
          "pair-stdp-window.svg": renderChart({
            title: "Pair STDP window (one pair)",
            xLabel: "Δt = t_post − t_pre (ms)",
            yLabel: "Δw",
            series: [
              { name: "all-to-all = nearest for one pair", points: win.map((p) => [p.dtMs, p.dw]) },
              { name: "nearest-spike", points: nearest.map((p) => [p.dtMs, p.dw]), style: "points" },
            ],
            hLines: [{ y: 0, label: "" }],
          }),
        },
      };
    },
  },
  {
    rule: "triplet-stdp",
    task: "pairing-frequency",
    description: "60 pairs at Δt = ±10 ms, 0.1-50 Hz, minimal models of Pfister & Gerstner 2006",
    needsDigits: false,
    run() {
      const curves = (set: "visual" | "hippocampal", dt: number): Array<[number, number]> =>
        FREQS.map((f) => [f, pairingProtocol(PFISTER_MINIMAL[set], f, dt)]);
      const vPlus = curves("visual", 10);
      const vMinus = curves("visual", -10);
      // distance to each data point in units of its standard error (the figure's error bars)
      let maxErr = 0;
      let maxZ = 0;
      SJOSTROM_2001.frequenciesHz.forEach((f, k) => {
        const dPlus = Math.abs(pairingProtocol(PFISTER_MINIMAL.visual, f, 10) - (SJOSTROM_2001.prePost10[k] as number));
        const dMinus = Math.abs(pairingProtocol(PFISTER_MINIMAL.visual, f, -10) - (SJOSTROM_2001.postPre10[k] as number));
        maxErr = Math.max(maxErr, dPlus, dMinus);
        maxZ = Math.max(maxZ, dPlus / (SJOSTROM_2001.prePost10Sem[k] as number), dMinus / (SJOSTROM_2001.postPre10Sem[k] as number));
      });
      const lowDep = pairingProtocol(PFISTER_MINIMAL.visual, 1, -10) < 0;
      const highPot = pairingProtocol(PFISTER_MINIMAL.visual, 40, -10) > 0 && pairingProtocol(PFISTER_MINIMAL.visual, 50, -10) > 0;
      const passed = lowDep && highPot && maxZ < 2;
      const data = (arr: readonly number[]): Array<[number, number]> => SJOSTROM_2001.frequenciesHz.map((f, k) => [f, arr[k] as number]);
      return {
        rule: "triplet-stdp",
        task: "pairing-frequency",
        figure: { name: "largest |model − data| over the Sjöström points, in standard errors of the data (visual minimal model)", value: maxZ, unit: "SEM" },
        reference: {
          source: "Pfister & Gerstner 2006 (Table 3 minimal model, Fig. 5) / Sjöström et al. 2001",
          value: "post-pre: LTD at ≤20 Hz, LTP at 40-50 Hz; model within the data's error bars",
          check: "post-pre LTD at 1 Hz, LTP at 40 and 50 Hz, every point within 2 SEM of the data",
        },
        passed,
        details: {
          largestAbsoluteError: maxErr,
          visualPrePost: vPlus,
          visualPostPre: vMinus,
          hippocampalPrePost: curves("hippocampal", 10),
          hippocampalPostPre: curves("hippocampal", -10),
        },
        plots: {
          "triplet-pairing-frequency.svg": renderChart({
            title: "Triplet STDP: 60 pairings vs frequency (visual cortex minimal model)",
            xLabel: "pairing frequency (Hz)",
            yLabel: "fractional weight change",
            series: [
              { name: "model Δt = +10 ms", points: vPlus },
              { name: "model Δt = −10 ms", points: vMinus },
              { name: "Sjöström data +10 ms", points: data(SJOSTROM_2001.prePost10), style: "points" },
              { name: "Sjöström data −10 ms", points: data(SJOSTROM_2001.postPre10), style: "points" },
            ],
            hLines: [{ y: 0, label: "" }],
          }),
        },
      };
    },
  },
  {
    rule: "voltage-stdp",
    task: "pairing-frequency",
    description: "Clopath et al. 2010 on AdEx: 5 pairings at Δt = ±10 ms vs frequency",
    needsDigits: false,
    run(opts) {
      const plus = FREQS.map((f): [number, number] => [f, voltagePairing(f, 10).dw]);
      opts.onProgress?.(0.4, "pairing");
      const minus = FREQS.map((f): [number, number] => [f, voltagePairing(f, -10).dw]);
      opts.onProgress?.(0.7, "crossover");
      const cross = postPreCrossoverHz();
      const passed = cross !== undefined && cross > 15 && cross < 40;
      return {
        rule: "voltage-stdp",
        task: "pairing-frequency",
        figure: { name: "post-pre sign-change frequency", value: cross ?? Number.NaN, unit: "Hz" },
        reference: {
          source: "Clopath et al. 2010 Fig. 2b",
          value: "post-pre pairing: LTD at low frequency, LTP above ≈30 Hz",
          check: "the sign change lies between 15 and 40 Hz",
        },
        passed,
        details: { prePost: plus, postPre: minus },
        plots: {
          "voltage-stdp-pairing-frequency.svg": renderChart({
            title: "Voltage-based STDP (Clopath 2010): 5 pairings vs frequency",
            xLabel: "pairing frequency (Hz)",
            yLabel: "Δw",
            series: [
              { name: "Δt = +10 ms (pre-post)", points: plus },
              { name: "Δt = −10 ms (post-pre)", points: minus },
            ],
            hLines: [{ y: 0, label: "" }],
          }),
        },
      };
    },
  },
  {
    rule: "tempotron",
    task: "random-patterns",
    description: "N = 200 afferents, P = 1.5 N random latency patterns, trained to zero errors",
    needsDigits: false,
    run(opts) {
      const p = TEMPOTRON_DEFAULTS;
      const rng = new Rng(opts.seed);
      const patterns = randomPatterns(Math.round(1.5 * p.nAfferents), p, rng);
      const t = new Tempotron(p, rng);
      const curve: Array<[number, number]> = [];
      const maxEpochs = 2000;
      const r = t.train(patterns, maxEpochs, rng, (e, err) => {
        curve.push([e, err]);
        opts.onProgress?.(e / maxEpochs, "epochs");
      });
      return {
        rule: "tempotron",
        task: "random-patterns",
        figure: { name: "training errors after learning (load 1.5, N = 200)", value: r.errors, unit: "patterns" },
        reference: {
          source: "Gütig & Sompolinsky 2006 Fig. 3",
          value: "capacity ≈ 3 patterns per synapse for large N: load 1.5 is learnable without error",
          check: "zero training errors at load 1.5",
        },
        passed: r.errors === 0,
        details: { epochs: r.epochs, patterns: patterns.length },
        plots: {
          "tempotron-learning.svg": renderChart({
            title: "Tempotron: errors per epoch (N = 200, P = 300)",
            xLabel: "epoch",
            yLabel: "misclassified patterns",
            series: [{ name: "errors", points: curve }],
          }),
        },
      };
    },
  },
  {
    rule: "tempotron",
    task: "capacity",
    description: "fraction of loads α = P/N learned without error (N = 200; N = 100 quick)",
    needsDigits: false,
    run(opts) {
      const p = { ...TEMPOTRON_DEFAULTS, nAfferents: opts.quick ? 100 : 200 };
      const loads = [0.5, 1, 1.5, 2, 2.5, 3, 3.5];
      const maxEpochs = opts.quick ? 300 : 2000;
      let done = 0;
      const pts = capacityCurve(loads, p, maxEpochs, opts.seed, () => opts.onProgress?.(++done / loads.length, "loads"));
      const maxSolved = Math.max(0, ...pts.filter((q) => q.solved).map((q) => q.load));
      return {
        rule: "tempotron",
        task: "capacity",
        figure: { name: `largest load learned without error (N = ${p.nAfferents}, ≤ ${maxEpochs} epochs)`, value: maxSolved, unit: "patterns/synapse" },
        reference: {
          source: "Gütig & Sompolinsky 2006 Fig. 3",
          value: "α_c ≈ 3 for N → ∞ (lower for finite N and limited training)",
          check: "loads up to 1.5 all learned",
        },
        passed: pts.filter((q) => q.load <= 1.5).every((q) => q.solved),
        details: { points: pts },
        plots: {
          "tempotron-capacity.svg": renderChart({
            title: `Tempotron capacity (N = ${p.nAfferents})`,
            xLabel: "load α = P / N",
            yLabel: "residual training error fraction",
            series: [{ name: `after ≤ ${maxEpochs} epochs`, points: pts.map((q) => [q.load, q.errors / q.patterns]) }],
          }),
        },
      };
    },
  },
  {
    rule: "resume",
    task: "target-train",
    description: "one LIF neuron, 200 Poisson afferents, learns an 8-spike target train in 400 ms",
    needsDigits: false,
    run(opts) {
      const p = RESUME_DEFAULTS;
      const target = randomTargetTrain(8, p.durationMs, 25, new Rng(opts.seed + 1));
      const trials = opts.quick ? 60 : 200;
      const r = trainResume(p, target, trials, opts.seed, (k) => opts.onProgress?.(k / trials, "trials"));
      const ratio = r.finalDistance / r.initialDistance;
      return {
        rule: "resume",
        task: "target-train",
        figure: { name: "final / initial van Rossum distance (tau = 10 ms)", value: ratio, unit: "" },
        reference: { source: "Ponulak & Kasinski 2010", value: "the neuron reproduces the target train", check: "distance < 10% of its starting value" },
        passed: ratio < 0.1,
        details: { target, initialOutput: r.initialOutput, finalOutput: r.finalOutput, initialDistance: r.initialDistance, finalDistance: r.finalDistance },
        plots: {
          "resume-distance.svg": renderChart({
            title: "ReSuMe: van Rossum distance to the target",
            xLabel: "trial",
            yLabel: "distance",
            series: [{ name: "distance", points: r.distances.map((d, k) => [k + 1, d]) }],
            hLines: [{ y: 0.1 * r.initialDistance, label: "10% of start" }],
          }),
          "resume-raster.svg": renderChart({
            title: "ReSuMe: output spikes before and after learning",
            xLabel: "time (ms)",
            yLabel: "row",
            series: [
              { name: "target (row 3)", points: target.map((t) => [t, 3]), style: "points" },
              { name: "after learning (row 2)", points: r.finalOutput.map((t) => [t, 2]), style: "points" },
              { name: "before learning (row 1)", points: r.initialOutput.map((t) => [t, 1]), style: "points" },
            ],
          }),
        },
      };
    },
  },
  {
    rule: "spikeprop",
    task: "xor",
    description: "3-5-1 SRM network, 16 delayed terminals, XOR coded in spike times; gradient vs RProp vs QuickProp",
    needsDigits: false,
    run(opts) {
      const seeds = opts.quick ? [opts.seed] : Array.from({ length: 5 }, (_, k) => opts.seed + k);
      const optimizers = ["gradient", "rprop", "quickprop"] as const;
      const runs = { gradient: [] as number[], rprop: [] as number[], quickprop: [] as number[] };
      const curves: Record<string, Array<[number, number]>> = {};
      let converged = true;
      let done = 0;
      for (const s of seeds)
        for (const optimizer of optimizers) {
          const r = trainSpikeProp(new SpikePropNet(SPIKEPROP_XOR, new Rng(s)), XOR_SAMPLES, { ...SPIKEPROP_TRAINING, optimizer });
          converged &&= r.converged;
          runs[optimizer].push(r.epochs);
          if (s === opts.seed) curves[optimizer] = r.sseCurve.map((e, k) => [k + 1, e]);
          opts.onProgress?.(++done / (optimizers.length * seeds.length), "runs");
        }
      const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
      const g = mean(runs.gradient);
      const rp = mean(runs.rprop);
      const qp = mean(runs.quickprop);
      return {
        rule: "spikeprop",
        task: "xor",
        figure: {
          name: `mean epochs to SSE < 1 ms² over ${seeds.length} seed(s), gradient descent (RProp: ${rp.toFixed(0)}, QuickProp: ${qp.toFixed(0)})`,
          value: g,
          unit: "epochs",
        },
        reference: {
          source: "Bohte et al. 2002 (≈250 epochs); McKennoch et al. 2006 (RProp/QuickProp much faster)",
          value: "XOR learned to SSE < 1 ms²; the variants need fewer epochs",
          check: "every run converges and RProp's and QuickProp's mean epochs < gradient's",
        },
        passed: converged && rp < g && qp < g,
        details: { epochsGradient: runs.gradient, epochsRprop: runs.rprop, epochsQuickprop: runs.quickprop, meanGradient: g, meanRprop: rp, meanQuickprop: qp },
        plots: {
          "spikeprop-xor.svg": renderChart({
            title: "SpikeProp on XOR: sum-squared error",
            xLabel: "epoch",
            yLabel: "SSE (ms²)",
            series: [
              { name: "gradient descent", points: curves["gradient"] ?? [] },
              { name: "RProp", points: curves["rprop"] ?? [] },
              { name: "QuickProp", points: curves["quickprop"] ?? [] },
            ],
            hLines: [{ y: 1, label: "1 ms²" }],
          }),
        },
      };
    },
  },
  {
    rule: "diehl-cook",
    task: "mnist",
    description: "unsupervised STDP, 100 excitatory neurons, lateral inhibition, adaptive thresholds",
    needsDigits: true,
    run(opts) {
      const digits = needDigits(opts);
      const train = opts.quick ? sliceDigits(digits.train, 300) : digits.train;
      const test = opts.quick ? sliceDigits(digits.test, 200) : digits.test;
      const params = opts.quick ? { ...DIEHL_COOK_DEFAULTS, nExc: 25 } : DIEHL_COOK_DEFAULTS;
      const epochs = opts.quick ? 1 : DIEHL_COOK_EPOCHS;
      const net = new DiehlCookNet(params, opts.seed);
      // hyper-parameters, passes and readout were chosen on the validation split only (bench/learning.ts --tune diehl-cook)
      const r = runDiehlCook(net, train, test, epochs, (d, t, phase) => opts.onProgress?.(d / t, phase), DIEHL_COOK_READOUT);
      return {
        rule: "diehl-cook",
        task: "mnist",
        figure: { name: `held-out accuracy (${test.count} digits, ${params.nExc} neurons)`, value: r.testAccuracy, unit: "fraction" },
        reference: { source: "Diehl & Cook 2015 Table 1 (100 neurons: 82.9% after 60,000 digits)", value: "≥ 0.80", check: "accuracy ≥ 0.80 with 100 neurons" },
        passed: opts.quick ? null : r.testAccuracy >= 0.8,
        details: { ...r, epochs, readout: DIEHL_COOK_READOUT, thetaPlus: params.thetaPlus, inhibition: params.inhibition },
        plots: { "diehl-cook-weights.svg": weightMosaic(net.weights, params.nInputs, params.nExc) },
        floatSnn: exportDiehlCook(net, DIEHL_COOK_READOUT),
      };
    },
  },
  {
    rule: "emstdp",
    task: "mnist",
    description: "two-phase local approximation of backprop (ICONS 2019 / EMSTDP), 784-100-10 IF net",
    needsDigits: true,
    run(opts) {
      const digits = needDigits(opts);
      const train = opts.quick ? sliceDigits(digits.train, 1000) : digits.train;
      const test = opts.quick ? sliceDigits(digits.test, 500) : digits.test;
      const epochs = opts.quick ? 1 : EMSTDP_EPOCHS;
      const net = new EmstdpNet(EMSTDP_DEFAULTS, opts.seed);
      const curve = trainEmstdp(net, train, test, epochs, opts.seed, (d, t) => opts.onProgress?.(d / t, "learn"));
      const acc = curve[curve.length - 1] ?? 0;
      return {
        rule: "emstdp",
        task: "mnist",
        figure: { name: `held-out accuracy (${test.count} digits, 784-100-10, T = ${EMSTDP_DEFAULTS.steps} per phase)`, value: acc, unit: "fraction" },
        reference: {
          source: "Shrestha et al. ICONS 2019; EMSTDP (Shrestha et al. 2021): ≈ 94-97% on MNIST",
          value: "≥ 0.90",
          check: "accuracy ≥ 0.90 with a 784-100-10 network",
        },
        passed: opts.quick ? null : acc >= 0.9,
        details: { accuracyPerEpoch: curve, epochs, trainImages: train.count },
        plots: {
          "emstdp-accuracy.svg": renderChart({
            title: "EMSTDP-style local learning: held-out accuracy",
            xLabel: "epoch",
            yLabel: "accuracy",
            series: [{ name: "784-100-10 IF", points: curve.map((a, k) => [k + 1, a]) }],
            hLines: [{ y: 0.9, label: "90%" }],
          }),
        },
        floatSnn: net.toFloatSnn(),
      };
    },
  },
  {
    rule: "multisample",
    task: "digits",
    description: "GEM multi-sample learning of a probabilistic SNN, K = 1..5, event-based 14x14 digits 0/1/2",
    needsDigits: true,
    run(opts) {
      const digits = needDigits(opts);
      const p = MULTISAMPLE_DEFAULTS;
      const ks = opts.quick ? [1, 5] : [1, 2, 3, 4, 5];
      const seeds = opts.quick ? [opts.seed] : Array.from({ length: MULTISAMPLE_SEEDS }, (_, i) => opts.seed + i);
      const epochs = opts.quick ? 1 : MULTISAMPLE_EPOCHS;
      const rng = new Rng(opts.seed);
      const train = encodeDigits(digits.train, p, opts.quick ? 60 : 200, rng);
      const test = encodeDigits(digits.test, p, opts.quick ? 40 : 100, rng);
      // per seed, every K trains on the same data in the same order (paired comparison)
      const perSeed: Array<Array<{ k: number; logLikelihoodPerStep: number; accuracy: number }>> = [];
      seeds.forEach((s, si) => {
        perSeed.push(
          multiSampleSweep(train, test, ks, p, epochs, s, (d, t) => opts.onProgress?.((si + d / t) / seeds.length, `seed ${si + 1}/${seeds.length}`)),
        );
      });
      const column = (i: number, key: "logLikelihoodPerStep" | "accuracy"): number[] =>
        perSeed.map((r) => (r[i] as { logLikelihoodPerStep: number; accuracy: number })[key]);
      const perK = ks.map((k, i) => {
        const ll = meanCi95(column(i, "logLikelihoodPerStep"));
        const acc = meanCi95(column(i, "accuracy"));
        // paired differences with K = 1 on the same seed remove the seed-to-seed spread they share
        const dLl = meanCi95(column(i, "logLikelihoodPerStep").map((v, si) => v - (column(0, "logLikelihoodPerStep")[si] as number)));
        const dAcc = meanCi95(column(i, "accuracy").map((v, si) => v - (column(0, "accuracy")[si] as number)));
        return {
          k,
          logLikelihoodPerStep: ll.mean,
          logLikelihoodCi95: ll.halfWidth,
          accuracy: acc.mean,
          accuracyCi95: acc.halfWidth,
          llMinusK1: dLl.mean,
          llMinusK1Ci95: dLl.halfWidth,
          accMinusK1: dAcc.mean,
          accMinusK1Ci95: dAcc.halfWidth,
        };
      });
      const first = perK[0] as (typeof perK)[number];
      const last = perK[perK.length - 1] as (typeof perK)[number];
      const monotoneLl = perK.every((r, i) => i === 0 || r.logLikelihoodPerStep >= (perK[i - 1] as (typeof perK)[number]).logLikelihoodPerStep);
      const monotoneAcc = perK.every((r, i) => i === 0 || r.accuracy >= (perK[i - 1] as (typeof perK)[number]).accuracy);
      const band = (key: "logLikelihoodPerStep" | "accuracy", ci: "logLikelihoodCi95" | "accuracyCi95", sign: 1 | -1): Array<[number, number]> =>
        perK.map((r) => [r.k, r[key] + sign * r[ci]]);
      return {
        rule: "multisample",
        task: "digits",
        figure: {
          name: `test log-likelihood per step, K = ${ks[ks.length - 1]} minus K = 1 (paired, mean of ${seeds.length} seeds; 95% CI ± ${last.llMinusK1Ci95.toFixed(3)})`,
          value: last.llMinusK1,
          unit: "nats",
        },
        reference: {
          source: "Jang & Simeone 2021, multi-sample online learning (GEM-SNN), figs. on K",
          value: "log-likelihood and accuracy improve as K grows",
          check: "K = 5 beats K = 1 on both mean test log-likelihood and mean accuracy",
        },
        passed: last.logLikelihoodPerStep > first.logLikelihoodPerStep && last.accuracy > first.accuracy,
        details: {
          perK,
          monotoneLogLikelihood: monotoneLl,
          monotoneAccuracy: monotoneAcc,
          perSeed,
          trainSamples: train.length,
          testSamples: test.length,
          seeds,
          epochs,
          learningRate: p.learningRate,
        },
        plots: {
          "multisample-k.svg": renderChart({
            title: `Multi-sample learning: test log-likelihood vs K (mean and 95% CI over ${seeds.length} seeds)`,
            xLabel: "compartments K",
            yLabel: "log-likelihood per step (nats)",
            series: [
              { name: "GEM-SNN mean", points: perK.map((r) => [r.k, r.logLikelihoodPerStep]) },
              { name: "upper 95%", points: band("logLikelihoodPerStep", "logLikelihoodCi95", 1) },
              { name: "lower 95%", points: band("logLikelihoodPerStep", "logLikelihoodCi95", -1) },
            ],
          }),
          "multisample-accuracy.svg": renderChart({
            title: `Multi-sample learning: test accuracy vs K (mean and 95% CI over ${seeds.length} seeds)`,
            xLabel: "compartments K",
            yLabel: "accuracy (3 classes)",
            series: [
              { name: "GEM-SNN mean", points: perK.map((r) => [r.k, r.accuracy]) },
              { name: "upper 95%", points: band("accuracy", "accuracyCi95", 1) },
              { name: "lower 95%", points: band("accuracy", "accuracyCi95", -1) },
            ],
          }),
        },
      };
    },
  },
];

/** Seeds (each a fresh network and presentation order for every K) of the full multi-sample task. */
export const MULTISAMPLE_SEEDS = 10;

/** Passes over the 600 training samples in the full multi-sample task. */
export const MULTISAMPLE_EPOCHS = 2;

/** Training passes over the 8,000 digits for the full EMSTDP task. */
export const EMSTDP_EPOCHS = 5;

/** Training passes over the 8,000 digits for the full Diehl & Cook task (chosen on validation). */
export const DIEHL_COOK_EPOCHS = 1;

/** How the full Diehl & Cook task reads a class from the labelled neurons (chosen on validation). */
export const DIEHL_COOK_READOUT: DiehlCookReadout = "proportion";

function sliceDigits(set: DigitSet, count: number): DigitSet {
  const n = Math.min(count, set.count);
  const px = set.pixels.length / set.count;
  return { count: n, pixels: set.pixels.subarray(0, n * px), labels: set.labels.subarray(0, n) };
}

/** The learned receptive fields as a grid of grey images (SVG rects, 28x28 each). */
function weightMosaic(weights: Float64Array, nInputs: number, nExc: number): string {
  const side = Math.round(Math.sqrt(nInputs));
  const cols = Math.ceil(Math.sqrt(nExc));
  const cell = side * 3 + 4;
  const rows = Math.ceil(nExc / cols);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * cell}" height="${rows * cell + 24}" font-family="sans-serif" font-size="13"><rect width="100%" height="100%" fill="white"/><text x="4" y="16">Learned input weights per excitatory neuron (dark = strong)</text>`,
  ];
  for (let e = 0; e < nExc; e++) {
    let max = 1e-9;
    for (let j = 0; j < nInputs; j++) max = Math.max(max, weights[j * nExc + e] as number);
    const ox = (e % cols) * cell;
    const oy = Math.floor(e / cols) * cell + 24;
    for (let j = 0; j < nInputs; j++) {
      const g = Math.round(255 * (1 - (weights[j * nExc + e] as number) / max));
      if (g > 250) continue;
      parts.push(`<rect x="${ox + (j % side) * 3}" y="${oy + Math.floor(j / side) * 3}" width="3" height="3" fill="rgb(${g},${g},${g})"/>`);
    }
  }
  parts.push("</svg>");
  return parts.join("") + "\n";
}

/** Finds a task by rule and task name (CLI_USAGE listing the choices when unknown). */
export function findTask(rule: string, task: string | undefined): LearningTask {
  const forRule = TASKS.filter((t) => t.rule === rule);
  if (forRule.length === 0) fail("CLI_USAGE", `unknown rule '${rule}'; rules: ${[...new Set(TASKS.map((t) => t.rule))].join(", ")}`);
  if (task === undefined) {
    if (forRule.length === 1) return forRule[0] as LearningTask;
    fail("CLI_USAGE", `rule '${rule}' has several tasks; pass --task (${forRule.map((t) => t.task).join(", ")})`);
  }
  const found = forRule.find((t) => t.task === task);
  if (!found) fail("CLI_USAGE", `rule '${rule}' has no task '${task}'; tasks: ${forRule.map((t) => t.task).join(", ")}`);
  return found;
}
