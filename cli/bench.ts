/**
 * `picospike bench [--quick] [--json]`: runs the benchmark modules and prints the headline
 * figures (interpreter throughput, TS vs host C, Cortex-M4/M0 instructions per synaptic event,
 * M0 runtime code size, bytes per synapse) beside their targets. --quick is a reduced set of about
 * a minute; --json prints every row too. `npm run bench` is the full run that writes BENCHMARKS.md.
 */
import type { Command } from "commander";

/** Registers the `bench` verb. */
export function register(program: Command): void {
  program
    .command("bench")
    .description("run the benchmarks (interpreter, TS vs C, device cost under QEMU, footprint; peers unless --quick) and print the headline figures")
    .option("--quick", "reduced set, about a minute (no peers, fewer repetitions and steps)")
    .option("--json", "print the summary and every row as JSON on stdout")
    .action(async (opts: { quick?: boolean; json?: boolean }) => {
      const { machine, runSummary, TARGETS } = await import("../perf/summary.js");
      const quick = opts.quick === true;
      const { results, summary } = await runSummary(quick, (line) => process.stderr.write(line + "\n"));
      if (opts.json === true) {
        process.stdout.write(JSON.stringify({ date: new Date().toISOString(), quick, machine: machine(), summary, results }, null, 2) + "\n");
        return;
      }
      const rows: Array<[string, number | null, string]> = [
        ["interpreterSynEventsPerSec", summary.interpreterSynEventsPerSec, ""],
        ["interpreterVsNativeC", summary.interpreterVsNativeC, `≥ ${TARGETS.interpreterVsNativeC}`],
        ["m4InstrPerSynEvent", summary.m4InstrPerSynEvent, `≤ ${TARGETS.m4InstrPerSynEvent}`],
        ["m0InstrPerSynEvent", summary.m0InstrPerSynEvent, `≤ ${TARGETS.m0InstrPerSynEvent}`],
        ["m0InstrPerSynEventViaReader", summary.m0InstrPerSynEventViaReader, `≤ ${TARGETS.m0InstrPerSynEvent}`],
        ["m0RuntimeCodeBytes", summary.m0RuntimeCodeBytes, `≤ ${TARGETS.m0RuntimeCodeBytes}`],
        ["m0DeviceFirmwareCodeBytes", summary.m0DeviceFirmwareCodeBytes, ""],
        ["bytesPerSynapseInt8", summary.bytesPerSynapseInt8, `≤ ${TARGETS.bytesPerSynapseInt8}`],
        ["bytesPerSynapseInt4", summary.bytesPerSynapseInt4, `≤ ${TARGETS.bytesPerSynapseInt4}`],
        ["snnVsAnnInstrM4", summary.snnVsAnnInstrM4, `≤ ${TARGETS.snnVsAnnInstrM4}`],
        ["snnAccuracy", summary.snnAccuracy, ""],
        ["annAccuracy", summary.annAccuracy, ""],
        ["snnSteps", summary.snnSteps, ""],
        ["neuronUpdateInstrM4", summary.neuronUpdateInstrM4, `≤ ${TARGETS.neuronUpdateInstrM4}`],
        ["rstdpOnOffM4", summary.rstdpOnOffM4, `≤ ${TARGETS.rstdpOnOffM4}`],
      ];
      const met = (value: number | null, target: string): string => {
        if (value === null) return "not measured";
        if (target === "") return "";
        const bound = Number(target.slice(2));
        return (target.startsWith("≥") ? value >= bound : value <= bound) ? "met" : "NOT met";
      };
      for (const [name, value, target] of rows) {
        process.stdout.write(`${name.padEnd(28)} ${(value === null ? "-" : String(value)).padStart(14)}  ${target.padEnd(8)} ${met(value, target)}\n`);
      }
    });
}
