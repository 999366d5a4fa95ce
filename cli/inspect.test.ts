import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTable, hashOfTable } from "../runtime/format.js";
import { randomTable } from "../runtime/testing/random-table.js";
import { buildCli, runCli, type CliResult } from "./testing/run-cli.js";

let dir = "";

function picospike(...args: string[]): CliResult {
  return runCli(args);
}

beforeAll(() => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), "picospike-inspect-"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("picospike inspect", () => {
  const table = randomTable(11, { kinds: ["conv2d", "pool", "sparse", "dense"] });
  const bytes = encodeTable(table);

  it("prints one JSON object with layers, synapses, bytes per synapse and the hash", () => {
    const file = join(dir, "model.cbor");
    writeFileSync(file, bytes);
    const r = picospike("inspect", file, "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.hash).toBe(hashOfTable(table));
    expect(out.fileBytes).toBe(bytes.length);
    expect(out.layers.map((l: { kind: string }) => l.kind)).toEqual(["conv2d", "pool", "sparse", "dense"]);
    expect(out.layers.map((l: { neurons: number }) => l.neurons)).toEqual(table.layers.map((l) => l.size));
    expect(out.totals.synapses).toBeGreaterThan(0);
    expect(out.bytesPerSynapse.file).toBeCloseTo(bytes.length / out.totals.synapses, 9);
    expect(Array.isArray(out.warnings)).toBe(true);
  });

  it("prints a human table by default", () => {
    const file = join(dir, "model.cbor");
    writeFileSync(file, bytes);
    const r = picospike("inspect", file);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`hash    ${hashOfTable(table)}`);
    expect(r.stdout).toMatch(/bytes per synapse: [0-9.]+ \(weights\), [0-9.]+ \(whole file\)/);
    for (const l of table.layers) expect(r.stdout).toContain(l.name);
  });

  it("fails with one error line and exit 1 on a truncated file", () => {
    const file = join(dir, "cut.cbor");
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    const r = picospike("inspect", file, "--json");
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error FORMAT_TRUNCATED: /);
    expect(r.stderr).not.toMatch(/\bat .*:\d+:\d+/); // no stack trace
  });

  it("reports a missing file as CLI_FILE_NOT_FOUND", () => {
    const r = picospike("inspect", join(dir, "nope.cbor"));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error CLI_FILE_NOT_FOUND: /);
  });
});
