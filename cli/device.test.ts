import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeTable } from "../runtime/format.js";
import { Interpreter } from "../runtime/interpreter.js";
import { decodeSpikeFile, sampleToInput } from "../runtime/spikefile.js";
import { randomTable } from "../runtime/testing/random-table.js";
import { listPorts } from "../firmware-host/transports/ports.js";
import { buildCli, runCli, type CliResult } from "./testing/run-cli.js";

let dir = "";
const table = randomTable(7, { kinds: ["dense", "sparse", "dense"], encoding: "spikes", readout: "count", maxNeurons: 40 });

function picospike(...args: string[]): CliResult {
  return runCli(args, 60_000);
}

beforeAll(() => {
  buildCli();
  dir = mkdtempSync(join(tmpdir(), "picospike-device-"));
  writeFileSync(join(dir, "model.cbor"), encodeTable(table));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("device verbs", () => {
  it("compare --board mock --json: bit-exact, with steps, output spikes and no divergence", () => {
    const r = picospike("compare", join(dir, "model.cbor"), "--board", "mock", "--input", "random:0.2:5", "--steps", "12", "--samples", "2", "--json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ bitExact: true, steps: 24, samples: 2, firstDivergence: null, uploaded: true });
    expect(out.outputSpikes).toBe(out.interpreterOutputSpikes);
  });

  it("compare --plot on an integrating readout draws its membranes: interpreter lines, device read-back rings every step with --every-step", () => {
    const integrating = {
      ...table,
      layers: table.layers.map((l, k) => (k === table.layers.length - 1 ? { ...l, neuron: { ...l.neuron, model: "integrator" as const } } : l)),
      readout: { kind: "membrane" as const },
    };
    writeFileSync(join(dir, "integ.cbor"), encodeTable(integrating));
    const svg = join(dir, "integ.svg");
    const r = picospike(
      "compare",
      join(dir, "integ.cbor"),
      "--board",
      "mock",
      "--input",
      "random:0.3:2",
      "--steps",
      "10",
      "--samples",
      "1",
      "--every-step",
      "--plot",
      svg,
    );
    expect(r.status).toBe(0);
    const text = readFileSync(svg, "utf8");
    const size = integrating.layers.at(-1)!.size;
    expect(text).toContain("integrating; lines: interpreter, rings: device");
    expect(text.match(/<polyline /g)!.length).toBe(Math.min(size, 16));
    // one ring per drawn neuron per step, all equal to the interpreter's
    expect(text.match(/<circle [^>]*stroke="#1a1a1a"/g)!.length).toBe(10 * Math.min(size, 16));
    expect(text).not.toMatch(/<circle [^>]*stroke="#d62728"/);
  });

  it("stream --realtime records outputs and applied inputs that replay exactly on the interpreter", () => {
    const outFile = join(dir, "out.cbor");
    const inFile = join(dir, "in.cbor");
    const r = picospike(
      "stream",
      "--model",
      join(dir, "model.cbor"),
      "--board",
      "mock",
      "--input",
      "random:0.2:9",
      "--steps",
      "20",
      "--samples",
      "2",
      "--realtime",
      "--dt",
      "2",
      "--json",
      "--out",
      outFile,
      "--out-inputs",
      inFile,
    );
    expect(r.status).toBe(0);
    const summary = JSON.parse(r.stdout);
    for (const key of ["steps", "inputEvents", "outputSpikes", "framesDropped", "bytesPerEvent", "lagP50Ms", "lagP99Ms"]) expect(summary).toHaveProperty(key);
    const applied = sampleToInput(decodeSpikeFile(readFileSync(inFile)).samples[0]!);
    const outputs = sampleToInput(decodeSpikeFile(readFileSync(outFile)).samples[0]!, applied.steps.length);
    expect(applied.steps.length).toBe(summary.steps);
    const interp = new Interpreter(table);
    const last = table.layers.length - 1;
    let spikes = 0;
    applied.steps.forEach((events, t) => {
      interp.step(events);
      expect(Array.from(outputs.steps[t]!.indices)).toEqual(Array.from(interp.lastSpikes(last)));
      spikes += interp.lastSpikes(last).length;
    });
    expect(spikes).toBe(summary.outputSpikes);
  });

  it("stream in lockstep gives wire bytes per event and the same spikes as compare", () => {
    const r = picospike(
      "stream",
      "--model",
      join(dir, "model.cbor"),
      "--board",
      "mock",
      "--input",
      "random:0.2:5",
      "--steps",
      "12",
      "--samples",
      "2",
      "--json",
    );
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ mode: "lockstep", steps: 24, framesDropped: 0 });
    expect(s.bytesPerEvent).toBeGreaterThan(0);
  });

  it("compare --board native builds the C firmware, uploads the model and is bit-exact (or DEVICE_TOOL_MISSING)", () => {
    const r = picospike("compare", join(dir, "model.cbor"), "--board", "native", "--input", "random:0.2:5", "--steps", "8", "--samples", "2", "--json");
    if (r.status === 1 && /^error DEVICE_TOOL_MISSING: /.test(r.stderr)) {
      console.log(`skipping compare --board native: ${r.stderr.trim()}`);
      return;
    }
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ bitExact: true, steps: 16, samples: 2, firstDivergence: null, uploaded: true });
  });

  it("ports lists by-id links with targets, tty nodes that exist and ptys, without udevadm", async () => {
    const dev = join(dir, "dev");
    mkdirSync(join(dev, "serial", "by-id"), { recursive: true });
    mkdirSync(join(dev, "pts"));
    writeFileSync(join(dev, "pts", "3"), "");
    writeFileSync(join(dev, "pts", "ptmx"), "");
    symlinkSync("../../ttyACM0", join(dev, "serial", "by-id", "usb-Board_123-if00"));
    writeFileSync(join(dev, "ttyUSB0"), ""); // a regular file, not a device: skipped
    const ports = await listPorts({ devRoot: dev, useSerialport: false });
    expect(ports).toEqual([
      { path: join(dev, "serial", "by-id", "usb-Board_123-if00"), kind: "by-id", target: join(dev, "ttyACM0") },
      { path: join(dev, "pts", "3"), kind: "pty" },
    ]);
    const r = picospike("ports", "--json");
    expect(r.status).toBe(0);
    expect(Array.isArray(JSON.parse(r.stdout).ports)).toBe(true);
  });
});
