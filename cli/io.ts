/**
 * File and console helpers every verb uses, so that outputs are never half-written and
 * `--json` prints exactly one object.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fail } from "../runtime/errors.js";
import { decodeTable } from "../runtime/format.js";
import type { EventTable } from "../runtime/model.js";

/**
 * Writes a file atomically: to a temporary sibling, fsync, then rename over the target. A crash or
 * error leaves either the old file or the new one, never a partial file.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "w");
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    // best effort: the temporary may not be ours to remove (e.g. a directory in the way)
    try {
      if (existsSync(tmp)) unlinkSync(tmp);
    } catch {
      /* the error below names the real failure */
    }
    fail("CLI_WRITE_FAILED", `cannot write ${path}: ${(e as Error).message}`);
  }
}

/** Reads a whole file, turning a missing or unreadable file into CLI_FILE_NOT_FOUND (the input sources' reader). */
export { readFileOrFail } from "../firmware-host/sources/read.js";

/** Prints one machine-readable JSON object on stdout (the `--json` contract). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** Parses an integer option, failing with CLI_USAGE when it is not an integer in [min, max]. */
export function intOption(name: string, raw: string, min: number, max: number): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min || v > max) fail("CLI_USAGE", `${name} must be an integer in ${min}..${max}, got '${raw}'`);
  return v;
}

/** Steps per sample when a model says nothing and `--steps` is not given. */
export const DEFAULT_STEPS = 32;

/**
 * The steps per sample of `run` and `eval`: `--steps` when given, else the T the model's biases were
 * calibrated for (`convert --calibrate-steps`, recorded in its provenance as `calibrateSteps`, or
 * `convert.calibrateSteps` once quantized), else 32. A calibrated model run at another length is
 * allowed but noted on stderr: its per-step bias shift was sized for its own T, and over- or
 * undershoots at another (docs/ACCURACY.md).
 */
export function stepsOption(raw: string | undefined, settings: Readonly<Record<string, unknown>>, max: number): number {
  const recorded = settings["convert.calibrateSteps"] ?? settings["calibrateSteps"];
  const method = settings["convert.calibrate"] ?? settings["calibrate"];
  const calibrated = typeof recorded === "number" && Number.isInteger(recorded) && recorded >= 1 && recorded <= max && method !== "none" ? recorded : undefined;
  if (raw === undefined) return calibrated ?? DEFAULT_STEPS;
  const steps = intOption("--steps", raw, 1, max);
  if (calibrated !== undefined && steps !== calibrated)
    process.stderr.write(
      `note: the model was calibrated for T=${calibrated} (convert --calibrate-steps); at --steps ${steps} its bias shift is sized for another length\n`,
    );
  return steps;
}

/**
 * Decodes the event table read from `path`. A JSON file (a float SNN from `convert`, or an ANN's
 * model.json) starts with `{`, which CBOR reads as a text string of impossible length: say what the
 * file is and which verb takes it instead of reporting that length.
 */
export function decodeTableFile(path: string, bytes: Uint8Array): EventTable {
  let first = 0;
  while (first < bytes.length && (bytes[first] === 0x20 || bytes[first] === 0x0a || bytes[first] === 0x0d || bytes[first] === 0x09)) first++;
  if (bytes[first] === 0x7b) {
    const text = new TextDecoder().decode(bytes.subarray(first, Math.min(bytes.length, first + 4096)));
    const what = /"format"\s*:\s*"picospike-float-snn"/.test(text)
      ? "a float SNN JSON (from `picospike convert`); quantize it to an event table first: `picospike quantize " + path + " --out model.cbor`"
      : /"modelTopology"/.test(text)
        ? "an ANN's model.json; convert and quantize it first (`picospike convert`, then `picospike quantize`)"
        : "a JSON file; this verb takes an event table (.cbor) written by `picospike quantize`";
    fail("FORMAT_NOT_EVENT_TABLE", `${path} is ${what}`);
  }
  return decodeTable(bytes);
}
