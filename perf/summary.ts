/**
 * The headline figures (and their targets) from one run of the bench modules, for `picospike bench`
 * (cli/bench.ts). `npm run bench` (bench/run.ts) stays the full run that writes BENCHMARKS.md.
 * --quick runs a reduced set (interpreter, TS vs C, device cost on the MLP, footprint; no peers)
 * in about a minute; the full set adds the CNN and 10k workloads on the device, the link (native pty)
 * and the peers.
 */
import { arch, cpus, platform, release, totalmem } from "node:os";
import type { BenchModule, BenchRow } from "./harness.js";
import { isPicospikeError } from "../runtime/errors.js";
import { codegenBench } from "./codegen.bench.js";
import { READER_ROW, deviceBench } from "./device.bench.js";
import { footprintBench } from "./footprint.bench.js";
import { interpreterBench } from "./interpreter.bench.js";
import { linkBench } from "./link.bench.js";
import { peersBench } from "./peers.bench.js";
import { snnVsAnnBench } from "./snn-vs-ann.bench.js";
import { RSTDP_ON_OFF_ROW, plasticityBench } from "./plasticity.bench.js";

/** Headline figures by name, with the targets. */
export interface BenchSummary {
  /** TS interpreter on the dense 784-256-10 int8 model: synaptic events per second. */
  readonly interpreterSynEventsPerSec: number | null;
  /** TS interpreter speed ÷ host C (-O2) speed, same kernels, model and input, same run. */
  readonly interpreterVsNativeC: number | null;
  /** Cortex-M4 (mps2-an386) instructions per synaptic event, MNIST MLP int8, learning off (fit slope). */
  readonly m4InstrPerSynEvent: number | null;
  /** Cortex-M0 (microbit) instructions per synaptic event, same workload, codegen's const tables. */
  readonly m0InstrPerSynEvent: number | null;
  /** The same with the model read from its .cbor by ps_table.c, as `picospike build` makes it. */
  readonly m0InstrPerSynEventViaReader: number | null;
  /** Cortex-M0 runtime code bytes without model data: codegen const tables + ps_net + the model's kernels + port (no reader, no protocol). */
  readonly m0RuntimeCodeBytes: number | null;
  /** Cortex-M0 runtime code bytes of today's device firmware (protocol + CBOR reader + SHA-256). */
  readonly m0DeviceFirmwareCodeBytes: number | null;
  /** .cbor bytes per synapse of the MNIST MLP at int8 and int4. */
  readonly bytesPerSynapseInt8: number | null;
  readonly bytesPerSynapseInt4: number | null;
  /** SNN ÷ int8 ANN instructions per inference, the shipped trained MNIST MLP on the Cortex-M4, at the SNN's chosen T (perf/snn-vs-ann.bench.ts). */
  readonly snnVsAnnInstrM4: number | null;
  /** The SNN's accuracy (%) on the 2,000 held-out digits at that T. */
  readonly snnAccuracy: number | null;
  /** The int8 ANN's accuracy (%) on the same digits. */
  readonly annAccuracy: number | null;
  /** The T the SNN figure was measured at. */
  readonly snnSteps: number | null;
  /** Cortex-M4 instructions per IF neuron-step (the M4 kernel with its spike-count update, 256-neuron layer). */
  readonly neuronUpdateInstrM4: number | null;
  /** Cortex-M4 (mps2-an386) cost of learning: instructions per step with R-STDP ÷ without, the random 256→64 int8 layer, event timing (spec/ops.md §11.5). */
  readonly rstdpOnOffM4: number | null;
  /** The targets the headline figures are held to (≥ for the ratio, ≤ for the rest). */
  readonly targets: Readonly<Record<string, number>>;
}

/** Issue 9's targets. */
export const TARGETS = {
  interpreterVsNativeC: 0.5,
  m4InstrPerSynEvent: 2.0,
  m0InstrPerSynEvent: 4.0,
  m0RuntimeCodeBytes: 8192,
  bytesPerSynapseInt8: 1.05,
  bytesPerSynapseInt4: 0.55,
  snnVsAnnInstrM4: 1.0,
  neuronUpdateInstrM4: 15,
  rstdpOnOffM4: 3,
} as const;

/** The modules `picospike bench` runs. */
export function summaryModules(quick: boolean): BenchModule[] {
  return quick
    ? [interpreterBench, codegenBench, deviceBench, snnVsAnnBench, plasticityBench, footprintBench]
    : [interpreterBench, codegenBench, deviceBench, snnVsAnnBench, plasticityBench, footprintBench, linkBench, peersBench];
}

function figure(rows: readonly BenchRow[] | undefined, name: (n: string) => boolean, key: string): number | null {
  const row = rows?.find((r) => name(r.name));
  return row?.figures[key] ?? null;
}

/** Picks the headline figures out of the modules' rows (by title). */
export function summarise(results: Readonly<Record<string, readonly BenchRow[]>>): BenchSummary {
  const by = (m: BenchModule): readonly BenchRow[] | undefined => results[m.title];
  const slope = "instr/synaptic event (fit slope)";
  return {
    interpreterSynEventsPerSec: figure(by(interpreterBench), (n) => n.startsWith("dense 784-256-10, interpreter"), "synaptic events/s"),
    interpreterVsNativeC: figure(by(codegenBench), () => true, "TS interpreter / C speed"),
    m4InstrPerSynEvent: figure(by(deviceBench), (n) => n === "mps2-an386: MNIST MLP 784-256-10 int8", slope),
    m0InstrPerSynEvent: figure(by(deviceBench), (n) => n === "microbit: MNIST MLP 784-256-10 int8", slope),
    m0InstrPerSynEventViaReader: figure(by(deviceBench), (n) => n === `microbit: ${READER_ROW}`, slope),
    m0RuntimeCodeBytes: figure(by(footprintBench), (n) => n.startsWith("microbit") && n.includes("the model's kernels"), "runtime code B (flash − model data)"),
    m0DeviceFirmwareCodeBytes: figure(
      by(footprintBench),
      (n) => n.startsWith("microbit") && n.includes("device firmware"),
      "runtime code B (flash − model data)",
    ),
    bytesPerSynapseInt8: figure(by(footprintBench), (n) => n === "MNIST MLP 784-256-10 int8", "B/synapse (.cbor)"),
    bytesPerSynapseInt4: figure(by(footprintBench), (n) => n === "MNIST MLP 784-256-10 int4", "B/synapse (.cbor)"),
    snnVsAnnInstrM4: figure(by(snnVsAnnBench), (n) => n === "mps2-an386: MLP", "SNN ÷ ANN"),
    snnAccuracy: figure(by(snnVsAnnBench), (n) => n === "mps2-an386: MLP", "SNN accuracy %"),
    annAccuracy: figure(by(snnVsAnnBench), (n) => n === "mps2-an386: MLP", "int8 ANN accuracy %"),
    snnSteps: figure(by(snnVsAnnBench), (n) => n === "mps2-an386: MLP", "SNN T"),
    neuronUpdateInstrM4: figure(by(snnVsAnnBench), (n) => n === "mps2-an386: MLP", "IF neuron-step instr (M4 kernel)"),
    rstdpOnOffM4: figure(by(plasticityBench), (n) => n === RSTDP_ON_OFF_ROW, "device on/off"),
    targets: TARGETS,
  };
}

/** The machine the figures come from. */
export function machine(): Record<string, string | number> {
  const cores = cpus();
  return {
    cpu: cores[0]?.model.trim() ?? "unknown",
    cores: cores.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()} ${arch()}`,
    node: process.version,
  };
}

/** Runs the modules (progress on `log`) and returns every row by module title plus the summary. */
export async function runSummary(quick: boolean, log: (line: string) => void): Promise<{ results: Record<string, BenchRow[]>; summary: BenchSummary }> {
  const results: Record<string, BenchRow[]> = {};
  for (const m of summaryModules(quick)) {
    log(`bench: ${m.title} ...`);
    const t0 = performance.now();
    try {
      results[m.title] = await m.run({ quick });
      log(`  done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      // A machine with only Node and gcc: the QEMU boards' figures are "not measured", the rest still run.
      if (!isPicospikeError(e, "DEVICE_TOOL_MISSING")) throw e;
      results[m.title] = [];
      log(`  skipped: ${e.message}`);
    }
  }
  return { results, summary: summarise(results) };
}
