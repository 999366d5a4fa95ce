import { describe, expect, it } from "vitest";
import { Interpreter } from "../../runtime/interpreter.js";
import { adaptTask, finalAccuracy, interpreterLearner, replayRun, runAdapt } from "./associative.js";

describe("associative task with an event-timed learner (spec/ops.md §11.5)", () => {
  it("learns to ≥ 90 % in the interpreter, and the replay of its log gives the same weights", async () => {
    const task = adaptTask("associative-event", 1);
    expect(task.table.layers[0]!.plasticity!.timing).toBe("event");
    const sim = new Interpreter(task.table);
    const run = await runAdapt(task, interpreterLearner(sim, 0), { trials: 1200, seed: 1 });
    expect(finalAccuracy(run.correct)).toBeGreaterThanOrEqual(0.9);
    expect(Array.from(replayRun(new Interpreter(task.table), run).weights(0))).toEqual(Array.from(sim.weights(0)));
  });
});

describe("associative task with an epoch-timed learner (spec/ops.md §11.7)", () => {
  it("learns to ≥ 90 % in the interpreter, and the replay of its log gives the same weights", async () => {
    const task = adaptTask("associative-epoch", 1);
    expect(task.table.layers[0]!.plasticity!.timing).toBe("epoch");
    const sim = new Interpreter(task.table);
    const run = await runAdapt(task, interpreterLearner(sim, 0), { trials: 1200, seed: 1 });
    expect(finalAccuracy(run.correct)).toBeGreaterThanOrEqual(0.9);
    expect(Array.from(replayRun(new Interpreter(task.table), run).weights(0))).toEqual(Array.from(sim.weights(0)));
  });
});
