import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeNirFile } from "../models/nir/build-nir.js";
import { fixtureRoot } from "../models/nir/fixtures.js";
import { EDGES, GOOD } from "../models/nir/testing/hostile.js";
import { buildCli, runCli } from "./testing/run-cli.js";

// `import`, `export` and `run` on a float SNN through the built CLI, as a user runs them.

let dir = "";
const fixtures = fixtureRoot(join(import.meta.dirname, ".."));

beforeAll(async () => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), "picospike-import-"));
  await writeNirFile(join(dir, "good.nir"), GOOD, EDGES);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("picospike import / export", () => {
  it("--help of each verb names its options", () => {
    const imp = runCli(["import", "--help"]);
    expect(imp.status).toBe(0);
    for (const o of ["--from", "--dt", "--reset", "--compare", "--initial", "--multi-spike", "--v-min", "--json"]) expect(imp.stdout).toContain(o);
    const exp = runCli(["export", "--help"]);
    expect(exp.status).toBe(0);
    for (const o of ["--to", "--out", "--dt", "--json"]) expect(exp.stdout).toContain(o);
  });

  it("import --json reports the dialect and every node with its assumptions; the float SNN is written", () => {
    const out = join(dir, "snn.json");
    const r = runCli(["import", join(dir, "good.nir"), "--out", out, "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      dialect: string;
      dialectSource: string;
      fingerprints: string[];
      nodes: Array<{ node: string; assumptions: Array<{ source: string }> }>;
      global: Array<{ what: string; source: string }>;
    };
    expect(j.dialect).toBe("nir");
    expect(j.dialectSource).toBe("detected");
    expect(j.nodes.map((n) => n.node)).toEqual(["input", "fc", "lif", "output"]);
    expect(j.global.find((a) => a.what === "time step")!.source).toBe("default");
    expect(existsSync(out) && existsSync(join(dir, "snn.bin"))).toBe(true);
  });

  it("a hostile file is one error line, no stack trace, nothing written", () => {
    const r = runCli(["import", join(dir, "snn.bin"), "--out", join(dir, "never.json")]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^error INTERCHANGE_NOT_HDF5: /);
    expect(existsSync(join(dir, "never.json"))).toBe(false);
  });

  it.skipIf(!fixtures)("from snnTorch to counts: import a fixture and run it with --json (outputCounts per sample)", () => {
    const out = join(dir, "rleaky.json");
    expect(runCli(["import", join(fixtures!, "snntorch-rleaky", "model.nir"), "--out", out]).status).toBe(0);
    const r = runCli(["run", out, "--input", `ndjson:${join(fixtures!, "snntorch-rleaky", "input.ndjson")}`, "--steps", "60", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { samples: Array<{ outputCounts: number[] }> };
    expect(j.samples).toHaveLength(10);
    expect(j.samples[0]!.outputCounts).toEqual([3, 1, 15, 6]); // snnTorch's own output for sample 0
  });

  it("import → quantize → export through the CLI", () => {
    const nir = join(dir, "plain.nir");
    const snn = join(dir, "plain.json");
    const cbor = join(dir, "plain.cbor");
    expect(runCli(["import", join(dir, "good.nir"), "--compare", "ge", "--out", snn]).status).toBe(0);
    const q = runCli(["quantize", snn, "--calibration", "0", "--out", cbor]);
    expect(q.status, q.stderr).toBe(0);
    const e = runCli(["export", cbor, "--to", "nir", "--out", nir, "--json"]);
    expect(e.status, e.stderr).toBe(0);
    expect((JSON.parse(e.stdout) as { nodes: Array<{ type: string }> }).nodes.map((n) => n.type)).toEqual(["Input", "Affine", "LIF", "Output"]);
    expect(runCli(["import", nir, "--out", join(dir, "back.json")]).status).toBe(0);
  });
});
