/**
 * Accuracy benchmark of direct SNN training (`picospike train --snn`) on the 2,000 held-out
 * digits of the embedded MNIST split: trains a LIF MLP by BPTT, writes its float SNN, scores the
 * float SNN and the int8 / int4 event tables (TS interpreter) at T = 8, 16, 25, and rewrites the
 * "Directly trained SNN" section of docs/ACCURACY.md (between the SNN-TRAIN markers).
 *
 *   nice npx tsx bench/snn-accuracy.ts [--surrogate approx|fast-sigmoid] [--epochs N]
 *     [--hidden 256] [--reuse] [--quick] [--out-dir build/accuracy]
 *
 * --reuse keeps an already trained float SNN in OUT/snn-<surrogate>/; --quick is a smoke run
 * (2 epochs, 200 test digits) written beside the model, not into docs/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { connectionSynapses, encodeTable } from "../runtime/format.js";
import { embeddedMnist } from "../firmware-host/sources/datasets.js";
import { slice } from "../runtime/datasets.js";
import { evaluateTable } from "../models/evaluate.js";
import { disposePrepared, prepareLayers, readFloatSnn, simulateFloat, writeFloatSnn } from "../models/float-snn.js";
import { calibrationStats, quantizeSnn } from "../models/quantize.js";
import { SNN_TRAIN_DEFAULTS, trainSnn, type Surrogate } from "../models/snn-train.js";
import { initTf } from "../models/tf.js";

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const value = (name: string, dflt: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
};
const quick = flag("--quick");
const surrogate = value("--surrogate", SNN_TRAIN_DEFAULTS.surrogate) as Surrogate;
const epochs = Number(value("--epochs", String(quick ? 2 : SNN_TRAIN_DEFAULTS.epochs)));
const hidden = value("--hidden", SNN_TRAIN_DEFAULTS.hidden.join(",")).split(",").map(Number);
const outDir = join(value("--out-dir", "build/accuracy"), `snn-${surrogate}`);
const steps = SNN_TRAIN_DEFAULTS.steps;
const checkpoints = [8, 16, steps];
const log = (s: string) => process.stderr.write(s + "\n");
const secs = (t0: number) => (performance.now() - t0) / 1000;
const pct = (x: number) => (100 * x).toFixed(2);

const backend = await initTf();
const data = embeddedMnist();
const test = quick ? slice(data.test, 0, 200) : data.test;
mkdirSync(outDir, { recursive: true });
const snnPath = join(outDir, "snn.json");
const writeFile = (p: string, d: Uint8Array | string) => writeFileSync(p, d);
let trainSeconds = NaN;
let trained = false;
const options = { ...SNN_TRAIN_DEFAULTS, surrogate, epochs, hidden, quiet: false };
if (!(flag("--reuse") && existsSync(snnPath))) {
  log(`training LIF ${[784, ...hidden, 10].join("-")} (${surrogate}, T=${steps}, ${epochs} epochs)`);
  const r = await trainSnn(data.train, data.test, options, "bench/snn-accuracy.ts");
  writeFloatSnn(snnPath, r.snn, writeFile);
  trainSeconds = r.seconds;
  trained = true;
  writeFileSync(join(outDir, "train-seconds.txt"), String(trainSeconds));
} else if (existsSync(join(outDir, "train-seconds.txt"))) {
  trainSeconds = Number(readFileSync(join(outDir, "train-seconds.txt"), "utf8"));
}
const snn = readFloatSnn(snnPath);

interface Row {
  variant: string;
  acc: number[];
  bytes?: number;
  synapses?: number;
  spikes?: number;
  seconds: number;
}
const rows: Row[] = [];
let t0 = performance.now();
const prepared = prepareLayers(snn);
const correct = checkpoints.map(() => 0);
for (let start = 0; start < test.count; start += 250) {
  const part = slice(test, start, Math.min(250, test.count - start));
  const r = simulateFloat(snn, prepared, part.pixels, part.count, checkpoints);
  r.predictions.forEach((pred, k) =>
    pred.forEach((p, i) => {
      if (p === part.labels[i]) correct[k]! += 1;
    }),
  );
}
disposePrepared(prepared);
rows.push({ variant: "float SNN", acc: correct.map((c) => c / test.count), seconds: secs(t0) });
log(`float SNN ${rows[0]!.acc.map(pct).join(" / ")}`);

const warnings: string[] = [];
const calib = calibrationStats(snn, slice(data.train, 0, 64).pixels, 64, steps, "current");
for (const bits of [8] as const) {
  t0 = performance.now();
  const q = quantizeSnn(snn, { weightBits: bits, perChannel: false, seed: 1, source: snnPath }, calib);
  const bytes = encodeTable(q.table);
  writeFileSync(join(outDir, `int${bits}.cbor`), bytes);
  for (const f of q.findings) warnings.push(`int${bits}: ${f.rule}: ${f.message}`);
  const ev = evaluateTable(q.table, test, checkpoints);
  rows.push({
    variant: `int${bits}`,
    acc: ev.perSteps.map((p) => p.accuracy),
    bytes: bytes.length,
    synapses: q.table.layers.reduce((s, l) => s + connectionSynapses(l.input), 0),
    spikes: ev.perSteps[ev.perSteps.length - 1]!.meanSpikesPerSample,
    seconds: secs(t0),
  });
  log(`int${bits} ${rows[rows.length - 1]!.acc.map(pct).join(" / ")} (${secs(t0).toFixed(0)} s)`);
}
const report = {
  surrogate,
  hidden,
  steps,
  epochs,
  leakShift: options.leakShift,
  trainSeconds,
  trained,
  backend,
  testCount: test.count,
  rows,
  warnings,
  date: new Date().toISOString().slice(0, 10),
};
writeFileSync(join(outDir, "report.json"), JSON.stringify(report, null, 1));

const lines: string[] = [];
lines.push("<!-- SNN-TRAIN -->");
lines.push("## Directly trained LIF MLP (`picospike train --snn`)");
lines.push("");
lines.push(
  `Generated by \`nice npx tsx bench/snn-accuracy.ts --surrogate ${surrogate}${flag("--epochs") ? ` --epochs ${epochs}` : ""}${flag("--hidden") ? ` --hidden ${hidden.join(",")}` : ""}\` on ${report.date} ` +
    `(${cpus().length} cores, tfjs \`${backend}\`). LIF ${[784, ...hidden, 10].join("-")}, leak 1 − 2^−${options.leakShift} per step (the quantizer's shift form), threshold 1, reset by subtraction, ` +
    `integrating readout (membrane argmax), \`current\` input encoding; trained by BPTT over T = ${steps} steps with the \`${surrogate}\` surrogate (models/snn-train.ts), ${epochs} epochs, batch ${options.batchSize}, Adam ${options.learningRate} with cosine decay, ±${options.maxShift}-pixel shifts. ` +
    `Accuracy on ${test.count} held-out digits; integer rows on the TypeScript interpreter.`,
);
lines.push("");
lines.push(`| variant | ${checkpoints.map((t) => `T=${t}`).join(" | ")} | bytes | bytes/synapse | spikes/sample (T=${steps}) |`);
lines.push(`| --- | ${checkpoints.map(() => "---:").join(" | ")} | ---: | ---: | ---: |`);
for (const r of rows) {
  lines.push(
    `| ${r.variant} | ${r.acc.map(pct).join(" | ")} | ${r.bytes ?? "–"} | ${r.bytes !== undefined ? (r.bytes / r.synapses!).toFixed(3) : "–"} | ${r.spikes !== undefined ? r.spikes.toFixed(0) : "–"} |`,
  );
}
const int8 = rows.find((r) => r.variant === "int8")!;
lines.push("");
lines.push(
  `Target: int8 ≥ 96.5% at T ≤ 25: **${pct(int8.acc[int8.acc.length - 1]!)}%** at T=${steps} (${int8.acc[int8.acc.length - 1]! >= 0.965 ? "met" : "NOT met"}).`,
);
lines.push("");
lines.push(
  `Wall time: training ${Number.isFinite(trainSeconds) ? trainSeconds.toFixed(0) + " s" : "unknown"}${trained ? "" : " (reused model)"}; ` +
    rows.map((r) => `${r.variant} ${r.bytes !== undefined ? "quantize + " : ""}evaluation ${r.seconds.toFixed(0)} s`).join("; ") +
    ".",
);
lines.push("");
lines.push(
  `Rerun with the CLI: \`picospike train --snn --surrogate ${surrogate} --out snn\`, then \`picospike quantize snn/snn.json --out snn.cbor\` and \`picospike eval snn.cbor --steps ${steps}\`.`,
);
if (warnings.length > 0) {
  lines.push("");
  lines.push("Quantizer warnings:");
  lines.push("");
  for (const w of warnings) lines.push(`- ${w}`);
}
lines.push("<!-- /SNN-TRAIN -->");
const section = lines.join("\n");
const docPath = quick ? join(outDir, "ACCURACY-snn.md") : "docs/ACCURACY.md";
const old = existsSync(docPath) ? readFileSync(docPath, "utf8") : "";
const marked = /<!-- SNN-TRAIN -->[\s\S]*<!-- \/SNN-TRAIN -->/;
const doc = marked.test(old)
  ? old.replace(marked, () => section)
  : old.replace("Directly trained SNNs (`picospike train --snn`) are not in this build yet.\n", "").trimEnd() + "\n\n" + section + "\n";
writeFileSync(docPath, doc);
log(`wrote ${docPath}`);
