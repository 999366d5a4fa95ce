/**
 * Unsupervised pattern learning on a board, Diehl & Cook style at microcontroller size: a few fixed
 * random spike patterns (rate-coded, seeded, with background noise) are streamed to a layer of LIF
 * neurons whose input weights learn by pair STDP (spec/ops.md §11.5, event timing) or triplet STDP
 * (§11.6), with winner-take-all lateral inhibition through a fixed recurrent connection. No label and
 * no reward reaches the learner.
 *
 * The figure is Diehl & Cook's: after learning, the weights are frozen (the learned table without its
 * plasticity record), each neuron is assigned the pattern it fires most for on a labelling set of
 * presentations, and held-out presentations are classified by the assigned neurons' mean spike
 * count. The same figure on the untrained (frozen initial) layer is the chance baseline that shows
 * the learning. Every presentation's input events are logged, so the interpreter can replay the
 * learning and the evaluation and the device's weights and spike counts can be checked bit for bit.
 */
import { fail } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable, type Layer } from "../../runtime/model.js";
import { Xorshift32 } from "../../runtime/prng.js";
import type { Heatmaps } from "../../runtime/plot/heatmap.js";
import type { RewardRecord } from "./associative.js";

/** Parameters of the pattern task. */
export interface PatternsOptions {
  /** Number of patterns K, 2..16. */
  readonly patterns?: number;
  /** Input neurons, 8..256. */
  readonly inputs?: number;
  /** Neurons of the learning layer N, 2..32. */
  readonly neurons?: number;
  /** Inputs that belong to each pattern (drawn at random; patterns may overlap). */
  readonly active?: number;
  /** Seed of the patterns and of the initial weights, 1..2^32−1. */
  readonly seed?: number;
  /** The plasticity rule of the layer: pair STDP (default) or the minimal triplet rule. */
  readonly rule?: "stdp" | "triplet";
  /** Per-step firing probability (of 256) of a pattern's own inputs while it is shown. */
  readonly patternRate?: number;
  /** Per-step probability (of 256) of a background spike on every input, shown or not. */
  readonly noiseRate?: number;
  /** STDP potentiation amplitude A+ (Q15; A2+ of the triplet rule), default 8000. */
  readonly aPlus?: number;
  /** STDP depression amplitude A− (Q15), default 12000. */
  readonly aMinus?: number;
  /** Learning presentations a run makes by default. */
  readonly presentations?: number;
}

/** An unsupervised task: the plastic model and how its patterns are drawn. */
export interface PatternsTask {
  readonly name: string;
  readonly description: string;
  /** The learner: one plastic LIF layer with lateral inhibition (its only layer). */
  readonly table: EventTable;
  readonly patterns: number;
  readonly inputs: number;
  readonly neurons: number;
  /** The inputs of each pattern, ascending. */
  readonly members: readonly Uint32Array[];
  /** Steps each presentation shows its pattern; spikes are counted over these steps. */
  readonly windowSteps: number;
  /** Quiet steps after each presentation, so membranes and traces settle. */
  readonly restSteps: number;
  /** Default sizes of a run: learning presentations, then labelling and held-out test presentations (10 and 25 per pattern). */
  readonly presentations: number;
  readonly labelPresentations: number;
  readonly testPresentations: number;
  /** Input events of one presentation of `pattern` (window steps only), drawn from `rng`. */
  window(pattern: number, rng: Xorshift32): StepEvents[];
}

/** Default per-step firing probability (of 256) of a pattern's own inputs while it is shown. */
const PATTERN_RATE = 96;
/** Default background spikes on every input, shown or not (of 256 per step). */
const NOISE_RATE = 10;

/**
 * The pattern task: `patterns` random subsets of `active` inputs (seeded), streamed to `neurons`
 * LIF neurons with pair (or triplet) STDP, event timing, and lateral inhibition. The initial weights
 * are drawn in a narrow band, so before learning the winner of a presentation is mostly decided by
 * the input noise, not by the pattern.
 */
export function patternsTask(options: PatternsOptions = {}): PatternsTask {
  const patterns = options.patterns ?? 4;
  const inputs = options.inputs ?? 64;
  const neurons = options.neurons ?? 8;
  const active = options.active ?? 16;
  const seed = options.seed ?? 1;
  const rule = options.rule ?? "stdp";
  const patternRate = options.patternRate ?? PATTERN_RATE;
  const noiseRate = options.noiseRate ?? NOISE_RATE;
  if (!(Number.isInteger(patterns) && patterns >= 2 && patterns <= 16)) fail("CLI_USAGE", `patterns must be 2..16, got ${patterns}`);
  if (!(Number.isInteger(inputs) && inputs >= 8 && inputs <= 256)) fail("CLI_USAGE", `inputs must be 8..256, got ${inputs}`);
  if (!(Number.isInteger(neurons) && neurons >= 2 && neurons <= 32)) fail("CLI_USAGE", `neurons must be 2..32, got ${neurons}`);
  if (!(Number.isInteger(active) && active >= 1 && active <= inputs)) fail("CLI_USAGE", `active must be 1..${inputs}, got ${active}`);
  if (!(Number.isInteger(seed) && seed >= 1 && seed <= 0xffffffff)) fail("CLI_USAGE", `seed must be 1..4294967295, got ${seed}`);
  const g = new Xorshift32(seed);
  const members = Array.from({ length: patterns }, () => {
    const order = Array.from({ length: inputs }, (_, i) => i);
    for (let i = inputs - 1; i > 0; i--) {
      const k = g.next() % (i + 1);
      [order[i], order[k]] = [order[k]!, order[i]!];
    }
    return Uint32Array.from(order.slice(0, active)).sort();
  });
  const W_MIN = 0;
  const W_MAX = 127;
  const initial = Int8Array.from({ length: inputs * neurons }, () => 36 + (g.next() % 9));
  const inhibit = Int8Array.from({ length: neurons * neurons }, (_, q) => (Math.floor(q / neurons) === q % neurons ? 0 : -128));
  const layer: Layer = {
    name: "features",
    size: neurons,
    input: { kind: "dense", inputs, outputs: neurons, weights: { bits: 8, data: initial, count: initial.length, shift: Uint8Array.of(4) } },
    recurrent: { kind: "dense", inputs: neurons, outputs: neurons, weights: { bits: 8, data: inhibit, count: inhibit.length, shift: Uint8Array.of(6) } },
    neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 2, threshold: 8000, vMin: -8000 },
    plasticity: {
      rule,
      timing: "event",
      preTraceShift: 2,
      postTraceShift: 2,
      traceIncrement: 8000,
      aPlus: options.aPlus ?? 8000,
      aMinus: options.aMinus ?? 12000,
      eligibilityShift: 3,
      learningShift: 10,
      baselineShift: 0,
      wMin: W_MIN,
      wMax: W_MAX,
      ...(rule === "triplet" ? { tripletShift: 4, a3Plus: 2000 } : {}),
    },
  };
  const table: EventTable = {
    input: { size: inputs, encoding: "spikes", seed: 1 },
    layers: [layer],
    readout: { kind: "count" },
    provenance: {
      source: `pattern task ${patterns} patterns of ${active}/${inputs} inputs x ${neurons} neurons (${rule})`,
      tool: "picospike models/adapt/patterns.ts",
      settings: { patterns, inputs, neurons, active, seed, rule },
      layerScales: [1],
    },
  };
  const own = members.map((m) => {
    const set = new Uint8Array(inputs);
    for (const i of m) set[i] = 1;
    return set;
  });
  return {
    name: `patterns${patterns === 4 && neurons === 8 ? "" : `-${patterns}x${neurons}`}${rule === "stdp" ? "" : "-triplet"}`,
    description: `${patterns} random patterns (${active} of ${inputs} inputs each) → ${neurons} ${rule === "stdp" ? "pair" : "triplet"} STDP neurons with lateral inhibition, no labels`,
    table,
    patterns,
    inputs,
    neurons,
    members,
    windowSteps: 16,
    restSteps: 10,
    presentations: options.presentations ?? 800,
    labelPresentations: 10 * patterns,
    testPresentations: 25 * patterns,
    window(pattern, rng) {
      const set = own[pattern]!;
      const steps: StepEvents[] = [];
      for (let s = 0; s < this.windowSteps; s++) {
        const idx: number[] = [];
        for (let i = 0; i < inputs; i++) if (rng.next() >>> 24 < (set[i] === 1 ? patternRate : noiseRate)) idx.push(i);
        steps.push({ indices: Uint32Array.from(idx) });
      }
      return steps;
    },
  };
}

/** The tasks `picospike adapt --task NAME` runs as unsupervised pattern learning. */
export const PATTERN_TASKS: Readonly<Record<string, (seed: number) => PatternsTask>> = {
  patterns: (seed) => patternsTask({ seed }),
  // twice the patterns on twice the neurons (1,024 plastic synapses, still inside the microbit's model pool):
  // more background noise and stronger depression keep one neuron from winning several patterns
  // the minimal triplet rule (spec/ops.md §11.6): its slow-trace potentiation needs a smaller A2+ and more noise to stay competitive
  "patterns-triplet": (seed) => patternsTask({ seed, rule: "triplet", aPlus: 6000, noiseRate: 16 }),
  "patterns-8x16": (seed) => patternsTask({ seed, patterns: 8, neurons: 16, active: 12, noiseRate: 16, aMinus: 14000, presentations: 2000 }),
};

/** `table` without its plasticity records: the same weights, frozen (Diehl & Cook evaluate with learning off). */
export function frozenTable(table: EventTable): EventTable {
  return {
    ...table,
    layers: table.layers.map((l) => {
      if (l.plasticity === undefined) return l;
      const { plasticity: _p, ...rest } = l;
      return rest;
    }),
  };
}

/** What presentations need from a learner: one lockstep step returning the layer's spikes. */
export interface PatternLearner {
  /** Runs step `t` with `events`; resolves to the indices of the layer's neurons that fired. */
  step(t: number, events: StepEvents): Promise<Uint32Array> | Uint32Array;
}

/** A sequence of presentations: which pattern, the spike counts it drew, and every step's input. */
export interface Presentations {
  /** The pattern of each presentation. */
  readonly order: Uint8Array;
  /** Spike counts over each presentation's window: `counts[i * neurons + j]`. */
  readonly counts: Uint16Array;
  /** Input events of every step run, from step `firstStep` (windows and rests). */
  readonly inputs: StepEvents[];
  /** Always empty: nothing rewards the learner (the shape `replayRun` reads). */
  readonly rewards: RewardRecord[];
  readonly firstStep: number;
  readonly nextStep: number;
}

/** Options of `presentPatterns`. */
export interface PresentOptions {
  readonly count: number;
  /** Seed of the pattern order and the input spikes, 1..2^32−1. */
  readonly seed: number;
  readonly firstStep?: number;
  /** Called after every presentation with how many are done. */
  readonly onPresentation?: (done: number) => void;
  readonly signal?: AbortSignal;
}

/** Shows `count` presentations (patterns in a seeded random order) to `learner` in lockstep, counting its spikes per window. */
export async function presentPatterns(task: PatternsTask, learner: PatternLearner, options: PresentOptions): Promise<Presentations> {
  const { count, seed } = options;
  if (!(Number.isInteger(count) && count >= 1 && count <= 1_000_000)) fail("CLI_USAGE", `presentations must be 1..1000000, got ${count}`);
  if (!(Number.isInteger(seed) && seed >= 1 && seed <= 0xffffffff)) fail("CLI_USAGE", `seed must be 1..4294967295, got ${seed}`);
  const rng = new Xorshift32(seed);
  const n = task.neurons;
  const order = new Uint8Array(count);
  const counts = new Uint16Array(count * n);
  const inputs: StepEvents[] = [];
  const quiet: StepEvents = { indices: new Uint32Array(0) };
  const firstStep = options.firstStep ?? 0;
  let t = firstStep;
  let done = 0;
  for (let k = 0; k < count && !options.signal?.aborted; k++) {
    const pattern = rng.next() % task.patterns;
    order[k] = pattern;
    for (const events of task.window(pattern, rng)) {
      const spikes = await learner.step(t++, events);
      inputs.push(events);
      for (const j of spikes) if (j < n) counts[k * n + j]!++;
    }
    for (let s = 0; s < task.restSteps; s++) {
      await learner.step(t++, quiet);
      inputs.push(quiet);
    }
    done = k + 1;
    options.onPresentation?.(done);
  }
  return { order: order.slice(0, done), counts: counts.slice(0, done * n), inputs, rewards: [], firstStep, nextStep: t };
}

/** How well a layer separates the patterns (Diehl & Cook's label assignment and vote). */
export interface Separation {
  /** Fraction of held-out presentations whose vote names their pattern (ties and silence broken at random: chance is 1/K). */
  readonly accuracy: number;
  /** Patterns whose preferred neuron (most spikes over the labelling set) fires for no other pattern's preference. */
  readonly distinctPatterns: number;
  /** The pattern assigned to each neuron (−1: it never fired on the labelling set). */
  readonly assignment: number[];
  /** Each pattern's preferred neuron (−1: nothing fired for it). */
  readonly preferred: number[];
  /** Mean spikes per held-out presentation (all neurons). */
  readonly spikesPerPresentation: number;
}

/**
 * Assigns each neuron the pattern with its highest mean response over `labelling` (never fired: −1),
 * then classifies each `test` presentation as the pattern whose assigned neurons fire most on average
 * (ties, and a presentation nothing answers, broken by a PRNG seeded with `seed`).
 */
export function separation(
  patterns: number,
  neurons: number,
  labelling: Pick<Presentations, "order" | "counts">,
  test: Pick<Presentations, "order" | "counts">,
  seed = 1,
): Separation {
  const sums = new Float64Array(patterns * neurons);
  const shown = new Uint32Array(patterns);
  labelling.order.forEach((p, k) => {
    shown[p]!++;
    for (let j = 0; j < neurons; j++) sums[p * neurons + j]! += labelling.counts[k * neurons + j]!;
  });
  const assignment: number[] = [];
  for (let j = 0; j < neurons; j++) {
    let best = -1;
    let bestRate = 0;
    for (let p = 0; p < patterns; p++) {
      const rate = shown[p]! > 0 ? sums[p * neurons + j]! / shown[p]! : 0;
      if (rate > bestRate) [best, bestRate] = [p, rate];
    }
    assignment.push(best);
  }
  const preferred: number[] = [];
  for (let p = 0; p < patterns; p++) {
    let best = -1;
    for (let j = 0; j < neurons; j++) if (sums[p * neurons + j]! > 0 && (best < 0 || sums[p * neurons + j]! > sums[p * neurons + best]!)) best = j;
    preferred.push(best);
  }
  const distinctPatterns = preferred.filter((j, p) => j >= 0 && preferred.every((i, q) => q === p || i !== j)).length;
  const members = Array.from({ length: patterns }, (_, p) => assignment.flatMap((a, j) => (a === p ? [j] : [])));
  const rng = new Xorshift32(seed);
  let right = 0;
  let spikes = 0;
  test.order.forEach((p, k) => {
    const votes = members.map((js) => (js.length === 0 ? 0 : js.reduce((s, j) => s + test.counts[k * neurons + j]!, 0) / js.length));
    for (let j = 0; j < neurons; j++) spikes += test.counts[k * neurons + j]!;
    const top = Math.max(...votes);
    const tied = votes.flatMap((v, q) => (v === top ? [q] : []));
    const guess = tied.length === 1 ? tied[0]! : tied[rng.next() % tied.length]!;
    if (guess === p) right++;
  });
  const n = test.order.length;
  return { accuracy: n === 0 ? 0 : right / n, distinctPatterns, assignment, preferred, spikesPerPresentation: n === 0 ? 0 : spikes / n };
}

/** The learning, labelling and test presentations' seeds derived from one run seed (distinct streams). */
export function phaseSeeds(seed: number): { learn: number; label: number; test: number; vote: number } {
  const mix = (k: number): number => (Math.imul(seed ^ k, 0x9e3779b1) >>> 0 || 1) >>> 0;
  return { learn: mix(0x1111), label: mix(0x2222), test: mix(0x3333), vote: mix(0x4444) };
}

/** An interpreter as a pattern learner. */
export function interpreterPatternLearner(interp: Interpreter, layer = 0): PatternLearner {
  return {
    step(t, events) {
      if (t !== interp.t) fail("SEMANTICS_BAD_INPUT", `step ${t} asked of an interpreter at step ${interp.t}`);
      interp.step(events);
      return interp.lastSpikes(layer).slice();
    },
  };
}

/** Evaluates `table` frozen on the interpreter: labelling and test presentations and the separation figure. */
export async function evaluateOnInterpreter(task: PatternsTask, table: EventTable, labelCount: number, testCount: number, seed: number): Promise<Separation> {
  const s = phaseSeeds(seed);
  const frozen = frozenTable(table);
  const label = await presentPatterns(task, interpreterPatternLearner(new Interpreter(frozen)), { count: labelCount, seed: s.label });
  const test = await presentPatterns(task, interpreterPatternLearner(new Interpreter(frozen)), { count: testCount, seed: s.test });
  return separation(task.patterns, task.neurons, label, test, s.vote);
}

/**
 * The receptive fields of a learned pattern layer as heatmaps (runtime/plot/heatmap.ts): a first row
 * with each pattern's inputs, then one panel per neuron with its input weights, captioned with the
 * pattern it was assigned (Diehl & Cook's picture). Inputs are laid out on a near-square grid.
 */
export function receptiveFields(task: PatternsTask, weights: ArrayLike<number>, assignment: readonly number[], title: string): Heatmaps {
  const cols = Math.ceil(Math.sqrt(task.inputs));
  const rows = Math.ceil(task.inputs / cols);
  const plasticity = task.table.layers[0]!.plasticity!;
  const columns = Math.max(task.patterns, Math.min(task.neurons, 8));
  const empty = { label: "", rows: 0, cols: 0, values: [] };
  const patternPanels = task.members.map((m, p) => {
    const values = new Float64Array(task.inputs).fill(plasticity.wMin);
    for (const i of m) values[i] = plasticity.wMax;
    return { label: `pattern ${p}`, rows, cols, values };
  });
  const pad = (columns - (task.patterns % columns)) % columns;
  const neuronPanels = Array.from({ length: task.neurons }, (_, j) => ({
    label: `n${j} → ${assignment[j]! < 0 ? "silent" : `p${assignment[j]}`}`,
    rows,
    cols,
    values: Float64Array.from({ length: task.inputs }, (_, i) => weights[i * task.neurons + j]!),
  }));
  return {
    title,
    panels: [...patternPanels, ...Array.from({ length: pad }, () => empty), ...neuronPanels],
    columns,
    min: plasticity.wMin,
    max: plasticity.wMax,
    note: `first row: each pattern's inputs; then each neuron's input weights (${plasticity.wMin} white .. ${plasticity.wMax} dark) and the pattern assigned to it`,
  };
}
