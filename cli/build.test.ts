import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTable } from "../runtime/format.js";
import { DEFAULT_NEURON, type EventTable } from "../runtime/model.js";
import { randomTable } from "../runtime/testing/random-table.js";
import { missingTools } from "../firmware-host/boards/toolchain.js";
import { buildCli, runCli, type CliResult } from "./testing/run-cli.js";

let dir = "";

function picospike(...args: string[]): CliResult {
  return runCli(args, 120_000);
}

/** A dense 784-64-10 table: 50 KB of int8 weights, more than the microbit's model pool. */
function wide(): EventTable {
  const dense = (inputs: number, outputs: number) => ({
    kind: "dense" as const,
    inputs,
    outputs,
    weights: { bits: 8 as const, data: new Int8Array(inputs * outputs).fill(1), count: inputs * outputs, shift: Uint8Array.of(0) },
  });
  return {
    input: { size: 784, encoding: "spikes", seed: 1 },
    layers: [
      { name: "h", size: 64, input: dense(784, 64), neuron: { ...DEFAULT_NEURON, threshold: 100 } },
      { name: "o", size: 10, input: dense(64, 10), neuron: { ...DEFAULT_NEURON, threshold: 100 } },
    ],
    readout: { kind: "count" },
    provenance: { source: "test", tool: "cli/build.test.ts", settings: {}, layerScales: [1, 1] },
  };
}

beforeAll(() => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), "picospike-build-"));
  writeFileSync(join(dir, "small.cbor"), encodeTable(randomTable(3, { kinds: ["dense", "dense"], maxNeurons: 16 })));
  writeFileSync(join(dir, "wide.cbor"), encodeTable(wide()));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("build verb", () => {
  it("refuses to upload a model larger than the board's model pool with DEVICE_MODEL_TOO_LARGE", () => {
    const r = picospike("build", join(dir, "wide.cbor"), "--board", "microbit", "--out", join(dir, "mb"), "--upload");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error DEVICE_MODEL_TOO_LARGE: .*microbit has \d+ for models; build without --upload/);
  });

  it.skipIf(missingTools(["gcc", "size"]).length > 0)("builds the native firmware with the model compiled in and reports code, model data and RAM", () => {
    const r = picospike("build", join(dir, "small.cbor"), "--board", "native", "--out", join(dir, "native"), "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ board: "native", compiledIn: true, modelDataBytes: readFileSync(join(dir, "small.cbor")).length });
    expect(report.codeBytes + report.modelDataBytes).toBe(report.flashBytes);
    expect(report.firmwareHash).toMatch(/^[0-9a-f]{16}$/);
    expect(JSON.parse(readFileSync(join(dir, "native", "size.json"), "utf8"))).toEqual(report);
  });
});
