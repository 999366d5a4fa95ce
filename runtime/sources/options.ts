/**
 * The detail of a file or port source: `PATH,key=value,key=value` (spec/input-formats.md §7), and
 * its option values checked against their ranges. Every mistake is CLI_BAD_SOURCE naming the kind.
 */
import { fail } from "../errors.js";

/** Splits `PATH,key=value,key=value` into the path and its options (a comma not followed by `key=` stays in the path). */
export function splitDetail(kind: string, detail: string, known: readonly string[]): { path: string; options: Map<string, string> } {
  const options = new Map<string, string>();
  const m = /,(?=[a-z-]+=)/.exec(detail);
  const path = m ? detail.slice(0, m.index) : detail;
  if (m) {
    for (const part of detail.slice(m.index + 1).split(",")) {
      const eq = part.indexOf("=");
      const key = part.slice(0, eq);
      if (eq < 0 || !known.includes(key)) fail("CLI_BAD_SOURCE", `${kind}: unknown option '${part}'; known: ${known.join(", ")}`);
      if (options.has(key)) fail("CLI_BAD_SOURCE", `${kind}: option ${key} given twice`);
      options.set(key, part.slice(eq + 1));
    }
  }
  if (path === "") fail("CLI_BAD_SOURCE", `${kind} source needs a path: ${kind}:PATH[,key=value...]`);
  return { path, options };
}

/** The integer option `key` in lo..hi, or undefined when not given. */
export function intOpt(kind: string, options: Map<string, string>, key: string, lo: number, hi: number): number | undefined {
  const raw = options.get(key);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < lo || v > hi) fail("CLI_BAD_SOURCE", `${kind}: ${key} must be an integer in ${lo}..${hi}, got '${raw}'`);
  return v;
}

/** The finite number option `key` at least `lo`, or undefined when not given. */
export function numOpt(kind: string, options: Map<string, string>, key: string, lo: number): number | undefined {
  const raw = options.get(key);
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < lo) fail("CLI_BAD_SOURCE", `${kind}: ${key} must be a number ≥ ${lo}, got '${raw}'`);
  return v;
}

/** The option `key`, one of `choices`, or undefined when not given. */
export function choiceOpt<T extends string>(kind: string, options: Map<string, string>, key: string, choices: readonly T[]): T | undefined {
  const raw = options.get(key);
  if (raw === undefined) return undefined;
  if (!(choices as readonly string[]).includes(raw)) fail("CLI_BAD_SOURCE", `${kind}: ${key} must be one of ${choices.join(", ")}, got '${raw}'`);
  return raw as T;
}
