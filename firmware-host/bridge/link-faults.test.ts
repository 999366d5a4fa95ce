/**
 * The Link over a faulty line (spec/protocol.md §2, §4.5, §7): a host Link on a FaultyTransport and a
 * device Link on the other end of a loopback pair. Taps on both ends record every frame each side
 * wrote and every frame that passed COBS, length and CRC on the other side, so the tests can check
 * what was accepted against what was sent, independently of the link's own counters.
 */
import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { CobsDecoder } from "../wire/cobs.js";
import { FaultyTransport, makeFaultSpec, type FaultSpec } from "../transports/fault.js";
import { type Frame, parseFrame } from "../wire/frame.js";
import { Link } from "./link.js";
import type { AckMsg, Message } from "../wire/messages.js";
import { ForwardingTransport, LoopbackPair, type Transport } from "../transports/transport.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** Wraps a transport: records the frames written through it and the valid frames received through it. */
class Tap extends ForwardingTransport {
  /** Decoded frames written (hex), by sequence number. */
  readonly sent = new Map<number, string>();
  /** Decoded frames received that pass COBS, length and CRC. */
  readonly accepted: Array<{ seq: number; bytes: string }> = [];
  private readonly outgoing = new CobsDecoder();
  private readonly incoming = new CobsDecoder();

  constructor(inner: Transport) {
    super(inner);
    inner.onData((bytes) => {
      for (const chunk of this.incoming.push(bytes)) {
        const frame = chunk.kind === "frame" ? tryParse(chunk.bytes) : undefined;
        if (frame && chunk.kind === "frame") this.accepted.push({ seq: frame.seq, bytes: hex(chunk.bytes) });
      }
    });
  }

  override async write(bytes: Uint8Array): Promise<void> {
    for (const chunk of this.outgoing.push(bytes)) {
      const frame = chunk.kind === "frame" ? tryParse(chunk.bytes) : undefined;
      if (frame && chunk.kind === "frame") this.sent.set(frame.seq, hex(chunk.bytes));
    }
    await super.write(bytes);
  }
}

function tryParse(bytes: Uint8Array): Frame | undefined {
  try {
    return parseFrame(bytes);
  } catch {
    return undefined;
  }
}

/** Host and device links with taps, the host's transport faulty. */
function rig(spec: FaultSpec) {
  const pair = new LoopbackPair();
  const faulty = new FaultyTransport(pair.a, spec);
  const hostTap = new Tap(faulty);
  const deviceTap = new Tap(pair.b);
  const host = new Link(hostTap, { timeoutMs: 5, retries: 5 });
  const device = new Link(deviceTap, { timeoutMs: 5 });
  return { faulty, hostTap, deviceTap, host, device };
}

/** No frame accepted on one side differs from the frame the other side sent with that number. */
function corruptedAccepted(receiver: Tap, sender: Tap): number {
  return receiver.accepted.filter((a) => sender.sent.get(a.seq) !== a.bytes).length;
}

/** Deterministic, varied event lists (0..39 events, frames of ~10..70 bytes). */
function events(i: number): { indices: Uint32Array } {
  const count = (i * 7919) % 40;
  return { indices: Uint32Array.from({ length: count }, (_, k) => k * 3 + (i % 3)) };
}

/**
 * Fire-and-forget traffic both ways through the faults, framed by one clean frame before and after
 * (the first sets the receiver's expected number, the last reveals losses at the end).
 */
async function fireAndForget(spec: FaultSpec, frames: number) {
  const r = rig(spec);
  r.faulty.faultsEnabled = false;
  await r.host.send({ kind: "RT_INPUT", events: events(0) });
  await r.device.send({ kind: "RT_OUTPUT", step: 0, appliedSeqs: [], sections: [] });
  await settle();
  r.faulty.faultsEnabled = true;
  for (let i = 1; i <= frames; i++) {
    await r.host.send({ kind: "RT_INPUT", events: events(i) });
    await r.device.send({ kind: "RT_OUTPUT", step: i, appliedSeqs: [i & 0xffff], sections: [{ layer: 0, indices: events(i + 1).indices }] });
    if (i % 64 === 0) await settle();
  }
  await settle();
  r.faulty.release(); // held or delayed frames arrive before the closing frame
  r.faulty.faultsEnabled = false;
  await r.host.send({ kind: "RT_INPUT", events: events(0) });
  await r.device.send({ kind: "RT_OUTPUT", step: frames + 1, appliedSeqs: [], sections: [] });
  await settle();
  return r;
}

describe("Link over a faulty line", () => {
  it("at 1% corruption and 1% drops accepts no corrupted frame and counts every lost frame as a gap", async () => {
    const frames = 1500;
    const r = await fireAndForget(makeFaultSpec({ seed: 2024, both: { corrupt: 0.01, drop: 0.01 } }), frames);
    const total = frames + 2;
    for (const [receiver, sender, link, injected] of [
      [r.deviceTap, r.hostTap, r.device, r.faulty.counters.hostToDevice],
      [r.hostTap, r.deviceTap, r.host, r.faulty.counters.deviceToHost],
    ] as const) {
      expect(sender.sent.size).toBe(total);
      expect(corruptedAccepted(receiver, sender)).toBe(0);
      const distinct = new Set(receiver.accepted.map((a) => a.seq)).size;
      expect(distinct).toBe(receiver.accepted.length); // nothing accepted twice
      const lost = total - distinct;
      // Every frame the injector damaged is lost (a lost delimiter can take the next frame with it)...
      expect(lost).toBeGreaterThanOrEqual(injected.framesDamaged);
      expect(injected.framesDamaged).toBeGreaterThan(100);
      // ...and every lost frame shows up in the gap counter, none as late.
      expect(link.counters.gaps).toBe(lost);
      expect(link.counters.late).toBe(0);
      expect(link.counters.framesRx).toBe(distinct);
      expect(link.counters.badCrc + link.counters.badFrame).toBeGreaterThan(0);
      expect(link.counters.badPayload).toBe(0);
    }
  });

  it("counts duplicated and reordered frames as late, and the gaps they open are repaid exactly", async () => {
    const frames = 800;
    const r = await fireAndForget(makeFaultSpec({ seed: 31337, both: { dup: 0.02, reorder: 0.02, delayMs: 0 } }), frames);
    for (const [receiver, sender, link, injected] of [
      [r.deviceTap, r.hostTap, r.device, r.faulty.counters.hostToDevice],
      [r.hostTap, r.deviceTap, r.host, r.faulty.counters.deviceToHost],
    ] as const) {
      expect(corruptedAccepted(receiver, sender)).toBe(0);
      expect(new Set(receiver.accepted.map((a) => a.seq)).size).toBe(frames + 2); // nothing lost
      expect(injected.framesDuplicated).toBeGreaterThan(0);
      expect(injected.framesReordered).toBeGreaterThan(0);
      // Every copy arrives late; a reordered frame opens a one-frame gap and then arrives late.
      expect(link.counters.late).toBe(injected.framesDuplicated + link.counters.gaps);
      expect(link.counters.gaps).toBe(injected.framesReordered);
    }
  });

  /** Host sends `count` REWARD requests; the device executes each at most once (dedup by seq and type). */
  async function requests(spec: FaultSpec, count: number) {
    const r = rig(spec);
    const executions = new Array<number>(count).fill(0);
    let duplicatesServed = 0;
    let deviceSeq = 0;
    let last: { seq: number; type: number; answer: AckMsg; answerSeq: number } | undefined;
    r.device.onMessage((msg: Message, frame) => {
      if (msg.kind !== "REWARD") return;
      if (last !== undefined && last.seq === frame.seq && last.type === frame.type) {
        duplicatesServed++;
        void r.device.sendWithSeq(last.answer, last.answerSeq); // the cached answer, byte for byte
        return;
      }
      executions[msg.targetStep]!++;
      const answer: AckMsg = { kind: "ACK", replyTo: frame.seq, info: msg.targetStep };
      last = { seq: frame.seq, type: frame.type, answer, answerSeq: deviceSeq };
      void r.device.sendWithSeq(answer, deviceSeq);
      deviceSeq = (deviceSeq + 1) & 0xffff;
    });
    const outcomes: string[] = [];
    for (let i = 0; i < count; i++) {
      try {
        const answer = await r.host.request({ kind: "REWARD", targetStep: i, reward: 1 });
        outcomes.push(answer.kind === "ACK" && answer.info === i ? "delivered" : `wrong answer ${JSON.stringify(answer)}`);
      } catch (e) {
        outcomes.push(isPicospikeError(e) ? e.code : String(e));
      }
    }
    await settle();
    return { ...r, executions, outcomes, duplicatesServed };
  }

  it("delivers every control request exactly once or reports PROTOCOL_TIMEOUT, never loses one silently", async () => {
    const count = 150;
    const r = await requests(makeFaultSpec({ seed: 4242, both: { corrupt: 0.01, drop: 0.01, dup: 0.01 } }), count);
    r.outcomes.forEach((outcome, i) => {
      if (outcome === "delivered") expect(r.executions[i]).toBe(1);
      else expect([outcome, r.executions[i]! <= 1]).toEqual(["PROTOCOL_TIMEOUT", true]);
    });
    expect(corruptedAccepted(r.deviceTap, r.hostTap)).toBe(0);
    expect(corruptedAccepted(r.hostTap, r.deviceTap)).toBe(0);
    const delivered = r.outcomes.filter((o) => o === "delivered").length;
    expect(delivered).toBeGreaterThan(count * 0.9);
    expect(r.host.counters.retransmissions).toBeGreaterThan(0);
    expect(r.duplicatesServed).toBeGreaterThan(0); // answers were lost and the device did not execute twice
  });

  it("is deterministic for a given seed", async () => {
    const spec = makeFaultSpec({ seed: 99, both: { corrupt: 0.01, drop: 0.01, dup: 0.01 } });
    const summary = async () => {
      const r = await requests(spec, 40);
      return { outcomes: r.outcomes, executions: r.executions, faults: r.faulty.snapshot(), host: { ...r.host.counters }, device: { ...r.device.counters } };
    };
    const first = await summary();
    expect(await summary()).toEqual(first);
    const other = await requests(makeFaultSpec({ seed: 100, both: { corrupt: 0.01, drop: 0.01, dup: 0.01 } }), 40);
    expect(other.faulty.snapshot()).not.toEqual(first.faults);
  });
});
