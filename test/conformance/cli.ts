/**
 * `npm run conformance -- --models N --steps M [--seed S]`: the conformance suite's long soak.
 * Prints every mismatch (seed, model, step, layer, neuron, both values) and exits 1 on any.
 */
import { Command } from "commander";
import { qemuSkipReason, runConformance, runQemuConformance } from "./conformance.js";

const opts = new Command("conformance")
  .option("--models <n>", "random models", "200")
  .option("--steps <n>", "steps per model", "1000")
  .option("--seed <n>", "seed of the model and input generator", "1")
  .option("--qemu", "run the C kernels built for Cortex-M4 under QEMU instead of the host build")
  .parse()
  .opts<{ models: string; steps: string; seed: string; qemu?: boolean }>();
const [models, steps, seed] = [Number(opts.models), Number(opts.steps), Number(opts.seed)];
if (![models, steps, seed].every((x) => Number.isInteger(x) && x >= 0)) {
  process.stderr.write("error CLI_USAGE: --models, --steps and --seed take non-negative integers\n");
  process.exit(2);
}
const started = Date.now();
const skip = opts.qemu ? qemuSkipReason() : undefined;
if (skip !== undefined) {
  process.stdout.write(`conformance --qemu: skipped: ${skip}\n`);
  process.exit(0);
}
const report = opts.qemu ? runQemuConformance(models, steps, seed) : runConformance(models, steps, seed);
for (const m of report.mismatches) process.stdout.write(`MISMATCH ${m}\n`);
process.stdout.write(
  `conformance: ${report.models} models x ${report.steps} steps (seed ${seed}), ${report.spikes} spikes, ${report.mismatches.length} mismatches, ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
);
process.exitCode = report.mismatches.length === 0 ? 0 : 1;
