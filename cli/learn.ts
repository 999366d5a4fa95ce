/**
 * `picospike learn --rule NAME [--task NAME]`: runs a learning rule's task on the host (STDP family,
 * tempotron, ReSuMe, SpikeProp, Diehl & Cook), writes its SVG plots (and, for networks the float
 * SNN form can express, the trained network for `picospike quantize`) to --out, and prints the
 * measured figure, the published reference and whether the check passed. `--list` names them.
 */
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fail } from "../runtime/errors.js";
import { loadDataset } from "../firmware-host/sources/datasets.js";
import { writeFloatSnn } from "../models/float-snn.js";
import { TASKS, findTask } from "../models/learning/tasks.js";
import { intOption, printJson, writeFileAtomic } from "./io.js";

/** Registers the `learn` verb. */
export function register(program: Command): void {
  program
    .command("learn")
    .description("run a learning rule's task (host, float): figure vs published reference, SVG plots; exit 3 when the check fails")
    .option("--list", "name the rules and their tasks")
    .option("--rule <name>", "learning rule (see --list)")
    .option("--task <name>", "task of the rule (optional when the rule has one)")
    .option("--out <dir>", "directory for plots and exported networks", "learn-out")
    .option("--seed <s>", "seed of every random draw", "1")
    .option("--quick", "small version of the task (seconds; the check is then indicative only)")
    .option("--data-dir <dir>", "IDX dataset directory instead of the embedded MNIST (digit tasks)")
    .option("--json", "print one JSON object: figure, reference, passed, details, files")
    .action((opts: Record<string, string | boolean | undefined>) => {
      if (opts["list"]) {
        const list = TASKS.map((t) => ({ rule: t.rule, task: t.task, description: t.description, needsDigits: t.needsDigits }));
        if (opts["json"]) printJson({ tasks: list });
        else for (const t of list) process.stdout.write(`${t.rule.padEnd(14)} ${t.task.padEnd(18)} ${t.description}\n`);
        return;
      }
      const rule = opts["rule"];
      if (typeof rule !== "string") fail("CLI_USAGE", "pass --rule NAME (or --list)");
      const task = findTask(rule, typeof opts["task"] === "string" ? opts["task"] : undefined);
      const seed = intOption("--seed", opts["seed"] as string, 0, 2 ** 31 - 1);
      const outDir = opts["out"] as string;
      const digits = task.needsDigits ? loadDataset(opts["dataDir"] as string | undefined) : undefined;
      const bar = new cliProgress.SingleBar(
        { format: `${task.rule}/${task.task} [{bar}] {percentage}% | {phase} | {duration_formatted}`, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      const showBar = process.stderr.isTTY === true;
      if (showBar) bar.start(1000, 0, { phase: "start" });
      let result;
      try {
        result = task.run({
          seed,
          quick: opts["quick"] === true,
          ...(digits ? { digits: { train: digits.train, test: digits.test } } : {}),
          onProgress: (f, phase) => showBar && bar.update(Math.round(f * 1000), { phase }),
        });
      } finally {
        if (showBar) bar.stop();
      }
      try {
        mkdirSync(outDir, { recursive: true });
      } catch (e) {
        fail("CLI_WRITE_FAILED", `cannot create ${outDir}: ${(e as Error).message}`);
      }
      const files: string[] = [];
      for (const [name, svg] of Object.entries(result.plots)) {
        writeFileAtomic(join(outDir, name), svg);
        files.push(join(outDir, name));
      }
      if (result.floatSnn) {
        const path = join(outDir, `${task.rule}-${task.task}.json`);
        writeFloatSnn(path, result.floatSnn, writeFileAtomic);
        files.push(path);
      }
      const summary = {
        rule: result.rule,
        task: result.task,
        seed,
        quick: opts["quick"] === true,
        figure: result.figure,
        reference: result.reference,
        passed: result.passed,
        details: result.details,
        files,
      };
      if (opts["json"]) printJson(summary);
      else {
        const f = result.figure;
        process.stdout.write(`${result.rule}/${result.task}: ${f.name} = ${Number(f.value.toPrecision(4))}${f.unit ? " " + f.unit : ""}\n`);
        process.stdout.write(
          `  reference: ${result.reference.value} (${result.reference.source})\n  check: ${result.reference.check}: ${result.passed === null ? "not made by --quick (a smaller run than the check needs; run without --quick)" : result.passed ? "PASS" : "FAIL"}\n`,
        );
        for (const file of files) process.stdout.write(`  wrote ${file}\n`);
      }
      if (result.passed === false) process.exitCode = 3;
    });
}
