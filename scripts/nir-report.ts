/**
 * Writes the fidelity table of docs/NIR.md (between its BEGIN/END markers) from the shared NIR
 * fixtures: for every case, the dialect `import --from auto` detects, and how many samples' output
 * counts equal the framework's own (float import), and how many output counts of the int8 and int4
 * event tables (`quantize`, run by the integer interpreter) lie within ±1 of the framework's.
 * `npx tsx scripts/nir-report.ts` (add --check to fail when the document differs).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FloatSimulator } from "../models/float-sim.js";
import { fixtureCases, fixtureRoot, readFixtureCase } from "../models/nir/fixtures.js";
import { importNir, type ImportOptions } from "../models/nir/import.js";
import { quantizeSnn } from "../models/quantize.js";
import { isPicospikeError } from "../runtime/errors.js";
import { Interpreter } from "../runtime/interpreter.js";
import type { FloatSnn } from "../models/float-snn.js";
import type { FixtureCase } from "../models/nir/fixtures.js";

const repo = join(import.meta.dirname, "..");
const root = fixtureRoot(repo);
if (!root) {
  console.log("NIR fixtures not found at ../shared/nir-fixtures (or PICOSPIKE_NIR_FIXTURES): nothing to report");
  process.exit(0);
}

/** The one assumption a file cannot carry and a case needs (passed as a flag, shown in the table). */
const FLAGS: Record<string, Partial<ImportOptions>> = { "snntorch-leaky-zero": { reset: "zero" } };

/**
 * The integer event table of `bits` on the case's samples: output counts within ±1 of the
 * framework's (spike outputs), or the final membranes (dequantized with the layer's unit) within
 * 5% of the largest expected |v| (membrane output); or why quantize refused.
 */
function integerFidelity(snn: FloatSnn, fc: FixtureCase, bits: 4 | 8): string {
  let table;
  try {
    table = quantizeSnn(snn, { weightBits: bits, perChannel: true, seed: 1, source: fc.name }).table;
  } catch (e) {
    if (isPicospikeError(e) && e.code === "TOOLCHAIN_QUANTIZE_RULE") return "refused";
    throw e;
  }
  const sim = new Interpreter(table);
  const last = table.layers.length - 1;
  const unit = table.provenance.layerScales[last]!;
  const largest = Math.max(...fc.expected.flat().map(Math.abs));
  let within = 0;
  let total = 0;
  let maxDiff = 0;
  fc.samples.forEach((sample, i) => {
    sim.reset();
    for (const step of sample.steps) sim.step(step.values ? { indices: step.indices, values: step.values } : { indices: step.indices });
    const got = fc.outputKind === "membrane" ? Array.from(sim.membrane(last), (v) => v * unit) : Array.from(sim.spikeCounts(last));
    got.forEach((g, j) => {
      const d = Math.abs(g - fc.expected[i]![j]!);
      maxDiff = Math.max(maxDiff, d);
      total++;
      if (fc.outputKind === "membrane" ? d <= 0.05 * largest : d <= 1) within++;
    });
  });
  const pct = ((100 * within) / total).toFixed(0);
  return fc.outputKind === "membrane" ? `${within}/${total} (${pct}%; max \\|Δv\\| ${maxDiff.toExponential(1)})` : `${within}/${total} (${pct}%)`;
}

const rows: string[] = [
  "| case | framework | dialect detected (dt) | flags | float: samples equal | float: counts equal | int8: counts within ±1 | int4: counts within ±1 |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const name of fixtureCases(root)) {
  const fc = readFixtureCase(root, name);
  const flags = FLAGS[name] ?? {};
  const { snn, report } = await importNir(fc.model, { from: "auto", ...flags });
  const sim = new FloatSimulator(snn);
  let samplesEqual = 0;
  let countsEqual = 0;
  let counts = 0;
  let maxDiff = 0;
  fc.samples.forEach((s, i) => {
    const r = sim.runSample(s);
    const got = fc.outputKind === "membrane" ? r.outputMembranes! : r.outputCounts;
    let all = true;
    got.forEach((g, j) => {
      counts++;
      const d = Math.abs(g - fc.expected[i]![j]!);
      maxDiff = Math.max(maxDiff, d);
      // membranes: the framework computed in float32; equal within float32 resolution of the values
      const equal = fc.outputKind === "membrane" ? d <= 1e-5 : d === 0;
      if (equal) countsEqual++;
      else all = false;
    });
    if (all) samplesEqual++;
  });
  const flagText =
    Object.entries(flags)
      .map(([k, v]) => `--${k} ${String(v)}`)
      .join(" ") || "—";
  const what =
    fc.outputKind === "membrane" ? `${countsEqual}/${counts} final membranes (max \\|Δv\\| ${maxDiff.toExponential(1)})` : `${countsEqual}/${counts}`;
  rows.push(
    `| ${name} | ${fc.framework} | ${report.dialect} (${report.dt}) | ${flagText} | ${samplesEqual}/${fc.samples.length} | ${what} | ${integerFidelity(snn, fc, 8)} | ${integerFidelity(snn, fc, 4)} |`,
  );
}
const table = rows.join("\n");
const docPath = join(repo, "docs/NIR.md");
const doc = readFileSync(docPath, "utf8");
const begin = "<!-- BEGIN nir-report -->";
const end = "<!-- END nir-report -->";
const a = doc.indexOf(begin);
const b = doc.indexOf(end);
if (a < 0 || b < a) throw new Error("docs/NIR.md lacks the nir-report markers");
const next = `${doc.slice(0, a + begin.length)}\n${table}\n${doc.slice(b)}`;
if (process.argv.includes("--check")) {
  if (next !== doc) {
    console.error("docs/NIR.md is out of date: run npx tsx scripts/nir-report.ts");
    process.exit(1);
  }
} else {
  writeFileSync(docPath, next);
  console.log(table);
}
