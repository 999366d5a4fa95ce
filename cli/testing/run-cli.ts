/**
 * The built CLI run as a user runs it, for the CLI tests: `node bin/picospike.js ARGS` from the package
 * root (build it first with scripts/build.mjs), its exit status and both output streams as text.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";

/** The package root (holds bin/picospike.js). */
export const PACKAGE_ROOT = join(import.meta.dirname, "../..");

/** What one CLI run left: exit status (null when killed, e.g. by the timeout) and its output. */
export interface CliResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built CLI with `args` from the package root; `timeoutMs` kills a run that hangs (default: none). */
export function runCli(args: readonly string[], timeoutMs?: number): CliResult {
  const r = spawnSync(process.execPath, [join(PACKAGE_ROOT, "bin/picospike.js"), ...args], {
    encoding: "utf8",
    cwd: PACKAGE_ROOT,
    ...(timeoutMs === undefined ? {} : { timeout: timeoutMs }),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Bundles the CLI (scripts/build.mjs) so runCli runs the current sources. */
export function buildCli(): void {
  execFileSync(process.execPath, [join(PACKAGE_ROOT, "scripts/build.mjs")], { cwd: PACKAGE_ROOT });
}
