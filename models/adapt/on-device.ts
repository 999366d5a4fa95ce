/**
 * A closed-loop run on a learner that can be reset and read back (a board, the mock, or anything
 * with the same surface), checked against the interpreter's replay of the same input and reward
 * log, bit for bit. The board side of the surface is firmware-host/jobs/adapt.ts; the CLI joins the two.
 */
import { Interpreter } from "../../runtime/interpreter.js";
import { plasticLayers, withLearningProvenance } from "../../runtime/learned.js";
import type { EventTable } from "../../runtime/model.js";
import { storedWeights16 } from "../../runtime/plasticity.js";
import { finalAccuracy, learningCurve, replayRun, runAdapt, type AdaptLearner, type AdaptRun, type AdaptTask } from "./associative.js";

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
  const replay = replayRun(new Interpreter(task.table), run);
  const weightsBitExact = plasticLayers(task.table).every((l) => {
    const input = learned.layers[l]!.input;
    if (input.kind !== "dense" && input.kind !== "sparse") return false;
    const device = storedWeights16(input.weights);
    const host = replay.weights(l);
    return device.length === host.length && device.every((w, q) => w === host[q]);
  });
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
