import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TASKS } from "../models/learning/tasks.js";
import { buildCli, runCli, type CliResult } from "./testing/run-cli.js";

let dir = "";

function picospike(...args: string[]): CliResult {
  return runCli(args);
}

/** The CLI contract for failures: one `error CODE: message` line on stderr, nothing on stdout, no stack. */
function expectOneErrorLine(r: { stdout: string; stderr: string }, code: string): void {
  expect(r.stdout).toBe("");
  const lines = r.stderr.split("\n").filter((l) => l !== "");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^error ${code}: `));
  expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+/);
}

beforeAll(() => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), "picospike-learn-"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("picospike learn", () => {
  it("--list names every rule and task, as text and as JSON", () => {
    const text = picospike("learn", "--list");
    expect(text.status).toBe(0);
    for (const t of TASKS) expect(text.stdout).toMatch(new RegExp(`^${t.rule}\\s+${t.task}\\s`, "m"));
    const json = picospike("learn", "--list", "--json");
    expect(json.status).toBe(0);
    const out = JSON.parse(json.stdout) as { tasks: Array<{ rule: string; task: string; needsDigits: boolean }> };
    expect(out.tasks.map((t) => `${t.rule}/${t.task}`)).toEqual(TASKS.map((t) => `${t.rule}/${t.task}`));
    expect(out.tasks.find((t) => t.rule === "diehl-cook")?.needsDigits).toBe(true);
  });

  it("--json on a quick task prints the figure, the published reference, the verdict and the plot it wrote", () => {
    const out = join(dir, "pair");
    const r = picospike("learn", "--rule", "pair-stdp", "--json", "--out", out);
    expect(r.status).toBe(0);
    const res = JSON.parse(r.stdout) as {
      rule: string;
      task: string;
      figure: { name: string; value: number; unit: string };
      reference: { source: string; value: string; check: string };
      passed: boolean;
      files: string[];
      seed: number;
    };
    expect(res.rule).toBe("pair-stdp");
    expect(res.task).toBe("window");
    expect(res.seed).toBe(1);
    expect(res.figure.unit).toBe("ms");
    expect(res.figure.value).toBeCloseTo(20, 6); // the fitted window time constant equals the configured one
    expect(res.reference.source).toMatch(/Bi & Poo/);
    expect(res.reference.check.length).toBeGreaterThan(0);
    expect(res.passed).toBe(true);
    expect(res.files.length).toBeGreaterThan(0);
    for (const f of res.files) expect(existsSync(f)).toBe(true);
  });

  it("prints the verdict as text without --json", () => {
    const r = picospike("learn", "--rule", "triplet-stdp", "--out", join(dir, "triplet"));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^triplet-stdp\/pairing-frequency: /);
    expect(r.stdout).toMatch(/check: .*: PASS$/m);
  });

  it("rejects an unknown rule with CLI_USAGE listing the rules, exit 2 (every usage error), no stack trace", () => {
    const r = picospike("learn", "--rule", "backprop-by-magic");
    expect(r.status).toBe(2);
    expectOneErrorLine(r, "CLI_USAGE");
    expect(r.stderr).toContain("unknown rule 'backprop-by-magic'");
    expect(r.stderr).toContain("pair-stdp");
  });

  it("rejects an unknown task and a missing task of a multi-task rule with CLI_USAGE", () => {
    const bad = picospike("learn", "--rule", "tempotron", "--task", "juggling");
    expect(bad.status).toBe(2);
    expectOneErrorLine(bad, "CLI_USAGE");
    expect(bad.stderr).toContain("tasks: random-patterns, capacity");
    const missing = picospike("learn", "--rule", "tempotron");
    expect(missing.status).toBe(2);
    expectOneErrorLine(missing, "CLI_USAGE");
    expect(missing.stderr).toContain("pass --task");
  });

  it("rejects a missing --rule and a bad seed with CLI_USAGE", () => {
    const none = picospike("learn");
    expect(none.status).toBe(2);
    expectOneErrorLine(none, "CLI_USAGE");
    const seed = picospike("learn", "--rule", "pair-stdp", "--seed", "minus-one");
    expect(seed.status).not.toBe(0);
    expectOneErrorLine(seed, "CLI_USAGE");
  });

  it("--help describes the verb and its options", () => {
    const r = picospike("learn", "--help");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("Usage: picospike learn");
    for (const option of ["--list", "--rule", "--task", "--out", "--seed", "--quick", "--json"]) expect(r.stdout).toContain(option);
  });
});
