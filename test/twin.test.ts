/**
 * The twin test: the TypeScript mock board and the C device (ps_device.c built for the host) must
 * send byte-identical output for every session of the dispatcher fuzz corpus (firmware/fuzz/corpus/
 * device, the record format of fuzz_device.c), with the same clock. The C side runs in
 * firmware/test/twin_device.c; this file replays the same records through the mock, over a transport
 * that only records what it writes, and compares frame by frame (with the index of the record that
 * caused each frame, so a difference names its request). Without gcc the suite is skipped.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Xorshift32 } from "../runtime/prng.js";
import { FakeClock, MOCK_FIRMWARE_HASH, MockBoard } from "../firmware-host/mock/mock-board.js";
import type { Transport } from "../firmware-host/transports/transport.js";
import { CobsDecoder } from "../firmware-host/wire/cobs.js";
import { encodeFrame, parseFrame, PROTOCOL_VERSION } from "../firmware-host/wire/frame.js";
import { COST_UNIT, decodePayload } from "../firmware-host/wire/messages.js";

const ROOT = resolve(import.meta.dirname, "..");
const FW = join(ROOT, "firmware");
/**
 * Session folders replayed: the checked-in dispatcher corpus, plus any listed in PICOSPIKE_TWIN_CORPUS
 * (colon-separated), e.g. the corpus a long fuzz run grew (scripts/fuzz-long.sh: build/fuzz/corpus/device).
 */
const CORPORA = [join(FW, "fuzz", "corpus", "device"), ...(process.env["PICOSPIKE_TWIN_CORPUS"] ?? "").split(":").filter((d) => d !== "")];
const INCLUDES = [join(FW, "include"), join(FW, "kernels")];
const C_SOURCES = [
  "ps_device.c",
  "ps_device_step.c",
  "ps_device_model.c",
  "ps_device_realtime.c",
  "ps_device_readback.c",
  "ps_net.c",
  "ps_kernels_generated.c",
  "ps_table.c",
  "ps_sha256.c",
  "ps_proto.c",
  "ps_wire.c",
  "ps_frame.c",
  "ps_cobs.c",
  "ps_crc16.c",
];

const hasTool = (tool: string): boolean => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0;
const GCC = hasTool("gcc");
if (!GCC) console.log("skip: test/twin.test.ts needs gcc (Debian package gcc), which is not installed");

/** Mutated sessions replayed besides the corpus itself (deterministic: seeded xorshift32). */
const MUTANTS = 2000;

/**
 * `count` sessions derived from `seeds` the way a fuzzer would: byte overwrites, splices of another
 * session's bytes, inserted clock ticks and deletions, one to four per session. Each reaches the
 * device as arbitrary records, so both sides meet requests in states and orders the seeds never build.
 */
function mutants(seeds: readonly Uint8Array[], count: number): Uint8Array[] {
  const rng = new Xorshift32(0x7e1e5);
  const below = (n: number): number => rng.next() % n;
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const a = Array.from(seeds[below(seeds.length)]!);
    for (let k = 1 + below(4); k > 0; k--) {
      const r = below(10);
      if (r < 4 && a.length > 0) a[below(a.length)] = below(256);
      else if (r < 6) {
        const b = seeds[below(seeds.length)]!;
        const from = below(b.length);
        a.splice(below(a.length + 1), 0, ...b.subarray(from, from + 1 + below(64)));
      } else if (r < 8) a.splice(below(a.length + 1), 0, 0xfe, below(256));
      else if (a.length > 0) a.splice(below(a.length), 1 + below(16));
    }
    out.push(Uint8Array.from(a));
  }
  return out;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A device-end transport that records every write, tagged with the record being fed. */
class RecordingTransport implements Transport {
  readonly lines: string[] = [];
  record = -1;
  private readonly listeners = new Set<(bytes: Uint8Array) => void>();
  readonly isOpen = true;
  write(bytes: Uint8Array): Promise<void> {
    this.lines.push(`${this.record} ${hex(bytes)}`);
    return Promise.resolve();
  }
  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  onClose(): () => void {
    return () => undefined;
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** Delivers bytes to the device. */
  feed(bytes: Uint8Array): void {
    for (const l of this.listeners) l(bytes);
  }
}

/** Replays one session through a fresh mock board: the mirror of twin_device.c `run`. */
async function mockSession(data: Uint8Array): Promise<string[]> {
  const transport = new RecordingTransport();
  const clock = new FakeClock();
  const board = new MockBoard(transport, { board: "twin", clock, costUnit: COST_UNIT.MICROSECONDS });
  await board.flushed();
  let at = 0;
  for (let record = 0; at < data.length; record++) {
    transport.record = record;
    const op = data[at++]!;
    if (op < 0x80 || op === 0xfd) {
      let version = PROTOCOL_VERSION;
      let type = op;
      if (op === 0xfd) {
        if (data.length - at < 2) break;
        version = data[at]!;
        type = data[at + 1]!;
        at += 2;
      }
      if (data.length - at < 3) break;
      const seq = data[at]! | (data[at + 1]! << 8);
      const len = data[at + 2]!;
      at += 3;
      if (data.length - at < len) break;
      transport.feed(Uint8Array.of(0)); // ends whatever a RAW record left half-received
      transport.feed(encodeFrame({ version, type, seq, payload: data.subarray(at, at + len) }));
      at += len;
    } else if (op === 0xfe) {
      if (at >= data.length) break;
      clock.advance((data[at++]! + 1) * 250);
    } else if (op === 0xff) {
      if (at >= data.length) break;
      const len = data[at++]!;
      if (data.length - at < len) break;
      transport.feed(data.subarray(at, at + len));
      at += len;
    }
    clock.advance(0); // ps_device_poll(): real-time steps that fell due
    await board.flushed();
  }
  board.shutdown();
  return transport.lines;
}

/** A readable account of one output line: record, frame header and decoded message. */
function describeLine(line: string | undefined): string {
  if (line === undefined) return "(nothing)";
  const [record, h] = line.split(" ");
  try {
    const chunk = [...new CobsDecoder().push(Buffer.from(h!, "hex"))][0]!;
    if (chunk.kind !== "frame") return `${line} (${chunk.kind})`;
    const frame = parseFrame(chunk.bytes);
    const msg = decodePayload(frame.type, frame.payload);
    return `record ${record} seq ${frame.seq}: ${JSON.stringify(msg, (_, v: unknown) => (v instanceof Uint8Array || v instanceof Uint32Array ? Array.from(v) : v))}`;
  } catch (e) {
    return `${line} (${String(e)})`;
  }
}

describe.skipIf(!GCC)("twins: the mock board and the C device send the same bytes", () => {
  let dir = "";
  let exe = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "picospike-twin-"));
    exe = join(dir, "twin_device");
    const hash = Array.from(MOCK_FIRMWARE_HASH, (b: number) => `0x${b.toString(16)}`).join(",");
    const r = spawnSync(
      "gcc",
      [
        "-std=c99",
        "-O1",
        "-Wall",
        "-Wextra",
        "-Werror",
        ...INCLUDES.map((d) => `-I${d}`),
        `-DPS_FIRMWARE_HASH=${hash}`,
        join(FW, "test", "twin_device.c"),
        ...C_SOURCES.map((f) => join(FW, "src", f)),
        "-o",
        exe,
      ],
      { encoding: "utf8" },
    );
    if (r.status !== 0) throw new Error(`gcc failed:\n${r.stderr}`);
  }, 120_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("every session of the dispatcher corpus gives byte-identical output", async () => {
    const corpus = CORPORA.flatMap((dir) =>
      readdirSync(dir)
        .sort()
        .map((f) => join(dir, f)),
    );
    const mutantDir = join(dir, "mutants");
    mkdirSync(mutantDir);
    const derived = mutants(
      corpus.map((f) => new Uint8Array(readFileSync(f))),
      MUTANTS,
    ).map((bytes, i) => {
      const file = join(mutantDir, `mutant-${String(i).padStart(5, "0")}`);
      writeFileSync(file, bytes);
      return file;
    });
    const files = [...corpus, ...derived];
    const started = performance.now();
    const r = spawnSync(exe, files, { encoding: "utf8", maxBuffer: 256 << 20, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const cSessions = new Map<string, string[]>();
    let current: string[] = [];
    for (const line of r.stdout.split("\n")) {
      if (line.startsWith("session ")) cSessions.set(line.slice(8), (current = []));
      else if (line) current.push(line);
    }
    let frames = 0;
    for (const file of files) {
      const c = cSessions.get(file) ?? [];
      const ts = await mockSession(new Uint8Array(readFileSync(file)));
      const first = ts.findIndex((line, i) => line !== c[i]);
      const at = first >= 0 ? first : ts.length !== c.length ? Math.min(ts.length, c.length) : -1;
      if (at >= 0) {
        expect.fail(`${file}: output differs at frame ${at}\n  mock: ${describeLine(ts[at])}\n  C:    ${describeLine(c[at])}`);
      }
      frames += ts.length;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `twin: ${files.length} sessions (${corpus.length} of the corpus, ${derived.length} mutants), ${frames} frames byte-identical between the mock and the C device in ${seconds.toFixed(2)} s`,
    );
    expect(files.length).toBeGreaterThan(MUTANTS);
  }, 300_000);
});
