/** Assertions on what a CLI run left, per the CLI contract (README: one error line, no stack trace). */
import { expect } from "vitest";
import type { Run } from "./installed.js";

/** The run failed with `error CODE: ...` as its one stderr line, no stack trace; returns the message. */
export function expectError(run: Run, code: string, status?: number): string {
  const lines = run.stderr.trimEnd().split("\n");
  const last = lines[lines.length - 1] ?? "";
  expect(run.status, run.stderr).not.toBe(0);
  if (status !== undefined) expect(run.status, run.stderr).toBe(status);
  expect(last, run.stderr).toMatch(new RegExp(`^error ${code}: `));
  expect(run.stderr).not.toMatch(/\n\s+at /);
  return last.slice(`error ${code}: `.length);
}

/** The run succeeded. */
export function expectOk(run: Run): void {
  expect(run.status, run.stderr).toBe(0);
}
