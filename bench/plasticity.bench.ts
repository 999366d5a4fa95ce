/**
 * Cost of learning (issue 6): per-step cost of the same model with and without its Plasticity
 * record, same input, same rewards, side by side in one run, on the TS interpreter (wall time) and
 * on mps2-an386 (Cortex-M4 under QEMU `-icount shift=0`: the device's STEP_RESULT cost is counted
 * in instructions, so those figures are deterministic). The device runs the generic picospike
 * firmware over the protocol (BoardSession: upload, lockstep STEP with the cost flag, REWARD), and
 * every step's spikes must equal the interpreter's, which proves both did the same work.
 */
import { encodeTable } from "../runtime/format.js";
import { Interpreter, encodeSample } from "../runtime/interpreter.js";
import type { StepEvents } from "../runtime/events.js";
import { DEFAULT_NEURON, type EventTable, type Layer, type Plasticity } from "../runtime/model.js";
import { Xorshift32 } from "../runtime/prng.js";
import { openBoard } from "../firmware-host/boards/open-board.js";
import { allLayersMask, BoardSession } from "../firmware-host/bridge/session.js";
import { adaptTask } from "../models/adapt/associative.js";
import { median, timeRuns, type BenchModule, type BenchRow } from "./harness.js";

/** The device board of this module: its cost unit under -icount is one instruction. */
const BOARD = "mps2-an386";
/** A reward (alternating sign) is given before every REWARD_EVERY-th step of the learning run. */
const REWARD_EVERY = 8;

/** One model, learning on (the table as given) and off (the same table without Plasticity records). */
interface PlasticWorkload {
  readonly name: string;
  readonly on: EventTable;
  readonly steps: readonly StepEvents[];
  readonly description: string;
}

/** The table with every layer's Plasticity record removed: the same weights, nothing learns. */
export function withoutLearning(table: EventTable): EventTable {
  return {
    ...table,
    layers: table.layers.map((l): Layer => {
      const { plasticity: _dropped, ...rest } = l;
      return rest;
    }),
  };
}

/** Synapses whose weights learn (dense or sparse input of a plastic layer). */
export function plasticSynapses(table: EventTable): number {
  return table.layers.reduce((n, l) => n + (l.plasticity !== undefined && l.input.kind !== "pool" ? l.input.weights.count : 0), 0);
}

/** Reward before step t of the learning run (0: none). */
function rewardAt(t: number): number {
  return t % REWARD_EVERY === REWARD_EVERY - 1 ? (t % (2 * REWARD_EVERY) === 2 * REWARD_EVERY - 1 ? -512 : 512) : 0;
}

/** A random int8 dense layer (inputs → size) with R-STDP, rate-coded input. */
function randomPlasticDense(inputs: number, size: number, seed: number): EventTable {
  const g = new Xorshift32(seed);
  const data = Int8Array.from({ length: inputs * size }, () => (g.next() % 121) - 40);
  const rule: Plasticity = {
    rule: "rstdp", preTraceShift: 3, postTraceShift: 3, traceIncrement: 1024, aPlus: 96, aMinus: 64,
    eligibilityShift: 4, learningShift: 10, baselineShift: 2, wMin: -127, wMax: 127,
  };
  return {
    input: { size: inputs, encoding: "rate", seed: 1 },
    layers: [{
      name: "plastic", size,
      input: { kind: "dense", inputs, outputs: size, weights: { bits: 8, data, count: data.length, shift: Uint8Array.of(0) } },
      neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 4, threshold: 600 },
      plasticity: rule,
    }],
    readout: { kind: "count" },
    provenance: { source: "bench", tool: "bench/plasticity.bench.ts", settings: { inputs, size, seed }, layerScales: [1] },
  };
}

/** The workloads: the adapt task's learner over its own pattern windows, and a random 256→64 plastic layer. */
export function plasticWorkloads(stepCount: number): PlasticWorkload[] {
  const task = adaptTask("associative", 1);
  const rng = new Xorshift32(7);
  const taskSteps: StepEvents[] = [];
  for (let p = 0; taskSteps.length < stepCount; p = (p + 1) % task.patterns) {
    taskSteps.push(...task.window(p, rng));
    for (let r = 0; r < task.restSteps; r++) taskSteps.push({ indices: new Uint32Array(0) });
  }
  const dense = randomPlasticDense(256, 64, 3);
  const g = new Xorshift32(9);
  const intensities = Uint8Array.from({ length: 256 }, () => (g.next() % 3 === 0 ? g.next() & 255 : 0));
  return [
    {
      name: "adapt task learner (models/adapt associative)", on: task.table, steps: taskSteps.slice(0, stepCount),
      description: `${task.table.input.size} inputs → ${task.actions} rstdp LIF + lateral inhibition; pattern windows of ${task.windowSteps} steps, ${task.restSteps} rest`,
    },
    {
      name: "random dense 256→64 int8, R-STDP", on: dense, steps: encodeSample(dense.input, intensities, stepCount, new Xorshift32(11)),
      description: "seeded random weights, rate-coded input (a third of the inputs active)",
    },
  ];
}

/** Runs every step (rewards before their steps when `rewards`); returns each step's spikes per layer. */
function interpret(sim: Interpreter, steps: readonly StepEvents[], rewards: boolean): Uint32Array[][] {
  sim.reset();
  const spikes: Uint32Array[][] = [];
  steps.forEach((s, t) => {
    if (rewards && rewardAt(t) !== 0) sim.reward(rewardAt(t), t);
    sim.step(s);
    spikes.push(Array.from({ length: sim.layerCount }, (_, l) => sim.lastSpikes(l).slice()));
  });
  return spikes;
}

/** Median wall time per step (µs) of the interpreter on `table`. */
function interpreterMicros(table: EventTable, steps: readonly StepEvents[], reps: number): number {
  const sim = new Interpreter(table);
  return (median(timeRuns(reps, () => void interpret(sim, steps, true))) * 1e6) / steps.length;
}

/** Runs the steps on the device from a fresh state; returns the mean cost per step, checking spikes against `expected`. */
async function deviceCost(session: BoardSession, table: EventTable, steps: readonly StepEvents[], expected: readonly Uint32Array[][], what: string): Promise<number> {
  await session.ensureModel(encodeTable(table));
  await session.resetState(true);
  const mask = allLayersMask(table.layers.length);
  let total = 0;
  for (let t = 0; t < steps.length; t++) {
    if (rewardAt(t) !== 0) await session.reward(t, rewardAt(t));
    const out = await session.step(t, steps[t]!, mask, true);
    if (out.cost === undefined) throw new Error(`${BOARD} ${what}: STEP_RESULT without cost`);
    total += out.cost;
    for (let l = 0; l < table.layers.length; l++) {
      const device = out.sections.find((s) => s.layer === l)?.indices ?? new Uint32Array(0);
      const want = expected[t]![l]!;
      if (device.length !== want.length || device.some((x, i) => x !== want[i])) {
        throw new Error(`${BOARD} ${what}: step ${t} layer ${l} spiked [${[...device].join(",")}] on the device, [${[...want].join(",")}] in the interpreter`);
      }
    }
  }
  return total / steps.length;
}

/** The learning-cost benchmark module. */
export const plasticityBench: BenchModule = {
  title: "Cost of learning (R-STDP on vs off)",
  description:
    "The same model with and without its Plasticity record, the same input steps and (learning on) a ±512 reward every 8 steps, side by side in one run. " +
    "TS: the runtime Interpreter, median wall time per step. Device: mps2-an386 (Cortex-M4, arm-none-eabi-gcc -Os) under QEMU `-icount shift=0` running the generic picospike firmware; " +
    "each model is uploaded over the protocol, reset, and stepped in lockstep with the cost flag: the STEP_RESULT cost is in instructions (SysTick ticks × 40), deterministic, and " +
    "every step's spikes must equal the interpreter's. 'extra instr/plastic synapse/step' = (on − off) ÷ plastic synapses: learning decays and updates every plastic synapse every step, " +
    "so its cost scales with synapses, not with spikes.",
  async run({ quick }) {
    const stepCount = quick ? 64 : 256;
    const reps = quick ? 3 : 9;
    const workloads = plasticWorkloads(stepCount);
    const rows: BenchRow[] = [];
    const figures = workloads.map((w) => {
      const off = withoutLearning(w.on);
      const onSpikes = interpret(new Interpreter(w.on), w.steps, true);
      const offSpikes = interpret(new Interpreter(off), w.steps, false);
      const tsOn = interpreterMicros(w.on, w.steps, reps);
      const tsOff = interpreterMicros(off, w.steps, reps);
      return { w, off, onSpikes, offSpikes, tsOn, tsOff };
    });
    const first = workloads[0]!;
    const board = await openBoard({ board: BOARD, model: encodeTable(first.on), compiledIn: false, recovery: false, upload: false });
    const launched = board.link.launched!;
    try {
      const session = board.session;
      for (const f of figures) {
        const devOff = await deviceCost(session, f.off, f.w.steps, f.offSpikes, `${f.w.name}, learning off`);
        const devOn = await deviceCost(session, f.w.on, f.w.steps, f.onSpikes, `${f.w.name}, learning on`);
        const synapses = plasticSynapses(f.w.on);
        const round = (x: number, d: number): number => Number(x.toFixed(d));
        rows.push({
          name: f.w.name,
          figures: {
            "TS µs/step off": round(f.tsOff, 2),
            "TS µs/step on": round(f.tsOn, 2),
            "TS on/off": round(f.tsOn / f.tsOff, 2),
            [`${BOARD} instr/step off`]: Math.round(devOff),
            [`${BOARD} instr/step on`]: Math.round(devOn),
            [`${BOARD} on/off`]: round(devOn / devOff, 2),
            "plastic synapses": synapses,
            "extra instr/plastic synapse/step": round((devOn - devOff) / synapses, 2),
          },
          workload: `${f.w.steps.length} steps; ${f.w.description}; ${launched.build.compiledIn ? "compiled in" : "uploaded"}`,
        });
      }
    } finally {
      await board.close();
    }
    return rows;
  },
};
