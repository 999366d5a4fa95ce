import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");
let dir = "";

beforeAll(() => {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root });
  dir = mkdtempSync(join(tmpdir(), "picospike-demo-"));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("picospike demo", () => {
  // A tiny run of the whole pipeline (1 epoch, few digits, in-process mock board): the full-size
  // demo is `npm run demo`; native and QEMU boards are covered by test/boards/.
  it("runs train → convert → quantize → eval → compare and writes a bit-exact summary", () => {
    const out = join(dir, "run");
    const r = spawnSync(
      process.execPath,
      [
        join(root, "bin/picospike.js"),
        "demo",
        "--out",
        out,
        "--epochs",
        "1",
        "--eval-digits",
        "40",
        "--digits",
        "4",
        "--steps",
        "8",
        "--board",
        "mock",
        "--json",
      ],
      { encoding: "utf8", cwd: dir, timeout: 240_000 },
    );
    expect(r.stderr).not.toMatch(/^error /m);
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(summary["bitExact"]).toBe(true);
    expect(summary["comparedDigits"]).toBe(4);
    expect(summary["annAccuracy"]).toBeGreaterThan(0.5);
    expect(summary["deviceAccuracy"]).toBe(summary["interpreterAccuracy"]);
    expect(summary["modelBytes"]).toBeGreaterThan(100_000);
    for (const f of ["ann/model.json", "snn.json", "model.cbor", "summary.json"]) expect(existsSync(join(out, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))).toEqual(summary);
    // The stage log names each command it ran, so a user can repeat any stage by hand.
    expect(r.stderr).toContain("▶ quantize: picospike quantize");
  }, 300_000);

  it("fails with the stage's own error code and no stack trace", () => {
    const r = spawnSync(process.execPath, [join(root, "bin/picospike.js"), "demo", "--out", join(dir, "bad"), "--arch", "rnn"], { encoding: "utf8", cwd: dir });
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim().split("\n")).toEqual(["error CLI_USAGE: --arch must be mlp or cnn, got 'rnn'"]);
  });
});
