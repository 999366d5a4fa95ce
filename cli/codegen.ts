/**
 * `picospike codegen MODEL.cbor --target c|ts --out DIR`: `c` writes a self-contained C folder (model
 * as const tables, state sizes as #defines, generated kernels, the C runtime, README) that is also a
 * static library for CMake, ESP-IDF, Zephyr, the Pico SDK and make (picospike.h); `ts` writes a
 * model-specialised TypeScript module (model.ts, the kernels inlined with the table's constants, and
 * the primitives it imports, fixed.ts).
 */
import { mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import { bundleC } from "../codegen/bundle-c.js";
import { emitTsModel } from "../codegen/emit-ts-model.js";
import { packageRoot } from "../firmware-host/boards/package-root.js";
import { PicospikeError } from "../runtime/errors.js";
import type { EventTable } from "../runtime/model.js";
import { decodeTableFile, readFileOrFail, writeFileAtomic } from "./io.js";

/** Writes the `codegen --target c` folder (also a static library, codegen/library-c.ts) for `table` into `out`; returns the file names. */
export function writeLibrary(table: EventTable, source: string, out: string): string[] {
  const files = bundleC(table, source, packageRoot());
  writeFiles(files, out);
  return files.map(([name]) => name);
}

function writeFiles(files: ReadonlyArray<readonly [string, string]>, out: string): void {
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new PicospikeError("CLI_WRITE_FAILED", `cannot create ${out}: ${(e as Error).message}`);
  }
  for (const [name, contents] of files) {
    const path = join(out, name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, contents);
  }
}

/** Registers the `codegen` verb. */
export function register(program: Command): void {
  program
    .command("codegen")
    .description("emit a model-specialised C folder (const tables, kernels, runtime, README) or TypeScript module for a .cbor event table")
    .argument("<model>", "event table (.cbor)")
    .requiredOption("--target <target>", "c | ts")
    .requiredOption("--out <dir>", "output folder (created)")
    .action((model: string, opts: { target: string; out: string }) => {
      if (opts.target !== "c" && opts.target !== "ts")
        throw new PicospikeError("CODEGEN_UNSUPPORTED", `unknown target '${opts.target}' (this build emits: c, ts)`);
      const table = decodeTableFile(model, readFileOrFail(model));
      const files = opts.target === "c" ? bundleC(table, basename(model), packageRoot()) : emitTsModel(table, basename(model), packageRoot());
      writeFiles(files, opts.out);
      process.stdout.write(`wrote ${files.length} files to ${opts.out}\n`);
    });
}
