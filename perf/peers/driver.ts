/**
 * Runs picospike and the peer simulators (Brian2, a PyTorch LIF loop) on one workload and compares
 * them. The workload goes to the peers as a JSON file (format "picospike-peer-workload" v1, read by
 * bench/peers/common.py): dense weights as stored integers with their shifts, biases, neuron model,
 * threshold, leak shift, and the input spike indices of every step as picospike encoded them.
 * Each peer runs in Debian's /usr/bin/python3 (the Debian packages python3-brian and
 * python3-torch; a pyenv python3 on PATH would not have them) and writes a result file; a peer
 * whose package cannot be imported is reported as missing, not as a failure.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fail } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import { Interpreter } from "../../runtime/interpreter.js";
import type { EventTable, Weights } from "../../runtime/model.js";
import { median, repoRoot } from "../harness.js";

/** The Python that has the Debian peer packages; PICOSPIKE_PEER_PYTHON overrides it. */
export const PEER_PYTHON = process.env.PICOSPIKE_PEER_PYTHON ?? "/usr/bin/python3";

/** Neuron models the peers implement (spec/ops.md §4.1 with refractory 0 and no clamp). */
const PEER_MODELS = new Set(["if", "lif-shift", "integrator"]);

/** One peer configuration: which script, with which options. */
export interface PeerSpec {
  /** Stable id, e.g. "brian2-cython". */
  readonly id: string;
  /** Name for the report, e.g. "Brian2 (cython target)". */
  readonly label: string;
  /** Script in bench/peers/. */
  readonly script: string;
  /** Extra command-line options. */
  readonly args: readonly string[];
}

/** Every peer configuration of the comparison, in report order. */
export const PEERS: readonly PeerSpec[] = [
  { id: "brian2-cython", label: "Brian2 (cython target, its default)", script: "brian2_peer.py", args: ["--target", "cython"] },
  { id: "brian2-numpy", label: "Brian2 (numpy target)", script: "brian2_peer.py", args: ["--target", "numpy"] },
  { id: "torch-1thread", label: "PyTorch LIF (1 thread)", script: "torch_peer.py", args: ["--threads", "1"] },
  { id: "torch-default", label: "PyTorch LIF (default threads)", script: "torch_peer.py", args: ["--threads", "0"] },
];

/** What one simulator produced: run times and the final state of the last run. */
export interface SimulatorRun {
  /** Wall time of each timed run of `steps` steps, seconds. */
  readonly seconds: readonly number[];
  readonly steps: number;
  /** Spikes per neuron, per layer. */
  readonly counts: readonly (readonly number[])[];
  /** Final membrane per neuron, per layer. */
  readonly membranes: readonly (readonly number[])[];
}

/** A peer's outcome: measured, missing (package not importable), or failed (crashed, bad output). */
export type PeerOutcome =
  | { readonly status: "ok"; readonly run: SimulatorRun; readonly info: Readonly<Record<string, string | number>> }
  | { readonly status: "missing"; readonly reason: string }
  | { readonly status: "failed"; readonly reason: string };

/** Stored weight values in index order (dense int8/int16; int4 unpacked). */
function weightValues(w: Weights): number[] {
  const out = new Array<number>(w.count);
  for (let q = 0; q < w.count; q++) {
    if (w.bits === 4) {
      const nibble = (w.data[q >> 1]! >> ((q & 1) * 4)) & 15;
      out[q] = nibble < 8 ? nibble : nibble - 16;
    } else out[q] = w.data[q]!;
  }
  return out;
}

/**
 * The workload file's contents. Throws CODEGEN_UNSUPPORTED for what the peers do not implement:
 * non-dense or recurrent connections, plasticity, refractory periods, clamps, reset to a value,
 * neuron models other than if / lif-shift / integrator, graded input events.
 */
export function workloadJson(table: EventTable, input: readonly StepEvents[]): string {
  let inputs = table.input.size;
  const layers = table.layers.map((layer, l) => {
    const what = `peer workload: layer ${l} '${layer.name}'`;
    const c = layer.input;
    const p = layer.neuron;
    if (c.kind !== "dense") fail("CODEGEN_UNSUPPORTED", `${what}: the peers implement dense connections only, not ${c.kind}`);
    if (layer.recurrent !== undefined || layer.plasticity !== undefined)
      fail("CODEGEN_UNSUPPORTED", `${what}: recurrent or plastic layers are not implemented by the peers`);
    if (!PEER_MODELS.has(p.model)) fail("CODEGEN_UNSUPPORTED", `${what}: neuron model ${p.model} is not implemented by the peers`);
    if (p.refractory !== 0 || p.vMin !== -2147483648 || (p.model !== "integrator" && p.reset !== "subtract")) {
      fail("CODEGEN_UNSUPPORTED", `${what}: the peers implement reset by subtraction without refractory period or clamp`);
    }
    if (c.inputs !== inputs || c.outputs !== layer.size)
      fail("SEMANTICS_SHAPE_MISMATCH", `${what}: connects ${c.inputs} → ${c.outputs}, needs ${inputs} → ${layer.size}`);
    if (layer.shape !== undefined && c.weights.shift.length > 1) fail("CODEGEN_UNSUPPORTED", `${what}: per-channel shifts of a shaped layer`);
    inputs = layer.size;
    return {
      name: layer.name,
      size: layer.size,
      model: p.model,
      threshold: p.threshold,
      leakShift: p.model === "lif-shift" ? p.leakShift : 0,
      weights: weightValues(c.weights),
      shift: Array.from(c.weights.shift),
      bias: layer.bias === undefined ? null : Array.from(layer.bias),
    };
  });
  const steps = input.map((e, t) => {
    if (e.values !== undefined && e.values.some((v) => v !== 1))
      fail("CODEGEN_UNSUPPORTED", `peer workload: step ${t} has graded events; the peers take spikes only`);
    return Array.from(e.indices);
  });
  return JSON.stringify({ format: "picospike-peer-workload", version: 1, inputSize: table.input.size, steps: input.length, input: steps, layers });
}

/** Least warm-up before picospike is timed, ms (see runPicospike). */
const PICOSPIKE_WARMUP_MS = 300;
/** Least duration of one timed picospike sample, ms: short runs are repeated within a sample. */
const PICOSPIKE_SAMPLE_MS = 30;

/**
 * Runs picospike's interpreter on the workload: a warm-up of at least PICOSPIKE_WARMUP_MS, then
 * `runs` timed samples, each the mean of enough runs from reset to last PICOSPIKE_SAMPLE_MS.
 */
export function runPicospike(table: EventTable, input: readonly StepEvents[], runs: number): SimulatorRun {
  const interp = new Interpreter(table);
  const once = (): void => {
    interp.reset();
    for (const events of input) interp.step(events);
  };
  // A run of T=100 takes about a millisecond: one warm-up run can end before V8's background
  // compiler has optimised the step, and a millisecond sample is at the mercy of one preemption on a
  // shared machine. So warm up for PICOSPIKE_WARMUP_MS, and let each timed sample repeat the run
  // until it lasts PICOSPIKE_SAMPLE_MS; a sample's seconds per run is its time ÷ repetitions.
  let warm = performance.now();
  const warmEnd = warm + PICOSPIKE_WARMUP_MS;
  let warmRuns = 0;
  while (warmRuns < 3 || performance.now() < warmEnd) {
    once();
    warmRuns++;
  }
  warm = (performance.now() - warm) / warmRuns;
  const repetitions = Math.max(1, Math.ceil(PICOSPIKE_SAMPLE_MS / Math.max(warm, 1e-3)));
  const seconds: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    for (let k = 0; k < repetitions; k++) once();
    seconds.push((performance.now() - t0) / 1000 / repetitions);
  }
  const layers = table.layers.map((_, l) => l);
  return {
    seconds,
    steps: input.length,
    counts: layers.map((l) => Array.from(interp.spikeCounts(l))),
    membranes: layers.map((l) => Array.from(interp.membrane(l))),
  };
}

const IMPORT_MISSING = /No module named|cannot import/;

function tail(text: string, lines = 8): string {
  return text.trim().split("\n").slice(-lines).join("\n");
}

/** Runs one peer on a workload file already written; never throws for a peer's own failure. */
export function runPeer(peer: PeerSpec, workloadPath: string, runs: number, timeoutMs: number): PeerOutcome {
  const dir = mkdtempSync(join(tmpdir(), `picospike-peer-${peer.id}-`));
  try {
    const out = join(dir, "result.json");
    // The Python peers stay with the benchmarks (bench/peers/); they are not part of the package.
    const script = join(repoRoot(), "bench/peers", peer.script);
    const r = spawnSync(PEER_PYTHON, [script, "--workload", workloadPath, "--out", out, "--runs", String(runs), ...peer.args], {
      encoding: "utf8",
      timeout: timeoutMs,
      maxBuffer: 16 << 20,
    });
    if (r.error !== undefined) {
      const code = (r.error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return { status: "missing", reason: `${PEER_PYTHON} not found (install Debian's python3; see scripts/install-bench-deps.sh)` };
      return { status: "failed", reason: `${peer.id}: ${r.error.message}` };
    }
    if (r.status !== 0) {
      const why = tail(r.stderr);
      return IMPORT_MISSING.test(why) && !why.includes("Traceback")
        ? { status: "missing", reason: why }
        : { status: "failed", reason: `${peer.id} exited with ${r.status ?? r.signal}: ${why}` };
    }
    let parsed: {
      available?: boolean;
      reason?: string;
      info?: Record<string, string | number>;
      seconds?: number[];
      steps?: number;
      counts?: number[][];
      membranes?: number[][];
    };
    try {
      parsed = JSON.parse(readFileSync(out, "utf8")) as typeof parsed;
    } catch (e) {
      return { status: "failed", reason: `${peer.id} wrote no readable result: ${(e as Error).message}; stderr: ${tail(r.stderr)}` };
    }
    if (parsed.available === false) return { status: "missing", reason: parsed.reason ?? "peer package not importable" };
    const { seconds, steps, counts, membranes, info } = parsed;
    if (!Array.isArray(seconds) || seconds.length === 0 || typeof steps !== "number" || !Array.isArray(counts) || !Array.isArray(membranes)) {
      return { status: "failed", reason: `${peer.id} wrote an incomplete result` };
    }
    return { status: "ok", run: { seconds, steps, counts, membranes }, info: info ?? {} };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How closely a peer reproduced picospike's run. */
export interface Agreement {
  /** Fraction (0..1) of hidden neurons (all layers but the last) with identical spike counts. */
  readonly hiddenCountsIdentical: number;
  /** Total hidden spikes, picospike and peer. */
  readonly hiddenSpikes: number;
  readonly peerHiddenSpikes: number;
  /** Fraction of output neurons identical: spike counts, or final membranes for an integrator readout. */
  readonly outputIdentical: number;
  /** What outputIdentical compares. */
  readonly outputCompared: "spike counts" | "membranes";
  /** Whether every count and membrane of every layer is identical. */
  readonly exact: boolean;
}

function identicalFraction(a: readonly number[], b: readonly number[] | undefined): number {
  if (b === undefined || b.length !== a.length) return 0;
  let same = 0;
  for (let j = 0; j < a.length; j++) if (a[j] === b[j]) same++;
  return same / a.length;
}

/** Compares a peer's final counts and membranes with picospike's, layer by layer. */
export function compareRuns(table: EventTable, picospike: SimulatorRun, peer: SimulatorRun): Agreement {
  const last = table.layers.length - 1;
  let hiddenSame = 0;
  let hiddenNeurons = 0;
  let hiddenSpikes = 0;
  let peerHiddenSpikes = 0;
  let exact = true;
  for (let l = 0; l <= last; l++) {
    const mine = picospike.counts[l]!;
    const theirs = peer.counts[l];
    exact &&= identicalFraction(mine, theirs) === 1 && identicalFraction(picospike.membranes[l]!, peer.membranes[l]) === 1;
    if (l === last) continue;
    hiddenSame += identicalFraction(mine, theirs) * mine.length;
    hiddenNeurons += mine.length;
    hiddenSpikes += mine.reduce((s, x) => s + x, 0);
    peerHiddenSpikes += (theirs ?? []).reduce((s, x) => s + x, 0);
  }
  const integrator = table.layers[last]!.neuron.model === "integrator";
  const outputIdentical = integrator
    ? identicalFraction(picospike.membranes[last]!, peer.membranes[last])
    : identicalFraction(picospike.counts[last]!, peer.counts[last]);
  return {
    hiddenCountsIdentical: hiddenNeurons === 0 ? 1 : hiddenSame / hiddenNeurons,
    hiddenSpikes,
    peerHiddenSpikes,
    outputIdentical,
    outputCompared: integrator ? "membranes" : "spike counts",
    exact,
  };
}

/** Steps per second of a run: steps over the median run time. */
export function stepsPerSecond(run: SimulatorRun): number {
  return run.steps / median(run.seconds);
}

/** Writes the workload to a temporary file, calls `use` with its path, and removes it. */
export function withWorkloadFile<T>(table: EventTable, input: readonly StepEvents[], use: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "picospike-peer-workload-"));
  try {
    const path = join(dir, "workload.json");
    writeFileSync(path, workloadJson(table, input));
    return use(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
