/**
 * Bad-input catalogue: every code of the closed error list (runtime/errors.ts) is either
 * triggered through the built CLI here, or listed in NOT_REACHABLE_FROM_CLI with the reason. Each
 * trigger checks the exit status, that stderr is exactly one `error <CODE>: <message>` line with no
 * stack trace, that the message says something specific, and that no partial output is left behind.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode, isPicospikeError } from "../runtime/errors.js";
import { decodeTable, encodeTable } from "../runtime/format.js";
import { encodeSpikeFile } from "../runtime/spikefile.js";
import { randomTable } from "../runtime/testing/random-table.js";
import { DEFAULT_NEURON, type EventTable } from "../runtime/model.js";
import { writeFloatSnn, type FloatSnn } from "../models/float-snn.js";
import { MockBoard, type MockBoardOptions } from "../firmware-host/mock/mock-board.js";
import type { Transport } from "../firmware-host/transports/transport.js";
import { hostileCases } from "../runtime/testing/table-catalogue.js";
import { writeHostileNirFiles } from "../models/nir/testing/hostile.js";

const root = join(import.meta.dirname, "..");
let dir = "";

/**
 * Codes no command line can produce on this machine, each with why. Keep this short: a code that
 * becomes reachable belongs in TRIGGERS instead.
 */
const NOT_REACHABLE_FROM_CLI: Partial<Record<ErrorCode, string>> = {
  SEMANTICS_STATE_MISMATCH: "only Interpreter.restore raises it, and no verb restores an interpreter snapshot",
  SEMANTICS_HELD_INPUT_PLASTIC:
    "only Interpreter.holdInput/stepHeld and ps_net_hold_input raise it, and evaluation holds input only when layer 0 does not learn",
  TOOLCHAIN_CALIBRATION:
    "convert checks --calibrate, --reset and the calibration images before calibrating, and the SNN it calibrates is its own conversion (IF layers, integrator readout); only models/calibrate.ts called on another float SNN raises it (models/calibrate.test.ts)",
  CODEGEN_DRIFT: "raised by `npm run gen:check` (scripts/gen.ts), not by the picospike CLI",
  CODEGEN_MISMATCH: "raised by the conformance harness (test/conformance) when C and TS kernels disagree: a picospike bug, not an input",
  PROTOCOL_BAD_FRAME: "a frame failing COBS or its length check is dropped and counted (compare/stream --json faults), never fatal",
  PROTOCOL_BAD_CRC: "a frame failing its CRC is dropped and counted (compare/stream --json faults), never fatal",
  PROTOCOL_UNKNOWN_MESSAGE: "the host drops device frames of unknown type and never sends one, so no device NACKs with it",
  PROTOCOL_BAD_PAYLOAD: "needs a malformed payload under a valid CRC from a device; corrupted frames fail the CRC first",
  PROTOCOL_SEQUENCE_GAP: "informational: gaps are counted in the link's counters and reported in --json, never raised",
  PROTOCOL_TIMEOUT:
    "every verb that talks to a device runs its requests through the bridge's recovery, so an unanswered request leads to a new handshake, and a device that stays mute ends in DEVICE_DISCONNECTED naming the timed-out request (shown by 'a device that hangs mid-run' below)",
  PROTOCOL_BUSY: "a device NACK for a full queue; lockstep waits for each answer and real time drops frames instead (counted)",
  DEVICE_LEARNING_NOT_BUILT:
    "only ps_net_init of a build given -DPS_NET_LEARNING without a rule raises it (codegen library builds, test/c-learning-switch.test.ts); the firmware `picospike build` makes has every rule",
  DEVICE_RESET: "the device's boot announcement; the bridge handles it by re-handshaking and replaying (spec/protocol.md §4.6)",
  CLI_UI_ASSETS_MISSING:
    "the built CLI is bundled together with the live view's page (scripts/build.mjs writes dist/ui beside dist/picospike.js, and the package ships both); only a half-built checkout lacks it",
  CLI_PACKAGE_DAMAGED: "needs an install missing the package's own files (package.json, firmware/); the acceptance suite checks the tarball carries them",
  CLI_INTERRUPTED: "Ctrl-C ends a run with its summary, complete output files and exit 130, not with this error (cli/live-stream.test.ts)",
};

/** How one code is triggered through the CLI. */
interface Trigger {
  readonly args: readonly string[];
  /** A word or phrase the message must contain, so the message names what went wrong. */
  readonly mentions: string | RegExp;
  /** Output files or folders the failed command must not leave behind. */
  readonly outputs?: readonly string[];
  /** Extra environment (PATH for tool-lookup cases). */
  readonly env?: Readonly<Record<string, string>>;
  /** Lines the tool printed above the error line (compiler output): allowed only where the remedy says so. */
  readonly toolOutputAbove?: boolean;
  /** A fake device for --port: the mock board's options, served on a pty. */
  readonly device?: MockBoardOptions | "silent";
  /** With `device`: the mock hears only the first N frames the host sends, then nothing (a device that hangs mid-run). */
  readonly deviceHearsFrames?: number;
}

interface Result {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function picospike(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "bin/picospike.js"), ...args], { cwd: dir, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * A pty held by python3 (Node cannot open one): the slave path is announced on stdout, then bytes
 * are relayed between the master and python's stdin/stdout, so a MockBoard in this process can be
 * the device at the other end (or nothing answers, with "silent").
 */
const PTY_RELAY = [
  "import os, select, sys, tty",
  "m, s = os.openpty(); tty.setraw(s)",
  "sys.stdout.write(os.ttyname(s) + '\\n'); sys.stdout.flush()",
  "while True:",
  "    r, _, _ = select.select([m, 0], [], [])",
  "    if m in r:",
  "        d = os.read(m, 4096)",
  "        if d: os.write(1, d)",
  "    if 0 in r:",
  "        d = os.read(0, 4096)",
  "        if not d: break",
  "        os.write(m, d)",
].join("\n");

/** A transport over the relay's stdin/stdout (the device side of the pty). */
class RelayTransport implements Transport {
  private open = true;
  private readonly closeListeners = new Set<() => void>();
  /** Frame delimiters (0x00) still to pass to the mock; bytes after the last are swallowed. */
  private delimitersLeft: number;
  constructor(
    private readonly child: ChildProcess,
    private readonly firstBytes: Buffer,
    hearsFrames = Infinity,
  ) {
    this.delimitersLeft = hearsFrames;
    child.on("close", () => {
      this.open = false;
      for (const l of this.closeListeners) l();
    });
  }
  write(bytes: Uint8Array): Promise<void> {
    if (!this.open) return Promise.resolve();
    return new Promise((resolve) => this.child.stdin!.write(bytes, () => resolve()));
  }
  onData(listener: (bytes: Uint8Array) => void): () => void {
    const deliver = (bytes: Uint8Array): void => {
      let end = 0;
      while (end < bytes.length && this.delimitersLeft > 0) if (bytes[end++] === 0) this.delimitersLeft--;
      if (end > 0) listener(bytes.subarray(0, end));
    };
    if (this.firstBytes.length > 0) queueMicrotask(() => deliver(this.firstBytes));
    const on = (d: Buffer): void => deliver(new Uint8Array(d));
    this.child.stdout!.on("data", on);
    return () => this.child.stdout!.off("data", on);
  }
  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }
  async close(): Promise<void> {
    this.open = false;
  }
  get isOpen(): boolean {
    return this.open;
  }
}

/** Starts a pty relay and, unless silent, a MockBoard behind it. Returns the pty path and a stopper. */
async function fakeDevice(device: MockBoardOptions | "silent", hearsFrames?: number): Promise<{ port: string; stop(): void }> {
  const child = spawn("python3", ["-u", "-c", PTY_RELAY], { stdio: ["pipe", "pipe", "inherit"] });
  const { port, rest } = await new Promise<{ port: string; rest: Buffer }>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const on = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      const nl = buf.indexOf(10);
      if (nl < 0) return;
      child.stdout.off("data", on);
      resolve({ port: buf.subarray(0, nl).toString("utf8"), rest: buf.subarray(nl + 1) });
    };
    child.stdout.on("data", on);
    child.on("error", reject);
  });
  let board: MockBoard | undefined;
  if (device === "silent") child.stdout.resume();
  else board = new MockBoard(new RelayTransport(child, rest, hearsFrames), device);
  return {
    port,
    stop: () => {
      board?.shutdown();
      child.kill();
    },
  };
}

/** Runs one trigger (with its fake device, if any). */
async function runTrigger(t: Trigger): Promise<Result> {
  if (t.args.includes("$HELDPORT")) {
    // A loopback port another process holds (the live view's --ui-port cannot take it).
    const held = createServer();
    await new Promise<void>((resolve) => held.listen(0, "127.0.0.1", resolve));
    try {
      return await picospike(
        t.args.map((a) => (a === "$HELDPORT" ? String((held.address() as AddressInfo).port) : a)),
        t.env,
      );
    } finally {
      held.close();
    }
  }
  if (t.device === undefined) return picospike(t.args, t.env);
  const dev = await fakeDevice(t.device, t.deviceHearsFrames);
  try {
    return await picospike(
      t.args.map((a) => (a === "$PORT" ? dev.port : a)),
      t.env,
    );
  } finally {
    dev.stop();
  }
}

/** Runs `f` over `items`, at most `width` at a time. */
async function pooled<T, R>(items: readonly T[], width: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const k = next++;
        out[k] = await f(items[k]!);
      }
    }),
  );
  return out;
}

/** The code decodeTable gives `bytes`, in process (the verdict the CLI must print). */
function tableVerdict(bytes: Uint8Array): string {
  try {
    decodeTable(bytes);
    return "OK";
  } catch (e) {
    return isPicospikeError(e) ? e.code : "INTERNAL";
  }
}

/** A small valid float SNN whose first layer leaks to nothing in Q15 (a quantization design rule). */
function wipingSnn(): FloatSnn {
  return {
    input: { shape: [1, 1, 2], encoding: "rate", scale: 1 / 255 },
    layers: [
      {
        kind: "dense",
        name: "h",
        inputs: 2,
        outputs: 2,
        weights: Float32Array.from([0.5, -0.25, 0.125, 1]),
        neuron: { model: "lif", threshold: 1, leak: 1e-6, reset: "subtract", refractory: 0 },
      },
      {
        kind: "dense",
        name: "o",
        inputs: 2,
        outputs: 2,
        weights: Float32Array.from([1, 0, 0, 1]),
        neuron: { model: "integrator", threshold: 1, leak: 1, reset: "subtract", refractory: 0 },
      },
    ],
    readout: "membrane",
    provenance: { source: "test", tool: "error-catalogue", settings: {} },
  };
}

/** An IDX file (big-endian dims after the 0 0 8 rank header). */
function idx(dims: readonly number[], data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt8(8, 2);
  head.writeUInt8(dims.length, 3);
  dims.forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([head, data]);
}

const TRIGGERS: Partial<Record<ErrorCode, Trigger>> = {};

beforeAll(() => {
  execFileSync(process.execPath, [join(root, "scripts/build.mjs")], { cwd: root });
  dir = mkdtempSync(join(tmpdir(), "picospike-errors-"));
  const w = (name: string, bytes: Uint8Array | string): string => {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), bytes);
    return name;
  };
  const table = randomTable(3, { kinds: ["dense", "dense"] });
  const model = w("model.cbor", encodeTable(table));
  const n = table.input.size;
  const spikes = encodeSpikeFile({ inputSize: n, samples: [{ label: 1, steps: 2, step: Uint32Array.of(0, 1), index: Uint32Array.of(2, 0) }] });

  // One hostile table per format code (and the shape check), as decodeTable judges it in process.
  for (const [, bytes] of hostileCases()) {
    const code = tableVerdict(bytes) as ErrorCode;
    if (!(code in ERROR_CODES) || TRIGGERS[code]) continue;
    const file = w(`tables/${code}.cbor`, bytes);
    TRIGGERS[code] = { args: ["codegen", file, "--target", "c", "--out", `out-${code}`], mentions: /\S{3}/, outputs: [`out-${code}`] };
  }
  // a table whose state and weights overflow the micro:bit's RAM (found by the linker)
  // 784 x 400 int8 weights = 313,600 bytes of table: more than the microbit's 256 KiB of flash, whatever the code size.
  const bigBase = randomTable(5, { layers: 1, kinds: ["dense"], recurrentProbability: 0, plasticityProbability: 0, encoding: "spikes" });
  const bigTable: EventTable = {
    ...bigBase,
    input: { size: 784, encoding: "spikes", seed: 1 },
    layers: [
      {
        name: "wide",
        size: 400,
        neuron: DEFAULT_NEURON,
        input: {
          kind: "dense",
          inputs: 784,
          outputs: 400,
          weights: { bits: 8, count: 784 * 400, data: new Int8Array(784 * 400).fill(3), shift: new Uint8Array(1) },
        },
      },
    ],
    readout: { kind: "count" },
    provenance: { ...bigBase.provenance, layerScales: [1] },
  };
  const big = w("big.cbor", encodeTable(bigTable));
  const compare = (input: string, out: string, ...more: string[]): string[] => [
    "compare",
    model,
    "--board",
    "mock",
    "--steps",
    "4",
    "--input",
    input,
    "--out",
    out,
    ...more,
  ];

  Object.assign(TRIGGERS, {
    SEMANTICS_BAD_INPUT: {
      args: compare(
        `spikes:${w("wide.spk", encodeSpikeFile({ inputSize: n + 1, samples: [{ steps: 1, step: Uint32Array.of(0), index: Uint32Array.of(n) }] }))}`,
        "sbi.spk",
      ),
      mentions: `${n + 1} inputs`,
      outputs: ["sbi.spk"],
    },
    CODEGEN_UNSUPPORTED: { args: ["codegen", model, "--target", "rust", "--out", "cg-rust"], mentions: "rust", outputs: ["cg-rust"] },
    CODEGEN_COMPILE_FAILED: {
      args: ["build", model, "--board", "native", "--out", "b-cc"],
      mentions: "gcc",
      outputs: ["b-cc"],
      toolOutputAbove: true,
      env: { PATH: join(dir, "fakebin") },
    },
    PROTOCOL_VERSION_MISMATCH: {
      args: ["compare", model, "--port", "$PORT", "--steps", "2", "--input", "random:0.1:1", "--out", "pvm.spk"],
      device: { protoRange: [7, 9] },
      mentions: /7/,
      outputs: ["pvm.spk"],
    },
    PROTOCOL_HANDSHAKE_FAILED: {
      args: ["compare", model, "--port", "$PORT", "--steps", "2", "--input", "random:0.1:1", "--out", "phf.spk"],
      device: "silent",
      mentions: "HELLO_ACK",
      outputs: ["phf.spk"],
    },
    PROTOCOL_MODEL_MISMATCH: {
      args: ["compare", model, "--port", "$PORT", "--steps", "2", "--input", "random:0.1:1", "--out", "pmm.spk"],
      device: { uploadRam: 0 },
      mentions: "cannot take uploads",
      outputs: ["pmm.spk"],
    },
    DEVICE_OUT_OF_MEMORY: {
      args: ["stream", "--model", model, "--port", "$PORT", "--steps", "2", "--input", "random:0.1:1", "--out", "oom.spk"],
      device: { uploadRam: 64 },
      mentions: "upload RAM (64 bytes)",
      outputs: ["oom.spk"],
    },
    // the port vanishes for longer than the recovery's 10 s window (spec/protocol.md §4.6 (a))
    DEVICE_DISCONNECTED: {
      args: compare("random:0.1:1", "ddc.spk", "--samples", "3", "--inject", "unplug=at:5:15s"),
      mentions: "handshake",
      outputs: ["ddc.spk"],
    },
    DEVICE_UNKNOWN_BOARD: { args: compare("random:0.1:1", "dub.spk", "--board", "vax11"), mentions: "vax11", outputs: ["dub.spk"] },
    DEVICE_TOOL_MISSING: {
      args: ["build", model, "--board", "native", "--out", "b-tool"],
      env: { PATH: join(dir, "emptybin") },
      mentions: "apt-get install gcc",
      outputs: ["b-tool"],
    },
    // decided before any compiler runs, so the same answer with or without the Arm toolchain
    DEVICE_MODEL_TOO_LARGE: {
      args: ["build", big, "--board", "microbit", "--out", "b-big"],
      env: { PATH: join(dir, "emptybin") },
      mentions: "microbit",
      outputs: ["b-big"],
    },
    DEVICE_CANNOT_MONITOR: { args: ["monitor", "--port", "$PORT", "--model", model, "--steps", "2"], device: {}, mentions: "runs no model" },
    CLI_UI_PORT_UNAVAILABLE: {
      args: ["compare", model, "--board", "mock", "--steps", "2", "--input", "random:0.1:1", "--ui-port", "$HELDPORT", "--report", "upu.html"],
      mentions: "EADDRINUSE",
      outputs: ["upu.html"],
    },
    DEVICE_PORT_UNAVAILABLE: {
      args: ["stream", "--model", model, "--port", join(dir, "no-such-tty"), "--input", "random:0.1:1", "--out", "dpu.spk"],
      mentions: "no-such-tty",
      outputs: ["dpu.spk"],
    },
    DEVICE_FLASH_FAILED: { args: ["flash", "--image", join(dir, "no-such.elf"), "--board", "native"], mentions: "no-such.elf" },
    CLI_USAGE: { args: ["run", model, "--steps", "0", "--input", "random:0.1:1"], mentions: "--steps" },
    CLI_FILE_NOT_FOUND: { args: ["codegen", "missing.cbor", "--target", "c", "--out", "cg-missing"], mentions: "missing.cbor", outputs: ["cg-missing"] },
    CLI_BAD_SOURCE: { args: compare("bogus:1", "cbs.spk"), mentions: "bogus:1", outputs: ["cbs.spk"] },
    CLI_BAD_INPUT_FILE: {
      args: compare(`spikes:${w("cut.spk", spikes.slice(0, spikes.length - 3))}`, "cbif.spk"),
      mentions: "spike file",
      outputs: ["cbif.spk"],
    },
    CLI_WRITE_FAILED: { args: compare("random:0.1:1", "no-such-dir/out.spk"), mentions: "no-such-dir/out.spk", outputs: ["no-such-dir"] },
    TOOLCHAIN_DATASET: { args: ["eval", model, "--data-dir", "idx-bad"], mentions: "bad IDX magic" },
    TOOLCHAIN_UNSUPPORTED_LAYER: {
      args: [
        "convert",
        w(
          "lstm/model.json",
          JSON.stringify({
            format: "layers-model",
            modelTopology: {
              class_name: "Sequential",
              config: { name: "s", layers: [{ class_name: "LSTM", config: { name: "l", units: 4, batch_input_shape: [null, 28, 28] } }] },
            },
            weightsManifest: [],
          }),
        ),
        "--norm",
        "model",
        "--out",
        "lstm-out/snn.json",
      ],
      mentions: "LSTM",
      outputs: ["lstm-out"],
    },
    TOOLCHAIN_BAD_MODEL: {
      args: ["quantize", w("bad-snn.json", '{"format":"picospike-float-snn","version":1}'), "--calibration", "0", "--out", "tbm.cbor"],
      mentions: "bad-snn.json",
      outputs: ["tbm.cbor"],
    },
    TOOLCHAIN_QUANTIZE_RULE: { args: ["quantize", "wipe/snn.json", "--calibration", "0", "--out", "tqr.cbor"], mentions: "layer h", outputs: ["tqr.cbor"] },
    TOOLCHAIN_TRAINING: {
      args: ["train", "--snn", "--data-dir", "empty-idx", "--epochs", "1", "--quiet", "--out", "tt-out"],
      mentions: "no training images",
      outputs: ["tt-out"],
    },
  } satisfies Partial<Record<ErrorCode, Trigger>>);

  mkdirSync(join(dir, "emptybin"));
  w("fakebin/gcc", "#!/bin/sh\necho 'ps_net.c:1: error: broken on purpose' >&2\nexit 1\n");
  chmodSync(join(dir, "fakebin/gcc"), 0o755);
  mkdirSync(join(dir, "wipe"));
  writeFloatSnn(join(dir, "wipe/snn.json"), wipingSnn(), (path, data) => writeFileSync(path, data));
  for (const set of ["train", "t10k"]) {
    w(`idx-bad/${set}-images-idx3-ubyte`, Uint8Array.of(1, 2, 3, 4, 5));
    w(`idx-bad/${set}-labels-idx1-ubyte`, idx([0]));
  }
  w("empty-idx/train-images-idx3-ubyte", idx([0, 28, 28]));
  w("empty-idx/train-labels-idx1-ubyte", idx([0]));
  w("empty-idx/t10k-images-idx3-ubyte", idx([0, 28, 28]));
  w("empty-idx/t10k-labels-idx1-ubyte", idx([0]));
});

// The hostile NIR files (models/nir/testing/hostile.ts): `import` refuses each with its own code;
// `export` refuses a table NIR cannot express (this random table has a bias on a pooling layer).
beforeAll(async () => {
  const pooled = join(dir, "nir-export-unsupported.cbor");
  writeFileSync(pooled, encodeTable(randomTable(5)));
  TRIGGERS.INTERCHANGE_EXPORT_UNSUPPORTED = { args: ["export", pooled, "--to", "nir", "--out", "eu.nir"], mentions: "pooling", outputs: ["eu.nir"] };
  mkdirSync(join(dir, "nir"), { recursive: true });
  for (const [file, code] of await writeHostileNirFiles(join(dir, "nir"))) {
    if (!(code in ERROR_CODES) || TRIGGERS[code]) continue;
    const out = `nir-${code}.json`;
    TRIGGERS[code] = { args: ["import", file, "--out", out], mentions: /\S{3}/, outputs: [out, out.replace(/\.json$/, ".bin")] };
  }
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The temporary siblings writeFileAtomic would leave next to `path` (`.NAME.<pid>.tmp`). */
function tmpSiblings(path: string): string[] {
  const parent = dirname(path);
  if (!existsSync(parent)) return [];
  const prefix = `.${basename(path)}.`;
  return readdirSync(parent).filter((f) => f.startsWith(prefix) && f.endsWith(".tmp"));
}

describe("bad-input catalogue", () => {
  it("covers every code: triggered here or listed as unreachable, never both", () => {
    const triggered = Object.keys(TRIGGERS).sort();
    const unreachable = Object.keys(NOT_REACHABLE_FROM_CLI).sort();
    expect(triggered.filter((c) => unreachable.includes(c))).toEqual([]);
    expect([...triggered, ...unreachable].sort()).toEqual(Object.keys(ERROR_CODES).sort());
    for (const reason of Object.values(NOT_REACHABLE_FROM_CLI)) expect(reason.length).toBeGreaterThan(30);
  });

  it("commander's own usage errors are one CLI_USAGE line too (no help text after them)", async () => {
    const results = await Promise.all(
      [
        ["compare", "a.cbor", "b.cbor"],
        ["run", "model.cbor", "--no-such-option"],
      ].map((args) => picospike(args)),
    );
    for (const r of results) {
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^error CLI_USAGE: \S.{10,}\n$/);
    }
  });

  it("a device that hangs mid-run: the timed-out request leads to recovery, then DEVICE_DISCONNECTED naming it (why PROTOCOL_TIMEOUT is not final)", async () => {
    const r = await runTrigger({
      args: ["compare", "model.cbor", "--port", "$PORT", "--steps", "4", "--input", "random:0.1:1", "--samples", "3", "--out", "hang.spk"],
      device: {},
      deviceHearsFrames: 12,
      mentions: "",
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^error DEVICE_DISCONNECTED: .*no answer to [A-Z_]+ \(seq \d+\) after 6 attempts/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(existsSync(join(dir, "hang.spk"))).toBe(false);
  }, 60_000);

  it("every trigger fails with its code on one line, no stack trace, a specific message and no partial output", async () => {
    const entries = Object.entries(TRIGGERS) as Array<[ErrorCode, Trigger]>;
    const results = await pooled(entries, 4, async ([code, t]) => ({ code, t, r: await runTrigger(t) }));
    const problems: string[] = [];
    for (const { code, t, r } of results) {
      const lines = r.stderr.split("\n").filter((l) => l !== "");
      const errorLine = t.toolOutputAbove ? lines[lines.length - 1] : lines.length === 1 ? lines[0] : undefined;
      const say = (why: string): void => void problems.push(`${code} (${t.args.join(" ")}): ${why}\n--- stderr:\n${r.stderr}`);
      if (r.status === 0 || r.status === null) say(`exit status ${r.status}`);
      if (errorLine === undefined) say(`stderr has ${lines.length} lines, expected exactly one`);
      else if (!errorLine.startsWith(`error ${code}: `)) say(`error line is not 'error ${code}: ...'`);
      else {
        const message = errorLine.slice(`error ${code}: `.length);
        if (message.length < 12) say("message too short to say anything");
        if (typeof t.mentions === "string" ? !message.includes(t.mentions) : !t.mentions.test(message)) say(`message does not mention ${String(t.mentions)}`);
      }
      if (lines.some((l) => /^\s{2,}at /.test(l))) say("stack trace printed");
      if (t.toolOutputAbove && lines.slice(0, -1).some((l) => /^error [A-Z_]+: /.test(l))) say("error line not last");
      for (const out of t.outputs ?? []) {
        const full = join(dir, out);
        if (existsSync(full)) say(`left ${out} behind`);
        const tmp = tmpSiblings(full);
        if (tmp.length > 0) say(`left temporaries ${tmp.join(", ")}`);
      }
    }
    expect(problems).toEqual([]);
  }, 600_000); // about 80 CLI runs, 4 at a time (the NIR import triggers load HDF5 as WebAssembly); a loaded machine needs minutes
});
