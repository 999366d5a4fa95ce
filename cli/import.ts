/**
 * `picospike import MODEL.nir --out SNN.json [--from auto|snntorch|norse|sinabs|rockpool|nir]
 * [--dt S] [--reset …] [--compare gt|ge] [--initial zero|v_leak] [--multi-spike|--no-multi-spike]
 * [--v-min X|none|-threshold] [--json]`: NIR → float SNN, printing how every node was mapped and
 * every assumption with its source (file, dialect, flag, default).
 */
import type { Command } from "commander";
import { fail } from "../runtime/errors.js";
import { writeFloatSnn } from "../models/float-snn.js";
import { DIALECTS, importNir, type Dialect, type ImportOptions, type ImportReport } from "../models/nir/import.js";
import { printJson, writeFileAtomic } from "./io.js";

function parseOptions(opts: Record<string, string | boolean | undefined>): ImportOptions {
  const s = (k: string): string | undefined => opts[k] as string | undefined;
  const from = s("from") ?? "auto";
  if (from !== "auto" && !DIALECTS.includes(from as Dialect)) fail("CLI_USAGE", `--from must be auto or one of ${DIALECTS.join(", ")}, got '${from}'`);
  const out: { -readonly [K in keyof ImportOptions]: ImportOptions[K] } = { from: from as ImportOptions["from"] };
  if (s("dt") !== undefined) {
    const dt = Number(s("dt"));
    if (!(dt > 0 && Number.isFinite(dt))) fail("CLI_USAGE", `--dt must be a positive number of seconds, got '${s("dt")}'`);
    out.dt = dt;
  }
  const reset = s("reset");
  if (reset !== undefined) {
    if (!["subtract", "subtract-delayed", "zero", "value"].includes(reset))
      fail("CLI_USAGE", `--reset must be subtract, subtract-delayed, zero or value, got '${reset}'`);
    out.reset = reset as NonNullable<ImportOptions["reset"]>;
  }
  const cmp = s("compare");
  if (cmp !== undefined) {
    if (cmp !== "gt" && cmp !== "ge") fail("CLI_USAGE", `--compare must be gt (v > θ) or ge (v ≥ θ), got '${cmp}'`);
    out.compare = cmp;
  }
  const init = s("initial");
  if (init !== undefined) {
    if (init !== "zero" && init !== "v_leak") fail("CLI_USAGE", `--initial must be zero or v_leak, got '${init}'`);
    out.initial = init;
  }
  if (opts["multiSpike"] !== undefined) out.multiSpike = Boolean(opts["multiSpike"]);
  const vMin = s("vMin");
  if (vMin !== undefined) {
    if (vMin === "none" || vMin === "-threshold") out.vMin = vMin;
    else if (Number.isFinite(Number(vMin)) && vMin.trim() !== "") out.vMin = Number(vMin);
    else fail("CLI_USAGE", `--v-min must be a number, none or -threshold, got '${vMin}'`);
  }
  return out;
}

function printHuman(report: ImportReport, inPath: string, outPath: string, layers: number): void {
  const lines: string[] = [];
  lines.push(`imported ${inPath} (NIR ${report.nirVersion ?? "version not stated"}) → ${outPath}: ${layers} layers`);
  lines.push(`dialect: ${report.dialect} (${report.dialectSource === "flag" ? "from --from" : "detected"})`);
  for (const r of report.fingerprints) lines.push(`  because ${r}`);
  for (const a of report.global) lines.push(`${a.what}: ${a.value} [${a.source}]`);
  lines.push("");
  lines.push("node | type | mapped to | assumptions [source]");
  for (const n of report.nodes) {
    lines.push(`${n.node} | ${n.type} | ${n.mappedTo} | ${n.assumptions.map((a) => `${a.what}: ${a.value} [${a.source}]`).join("; ") || "-"}`);
  }
  process.stdout.write(lines.join("\n") + "\n");
}

/** Registers the `import` verb. */
export function register(program: Command): void {
  program
    .command("import")
    .description("import a NIR model (.nir from snnTorch, Norse, sinabs, Rockpool …) as a float SNN that quantize takes")
    .argument("<model>", "NIR file (.nir, HDF5)")
    .option("--out <file>", "float SNN JSON to write (its weights go beside it as .bin)", "snn.json")
    .option(
      "--from <dialect>",
      `how the writer's simulator reads its parameters: auto (detect from the file's fingerprints) | ${DIALECTS.join(" | ")} (nir: the equations literally, forward Euler)`,
      "auto",
    )
    .option("--dt <seconds>", "time step (default: the dialect's own: snntorch 1e-4, norse 1e-3, sinabs 1, rockpool 1e-3; nir 1e-3)")
    .option("--reset <kind>", "reset after a spike: subtract | subtract-delayed (snnTorch) | zero | value (the file's v_reset)")
    .option("--compare <op>", "threshold test: gt (v > θ) | ge (v ≥ θ)")
    .option("--initial <state>", "membrane at the start of a sample: zero | v_leak")
    .option("--multi-spike", "n = floor(v/θ) spikes per step with n·θ subtracted")
    .option("--no-multi-spike", "at most one spike per step")
    .option("--v-min <x>", "membrane floor after reset: a number | none | -threshold")
    .option("--json", "print one JSON object: the mapping report (every node, every assumption and its source)")
    .action(async (modelPath: string, opts: Record<string, string | boolean | undefined>) => {
      const options = parseOptions(opts);
      const { snn, report } = await importNir(modelPath, options);
      const out = opts["out"] as string;
      writeFloatSnn(out, snn, writeFileAtomic);
      if (opts["json"])
        printJson({
          model: modelPath,
          out,
          layers: snn.layers.map((l) => ({ name: l.name, kind: l.kind, model: l.neuron.model })),
          readout: snn.readout,
          ...report,
        });
      else printHuman(report, modelPath, out, snn.layers.length);
    });
}
