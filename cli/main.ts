/**
 * `picospike` command line: thin wiring of runtime/, codegen/, models/ and firmware-host/.
 * Every verb has --help; errors print one line `error <CODE>: <message>` on stderr and exit 1
 * (2 for CLI_USAGE, the command line itself is wrong).
 */
import { Command, CommanderError } from "commander";
import { PicospikeError } from "../runtime/errors.js";

/** A verb module: it adds its command (with options and --help) to the program. */
interface VerbModule {
  register(program: Command): void;
}

/**
 * Every verb, by name, loaded on demand: each lives in its own module under cli/ and exports
 * `register(program)`. Loading only the verb being run keeps start-up fast (the training verbs
 * pull in TensorFlow.js, which takes seconds to load). Add a verb with one line here.
 */
const VERBS: Record<string, () => Promise<VerbModule>> = {
  demo: () => import("./demo.js"),
  inspect: () => import("./inspect.js"),
  train: () => import("./train.js"),
  convert: () => import("./convert.js"),
  quantize: () => import("./quantize.js"),
  run: () => import("./run.js"),
  eval: () => import("./eval.js"),
  learn: () => import("./learn.js"),
  ports: () => import("./ports.js"),
  stream: () => import("./stream.js"),
  compare: () => import("./compare.js"),
  build: () => import("./build.js"),
  flash: () => import("./flash.js"),
  codegen: () => import("./codegen.js"),
  bench: () => import("./bench.js"),
  adapt: () => import("./adapt.js"),
  monitor: () => import("./monitor.js"),
  import: () => import("./import.js"),
  export: () => import("./export.js"),
};

// A reader that stops early (`picospike learn --list | head -1`) closes the pipe: what is left to
// print has nobody to read it, so end quietly instead of with Node's unhandled-error stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const program = new Command("picospike")
  .description("Spiking neural networks on microcontrollers: quantize, codegen, flash, stream, compare.")
  .version("0.1.0")
  .option("--debug", "print stack traces on errors")
  // commander's own error text (and help after it) would add lines: report() prints the one line
  .configureOutput({ outputError: () => undefined })
  .exitOverride();

/** The verb named on the command line (first argument that is not an option), if any. */
const named = process.argv.slice(2).find((a) => !a.startsWith("-"));
const wanted = named !== undefined && named !== "help" && Object.hasOwn(VERBS, named) ? [named] : Object.keys(VERBS);
for (const name of wanted) (await VERBS[name]!()).register(program);

/** Prints an error the way the CLI contract says and sets the exit code. */
function report(e: unknown, debug: boolean): void {
  if (e instanceof PicospikeError) {
    // Tool output carried in the message (compiler, linker, gdb) goes above the one error line.
    const [first, ...toolOutput] = e.message.split("\n");
    const above = toolOutput.join("\n").trimEnd();
    if (above !== "") process.stderr.write(above + "\n");
    process.stderr.write(`error ${e.code}: ${above === "" ? first : `${first!.replace(/:\s*$/, "")} (tool output above)`}\n`);
    if (debug && e.stack) process.stderr.write(e.stack + "\n");
    // a usage error exits 2 whether commander or a verb's own check found it
    process.exitCode = e.code === "CLI_USAGE" ? 2 : 1;
  } else if (e instanceof CommanderError) {
    if (e.exitCode !== 0) {
      const message = e.code === "commander.help" ? "no command given" : e.message.replace(/^error: /, "");
      process.stderr.write(`error CLI_USAGE: ${message} (see --help)\n`);
      process.exitCode = 2;
    }
  } else {
    const err = e instanceof Error ? e : new Error(String(e));
    process.stderr.write(`error INTERNAL: ${err.message} (a bug in picospike; rerun with --debug for the stack)\n`);
    if (debug && err.stack) process.stderr.write(err.stack + "\n");
    process.exitCode = 70;
  }
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  report(e, process.argv.includes("--debug"));
}
