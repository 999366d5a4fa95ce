import { describe, expect, it } from "vitest";
import { decodeTable, encodeTable } from "../../runtime/format.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { renderHeatmaps } from "../../runtime/plot/heatmap.js";
import { replayRun } from "./associative.js";
import { patternsOnDevice, type PatternsDevice } from "./on-device.js";
import {
  evaluateOnInterpreter,
  frozenTable,
  interpreterPatternLearner,
  PATTERN_TASKS,
  patternsTask,
  phaseSeeds,
  presentPatterns,
  receptiveFields,
  separation,
} from "./patterns.js";

/** The interpreter behind the surface a board gives `patternsOnDevice` (models are swapped by `load`). */
function interpreterDevice(table: ReturnType<typeof patternsTask>["table"]): PatternsDevice {
  let interp = new Interpreter(table);
  return {
    step: (t, events) => interpreterPatternLearner(interp).step(t, events),
    resetKeepingWeights: async () => interp.reset(),
    learnedTable: async () => interp.learnedTable(),
    load: async (t) => {
      interp = new Interpreter(t);
    },
  };
}

describe("unsupervised pattern task (pair STDP, event timing, lateral inhibition)", () => {
  it("learning separates the patterns far above the untrained layer on three seeds; the replay of the input log gives the same weights", async () => {
    for (const seed of [1, 2, 3]) {
      const task = patternsTask({ seed });
      expect(task.table.layers[0]!.plasticity).toMatchObject({ rule: "stdp", timing: "event" });
      const interp = new Interpreter(task.table);
      const run = await presentPatterns(task, interpreterPatternLearner(interp), { count: 800, seed: phaseSeeds(seed).learn });
      expect(run.inputs.length).toBe(800 * (task.windowSteps + task.restSteps));
      expect(Array.from(replayRun(new Interpreter(task.table), run).weights(0))).toEqual(Array.from(interp.weights(0)));
      const trained = await evaluateOnInterpreter(task, interp.learnedTable(), 40, 100, seed);
      const untrained = await evaluateOnInterpreter(task, task.table, 40, 100, seed);
      // measured: trained 1.00 / 1.00 / 1.00, untrained 0.23 / 0.35 / 0.30 (chance 0.25)
      expect(trained.accuracy, `seed ${seed}`).toBeGreaterThanOrEqual(0.9);
      expect(trained.distinctPatterns, `seed ${seed}`).toBe(task.patterns);
      expect(untrained.accuracy, `seed ${seed}`).toBeLessThanOrEqual(0.5);
      expect(trained.accuracy - untrained.accuracy, `seed ${seed}`).toBeGreaterThanOrEqual(0.4);
    }
  });

  it("patterns-8x16: 8 patterns on 16 neurons separate well above chance (1/8)", async () => {
    const task = PATTERN_TASKS["patterns-8x16"]!(1);
    expect(task).toMatchObject({ name: "patterns-8x16", patterns: 8, neurons: 16, presentations: 2000, labelPresentations: 80, testPresentations: 200 });
    const interp = new Interpreter(task.table);
    await presentPatterns(task, interpreterPatternLearner(interp), { count: task.presentations, seed: phaseSeeds(1).learn });
    const trained = await evaluateOnInterpreter(task, interp.learnedTable(), task.labelPresentations, task.testPresentations, 1);
    const untrained = await evaluateOnInterpreter(task, task.table, task.labelPresentations, task.testPresentations, 1);
    // measured: learned 0.795, 8/8 distinct; untrained 0.155
    expect(trained.accuracy).toBeGreaterThanOrEqual(0.7);
    expect(trained.distinctPatterns).toBeGreaterThanOrEqual(6);
    expect(untrained.accuracy).toBeLessThanOrEqual(0.3);
  });

  it("patterns-triplet: the minimal triplet rule separates the patterns too", async () => {
    const task = PATTERN_TASKS["patterns-triplet"]!(2);
    expect(task.table.layers[0]!.plasticity).toMatchObject({ rule: "triplet", timing: "event", tripletShift: 4, a3Plus: 2000 });
    const interp = new Interpreter(task.table);
    const run = await presentPatterns(task, interpreterPatternLearner(interp), { count: task.presentations, seed: phaseSeeds(2).learn });
    expect(Array.from(replayRun(new Interpreter(task.table), run).weights(0))).toEqual(Array.from(interp.weights(0)));
    const trained = await evaluateOnInterpreter(task, interp.learnedTable(), task.labelPresentations, task.testPresentations, 2);
    const untrained = await evaluateOnInterpreter(task, task.table, task.labelPresentations, task.testPresentations, 2);
    // measured: learned 0.86, 4/4 distinct; untrained 0.39
    expect(trained.accuracy).toBeGreaterThanOrEqual(0.8);
    expect(trained.distinctPatterns).toBe(4);
    expect(untrained.accuracy).toBeLessThanOrEqual(0.5);
  });

  it("is deterministic: the same seed gives the same table, inputs and figure", async () => {
    const a = patternsTask({ seed: 5 });
    const b = patternsTask({ seed: 5 });
    expect(encodeTable(a.table)).toEqual(encodeTable(b.table));
    expect(a.members.map((m) => Array.from(m))).toEqual(b.members.map((m) => Array.from(m)));
    const ra = await evaluateOnInterpreter(a, a.table, 20, 30, 9);
    const rb = await evaluateOnInterpreter(b, b.table, 20, 30, 9);
    expect(ra).toEqual(rb);
    expect(encodeTable(patternsTask({ seed: 6 }).table)).not.toEqual(encodeTable(a.table));
  });

  it("the device flow on an interpreter: learned weights and evaluation counts bit-exact, the frozen tables have no plasticity", async () => {
    const task = patternsTask({ seed: 2 });
    const report = await patternsOnDevice(interpreterDevice(task.table), task, { presentations: 300, label: 20, test: 40, seed: 4 });
    expect(report).toMatchObject({
      presentations: 300,
      steps: 300 * 26,
      weightsBitExact: true,
      evaluationBitExact: true,
      patterns: 4,
      neurons: 8,
      chance: 0.25,
    });
    expect(report.trained.assignment).toHaveLength(8);
    expect(frozenTable(task.table).layers[0]!.plasticity).toBeUndefined();
    // the learned table is a plastic table again (continue learning from it) and round-trips
    expect(decodeTable(encodeTable(report.learned)).layers[0]!.plasticity).toMatchObject({ rule: "stdp" });
    // a device that answers differently is caught
    const liar = interpreterDevice(task.table);
    const honest = liar.step;
    let k = 0;
    // one step of the learned layer's test presentations answers "every neuron fired", which lateral inhibition never allows
    const lying: PatternsDevice = {
      ...liar,
      step: async (t, ev) => {
        const real = await honest(t, ev);
        return ++k === 9000 ? Uint32Array.from({ length: 8 }, (_, j) => j) : real;
      },
    };
    const bad = await patternsOnDevice(lying, task, { presentations: 300, label: 20, test: 40, seed: 4 });
    expect(bad.evaluationBitExact).toBe(false);
  });

  it("separation: assignment by mean response, vote by mean count, silence is a random guess, distinct preferred neurons", () => {
    // 2 patterns, 3 neurons: neuron 0 answers pattern 0, neuron 1 pattern 1, neuron 2 never fires
    const labelling = { order: Uint8Array.of(0, 1, 0, 1), counts: Uint16Array.of(3, 0, 0, 0, 4, 0, 5, 1, 0, 1, 2, 0) };
    const test = { order: Uint8Array.of(0, 1, 1), counts: Uint16Array.of(2, 0, 0, 0, 3, 0, 4, 1, 0) };
    const s = separation(2, 3, labelling, test, 1);
    expect(s.assignment).toEqual([0, 1, -1]);
    expect(s.preferred).toEqual([0, 1]);
    expect(s.distinctPatterns).toBe(2);
    expect(s.accuracy).toBeCloseTo(2 / 3, 10);
    // one neuron preferred by both patterns: no distinct pattern
    const shared = separation(
      2,
      2,
      { order: Uint8Array.of(0, 1), counts: Uint16Array.of(5, 1, 4, 2) },
      { order: Uint8Array.of(0), counts: Uint16Array.of(1, 0) },
      1,
    );
    expect(shared.preferred).toEqual([0, 0]);
    expect(shared.distinctPatterns).toBe(0);
  });

  it("receptive fields: one panel per pattern and per neuron, in an SVG", () => {
    const task = patternsTask({ seed: 1 });
    const layer = task.table.layers[0]!.input;
    const weights = layer.kind === "dense" ? Int16Array.from(layer.weights.data as Int8Array) : new Int16Array(0);
    const h = receptiveFields(task, weights, [0, 1, 2, 3, -1, 0, 1, 2], "rf");
    expect(h.panels.filter((p) => p.rows > 0)).toHaveLength(task.patterns + task.neurons);
    const svg = renderHeatmaps(h);
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain("n4 → silent");
    expect((svg.match(/<rect /g) ?? []).length).toBeGreaterThan((task.patterns + task.neurons) * task.inputs);
  });

  it("refuses sizes outside its bounds", () => {
    expect(patternsTask({ seed: 1 }).name).toBe("patterns");
    expect(() => patternsTask({ patterns: 1 })).toThrow(/patterns must be/);
    expect(() => patternsTask({ neurons: 40 })).toThrow(/neurons must be/);
    expect(() => patternsTask({ active: 0 })).toThrow(/active must be/);
  });
});
