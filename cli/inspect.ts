/**
 * `picospike inspect FILE [--json]`: decodes and validates an event table and prints its layers,
 * neurons, synapses, bytes, bytes per synapse, hash and design warnings.
 */
import type { Command } from "commander";
import { summarizeTable, type TableSummary } from "../runtime/inspect.js";
import { decodeTableFile, printJson, readFileOrFail } from "./io.js";

/** Renders rows as left-aligned text columns (numbers right-aligned). */
function columns(rows: readonly (readonly string[])[], numeric: readonly boolean[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function fixed(x: number | null, digits: number): string {
  return x === null ? "-" : x.toFixed(digits);
}

/** The human-readable report of `inspect`. */
export function formatSummary(file: string, s: TableSummary): string {
  const rows: string[][] = [["#", "name", "kind", "model", "neurons", "synapses", "bits", "weight B", "index B", "bytes"]];
  for (const l of s.layers) {
    rows.push([
      String(l.index),
      l.name,
      l.kind + (l.recurrentKind ? `+rec:${l.recurrentKind}` : "") + (l.plastic ? " (plastic)" : ""),
      l.neuronModel,
      String(l.neurons),
      String(l.synapses),
      l.weightBits === null ? "-" : String(l.weightBits),
      String(l.weightBytes),
      String(l.indexBytes),
      String(l.bytes),
    ]);
  }
  rows.push([
    "",
    "total",
    "",
    "",
    String(s.totals.neurons),
    String(s.totals.synapses),
    "",
    String(s.totals.weightBytes),
    String(s.totals.indexBytes),
    String(s.fileBytes),
  ]);
  const lines = [
    `${file}: event table, ${s.layers.length} layer(s), ${s.fileBytes} bytes`,
    `hash    ${s.hash}`,
    `input   ${s.input.size}${s.input.shape ? ` [${s.input.shape.join("x")}]` : ""}, ${s.input.encoding} encoding; readout ${s.readout}`,
    "",
    columns(rows, [true, false, false, false, true, true, true, true, true, true]),
    "",
    `bytes per synapse: ${fixed(s.bytesPerSynapse.weightPayload, 3)} (weights), ${fixed(s.bytesPerSynapse.file, 3)} (whole file)`,
  ];
  for (const l of s.layers) {
    if (l.neuronRules.length > 0) lines.push(`layer ${l.index} neurons: ${l.neuronRules.join("; ")}`);
    if (l.learning !== null) lines.push(`layer ${l.index} learns: ${l.learning}`);
  }
  if (s.warnings.length === 0) lines.push("warnings: none");
  else lines.push(`warnings (${s.warnings.length}):`, ...s.warnings.map((w) => `  - ${w}`));
  return lines.join("\n") + "\n";
}

/** Registers the `inspect` verb. */
export function register(program: Command): void {
  program
    .command("inspect")
    .description("summary of a .cbor event table: layers, neurons, synapses, bytes, bytes/synapse, hash, warnings")
    .argument("<file>", "event table (.cbor)")
    .option("--json", "print one JSON object on stdout")
    .action((file: string, opts: { json?: boolean }) => {
      const bytes = readFileOrFail(file);
      const summary = summarizeTable(decodeTableFile(file, bytes), bytes);
      if (opts.json) printJson({ file, ...summary });
      else process.stdout.write(formatSummary(file, summary));
    });
}
