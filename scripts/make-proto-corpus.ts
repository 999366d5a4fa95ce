/**
 * Writes the seed corpora of the protocol fuzz harnesses (firmware/fuzz/corpus/{cobs,proto}/) from
 * the shared protocol samples (firmware-host/testing/protocol-samples.ts), deterministically: the
 * same files, byte for byte, on every run. With --check it only verifies the checked-in corpora
 * equal what it would write (exit 1 on a difference); --out DIR writes under DIR instead.
 * Input layouts are those documented at the top of firmware/fuzz/fuzz_cobs.c and fuzz_proto.c.
 *
 *   npx tsx scripts/make-proto-corpus.ts [--check] [--out DIR]
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { cobsEncode } from "../firmware-host/cobs.js";
import { encodeFrame, frameBytes } from "../firmware-host/frame.js";
import { encodePayload, typeOf } from "../firmware-host/messages.js";
import { SAMPLE_MESSAGES } from "../firmware-host/testing/protocol-samples.js";

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
  files.set("mixed-512", cat(header(6), Uint8Array.from({ length: 512 }, (_, i) => (i % 7 === 0 ? 0 : (i * 31) & 0xff))));
  files.set("small-cap", cat([9, 0, 1], nonZero(40)));
  SAMPLE_MESSAGES.forEach((msg, i) => {
    // Decoded frames (zeros inside) for the round trip, and wire bytes for the stream decoder.
    const frame = frameBytes({ version: 1, type: typeOf(msg), seq: i, payload: encodePayload(msg) });
    files.set(`frame-${pad2(i)}-${msg.kind.toLowerCase()}`, cat(header(i & 0xff), frame));
    files.set(`wire-${pad2(i)}-${msg.kind.toLowerCase()}`, cat(header((i * 2 + 1) & 0xff), cobsEncode(frame), [0]));
  });
  return files;
}

/** Every corpus directory under firmware/fuzz/corpus/ and its files. */
export function protocolCorpora(): Map<string, Map<string, Uint8Array>> {
  return new Map([["cobs", cobsCorpus()], ["proto", protoCorpus()]]);
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
