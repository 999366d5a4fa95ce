/**
 * `picospike build MODEL.cbor --board B --out DIR [--upload] [--json]`: builds the picospike device
 * firmware for a board with the model compiled in (its table in flash), or with `--upload` the
 * generic firmware the model is uploaded to over serial, and reports sizes: code, model data and
 * static RAM. A model that does not fit the board's flash or RAM is DEVICE_MODEL_TOO_LARGE.
 */
import type { Command } from "commander";
import { existsSync, rmSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fail } from "../runtime/errors.js";
import { boardNames, getBoard } from "../firmware-host/boards/boards.js";
import { buildDevice, estimateModelRam } from "../firmware-host/boards/launch.js";
import { plasticRamBytes } from "../firmware-host/bridge/checkpoint.js";
import { decodeTableFile, printJson, readFileOrFail, writeFileAtomic } from "./io.js";
import { writeLibrary } from "./codegen.js";

/** Registers the `build` verb. */
export function register(program: Command): void {
  program
    .command("build")
    .description("build the device firmware for a board (model compiled in, or generic with --upload) and report its sizes")
    .argument("<model>", "event table (.cbor)")
    .option("--board <name>", `board: ${boardNames().join(", ")} (not with --lib)`)
    .requiredOption("--out <dir>", "output folder (firmware image or native executable, size.json)")
    .option("--upload", "build the generic firmware; the model is uploaded over serial at run time")
    .option("--lib", "write the model as a C static library folder (CMake, ESP-IDF, Zephyr, Pico SDK, make; as codegen --target c) instead of firmware")
    .option("--json", "print one JSON object on stdout")
    .action(async (modelPath: string, opts: Record<string, string | boolean | undefined>) => {
      const modelBytes = readFileOrFail(modelPath);
      const table = decodeTableFile(modelPath, modelBytes);
      if (opts["lib"] === true) {
        const out = resolve(String(opts["out"]));
        const files = writeLibrary(table, basename(modelPath), out);
        if (opts["json"]) printJson({ library: out, files });
        else process.stdout.write(`wrote the C library for ${modelPath} to ${out} (${files.length} files; CMake target picospike, see README.md)\n`);
        return;
      }
      if (opts["board"] === undefined) fail("CLI_USAGE", "--board is required (or --lib for a C library folder)");
      const board = getBoard(String(opts["board"]));
      const limits = board.limits;
      const upload = opts["upload"] === true;
      const ram = estimateModelRam(table);
      // learning state (working weights, traces, eligibility) lives in RAM beside the network state (ps_net_plastic_bytes)
      const plasticBytes = plasticRamBytes(table);
      // Everything the model needs in the device's pool: the table itself when uploaded (compiled in, it stays in flash).
      const poolNeed = ram.stateBytes + plasticBytes + ram.arenaBytes + (upload ? modelBytes.length : 0);
      if (poolNeed > limits.poolBytes) {
        fail(
          "DEVICE_MODEL_TOO_LARGE",
          `${modelPath} needs about ${poolNeed} bytes of device RAM (${upload ? `table ${modelBytes.length}, ` : ""}state ${ram.stateBytes}, learning ${plasticBytes}, arena ${ram.arenaBytes}); ` +
            `${board.name} has ${limits.poolBytes} for models${upload ? "; build without --upload to keep the table in flash" : ""}`,
        );
      }
      // Compiled in, the table sits in flash whole: a table larger than the flash cannot fit whatever the
      // code, and saying so needs no compiler (the answer must not depend on which tools are installed).
      if (!upload && board.flashBytes !== undefined && modelBytes.length > board.flashBytes) {
        fail(
          "DEVICE_MODEL_TOO_LARGE",
          `${modelPath} is ${modelBytes.length} bytes compiled in; ${board.name} has ${board.flashBytes} bytes of flash for code and model (quantize to fewer bits, or pick a board with more flash)`,
        );
      }
      const outDir = resolve(String(opts["out"]));
      // A failed build must not leave a half-filled folder behind: remove it if this run created it.
      const outDirIsNew = !existsSync(outDir);
      let build;
      try {
        build = await buildDevice(board.name, { outDir, ...(upload ? {} : { model: modelBytes }) });
      } catch (e) {
        if (outDirIsNew) rmSync(outDir, { recursive: true, force: true });
        throw e;
      }
      const report = {
        board: board.name,
        image: build.image,
        compiledIn: build.compiledIn,
        firmwareHash: build.firmwareHash,
        // code = flash minus the compiled-in table; RAM = .data + .bss (the model pool included), stack on top
        codeBytes: build.size.flash - build.modelBytes,
        modelDataBytes: build.modelBytes,
        flashBytes: build.size.flash,
        flashLimit: board.flashBytes ?? null,
        staticRamBytes: build.size.ram,
        stackBytes: board.stackBytes ?? null,
        ramLimit: board.ramBytes ?? null,
        modelPoolBytes: limits.poolBytes,
        modelRamEstimate: { tableBytes: upload ? modelBytes.length : 0, stateBytes: ram.stateBytes, plasticBytes, arenaBytes: ram.arenaBytes },
        maxInputEvents: limits.maxInputEvents,
        command: build.command,
      };
      writeFileAtomic(join(outDir, "size.json"), JSON.stringify(report, null, 2) + "\n");
      if (opts["json"]) printJson(report);
      else {
        const limit = (n: number | null): string => (n === null ? "" : ` of ${n}`);
        process.stdout.write(
          `built ${build.image} for ${board.name} (${upload ? "generic firmware, model by upload" : "model compiled in"}; firmware hash ${build.firmwareHash})\n` +
            `  flash ${build.size.flash}${limit(report.flashLimit)} bytes: code ${report.codeBytes}, model data ${build.modelBytes}\n` +
            `  RAM   ${build.size.ram}${limit(report.ramLimit)} bytes static (model pool ${limits.poolBytes}; this model needs about ${poolNeed}${plasticBytes > 0 ? `, of which ${plasticBytes} learning state` : ""})` +
            (board.stackBytes === undefined ? "" : ` + ${board.stackBytes} stack`) +
            "\n",
        );
      }
    });
}
