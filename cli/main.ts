/**
 * `picospike` command line: thin wiring of runtime/, codegen/, models/ and firmware-host/.
 * Every verb has --help; errors print one line `error <CODE>: <message>` on stderr and exit 1.
 */
import { Command, CommanderError } from "commander";
import { PicospikeError } from "../runtime/errors.js";
import * as inspectVerb from "./inspect.js";
import * as trainVerb from "./train.js";
import * as convertVerb from "./convert.js";
import * as quantizeVerb from "./quantize.js";
import * as runVerb from "./run.js";
import * as evalVerb from "./eval.js";
import * as learnVerb from "./learn.js";
import * as portsVerb from "./ports.js";
import * as streamVerb from "./stream.js";
import * as compareVerb from "./compare.js";

/**
 * Each verb lives in its own module under cli/ and exports `register(program)`; add new verbs to
 * this list (one line each) so the verbs stay independent of each other.
 */
const VERBS: Array<{ register(program: Command): void }> = [
  inspectVerb,
  trainVerb,
  convertVerb,
  quantizeVerb,
  runVerb,
  evalVerb,
  learnVerb,
  portsVerb,
  streamVerb,
  compareVerb,
];

const program = new Command("picospike")
  .description("Spiking neural networks on microcontrollers: quantize, codegen, flash, stream, compare.")
  .version("0.1.0")
  .option("--debug", "print stack traces on errors")
  .showHelpAfterError()
  .exitOverride();

program
  .command("demo")
  .description("the whole pipeline on the embedded default (MNIST, native board)")
  .action(() => {
    process.stderr.write(
      "picospike demo: not available yet. The pipeline (train → convert → quantize → build → flash → stream → compare)\n" +
        "is being built issue by issue; today you can `picospike inspect` and `picospike run` an event table.\n",
    );
    process.exitCode = 2;
  });

for (const verb of VERBS) verb.register(program);

/** Prints an error the way the CLI contract says and sets the exit code. */
function report(e: unknown, debug: boolean): void {
  if (e instanceof PicospikeError) {
    process.stderr.write(`error ${e.code}: ${e.message}\n`);
    if (debug && e.stack) process.stderr.write(e.stack + "\n");
    process.exitCode = 1;
  } else if (e instanceof CommanderError) {
    if (e.exitCode !== 0) {
      process.stderr.write(`error CLI_USAGE: ${e.message.replace(/^error: /, "")}\n`);
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
