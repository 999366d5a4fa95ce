/**
 * The conformance suite's engine: random models with extreme parameters and random inputs, run
 * through the TS interpreter (generated kernels), the hand-written reference oracle, and the C
 * kernels (one harness process per batch: host gcc, the model-specialised C, or Cortex-M under
 * QEMU), comparing every layer's spikes at every step and the final state bytes.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { StepEvents } from "../../runtime/events.js";
import { INT32_MAX, INT32_MIN } from "../../runtime/fixed.js";
import { encodeTable, validateTable } from "../../runtime/format.js";
import { Interpreter } from "../../runtime/interpreter.js";
import type { EventTable, Layer, NeuronParams, Weights } from "../../runtime/model.js";
import { ReferenceInterpreter } from "../../runtime/testing/reference-interpreter.js";
import { randomTable, TestRng } from "../../runtime/testing/random-table.js";
import { getBoard } from "../../firmware-host/boards/boards.js";
import { qemuArgs } from "../../firmware-host/boards/qemu.js";
import { missingTools, type ToolName } from "../../firmware-host/boards/toolchain.js";

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Strict flags every C build of the suite uses. */
export const STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"];
/** C sources of the runtime the harness links (the table reader is added for .cbor loading). */
export const NET_SOURCES = ["firmware/src/ps_net.c", "firmware/src/ps_kernels_generated.c"];
/** C sources of the table reader (ps_table.c; the table-reader runs skip when it is absent). */
export const TABLE_SOURCES = ["firmware/src/ps_table.c", "firmware/src/ps_sha256.c"];

/** One random case: a model and its input steps. */
export interface Case {
  /** Per step, how the C harness feeds its events (default: as events); the TS side always steps them as events. */
  readonly hold?: readonly HoldMode[];
  readonly index: number;
  readonly seed: number;
  readonly table: EventTable;
  readonly steps: StepEvents[];
  /** Reward aimed at each step (spec/ops.md §11.3), 0 = none; all 0 without learning. */
  readonly rewards: number[];
}

/** Replaces the neuron parameters of a spiking layer with extreme but valid ones (every leak and reset form). */
function extremeNeuron(rng: TestRng, n: NeuronParams): NeuronParams {
  if (n.model === "integrator") return { ...n, vMin: rng.pick([INT32_MIN, INT32_MIN + 1, -(2 ** 30), n.vMin]) };
  const threshold = rng.pick([1, 2, INT32_MAX, 2 ** 30, n.threshold, n.threshold, n.threshold]);
  const vMin = rng.pick([INT32_MIN, INT32_MIN, threshold - 1, -threshold, Math.max(INT32_MIN, -threshold * 4), n.vMin]);
  const safeVMin = vMin < threshold ? vMin : INT32_MIN;
  const reset = rng.pick(["subtract", "value"] as const);
  const resetValue = reset === "subtract" ? 0 : rng.pick([safeVMin, threshold - 1, Math.max(safeVMin, 0), Math.max(safeVMin, -7)]);
  return {
    ...n,
    threshold,
    vMin: safeVMin,
    reset,
    resetValue: resetValue < threshold ? resetValue : safeVMin,
    leakShift: n.model === "lif-shift" || n.model === "cuba" ? rng.pick([0, 1, 2, 16, 30, 31, n.leakShift]) : 0,
    leakQ15: n.model === "lif-q15" ? rng.pick([0, 1, 16384, 32767, n.leakQ15]) : 32767,
    currentShift: n.model === "cuba" ? rng.pick([0, 1, 5, 31, n.currentShift]) : 0,
    refractory: rng.pick([0, 0, 1, 3, 255, n.refractory]),
  };
}

/**
 * Draws the version-2 neuron rules of spec/ops.md §4.9 onto a layer: `>`, the delayed subtraction,
 * an initial membrane, per-neuron Q15 retentions, the Q15 current-based synapse, the leaking readout.
 */
function ruleNeuron(rng: TestRng, n: NeuronParams, size: number): NeuronParams {
  const retentions = (): Uint16Array => Uint16Array.from({ length: size }, () => rng.pick([0, 1, 16384, 32767, rng.int(0, 32767)]));
  if (n.model === "integrator") {
    const leaks = rng.chance(0.7) ? { leakQ15s: retentions() } : {};
    return { ...n, ...leaks, vInit: rng.pick([0, Math.max(n.vMin, -1000), n.vMin, INT32_MAX]) };
  }
  let out: NeuronParams = { ...n, compare: rng.chance(0.5) ? "gt" : "ge" };
  if (n.model === "lif-q15" && rng.chance(0.6)) out = { ...out, leakQ15: 32767, leakQ15s: retentions() };
  if (n.model === "cuba" && rng.chance(0.7)) {
    out = { ...out, synapse: "q15", leakShift: 0, currentShift: 0, leakQ15: rng.pick([0, 16384, 32767, rng.int(0, 32767)]) };
    if (rng.chance(0.5)) out = { ...out, leakQ15: 32767, leakQ15s: retentions() };
    out = rng.chance(0.5) ? { ...out, currentQ15s: retentions() } : { ...out, currentQ15: rng.pick([0, 1, 16384, 32767]) };
  }
  if (rng.chance(0.5)) out = { ...out, reset: "subtract", resetValue: 0, refractory: 0, resetDelay: true };
  const lo = out.vMin;
  const hi = out.threshold - 1;
  const vInit = rng.pick([0, lo, hi, Math.min(hi, 5), Math.max(lo, -5)]);
  return { ...out, vInit: Math.min(hi, Math.max(lo, vInit)) };
}

/** Raises weight shifts (up to 23) so that contributions saturate. */
function extremeShift(rng: TestRng, w: Weights): Weights {
  return { ...w, shift: Uint8Array.from(w.shift, (s) => (rng.chance(0.5) ? rng.pick([16, 20, 23]) : s)) };
}

function extremeLayer(rng: TestRng, layer: Layer): Layer {
  let out: Layer = { ...layer, neuron: extremeNeuron(rng, layer.neuron) };
  const input = out.input;
  if (input.kind !== "pool" && rng.chance(0.3)) out = { ...out, input: { ...input, weights: extremeShift(rng, input.weights) } };
  if (input.kind === "pool" && rng.chance(0.3)) out = { ...out, input: { ...input, weight: rng.pick([-32768, 32767]), shift: rng.pick([0, 23]) } };
  if (out.bias !== undefined && rng.chance(0.3)) {
    const bias = Int32Array.from(out.bias, () => rng.pick([INT32_MIN, INT32_MAX, -(2 ** 28), 2 ** 28, 0]));
    out = { ...out, bias };
  }
  return out;
}

/**
 * The case of `index` under `seed`: deterministic, valid (format rules), sometimes extreme. With
 * `learning`, about half the dense/sparse layers are plastic (spec/ops.md §11) and random int16
 * rewards arrive at random steps; the model-specialised routes run without (they do not learn).
 */
export function makeCase(seed: number, index: number, steps: number, learning = true): Case {
  const caseSeed = (seed * 7919 + index * 104729) >>> 0;
  const rng = new TestRng(caseSeed);
  const big = rng.chance(0.15);
  let table = randomTable(caseSeed, {
    layers: rng.int(1, 6),
    recurrentProbability: 0.4,
    plasticityProbability: learning ? 0.5 : 0,
    ...(learning ? { eventTimingProbability: 0.5, epochTimingProbability: 0.3 } : {}),
    ...(big ? { maxNeurons: 400 } : {}),
  });
  if (rng.chance(0.6)) table = { ...table, layers: table.layers.map((l) => extremeLayer(rng, l)) };
  // the version-2 neuron rules, from their own stream so the cases drawn before them stay the same
  const ruleRng = new TestRng((caseSeed ^ 0x7a11e5) >>> 0 || 1);
  if (ruleRng.chance(0.5)) {
    table = { ...table, layers: table.layers.map((l) => (ruleRng.chance(0.7) ? { ...l, neuron: ruleNeuron(ruleRng, l.neuron, l.size) } : l)) };
    // several spikes per step (graded events to the next layer) where the format allows it
    const multi = (l: Layer, next: Layer | undefined): boolean =>
      l.neuron.model !== "integrator" &&
      l.recurrent === undefined &&
      l.plasticity === undefined &&
      next?.plasticity === undefined &&
      l.neuron.resetDelay !== true;
    table = {
      ...table,
      layers: table.layers.map((l, i) =>
        multi(l, table.layers[i + 1]) && ruleRng.chance(0.4) ? { ...l, neuron: { ...l.neuron, multiSpike: true, reset: "subtract", resetValue: 0 } } : l,
      ),
    };
  }
  // quiet stretches for epoch-timed learners (spec/ops.md §11.7 row skip), from their own stream: fast
  // decays and a silent stretch of input, so rows fall back to an all-zero eligibility and are skipped
  const quietRng = new TestRng((caseSeed ^ 0x9e1e7) >>> 0 || 1);
  const quiet = table.layers.some((l) => l.plasticity?.timing === "epoch") && quietRng.chance(0.5);
  if (quiet) {
    const fast = (p: NonNullable<Layer["plasticity"]>): NonNullable<Layer["plasticity"]> => ({
      ...p,
      eligibilityShift: quietRng.int(1, 2),
      preTraceShift: quietRng.int(1, 2),
      postTraceShift: quietRng.int(1, 2),
    });
    table = { ...table, layers: table.layers.map((l) => (l.plasticity?.timing === "epoch" ? { ...l, plasticity: fast(l.plasticity) } : l)) };
  }
  validateTable(table);
  const size = table.input.size;
  const graded = table.input.encoding === "current" || rng.chance(0.25);
  const density = rng.pick([0.02, 0.1, 0.3, 0.7, 1]);
  const stepList: StepEvents[] = [];
  for (let t = 0; t < steps; t++) {
    const idx: number[] = [];
    const burst = rng.chance(0.02); // every input at once: the largest fan-in
    for (let i = 0; i < size; i++) if (burst || rng.chance(density)) idx.push(i);
    const indices = Uint32Array.from(idx);
    stepList.push(graded ? { indices, values: Uint8Array.from(idx, () => (rng.chance(0.3) ? 255 : rng.int(1, 255))) } : { indices });
  }
  if (quiet) {
    const from = quietRng.int(0, Math.floor(steps / 3));
    const to = Math.min(steps, from + quietRng.int(Math.floor(steps / 3), Math.floor((2 * steps) / 3)));
    for (let t = from; t < to; t++) stepList[t] = graded ? { indices: new Uint32Array(0), values: new Uint8Array(0) } : { indices: new Uint32Array(0) };
  }
  const rewardRng = new TestRng((caseSeed ^ 0x5eed1e55) >>> 0 || 1);
  const plastic = learning && table.layers.some((l) => l.plasticity !== undefined);
  const rewards = stepList.map(() => (plastic && rewardRng.chance(0.15) ? rewardRng.int(-32768, 32767) : 0));
  return { index, seed: caseSeed, table, steps: stepList, rewards };
}

/** How the harness steps one step's events: as events, held (fold once then step held), or the held ones again (spec/ops.md §7.3). */
export type HoldMode = "events" | "hold" | "again";

/** EVENTS file bytes for the harness (see harness.c); rewards[t] (0 = none) is aimed at step t. */
export function eventsBytes(steps: readonly StepEvents[], rewards: readonly number[] = [], hold: readonly HoldMode[] = []): Uint8Array {
  const again = (t: number): boolean => hold[t] === "again";
  let length = 4;
  steps.forEach((s, t) => {
    length += 5 + (again(t) ? 0 : s.indices.length * (s.values ? 5 : 4)) + ((rewards[t] ?? 0) !== 0 ? 4 : 0);
  });
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  let o = 0;
  view.setUint32(o, steps.length, true);
  o += 4;
  steps.forEach((s, t) => {
    const reward = rewards[t] ?? 0;
    view.setUint32(o, again(t) ? 0 : s.indices.length, true);
    bytes[o + 4] = (s.values ? 1 : 0) | (reward !== 0 ? 2 : 0) | (hold[t] === "hold" ? 4 : 0) | (again(t) ? 8 : 0);
    o += 5;
    if (reward !== 0) {
      view.setInt32(o, reward, true);
      o += 4;
    }
    if (again(t)) return;
    for (const i of s.indices) {
      view.setUint32(o, i, true);
      o += 4;
    }
    if (s.values) {
      bytes.set(s.values, o);
      o += s.values.length;
    }
  });
  return bytes;
}

/** FNV-1a (32-bit) over int16 values as little-endian bytes: the harness's per-step fingerprint of the plastic weights. */
export function weightsHash(arrays: readonly Int16Array[]): number {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    for (const w of a) {
      h = Math.imul(h ^ (w & 0xff), 0x01000193) >>> 0;
      h = Math.imul(h ^ ((w >> 8) & 0xff), 0x01000193) >>> 0;
    }
  }
  return h >>> 0;
}

/** What one implementation did: spikes per step per layer, the plastic weights' hash per step, then the final snapshot. */
export interface Run {
  readonly status: number;
  readonly spikes: Uint32Array[][];
  /** weightsHash of every plastic layer's working weights after each step (spec/ops.md §11). */
  readonly weightHashes?: number[];
  readonly snapshot: Uint8Array;
}

/** Runs a case through the TS interpreter; checks it against the reference oracle on the way. */
export function runTs(c: Case): { run: Run; mismatch?: string } {
  const gen = new Interpreter(c.table);
  const ref = new ReferenceInterpreter(c.table);
  const spikes: Uint32Array[][] = [];
  const weightHashes: number[] = [];
  const plastic = c.table.layers.map((_, l) => l).filter((l) => gen.isPlastic(l));
  let mismatch: string | undefined;
  c.steps.forEach((s, t) => {
    const reward = c.rewards[t] ?? 0;
    if (reward !== 0) {
      gen.reward(reward);
      ref.reward(reward);
    }
    gen.step(s);
    ref.step(s);
    weightHashes.push(weightsHash(plastic.map((l) => gen.weights(l))));
    for (const l of plastic) {
      if (mismatch !== undefined) break;
      const a = gen.weights(l);
      const b = ref.weights(l);
      const q = a.findIndex((w, i) => w !== b[i]);
      if (q >= 0) mismatch = `seed ${c.seed} model ${c.index} step ${t} layer ${l} weight ${q}: ts-generated ${a[q]}, ts-reference ${b[q]}`;
    }
    const row: Uint32Array[] = [];
    for (let l = 0; l < c.table.layers.length; l++) {
      const a = gen.lastSpikes(l).slice();
      row.push(a);
      if (mismatch === undefined) {
        const d = diffSpikes(a, ref.lastSpikes(l));
        if (d !== undefined) mismatch = where(c, t, l, d, "ts-generated", "ts-reference");
      }
    }
    spikes.push(row);
  });
  const snapshot = gen.snapshot();
  if (mismatch === undefined) {
    const d = diffSnapshot(c, snapshot, ref.snapshot(), "ts-generated", "ts-reference");
    if (d !== undefined) mismatch = d;
  }
  return { run: { status: 0, spikes, weightHashes, snapshot }, ...(mismatch !== undefined ? { mismatch } : {}) };
}

/** Parses a harness OUT file. */
export function parseRun(bytes: Uint8Array, steps: number, layers: number): Run {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  const u32 = (): number => {
    if (o + 4 > bytes.length) throw new Error("harness output truncated");
    const x = view.getUint32(o, true);
    o += 4;
    return x;
  };
  const status = u32();
  if (status !== 0) return { status, spikes: [], snapshot: new Uint8Array(0) };
  const spikes: Uint32Array[][] = [];
  const weightHashes: number[] = [];
  for (let t = 0; t < steps; t++) {
    const row: Uint32Array[] = [];
    for (let l = 0; l < layers; l++) {
      const n = u32();
      const a = new Uint32Array(n);
      for (let k = 0; k < n; k++) a[k] = u32();
      row.push(a);
    }
    spikes.push(row);
    weightHashes.push(u32());
  }
  const len = u32();
  return { status, spikes, weightHashes, snapshot: bytes.slice(o, o + len) };
}

/** The first neuron in exactly one of two ascending spike lists: [neuron, spiked in a, spiked in b]. */
function diffSpikes(a: Uint32Array, b: Uint32Array): [number, boolean, boolean] | undefined {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x === y) {
      i++;
      j++;
    } else return x < y ? [x, true, false] : [y, false, true];
  }
  return undefined;
}

function where(c: Case, t: number, l: number, d: [number, boolean, boolean], nameA: string, nameB: string): string {
  return `seed ${c.seed} model ${c.index} step ${t} layer ${l} neuron ${d[0]}: ${nameA} ${d[1] ? "spiked" : "silent"}, ${nameB} ${d[2] ? "spiked" : "silent"}`;
}

/** Locates the first differing snapshot byte as (layer, field, neuron) with both values. */
function diffSnapshot(c: Case, a: Uint8Array, b: Uint8Array, nameA: string, nameB: string): string | undefined {
  const n = Math.min(a.length, b.length);
  let first = -1;
  for (let i = 0; i < n; i++)
    if (a[i] !== b[i]) {
      first = i;
      break;
    }
  if (first < 0 && a.length === b.length) return undefined;
  if (first < 0) first = n;
  // walk the layout of spec/ops.md §10 (using a's spike counts) to name the field
  const view = new DataView(a.buffer, a.byteOffset, a.byteLength);
  let o = 16;
  let place = "header";
  for (let l = 0; l < c.table.layers.length && o <= first; l++) {
    const size = c.table.layers[l]!.size;
    const cuba = c.table.layers[l]!.neuron.model === "cuba";
    const spikes = o + 12 <= a.length ? view.getUint32(o + 8, true) : 0;
    const fields: Array<[string, number]> = [
      ["header", 12],
      ["v", size * 4],
      ["i", cuba ? size * 4 : 0],
      ["r", size],
      ["count", size * 4],
      ["lastSpike", spikes * 4],
    ];
    for (const [name, len] of fields) {
      if (first < o + len) {
        const width = name === "r" ? 1 : 4;
        const neuron = Math.floor((first - o) / width);
        const at = o + neuron * width;
        const read = (x: Uint8Array): number | string =>
          at + width > x.length
            ? "absent"
            : width === 1
              ? x[at]!
              : name === "v" || name === "i"
                ? new DataView(x.buffer, x.byteOffset).getInt32(at, true)
                : new DataView(x.buffer, x.byteOffset).getUint32(at, true);
        place = `layer ${l} ${name}[${neuron}]: ${nameA} ${read(a)}, ${nameB} ${read(b)}`;
        return `seed ${c.seed} model ${c.index} final state ${place}`;
      }
      o += len;
    }
  }
  return `seed ${c.seed} model ${c.index} final state differs at byte ${first} (${place}; lengths ${a.length} vs ${b.length})`;
}

/** Compares a C run with the TS run of the same case; a mismatch description or undefined. */
export function compareRuns(c: Case, ts: Run, cRun: Run, cName: string): string | undefined {
  if (cRun.status !== 0) return `seed ${c.seed} model ${c.index}: ${cName} refused the model with status ${cRun.status}`;
  for (let t = 0; t < ts.spikes.length; t++) {
    for (let l = 0; l < c.table.layers.length; l++) {
      const d = diffSpikes(ts.spikes[t]![l]!, cRun.spikes[t]![l]!);
      if (d !== undefined) return where(c, t, l, d, "ts", cName);
    }
    const [a, b] = [ts.weightHashes?.[t], cRun.weightHashes?.[t]];
    if (a !== undefined && b !== undefined && a !== b)
      return `seed ${c.seed} model ${c.index} step ${t}: plastic weights differ (hash ts ${a.toString(16)}, ${cName} ${b.toString(16)})`;
  }
  return diffSnapshot(c, ts.snapshot, cRun.snapshot, "ts", cName);
}

/** Builds the host harness with `cc` (gcc by default) into dir; returns the executable path. */
export function buildHostHarness(dir: string, cc = "gcc", extra: readonly string[] = []): string {
  const exe = join(dir, "harness");
  execFileSync(
    cc,
    [
      ...STRICT,
      "-O2",
      "-I",
      join(ROOT, "firmware/include"),
      "-I",
      join(ROOT, "firmware/kernels"),
      ...extra,
      "-o",
      exe,
      join(ROOT, "test/conformance/harness.c"),
      ...[...NET_SOURCES, ...TABLE_SOURCES].map((s) => join(ROOT, s)),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return exe;
}

/** True when the C table reader (ps_table.c) is present to load .cbor files. */
export function tableReaderPresent(): boolean {
  return TABLE_SOURCES.every((s) => existsSync(join(ROOT, s)));
}

/** Writes the cases' .cbor and events into dir and a manifest; returns its path and each case's OUT path. */
export function writeBatch(dir: string, cases: readonly Case[], specialised = false): { manifest: string; outs: string[] } {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  const outs: string[] = [];
  for (const c of cases) {
    const model = join(dir, `m${c.index}.cbor`);
    const events = join(dir, `m${c.index}.events`);
    const out = join(dir, `m${c.index}.out`);
    if (!specialised) writeFileSync(model, encodeTable(c.table));
    writeFileSync(events, eventsBytes(c.steps, c.rewards, c.hold));
    lines.push(`${specialised ? "-" : model} ${events} ${out}`);
    outs.push(out);
  }
  const manifest = join(dir, "manifest.txt");
  writeFileSync(manifest, lines.join("\n") + "\n");
  return { manifest, outs };
}

/** Runs `command` (harness under any runner) on a manifest; throws with its stderr on failure. */
export function runHarness(command: readonly string[], timeoutMs = 600_000): void {
  const r = spawnSync(command[0]!, command.slice(1), { encoding: "utf8", timeout: timeoutMs, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${command.join(" ")} failed (${r.status ?? r.signal}): ${r.stderr}${r.stdout}`);
}

/** Summary of a conformance run. */
export interface Report {
  readonly models: number;
  readonly steps: number;
  readonly spikes: number;
  readonly mismatches: string[];
}

/**
 * Runs `models` cases of `steps` steps under `seed` through TS (generated and reference) and the
 * host C harness (table reader route); returns every mismatch found (first one per model).
 */
export function runConformance(models: number, steps: number, seed: number, batchSize = 50): Report {
  const work = mkdtempSync(join(tmpdir(), "ps-conformance-"));
  const mismatches: string[] = [];
  let spikes = 0;
  try {
    const exe = buildHostHarness(work);
    for (let start = 0; start < models; start += batchSize) {
      const cases: Case[] = [];
      for (let i = start; i < Math.min(models, start + batchSize); i++) cases.push(makeCase(seed, i, steps));
      const dir = join(work, `batch${start}`);
      const { manifest, outs } = writeBatch(dir, cases);
      runHarness([exe, manifest]);
      cases.forEach((c, k) => {
        const ts = runTs(c);
        if (ts.mismatch !== undefined) mismatches.push(ts.mismatch);
        const cRun = parseRun(readFileSync(outs[k]!), c.steps.length, c.table.layers.length);
        const m = compareRuns(c, ts.run, cRun, "c-host");
        if (m !== undefined) mismatches.push(m);
        for (const row of ts.run.spikes) for (const a of row) spikes += a.length;
      });
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { models, steps, spikes, mismatches };
}

/** Harness buffer sizes for the Cortex-M build (the mps2-an386 has 4 MiB of code and 4 MiB of data RAM). */
const QEMU_SIZES = [
  "-DHARNESS_FILE_BYTES=(256ul*1024ul)",
  "-DHARNESS_ARENA_BYTES=(256ul*1024ul)",
  "-DHARNESS_STATE_WORDS=(64ul*1024ul)",
  "-DHARNESS_MAX_EVENTS=4096u",
];

/** A CPU the conformance subset runs on under QEMU system emulation, with semihosting for file access. */
export interface QemuConformanceTarget {
  /** Label used in mismatch reports, e.g. "c-cortex-m4-qemu". */
  readonly label: string;
  /** External tools it needs. */
  readonly tools: readonly ToolName[];
  /** Builds the harness into `dir` for a run over `manifest`; returns the ELF path. */
  build(dir: string, manifest: string): string;
  /** The QEMU command that runs the harness on `manifest`. */
  command(elf: string, manifest: string): string[];
}

const HARNESS_SOURCES = (): string[] => [join(ROOT, "test/conformance/harness.c"), ...[...NET_SOURCES, ...TABLE_SOURCES].map((s) => join(ROOT, s))];

/**
 * The CPUs of the conformance subset. Cortex-M4 (mps2-an386; the nucleo-f4 image is built with the
 * same compiler and flags, so its kernels are this code), and RV32IMAC (the hifive1's compiler and
 * flags) on QEMU's riscv32 `virt` machine, whose 128 MiB hold the harness's buffers that the
 * FE310's 16 KiB cannot (the device firmware on sifive_e is checked by the e2e tests).
 */
export const QEMU_CONFORMANCE_TARGETS: Readonly<Record<string, QemuConformanceTarget>> = {
  "cortex-m4": {
    label: "c-cortex-m4-qemu",
    tools: ["arm-none-eabi-gcc", "qemu-system-arm"],
    build(dir) {
      const elf = join(dir, "harness-m4.elf");
      execFileSync(
        "arm-none-eabi-gcc",
        [
          ...STRICT,
          "-mcpu=cortex-m4",
          "-mthumb",
          "-O2",
          "--specs=rdimon.specs",
          "-Wl,--section-start=.vectors=0x0",
          ...QEMU_SIZES,
          "-I",
          join(ROOT, "firmware/include"),
          "-I",
          join(ROOT, "firmware/kernels"),
          "-o",
          elf,
          join(ROOT, "test/conformance/qemu_vectors.c"),
          ...HARNESS_SOURCES(),
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      return elf;
    },
    command: (elf, manifest) => qemuCommand(elf, manifest),
  },
  "cortex-m55": {
    label: "c-cortex-m55-helium-qemu",
    tools: ["arm-none-eabi-gcc", "qemu-system-arm"],
    build(dir) {
      // the mps3-an547's flags (hard float: Helium), so the Helium fold runs; buffers sized for its 512 KiB ITCM
      const elf = join(dir, "harness-m55.elf");
      execFileSync(
        "arm-none-eabi-gcc",
        [
          ...STRICT,
          "-mcpu=cortex-m55",
          "-mfloat-abi=hard",
          "-mthumb",
          "-O2",
          "--specs=rdimon.specs",
          "-Wl,--section-start=.vectors=0x0",
          // HARNESS_MAX_HELD as small as the state: newlib's heap (semihosting fopen's buffers) lives in what the image leaves of the ITCM
          "-DHARNESS_FILE_BYTES=(64ul*1024ul)",
          "-DHARNESS_ARENA_BYTES=(64ul*1024ul)",
          "-DHARNESS_STATE_WORDS=(16ul*1024ul)",
          "-DHARNESS_MAX_EVENTS=4096u",
          "-DHARNESS_MAX_HELD=4096u",
          "-I",
          join(ROOT, "firmware/include"),
          "-I",
          join(ROOT, "firmware/kernels"),
          "-o",
          elf,
          join(ROOT, "test/conformance/qemu_vectors_m55.c"),
          ...HARNESS_SOURCES(),
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      return elf;
    },
    command: (elf, manifest) => [
      "qemu-system-arm",
      ...qemuArgs(getBoard("mps3-an547"), elf, { serial: null, icount: false, semihosting: ["harness", manifest] }),
    ],
  },
  rv32imac: {
    label: "c-rv32imac-qemu",
    tools: ["riscv64-unknown-elf-gcc", "qemu-system-riscv32"],
    build(dir, manifest) {
      const elf = join(dir, "harness-rv32.elf");
      if (/[\s"\\]/.test(manifest)) throw new Error(`manifest path ${manifest} cannot be built in`);
      execFileSync(
        "riscv64-unknown-elf-gcc",
        [
          ...STRICT,
          "-march=rv32imac",
          "-mabi=ilp32",
          "-misa-spec=2.2",
          "-O2",
          "--specs=picolibc.specs",
          "--oslib=semihost",
          "--crt0=semihost",
          "-Wl,--defsym=__flash=0x80000000",
          "-Wl,--defsym=__flash_size=0x2000000",
          "-Wl,--defsym=__ram=0x82000000",
          "-Wl,--defsym=__ram_size=0x2000000",
          ...QEMU_SIZES,
          `-DHARNESS_MANIFEST_PATH="${manifest}"`,
          "-I",
          join(ROOT, "firmware/include"),
          "-I",
          join(ROOT, "firmware/kernels"),
          "-o",
          elf,
          ...HARNESS_SOURCES(),
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      return elf;
    },
    command: (elf) => [
      "qemu-system-riscv32",
      "-M",
      "virt",
      "-bios",
      "none",
      "-nographic",
      "-monitor",
      "none",
      "-semihosting-config",
      "enable=on,target=native",
      "-kernel",
      elf,
    ],
  },
};

/** Why the QEMU route for `target` cannot run here, or undefined when it can. */
export function qemuSkipReason(target: QemuConformanceTarget = QEMU_CONFORMANCE_TARGETS["cortex-m4"]!): string | undefined {
  for (const tool of missingTools(target.tools)) return `${tool} is not installed`;
  if (!tableReaderPresent()) return "firmware/src/ps_table.c (the C table reader) is missing";
  return undefined;
}

/** Builds the harness for Cortex-M4 (mps2-an386) with semihosting; returns the ELF path. */
export function buildQemuHarness(dir: string): string {
  return QEMU_CONFORMANCE_TARGETS["cortex-m4"]!.build(dir, "");
}

/** The command that runs the Cortex-M harness on a manifest under QEMU system emulation with semihosting. */
export function qemuCommand(elf: string, manifest: string): string[] {
  return ["qemu-system-arm", ...qemuArgs(getBoard("mps2-an386"), elf, { serial: null, icount: false, semihosting: ["harness", manifest] })];
}

/**
 * Runs `models` cases through the C kernels compiled for `target` (Cortex-M4 by default) under QEMU
 * and compares them with the TS interpreter; returns the mismatches.
 */
export function runQemuConformance(
  models: number,
  steps: number,
  seed: number,
  target: QemuConformanceTarget = QEMU_CONFORMANCE_TARGETS["cortex-m4"]!,
): Report {
  const work = mkdtempSync(join(tmpdir(), "ps-conformance-qemu-"));
  const mismatches: string[] = [];
  let spikes = 0;
  try {
    const cases: Case[] = [];
    for (let i = 0; i < models; i++) cases.push(makeCase(seed, i, steps));
    const { manifest, outs } = writeBatch(join(work, "batch"), cases);
    const elf = target.build(work, manifest);
    runHarness(target.command(elf, manifest));
    cases.forEach((c, k) => {
      const ts = runTs(c);
      if (ts.mismatch !== undefined) mismatches.push(ts.mismatch);
      const m = compareRuns(c, ts.run, parseRun(readFileSync(outs[k]!), c.steps.length, c.table.layers.length), target.label);
      if (m !== undefined) mismatches.push(m);
      for (const row of ts.run.spikes) for (const a of row) spikes += a.length;
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { models, steps, spikes, mismatches };
}

/**
 * Runs cases through the model-specialised C (`picospike codegen --target c` folders with the
 * tables compiled in): one strict gcc build per model, checked against the TS interpreter.
 */
export function runSpecialisedConformance(models: number, steps: number, seed: number, bundle: (table: EventTable) => Array<[string, string]>): Report {
  const work = mkdtempSync(join(tmpdir(), "ps-conformance-spec-"));
  const mismatches: string[] = [];
  let spikes = 0;
  try {
    for (let i = 0; i < models; i++) {
      const c = makeCase(seed, i, steps, false);
      const dir = join(work, `m${i}`);
      mkdirSync(dir, { recursive: true });
      for (const [name, contents] of bundle(c.table)) {
        mkdirSync(dirname(join(dir, name)), { recursive: true });
        writeFileSync(join(dir, name), contents);
      }
      const exe = join(dir, "harness");
      const sources = bundle(c.table)
        .map(([name]) => name)
        .filter((n) => n.endsWith(".c"))
        .map((n) => join(dir, n));
      execFileSync("gcc", [...STRICT, "-O2", "-DPS_HARNESS_SPECIALISED", "-I", dir, "-o", exe, join(ROOT, "test/conformance/harness.c"), ...sources], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      const { manifest, outs } = writeBatch(join(dir, "batch"), [c], true);
      runHarness([exe, manifest]);
      const ts = runTs(c);
      const m = compareRuns(c, ts.run, parseRun(readFileSync(outs[0]!), c.steps.length, c.table.layers.length), "c-specialised");
      if (m !== undefined) mismatches.push(m);
      for (const row of ts.run.spikes) for (const a of row) spikes += a.length;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { models, steps, spikes, mismatches };
}

/** What a `picospike codegen --target ts` module exports (the part the suite drives). */
interface SpecialisedTsModel {
  step(input: StepEvents): void;
  holdInput(input: StepEvents): Int32Array;
  stepHeld(held: Int32Array): void;
  lastSpikes(layer: number): Uint32Array;
  snapshot(): Uint8Array;
}

/**
 * Runs cases through the model-specialised TypeScript (`picospike codegen --target ts`): each
 * emitted module is transpiled (esbuild), imported, stepped, and compared with the interpreter.
 * With `held`, the cases are makeHeldCase's and the module folds each sample once (holdInput) and
 * steps it held (stepHeld), against the interpreter stepping the events one by one.
 */
export async function runSpecialisedTsConformance(
  models: number,
  steps: number,
  seed: number,
  emit: (table: EventTable) => Array<[string, string]>,
  held = false,
): Promise<Report> {
  const { transformSync } = await import("esbuild");
  const work = mkdtempSync(join(tmpdir(), "ps-conformance-ts-"));
  const mismatches: string[] = [];
  let spikes = 0;
  try {
    for (let i = 0; i < models; i++) {
      const c = held ? makeHeldCase(seed, i, steps) : makeCase(seed, i, steps, false);
      const dir = join(work, `m${i}`);
      mkdirSync(dir, { recursive: true });
      // ESM as emitted: without type=module, tsx loads the .js as CommonJS and every imported primitive becomes a getter call (slow, not wrong)
      writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
      for (const [name, text] of emit(c.table))
        writeFileSync(join(dir, name.replace(/\.ts$/, ".js")), transformSync(text, { loader: "ts", format: "esm" }).code);
      const mod = (await import(pathToFileURL(join(dir, "model.js")).href)) as { createModel(): SpecialisedTsModel };
      const model = mod.createModel();
      const run: Run = { status: 0, spikes: [], snapshot: new Uint8Array(0) };
      let folded: Int32Array | undefined;
      for (const [k, s] of c.steps.entries()) {
        const mode = c.hold?.[k] ?? "events";
        if (mode === "events") model.step(s);
        else {
          if (mode === "hold") folded = model.holdInput(s);
          model.stepHeld(folded!);
        }
        run.spikes.push(c.table.layers.map((_, l) => model.lastSpikes(l).slice()));
      }
      const ts = runTs(c);
      const m = compareRuns(c, ts.run, { ...run, snapshot: model.snapshot() }, "ts-specialised");
      if (m !== undefined) mismatches.push(m);
      for (const row of ts.run.spikes) for (const a of row) spikes += a.length;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { models, steps, spikes, mismatches };
}

/**
 * A case of constant input held over runs of steps (spec/ops.md §7.3, the `current` encoding's
 * use): a random case without learning on layer 0 whose steps repeat one sample for 1 to 16 steps;
 * the C harness folds each sample once (ps_net_hold_input) and steps it held, the TS runs step the
 * same events one by one, so equal runs mean held input gives the step-by-step integers.
 */
export function makeHeldCase(seed: number, index: number, steps: number): Case {
  const base = makeCase(seed, index, steps, false);
  const rng = new TestRng((base.seed ^ 0x4e1d) >>> 0 || 1);
  const stepList: StepEvents[] = [];
  const hold: HoldMode[] = [];
  while (stepList.length < steps) {
    const sample = base.steps[stepList.length]!;
    const run = Math.min(steps - stepList.length, rng.int(1, 16));
    for (let k = 0; k < run; k++) {
      stepList.push(sample);
      hold.push(k === 0 ? "hold" : "again");
    }
  }
  return { ...base, steps: stepList, hold };
}

/** TS check of §7.3: Interpreter.holdInput/stepHeld against the same case stepped as events; the first difference, if any. */
export function heldTsMismatch(c: Case, stepped: Run): string | undefined {
  const sim = new Interpreter(c.table);
  let held: Int32Array = new Int32Array(0);
  for (let t = 0; t < c.steps.length; t++) {
    if (c.hold?.[t] !== "again") held = sim.holdInput(c.steps[t]!);
    sim.stepHeld(held);
    for (let l = 0; l < c.table.layers.length; l++) {
      const d = diffSpikes(stepped.spikes[t]![l]!, sim.lastSpikes(l));
      if (d !== undefined) return where(c, t, l, d, "ts-stepped", "ts-held");
    }
  }
  return diffSnapshot(c, stepped.snapshot, sim.snapshot(), "ts-stepped", "ts-held");
}

/** Held-input conformance (spec/ops.md §7.3): `models` held cases through the TS interpreter (stepped and held) and C held (host, or `runner` e.g. QEMU). */
export function runHeldConformance(models: number, steps: number, seed: number, target: "host" | "qemu" = "host"): Report {
  const work = mkdtempSync(join(tmpdir(), "ps-conformance-held-"));
  const mismatches: string[] = [];
  let spikes = 0;
  try {
    const exe = target === "host" ? buildHostHarness(work) : buildQemuHarness(work);
    const cases: Case[] = [];
    for (let i = 0; i < models; i++) cases.push(makeHeldCase(seed, i, steps));
    const { manifest, outs } = writeBatch(join(work, "batch"), cases);
    runHarness(target === "host" ? [exe, manifest] : qemuCommand(exe, manifest));
    cases.forEach((c, k) => {
      const ts = runTs(c);
      if (ts.mismatch !== undefined) mismatches.push(ts.mismatch);
      const held = heldTsMismatch(c, ts.run);
      if (held !== undefined) mismatches.push(held);
      const m = compareRuns(
        c,
        ts.run,
        parseRun(readFileSync(outs[k]!), c.steps.length, c.table.layers.length),
        target === "host" ? "c-host-held" : "c-cortex-m4-qemu-held",
      );
      if (m !== undefined) mismatches.push(m);
      for (const row of ts.run.spikes) for (const a of row) spikes += a.length;
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { models, steps, spikes, mismatches };
}
