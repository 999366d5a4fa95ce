/**
 * `picospike train --arch mlp|cnn --out DIR`: trains an ANN with TensorFlow.js on the embedded
 * MNIST split (or --data-dir IDX files) and saves it in the tfjs-layers format (model.json +
 * weights.bin), written atomically.
 */
import type { Command } from "commander";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fail } from "../runtime/errors.js";
import { loadDataset } from "../models/datasets.js";
import { fileIOHandler } from "../models/io.js";
import { initTf } from "../models/tf.js";
import { TRAIN_DEFAULTS, trainAnn, type Arch } from "../models/train.js";
import { intOption, printJson, writeFileAtomic } from "./io.js";

/** Registers the `train` verb. */
export function register(program: Command): void {
  program
    .command("train")
    .description("train an ANN (--arch mlp|cnn) with TensorFlow.js; saves tfjs-layers model.json + weights.bin")
    .requiredOption("--arch <arch>", "mlp (784-256-10) or cnn (conv-avgpool-conv-avgpool-dense)")
    .option("--out <dir>", "output directory (created if missing)", "ann")
    .option("--data-dir <dir>", "read IDX files (train-images-idx3-ubyte, ...) instead of the embedded MNIST")
    .option("--epochs <n>", "training epochs (default per arch)")
    .option("--batch-size <n>", "batch size")
    .option("--lr <rate>", "initial Adam learning rate")
    .option("--shift <px>", "largest random shift for augmentation, pixels")
    .option("--seed <n>", "seed of shuffling, augmentation and initial weights")
    .option("--snn", "train an SNN directly (not in this build)")
    .option("--json", "print one JSON object with the results")
    .option("--quiet", "no progress bar")
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      if (opts["snn"]) fail("CLI_USAGE", "direct SNN training (--snn) is not available in this build yet; train an ANN and use `picospike convert`");
      const arch = opts["arch"] as string;
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
      const out = str("out")!;
      try {
        mkdirSync(out, { recursive: true });
      } catch (e) {
        fail("CLI_WRITE_FAILED", `cannot create ${out}: ${(e as Error).message}`);
      }
      const result = await trainAnn(data.train, data.test, options);
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
      else process.stdout.write(`${arch}: test accuracy ${(100 * result.testAccuracy).toFixed(2)}% on ${data.test.count} images, ${summary.seconds} s (${backend}); saved ${summary.model}\n`);
    });
}
