/**
 * Measures how many corrupted frames get past the receiver's checks (COBS, length field, CRC-16)
 * when a stream of frames goes through the fault injector (firmware-host/transports/fault.ts): every accepted
 * frame is compared with the frame sent under its sequence number. Prints one JSON line; the
 * figures are recorded in docs/RELIABILITY.md.
 *
 *   npx tsx scripts/crc-escape-check.ts [--frames N] [--seed S] [--corrupt P] [--drop P]
 *
 * Defaults: 1,000,000 RT_INPUT frames of 0..39 events (10..70 bytes), seed 6, 1% corruption, 1% drops.
 */
import { CobsDecoder } from "../firmware-host/wire/cobs.js";
import { FaultyTransport, makeFaultSpec } from "../firmware-host/transports/fault.js";
import { encodeFrame, frameBytes, parseFrame } from "../firmware-host/wire/frame.js";
import { decodePayload, encodePayload, type Message, typeOf } from "../firmware-host/wire/messages.js";
import { LoopbackPair } from "../firmware-host/transports/transport.js";
import { isPicospikeError } from "../runtime/errors.js";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value)) throw new Error(`--${name} needs a number`);
  return value;
}

async function main(): Promise<void> {
  const frames = option("frames", 1_000_000);
  const seed = option("seed", 6);
  const pair = new LoopbackPair();
  const faulty = new FaultyTransport(pair.a, makeFaultSpec({ seed, hostToDevice: { corrupt: option("corrupt", 0.01), drop: option("drop", 0.01) } }));
  const sent = new Map<number, string>();
  const decoder = new CobsDecoder();
  const seen = { accepted: 0, corruptedAccepted: 0, corruptedWithValidPayload: 0, rejectedCobsOrLength: 0, rejectedCrc: 0 };
  pair.b.onData((bytes) => {
    for (const chunk of decoder.push(bytes)) {
      if (chunk.kind !== "frame") {
        seen.rejectedCobsOrLength++;
        continue;
      }
      try {
        const frame = parseFrame(chunk.bytes);
        seen.accepted++;
        if (sent.get(frame.seq) !== Buffer.from(chunk.bytes).toString("hex")) {
          seen.corruptedAccepted++;
          try {
            decodePayload(frame.type, frame.payload);
            seen.corruptedWithValidPayload++;
          } catch {
            // the payload validators caught what the CRC missed
          }
        }
      } catch (e) {
        if (isPicospikeError(e) && e.code === "PROTOCOL_BAD_CRC") seen.rejectedCrc++;
        else seen.rejectedCobsOrLength++;
      }
    }
  });
  for (let i = 0; i < frames; i++) {
    const count = (i * 7919) % 40;
    const msg: Message = { kind: "RT_INPUT", events: { indices: Uint32Array.from({ length: count }, (_, k) => k * 3 + (i % 3)) } };
    const frame = { version: 1, type: typeOf(msg), seq: i & 0xffff, payload: encodePayload(msg) };
    sent.set(frame.seq, Buffer.from(frameBytes(frame)).toString("hex"));
    await faulty.write(encodeFrame(frame));
    if (i % 1000 === 999) await new Promise((r) => setTimeout(r, 0)); // let the loopback deliver
  }
  await new Promise((r) => setTimeout(r, 10));
  const injected = faulty.counters.hostToDevice;
  console.log(
    JSON.stringify({ frames, seed, framesDamaged: injected.framesDamaged, bytesDropped: injected.bytesDropped, bitsFlipped: injected.bitsFlipped, ...seen }),
  );
}

await main();
