/**
 * Writes the seed corpora of the protocol fuzz harnesses (firmware/fuzz/corpus/{cobs,proto,device}/)
 * from the shared protocol samples (firmware-host/testing/protocol-samples.ts) and, for the
 * dispatcher harness (fuzz_device.c), whole host sessions with two small models, deterministically:
 * the same files, byte for byte, on every run. With --check it only verifies the checked-in corpora
 * equal what it would write (exit 1 on a difference); --out DIR writes under DIR instead.
 * Input layouts are those documented at the top of firmware/fuzz/fuzz_cobs.c, fuzz_proto.c and fuzz_device.c.
 *
 *   npx tsx scripts/make-proto-corpus.ts [--check] [--out DIR]
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cobsEncode } from "../firmware-host/wire/cobs.js";
import { encodeFrame, frameBytes } from "../firmware-host/wire/frame.js";
import { encodePayload, typeOf, type Message } from "../firmware-host/wire/messages.js";
import { SAMPLE_MESSAGES } from "../firmware-host/testing/protocol-samples.js";
import { encodeTable } from "../runtime/format.js";
import { DEFAULT_NEURON, type EventTable, type Plasticity } from "../runtime/model.js";

/** fuzz_proto.c modes. */
const MODE_WIRE = 0;
const MODE_PAYLOAD = 1;
const MODE_FRAME = 2;
/** fuzz_proto.c max_frame selector: 0 is 512, 1 is 65 (the smallest a device may announce, plus one). */
const MAX_FRAME_512 = 0;
const MAX_FRAME_SMALL = 1;
/** fuzz_cobs.c cap field for a full-size (515-byte) receive buffer: 1 + (514 % 515). */
const COBS_FULL_CAP = [0x02, 0x02] as const;

const cat = (...parts: ArrayLike<number>[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const pad2 = (i: number): string => String(i).padStart(2, "0");

/** The proto corpus: name → bytes. */
function protoCorpus(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const streams: Uint8Array[] = [];
  SAMPLE_MESSAGES.forEach((msg, i) => {
    const name = `${pad2(i)}-${msg.kind.toLowerCase()}`;
    const type = typeOf(msg);
    const payload = encodePayload(msg);
    const seq = (i * 4099) & 0xffff;
    const wire = encodeFrame({ version: 1, type, seq, payload });
    streams.push(wire);
    files.set(`wire-${name}`, cat([MODE_WIRE, MAX_FRAME_512], wire));
    files.set(`payload-${name}`, cat([MODE_PAYLOAD, MAX_FRAME_512, type], payload));
    files.set(`frame-${name}`, cat([MODE_FRAME, MAX_FRAME_512, 1, type, seq & 0xff, seq >>> 8], payload));
  });
  // The whole session's worth of frames in one stream, with flushes, as a device would receive it.
  files.set("wire-all-samples", cat([MODE_WIRE, MAX_FRAME_512, 0], ...streams));
  files.set("wire-all-samples-small-limit", cat([MODE_WIRE, MAX_FRAME_SMALL], ...streams));
  // Damage the decoder must count and survive: malformed COBS, an oversize chunk, a bad CRC, a wrong length.
  files.set("wire-malformed-cobs", Uint8Array.of(MODE_WIRE, MAX_FRAME_512, 5, 1, 0, 3, 0xff, 0));
  files.set("wire-oversize", cat([MODE_WIRE, MAX_FRAME_512], new Uint8Array(600).fill(7), [0], streams[0] ?? []));
  const good = frameBytes({ version: 1, type: 0x23, seq: 1, payload: new Uint8Array(0) });
  const badCrc = good.slice();
  badCrc[badCrc.length - 1]! ^= 0x40;
  files.set("wire-bad-crc", cat([MODE_WIRE, MAX_FRAME_512], cobsEncode(badCrc), [0]));
  const badLen = good.slice();
  badLen[4] = 3;
  files.set("wire-bad-length", cat([MODE_WIRE, MAX_FRAME_512], cobsEncode(badLen), [0]));
  files.set("frame-unknown-type", Uint8Array.of(MODE_FRAME, MAX_FRAME_512, 1, 0x7e, 0, 0));
  files.set("frame-other-version", Uint8Array.of(MODE_FRAME, MAX_FRAME_512, 2, 0x01, 0, 0, 1, 2, 0xef, 0xbe, 0xad, 0xde));
  return files;
}

/** The COBS corpus: name → bytes (cap, cap, seed, data). */
function cobsCorpus(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const header = (seed: number): number[] => [...COBS_FULL_CAP, seed];
  const nonZero = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => 1 + (i % 255));
  files.set("empty", Uint8Array.from(header(0)));
  files.set("zeros", cat(header(0), new Uint8Array(16)));
  files.set("nonzero-253", cat(header(2), nonZero(253)));
  files.set("nonzero-254", cat(header(2), nonZero(254)));
  files.set("nonzero-255", cat(header(2), nonZero(255)));
  files.set("nonzero-508", cat(header(4), nonZero(508)));
  files.set(
    "mixed-512",
    cat(
      header(6),
      Uint8Array.from({ length: 512 }, (_, i) => (i % 7 === 0 ? 0 : (i * 31) & 0xff)),
    ),
  );
  files.set("small-cap", cat([9, 0, 1], nonZero(40)));
  SAMPLE_MESSAGES.forEach((msg, i) => {
    // Decoded frames (zeros inside) for the round trip, and wire bytes for the stream decoder.
    const frame = frameBytes({ version: 1, type: typeOf(msg), seq: i, payload: encodePayload(msg) });
    files.set(`frame-${pad2(i)}-${msg.kind.toLowerCase()}`, cat(header(i & 0xff), frame));
    files.set(`wire-${pad2(i)}-${msg.kind.toLowerCase()}`, cat(header((i * 2 + 1) & 0xff), cobsEncode(frame), [0]));
  });
  return files;
}

/** fuzz_device.c record ops (other than a frame type 0x00..0x7f). */
const OP_VFRAME = 0xfd;
const OP_TICK = 0xfe;
const OP_RAW = 0xff;
/** Largest payload a fuzz_device.c FRAME record carries (one length byte). */
const RECORD_PAYLOAD_MAX = 255;
/** Model bytes per MODEL_CHUNK so the chunk payload (offset u32, length u16, data) fits a record. */
const RECORD_CHUNK_DATA = RECORD_PAYLOAD_MAX - 6;

const RSTDP: Plasticity = {
  rule: "rstdp",
  preTraceShift: 2,
  postTraceShift: 2,
  traceIncrement: 1024,
  aPlus: 96,
  aMinus: 64,
  eligibilityShift: 3,
  learningShift: 6,
  baselineShift: 2,
  wMin: -100,
  wMax: 100,
};

/** Two small tables: a plastic (R-STDP int8 dense, then pair STDP int4 with recurrence) and a plain sparse one. */
function deviceModels(): Map<string, EventTable> {
  const provenance = { source: "fuzz seed", tool: "scripts/make-proto-corpus.ts", settings: {}, layerScales: [1, 1] };
  const plastic: EventTable = {
    input: { size: 8, encoding: "rate", seed: 1 },
    layers: [
      {
        name: "learn",
        size: 4,
        input: {
          kind: "dense",
          inputs: 8,
          outputs: 4,
          weights: { bits: 8, count: 32, data: Int8Array.from({ length: 32 }, (_, k) => ((k * 37) % 61) - 10), shift: Uint8Array.of(0) },
        },
        neuron: { ...DEFAULT_NEURON, threshold: 40 },
        plasticity: RSTDP,
      },
      {
        name: "out",
        size: 3,
        input: {
          kind: "dense",
          inputs: 4,
          outputs: 3,
          weights: { bits: 4, count: 12, data: Uint8Array.from({ length: 6 }, (_, k) => (k * 53) & 0x77), shift: Uint8Array.of(2, 2, 2) },
        },
        recurrent: {
          kind: "dense",
          inputs: 3,
          outputs: 3,
          weights: { bits: 8, count: 9, data: Int8Array.of(0, -5, -5, -5, 0, -5, -5, -5, 0), shift: Uint8Array.of(0) },
        },
        neuron: { ...DEFAULT_NEURON, threshold: 12 },
        plasticity: { ...RSTDP, rule: "stdp", wMin: -8, wMax: 7 },
      },
    ],
    readout: { kind: "count" },
    provenance,
  };
  const plain: EventTable = {
    input: { size: 6, encoding: "rate", seed: 2 },
    layers: [
      {
        name: "sparse",
        size: 5,
        input: {
          kind: "sparse",
          inputs: 6,
          outputs: 5,
          rowPtr: Uint32Array.of(0, 2, 3, 5, 6, 8, 9),
          cols: Uint16Array.of(0, 3, 1, 2, 4, 0, 1, 4, 3),
          weights: { bits: 16, count: 9, data: Int16Array.of(300, -20, 500, 90, 700, -300, 250, 400, 1000), shift: Uint8Array.of(3) },
        },
        neuron: { ...DEFAULT_NEURON, threshold: 30 },
      },
    ],
    readout: { kind: "count" },
    provenance: { ...provenance, layerScales: [1] },
  };
  return new Map([
    ["plastic", plastic],
    ["plain", plain],
  ]);
}

/** fuzz_device.c input builder: frame records with increasing sequence numbers, ticks and raw bytes. */
class Session {
  private readonly parts: number[] = [];
  private seq = 0;
  /** The last frame record's bytes, to repeat it as a duplicate. */
  private lastRecord: number[] = [];
  /** A frame record of `msg` (protocol version 1) with the next sequence number. */
  send(msg: Message): this {
    const payload = encodePayload(msg);
    if (payload.length > RECORD_PAYLOAD_MAX) throw new Error(`${msg.kind} payload ${payload.length} bytes: too long for a record`);
    this.lastRecord = [typeOf(msg), this.seq & 0xff, this.seq >>> 8, payload.length, ...payload];
    this.parts.push(...this.lastRecord);
    this.seq = (this.seq + 1) & 0xffff;
    return this;
  }
  /** The last frame again, same sequence number (the device must resend its stored answer). */
  duplicate(): this {
    this.parts.push(...this.lastRecord);
    return this;
  }
  /** A frame with an explicit header version and type. */
  versioned(version: number, type: number, payload: ArrayLike<number>): this {
    this.parts.push(OP_VFRAME, version, type, this.seq & 0xff, this.seq >>> 8, payload.length, ...Array.from(payload));
    this.seq = (this.seq + 1) & 0xffff;
    return this;
  }
  /** Advances the virtual clock (n + 1) × 250 µs and polls. */
  tick(n: number): this {
    this.parts.push(OP_TICK, n);
    return this;
  }
  /** Raw wire bytes, at most 255 per record. */
  raw(bytes: ArrayLike<number>): this {
    const all = Array.from(bytes);
    for (let i = 0; i < all.length; i += 255) {
      const piece = all.slice(i, i + 255);
      this.parts.push(OP_RAW, piece.length, ...piece);
    }
    return this;
  }
  hello(): this {
    return this.send({ kind: "HELLO", protoMin: 1, protoMax: 1, nonce: 0x5eed });
  }
  /** MODEL_BEGIN, chunks, MODEL_END of `table`. */
  upload(table: EventTable): this {
    const file = encodeTable(table);
    this.send({ kind: "MODEL_BEGIN", totalLength: file.length, sha256: new Uint8Array(createHash("sha256").update(file).digest()) });
    for (let offset = 0; offset < file.length; offset += RECORD_CHUNK_DATA) {
      this.send({ kind: "MODEL_CHUNK", offset, data: file.subarray(offset, offset + RECORD_CHUNK_DATA) });
    }
    return this.send({ kind: "MODEL_END" });
  }
  step(step: number, indices: readonly number[], options: { more?: boolean; values?: readonly number[] } = {}): this {
    const events =
      options.values === undefined ? { indices: Uint32Array.from(indices) } : { indices: Uint32Array.from(indices), values: Uint8Array.from(options.values) };
    return this.send({ kind: "STEP", step, more: options.more ?? false, wantCost: true, reportMask: 0xffffffff, events });
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** The dispatcher corpus: whole sessions (name → bytes) in fuzz_device.c's record layout. */
function deviceCorpus(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const models = deviceModels();
  const plastic = models.get("plastic")!;
  const plain = models.get("plain")!;
  const all = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  // Lockstep learning: upload, steps, rewards, every readback, resets, stats, a duplicate.
  const learn = new Session().hello().upload(plastic);
  for (let t = 0; t < 6; t++) {
    learn.step(t, t % 2 === 0 ? all(8) : [1, 3, 5]);
    if (t === 2) learn.duplicate();
    if (t % 2 === 1) learn.send({ kind: "REWARD", targetStep: t + 1, reward: t === 3 ? -200 : 300 });
  }
  for (let what = 0; what <= 5; what++) {
    for (let layer = 0; layer <= 2; layer++) learn.send({ kind: "READ_STATE", what, layer, offset: 0, length: 64 });
  }
  learn.send({ kind: "READ_STATE", what: 1, layer: 0, offset: 30, length: 100 });
  learn.send({ kind: "GET_STATS" }).send({ kind: "RESET_STATE", what: 0 }).step(0, [0, 7]).send({ kind: "RESET_STATE", what: 1 }).send({ kind: "GET_STATS" });
  files.set("session-lockstep-learning", learn.bytes());

  // STEP in parts (MORE), with and without values, then one out of order and one out of range.
  files.set(
    "session-step-parts",
    new Session()
      .hello()
      .upload(plastic)
      .step(0, [0, 2], { more: true })
      .step(0, [4, 6], { more: true, values: [3, 255] })
      .step(0, [7])
      .step(1, [5], { more: true })
      .step(1, [2])
      .step(1, [9])
      .step(2, [1])
      .bytes(),
  );

  // Real time: start, inputs, time passing, a reward, stop, lockstep again.
  const rt = new Session().hello().upload(plastic).send({ kind: "RT_START", periodUs: 1000, wantCost: true, reportMask: 3 });
  rt.send({ kind: "RT_INPUT", events: { indices: Uint32Array.from(all(8)) } }).send({
    kind: "RT_INPUT",
    events: { indices: Uint32Array.of(1, 2), values: Uint8Array.of(4, 250) },
  });
  rt.tick(3)
    .send({ kind: "REWARD", targetStep: 0, reward: 500 })
    .send({ kind: "RT_INPUT", events: { indices: Uint32Array.of(0, 6) } })
    .tick(10);
  rt.send({ kind: "STEP", step: 0, more: false, wantCost: false, reportMask: 1, events: { indices: new Uint32Array(0) } })
    .send({ kind: "RT_STOP" })
    .send({ kind: "GET_STATS" })
    .step(20, [1]);
  files.set("session-realtime", rt.bytes());

  // The plain sparse model, then a second upload replacing it, with a failed one in between.
  const swap = new Session()
    .hello()
    .upload(plain)
    .step(0, [0, 1, 2, 3, 4, 5])
    .step(1, [5])
    .send({ kind: "READ_STATE", what: 1, layer: 0, offset: 0, length: 18 });
  swap
    .send({ kind: "MODEL_BEGIN", totalLength: 40, sha256: new Uint8Array(32) })
    .send({ kind: "MODEL_CHUNK", offset: 0, data: new Uint8Array(40).fill(0xa0) })
    .send({ kind: "MODEL_END" });
  swap.upload(plastic).step(0, [3]);
  files.set("session-model-swap", swap.bytes());

  // Before a handshake, a HELLO of another version, then every sample message after a handshake.
  const samples = new Session().send({ kind: "GET_STATS" }).step(0, [1]).versioned(2, 0x01, [2, 2, 0, 0, 0, 0]).hello();
  for (const msg of SAMPLE_MESSAGES) if (encodePayload(msg).length <= RECORD_PAYLOAD_MAX) samples.send(msg);
  files.set("session-samples", samples.bytes());

  // Damaged wire bytes between good frames: malformed COBS, a bad CRC, an unknown type, another version.
  const good = frameBytes({ version: 1, type: 0x50, seq: 9, payload: new Uint8Array(0) });
  const badCrc = good.slice();
  badCrc[badCrc.length - 1]! ^= 0x40;
  files.set(
    "session-damaged",
    new Session()
      .hello()
      .raw([5, 1, 0, 3, 0xff, 0])
      .raw([...cobsEncode(badCrc), 0])
      .raw([...cobsEncode(good), 0])
      .raw(new Uint8Array(300).fill(7))
      .send({ kind: "GET_STATS" })
      .versioned(1, 0x7e, [])
      .versioned(2, 0x50, [])
      .send({ kind: "GET_STATS" })
      .bytes(),
  );
  return files;
}

/** Every corpus directory under firmware/fuzz/corpus/ and its files. */
export function protocolCorpora(): Map<string, Map<string, Uint8Array>> {
  return new Map([
    ["cobs", cobsCorpus()],
    ["proto", protoCorpus()],
    ["device", deviceCorpus()],
  ]);
}

function main(argv: readonly string[]): number {
  const check = argv.includes("--check");
  const outAt = argv.indexOf("--out");
  const root = outAt >= 0 && argv[outAt + 1] ? resolve(argv[outAt + 1]!) : resolve(import.meta.dirname, "..", "firmware", "fuzz", "corpus");
  let differences = 0;
  for (const [dirName, files] of protocolCorpora()) {
    const dir = join(root, dirName);
    if (check) {
      const present = existsSync(dir) ? readdirSync(dir) : [];
      for (const [name, bytes] of files) {
        const path = join(dir, name);
        if (!existsSync(path) || Buffer.compare(readFileSync(path), Buffer.from(bytes)) !== 0) {
          console.error(`corpus differs: ${dirName}/${name}`);
          differences++;
        }
      }
      for (const name of present) {
        if (!files.has(name)) {
          console.error(`corpus file not generated: ${dirName}/${name}`);
          differences++;
        }
      }
      continue;
    }
    // Regenerate the directory wholly, so renamed samples leave no stale files.
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
    console.log(`${dirName}: ${files.size} files in ${dir}`);
  }
  if (check && differences === 0) console.log("protocol fuzz corpora are up to date");
  return differences === 0 ? 0 : 1;
}

if (process.argv[1]?.endsWith("make-proto-corpus.ts")) {
  process.exitCode = main(process.argv.slice(2));
}
