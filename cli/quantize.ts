/**
 * `picospike quantize SNN.json --weight-bits 8|4|16 [--per-channel] --out MODEL.cbor`: float SNN →
 * integer event table, with design-rule checks (warnings on stderr, errors as
 * TOOLCHAIN_QUANTIZE_RULE), written atomically through runtime/format's encoder.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { encodeTable } from "../runtime/format.js";
import { fail } from "../runtime/errors.js";
import { connectionSynapses } from "../runtime/format.js";
import { loadDataset } from "../firmware-host/sources/datasets.js";
import { slice } from "../runtime/datasets.js";
import { readFloatSnn } from "../models/float-snn.js";
import { calibrationStats, quantizeSnn } from "../models/quantize.js";
import { initTf } from "../models/tf.js";
import { intOption, printJson, writeFileAtomic } from "./io.js";
import { calibrationImages } from "../firmware-host/sources/registry.js";

/** Registers the `quantize` verb. */
export function register(program: Command): void {
  program
    .command("quantize")
    .description("quantize a float SNN (from convert) to a .cbor event table")
    .argument("<snn>", "float SNN JSON written by `picospike convert` (or the folder holding its snn.json)")
    .option("--weight-bits <bits>", "stored weight width: 8, 4 or 16", "8")
    .option("--per-channel", "one weight shift per output channel instead of per layer")
    .option("--encoding <enc>", "input encoding of the table: current | rate (default: the float SNN's)")
    .option("--seed <n>", "seed of the rate encoder's PRNG (nonzero uint32)", "1")
    .option("--calibration <n>", "training images simulated in float for the saturation check (0 = skip)", "64")
    .option("--calibration-steps <t>", "steps of that simulation", "32")
    .option("--data-dir <dir>", "IDX dataset directory for calibration instead of the embedded MNIST")
    .option(
      "--calibration-input <source>",
      "simulate on any input source instead of the training images (nmnist:FILE, aedat:FILE, ndjson:FILE, spikes:FILE, mnist:START:COUNT, random:RATE:SEED), each sample's mean drive per input taken as its intensity",
    )
    .option("--out <file>", "event table to write", "model.cbor")
    .option("--json", "print one JSON object with the result")
    .action(async (snnPath: string, opts: Record<string, string | boolean | undefined>) => {
      const s = (k: string) => opts[k] as string | undefined;
      const bitsRaw = s("weightBits");
      if (bitsRaw !== "4" && bitsRaw !== "8" && bitsRaw !== "16") fail("CLI_USAGE", `--weight-bits must be 4, 8 or 16, got '${bitsRaw}'`);
      const encoding = s("encoding");
      if (encoding !== undefined && encoding !== "current" && encoding !== "rate") fail("CLI_USAGE", `--encoding must be current or rate, got '${encoding}'`);
      const seed = intOption("--seed", s("seed")!, 1, 0xffffffff);
      const calCount = intOption("--calibration", s("calibration")!, 0, 1 << 16);
      const calSteps = intOption("--calibration-steps", s("calibrationSteps")!, 1, 10000);
      const t0 = performance.now();
      // `convert --out DIR` writes DIR/snn.json: take the folder as convert takes an ANN's folder
      const snnFile = existsSync(snnPath) && statSync(snnPath).isDirectory() ? join(snnPath, "snn.json") : snnPath;
      const snn = readFloatSnn(snnFile);
      const enc = (encoding ?? snn.input.encoding) as "current" | "rate";
      let calibration;
      const calInput = s("calibrationInput");
      if (calCount > 0 && calInput !== undefined) {
        await initTf();
        const cal = calibrationImages(calInput, snn.input.shape[0] * snn.input.shape[1] * snn.input.shape[2], calCount, snn.input.shape);
        calibration = calibrationStats(snn, cal.images, cal.count, calSteps, enc);
      } else if (calCount > 0) {
        await initTf();
        const data = loadDataset(s("dataDir"));
        const [c, h, w] = snn.input.shape;
        if (data.train.height * data.train.width !== c * h * w)
          fail(
            "CLI_USAGE",
            `the SNN takes ${c * h * w} inputs but the dataset's images have ${data.train.height * data.train.width} pixels; calibrate on its own input with --calibration-input SOURCE`,
          );
        const n = Math.min(calCount, data.train.count);
        calibration = calibrationStats(snn, slice(data.train, 0, n).pixels, n, calSteps, enc);
      }
      const result = quantizeSnn(
        snn,
        { weightBits: Number(bitsRaw) as 4 | 8 | 16, perChannel: Boolean(opts["perChannel"]), encoding: enc, seed, source: snnFile },
        calibration,
      );
      const bytes = encodeTable(result.table);
      const out = s("out")!;
      writeFileAtomic(out, bytes);
      const synapses = result.table.layers.reduce((sum, l) => sum + connectionSynapses(l.input), 0);
      for (const f of result.findings) process.stderr.write(`warning ${f.rule}: ${f.message}\n`);
      const summary = {
        out,
        bytes: bytes.length,
        synapses,
        bytesPerSynapse: synapses > 0 ? bytes.length / synapses : 0,
        weightBits: Number(bitsRaw),
        perChannel: Boolean(opts["perChannel"]),
        encoding: enc,
        layerScales: result.scales,
        warnings: result.findings,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
      };
      if (opts["json"]) printJson(summary);
      else
        process.stdout.write(
          `quantized ${snnPath} → ${out}: ${bytes.length} bytes, ${synapses} synapses (${summary.bytesPerSynapse.toFixed(3)} bytes/synapse), int${bitsRaw}${summary.perChannel ? " per-channel" : ""}, ${enc} input, ${result.findings.length} warnings\n`,
        );
    });
}
