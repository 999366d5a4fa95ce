import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTable } from "../runtime/format.js";
import { randomTable } from "../runtime/testing/random-table.js";
import { parseSource } from "../firmware-host/sources/registry.js";
import { runSamples } from "../runtime/run.js";
import { buildCli, runCli, type CliResult } from "./testing/run-cli.js";

const root = join(import.meta.dirname, "..");
let dir = "";

function picospike(...args: string[]): CliResult {
  return runCli(args);
}

beforeAll(() => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), "picospike-run-"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  for (const x of it) {
    yield x;
    if (--n <= 0) return;
  }
}

describe("picospike run", () => {
  const table = randomTable(7, { kinds: ["conv2d", "pool", "dense"] });

  it("prints one JSON object with per-sample results and totals", () => {
    const model = join(dir, "model.cbor");
    writeFileSync(model, encodeTable(table));
    const r = picospike("run", model, "--input", "random:0.4:3", "--steps", "8", "--samples", "2", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.samples.length).toBe(2);
    expect(out.steps).toBe(16);
    expect(out.spikesPerLayer.length).toBe(table.layers.length);
    expect(out.samples[0].outputCounts.length).toBe(table.layers[table.layers.length - 1]!.size);
    const expected = runSamples(table, take(parseSource("random:0.4:3", table.input.size, 8), 2), 2);
    expect(out.samples).toEqual(expected.samples);
    expect(out.synapticEvents).toBe(expected.synapticEvents);
  });

  it("runs a calibrated model at the T it was calibrated for unless --steps says otherwise, and notes the difference", () => {
    const model = join(dir, "calibrated.cbor");
    const calibrated = {
      ...table,
      provenance: { ...table.provenance, settings: { ...table.provenance.settings, "convert.calibrate": "shift", "convert.calibrateSteps": 6 } },
    };
    writeFileSync(model, encodeTable(calibrated));
    const byDefault = picospike("run", model, "--input", "random:0.4:3", "--samples", "1", "--json");
    expect(byDefault.status).toBe(0);
    expect(byDefault.stderr).toBe("");
    expect(JSON.parse(byDefault.stdout).steps).toBe(6);
    const other = picospike("run", model, "--input", "random:0.4:3", "--samples", "1", "--steps", "10", "--json");
    expect(other.status).toBe(0);
    expect(JSON.parse(other.stdout).steps).toBe(10);
    expect(other.stderr).toMatch(/^note: the model was calibrated for T=6/);
    const uncalibrated = join(dir, "plain.cbor");
    writeFileSync(uncalibrated, encodeTable(table));
    expect(JSON.parse(picospike("run", uncalibrated, "--input", "random:0.4:3", "--samples", "1", "--json").stdout).steps).toBe(32);
  });

  it("prints a human summary and fails with one error line on a bad source", () => {
    const model = join(dir, "model.cbor");
    writeFileSync(model, encodeTable(table));
    const ok = picospike("run", model, "--input", "random:0.2:1", "--steps", "4");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^sample 0: class \d+ counts \[/);
    expect(ok.stdout).toContain("synaptic events:");
    const bad = picospike("run", model, "--input", "bogus:1", "--steps", "4");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^error CLI_BAD_SOURCE: /);
    expect(bad.stderr.trim().split("\n").length).toBe(1);
  });
});
