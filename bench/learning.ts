/**
 * Reruns every learning-rule task at full size, records the figures in
 * bench/learning-results.json and rewrites the results table of docs/LEARNING.md (between the
 * LEARNING-TABLE markers). Plots and exported float SNNs go to out/learning/ (not committed).
 *
 *   tsx bench/learning.ts [--only RULE[/TASK]] [--seed S] [--quick]
 *   tsx bench/learning.ts --tune diehl-cook [--theta 0.0625,0.125] [--inhibition 30,60] [--epochs 2]
 *
 * --only reruns one rule (or task) and keeps the other rows from the previous results file.
 * --tune diehl-cook runs the Diehl & Cook validation search (training digits only: the last
 * 1,000 of the 8,000 are the validation split; the held-out 2,000 are never touched) and merges
 * its trials into `tuning` of the results file; several invocations with parts of the grid can
 * run side by side, the best trial over everything recorded is reported.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { embeddedMnist } from "../firmware-host/sources/datasets.js";
import { writeFloatSnn } from "../models/float-snn.js";
import { DIEHL_COOK_DEFAULTS, searchDiehlCook, validationSplit, type DiehlCookTrial } from "../models/learning/diehl-cook.js";
import { TASKS, type TaskResult } from "../models/learning/tasks.js";

const root = join(import.meta.dirname, "..");
const resultsPath = join(root, "bench", "learning-results.json");
const docPath = join(root, "docs", "LEARNING.md");
const outDir = join(root, "out", "learning");

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** One recorded row. */
interface Row {
  rule: string;
  task: string;
  figure: TaskResult["figure"];
  reference: TaskResult["reference"];
  passed: boolean | null;
  seconds: number;
  seed: number;
  quick: boolean;
  details: Record<string, unknown>;
}

/** The results file: rows of the task runs, and the recorded hyper-parameter searches. */
interface ResultsFile {
  machine: string;
  rows: Row[];
  tuning?: { "diehl-cook"?: { seed: number; trials: DiehlCookTrial[]; best: DiehlCookTrial } };
}

const numbers = (s: string | undefined, fallback: number[]): number[] => (s === undefined ? fallback : s.split(",").map(Number));
const readResults = (): ResultsFile | undefined => (existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, "utf8")) as ResultsFile) : undefined);

if (arg("--tune") !== undefined) {
  if (arg("--tune") !== "diehl-cook") {
    process.stderr.write(`only 'diehl-cook' has a search, not '${arg("--tune")}'\n`);
    process.exit(2);
  }
  const tuneSeed = Number(arg("--seed") ?? "1");
  const { fit, validation } = validationSplit(embeddedMnist().train);
  const grid = {
    thetaPlus: numbers(arg("--theta"), [0.0625, 0.125, 0.25]),
    inhibition: numbers(arg("--inhibition"), [30, 60, 120]),
    maxEpochs: Number(arg("--epochs") ?? "2"),
  };
  let lastPct = -1;
  const { trials } = searchDiehlCook(DIEHL_COOK_DEFAULTS, fit, validation, grid, tuneSeed, (d, t, phase) => {
    const pct = Math.floor((d / t) * 20) * 5;
    if (pct !== lastPct) process.stderr.write(`${(lastPct = pct)}% ${phase}\n`);
  });
  for (const t of trials)
    process.stderr.write(`theta+ ${t.thetaPlus} inhibition ${t.inhibition} epochs ${t.epochs} ${t.readout}: validation ${t.validationAccuracy}\n`);
  // merge with what other (possibly concurrent) parts of the grid recorded, re-read just before writing
  const current = readResults() ?? { machine: "", rows: [] };
  const key = (t: DiehlCookTrial): string => `${t.thetaPlus}/${t.inhibition}/${t.epochs}/${t.readout}`;
  const prior = current.tuning?.["diehl-cook"];
  const merged = new Map((prior && prior.seed === tuneSeed ? prior.trials : []).map((t) => [key(t), t]));
  for (const t of trials) merged.set(key(t), t);
  const all = [...merged.values()];
  let best = all[0] as DiehlCookTrial;
  for (const t of all)
    if (t.validationAccuracy > best.validationAccuracy || (t.validationAccuracy === best.validationAccuracy && t.epochs < best.epochs)) best = t;
  current.tuning = { ...current.tuning, "diehl-cook": { seed: tuneSeed, trials: all, best } };
  writeFileSync(resultsPath, JSON.stringify(current, null, 1) + "\n");
  process.stderr.write(`best on validation: ${JSON.stringify(best)}; recorded in ${resultsPath}\n`);
  process.exit(0);
}

const only = arg("--only");
const seed = Number(arg("--seed") ?? "1");
const quick = process.argv.includes("--quick");
const previousFile = readResults();
const previous: Row[] = previousFile?.rows ?? [];
const selected = TASKS.filter((t) => only === undefined || only === t.rule || only === `${t.rule}/${t.task}`);
if (selected.length === 0) {
  process.stderr.write(`no task matches '${only}'\n`);
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const digits = selected.some((t) => t.needsDigits) ? embeddedMnist() : undefined;
const rows = new Map(previous.map((r) => [`${r.rule}/${r.task}`, r]));
for (const task of selected) {
  const t0 = performance.now();
  process.stderr.write(`${task.rule}/${task.task} ...`);
  let lastPct = -1;
  const r = task.run({
    seed,
    quick,
    ...(digits ? { digits: { train: digits.train, test: digits.test } } : {}),
    onProgress: (f) => {
      const pct = Math.floor(f * 10) * 10;
      if (pct !== lastPct) process.stderr.write(` ${(lastPct = pct)}%`);
    },
  });
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  process.stderr.write(` ${r.passed === null ? "NOT CHECKED" : r.passed ? "PASS" : "FAIL"} ${r.figure.name} = ${r.figure.value} (${seconds} s)\n`);
  for (const [name, svg] of Object.entries(r.plots)) writeFileSync(join(outDir, name), svg);
  if (r.floatSnn) writeFloatSnn(join(outDir, `${r.rule}-${r.task}.json`), r.floatSnn, (p, d) => writeFileSync(p, d));
  rows.set(`${r.rule}/${r.task}`, {
    rule: r.rule,
    task: r.task,
    figure: r.figure,
    reference: r.reference,
    passed: r.passed,
    seconds,
    seed,
    quick,
    details: r.details,
  });
}
const ordered = TASKS.map((t) => rows.get(`${t.rule}/${t.task}`)).filter((r): r is Row => r !== undefined);
const machine = `${cpus()[0]?.model.trim() ?? "unknown"}, ${cpus().length} cores, Node ${process.version}`;
// the tuning record may have been written by a concurrent --tune run meanwhile: re-read it now
const tuning = readResults()?.tuning;
writeFileSync(resultsPath, JSON.stringify({ machine, rows: ordered, ...(tuning ? { tuning } : {}) }, null, 1) + "\n");

const cell = (s: string): string => s.replace(/\|/g, "\\|");
const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : Number(v.toPrecision(4)).toString());
const table = [
  "| rule / task | figure measured | value | published reference | check | result | time |",
  "| --- | --- | --- | --- | --- | --- | --- |",
  ...ordered.map(
    (r) =>
      `| ${r.rule} / ${r.task} | ${cell(r.figure.name)} | ${fmt(r.figure.value)} ${r.figure.unit} | ${cell(r.reference.value)} (${cell(r.reference.source)}) | ${cell(r.reference.check)} | ${r.passed === null ? "not checked" : r.passed ? "pass" : "**fail**"}${r.quick ? " (quick)" : ""} | ${r.seconds} s |`,
  ),
  "",
  `Measured on ${machine}, seed ${seed}; raw figures in [bench/learning-results.json](../bench/learning-results.json).`,
].join("\n");
if (existsSync(docPath)) {
  const doc = readFileSync(docPath, "utf8");
  const begin = "<!-- LEARNING-TABLE:BEGIN (generated by bench/learning.ts) -->";
  const end = "<!-- LEARNING-TABLE:END -->";
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a >= 0 && b > a) writeFileSync(docPath, doc.slice(0, a + begin.length) + "\n" + table + "\n" + doc.slice(b));
  else process.stderr.write(`${docPath} has no LEARNING-TABLE markers; table not written\n`);
}
process.stderr.write(`wrote ${resultsPath}, plots in ${outDir}\n`);
