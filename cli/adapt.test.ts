import { describe, expect, it } from "vitest";
import { decodeTable, encodeTable, hashOfTable } from "../runtime/format.js";
import { Interpreter } from "../runtime/interpreter.js";
import { associativeTask, interpreterLearner, replayRun, runAdapt } from "../models/adapt/associative.js";
import { LEARNED_KEYS, plasticLayers } from "../runtime/learned.js";
import { storedWeights16 } from "../runtime/plasticity.js";
import { openBoard, type OpenedBoard } from "../firmware-host/boards/open-board.js";
import { adaptOnSession, patternsOnSession } from "./adapt.js";
import { frozenTable, interpreterPatternLearner, PATTERN_TASKS, patternsTask, presentPatterns } from "../models/adapt/patterns.js";
import { Checkpointer, plasticRamBytes, readLearnedTable } from "../firmware-host/bridge/checkpoint.js";
import { sessionLearner } from "../firmware-host/jobs/adapt.js";
import { estimateModelRam } from "../firmware-host/boards/launch.js";
import { getBoard } from "../firmware-host/boards/boards.js";

/** The mock board running `tableBytes`, opened as the CLI opens it but without recovery. */
function mockSession(tableBytes: Uint8Array): Promise<OpenedBoard> {
  return openBoard({ board: "mock", model: tableBytes, recovery: false, session: { timeoutMs: 1000, retries: 2 } });
}

describe("adapt: closed-loop R-STDP on the mock board", () => {
  it("4 patterns × 4 actions reach ≥ 90 % over the last 200 of 2,000 trials, device weights equal the replay", async () => {
    const task = associativeTask({ seed: 1 });
    const board = await mockSession(encodeTable(task.table));
    const report = await adaptOnSession(board.session, task, 2000, 7);
    await board.close();
    expect(report.trials).toBe(2000);
    expect(report.finalAccuracy).toBeGreaterThanOrEqual(0.9);
    expect(report.trialsTo90).not.toBeNull();
    expect(report.weightsBitExact).toBe(true);
    // it learned from a chance start: the first 100 trials are far from the end
    expect(report.curve[4]![1]).toBeLessThan(0.9);
    const settings = report.learned.provenance.settings;
    expect(settings[LEARNED_KEYS.source]).toBe(hashOfTable(task.table));
    expect(settings[LEARNED_KEYS.steps]).toBe(report.steps);
    expect(settings[LEARNED_KEYS.rewards]).toBe(2000);
  }, 60_000);

  it("a saved learned table reloads and continues learning bit-identically to an uninterrupted run", async () => {
    const task = associativeTask({ seed: 3 });
    // uninterrupted: 150 + 150 trials on one interpreter
    const whole = new Interpreter(task.table);
    await runAdapt(task, interpreterLearner(whole, 0), { trials: 150, seed: 11 });
    whole.reset(); // a later run starts after a reset (spec/ops.md §11.4: weights survive it)
    const second = await runAdapt(task, interpreterLearner(whole, 0), { trials: 150, seed: 12, firstStep: 0 });
    // interrupted: 150 trials on the mock, checkpoint, new board from the saved table, 150 more
    const first = await mockSession(encodeTable(task.table));
    const r1 = await adaptOnSession(first.session, task, 150, 11);
    await first.close();
    const saved = decodeTable(encodeTable(r1.learned));
    const resumed = await mockSession(encodeTable(saved));
    const r2 = await adaptOnSession(resumed.session, { ...task, table: saved }, 150, 12);
    await resumed.close();
    expect(r2.weightsBitExact).toBe(true);
    for (const l of plasticLayers(task.table)) {
      const input = r2.learned.layers[l]!.input;
      if (input.kind !== "dense") throw new Error("dense expected");
      expect(Array.from(storedWeights16(input.weights))).toEqual(Array.from(whole.weights(l)));
    }
    // and the replay of the second run's log from the saved table agrees too
    expect(Array.from(replayRun(new Interpreter(saved), second).weights(0))).toEqual(Array.from(whole.weights(0)));
    expect(r2.learned.provenance.settings[LEARNED_KEYS.steps]).toBe(r1.steps + r2.steps);
  }, 60_000);
});

describe("adapt --task patterns: unsupervised STDP on the mock board", () => {
  it("every pattern task fits the microbit's model pool, plastic (as uploaded for learning) and frozen (as uploaded for the evaluation)", () => {
    const pool = getBoard("microbit").limits.poolBytes;
    for (const make of Object.values(PATTERN_TASKS)) {
      const table = make(1).table;
      for (const t of [table, frozenTable(table)]) {
        const ram = estimateModelRam(t);
        // the build verb's sum: the uploaded table, the network state, the reader's arena, the learning state
        // (measured: patterns 4,221 and 1,713, patterns-8x16 6,928 and 2,588 of 9,216 bytes)
        const need = encodeTable(t).length + ram.stateBytes + ram.arenaBytes + plasticRamBytes(t);
        expect(need).toBeLessThan(pool);
      }
    }
  });

  it("learns, evaluates the frozen tables on the board, and its weights and spike counts equal the interpreter's", async () => {
    const task = patternsTask({ seed: 1 });
    const board = await mockSession(encodeTable(task.table));
    const report = await patternsOnSession(board.session, task, 600, 7, { label: 20, test: 60 });
    await board.close();
    expect(report).toMatchObject({ presentations: 600, weightsBitExact: true, evaluationBitExact: true, testPresentations: 60 });
    expect(report.trained.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(report.trained.accuracy - report.untrained.accuracy).toBeGreaterThanOrEqual(0.3);
    expect(report.learned.provenance.settings[LEARNED_KEYS.steps]).toBe(report.steps);
    expect(report.learned.provenance.settings[LEARNED_KEYS.rewards]).toBe(0);
  }, 60_000);

  it("a checkpoint mid-run carries the event-timed STDP layer: reloaded, it continues bit-identically to an uninterrupted run", async () => {
    const task = patternsTask({ seed: 4 });
    const perPresentation = task.windowSteps + task.restSteps;
    // uninterrupted: 50 presentations, a reset (weights kept), 50 more
    const whole = new Interpreter(task.table);
    await presentPatterns(task, interpreterPatternLearner(whole), { count: 50, seed: 3 });
    const afterFirst = Array.from(whole.weights(0));
    whole.reset();
    await presentPatterns(task, interpreterPatternLearner(whole), { count: 50, seed: 8 });
    // on the mock: the checkpointer saves every 50 presentations while the board learns 80
    const first = await mockSession(encodeTable(task.table));
    const saved: Uint8Array[] = [];
    const checkpoints = new Checkpointer(first.session, task.table, (bytes) => saved.push(bytes), 50 * perPresentation);
    const learner = sessionLearner(first.session, 0);
    let steps = 0;
    await presentPatterns(
      task,
      {
        step: async (t, events) => {
          const spikes = await learner.step(t, events);
          await checkpoints.afterStep({ steps: ++steps, rewards: 0 });
          return spikes;
        },
      },
      { count: 80, seed: 3 },
    );
    await first.close();
    expect(saved).toHaveLength(1);
    const checkpoint = decodeTable(saved[0]!);
    expect(checkpoint.layers[0]!.plasticity).toMatchObject({ rule: "stdp", timing: "event" });
    expect(checkpoint.provenance.settings[LEARNED_KEYS.steps]).toBe(50 * perPresentation);
    const stored = checkpoint.layers[0]!.input;
    if (stored.kind !== "dense") throw new Error("dense expected");
    expect(Array.from(storedWeights16(stored.weights))).toEqual(afterFirst);
    // a new board from the checkpoint continues where the uninterrupted run went
    const resumed = await mockSession(encodeTable(checkpoint));
    await resumed.session.resetState(true);
    await presentPatterns(task, sessionLearner(resumed.session, 0), { count: 50, seed: 8 });
    const learned = await readLearnedTable(resumed.session, checkpoint);
    await resumed.close();
    const input = learned.layers[0]!.input;
    if (input.kind !== "dense") throw new Error("dense expected");
    expect(Array.from(storedWeights16(input.weights))).toEqual(Array.from(whole.weights(0)));
    expect(Array.from(whole.weights(0))).not.toEqual(afterFirst);
  }, 60_000);
});
