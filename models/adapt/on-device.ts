/**
 * A closed-loop run on a learner that can be reset and read back (a board, the mock, or anything
 * with the same surface), checked against the interpreter's replay of the same input and reward
 * log, bit for bit. The board side of the surface is firmware-host/jobs/adapt.ts; the CLI joins the two.
 */
import { Interpreter } from "../../runtime/interpreter.js";
import { plasticLayers, withLearningProvenance } from "../../runtime/learned.js";
import type { StepEvents } from "../../runtime/events.js";
import type { EventTable } from "../../runtime/model.js";
import { storedWeights16 } from "../../runtime/plasticity.js";
import { finalAccuracy, learningCurve, replayRun, runAdapt, type AdaptLearner, type AdaptRun, type AdaptTask } from "./associative.js";
import {
  frozenTable,
  interpreterPatternLearner,
  phaseSeeds,
  presentPatterns,
  separation,
  type PatternsTask,
  type Presentations,
  type Separation,
} from "./patterns.js";

/** A learner whose state can be reset (learned weights kept) and whose learned table can be read back. */
export interface AdaptDevice extends AdaptLearner {
  /** Zeroes the dynamic state and keeps the weights learned so far (RESET_STATE 1). */
  resetKeepingWeights(): Promise<void>;
  /** `table` with every plastic layer's weights replaced by the learner's current ones. */
  learnedTable(table: EventTable): Promise<EventTable>;
}

/** The result of a closed-loop run on a device, checked against the interpreter's replay. */
export interface AdaptReport {
  /** The task's name. */
  readonly task: string;
  /** Trials run (fewer than asked when aborted). */
  readonly trials: number;
  /** Lockstep steps and rewards the device received. */
  readonly steps: number;
  readonly rewards: number;
  /** Fraction correct over the last 200 trials. */
  readonly finalAccuracy: number;
  /** First trial after which the accuracy over the previous 200 trials is ≥ 90 %, or null. */
  readonly trialsTo90: number | null;
  /** The device's learned weights equal the interpreter's replay of the same log. */
  readonly weightsBitExact: boolean;
  /** Learning curve: (trial, accuracy over the previous 200 trials). */
  readonly curve: Array<[number, number]>;
  /** The device's learned table (weights read back), with learning provenance, for --save-weights. */
  readonly learned: EventTable;
}

/** True when every plastic layer's weights in `learned` (read back from a device) equal `replay`'s working weights. */
export function sameLearnedWeights(learned: EventTable, replay: Interpreter): boolean {
  return plasticLayers(learned).every((l) => {
    const input = learned.layers[l]!.input;
    if (input.kind !== "dense" && input.kind !== "sparse") return false;
    const device = storedWeights16(input.weights);
    const host = replay.weights(l);
    return device.length === host.length && device.every((w, q) => w === host[q]);
  });
}

/** Runs `task` on `device` (model already loaded) for `trials` trials and checks its weights against the replay; `onTrial` watches each trial. */
export async function adaptOnDevice(
  device: AdaptDevice,
  task: AdaptTask,
  trials: number,
  seed: number,
  signal?: AbortSignal,
  onTrial?: (trial: number, correct: boolean) => void,
): Promise<AdaptReport> {
  await device.resetKeepingWeights();
  const run: AdaptRun = await runAdapt(task, device, { trials, seed, ...(signal ? { signal } : {}), ...(onTrial ? { onTrial } : {}) });
  const learned = await device.learnedTable(task.table);
  const weightsBitExact = sameLearnedWeights(learned, replayRun(new Interpreter(task.table), run));
  let trialsTo90: number | null = null;
  for (let i = 200, sum = run.correct.slice(0, 200).reduce((a, b) => a + b, 0); i <= run.trials; i++) {
    if (sum >= 180) {
      trialsTo90 = i;
      break;
    }
    if (i < run.trials) sum += run.correct[i]! - run.correct[i - 200]!;
  }
  return {
    task: task.name,
    trials: run.trials,
    steps: run.inputs.length,
    rewards: run.rewards.length,
    finalAccuracy: finalAccuracy(run.correct),
    trialsTo90,
    weightsBitExact,
    curve: learningCurve(run.correct, 200, 20),
    learned: withLearningProvenance(learned, task.table, { steps: run.inputs.length, rewards: run.rewards.length }),
  };
}

/** A pattern learner that can also be reset, read back, and given another model (the frozen tables of the evaluation). */
export interface PatternsDevice {
  /** Runs step `t` with `events`; resolves to the indices of the layer's neurons that fired. */
  step(t: number, events: StepEvents): Promise<Uint32Array> | Uint32Array;
  /** Zeroes the dynamic state (RESET_STATE 1: the stored weights, which are the learned ones when continuing from a saved table). */
  resetKeepingWeights(): Promise<void>;
  /** `table` with every plastic layer's weights replaced by the learner's current ones. */
  learnedTable(table: EventTable): Promise<EventTable>;
  /** Replaces the model with `table`, its state zeroed, the next step 0. */
  load(table: EventTable): Promise<void>;
}

/** Sizes of an unsupervised run: learning presentations, then labelling and held-out test presentations on the frozen layer. */
export interface PatternsRunOptions {
  readonly presentations: number;
  readonly label: number;
  readonly test: number;
  readonly seed: number;
  /** Ends the learning phase early; the evaluation still runs, on what was learned. */
  readonly signal?: AbortSignal;
  /** Progress: the phase, presentations done and the phase's total. */
  readonly onProgress?: (phase: "learning" | "evaluating the learned layer" | "evaluating the untrained layer", done: number, total: number) => void;
}

/** The result of an unsupervised run on a device, checked against the interpreter. */
export interface PatternsReport {
  readonly task: string;
  /** Learning presentations run (fewer than asked when aborted) and the steps they took. */
  readonly presentations: number;
  readonly steps: number;
  /** The device's learned weights equal the interpreter's replay of the same input log. */
  readonly weightsBitExact: boolean;
  /** Every evaluation presentation's spike counts (trained and untrained layer) equal the interpreter's. */
  readonly evaluationBitExact: boolean;
  readonly patterns: number;
  readonly neurons: number;
  readonly labelPresentations: number;
  readonly testPresentations: number;
  /** 1 / patterns: the accuracy of a layer that does not separate them. */
  readonly chance: number;
  /** Diehl & Cook's figure for the learned layer and for the untrained one (the stored initial weights). */
  readonly trained: Separation;
  readonly untrained: Separation;
  /** The device's learned table (plastic, weights read back), with learning provenance, for --save-weights. */
  readonly learned: EventTable;
}

/**
 * Runs an unsupervised pattern task on `device` (its plastic model already loaded): learning
 * presentations with no label and no reward, the weights read back and checked against the
 * interpreter's replay; then the learned layer frozen (plasticity removed) and the untrained layer
 * frozen are each loaded and shown the same labelling and test presentations, and their spike counts
 * are checked against the interpreter's.
 */
export async function patternsOnDevice(device: PatternsDevice, task: PatternsTask, options: PatternsRunOptions): Promise<PatternsReport> {
  const seeds = phaseSeeds(options.seed);
  const signal = options.signal ? { signal: options.signal } : {};
  await device.resetKeepingWeights();
  const run = await presentPatterns(task, device, {
    count: options.presentations,
    seed: seeds.learn,
    ...signal,
    onPresentation: (done) => options.onProgress?.("learning", done, options.presentations),
  });
  const learned = await device.learnedTable(task.table);
  const weightsBitExact = sameLearnedWeights(learned, replayRun(new Interpreter(task.table), run));
  let evaluationBitExact = true;
  const evaluate = async (table: EventTable, trainedLayer: boolean): Promise<Separation> => {
    const frozen = frozenTable(table);
    const total = options.label + options.test;
    const show = async (count: number, seed: number, offset: number): Promise<Presentations> => {
      await device.load(frozen);
      const phase = trainedLayer ? "evaluating the learned layer" : "evaluating the untrained layer";
      // not interrupted by `signal`: a run stopped during learning still evaluates what it learned (bounded: label + test presentations)
      return presentPatterns(task, device, { count, seed, onPresentation: (done) => options.onProgress?.(phase, offset + done, total) });
    };
    const label = await show(options.label, seeds.label, 0);
    const test = await show(options.test, seeds.test, options.label);
    // the interpreter on the same frozen table and the same inputs: the counts must agree exactly
    const hostLabel = await presentPatterns(task, interpreterPatternLearner(new Interpreter(frozen)), { count: label.order.length, seed: seeds.label });
    const hostTest = await presentPatterns(task, interpreterPatternLearner(new Interpreter(frozen)), { count: test.order.length, seed: seeds.test });
    const same = (a: Uint16Array, b: Uint16Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
    if (!same(label.counts, hostLabel.counts) || !same(test.counts, hostTest.counts)) evaluationBitExact = false;
    return separation(task.patterns, task.neurons, label, test, seeds.vote);
  };
  const trained = await evaluate(learned, true);
  const untrained = await evaluate(task.table, false);
  return {
    task: task.name,
    presentations: run.order.length,
    steps: run.inputs.length,
    weightsBitExact,
    evaluationBitExact,
    patterns: task.patterns,
    neurons: task.neurons,
    labelPresentations: options.label,
    testPresentations: options.test,
    chance: 1 / task.patterns,
    trained,
    untrained,
    learned: withLearningProvenance(learned, task.table, { steps: run.inputs.length, rewards: 0 }),
  };
}
