import { describe, expect, it } from "vitest";
import { decodeTable, encodeTable, hashOfTable } from "../runtime/format.js";
import { Interpreter } from "../runtime/interpreter.js";
import { associativeTask, interpreterLearner, replayRun, runAdapt } from "../models/adapt/associative.js";
import { LEARNED_KEYS, plasticLayers } from "../runtime/learned.js";
import { storedWeights16 } from "../runtime/plasticity.js";
import { openBoard, type OpenedBoard } from "../firmware-host/boards/open-board.js";
import { adaptOnSession } from "./adapt.js";

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
