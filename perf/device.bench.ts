/**
 * Device cost: instructions per step, per synaptic event and per neuron update of
 * ps_net_step on mps2-an386 (Cortex-M4) and microbit (Cortex-M0) under QEMU `-icount shift=0`, where
 * a counter tick is a fixed number of instructions (firmware/ports/README.md). bench/device/bench_main.c
 * steps a compiled-in model over compiled-in input events and prints each step's ticks and spikes;
 * the TS interpreter steps the same model and events, gives each step's synaptic events, and its
 * spike counts prove the device did the same work. A least-squares line over every step of two
 * input rates, instructions = a × synaptic events + b, separates the per-event cost a from the
 * fixed per-step cost b (neuron updates + step overhead; b ÷ neurons is the per-neuron figure).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitCModel, stateWords } from "../codegen/model-c.js";
import { buildFirmware, getBoard, testedBoards, type BuildResult } from "../firmware-host/boards/boards.js";
import { estimateModelRam } from "../firmware-host/boards/launch.js";
import { runQemu } from "../firmware-host/boards/qemu.js";
import type { StepEvents } from "../runtime/events.js";
import { encodeTable } from "../runtime/format.js";
import { Interpreter, encodeSample } from "../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable, type Layer, type Plasticity } from "../runtime/model.js";
import { Xorshift32 } from "../runtime/prng.js";
import { repoRoot, type BenchModule, type BenchRow } from "./harness.js";
import { convModel } from "./interpreter.bench.js";
import { mnistDigit, mnistMlp } from "./peers/workload.js";

/** The trained MLP the toolchain leaves (bench/accuracy.ts), relative to the repository. */
export const TOOLCHAIN_MLP_RELATIVE = "build/accuracy/mlp/snn.json";
const BENCH_MAIN = join(repoRoot(), "bench/device/bench_main.c");
/** Name of the workload stepped through the ps_table reader, the path of `picospike build` (microbit). */
export const READER_ROW = "MNIST MLP 784-256-10 int8, ps_table reader (picospike build's path)";
/** Device boards and the cost unit of one counter tick under -icount shift=0. */
export const DEVICE_BOARDS = ["mps2-an386", "microbit", "nucleo-f4", "hifive1", "mps3-an547"] as const;

/** Boards under 1 MiB of RAM run the MLP only (as the compiled-in const tables and through the reader): the CNN, the 10k network and learning need more. */
function smallRam(board: string): boolean {
  return (getBoard(board).ramBytes ?? Number.POSITIVE_INFINITY) < 1024 * 1024;
}
/** Longest one QEMU run may take (a loaded 2-core machine). */
const QEMU_TIMEOUT_MS = 300_000;

/** One workload: a model, its input steps (two input rates back to back) and optional rewards. */
export interface DeviceWorkload {
  readonly name: string;
  readonly table: EventTable;
  readonly steps: readonly StepEvents[];
  /** Reward given right before each step (0 = none); learning workloads only. */
  readonly rewards: readonly number[];
  /** Read by ps_table.c (plastic models: codegen's const tables carry no plasticity) instead of codegen's const ps_model_t. */
  readonly viaReader: boolean;
  readonly description: string;
  /** Extra defines of the build. */
  readonly defines?: Readonly<Record<string, string | number>>;
}

/** Per-step figures of one device run. */
export interface DeviceRun {
  readonly board: string;
  readonly instructions: number[];
  readonly synapticEvents: number[];
  readonly spikes: number[];
  readonly build: BuildResult;
}

/** Least-squares line y = slope·x + intercept and its r². */
export function fitLine(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number; r2: number } {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** Rate-coded steps of `intensities` at two input rates (full, then halved intensities): the x spread the fit needs. */
function twoRates(table: EventTable, intensities: Uint8Array, stepsPerRate: number): StepEvents[] {
  const half = intensities.map((x) => x >> 2);
  return [...encodeSample(table.input, half, stepsPerRate, new Xorshift32(11)), ...encodeSample(table.input, intensities, stepsPerRate, new Xorshift32(12))];
}

/** The R-STDP rule the learning workloads use (spec/ops.md §11): int8 clamp, modest rates; the cost-of-learning bench's too. */
export const RSTDP: Plasticity = {
  rule: "rstdp",
  preTraceShift: 3,
  postTraceShift: 3,
  traceIncrement: 1024,
  aPlus: 96,
  aMinus: 64,
  eligibilityShift: 4,
  learningShift: 10,
  baselineShift: 2,
  wMin: -127,
  wMax: 127,
};

/**
 * A random sparse recurrent network of `size` LIF neurons: 784 inputs each reaching `fanIn` random
 * neurons, and `fanOut` random recurrent synapses per neuron (seeded int8 weights).
 */
export function recurrentModel(size: number, fanIn: number, fanOut: number, seed: number): EventTable {
  const g = new Xorshift32(seed);
  const sparse = (inputs: number, per: number, lo: number, span: number): Layer["input"] => {
    const rowPtr = new Uint32Array(inputs + 1);
    const cols = new Uint16Array(inputs * per);
    const data = new Int8Array(inputs * per);
    for (let i = 0; i < inputs; i++) {
      const row = new Set<number>();
      while (row.size < per) row.add(g.next() % size);
      [...row]
        .sort((a, b) => a - b)
        .forEach((c, k) => {
          cols[i * per + k] = c;
          data[i * per + k] = lo + (g.next() % span);
        });
      rowPtr[i + 1] = (i + 1) * per;
    }
    return { kind: "sparse", inputs, outputs: size, rowPtr, cols, weights: { bits: 8, data, count: data.length, shift: Uint8Array.of(0) } };
  };
  return {
    input: { size: 784, shape: [1, 28, 28], encoding: "rate", seed: 1 },
    layers: [
      {
        name: "reservoir",
        size,
        input: sparse(784, fanIn, -20, 120),
        recurrent: sparse(size, fanOut, -60, 120),
        neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 4, threshold: 200 },
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "bench", tool: "perf/device.bench.ts", settings: {}, layerScales: [1] },
  };
}

/** The workloads on `board` (models that fit it), `stepsPerRate` steps at each of two input rates. */
export function deviceWorkloads(board: string, stepsPerRate: number, quick: boolean): DeviceWorkload[] {
  const mlp = mnistMlp(join(repoRoot(), TOOLCHAIN_MLP_RELATIVE));
  const digit = mnistDigit();
  const list: DeviceWorkload[] = [
    {
      name: "MNIST MLP 784-256-10 int8",
      table: mlp.table,
      steps: twoRates(mlp.table, digit, stepsPerRate),
      rewards: [],
      viaReader: false,
      description: `${mlp.origin}; learning off; codegen const tables`,
    },
  ];
  if (smallRam(board)) {
    // 16-512 KB RAM: the CNN's 2,000 neurons and the 10k network's state, or learning's int16 working weights, do not fit
    list.push({
      ...list[0]!,
      name: READER_ROW,
      viaReader: true,
      description: `${mlp.origin}; learning off; the .cbor read by ps_table.c as picospike build does (int8 rows inside the buffer, at whatever alignment it gives them)`,
    });
    return list;
  }
  const plastic: EventTable = { ...mlp.table, layers: mlp.table.layers.map((l, i) => (i === 0 ? { ...l, plasticity: RSTDP } : l)) };
  const steps = twoRates(plastic, digit, stepsPerRate);
  list.push({
    name: "MNIST MLP 784-256-10 int8, R-STDP on the hidden layer",
    table: plastic,
    steps,
    rewards: steps.map((_, t) => (t % 8 === 7 ? (t % 16 === 15 ? -256 : 256) : 0)),
    viaReader: true,
    description: `${mlp.origin}; learning on (rstdp on the 784→256 weights; the integrator readout cannot learn; reward ±256 every 8 steps); ps_table reader (const tables carry no plasticity)`,
  });
  if (quick) return list;
  const cnn = convModel(2);
  const g = new Xorshift32(3);
  const random = Uint8Array.from({ length: 784 }, () => (g.next() % 4 === 0 ? 128 + (g.next() % 128) : 0));
  list.push({
    name: "CNN conv 8x5x5/2 → pool → dense 10",
    table: cnn,
    steps: twoRates(cnn, random, stepsPerRate),
    rewards: [],
    viaReader: false,
    description: "seeded random int8 (perf/interpreter.bench.ts convModel); learning off",
  });
  const rec = recurrentModel(10_000, 16, 10, 4);
  list.push({
    name: "sparse recurrent 10,000 LIF",
    table: rec,
    steps: twoRates(rec, random, stepsPerRate),
    rewards: [],
    viaReader: false,
    description: "784 inputs × 16 synapses, 10 recurrent synapses per neuron, seeded int8; learning off",
  });
  return list;
}

/** Per step of the TS interpreter: synaptic events and total spikes. */
function interpreterTrace(w: DeviceWorkload): { events: number[]; spikes: number[] } {
  const sim = new Interpreter(w.table);
  const events: number[] = [];
  const spikes: number[] = [];
  w.steps.forEach((s, t) => {
    if ((w.rewards[t] ?? 0) !== 0) sim.reward(w.rewards[t]!);
    const before = sim.synapticEvents;
    sim.step(s);
    events.push(sim.synapticEvents - before);
    let n = 0;
    for (let l = 0; l < sim.layerCount; l++) n += sim.lastSpikes(l).length;
    spikes.push(n);
  });
  return { events, spikes };
}

function cArray(type: string, name: string, values: ArrayLike<number>): string {
  const items = Array.from(values, String);
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += 24) lines.push("    " + items.slice(i, i + 24).join(", ") + ",");
  return `const ${type} ${name}[${Math.max(1, items.length)}] = {\n${items.length === 0 ? "    0" : lines.join("\n")}\n};\n`;
}

/** State words ps_net_init needs, including the learning state of plastic layers (ps_net.c). */
function stateWordsWithLearning(table: EventTable): number {
  let words = stateWords(table);
  let pre = table.input.size;
  for (const l of table.layers) {
    if (l.plasticity !== undefined && l.input.kind !== "pool") {
      const syn = l.input.weights.count;
      words +=
        Math.ceil(syn / 2) + Math.ceil(pre / 2) + Math.ceil(l.size / 2) + (l.plasticity.rule === "rstdp" ? Math.ceil(syn / 2) : 0) + Math.ceil(l.size / 4);
    }
    pre = l.size;
  }
  return words;
}

/** Writes the workload sources into `dir`; returns the extra sources and defines of the build. */
function writeWorkload(w: DeviceWorkload, dir: string): { sources: string[]; defines: Record<string, string | number> } {
  const offsets = [0];
  const events: number[] = [];
  for (const s of w.steps) {
    events.push(...s.indices);
    offsets.push(events.length);
  }
  const maxEvents = Math.max(1, ...w.steps.map((s) => s.indices.length));
  const header = [
    "/* GENERATED by perf/device.bench.ts */",
    "#include <stdint.h>",
    `#define BENCH_STEPS ${w.steps.length}u`,
    `#define BENCH_MAX_EVENTS ${maxEvents}u`,
    `#define BENCH_STATE_WORDS ${stateWordsWithLearning(w.table)}u`,
    `extern const uint32_t bench_offsets[${w.steps.length + 1}];`,
    "extern const uint16_t bench_events[];",
    "extern const int16_t bench_rewards[];",
    "extern const uint8_t bench_table[];",
    "extern const uint32_t bench_table_len;",
    "",
  ].join("\n");
  const body = [
    '#include "bench_workload.h"',
    cArray("uint32_t", "bench_offsets", offsets),
    cArray("uint16_t", "bench_events", events),
    cArray(
      "int16_t",
      "bench_rewards",
      w.steps.map((_, t) => w.rewards[t] ?? 0),
    ),
  ];
  const sources = [join(dir, "bench_workload.c")];
  const defines: Record<string, string | number> = { PS_NET_MAX_LAYERS: `${w.table.layers.length}u`, ...w.defines };
  if (w.viaReader) {
    const bytes = encodeTable(w.table);
    body.push(cArray("uint8_t", "bench_table", bytes), `const uint32_t bench_table_len = ${bytes.length}u;`);
    const ram = estimateModelRam(w.table);
    defines["BENCH_TABLE"] = 1;
    defines["BENCH_ARENA_BYTES"] = `${Math.ceil((ram.arenaBytes * 1.25 + 4096) / 8) * 8}u`;
    sources.push("src/ps_table.c", "src/ps_sha256.c");
  } else {
    for (const [name, text] of emitCModel(w.table, w.name)) writeFileSync(join(dir, name), text);
    sources.push(join(dir, "ps_model_generated.c"));
  }
  if (w.rewards.some((r) => r !== 0)) defines["BENCH_LEARNING"] = 1;
  writeFileSync(join(dir, "bench_workload.h"), header);
  writeFileSync(join(dir, "bench_workload.c"), body.join("\n"));
  return { sources, defines };
}

/** Builds the bench firmware for `w` on `board`, runs it and checks its spikes against the interpreter. */
export async function runDeviceWorkload(board: string, w: DeviceWorkload): Promise<DeviceRun> {
  const spec = getBoard(board);
  const dir = mkdtempSync(join(tmpdir(), `ps-bench-dev-${board}-`));
  try {
    const { sources, defines } = writeWorkload(w, dir);
    const build = await buildFirmware(board, [BENCH_MAIN, "src/ps_net.c", "src/ps_kernels_generated.c", ...sources], [dir], dir, defines);
    const out = await runQemu(board, build.image, QEMU_TIMEOUT_MS);
    const error = /^ERROR (\d+)$/m.exec(out);
    if (error !== null) throw new Error(`${board} ${w.name}: the device failed to load the model (status ${error[1]})`);
    const perTick = spec.qemu!.instructionsPerTick;
    const instructions: number[] = [];
    const deviceSpikes: number[] = [];
    for (const m of out.matchAll(/^S (\d+) (\d+) (\d+)( ERROR)?$/gm)) {
      if (m[4] !== undefined) throw new Error(`${board} ${w.name}: ps_net_step failed at step ${m[1]}`);
      instructions.push(Number(m[2]) * perTick);
      deviceSpikes.push(Number(m[3]));
    }
    const ts = interpreterTrace(w);
    if (instructions.length !== w.steps.length) throw new Error(`${board} ${w.name}: ${instructions.length} steps reported, ${w.steps.length} expected`);
    const differing = ts.spikes.findIndex((s, t) => s !== deviceSpikes[t]);
    if (differing >= 0)
      throw new Error(
        `${board} ${w.name}: step ${differing} spiked ${deviceSpikes[differing]} on the device, ${ts.spikes[differing]} in the interpreter: not the same work`,
      );
    return { board, instructions, synapticEvents: ts.events, spikes: deviceSpikes, build };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures of one run: mean per step, the fit, per neuron. */
export function deviceFigures(w: DeviceWorkload, run: DeviceRun): Record<string, number> {
  const neurons = w.table.layers.reduce((n, l) => n + l.size, 0);
  const plasticSynapses = w.table.layers.reduce((n, l) => n + (l.plasticity !== undefined && l.input.kind !== "pool" ? l.input.weights.count : 0), 0);
  const fit = fitLine(run.synapticEvents, run.instructions);
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const round = (x: number, d: number): number => Number(x.toFixed(d));
  return {
    "instr/step (mean)": Math.round(mean(run.instructions)),
    "synaptic events/step (mean)": Math.round(mean(run.synapticEvents)),
    "instr/synaptic event (fit slope)": round(fit.slope, 3),
    "instr/step fixed (fit intercept)": Math.round(fit.intercept),
    "instr/neuron update (intercept ÷ neurons)": round(fit.intercept / neurons, 2),
    "instr/synaptic event (mean, all-in)": round(mean(run.instructions) / Math.max(1, mean(run.synapticEvents)), 3),
    "fit r²": round(fit.r2, 4),
    // learning decays every synapse's eligibility every step: that, not the events, dominates
    ...(plasticSynapses > 0 ? { "instr/plastic synapse/step (intercept ÷ synapses)": round(fit.intercept / plasticSynapses, 2) } : {}),
  };
}

/** The paragraph under the table: what the boards' rows show against each other, from the rows of this run. */
function readDeviceRows(rows: readonly BenchRow[]): string {
  const slope = (name: string): number | undefined => rows.find((r) => r.name === name)?.figures["instr/synaptic event (fit slope)"];
  const mlp = "MNIST MLP 784-256-10 int8";
  const m4 = slope(`mps2-an386: ${mlp}`);
  const parts: string[] = [];
  const m55 = slope(`mps3-an547: ${mlp}`);
  if (m4 !== undefined && m55 !== undefined)
    parts.push(
      `A synaptic event of the MLP costs ${m4} instructions on the Cortex-M4 (the int8 fold, firmware/kernels/ps_fold_m4.h) and ${m55} on the Cortex-M55 (the Helium fold, ps_fold_mve.h).`,
    );
  const m0 = slope(`microbit: ${mlp}`);
  if (m0 !== undefined) parts.push(`The Cortex-M0 takes ${m0} (ps_fold_m0.h), its neuron updates the ARMv6-M IF update of ps_neuron_m0.h.`);
  const rv = slope(`hifive1: ${mlp}`);
  if (rv !== undefined) parts.push(`RV32IMAC has no hand-written fold: ${rv} per event is the generic C kernel.`);
  const f4 = slope(`nucleo-f4: ${mlp}`);
  const f4Reader = slope(`nucleo-f4: ${READER_ROW}`);
  if (f4 !== undefined && f4Reader !== undefined && f4Reader > f4)
    parts.push(
      `On nucleo-f4 the ps_table reader row (${f4Reader} per event) is slower than the const-table row (${f4}): the .cbor leaves the int8 rows unaligned, so the Cortex-M4 fold reads them by LDR instead of LDRD.`,
    );
  return parts.join(" ");
}

/** The device-cost benchmark module. */
export const deviceBench: BenchModule = {
  title: "Device cost (QEMU -icount, instructions)",
  description:
    "ps_net_step on mps2-an386 (Cortex-M4), microbit (Cortex-M0), nucleo-f4 (Cortex-M4 STM32F4 image on netduinoplus2), hifive1 (RV32IMAC FE310 on sifive_e, riscv64-unknown-elf-gcc -Os) and mps3-an547 (Cortex-M55), arm-none-eabi-gcc -Os, under QEMU `-icount shift=0`: " +
    "instructions = counter ticks × 40 (mps2), × 62.5 (microbit), × 125/21 (nucleo-f4: SysTick at QEMU's 168 MHz, a tick every 6 instructions), × 1 (hifive1: mcycle counts instructions) or × 31.25 (mps3-an547: 32 MHz SysTick), " +
    "ps_port_cycles_align() before every step, so figures are deterministic (not medians: reruns give the same numbers). bench/device/bench_main.c steps the compiled-in model over " +
    "compiled-in rate-coded input at two input rates (intensities ÷ 4, then full); the TS interpreter steps the same events, supplies each step's synaptic events and must agree on every step's spike count. " +
    "The fit is a least-squares line over all steps, instructions = slope × synaptic events + intercept: the slope is the marginal cost of a synaptic event, the intercept the fixed per-step cost " +
    "(neuron updates, accumulator clears, step overhead), shown also ÷ neurons. 'mean, all-in' divides everything by the events. The microbit (16 KB RAM) runs only the MLP, learning off, as do the other boards under 1 MiB of RAM (nucleo-f4, hifive1, mps3-an547): " +
    "the CNN's and the 10k network's state do not fit, and learning needs the reader's arena plus int16 working weights and eligibility (≈ 800 KB for the MLP).",
  reading: readDeviceRows,
  async run({ quick }) {
    const stepsPerRate = quick ? 8 : 24;
    const rows: BenchRow[] = [];
    for (const board of testedBoards(DEVICE_BOARDS, process.env["PICOSPIKE_BENCH_BOARDS"])) {
      for (const w of deviceWorkloads(board, stepsPerRate, quick)) {
        const run = await runDeviceWorkload(board, w);
        rows.push({
          name: `${board}: ${w.name}`,
          figures: deviceFigures(w, run),
          workload: `${w.steps.length} steps (${stepsPerRate} per input rate); ${w.description}`,
        });
      }
    }
    return rows;
  },
};
