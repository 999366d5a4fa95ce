/**
 * `picospike eval MODEL.cbor --dataset SOURCE --steps T`: accuracy of an event table on the
 * TypeScript interpreter over labelled samples: the held-out MNIST split (or a part of it), or any
 * input source whose samples carry labels (spike files with labels, event files with `label=N`).
 */
import type { Command } from "commander";
import type { EventTable } from "../runtime/model.js";
import cliProgress from "cli-progress";
import { fail } from "../runtime/errors.js";
import { loadDataset } from "../firmware-host/sources/datasets.js";
import { slice } from "../runtime/datasets.js";
import { evaluateFloat, evaluateTable } from "../models/evaluate.js";
import { readFloatSnn } from "../models/float-snn.js";
import { decodeTableFile, intOption, printJson, readFileOrFail, stepsOption } from "./io.js";
import { runSamples } from "../runtime/run.js";
import { openInput, sourceIsEndless } from "../firmware-host/sources/registry.js";

/** Parses `mnist` or `mnist:START:COUNT` (the test split, or part of it). */
export function parseDatasetSpec(spec: string): { start: number; count: number | undefined } {
  const m = /^mnist(?::(\d+):(\d+))?$/.exec(spec);
  if (!m) fail("CLI_BAD_SOURCE", `dataset '${spec}' is not 'mnist' or 'mnist:START:COUNT'`);
  return m[1] === undefined ? { start: 0, count: undefined } : { start: Number(m[1]), count: Number(m[2]) };
}

/** eval over a labelled input source other than the MNIST split: every sample must carry its label. */
function evalSource(modelPath: string, spec: string, table: EventTable, steps: number, json: boolean): void {
  if (sourceIsEndless(spec))
    fail("CLI_BAD_SOURCE", `'${spec}' is endless and has no labels; eval needs labelled samples (mnist, a spike file with labels, an event file with label=N)`);
  const input = openInput(spec, table, steps, undefined);
  const samples = [...input.samples];
  const unlabelled = samples.findIndex((x) => x.label === undefined);
  if (samples.length === 0) fail("CLI_BAD_SOURCE", `'${spec}' holds no samples`);
  if (unlabelled >= 0)
    fail("CLI_BAD_SOURCE", `sample ${unlabelled} of '${spec}' has no label; eval needs labelled samples (add label=N to an event file, or use run)`);
  const t0 = performance.now();
  const report = runSamples(table, samples, samples.length);
  const spikes = report.spikesPerLayer.reduce((a, b) => a + b, 0);
  const summary = {
    model: modelPath,
    dataset: spec,
    encoding: table.input.encoding,
    steps,
    samples: report.samples.length,
    accuracy: report.accuracy ?? 0,
    meanSpikesPerSample: spikes / report.samples.length,
    synEventsPerSample: report.synapticEvents / report.samples.length,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
  if (json) printJson(summary);
  else
    process.stdout.write(
      `accuracy ${(100 * summary.accuracy).toFixed(2)}% on ${summary.samples} samples at T=${steps} (${table.input.encoding} input); ${summary.meanSpikesPerSample.toFixed(0)} spikes and ${summary.synEventsPerSample.toFixed(0)} synaptic events per sample\n`,
    );
}

/** Registers the `eval` verb. */
export function register(program: Command): void {
  program
    .command("eval")
    .description("accuracy of an event table on the TS interpreter over the held-out test split")
    .argument("<model>", "event table (.cbor), or a float SNN (.json) run by the float simulator")
    .option(
      "--dataset <source>",
      "mnist (the 2,000 held-out digits, or the IDX test set with --data-dir), mnist:START:COUNT, or any labelled input source (spikes:FILE with labels, nmnist:FILE,label=N, ...; see `picospike run --help`)",
      "mnist",
    )
    .option("--steps <t>", "time steps per sample (default: the T the model was calibrated for, else 32)")
    .option("--encoding <enc>", "input encoding (must match the one the table was quantized for: rate | current)")
    .option("--data-dir <dir>", "IDX dataset directory instead of the embedded MNIST")
    .option("--json", "print one JSON object: accuracy, samples, meanSpikesPerSample, synEventsPerSample")
    .action(async (modelPath: string, opts: Record<string, string | boolean | undefined>) => {
      const s = (k: string) => opts[k] as string | undefined;
      const dataset = s("dataset")!;
      if (modelPath.endsWith(".json")) {
        // a float SNN (e.g. from import): the float simulator over the MNIST split
        const spec = parseDatasetSpec(dataset);
        const snn = readFloatSnn(modelPath);
        const steps = stepsOption(s("steps"), snn.provenance.settings, 100000);
        const enc = (s("encoding") ?? snn.input.encoding) as "rate" | "current";
        if (enc !== "rate" && enc !== "current") fail("CLI_USAGE", `--encoding must be rate or current, got '${enc}'`);
        const data = loadDataset(s("dataDir"));
        const set = spec.count === undefined ? data.test : slice(data.test, spec.start, spec.count);
        const r = evaluateFloat(snn, set, steps, enc);
        if (opts["json"]) printJson({ model: modelPath, dataset, encoding: enc, steps, float: true, samples: r.samples, accuracy: r.accuracy });
        else process.stdout.write(`accuracy ${(100 * r.accuracy).toFixed(2)}% on ${r.samples} samples at T=${steps} (${enc} input, float simulation)\n`);
        return;
      }
      const table = decodeTableFile(modelPath, readFileOrFail(modelPath));
      const steps = stepsOption(s("steps"), table.provenance.settings, 100000);
      const enc = s("encoding");
      if (enc !== undefined && enc !== "rate" && enc !== "current") fail("CLI_USAGE", `--encoding must be rate or current, got '${enc}'`);
      if (enc !== undefined && enc !== table.input.encoding) {
        // The first layer's weights are scaled for the table's encoding (current carries intensities 0..255, rate carries spikes).
        fail("CLI_USAGE", `${modelPath} was quantized for ${table.input.encoding} input; re-quantize with --encoding ${enc}`);
      }
      if (!/^mnist(:|$)/.test(dataset)) {
        evalSource(modelPath, dataset, table, steps, opts["json"] === true);
        return;
      }
      const spec = parseDatasetSpec(dataset);
      const data = loadDataset(s("dataDir"));
      const set = spec.count === undefined ? data.test : slice(data.test, spec.start, spec.count);
      const t0 = performance.now();
      const bar = new cliProgress.SingleBar(
        { format: "eval [{bar}] {value}/{total} images | {duration_formatted}", stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      const showBar = process.stderr.isTTY === true;
      if (showBar) bar.start(set.count, 0);
      let result;
      try {
        result = evaluateTable(table, set, [steps], (done) => {
          if (showBar && (done % 20 === 0 || done === set.count)) bar.update(done);
        });
      } finally {
        if (showBar) bar.stop();
      }
      const r = result.perSteps[0]!;
      const summary = {
        model: modelPath,
        dataset: s("dataset"),
        encoding: table.input.encoding,
        steps,
        samples: result.samples,
        accuracy: r.accuracy,
        meanSpikesPerSample: r.meanSpikesPerSample,
        synEventsPerSample: r.synEventsPerSample,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      };
      if (opts["json"]) printJson(summary);
      else
        process.stdout.write(
          `accuracy ${(100 * r.accuracy).toFixed(2)}% on ${result.samples} samples at T=${steps} (${table.input.encoding} input); ${r.meanSpikesPerSample.toFixed(0)} spikes and ${r.synEventsPerSample.toFixed(0)} synaptic events per sample\n`,
        );
    });
}
