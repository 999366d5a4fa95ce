/**
 * `picospike convert ANN/model.json --out SNN.json`: ANN (tfjs-layers or Keras via the
 * TensorFlow.js converter) → float SNN (spec/float-snn.md), with data-based normalization on
 * calibration images from the training split.
 */
import type { Command } from "commander";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fail } from "../runtime/errors.js";
import { CONVERT_DEFAULTS, convertAnn, parseAnn, type NormMethod } from "../models/convert.js";
import { CALIBRATE_DEFAULTS, CALIBRATION_METHODS, calibrateSnn, type CalibrationMethod } from "../models/calibrate.js";
import { loadDataset } from "../firmware-host/sources/datasets.js";
import { slice } from "../runtime/datasets.js";
import { writeFloatSnn } from "../models/float-snn.js";
import { modelJsonPath } from "../models/io.js";
import { initTf } from "../models/tf.js";
import { intOption, printJson, writeFileAtomic } from "./io.js";
import { calibrationImages } from "../firmware-host/sources/registry.js";

/** Registers the `convert` verb. */
export function register(program: Command): void {
  program
    .command("convert")
    .description("convert an ANN (tfjs-layers model.json, also Keras via tfjs converter) to a float SNN")
    .argument("<model>", "model.json (or the directory holding it)")
    .option("--out <file>", "float SNN JSON to write (weights go beside it as .bin)", "snn.json")
    .option("--norm <method>", "normalization: percentile | max | model", CONVERT_DEFAULTS.norm)
    .option("--percentile <p>", "percentile of positive activations for --norm percentile", String(CONVERT_DEFAULTS.percentile))
    .option("--reset <mode>", "reset after a spike: subtract | zero", CONVERT_DEFAULTS.reset)
    .option("--encoding <enc>", "default input encoding recorded for quantization: current | rate", CONVERT_DEFAULTS.encoding)
    .option("--calibration <n>", "training images used for normalization", "1000")
    .option(
      "--calibrate <method>",
      `calibration for short runs, no retraining: none | shift (bias θ/2T per step: rounding instead of flooring) | bias (shift, then layer-wise bias calibration to the ANN's mean activations, Li et al. 2021); default ${CALIBRATE_DEFAULTS.method}, none with --reset zero`,
    )
    .option(
      "--calibrate-steps <t>",
      "the run length T (steps) the calibration is tuned for: run the table with this many steps (a shift for fewer steps overshoots on longer runs; e.g. 8 for `eval --steps 8`)",
      String(CALIBRATE_DEFAULTS.steps),
    )
    .option(
      "--calibrate-images <n>",
      "calibration images the bias calibration simulates (the first of the --calibration images)",
      String(CALIBRATE_DEFAULTS.images),
    )
    .option("--input-shape <c,h,w>", "shape of a flat vector input (default: square single-channel image)")
    .option("--data-dir <dir>", "IDX dataset directory for calibration instead of the embedded MNIST")
    .option(
      "--calibration-input <source>",
      "calibrate on any input source instead of the training images (nmnist:FILE, aedat:FILE, ndjson:FILE, spikes:FILE, mnist:START:COUNT, random:RATE:SEED; see `picospike run --help`), each sample's mean drive per input taken as its intensity",
    )
    .option("--json", "print one JSON object with the result")
    .action(async (model: string, opts: Record<string, string | boolean | undefined>) => {
      const s = (k: string) => opts[k] as string | undefined;
      const norm = s("norm");
      if (norm !== "percentile" && norm !== "max" && norm !== "model") fail("CLI_USAGE", `--norm must be percentile, max or model, got '${norm}'`);
      const p = Number(s("percentile"));
      if (!(p > 0 && p <= 100)) fail("CLI_USAGE", `--percentile must be in (0, 100], got '${s("percentile")}'`);
      const reset = s("reset");
      if (reset !== "subtract" && reset !== "zero") fail("CLI_USAGE", `--reset must be subtract or zero, got '${reset}'`);
      const encoding = s("encoding");
      if (encoding !== "current" && encoding !== "rate") fail("CLI_USAGE", `--encoding must be current or rate, got '${encoding}'`);
      const calibrate = (s("calibrate") ?? (reset === "subtract" ? CALIBRATE_DEFAULTS.method : "none")) as CalibrationMethod;
      if (!CALIBRATION_METHODS.includes(calibrate)) fail("CLI_USAGE", `--calibrate must be ${CALIBRATION_METHODS.join(", ")}, got '${s("calibrate")}'`);
      const calSteps = intOption("--calibrate-steps", s("calibrateSteps")!, 1, 1024);
      const calImages = intOption("--calibrate-images", s("calibrateImages")!, 1, 1 << 16);
      if (calibrate !== "none" && reset !== "subtract")
        fail(
          "CLI_USAGE",
          `--calibrate ${calibrate} needs --reset subtract (the rounding it corrects is the one of reset by subtraction); use --calibrate none`,
        );
      let inputShape: [number, number, number] | undefined;
      if (s("inputShape") !== undefined) {
        const parts = s("inputShape")!.split(",");
        if (parts.length !== 3) fail("CLI_USAGE", "--input-shape must be C,H,W");
        inputShape = parts.map((x) => intOption("--input-shape", x, 1, 1 << 20)) as [number, number, number];
      }
      await initTf();
      if (existsSync(model) && statSync(model).isFile() && !model.endsWith(".json")) {
        // a file that is not model.json would otherwise be taken for a folder (ENOTDIR on model.json)
        fail(
          "TOOLCHAIN_BAD_MODEL",
          model.endsWith(".cbor")
            ? `${model} is an event table (.cbor), already converted and quantized; convert takes an ANN (tfjs-layers model.json or its folder). Run it with \`picospike run\`, or read it with \`picospike inspect\``
            : `${model} is not a tfjs-layers model.json; convert takes an ANN's model.json or the folder holding it`,
        );
      }
      const jsonPath = modelJsonPath(model);
      const t0 = performance.now();
      const ann = parseAnn(jsonPath, inputShape);
      const annSize = ann.inputShape[0] * ann.inputShape[1] * ann.inputShape[2];
      let images: Uint8Array = new Uint8Array(0);
      let labels: Uint8Array | undefined;
      let count = 0;
      const calInput = s("calibrationInput");
      // Bias calibration simulates calibration images even when normalization is model-based.
      const needImages = norm !== "model" || calibrate === "bias";
      if (needImages && calInput !== undefined) {
        const cal = calibrationImages(calInput, annSize, intOption("--calibration", s("calibration")!, 1, 1 << 20), ann.inputShape);
        images = cal.images;
        count = cal.count;
      } else if (needImages) {
        const data = loadDataset(s("dataDir"));
        if (data.train.height * data.train.width !== annSize) {
          fail(
            "CLI_USAGE",
            `the model takes ${annSize} inputs but the dataset's images have ${data.train.height * data.train.width} pixels; calibrate on its own input with --calibration-input SOURCE`,
          );
        }
        count = Math.min(intOption("--calibration", s("calibration")!, 1, 1 << 20), data.train.count);
        const cal = slice(data.train, 0, count);
        images = cal.pixels;
        labels = cal.labels;
      }
      const result = convertAnn(
        ann,
        images,
        norm === "model" ? 0 : count,
        { norm, percentile: p, reset, encoding, ...(inputShape ? { inputShape } : {}) },
        jsonPath,
        labels,
      );
      const calCount = calibrate === "bias" ? Math.min(calImages, count) : 0;
      const calibrated = calibrateSnn(result.snn, images, calCount, { method: calibrate, steps: calSteps });
      let out = s("out")!;
      if (!out.endsWith(".json")) out = join(out, "snn.json");
      try {
        mkdirSync(dirname(out), { recursive: true });
      } catch (e) {
        fail("CLI_WRITE_FAILED", `cannot create ${dirname(out)}: ${(e as Error).message}`);
      }
      writeFloatSnn(out, calibrated.snn, writeFileAtomic);
      const summary = {
        out,
        layers: result.snn.layers.map((l, i) => ({
          name: l.name,
          kind: l.kind,
          neurons: l.kind === "dense" ? l.outputs : l.outShape[0] * l.outShape[1] * l.outShape[2],
          scale: result.scales[i],
        })),
        norm,
        ...(norm === "percentile" ? { percentile: p } : {}),
        calibrationImages: count,
        calibrate:
          calibrate === "none"
            ? { method: "none" }
            : {
                method: calibrate,
                steps: calSteps,
                images: calCount,
                meanErrorBefore: calibrated.report.meanErrorBefore,
                meanErrorAfter: calibrated.report.meanErrorAfter,
              },
        ...(result.calibrationAnnAccuracy !== undefined ? { calibrationAnnAccuracy: result.calibrationAnnAccuracy } : {}),
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      };
      if (opts["json"]) printJson(summary);
      else {
        process.stdout.write(
          `converted ${jsonPath} → ${out} (${result.snn.layers.length} layers, ${norm}${norm === "percentile" ? ` ${p}` : ""} normalization on ${count} images${calibrate === "none" ? "" : `, ${calibrate} calibration for T=${calSteps}`})\n`,
        );
        for (const l of summary.layers)
          process.stdout.write(`  ${l.name.padEnd(16)} ${l.kind.padEnd(7)} ${String(l.neurons).padStart(7)} neurons  λ=${l.scale!.toPrecision(4)}\n`);
      }
    });
}
