/**
 * `picospike codegen MODEL.cbor --target c|ts --out DIR`: `c` writes a self-contained C folder (model
 * as const tables, state sizes as #defines, generated kernels, the C runtime, README); `ts` writes a
 * model-specialised TypeScript module (model.ts, the kernels inlined with the table's constants, and
 * the primitives it imports, fixed.ts).
 */
import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import type { Command } from "commander";
import { bundleC } from "../codegen/bundle-c.js";
import { emitTsModel } from "../codegen/emit-ts-model.js";
import { packageRoot } from "../firmware-host/boards/package-root.js";
import { PicospikeError } from "../runtime/errors.js";
import { decodeTableFile, readFileOrFail, writeFileAtomic } from "./io.js";

/** Registers the `codegen` verb. */
export function register(program: Command): void {
  program
    .command("codegen")
    .description("emit a model-specialised C folder (const tables, kernels, runtime, README) or TypeScript module for a .cbor event table")
    .argument("<model>", "event table (.cbor)")
    .requiredOption("--target <target>", "c | ts")
    .requiredOption("--out <dir>", "output folder (created)")
    .action((model: string, opts: { target: string; out: string }) => {
      if (opts.target !== "c" && opts.target !== "ts") throw new PicospikeError("CODEGEN_UNSUPPORTED", `unknown target '${opts.target}' (this build emits: c, ts)`);
      const table = decodeTableFile(model, readFileOrFail(model));
      const root = packageRoot();
      const files = opts.target === "c" ? bundleC(table, basename(model), root) : emitTsModel(table, basename(model), root);
      try {
        mkdirSync(opts.out, { recursive: true });
      } catch (e) {
        throw new PicospikeError("CLI_WRITE_FAILED", `cannot create ${opts.out}: ${(e as Error).message}`);
      }
      for (const [name, contents] of files) writeFileAtomic(join(opts.out, name), contents);
      process.stdout.write(`wrote ${files.length} files to ${opts.out}\n`);
    });
}
