/**
 * Cost of learning: per-step cost of the same model with and without its Plasticity
 * record, same input, same rewards, side by side in one run, on the TS interpreter (wall time) and
 * on mps2-an386 (Cortex-M4 under QEMU `-icount shift=0`: the device's STEP_RESULT cost is counted
 * in instructions, so those figures are deterministic). The device runs the generic picospike
 * firmware over the protocol (BoardSession: upload, lockstep STEP with the cost flag, REWARD), and
 * every step's spikes must equal the interpreter's, which proves both did the same work.
 */
import { encodeTable } from "../runtime/format.js";
import { Interpreter, encodeSample } from "../runtime/interpreter.js";
import type { StepEvents } from "../runtime/events.js";
import { epochSteps, PlasticLayer } from "../runtime/plasticity.js";
import { DEFAULT_NEURON, type EventTable, type Layer, type Plasticity, type PlasticityTiming } from "../runtime/model.js";
import { Xorshift32 } from "../runtime/prng.js";
import { openBoard } from "../firmware-host/boards/open-board.js";
import { allLayersMask, BoardSession } from "../firmware-host/bridge/session.js";
import { adaptTask } from "../models/adapt/associative.js";
import { RSTDP } from "./device.bench.js";
import { median, timeRuns, type BenchModule, type BenchRow } from "./harness.js";

/** The device boards of this module: under -icount their cost unit is one instruction. */
const M4 = "mps2-an386";
const M0 = "microbit";
/** The row whose learning-on ÷ learning-off is `picospike bench`'s summary.rstdpOnOffM4. */
export const RSTDP_ON_OFF_ROW = "random dense 256→64 int8, R-STDP, epoch timing (E=32)";
/** A reward (alternating sign) is given before every REWARD_EVERY-th step of the learning run. */
const REWARD_EVERY = 8;

/** One model, learning on (the table as given) and off (the same table without Plasticity records). */
interface PlasticWorkload {
  readonly name: string;
  readonly board: string;
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

/**
 * Reward before step t of the learning run of `table` (0: none): ±512 every REWARD_EVERY steps, the
 * sign alternating per reward, or per epoch for an epoch-timed learner (spec/ops.md §11.7), whose
 * epoch sums them: alternating per reward, an epoch of 16 or 32 steps would sum to 0 and never reward.
 */
function rewardAt(t: number, table: EventTable): number {
  if (t % REWARD_EVERY !== REWARD_EVERY - 1) return 0;
  const p = table.layers.find((l) => l.plasticity !== undefined)?.plasticity;
  const epoch = p === undefined ? 0 : epochSteps(p);
  if (epoch > 0) return Math.floor(t / epoch) % 2 === 1 ? -512 : 512;
  return t % (2 * REWARD_EVERY) === 2 * REWARD_EVERY - 1 ? -512 : 512;
}

/** A random int8 dense layer (inputs → size) with R-STDP (timing as given), rate-coded input. */
function randomPlasticDense(inputs: number, size: number, seed: number, timing: PlasticityTiming = "step", threshold = 600, epochShift = 5): EventTable {
  const g = new Xorshift32(seed);
  const data = Int8Array.from({ length: inputs * size }, () => (g.next() % 121) - 40);
  const rule: Plasticity = {
    ...RSTDP,
    ...(timing === "event" ? { timing } : {}),
    ...(timing === "epoch" ? { timing, epochShift } : {}),
  };
  return {
    input: { size: inputs, encoding: "rate", seed: 1 },
    layers: [
      {
        name: "plastic",
        size,
        input: { kind: "dense", inputs, outputs: size, weights: { bits: 8, data, count: data.length, shift: Uint8Array.of(0) } },
        neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 4, threshold },
        plasticity: rule,
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "bench", tool: "perf/plasticity.bench.ts", settings: { inputs, size, seed }, layerScales: [1] },
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
  // `every`: one input in `every` is active (rate-coded at a random intensity), the rest silent
  const intensitiesOf = (every: number): Uint8Array => {
    const g = new Xorshift32(9);
    return Uint8Array.from({ length: 256 }, () => (g.next() % every === 0 ? g.next() & 255 : 0));
  };
  const dense = (
    inputs: number,
    size: number,
    timing: PlasticityTiming,
    board: string,
    name: string,
    every = 3,
    threshold = 600,
    epochShift = 5,
  ): PlasticWorkload => {
    const table = randomPlasticDense(inputs, size, 3, timing, threshold, epochShift);
    const section = timing === "event" ? "§11.5" : timing === "epoch" ? "§11.7" : "§11.2";
    return {
      name,
      board,
      on: table,
      steps: encodeSample(table.input, intensitiesOf(every).subarray(0, inputs), stepCount, new Xorshift32(11)),
      description: `seeded random weights, threshold ${threshold}, rate-coded input (one input in ${every} active), ${timing} timing${timing === "epoch" ? ` (E = ${2 ** epochShift} steps)` : ""} (spec/ops.md ${section})`,
    };
  };
  return [
    {
      name: "adapt task learner (models/adapt associative)",
      board: M4,
      on: task.table,
      steps: taskSteps.slice(0, stepCount),
      description: `${task.table.input.size} inputs → ${task.actions} rstdp LIF + lateral inhibition; pattern windows of ${task.windowSteps} steps, ${task.restSteps} rest`,
    },
    dense(256, 64, "step", M4, "random dense 256→64 int8, R-STDP, step timing"),
    dense(256, 64, "event", M4, "random dense 256→64 int8, R-STDP, event timing"),
    dense(256, 64, "epoch", M4, "random dense 256→64 int8, R-STDP, epoch timing (E=16)", 3, 600, 4),
    dense(256, 64, "epoch", M4, RSTDP_ON_OFF_ROW, 3, 600, 5),
    dense(256, 64, "step", M4, "random dense 256→64 int8, R-STDP, sparse activity, step timing", 16, 1500),
    dense(256, 64, "event", M4, "random dense 256→64 int8, R-STDP, sparse activity, event timing", 16, 1500),
    dense(256, 64, "epoch", M4, "random dense 256→64 int8, R-STDP, sparse activity, epoch timing (E=32)", 16, 1500, 5),
    dense(64, 16, "step", M0, "random dense 64→16 int8, R-STDP, step timing"),
    dense(64, 16, "event", M0, "random dense 64→16 int8, R-STDP, event timing"),
    dense(64, 16, "epoch", M0, "random dense 64→16 int8, R-STDP, epoch timing (E=32)", 3, 600, 5),
  ];
}

/** Runs every step (when `rewards`, the rewards of `schedule`'s learning run before their steps); returns each step's spikes per layer. */
function interpret(sim: Interpreter, schedule: EventTable, steps: readonly StepEvents[], rewards: boolean): Uint32Array[][] {
  sim.reset();
  const spikes: Uint32Array[][] = [];
  steps.forEach((s, t) => {
    if (rewards && rewardAt(t, schedule) !== 0) sim.reward(rewardAt(t, schedule), t);
    sim.step(s);
    spikes.push(Array.from({ length: sim.layerCount }, (_, l) => sim.lastSpikes(l).slice()));
  });
  return spikes;
}

/** Rows each layer's epoch passes visited in a run of `sim` (spec/ops.md §11.7: the rest were skipped); 0 for a layer that is not epoch-timed. */
function epochRowsVisited(sim: Interpreter, table: EventTable): number[] {
  return table.layers.map((_, l) => {
    const p = sim.plasticity(l);
    return p instanceof PlasticLayer ? p.epochRowsVisited : 0;
  });
}

/**
 * Plastic synapse updates per step of a run (mean): a step-timed layer updates every synapse every
 * step; an event-timed one the rows of its pre events and the columns of its spikes (spec/ops.md
 * §11.5); a reward step adds every synapse of an rstdp layer. An epoch-timed layer updates the
 * synapses of the rows its passes visited (`epochRows[l]` over the run; §11.7's row skip).
 */
export function synapseTouchesPerStep(table: EventTable, steps: readonly StepEvents[], spikes: readonly Uint32Array[][], epochRows: readonly number[]): number {
  let touches = 0;
  table.layers.forEach((layer, l) => {
    if (layer.plasticity?.timing === "epoch" && layer.input.kind === "dense") touches += (epochRows[l] ?? 0) * layer.input.outputs;
  });
  steps.forEach((s, t) => {
    table.layers.forEach((layer, l) => {
      const p = layer.plasticity;
      if (p === undefined || layer.input.kind !== "dense") return;
      const { inputs, outputs } = layer.input;
      const pre = l === 0 ? s.indices.length : spikes[t]![l - 1]!.length;
      if (p.timing === "epoch") return; // counted above: the visited rows of its passes, nothing in between
      touches += p.timing === "event" ? pre * outputs + spikes[t]![l]!.length * inputs : inputs * outputs;
      if (p.rule === "rstdp" && rewardAt(t, table) !== 0) touches += inputs * outputs;
    });
  });
  return touches / steps.length;
}

/** Mean presynaptic events and spikes per step of each plastic layer's run (the activity its rule works at). */
export function plasticActivity(table: EventTable, steps: readonly StepEvents[], spikes: readonly Uint32Array[][]): { pre: number; post: number } {
  let pre = 0;
  let post = 0;
  steps.forEach((s, t) => {
    table.layers.forEach((layer, l) => {
      if (layer.plasticity === undefined) return;
      pre += l === 0 ? s.indices.length : spikes[t]![l - 1]!.length;
      post += spikes[t]![l]!.length;
    });
  });
  return { pre: pre / steps.length, post: post / steps.length };
}

/** Median wall time per step (µs) of the interpreter on `table`. */
function interpreterMicros(table: EventTable, steps: readonly StepEvents[], reps: number, schedule: EventTable): number {
  const sim = new Interpreter(table);
  return (median(timeRuns(reps, () => void interpret(sim, schedule, steps, true))) * 1e6) / steps.length;
}

/** Runs the steps on the device from a fresh state, with the rewards of `schedule`'s learning run; returns each step's cost, checking spikes against `expected`. */
async function deviceStepCosts(
  session: BoardSession,
  board: string,
  table: EventTable,
  steps: readonly StepEvents[],
  expected: readonly Uint32Array[][],
  what: string,
  schedule: EventTable,
): Promise<number[]> {
  await session.ensureModel(encodeTable(table));
  await session.resetState(true);
  const mask = allLayersMask(table.layers.length);
  const costs: number[] = [];
  for (let t = 0; t < steps.length; t++) {
    if (rewardAt(t, schedule) !== 0) await session.reward(t, rewardAt(t, schedule));
    const out = await session.step(t, steps[t]!, mask, true);
    if (out.cost === undefined) throw new Error(`${board} ${what}: STEP_RESULT without cost`);
    costs.push(out.cost);
    for (let l = 0; l < table.layers.length; l++) {
      const device = out.sections.find((s) => s.layer === l)?.indices ?? new Uint32Array(0);
      const want = expected[t]![l]!;
      if (device.length !== want.length || device.some((x, i) => x !== want[i])) {
        throw new Error(`${board} ${what}: step ${t} layer ${l} spiked [${[...device].join(",")}] on the device, [${[...want].join(",")}] in the interpreter`);
      }
    }
  }
  return costs;
}

/**
 * The mean cost per step of deviceStepCosts, run twice: under -icount a step's cost is an exact
 * function of the instructions it runs (ps_port_cycles_align starts a fresh counter period before
 * every step, spec/protocol.md), so the two runs must agree on every step. A full run stops if they
 * do not rather than publish a figure it cannot reproduce; a --quick run (a smoke run, often on a
 * loaded machine, where a host retransmission arriving mid-step would add its interrupt) says so on
 * stderr and keeps the first run.
 */
async function deviceCost(strict: boolean, ...run: Parameters<typeof deviceStepCosts>): Promise<number> {
  const first = await deviceStepCosts(...run);
  const second = await deviceStepCosts(...run);
  const [, board, , steps, , what] = run;
  const differing = first.flatMap((c, t) => (c === second[t] ? [] : [`step ${t}: ${c} then ${second[t]}`]));
  if (differing.length > 0) {
    const message = `${board} ${what}: ${differing.length} of ${steps.length} step costs differed between two identical runs (${differing.slice(0, 3).join("; ")})`;
    if (strict) throw new Error(message);
    process.stderr.write(`  warning: ${message}\n`);
  }
  return first.reduce((sum, c) => sum + c, 0) / steps.length;
}

/** The learning-cost benchmark module. */
export const plasticityBench: BenchModule = {
  title: "Cost of learning (R-STDP on vs off)",
  description:
    "The same model with and without its Plasticity record, the same input steps and (learning on) a ±512 reward every 8 steps, side by side in one run. " +
    "TS: the runtime Interpreter, median wall time per step. Device: mps2-an386 (Cortex-M4) or microbit (Cortex-M0), arm-none-eabi-gcc -Os, under QEMU `-icount shift=0` running the generic picospike firmware; " +
    "each model is uploaded over the protocol, reset, and stepped in lockstep with the cost flag: the STEP_RESULT cost is in instructions (SysTick ticks × 40), deterministic, and " +
    "every step's spikes must equal the interpreter's. 'extra instr/plastic synapse/step' = (on − off) ÷ plastic synapses. 'synapse updates/step' counts what the rule touches: " +
    "step timing (spec/ops.md §11.2) every synapse every step; event timing (§11.5) the rows of the step's pre events and the columns of its post spikes, nothing for a synapse neither of whose neurons spiked; " +
    "both every synapse at a reward step. 'extra instr/synapse update' = (on − off) ÷ those updates. " +
    "'pre events/step' and 'post spikes/step' are the plastic layer's mean activity with learning on, 'post spikes/step, learning off' without (same input). " +
    "The 256→64 rows at threshold 600 are degenerate both ways: without learning 63.7 of the 64 neurons fire every step; with learning the alternating ±512 rewards depress the layer to silence " +
    "(about 59, 19, 1 and then 0 spikes per step over successive 32-step windows), so their 9.8 spikes per step average a saturated start and a silent rest, and a 64-step (--quick) run sees mostly the saturated part " +
    "(38.7 spikes per step, hence its higher ratio). The issue's target is judged on that row; the sparse-activity rows (one input in 16 active, threshold 1500: 10.8 pre events, 4 % of the inputs, " +
    "and 6.6 of 64 neurons per step without learning, about 1 to 5 with it) are the sensor-like workload. " +
    "Epoch timing (§11.7): a step only marks its pre events and post spikes; every E-th step one fused pass updates the synapses of every row it does not skip (decay, pairings and the epoch's summed reward; " +
    "§11.7's row skip leaves out a row with no pairing in the epoch and an all-zero eligibility, which the pass would not change), so 'synapse updates/step' is 64 × the rows visited ÷ E. " +
    "Here the visited rows are those of the inputs that have had an event since reset (per epoch, 256→64: 94 to 100 of 256; sparse activity: 21 or 22; 64→16: 22 or 23 of 64): " +
    "a row once active does not go quiet within a 256-step run, since eligibilityShift 4 takes up to 128 quiet epochs to bring an eligibility back to 0 and the run holds 8 epochs of 32 steps. For the epoch rows the ±512 rewards alternate in sign per epoch instead of per reward: an epoch adds up its rewards, and alternating per reward " +
    "they would cancel in every 16- or 32-step epoch, so nothing would ever be rewarded (the rewarded pass is the costlier one). " +
    "summary.rstdpOnOffM4 (`picospike bench --quick --json`) is the 256→64 epoch row at E = 32, the format's default epoch (epochShift 5). " +
    "What bounds the ratio: inference costs the learning-off model about 2.8 instructions per synaptic event (about 51 pre events × 64 synapses per step, the int8 fold of spec/ops.md §12.2). " +
    "With epoch timing a step between epoch ends costs the same (the layer folds an int8 copy of its working weights, which the pass writes where it writes a weight, and only marks its events), " +
    "and every E steps the pass visits the synapses of the rows not skipped at about 31 M4 instructions each (all included: 'extra instr/synapse update') when the epoch was rewarded " +
    "(decay, depression, potentiation, sat16, the reward's multiply, the clamp and the int8 copy: 25 in the inner loop of ps_plastic_fast.h when the weight needs no clamping, 29 before its " +
    "one-compare clamp and its marker mask; about 16.5 without a reward): about 99 rows × 64 × 31 / E, 6,100 instructions per step at E = 32 and 12,200 at E = 16 on top of inference's 9,197. " +
    "At sparse activity inference is cheaper and so is the pass (about 22 rows), so the ratio is lower still; the per-row and per-neuron work of the pass and the marks are then a larger share of each update's cost. Step timing (§11.2) touches every synapse every step and event timing (§11.5) " +
    "the rows and columns of the step's events plus every synapse at a reward (7,846 updates per step on the 256→64 row): at 30 or more instructions per update neither can approach 3. " +
    "E trades cost for time resolution: pairings within an epoch count as simultaneous (docs/LEARNING.md: the adapt associative task, 16-step trials, learns at E ≤ 8, not at E = 16).",
  async run({ quick }) {
    const stepCount = quick ? 64 : 256;
    const reps = quick ? 3 : 9;
    const workloads = plasticWorkloads(stepCount);
    const rows: BenchRow[] = [];
    const figures = workloads.map((w) => {
      const off = withoutLearning(w.on);
      const onSim = new Interpreter(w.on);
      const onSpikes = interpret(onSim, w.on, w.steps, true);
      const offSpikes = interpret(new Interpreter(off), w.on, w.steps, false);
      const tsOn = interpreterMicros(w.on, w.steps, reps, w.on);
      const tsOff = interpreterMicros(off, w.steps, reps, w.on);
      return {
        w,
        off,
        onSpikes,
        offSpikes,
        tsOn,
        tsOff,
        touches: synapseTouchesPerStep(w.on, w.steps, onSpikes, epochRowsVisited(onSim, w.on)),
        activity: plasticActivity(w.on, w.steps, onSpikes),
        offActivity: plasticActivity(w.on, w.steps, offSpikes),
      };
    });
    for (const boardName of [M4, M0]) {
      const mine = figures.filter((f) => f.w.board === boardName);
      if (mine.length === 0) continue;
      // generous timeouts: the figures are instruction counts, so a loaded machine only slows the run
      const board = await openBoard({
        board: boardName,
        model: encodeTable(mine[0]!.w.on),
        compiledIn: false,
        recovery: false,
        upload: false,
        session: { timeoutMs: 3000, retries: 10, handshakeMs: 20000 },
      });
      const launched = board.link.launched!;
      try {
        const session = board.session;
        for (const f of mine) {
          const devOff = await deviceCost(!quick, session, boardName, f.off, f.w.steps, f.offSpikes, `${f.w.name}, learning off`, f.w.on);
          const devOn = await deviceCost(!quick, session, boardName, f.w.on, f.w.steps, f.onSpikes, `${f.w.name}, learning on`, f.w.on);
          const synapses = plasticSynapses(f.w.on);
          const round = (x: number, d: number): number => Number(x.toFixed(d));
          rows.push({
            name: f.w.name,
            figures: {
              "TS µs/step off": round(f.tsOff, 2),
              "TS µs/step on": round(f.tsOn, 2),
              "TS on/off": round(f.tsOn / f.tsOff, 2),
              "device instr/step off": Math.round(devOff),
              "device instr/step on": Math.round(devOn),
              "device on/off": round(devOn / devOff, 2),
              "plastic synapses": synapses,
              "extra instr/plastic synapse/step": round((devOn - devOff) / synapses, 2),
              "synapse updates/step": round(f.touches, 1),
              "extra instr/synapse update": round((devOn - devOff) / f.touches, 2),
              "pre events/step": round(f.activity.pre, 1),
              "post spikes/step": round(f.activity.post, 1),
              "post spikes/step, learning off": round(f.offActivity.post, 1),
            },
            workload: `${boardName}; ${f.w.steps.length} steps; ${f.w.description}; ${launched.build.compiledIn ? "compiled in" : "uploaded"}`,
          });
        }
      } finally {
        await board.close();
      }
    }
    return rows;
  },
};
