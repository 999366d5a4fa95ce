/**
 * SNN vs int8 ANN on the MCU: the same trained network (the toolchain's ANN, build/accuracy/<arch>/
 * model.json, and the SNN converted from it, snn.json) as an int8 ANN (perf/ann-int8.ts, run by
 * bench/device/ann_main.c: CMSIS-NN-style SMLAD dot products on the Cortex-M4, plain C on the M0) and
 * as the int8 SNN picospike runs (current encoding), each on the held-out digits for accuracy (TS,
 * bit-exact twins of the device code) and under QEMU -icount shift=0 for instructions per inference
 * (deterministic). The SNN's T is the smallest of 4, 8, 16, 32 at which its accuracy is within 0.5
 * point of the int8 ANN's (else 32); a pair from build/accuracy is measured at each T with its SNN
 * calibrated for that T (`convert --calibrate shift --calibrate-steps T`, models/calibrate.ts), and
 * --ship writes the MLP's table calibrated for the T it chose. Its cost is measured with held input (spec/ops.md §7.3: the
 * constant input folded once, then T held steps) and, for reference, stepping the events every step.
 *
 *   npx tsx perf/snn-vs-ann.bench.ts [--quick] [--arch mlp|cnn]   trained models in build/accuracy/
 *   npx tsx perf/snn-vs-ann.bench.ts --shipped [--quick]           the shipped MLP (bench/data/mnist-mlp)
 *   npx tsx perf/snn-vs-ann.bench.ts --ship                         rewrite the shipped MLP from build/accuracy/mlp
 *
 * The MLP of the benchmark module (npm run bench, picospike bench) is the shipped one, trained once by
 * bench/accuracy.ts and written by --ship, so that a fresh clone measures a trained model.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { emitCModel, stateWords } from "../codegen/model-c.js";
import { buildFirmware, getBoard } from "../firmware-host/boards/boards.js";
import { CONVERT_DEFAULTS, convertAnn, parseAnn } from "../models/convert.js";
import { calibrateSnn, type CalibrationMethod } from "../models/calibrate.js";
import { embeddedMnist } from "../firmware-host/sources/datasets.js";
import { image, slice, type ImageSet } from "../runtime/datasets.js";
import type { FloatSnn } from "../models/float-snn.js";
import { calibrationStats, quantizeSnn } from "../models/quantize.js";
import { initTf } from "../models/tf.js";
import { Interpreter, encodeSample } from "../runtime/interpreter.js";
import { decodeTable, encodeTable } from "../runtime/format.js";
import type { EventTable } from "../runtime/model.js";
import { fail } from "../runtime/errors.js";
import { argmax8, quantizeAnn, runInt8Ann, type Int8Ann, type Int8Layer } from "./ann-int8.js";
import { runQemu } from "../firmware-host/boards/qemu.js";
import { missingTools } from "../firmware-host/boards/toolchain.js";
import { repoRoot, type BenchModule, type BenchRow } from "./harness.js";

/** The T values the SNN may choose from (fewest steps first). */
export const SNN_STEP_CHOICES = [4, 8, 16, 32] as const;
/** Accuracy margin to the int8 ANN within which the SNN's T is chosen (fraction). */
export const ACCURACY_MARGIN = 0.005;
/** Digits run on the device per case (cost varies with the digit for the SNN; the ANN's does not). */
const DEVICE_DIGITS = 8;

/** The calibration the SNN gets for each candidate T (the cheap one: it needs no simulation and does as well as `bias` on both networks, docs/ACCURACY.md). */
export const SNN_CALIBRATION: CalibrationMethod = "shift";

/** One network pair of the comparison. */
export interface NetworkPair {
  readonly arch: "mlp" | "cnn";
  readonly ann: Int8Ann;
  /** The SNN as one table run at every T (the shipped one). */
  readonly snn: EventTable;
  /** When present, the SNN calibrated for a run of `steps` steps, used at that T instead of `snn`. */
  readonly snnForSteps?: (steps: number) => EventTable;
  readonly origin: string;
}

/** Where the shipped trained MNIST MLP pair lives (int8 SNN table and int8 ANN), so that a fresh clone measures a trained model. */
export const SHIPPED_MLP_DIR = "bench/data/mnist-mlp";

interface ShippedLayer {
  [key: string]: unknown;
}

/** Writes `pair` as the shipped files: the SNN as its .cbor, the ANN as JSON (int8 weights base64). */
export function shipPair(pair: NetworkPair, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "snn-int8.cbor"), encodeTable(pair.snn));
  const layers = pair.ann.layers.map((L) =>
    Object.fromEntries(
      Object.entries(L).map(([k, v]) => [
        k,
        v instanceof Int8Array ? { int8: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") } : v instanceof Int32Array ? Array.from(v) : v,
      ]),
    ),
  );
  writeFileSync(join(dir, "ann-int8.json"), JSON.stringify({ origin: pair.origin, macs: pair.ann.macs, layers }) + "\n");
}

/** The shipped trained MNIST MLP pair (SHIPPED_MLP_DIR), or undefined when absent. */
export function shippedPair(dir: string = join(repoRoot(), SHIPPED_MLP_DIR)): NetworkPair | undefined {
  if (!existsSync(join(dir, "snn-int8.cbor")) || !existsSync(join(dir, "ann-int8.json"))) return undefined;
  const snn = decodeTable(readFileSync(join(dir, "snn-int8.cbor")));
  const json = JSON.parse(readFileSync(join(dir, "ann-int8.json"), "utf8")) as { origin: string; macs: number; layers: ShippedLayer[] };
  const layers = json.layers.map((L) =>
    Object.fromEntries(
      Object.entries(L).map(([k, v]) => {
        if (typeof v === "object" && v !== null && "int8" in v) return [k, new Int8Array(Buffer.from((v as { int8: string }).int8, "base64"))];
        if (k === "bias" || k === "mult" || k === "shift") return [k, Int32Array.from(v as number[])];
        return [k, v];
      }),
    ),
  ) as unknown as Int8Layer[];
  return { arch: "mlp", ann: { layers, macs: json.macs }, snn, origin: `${SHIPPED_MLP_DIR} (trained by bench/accuracy.ts, shipped: ${json.origin})` };
}

/**
 * Loads the trained ANN of `arch` from `dir` (bench/accuracy.ts output) and converts it as
 * bench/accuracy.ts does (defaults, 1,000 training digits), or undefined when absent. `snn` is the
 * uncalibrated table; `snnForSteps(T)` the one calibrated for T (SNN_CALIBRATION).
 */
export async function loadPair(arch: "mlp" | "cnn", dir: string): Promise<NetworkPair | undefined> {
  await initTf();
  const modelPath = join(dir, "model.json");
  if (!existsSync(modelPath)) return undefined;
  const data = embeddedMnist();
  const cal = slice(data.train, 0, arch === "mlp" ? 1000 : 200);
  const parsed = parseAnn(modelPath);
  const ann = quantizeAnn(parsed, cal.pixels, cal.count);
  const normCal = slice(data.train, 0, 1000);
  const float = convertAnn(parseAnn(modelPath), normCal.pixels, normCal.count, CONVERT_DEFAULTS, modelPath).snn;
  const statsImages = slice(data.train, 0, 64).pixels;
  const quantize = (snn: FloatSnn) =>
    quantizeSnn(snn, { weightBits: 8, perChannel: false, seed: 1, source: modelPath }, calibrationStats(snn, statsImages, 64, 32, "current")).table;
  const cache = new Map<number, EventTable>();
  const snnForSteps = (steps: number): EventTable => {
    if (!cache.has(steps)) cache.set(steps, quantize(calibrateSnn(float, normCal.pixels, 0, { method: SNN_CALIBRATION, steps }).snn));
    return cache.get(steps)!;
  };
  return { arch, ann, snn: quantize(float), snnForSteps, origin: dir.replace(/^.*\/build\//, "build/") };
}

/** The SNN's accuracy and cost at each candidate T (with its table for that T when the pair has one), and the T chosen against the ANN's accuracy. */
export function chooseSteps(
  pair: NetworkPair,
  test: ImageSet,
  annAcc: number,
): { perT: ReturnType<typeof snnAccuracy>; chosen: ReturnType<typeof snnAccuracy>[number]; table: EventTable } {
  const perT = pair.snnForSteps
    ? SNN_STEP_CHOICES.map((T) => snnAccuracy(pair.snnForSteps!(T), test, [T])[0]!)
    : snnAccuracy(pair.snn, test, [...SNN_STEP_CHOICES]);
  const chosen = perT.find((p) => p.accuracy >= annAcc - ACCURACY_MARGIN - 1e-9) ?? perT[perT.length - 1]!;
  return { perT, chosen, table: pair.snnForSteps ? pair.snnForSteps(chosen.steps) : pair.snn };
}

/** Accuracy of the int8 ANN on `set`. */
export function annAccuracy(ann: Int8Ann, set: ImageSet): number {
  let correct = 0;
  for (let i = 0; i < set.count; i++) if (argmax8(runInt8Ann(ann, image(set, i))) === set.labels[i]) correct++;
  return correct / set.count;
}

/** SNN accuracy and cost per inference at each T of `steps` (a T-step run is the prefix of a longer one), held input. */
export function snnAccuracy(
  table: EventTable,
  set: ImageSet,
  steps: readonly number[],
): Array<{ steps: number; accuracy: number; synEvents: number; neuronUpdates: number; spikes: number }> {
  const sim = new Interpreter(table);
  const maxT = Math.max(...steps);
  const neurons = table.layers.reduce((n, l) => n + l.size, 0);
  const out = steps.map((t) => ({ steps: t, accuracy: 0, synEvents: 0, neuronUpdates: neurons * t, spikes: 0 }));
  for (let i = 0; i < set.count; i++) {
    sim.reset();
    const start = sim.synapticEvents;
    const held = sim.holdInput(encodeSample(table.input, image(set, i), 1)[0]!);
    for (let t = 1; t <= maxT; t++) {
      sim.stepHeld(held);
      const k = steps.indexOf(t);
      if (k < 0) continue;
      if (sim.readoutClass() === set.labels[i]) out[k]!.accuracy++;
      out[k]!.synEvents += sim.synapticEvents - start;
      for (let l = 0; l < sim.layerCount; l++) for (const c of sim.spikeCounts(l)) out[k]!.spikes += c;
    }
  }
  return out.map((o) => ({ ...o, accuracy: o.accuracy / set.count, synEvents: o.synEvents / set.count, spikes: o.spikes / set.count }));
}

function cArray(type: string, name: string, values: ArrayLike<number>): string {
  const items = Array.from(values, String);
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += 32) lines.push("    " + items.slice(i, i + 32).join(", ") + ",");
  return `const ${type} ${name}[${Math.max(1, items.length)}] __attribute__((aligned(4))) = {\n${items.length === 0 ? "    0" : lines.join("\n")}\n};\n`;
}

/** The ANN's C workload (ann_workload.h/.c): layers with rows padded to a multiple of 8, and the digits. */
function writeAnnWorkload(ann: Int8Ann, digits: readonly Uint8Array[], dir: string): void {
  const body: string[] = ['#include "ann_workload.h"'];
  const descriptors: string[] = [];
  let maxAct = 784;
  let maxPatch = 4;
  ann.layers.forEach((L, k) => {
    if (L.kind === "pool") {
      const [c, h, w] = L.inShape;
      const [, oh, ow] = L.outShape;
      descriptors.push(
        `{ ANN_POOL, 0u, ${c}u, ${h}u, ${w}u, ${c}u, ${oh}u, ${ow}u, ${L.kernel[0]}u, ${L.kernel[1]}u, ${L.stride[0]}u, ${L.stride[1]}u, 0, 0, 0, 0, 0, -128 }`,
      );
      maxAct = Math.max(maxAct, c * oh * ow);
      return;
    }
    const rows = L.kind === "dense" ? L.outputs : L.outShape[0];
    const fan = L.kind === "dense" ? L.inputs : L.inShape[0] * L.kernel[0] * L.kernel[1];
    const fan4 = Math.ceil(fan / 8) * 8; // the M4 loop takes 8 inputs per iteration
    const w = new Int8Array(rows * fan4);
    for (let o = 0; o < rows; o++) w.set(L.w.subarray(o * fan, (o + 1) * fan), o * fan4);
    body.push(
      cArray("int8_t", `ann_w${k}`, w),
      cArray("int32_t", `ann_b${k}`, L.bias),
      cArray("int32_t", `ann_m${k}`, L.mult),
      cArray("int32_t", `ann_s${k}`, L.shift),
    );
    const ptrs = `ann_w${k}, ann_b${k}, ann_m${k}, ann_s${k}, ${L.zpOut}, ${L.actMin}`;
    if (L.kind === "dense") {
      descriptors.push(`{ ANN_DENSE, ${fan4}u, ${L.inputs}u, 1u, 1u, ${rows}u, 1u, 1u, 1u, 1u, 1u, 1u, ${ptrs} }`);
      maxAct = Math.max(maxAct, fan4, rows);
    } else {
      const [c, h, wd] = L.inShape;
      const [kk, oh, ow] = L.outShape;
      descriptors.push(
        `{ ANN_CONV, ${fan4}u, ${c}u, ${h}u, ${wd}u, ${kk}u, ${oh}u, ${ow}u, ${L.kernel[0]}u, ${L.kernel[1]}u, ${L.stride[0]}u, ${L.stride[1]}u, ${ptrs} }`,
      );
      maxAct = Math.max(maxAct, kk * oh * ow);
      maxPatch = Math.max(maxPatch, fan4);
    }
  });
  const last = ann.layers[ann.layers.length - 1]!;
  const outputs = last.kind === "dense" ? last.outputs : last.outShape[0] * last.outShape[1] * last.outShape[2];
  const pixels = new Uint8Array(digits.length * 784);
  digits.forEach((d, i) => pixels.set(d, i * 784));
  body.push(cArray("uint8_t", "ann_pixels", pixels));
  body.push(`const ann_layer_t ann_layers[${ann.layers.length}] = {\n    ${descriptors.join(",\n    ")}\n};\n`);
  const header = [
    "/* GENERATED by perf/snn-vs-ann.bench.ts */",
    "#include <stdint.h>",
    "enum { ANN_DENSE = 0, ANN_CONV = 1, ANN_POOL = 2 };",
    "typedef struct { uint32_t kind, fan, in_c, in_h, in_w, out_c, out_h, out_w, kh, kw, sy, sx;",
    "    const int8_t *w; const int32_t *bias; const int32_t *mult; const int32_t *shift; int32_t zp_out, act_min; } ann_layer_t;",
    `#define ANN_LAYERS ${ann.layers.length}u`,
    `#define ANN_INPUTS 784u`,
    `#define ANN_INPUTS_PADDED 784u`,
    `#define ANN_OUTPUTS ${outputs}u`,
    `#define ANN_DIGITS ${digits.length}u`,
    `#define ANN_MAX_ACT ${maxAct + 8}u`,
    `#define ANN_MAX_PATCH ${maxPatch}u`,
    `extern const ann_layer_t ann_layers[${ann.layers.length}];`,
    "extern const uint8_t ann_pixels[];",
    "",
  ].join("\n");
  writeFileSync(join(dir, "ann_workload.h"), header);
  writeFileSync(join(dir, "ann_workload.c"), body.join("\n"));
}

/** Runs the int8 ANN on `board` over `digits`; instructions per inference, checked output for output against runInt8Ann. */
export async function deviceAnn(board: string, ann: Int8Ann, digits: readonly Uint8Array[]): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), `ps-ann-${board}-`));
  try {
    writeAnnWorkload(ann, digits, dir);
    const build = await buildFirmware(board, [join(repoRoot(), "bench/device/ann_main.c"), join(dir, "ann_workload.c")], [dir], dir);
    const out = await runQemu(board, build.image);
    const perTick = getBoard(board).qemu!.instructionsPerTick;
    const instructions: number[] = [];
    for (const m of out.matchAll(/^A (\d+) (\d+) (\d+)((?: -?\d+)+)$/gm)) {
      const d = Number(m[1]);
      const expected = Array.from(runInt8Ann(ann, digits[d]!));
      const got = m[4]!.trim().split(" ").map(Number);
      if (got.join(",") !== expected.join(","))
        throw new Error(`${board} int8 ANN digit ${d}: device outputs ${got.join(",")}, perf/ann-int8.ts ${expected.join(",")}`);
      instructions.push(Number(m[2]) * perTick);
    }
    if (instructions.length !== digits.length) throw new Error(`${board} int8 ANN: ${instructions.length} digits reported, ${digits.length} expected`);
    return instructions;
  } finally {
    if (process.env.PS_BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the SNN on `board` for `steps` steps per digit, held input or not; instructions per inference, classes checked against the interpreter. */
export async function deviceSnn(board: string, table: EventTable, digits: readonly Uint8Array[], steps: number, held: boolean): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), `ps-snn-${board}-`));
  try {
    const offsets = [0];
    const indices: number[] = [];
    const values: number[] = [];
    const expected: Array<{ cls: number; spikes: number }> = [];
    const sim = new Interpreter(table);
    for (const d of digits) {
      const ev = encodeSample(table.input, d, 1)[0]!;
      indices.push(...ev.indices);
      values.push(...(ev.values ?? ev.indices.map(() => 1)));
      offsets.push(indices.length);
      sim.reset();
      for (let t = 0; t < steps; t++) sim.step(ev);
      let spikes = 0;
      for (let l = 0; l < sim.layerCount; l++) for (const c of sim.spikeCounts(l)) spikes += c;
      expected.push({ cls: sim.readoutClass(), spikes });
    }
    const maxEvents = Math.max(1, ...digits.map((_, i) => offsets[i + 1]! - offsets[i]!));
    writeFileSync(
      join(dir, "snn_workload.h"),
      [
        "/* GENERATED by perf/snn-vs-ann.bench.ts */",
        "#include <stdint.h>",
        `#define SNN_DIGITS ${digits.length}u`,
        `#define SNN_STEPS ${steps}u`,
        `#define SNN_MAX_EVENTS ${maxEvents}u`,
        `#define SNN_STATE_WORDS ${stateWords(table)}u`,
        `#define SNN_LAYER0 ${table.layers[0]!.size}u`,
        `extern const uint32_t snn_offsets[${digits.length + 1}];`,
        "extern const uint16_t snn_indices[];",
        "extern const uint8_t snn_values[];",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "snn_workload.c"),
      [
        '#include "snn_workload.h"',
        cArray("uint32_t", "snn_offsets", offsets),
        cArray("uint16_t", "snn_indices", indices),
        cArray("uint8_t", "snn_values", values),
      ].join("\n"),
    );
    for (const [name, text] of emitCModel(table, "snn-vs-ann")) writeFileSync(join(dir, name), text);
    const defines: Record<string, string | number> = { PS_NET_MAX_LAYERS: `${table.layers.length}u`, ...(held ? { SNN_HELD: 1 } : {}) };
    const build = await buildFirmware(
      board,
      [
        join(repoRoot(), "bench/device/snn_infer_main.c"),
        "src/ps_net.c",
        "src/ps_kernels_generated.c",
        join(dir, "ps_model_generated.c"),
        join(dir, "snn_workload.c"),
      ],
      [dir],
      dir,
      defines,
    );
    const out = await runQemu(board, build.image);
    const error = /^ERROR (\d+)$/m.exec(out);
    if (error !== null) throw new Error(`${board} SNN: ps_net_init failed (status ${error[1]})`);
    const perTick = getBoard(board).qemu!.instructionsPerTick;
    const instructions: number[] = [];
    for (const m of out.matchAll(/^N (\d+) (\d+) (\d+) (\d+)( ERROR)?$/gm)) {
      const d = Number(m[1]);
      if (m[5] !== undefined) throw new Error(`${board} SNN digit ${d}: a step failed`);
      const e = expected[d]!;
      if (Number(m[3]) !== e.cls || Number(m[4]) !== e.spikes)
        throw new Error(`${board} SNN digit ${d}: class ${m[3]} / ${m[4]} spikes on the device, ${e.cls} / ${e.spikes} in the interpreter`);
      instructions.push(Number(m[2]) * perTick);
    }
    if (instructions.length !== digits.length) throw new Error(`${board} SNN: ${instructions.length} digits reported, ${digits.length} expected`);
    return instructions;
  } finally {
    if (process.env.PS_BENCH_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** IF neuron-step cost on the Cortex-M4: the M4 kernel (with the spike-count update) and the reference kernel, instructions per neuron-step. */
export async function deviceNeuronUpdate(): Promise<{ fast: number; reference: number }> {
  const board = "mps2-an386";
  const dir = mkdtempSync(join(tmpdir(), "ps-neuron-"));
  try {
    const build = await buildFirmware(board, [join(repoRoot(), "bench/device/neuron_main.c"), "src/ps_kernels_generated.c"], [], dir);
    const out = await runQemu(board, build.image);
    const m = /^K (\d+) (\d+) (\d+) (\d+)$/m.exec(out);
    if (m === null) throw new Error(`${board} neuron bench: no result in ${out.slice(-300)}`);
    if (m[3] !== m[4]) throw new Error(`${board} neuron bench: ${m[3]} spikes from the M4 kernel, ${m[4]} from the reference`);
    const perTick = getBoard(board).qemu!.instructionsPerTick;
    const neuronSteps = 256 * 64;
    return { fast: (Number(m[1]) * perTick) / neuronSteps, reference: (Number(m[2]) * perTick) / neuronSteps };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** "shift for T=4" when the table's provenance records a calibration (convert --calibrate), else undefined. */
function calibrationOf(table: EventTable): string | undefined {
  const s = table.provenance?.settings ?? {};
  const m = s["convert.calibrate"];
  return typeof m === "string" && m !== "none" ? `${m} calibration for T=${String(s["convert.calibrateSteps"])}` : undefined;
}

/** The comparison rows of one network pair on the boards that hold it. */
export async function comparePair(pair: NetworkPair, test: ImageSet, log: (s: string) => void = () => {}, quick = false): Promise<BenchRow[]> {
  const annAcc = annAccuracy(pair.ann, test);
  log(`[${pair.arch}] int8 ANN ${(100 * annAcc).toFixed(2)}% on ${test.count} digits`);
  const { perT, chosen, table } = chooseSteps(pair, test, annAcc);
  log(`[${pair.arch}] int8 SNN ${perT.map((p) => `T=${p.steps} ${(100 * p.accuracy).toFixed(2)}%`).join(", ")}`);
  const calibration =
    pair.snnForSteps !== undefined
      ? `, the SNN at each T calibrated for it (${SNN_CALIBRATION})`
      : calibrationOf(pair.snn)
        ? `, SNN ${calibrationOf(pair.snn)}`
        : "";
  const digits = Array.from({ length: DEVICE_DIGITS }, (_, i) => image(test, i));
  const rows: BenchRow[] = [];
  const neurons = pair.snn.layers.reduce((n, l) => n + l.size, 0);
  // the microbit's 16 KB of RAM holds the MLP's state, not the CNN's 2,000+ neurons
  const boards = pair.arch === "mlp" && !quick ? ["mps2-an386", "microbit"] : ["mps2-an386"];
  const absent = missingTools(["arm-none-eabi-gcc", "qemu-system-arm"]);
  if (absent.length > 0) {
    // A machine with only Node and gcc: the accuracies and event counts are still measured; the
    // instruction counts need the Arm toolchain and QEMU, and are left out (the summary shows null).
    log(`[${pair.arch}] device figures skipped: ${absent.join(", ")} not installed`);
    return [
      {
        name: `mps2-an386: ${pair.arch.toUpperCase()}`,
        figures: {
          "int8 ANN accuracy %": Number((100 * annAcc).toFixed(2)),
          "SNN accuracy %": Number((100 * chosen.accuracy).toFixed(2)),
          "SNN T": chosen.steps,
          "ANN MACs": pair.ann.macs,
          "SNN synaptic events/inference": Math.round(chosen.synEvents),
          "SNN neuron updates/inference": chosen.neuronUpdates,
        },
        workload: `${pair.origin}${calibration}; accuracy on ${test.count} held-out digits; no device figures: ${absent.join(", ")} not installed`,
      },
    ];
  }
  for (const board of boards) {
    const annInstr = mean(await deviceAnn(board, pair.ann, digits));
    const held = mean(await deviceSnn(board, table, digits, chosen.steps, true));
    // --quick: the step-by-step path is the slow reference, left out
    const stepped = quick ? undefined : mean(await deviceSnn(board, table, digits, chosen.steps, false));
    const neuron = board === "mps2-an386" && pair.arch === "mlp" ? await deviceNeuronUpdate() : undefined;
    log(
      `[${pair.arch}] ${board}: ANN ${annInstr.toFixed(0)}, SNN held ${held.toFixed(0)}${stepped !== undefined ? `, stepped ${stepped.toFixed(0)}` : ""} instructions per inference`,
    );
    rows.push({
      name: `${board}: ${pair.arch.toUpperCase()}`,
      figures: {
        "int8 ANN accuracy %": Number((100 * annAcc).toFixed(2)),
        "SNN accuracy %": Number((100 * chosen.accuracy).toFixed(2)),
        "SNN T": chosen.steps,
        "int8 ANN instr/inference": Math.round(annInstr),
        "SNN instr/inference (held input)": Math.round(held),
        "SNN ÷ ANN": Number((held / annInstr).toFixed(3)),
        ...(stepped !== undefined ? { "SNN instr/inference (events every step)": Math.round(stepped) } : {}),
        ...(neuron !== undefined
          ? {
              "IF neuron-step instr (M4 kernel)": Number(neuron.fast.toFixed(2)),
              "IF neuron-step instr (reference kernel)": Number(neuron.reference.toFixed(2)),
            }
          : {}),
        "ANN MACs": pair.ann.macs,
        "SNN synaptic events/inference": Math.round(chosen.synEvents),
        "SNN neuron updates/inference": chosen.neuronUpdates,
      },
      workload: `${pair.origin}${calibration}; accuracy on ${test.count} held-out digits; device figures the mean of the first ${DEVICE_DIGITS} held-out digits; SNN ${neurons} neurons, T chosen from ${SNN_STEP_CHOICES.join("/")} (${perT.map((p) => `T=${p.steps}: ${(100 * p.accuracy).toFixed(2)}%`).join(", ")})`,
    });
  }
  return rows;
}

/** Instructions as the tables print them (380.1 k, 1.44 M). */
function instructions(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`;
}

/** The paragraph under the table: each sentence from the rows it needs, left out when the run lacks them. */
function readSnnVsAnn(rows: readonly BenchRow[]): string {
  const row = (name: string): Readonly<Record<string, number>> | undefined => rows.find((r) => r.name === name)?.figures;
  const m4 = row("mps2-an386: MLP");
  const m0 = row("microbit: MLP");
  const cnn = row("mps2-an386: CNN");
  const parts: string[] = [];
  const gap = (f: Readonly<Record<string, number>>): string => (f["int8 ANN accuracy %"]! - f["SNN accuracy %"]!).toFixed(2);
  if (m4) {
    const snn = m4["SNN instr/inference (held input)"]!;
    const ann = m4["int8 ANN instr/inference"]!;
    const neuronInstr = m4["SNN neuron updates/inference"]! * (m4["IF neuron-step instr (M4 kernel)"] ?? 0);
    parts.push(
      `Reading the rows. The MLP at T = ${m4["SNN T"]} is ${gap(m4)} point below the int8 ANN (${m4["SNN accuracy %"]}% vs ${m4["int8 ANN accuracy %"]}%) and costs ` +
        `${m4["SNN ÷ ANN"]}× the ANN's instructions per inference on the Cortex-M4 (${instructions(snn)} vs ${instructions(ann)})` +
        (m0
          ? ` and ${m0["SNN ÷ ANN"]}× on the Cortex-M0 (${instructions(m0["SNN instr/inference (held input)"]!)} vs ${instructions(m0["int8 ANN instr/inference"]!)})`
          : "") +
        `. Where the SNN's ${instructions(snn)} go on the M4: the held-input fold visits only the non-zero pixels, ${instructions(m4["SNN synaptic events/inference"]!)} synaptic events per inference ` +
        `(\`ps_held_dense_i8_m4\`), and ${m4["SNN neuron updates/inference"]} neuron updates at ${m4["IF neuron-step instr (M4 kernel)"]} instructions per IF neuron-step ` +
        `(\`ps_neuron_if_m4\`; ${m4["IF neuron-step instr (reference kernel)"]} with the reference kernel), about ${instructions(neuronInstr)} of it; the fold, done once, is most of the rest, so a smaller T saves little. ` +
        `Stepping the events every step instead costs ${instructions(m4["SNN instr/inference (events every step)"]!)} (${(m4["SNN instr/inference (events every step)"]! / ann).toFixed(2)}× the ANN). ` +
        "The advantage is input sparsity, not spikes: the ANN peer, like CMSIS-NN, multiplies every pixel including the zeros; an ANN whose first layer skipped zero pixels would do about as few MACs there as the SNN has events. " +
        "Further SNN gains on the M4 would come from the 3 instructions per held synapse (two outputs per SMLAD from pairs of events would bring it near 2).",
    );
  }
  if (cnn) {
    parts.push(
      `The CNN (Cortex-M4 only: its SNN state does not fit the microbit) at T = ${cnn["SNN T"]} is ${gap(cnn)} point below the int8 ANN (${cnn["SNN accuracy %"]}% vs ${cnn["int8 ANN accuracy %"]}%) ` +
        `and costs ${cnn["SNN ÷ ANN"]}× the ANN's instructions (${instructions(cnn["SNN instr/inference (held input)"]!)} vs ${instructions(cnn["int8 ANN instr/inference"]!)}): ` +
        `its held conv1 fold and the conv2 events every step take the generic conv kernels (no Cortex-M4 conv fold yet), and its ${instructions(cnn["SNN neuron updates/inference"]!)} neuron updates add up. ` +
        "Making the CNN cheaper than its ANN needs a conv fold on the M4 and skipping silent layers.",
    );
  }
  return parts.join(" ");
}

/** The benchmark module: the MLP and (full run, when trained) the CNN. */
export const snnVsAnnBench: BenchModule = {
  title: "SNN vs int8 ANN on the MCU",
  description:
    "The same trained network as an int8 ANN (TFLite-style full-integer quantization: int8 weights per layer, int8 activations with zero points from 1,000 calibration digits, int32 accumulators, " +
    "per-layer Q31 requantisation; perf/ann-int8.ts) run by a CMSIS-NN-style kernel written for the bench (bench/device/ann_main.c: SXTB16 + SMLAD, two MACs per instruction, two rows per pass as arm_nn_vec_mat_mult_t_s8, 28 instructions per 16 MACs in the inner loop, im2col for convolutions, on the Cortex-M4; plain C, two rows per pass, at -O2 on the M0), " +
    "and as the int8 SNN picospike converts from it (IF neurons, `current` encoding: every non-zero pixel a graded event of its intensity). Accuracy on the held-out digits (TS twins of the device integers; the device's outputs and classes are checked against them). " +
    "Instructions per inference under QEMU -icount shift=0 (deterministic), arm-none-eabi-gcc -Os, mean of 8 digits; the SNN's covers reset, T steps and readout. SNN T: the smallest of 4/8/16/32 within 0.5 point of the int8 ANN's accuracy, the SNN calibrated for that T after conversion (`convert --calibrate shift --calibrate-steps T`: a bias of θ/2T per step, so that the IF neuron's spike count rounds instead of flooring; no retraining; docs/ACCURACY.md); the shipped MLP is the table calibrated for the T it chose. " +
    "'held input' folds the constant input once (spec/ops.md §7.3) and steps T times; 'events every step' is the step-by-step path. The ANN computes every MAC; the SNN's first layer only visits non-zero pixels (about a fifth of an MNIST digit), which is where most of its advantage comes from.",
  reading: readSnnVsAnn,
  async run({ quick }) {
    const test = embeddedMnist().test;
    const rows: BenchRow[] = [];
    // the MLP: the shipped trained pair, so that every clone measures the same trained model
    const mlp = shippedPair();
    if (mlp === undefined) fail("CLI_PACKAGE_DAMAGED", `the shipped trained MNIST MLP (${SHIPPED_MLP_DIR}) is missing from ${repoRoot()}`);
    rows.push(...(await comparePair(mlp, test, () => {}, quick)));
    if (!quick) {
      const cnn = await loadPair("cnn", join(repoRoot(), "build/accuracy/cnn"));
      if (cnn !== undefined) rows.push(...(await comparePair(cnn, test)));
    }
    return rows;
  },
};

if (process.argv[1]?.endsWith("snn-vs-ann.bench.ts")) {
  const quick = process.argv.includes("--quick");
  if (process.argv.includes("--ship")) {
    // regenerate the shipped pair from bench/accuracy.ts's trained MLP
    const pair = await loadPair("mlp", join(repoRoot(), "build/accuracy/mlp"));
    if (pair === undefined) throw new Error("no trained MLP in build/accuracy/mlp: run bench/accuracy.ts --arch mlp first");
    // Ship the table calibrated for the T the comparison chooses on the held-out digits.
    const test = embeddedMnist().test;
    const { perT, chosen, table } = chooseSteps(pair, test, annAccuracy(pair.ann, test));
    console.error(`int8 SNN ${perT.map((p) => `T=${p.steps} ${(100 * p.accuracy).toFixed(2)}%`).join(", ")}: shipping the table for T=${chosen.steps}`);
    shipPair({ ...pair, snn: table }, join(repoRoot(), SHIPPED_MLP_DIR));
    console.error(`wrote ${SHIPPED_MLP_DIR}`);
    process.exit(0);
  }
  if (process.argv.includes("--shipped")) {
    console.log(JSON.stringify(await comparePair(shippedPair()!, embeddedMnist().test, (s) => console.error(s), quick), null, 1));
    process.exit(0);
  }
  const i = process.argv.indexOf("--arch");
  const archs = i >= 0 ? [process.argv[i + 1] as "mlp" | "cnn"] : (["mlp", "cnn"] as const);
  const data = embeddedMnist();
  const test = quick ? slice(data.test, 0, 500) : data.test;
  for (const arch of archs) {
    const pair = await loadPair(arch, join(repoRoot(), "build/accuracy", arch));
    if (pair === undefined) {
      console.error(`${arch}: no trained model in build/accuracy/${arch} (run bench/accuracy.ts)`);
      continue;
    }
    console.log(JSON.stringify(await comparePair(pair, test, (s) => console.error(s)), null, 1));
  }
}
