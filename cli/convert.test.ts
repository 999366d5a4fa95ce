import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFloatSnn, type FloatDense } from "../models/float-snn.js";
import { fileIOHandler } from "../models/io.js";
import { initTf, tf } from "../models/tf.js";
import { buildCli, runCli } from "./testing/run-cli.js";

let dir = "";
let model = "";

beforeAll(async () => {
  buildCli();
  await initTf();
  dir = mkdtempSync(join(tmpdir(), "picospike-convert-"));
  // A 4-input MLP with hand-set weights: h = relu(x0 + x1 − 0.1, x2 + x3), o = (h0 − h1, h1 − h0).
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [4], units: 2, activation: "relu", name: "h" }));
  m.add(tf.layers.dense({ units: 2, activation: "softmax", name: "o" }));
  m.getLayer("h").setWeights([
    tf.tensor2d([
      [1, 0],
      [1, 0],
      [0, 1],
      [0, 1],
    ]),
    tf.tensor1d([-0.1, 0]),
  ]);
  m.getLayer("o").setWeights([
    tf.tensor2d([
      [1, -1],
      [-1, 1],
    ]),
    tf.tensor1d([0, 0]),
  ]);
  model = join(dir, "model.json");
  await m.save(fileIOHandler(model, (p, d) => writeFileSync(p, d)));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cal = ["--calibration-input", "random:0.5:3", "--calibration", "32"];

describe("picospike convert --calibrate", () => {
  it("--help names the methods, the steps and the default", () => {
    const r = runCli(["convert", "--help"]);
    expect(r.status).toBe(0);
    const help = r.stdout.replace(/\s+/g, " ");
    expect(help).toContain("--calibrate <method>");
    expect(help).toContain("none | shift");
    expect(help).toContain("--calibrate-steps <t>");
    expect(help).toContain("--calibrate-images <n>");
  });

  it("none keeps the converted biases; shift adds θ/(2T) to the hidden ones and records it", () => {
    const plain = join(dir, "plain.json");
    const shifted = join(dir, "shift.json");
    expect(runCli(["convert", model, "--out", plain, "--calibrate", "none", ...cal]).status).toBe(0);
    const r = runCli(["convert", model, "--out", shifted, "--calibrate", "shift", "--calibrate-steps", "4", "--json", ...cal]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).calibrate).toMatchObject({ method: "shift", steps: 4 });
    const a = readFloatSnn(plain);
    const b = readFloatSnn(shifted);
    const ha = a.layers[0] as FloatDense;
    const hb = b.layers[0] as FloatDense;
    hb.bias!.forEach((x, j) => expect(x).toBeCloseTo(ha.bias![j]! + 1 / 8, 6));
    expect(Array.from(hb.weights)).toEqual(Array.from(ha.weights));
    expect(b.provenance.settings).toMatchObject({ calibrate: "shift", calibrateSteps: 4 });
    expect(a.provenance.settings["calibrate"]).toBeUndefined();
  });

  it("bias reports the per-layer error before and after, and works with model-based normalization", () => {
    const r = runCli(["convert", model, "--out", join(dir, "bias.json"), "--norm", "model", "--calibrate", "bias", "--calibrate-steps", "4", "--json", ...cal]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout).calibrate;
    expect(out.method).toBe("bias");
    expect(out.images).toBe(32);
    expect(out.meanErrorBefore).toHaveLength(2);
    expect(out.meanErrorAfter).toHaveLength(2);
  });

  it("--reset zero alone converts uncalibrated (the default follows the reset)", () => {
    const r = runCli(["convert", model, "--out", join(dir, "zero.json"), "--reset", "zero", "--json", ...cal]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).calibrate).toEqual({ method: "none" });
  });

  // One CLI run per test: a long synchronous run per test keeps vitest's worker from answering its RPC.
  it.each([
    ["--calibrate", "bogus"],
    ["--calibrate-steps", "0"],
    ["--calibrate-steps", "x"],
    ["--calibrate-images", "0"],
    ["--calibrate", "bias", "--reset", "zero"],
  ])("%s %s … fails with CLI_USAGE on one line and writes nothing", (...args: string[]) => {
    const out = join(dir, "bad.json");
    const r = runCli(["convert", model, "--out", out, ...args, ...cal]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^error CLI_USAGE: /);
    expect(r.stderr).toMatch(/--calibrate/);
    expect(() => readFloatSnn(out)).toThrow();
  });
});
