/**
 * Cross-language protocol test: builds the C protocol code with the host gcc, runs its unit tests
 * (firmware/test/test_proto.c), and feeds the same byte stream to the C vector tool
 * (firmware/test/proto_vectors.c) and to the TS decoder: both must accept and reject the same
 * frames with the same codes, and the C side must re-encode every message to exactly the bytes TS
 * sent, and must decode every golden payload (testing/protocol-golden.ts) to the sample's field
 * values (printed by the generated firmware/test/proto_dump_generated.h) and encode it back to the
 * same bytes. Also checks the sources compile warning-free under clang and arm-none-eabi-gcc (Cortex-M0).
 * Without gcc the suite is skipped with a printed reason.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findTool, type ToolName } from "../boards/toolchain.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { ERROR_CODES, isPicospikeError } from "../../runtime/errors.js";
import { CobsDecoder, cobsEncode } from "./cobs.js";
import { crc16 } from "./crc16.js";
import { encodeFrame, frameBytes, parseFrame } from "./frame.js";
import { decodePayload, encodePayload, MSG, typeOf } from "./messages.js";
import { GOLDEN_PAYLOADS } from "../testing/protocol-golden.js";
import { SAMPLE_MESSAGES } from "../testing/protocol-samples.js";
import { FLAG, MESSAGES } from "./schema.js";

const ROOT = resolve(import.meta.dirname, "../..");
const FW = join(ROOT, "firmware");
const SOURCES = ["ps_crc16.c", "ps_cobs.c", "ps_frame.c", "ps_wire.c", "ps_proto.c"].map((f) => join(FW, "src", f));
const STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", `-I${join(FW, "include")}`, `-I${join(FW, "kernels")}`];

/** Tool detection is the boards' (firmware-host/boards/toolchain.ts): on PATH and executable. */
const hasTool = (tool: ToolName): boolean => findTool(tool) !== undefined;
const GCC = hasTool("gcc");
if (!GCC) console.log("skip: firmware-host/wire/protocol-c.test.ts needs gcc (Debian package gcc), which is not installed");

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Deterministic uint32 stream for the mutation corpus: the project's one PRNG. */
function rng(seed: number): () => number {
  const g = new Xorshift32(seed);
  return () => g.next();
}

/** The stream fed to both sides: valid frames of every message, then corrupted and mutated ones. */
function corpus(): Uint8Array {
  const parts: Uint8Array[] = [];
  const wire = (bytes: Uint8Array): void => void parts.push(Uint8Array.from([...cobsEncode(bytes), 0]));
  const seqs = [0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff];
  SAMPLE_MESSAGES.forEach((msg, i) => parts.push(encodeFrame({ version: 1, type: typeOf(msg), seq: seqs[i % seqs.length]!, payload: encodePayload(msg) })));
  const random = rng(0xc0ffee);
  for (const msg of SAMPLE_MESSAGES) {
    const good = frameBytes({ version: 1, type: typeOf(msg), seq: 7, payload: encodePayload(msg) });
    const flipped = good.slice();
    flipped[random() % flipped.length]! ^= 1 << (random() % 8);
    wire(flipped); // bad CRC or bad length
    wire(good.subarray(0, good.length - 1)); // truncated
    if (good.length > 8 + 1) {
      // Payload one byte short, header and CRC consistent: only the payload check can catch it.
      const payload = encodePayload(msg);
      wire(frameBytes({ version: 1, type: typeOf(msg), seq: 8, payload: payload.subarray(0, payload.length - 1) }));
      wire(frameBytes({ version: 1, type: typeOf(msg), seq: 9, payload: Uint8Array.from([...payload, 0x80]) }));
    }
    // Random byte mutations of the payload with a valid CRC: exercises every payload validator.
    for (let k = 0; k < 30; k++) {
      const payload = encodePayload(msg).slice();
      if (payload.length === 0) break;
      const n = 1 + (random() % 3);
      for (let j = 0; j < n; j++) payload[random() % payload.length] = random() & 0xff;
      wire(frameBytes({ version: 1, type: typeOf(msg), seq: k, payload }));
    }
  }
  wire(frameBytes({ version: 1, type: 0x7e, seq: 1, payload: new Uint8Array(0) })); // unknown type
  for (const t of Object.values(MSG)) wire(frameBytes({ version: 1, type: t, seq: 2, payload: Uint8Array.of(0xff) }));
  parts.push(Uint8Array.of(5, 1, 0)); // malformed COBS
  parts.push(Uint8Array.from([...new Uint8Array(700).fill(9), 0])); // oversize
  parts.push(Uint8Array.of(0, 0)); // flushes
  parts.push(encodeFrame({ version: 1, type: MSG.RT_STOP, seq: 3, payload: new Uint8Array(0) }));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The line firmware/test/proto_dump_generated.h prints for a message, built here from the schema and
 * the TypeScript fields: NAME then C-named fields in wire order (integers decimal, bytes hex, lists
 * comma-separated, event values after '/', sections layer:indices joined by ';', absent optional '-').
 */
function dumpLine(msg: (typeof SAMPLE_MESSAGES)[number]): string {
  const spec = MESSAGES.find((m) => m.name === msg.kind)!;
  const get = (name: string): unknown => (msg as unknown as Record<string, unknown>)[name];
  const list = (a: ArrayLike<number>): string => Array.from(a).join(",");
  const ascii = (t: string): string => Buffer.from(t, "latin1").toString("hex");
  const parts: string[] = [msg.kind];
  for (const f of spec.fields) {
    switch (f.kind) {
      case "scalar":
        parts.push(`${f.c}=${get(f.ts) as number}`);
        break;
      case "flags":
        parts.push(`${f.c}=${f.bits.reduce((v, b) => v | ((b.ts ? get(b.ts) === true : get(b.presence!) !== undefined) ? FLAG[b.bit] : 0), 0)}`);
        break;
      case "optional":
        parts.push(`${f.c}=${get(f.ts) === undefined ? "-" : (get(f.ts) as number)}`);
        break;
      case "bytes":
        parts.push(`${f.c}=${hex(get(f.ts) as Uint8Array)}`);
        break;
      case "string":
        parts.push(`${f.c}=${ascii(get(f.ts) as string)}`);
        break;
      case "rest":
        parts.push(`${f.c}=${f.text ? ascii(get(f.ts) as string) : hex(get(f.ts) as Uint8Array)}`);
        break;
      case "events": {
        const ev = get(f.ts) as { indices: Uint32Array; values?: Uint8Array };
        parts.push(`${f.c}=${list(ev.indices)}${ev.values ? `/${list(ev.values)}` : ""}`);
        break;
      }
      case "sections":
        parts.push(`${f.c}=${(get(f.ts) as Array<{ layer: number; indices: Uint32Array }>).map((x) => `${x.layer}:${list(x.indices)}`).join(";")}`);
        break;
      case "u16list":
        parts.push(`${f.c}=${list(get(f.ts) as number[])}`);
        break;
    }
  }
  return parts.join(" ");
}

/** What the TS side says about each chunk, in the C tool's line format. */
function tsLines(stream: Uint8Array): string[] {
  const lines: string[] = [];
  for (const chunk of new CobsDecoder().push(stream)) {
    if (chunk.kind !== "frame") {
      lines.push(chunk.kind);
      continue;
    }
    try {
      const frame = parseFrame(chunk.bytes);
      const msg = decodePayload(frame.type, frame.payload);
      lines.push(`ok ${hex(encodeFrame({ ...frame, payload: encodePayload(msg) }))}`);
    } catch (e) {
      if (!isPicospikeError(e)) throw e;
      lines.push(`err ${ERROR_CODES[e.code].num}`);
    }
  }
  return lines;
}

describe.skipIf(!GCC)("protocol: C and TypeScript agree", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "picospike-proto-"));
    for (const [name, main] of [
      ["test_proto", "test_proto.c"],
      ["proto_vectors", "proto_vectors.c"],
    ] as const) {
      const r = spawnSync("gcc", [...STRICT, "-O1", ...SOURCES, join(FW, "test", main), "-o", join(dir, name)], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`gcc failed for ${main}:\n${r.stderr}`);
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the C unit tests pass (firmware/test/test_proto.c)", () => {
    const r = spawnSync(join(dir, "test_proto"), { encoding: "utf8", timeout: 30_000 });
    expect(r.stdout).toMatch(/^ok \d+ checks/m);
    expect(r.status).toBe(0);
  });

  it("C and TS compute the same CRC and treat every frame of the corpus alike", () => {
    const stream = corpus();
    const r = spawnSync(join(dir, "proto_vectors"), { input: stream, encoding: "utf8", timeout: 30_000, maxBuffer: 64 << 20 });
    expect(r.status).toBe(0);
    const [crcLine, ...cLines] = r.stdout.trimEnd().split("\n");
    expect(crcLine).toBe(`crc ${crc16(new TextEncoder().encode("123456789")).toString(16)}`);
    const ts = tsLines(stream);
    expect(cLines.length).toBe(ts.length);
    for (let i = 0; i < ts.length; i++) expect(cLines[i], `chunk ${i}`).toBe(ts[i]);
    // The corpus exercises acceptance and every kind of rejection.
    const kinds = new Set(ts.map((l) => (l.split(" ")[0] === "err" ? l : l.split(" ")[0])));
    for (const k of ["ok", "err 401", "err 402", "err 404", "err 408", "oversize", "malformed"]) expect(kinds).toContain(k);
    // Enough of the mutated payloads must survive decoding to compare re-encodings, not just rejections.
    expect(ts.filter((l) => l.startsWith("ok")).length).toBeGreaterThan(200);
  });

  it("C re-encodes every sample message to exactly the bytes TS sent", () => {
    const frames = SAMPLE_MESSAGES.map((msg, i) => encodeFrame({ version: 1, type: typeOf(msg), seq: (i * 4099) & 0xffff, payload: encodePayload(msg) }));
    const input = Uint8Array.from(frames.flatMap((f) => [...f]));
    const r = spawnSync(join(dir, "proto_vectors"), { input, encoding: "utf8", timeout: 30_000 });
    const lines = r.stdout.trimEnd().split("\n").slice(1);
    expect(lines).toEqual(frames.map((f) => `ok ${hex(f)}`));
  });

  it("C decodes every golden payload to the sample's field values and encodes it back to the same bytes", () => {
    const frames = GOLDEN_PAYLOADS.map(([, type, golden], i) => encodeFrame({ version: 1, type, seq: i, payload: Buffer.from(golden, "hex") }));
    const input = Uint8Array.from(frames.flatMap((f) => [...f]));
    const r = spawnSync(join(dir, "proto_vectors"), ["--dump"], { input, encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split("\n").slice(1);
    expect(lines).toEqual(frames.map((f, i) => `ok ${hex(f)} | ${dumpLine(SAMPLE_MESSAGES[i]!)}`));
  });

  for (const [tool, extra] of [
    ["clang", []],
    ["arm-none-eabi-gcc", ["-mcpu=cortex-m0", "-mthumb", "-Os"]],
  ] as const) {
    const present = hasTool(tool);
    if (!present) console.log(`skip: ${tool} is not installed, so the warning check with it is not run`);
    it.skipIf(!present)(`compiles warning-free with ${tool} ${extra.join(" ")}`, () => {
      for (const src of SOURCES) {
        const r = spawnSync(tool, [...STRICT, ...extra, "-c", src, "-o", join(dir, "x.o")], { encoding: "utf8" });
        expect(r.stderr, `${tool} ${src}`).toBe("");
        expect(r.status).toBe(0);
      }
    });
  }
});
