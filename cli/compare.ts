/**
 * `picospike compare MODEL.cbor --board B|--port P --input SOURCE --steps T [--json]`: the same input
 * through the device (lockstep) and the reference interpreter; a bit-exact verdict and the first
 * divergence (sample, step, layer, neuron, both values). Exit code 0 when bit-exact, 3 when not.
 */
import type { Command } from "commander";
import { decodeTable } from "../runtime/format.js";
import { compareRun } from "../firmware-host/compare.js";
import { BOARD_HELP, connectDevice, interruptSignal, openInput } from "./device.js";
import { intOption, printJson, readFileOrFail } from "./io.js";

/** Registers the `compare` verb. */
export function register(program: Command): void {
  program
    .command("compare")
    .description("run the same input on a board and on the interpreter; bit-exact verdict and first divergence")
    .argument("<model>", "event table (.cbor)")
    .option("--board <name>", BOARD_HELP)
    .option("--port <path>", "serial port or pty of a board running picospike firmware")
    .option("--baud <rate>", "baud rate for --port", "115200")
    .requiredOption("--input <source>", "input source: mnist:START:COUNT, random:RATE:SEED, spikes:FILE")
    .option("--steps <t>", "steps per sample", "32")
    .option("--samples <n>", "samples to take (default: all, or 1 for endless sources)")
    .option("--every-step", "read membranes back after every step, not only at the end of each sample")
    .option("--json", "print one JSON object on stdout")
    .action(async (modelPath: string, opts: Record<string, string | boolean | undefined>) => {
      const steps = intOption("--steps", String(opts["steps"]), 1, 1_000_000);
      const samplesOpt = opts["samples"] === undefined ? undefined : intOption("--samples", String(opts["samples"]), 1, 1_000_000);
      const modelBytes = readFileOrFail(modelPath);
      const table = decodeTable(modelBytes);
      const input = openInput(String(opts["input"]), table, steps, samplesOpt);
      const device = await connectDevice(
        { ...(opts["board"] === undefined ? {} : { board: String(opts["board"]) }), ...(opts["port"] === undefined ? {} : { port: String(opts["port"]) }), baud: intOption("--baud", String(opts["baud"]), 50, 10_000_000) },
        modelBytes,
      );
      const interrupt = interruptSignal();
      const tty = process.stderr.isTTY === true && !opts["json"];
      try {
        const report = await compareRun(device.session, table, input.samples, {
          steps,
          maxSamples: input.count,
          membranesEveryStep: opts["everyStep"] === true,
          signal: interrupt.signal,
          onSample: (done, r) => {
            if (tty) process.stderr.write(`\rcompare: ${done} samples, ${r.steps} steps, ${r.firstDivergence ? "DIVERGED" : "bit-exact so far"}   `);
          },
        });
        if (tty) process.stderr.write("\n");
        const summary = { model: modelPath, device: device.description, uploaded: device.uploaded, ...report };
        if (opts["json"]) printJson(summary);
        else {
          const d = report.firstDivergence;
          process.stdout.write(
            `${report.bitExact ? "bit-exact" : "NOT bit-exact"}: ${report.samples} samples, ${report.steps} steps on ${device.description}; ` +
              `output spikes device ${report.outputSpikes}, interpreter ${report.interpreterOutputSpikes}` +
              (report.deviceAccuracy !== null ? `; accuracy device ${(100 * report.deviceAccuracy).toFixed(2)}%, interpreter ${(100 * report.interpreterAccuracy!).toFixed(2)}%` : "") +
              "\n" +
              (d ? `first divergence: sample ${d.sample}, step ${d.step}, layer ${d.layer}, neuron ${d.neuron}: ${d.kind} device ${d.device}, interpreter ${d.interpreter}\n` : "") +
              (report.interrupted ? "interrupted: the verdict covers the steps run before Ctrl-C\n" : ""),
          );
        }
        if (!report.bitExact) process.exitCode = report.interrupted ? 130 : 3;
      } finally {
        interrupt.dispose();
        await device.close();
      }
    });
}
