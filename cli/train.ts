/**
 * `picospike train --arch mlp|cnn --out DIR`: trains an ANN with TensorFlow.js on the embedded
 * MNIST split (or --data-dir IDX files) and saves it in the tfjs-layers format (model.json +
 * weights.bin), written atomically.
 * `picospike train --snn --out DIR`: trains a LIF MLP directly by BPTT (models/snn-train.ts) and
 * saves it in the float SNN form (DIR/snn.json + snn.bin) that `picospike quantize` reads.
 */
import type { Command } from "commander";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fail } from "../runtime/errors.js";
import { loadDataset } from "../firmware-host/sources/datasets.js";
import { fileIOHandler } from "../models/io.js";
import { initTf } from "../models/tf.js";
import { TRAIN_DEFAULTS, trainAnn, type Arch } from "../models/train.js";
import { SNN_TRAIN_DEFAULTS, trainSnn, type SnnTrainOptions } from "../models/snn-train.js";
import { writeFloatSnn } from "../models/float-snn.js";
import { intOption, printJson, writeFileAtomic } from "./io.js";

/** Registers the `train` verb. */
export function register(program: Command): void {
  program
    .command("train")
    .description("train an ANN (--arch mlp|cnn; tfjs-layers model.json + weights.bin) or an SNN directly (--snn; float SNN snn.json + snn.bin)")
    .option("--arch <arch>", "mlp (784-256-10) or cnn (conv-avgpool-conv-avgpool-dense); with --snn only mlp")
    .option("--out <dir>", "output directory (created if missing)", "ann, or snn with --snn")
    .option("--data-dir <dir>", "read IDX files (train-images-idx3-ubyte, ...) instead of the embedded MNIST")
    .option("--epochs <n>", "training epochs (default per arch)")
    .option("--batch-size <n>", "batch size")
    .option("--lr <rate>", "initial Adam learning rate")
    .option("--shift <px>", "largest random shift for augmentation, pixels")
    .option("--seed <n>", "seed of shuffling, augmentation and initial weights")
    .option("--snn", "train a LIF MLP SNN directly by backpropagation through time (surrogate gradients)")
    .option("--surrogate <kind>", "with --snn: approx (leak-aware approximate derivative, Lee et al. 2020) or fast-sigmoid", "approx")
    .option("--steps <t>", "with --snn: time steps per sample (BPTT window)", String(SNN_TRAIN_DEFAULTS.steps))
    .option("--hidden <sizes>", "with --snn: hidden LIF layer sizes, comma-separated", SNN_TRAIN_DEFAULTS.hidden.join(","))
    .option("--leak-shift <k>", "with --snn: leak 1 − 2^−k per step (0 = IF)", String(SNN_TRAIN_DEFAULTS.leakShift))
    .option("--slope <beta>", "with --snn and fast-sigmoid: steepness", String(SNN_TRAIN_DEFAULTS.sigmoidSlope))
    .option("--json", "print one JSON object with the results")
    .option("--quiet", "no progress bar")
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      if (opts["snn"]) return trainSnnVerb(opts);
      const arch = opts["arch"] as string | undefined;
      if (arch === undefined) fail("CLI_USAGE", "--arch mlp|cnn is required (or --snn for direct SNN training)");
      if (arch !== "mlp" && arch !== "cnn") fail("CLI_USAGE", `--arch must be mlp or cnn, got '${arch}'`);
      const d = TRAIN_DEFAULTS[arch as Arch];
      const lrRaw = opts["lr"] as string | undefined;
      const lr = lrRaw === undefined ? d.learningRate : Number(lrRaw);
      if (!(lr > 0 && lr < 1)) fail("CLI_USAGE", `--lr must be in (0, 1), got '${lrRaw}'`);
      const str = (k: string) => opts[k] as string | undefined;
      const options = {
        arch: arch as Arch,
        epochs: str("epochs") === undefined ? d.epochs : intOption("--epochs", str("epochs")!, 1, 10000),
        batchSize: str("batchSize") === undefined ? d.batchSize : intOption("--batch-size", str("batchSize")!, 1, 65536),
        learningRate: lr,
        maxShift: str("shift") === undefined ? d.maxShift : intOption("--shift", str("shift")!, 0, 8),
        seed: str("seed") === undefined ? d.seed : intOption("--seed", str("seed")!, 0, 2 ** 31),
        quiet: Boolean(opts["quiet"]),
      };
      const backend = await initTf();
      const data = loadDataset(str("dataDir"));
      const out = str("out") === "ann, or snn with --snn" ? "ann" : str("out")!;
      const outIsNew = makeOutDir(out);
      const result = await removeOnFailure(out, outIsNew, () => trainAnn(data.train, data.test, options));
      await result.model.save(fileIOHandler(join(out, "model.json"), writeFileAtomic));
      const summary = {
        arch,
        model: join(out, "model.json"),
        dataset: data.name,
        backend,
        trainImages: data.train.count,
        testImages: data.test.count,
        testAccuracy: result.testAccuracy,
        seconds: Math.round(result.seconds * 10) / 10,
        epochs: result.history,
      };
      if (opts["json"]) printJson(summary);
      else
        process.stdout.write(
          `${arch}: test accuracy ${(100 * result.testAccuracy).toFixed(2)}% on ${data.test.count} images, ${summary.seconds} s (${backend}); saved ${summary.model}\n`,
        );
    });
}

/** `train --snn`: options → trainSnn → DIR/snn.json (float SNN form). */
async function trainSnnVerb(opts: Record<string, string | boolean | undefined>): Promise<void> {
  const str = (k: string) => opts[k] as string | undefined;
  if (str("arch") !== undefined && str("arch") !== "mlp")
    fail("CLI_USAGE", `--snn trains an MLP only; --arch ${str("arch")} is not available (train an ANN and use \`picospike convert\`)`);
  const surrogate = str("surrogate")!;
  if (surrogate !== "approx" && surrogate !== "fast-sigmoid") fail("CLI_USAGE", `--surrogate must be approx or fast-sigmoid, got '${surrogate}'`);
  const hidden = str("hidden")!
    .split(",")
    .map((h) => intOption("--hidden", h.trim(), 1, 4096));
  if (hidden.length > 8) fail("CLI_USAGE", "--hidden takes at most 8 layer sizes");
  const num = (flag: string, raw: string | undefined, dflt: number) => {
    if (raw === undefined) return dflt;
    const x = Number(raw);
    if (!Number.isFinite(x) || raw.trim() === "") fail("CLI_USAGE", `${flag} must be a number, got '${raw}'`);
    return x;
  };
  const d = SNN_TRAIN_DEFAULTS;
  const lr = num("--lr", str("lr"), d.learningRate);
  if (!(lr > 0 && lr < 1)) fail("CLI_USAGE", `--lr must be in (0, 1), got '${str("lr")}'`);
  const slope = num("--slope", str("slope"), d.sigmoidSlope);
  if (!(slope > 0 && slope <= 1000)) fail("CLI_USAGE", `--slope must be in (0, 1000], got '${str("slope")}'`);
  const options: SnnTrainOptions = {
    hidden,
    steps: intOption("--steps", str("steps")!, 1, 256),
    leakShift: intOption("--leak-shift", str("leakShift")!, 0, 16),
    surrogate,
    sigmoidSlope: slope,
    epochs: str("epochs") === undefined ? d.epochs : intOption("--epochs", str("epochs")!, 1, 10000),
    batchSize: str("batchSize") === undefined ? d.batchSize : intOption("--batch-size", str("batchSize")!, 1, 4096),
    learningRate: lr,
    maxShift: str("shift") === undefined ? d.maxShift : intOption("--shift", str("shift")!, 0, 8),
    seed: str("seed") === undefined ? d.seed : intOption("--seed", str("seed")!, 0, 2 ** 31),
    quiet: Boolean(opts["quiet"]),
  };
  const backend = await initTf();
  const data = loadDataset(str("dataDir"));
  const out = str("out") === "ann, or snn with --snn" ? "snn" : str("out")!;
  const outIsNew = makeOutDir(out);
  const result = await removeOnFailure(out, outIsNew, () => trainSnn(data.train, data.test, options));
  const path = join(out, "snn.json");
  writeFloatSnn(path, result.snn, writeFileAtomic);
  const summary = {
    snn: path,
    architecture: [data.train.height * data.train.width, ...hidden, 10].join("-"),
    surrogate,
    steps: options.steps,
    leakShift: options.leakShift,
    dataset: data.name,
    backend,
    trainImages: data.train.count,
    testImages: data.test.count,
    testAccuracy: result.testAccuracy,
    seconds: Math.round(result.seconds * 10) / 10,
    epochs: result.history,
  };
  if (opts["json"]) printJson(summary);
  else
    process.stdout.write(
      `LIF ${summary.architecture} (${surrogate}, T=${options.steps}): float test accuracy ${(100 * result.testAccuracy).toFixed(2)}% on ${data.test.count} images, ${summary.seconds} s (${backend}); saved ${path}\n`,
    );
}

/** Creates the output folder up front (an unwritable one fails before training); true when this run created it. */
function makeOutDir(out: string): boolean {
  const isNew = !existsSync(out);
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    fail("CLI_WRITE_FAILED", `cannot create ${out}: ${(e as Error).message}`);
  }
  return isNew;
}

/** Runs training; when it fails, removes the output folder this run created so nothing empty or partial is left. */
async function removeOnFailure<T>(out: string, outIsNew: boolean, train: () => Promise<T>): Promise<T> {
  try {
    return await train();
  } catch (e) {
    if (outIsNew) rmSync(out, { recursive: true, force: true });
    throw e;
  }
}
