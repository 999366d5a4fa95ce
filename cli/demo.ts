/**
 * `picospike demo`: the whole pipeline on the embedded default, by running the same verbs a user
 * would type (each printed before it runs, so the demo doubles as a tour of the command line):
 * train → convert → quantize → eval → build → compare on the board → summary table.
 * Every artifact lands in one folder (raster.svg: one compared digit, device over interpreter); the
 * summary says which files were written.
 */
import type { Command } from "commander";
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { PicospikeError, fail, type ErrorCode, ERROR_CODES } from "../runtime/errors.js";
import { intOption, printJson, writeFileAtomic } from "./io.js";

/** One stage of the demo: a picospike verb run as a child process with --json. */
interface Stage {
  readonly name: string;
  readonly args: readonly string[];
}

/** Parsed --json output of a stage. */
type StageResult = Record<string, unknown>;

const ERROR_LINE = /^error ([A-Z_]+): (.*)$/;

/**
 * Runs `picospike <args> --json` as a child process. Its stderr (progress, epoch lines) is passed
 * through, except its `error CODE: message` line, which becomes this process's error so the demo
 * fails with the stage's own code and a note of which stage failed.
 */
function runStage(stage: Stage, log: (line: string) => void): Promise<StageResult> {
  const bin = process.argv[1]!;
  log(`\n▶ ${stage.name}: picospike ${stage.args.join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...stage.args, "--json"], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let errorLine: RegExpExecArray | null = null;
    let pending = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => {
      pending += d.toString("utf8");
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        const m = ERROR_LINE.exec(line);
        if (m) errorLine = m;
        else process.stderr.write(`  ${line}\n`);
      }
    });
    child.on("error", (e) => reject(new PicospikeError("CLI_USAGE", `cannot start stage ${stage.name}: ${e.message}`)));
    child.on("close", (code) => {
      const m = errorLine as RegExpExecArray | null;
      if (code !== 0) {
        const known = m && Object.hasOwn(ERROR_CODES, m[1]!) ? (m[1] as ErrorCode) : undefined;
        reject(new PicospikeError(known ?? "CLI_USAGE", `demo stage '${stage.name}' failed: ${m ? m[2] : `exit status ${code}`}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout) as StageResult);
      } catch {
        reject(new PicospikeError("CLI_USAGE", `demo stage '${stage.name}' printed no JSON object (a bug in picospike)`));
      }
    });
  });
}

/** Formats a fraction as a percentage with two decimals. */
function pct(x: unknown): string {
  return typeof x === "number" ? `${(100 * x).toFixed(2)}%` : "n/a";
}

/** Registers the `demo` verb. */
export function register(program: Command): void {
  program
    .command("demo")
    .description("the whole pipeline on the embedded default: train → convert → quantize → eval → build → compare on the board")
    .option("--out <dir>", "folder for every artifact", "picospike-demo")
    .option("--arch <arch>", "ANN to train: mlp or cnn", "mlp")
    .option("--epochs <n>", "training epochs", "8")
    .option("--steps <t>", "time steps per digit", "32")
    .option("--eval-digits <n>", "held-out digits scored on the interpreter", "2000")
    .option("--digits <n>", "held-out digits streamed to the board and compared bit for bit", "200")
    .option("--board <name>", "board: native (needs gcc), mps2-an386 or microbit (need QEMU), mock", "native")
    .option("--json", "print one JSON object with the summary")
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      const str = (k: string) => opts[k] as string;
      const arch = str("arch");
      if (arch !== "mlp" && arch !== "cnn") fail("CLI_USAGE", `--arch must be mlp or cnn, got '${arch}'`);
      const epochs = intOption("--epochs", str("epochs"), 1, 1000);
      const steps = intOption("--steps", str("steps"), 1, 10000);
      const evalDigits = intOption("--eval-digits", str("evalDigits"), 1, 2000);
      const digits = intOption("--digits", str("digits"), 1, 2000);
      const board = str("board");
      const out = str("out");
      const json = Boolean(opts["json"]);
      // With --json, stdout carries only the summary object; the stage log goes to stderr.
      const log = (line: string) => (json ? process.stderr : process.stdout).write(line + "\n");
      try {
        mkdirSync(out, { recursive: true });
      } catch (e) {
        fail("CLI_WRITE_FAILED", `cannot create ${out}: ${(e as Error).message}`);
      }
      const started = Date.now();
      const f = (name: string) => join(out, name);
      const timed = async (stage: Stage) => {
        const t0 = Date.now();
        const result = await runStage(stage, log);
        return { result, seconds: (Date.now() - t0) / 1000 };
      };

      const train = await timed({ name: "train", args: ["train", "--arch", arch, "--epochs", String(epochs), "--out", f("ann")] });
      const convert = await timed({ name: "convert", args: ["convert", f("ann/model.json"), "--out", f("snn.json")] });
      const quantize = await timed({ name: "quantize", args: ["quantize", f("snn.json"), "--weight-bits", "8", "--out", f("model.cbor")] });
      const evaluate = await timed({ name: "eval", args: ["eval", f("model.cbor"), "--dataset", `mnist:0:${evalDigits}`, "--steps", String(steps)] });
      const build =
        board === "mock" ? undefined : await timed({ name: "build", args: ["build", f("model.cbor"), "--board", board, "--out", f(`firmware-${board}`)] });
      const compare = await timed({
        name: "compare",
        // --plot: the raster of one compared digit (the first that diverged, else the first).
        args: ["compare", f("model.cbor"), "--board", board, "--input", `mnist:0:${digits}`, "--steps", String(steps), "--plot", f("raster.svg")],
      });

      const c = compare.result;
      const q = quantize.result;
      const cost = c["costPerStep"] as { unit: string; mean: number; median: number } | null;
      const summary = {
        arch,
        board,
        steps,
        annAccuracy: train.result["testAccuracy"] ?? null,
        snnInt8Accuracy: evaluate.result["accuracy"] ?? null,
        evalDigits,
        deviceAccuracy: c["deviceAccuracy"] ?? null,
        interpreterAccuracy: c["interpreterAccuracy"] ?? null,
        comparedDigits: c["samples"] ?? null,
        bitExact: c["bitExact"] === true,
        firstDivergence: c["firstDivergence"] ?? null,
        modelBytes: q["bytes"] ?? null,
        bytesPerSynapse: q["bytesPerSynapse"] ?? null,
        firmwareCodeBytes: build?.result["codeBytes"] ?? null,
        costPerStep: cost,
        seconds: {
          train: train.seconds,
          convert: convert.seconds,
          quantize: quantize.seconds,
          eval: evaluate.seconds,
          ...(build ? { build: build.seconds } : {}),
          compare: compare.seconds,
          total: (Date.now() - started) / 1000,
        },
        files: [
          f("ann/model.json"),
          f("ann/weights.bin"),
          f("snn.json"),
          f("model.cbor"),
          ...(build ? [String(build.result["image"])] : []),
          f("raster.svg"),
          f("summary.json"),
        ].map((p) => relative(process.cwd(), p)),
      };
      writeFileAtomic(f("summary.json"), JSON.stringify(summary, null, 2) + "\n");
      if (json) {
        printJson(summary);
      } else {
        const rows: Array<[string, string]> = [
          [`ANN (${arch}) accuracy`, pct(summary.annAccuracy)],
          [`int8 SNN accuracy, interpreter (${evalDigits} digits, T=${steps})`, pct(summary.snnInt8Accuracy)],
          [`device accuracy on ${board} (${String(summary.comparedDigits)} digits)`, pct(summary.deviceAccuracy)],
          ["device == interpreter, bit for bit", summary.bitExact ? "yes" : `NO, first divergence ${JSON.stringify(summary.firstDivergence)}`],
          [
            "model size",
            `${String(summary.modelBytes)} bytes (${typeof summary.bytesPerSynapse === "number" ? summary.bytesPerSynapse.toFixed(3) : "?"} bytes/synapse)`,
          ],
          ...(summary.firmwareCodeBytes !== null ? [["firmware code", `${String(summary.firmwareCodeBytes)} bytes`] as [string, string]] : []),
          ["per-step cost on the device", cost ? `${cost.mean} ${cost.unit} mean, ${cost.median} median` : "not reported by this board"],
          ["wall time", `${summary.seconds.total.toFixed(1)} s`],
        ];
        const width = Math.max(...rows.map(([k]) => k.length));
        log("\npicospike demo: summary");
        for (const [k, v] of rows) log(`  ${k.padEnd(width)}  ${v}`);
        log(`\nfiles written:\n${summary.files.map((p) => `  ${p}`).join("\n")}`);
      }
      if (!summary.bitExact) {
        process.exitCode = 1;
        process.stderr.write(`error CODEGEN_MISMATCH: the device and the interpreter disagreed (see ${f("summary.json")})\n`);
      }
    });
}
