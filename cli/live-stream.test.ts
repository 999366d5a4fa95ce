import { spawn } from "node:child_process";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTable } from "../runtime/format.js";
import { decodeSpikeFile } from "../runtime/spikefile.js";
import { DEFAULT_NEURON, type EventTable } from "../runtime/model.js";
import { randomTable } from "../runtime/testing/random-table.js";

/** Six inputs (3 channels, delta up/down) into four neurons. */
const sensorTable: EventTable = {
  input: { size: 6, encoding: "spikes", seed: 1 },
  layers: [
    {
      name: "out",
      size: 4,
      input: {
        kind: "dense",
        inputs: 6,
        outputs: 4,
        weights: { bits: 8, data: Int8Array.from({ length: 24 }, (_, k) => 40 + k), count: 24, shift: Uint8Array.of(0) },
      },
      neuron: { ...DEFAULT_NEURON, threshold: 60 },
    },
  ],
  readout: { kind: "count" },
  provenance: { source: "test", tool: "cli/live-stream.test.ts", settings: {}, layerScales: [1] },
};

const root = join(import.meta.dirname, "..");
const bin = join(root, "bin/picospike.js");
let dir = "";
const table = randomTable(3, { kinds: ["dense", "dense"], encoding: "spikes", readout: "count", maxNeurons: 12 });

beforeAll(() => {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root });
  dir = mkdtempSync(join(tmpdir(), "picospike-live-stream-"));
  writeFileSync(join(dir, "model.cbor"), encodeTable(table));
  writeFileSync(join(dir, "sensor.cbor"), encodeTable(sensorTable));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Resolves when `child` writes a line matching `pattern` on stderr; rejects if it exits first. */
function stderrLine(child: ReturnType<typeof spawn>, pattern: RegExp): Promise<void> {
  return new Promise((resolveLine, reject) => {
    let text = "";
    const onData = (d: Buffer): void => {
      text += d.toString();
      if (pattern.test(text)) {
        child.stderr!.off("data", onData);
        resolveLine();
      }
    };
    child.stderr!.on("data", onData);
    child.once("exit", () => reject(new Error(`exited before writing ${String(pattern)} on stderr:\n${text}`)));
  });
}

function collect(child: ReturnType<typeof spawn>): Promise<Run> {
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

describe("live sources through stream", () => {
  it("Ctrl-C while stdin waits stops cleanly: summary printed, exit 130, --out files complete", async () => {
    const out = join(dir, "int-out.cbor");
    const child = spawn(
      process.execPath,
      [bin, "stream", "--model", join(dir, "model.cbor"), "--board", "mock", "--input", "ndjson:-", "--realtime", "--dt", "2", "--json", "--out", out],
      {
        cwd: root,
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    const done = collect(child);
    for (let t = 0; t < 20; t++) child.stdin!.write(JSON.stringify({ t, events: [t % table.input.size] }) + "\n");
    // Leave stdin open: the source waits for a line that never comes, until Ctrl-C. The CLI says when
    // it starts reading (after its Ctrl-C handler is in place and the board is up, however loaded the
    // machine); the 20 lines then take 40 ms of steps.
    await stderrLine(child, /ndjson stdin: reading/);
    await new Promise((r) => setTimeout(r, 1500));
    child.kill("SIGINT");
    const r = await done;
    expect(r.stderr).not.toMatch(/^error /m);
    expect(r.status).toBe(130);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ interrupted: true, inputEvents: 20 });
    const file = decodeSpikeFile(readFileSync(out));
    expect(file.samples[0]!.steps).toBe(s.steps);
  }, 60_000);

  it("a malformed stdin line is CLI_BAD_INPUT_FILE with its line number", async () => {
    const child = spawn(
      process.execPath,
      [bin, "stream", "--model", join(dir, "model.cbor"), "--board", "mock", "--input", "ndjson:-", "--realtime", "--dt", "1"],
      { cwd: root, stdio: ["pipe", "pipe", "pipe"] },
    );
    const done = collect(child);
    child.stdin!.end('{"events":[0]}\n{"events":[0]\n');
    const r = await done;
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error CLI_BAD_INPUT_FILE: ndjson stdin: line 2: not JSON/m);
  }, 60_000);

  it("serial: a sensor on a pty printing 3 channels at 100 Hz is detected and encoded (delta)", async () => {
    // python3 holds the pty pair: it prints the device path, then writes lines to the master side.
    const sensor = spawn(
      "python3",
      [
        "-c",
        [
          "import os, sys, time, math",
          "m, s = os.openpty()",
          "print(os.ttyname(s), flush=True)",
          "for k in range(400):",
          "    os.write(m, ('%d,%d\\t%d\\n' % (k, int(50 * math.sin(k / 5)), -k)).encode())",
          "    time.sleep(0.01)",
        ].join("\n"),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const path = await new Promise<string>((resolve) => sensor.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())));
    try {
      const child = spawn(
        process.execPath,
        [
          bin,
          "stream",
          "--model",
          join(dir, "sensor.cbor"),
          "--board",
          "mock",
          "--input",
          `serial:${path}@115200,encoder=delta,threshold=2`,
          "--realtime",
          "--dt",
          "10",
          "--steps",
          "60",
          "--samples",
          "1",
          "--json",
        ],
        { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
      );
      const r = await collect(child);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/3 channels at \d+(\.\d)? Hz/);
      expect(JSON.parse(r.stdout).inputEvents).toBeGreaterThan(30);
    } finally {
      sensor.kill();
    }
  }, 60_000);
});
