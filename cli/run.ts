/**
 * `picospike run MODEL.cbor --input SOURCE [--steps T] [--samples N] [--json]`: runs an event table
 * on the reference interpreter (spec/ops.md) and reports output spike counts, the readout class
 * per sample, and totals (spikes per layer, synaptic events, speed).
 */
import type { Command } from "commander";
import { runSamples, type RunReport } from "../runtime/run.js";
import type { EventTable } from "../runtime/model.js";
import { decodeTableFile, intOption, printJson, readFileOrFail, stepsOption } from "./io.js";
import { openInput, parseSource, sourceHelp, sourceIsEndless } from "../firmware-host/sources/registry.js";
import { readFloatSnn } from "../models/float-snn.js";
import { runFloatSamples } from "../models/float-sim.js";

function printHuman(report: RunReport, table: EventTable): void {
  const lines: string[] = [];
  for (const s of report.samples) {
    const label = s.label === undefined ? "" : ` label ${s.label}`;
    const membrane = s.outputMembrane ? ` membrane [${s.outputMembrane.join(", ")}]` : "";
    lines.push(`sample ${s.sample}${label}: class ${s.class} counts [${s.outputCounts.join(", ")}]${membrane}`);
  }
  lines.push(`${report.samples.length} samples, ${report.steps} steps in ${report.seconds.toFixed(3)} s (${report.stepsPerSecond} steps/s)`);
  lines.push(`spikes per layer: ${table.layers.map((l, i) => `${l.name} ${report.spikesPerLayer[i]}`).join(", ")}`);
  lines.push(`synaptic events: ${report.synapticEvents} (${report.synapticEventsPerSecond}/s)`);
  if (report.accuracy !== undefined) lines.push(`accuracy on labelled samples: ${(100 * report.accuracy).toFixed(2)}%`);
  process.stdout.write(lines.join("\n") + "\n");
}

/** `run` on a float SNN: the float simulator, per-sample outputCounts (and outputMembranes for an integrating output). */
function runFloat(modelPath: string, input: string, stepsRaw: string | undefined, samples: string | undefined, json: boolean): void {
  const snn = readFloatSnn(modelPath);
  const steps = stepsOption(stepsRaw, snn.provenance.settings, 1_000_000);
  const [c, h, w] = snn.input.shape;
  const source = parseSource(input, c * h * w, steps, { shape: snn.input.shape });
  const endless = sourceIsEndless(input);
  const maxSamples = samples === undefined ? (endless ? 1 : Number.MAX_SAFE_INTEGER) : intOption("--samples", samples, 1, 10_000_000);
  const report = runFloatSamples(snn, source, maxSamples);
  if (json) {
    printJson({ model: modelPath, input, readout: snn.readout, float: true, ...report });
    return;
  }
  const lines = report.samples.map(
    (s) =>
      `sample ${s.sample}${s.label === undefined ? "" : ` label ${s.label}`}: class ${s.class} counts [${s.outputCounts.join(", ")}]${s.outputMembranes ? ` membrane [${s.outputMembranes.map((x) => x.toPrecision(7)).join(", ")}]` : ""}`,
  );
  lines.push(`${report.samples.length} samples, ${report.steps} steps (float simulation)`);
  if (report.accuracy !== undefined) lines.push(`accuracy on labelled samples: ${(100 * report.accuracy).toFixed(2)}%`);
  process.stdout.write(lines.join("\n") + "\n");
}

/** Registers the `run` verb. */
export function register(program: Command): void {
  program
    .command("run")
    .description("run an event table on the TypeScript reference interpreter, or a float SNN (.json, e.g. from import) in float")
    .argument("<model>", "event table (.cbor) or float SNN (.json)")
    .requiredOption("--input <source>", `input source: ${sourceHelp()}`)
    .option("--steps <t>", "time steps per sample (1..1000000; default: the T the model was calibrated for, else 32)")
    .option("--samples <n>", "number of samples to run (default: 1 for endless sources, all for files)")
    .option("--json", "print one JSON object: samples, spikesPerLayer, synapticEvents, accuracy, speed")
    .action((modelPath: string, opts: { input: string; steps?: string; samples?: string; json?: boolean }) => {
      if (modelPath.endsWith(".json")) {
        runFloat(modelPath, opts.input, opts.steps, opts.samples, opts.json === true);
        return;
      }
      const table = decodeTableFile(modelPath, readFileOrFail(modelPath));
      const steps = stepsOption(opts.steps, table.provenance.settings, 1_000_000);
      const input = openInput(opts.input, table, steps, opts.samples === undefined ? undefined : intOption("--samples", opts.samples, 1, 10_000_000));
      const report = runSamples(table, input.samples, input.count);
      if (opts.json) printJson({ model: modelPath, input: opts.input, readout: table.readout.kind, ...report });
      else printHuman(report, table);
    });
}
