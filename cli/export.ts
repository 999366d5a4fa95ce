/**
 * `picospike export MODEL.cbor --to nir --out MODEL.nir [--dt SECONDS] [--json]`: event table →
 * NIR 1.0 (dequantized weights; τ, r and thresholds at the stated dt; picospike's exact integer
 * semantics in each node's metadata). Written to a temporary file and renamed into place.
 */
import { existsSync, renameSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import { fail } from "../runtime/errors.js";
import { decodeTable } from "../runtime/format.js";
import { exportNir } from "../models/nir/export.js";
import { printJson, readFileOrFail } from "./io.js";

/** Registers the `export` verb. */
export function register(program: Command): void {
  program
    .command("export")
    .description("export an event table to NIR (.nir, HDF5) for snnTorch, Norse, sinabs, Rockpool … to read with nir.read")
    .argument("<model>", "event table (.cbor)")
    .option("--to <format>", "interchange format: nir", "nir")
    .option("--out <file>", "file to write", "model.nir")
    .option("--dt <seconds>", "time step the NIR time constants are stated at (one picospike step = dt seconds)", "0.001")
    .option("--json", "print one JSON object: every node written and where it came from")
    .action(async (modelPath: string, opts: { to: string; out: string; dt: string; json?: boolean }) => {
      if (opts.to !== "nir") fail("CLI_USAGE", `--to must be nir, got '${opts.to}'`);
      const dt = Number(opts.dt);
      if (!(dt > 0 && Number.isFinite(dt))) fail("CLI_USAGE", `--dt must be a positive number of seconds, got '${opts.dt}'`);
      const table = decodeTable(readFileOrFail(modelPath));
      const tmp = join(dirname(opts.out), `.${basename(opts.out)}.${process.pid}.tmp`);
      let report;
      try {
        report = await exportNir(table, tmp, dt);
        renameSync(tmp, opts.out);
      } catch (e) {
        if (existsSync(tmp)) unlinkSync(tmp);
        if (e instanceof Error && !("code" in e && typeof (e as { num?: unknown }).num === "number") && /EACCES|ENOENT|EISDIR|unable to/i.test(e.message)) {
          fail("CLI_WRITE_FAILED", `cannot write ${opts.out}: ${e.message.split("\n")[0]}`);
        }
        throw e;
      }
      if (opts.json) printJson({ model: modelPath, out: opts.out, format: "nir", ...report });
      else
        process.stdout.write(
          `exported ${modelPath} → ${opts.out} (NIR, dt ${dt} s): ${report.nodes.length} nodes, ${report.edges.length} edges\n${report.nodes.map((n) => `  ${n.node} | ${n.type} | ${n.from}`).join("\n")}\n`,
        );
    });
}
