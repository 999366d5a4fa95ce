import { describe, expect, it } from "vitest";
import { PicospikeError } from "../../runtime/errors.js";
import { cobsEncode } from "../wire/cobs.js";
import { encodeFrame, type Frame, frameBytes } from "../wire/frame.js";
import { Link } from "./link.js";
import { encodePayload, type Message, MSG, type StepResultMsg, typeOf } from "../wire/messages.js";
import { LoopbackPair } from "../transports/transport.js";
import { codeOfAsync as codeOf } from "../../runtime/testing/error-code.js";

const frameOf = (msg: Message, seq: number, version = 1): Uint8Array => encodeFrame({ version, type: typeOf(msg), seq, payload: encodePayload(msg) });
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
/** A host link and a device link on a loopback pair; `answer` decides the device's reply. */
function setup(answer: (msg: Message, frame: Frame, device: Link) => void, timeoutMs = 5) {
  const pair = new LoopbackPair();
  const host = new Link(pair.a, { timeoutMs, retries: 3 });
  const device = new Link(pair.b, { timeoutMs });
  const seen: Array<{ kind: string; seq: number }> = [];
  device.onMessage((msg, frame) => {
    seen.push({ kind: msg.kind, seq: frame.seq });
    answer(msg, frame, device);
  });
  return { pair, host, device, seen };
}

describe("Link", () => {
  it("resolves a request with the answer carrying its sequence number", async () => {
    const { host } = setup((msg, frame, device) => void device.send({ kind: "ACK", replyTo: frame.seq, info: 77 }));
    const a = await host.request({ kind: "RESET_STATE", what: 0 });
    expect(a).toEqual({ kind: "ACK", replyTo: 0, info: 77 });
    const b = await host.request({ kind: "RESET_STATE", what: 1 });
    expect(b.replyTo).toBe(1);
  });

  it("retransmits with the same sequence number and succeeds when an answer finally comes", async () => {
    let calls = 0;
    const { host, seen } = setup((msg, frame, device) => {
      if (++calls === 3) void device.send({ kind: "ACK", replyTo: frame.seq, info: 1 });
    });
    await host.request({ kind: "REWARD", targetStep: 10, reward: -5 });
    expect(seen.map((s) => s.seq)).toEqual([0, 0, 0]);
    expect(host.counters.retransmissions).toBe(2);
  });

  it("retransmits at once, not after its timeout, when the device reports a damaged frame (ERROR 402)", async () => {
    let calls = 0;
    // A 60 s timeout: only a fast retransmission can complete this request within the test.
    const { host, seen } = setup((msg, frame, device) => {
      if (++calls === 1) void device.send({ kind: "ERROR", code: 402, detail: 1, text: "" });
      else void device.send({ kind: "ACK", replyTo: frame.seq, info: 5 });
    }, 60_000);
    expect(await host.request({ kind: "RESET_STATE", what: 0 })).toMatchObject({ info: 5 });
    expect(seen.map((s) => s.seq)).toEqual([0, 0]);
    expect(host.counters).toMatchObject({ retransmissions: 1, fastRetransmissions: 1 });
  });

  it("retransmits at once when a chunk it receives fails its checks (a damaged answer)", async () => {
    let calls = 0;
    const pair = new LoopbackPair();
    const host = new Link(pair.a, { timeoutMs: 60_000, retries: 3 });
    const device = new Link(pair.b);
    device.onMessage((msg, frame) => {
      if (++calls === 1) {
        const ack: Message = { kind: "ACK", replyTo: frame.seq, info: 1 };
        const bytes = frameBytes({ version: 1, type: typeOf(ack), seq: 0, payload: encodePayload(ack) });
        bytes[bytes.length - 1]! ^= 0x01; // the CRC's high byte: the host rejects the frame
        void pair.b.write(Uint8Array.of(...cobsEncode(bytes), 0));
      } else void device.send({ kind: "ACK", replyTo: frame.seq, info: 2 });
    });
    expect(await host.request({ kind: "RESET_STATE", what: 0 })).toMatchObject({ info: 2 });
    expect(host.counters).toMatchObject({ badCrc: 1, retransmissions: 1, fastRetransmissions: 1 });
  });

  it("spends fast retransmissions from the same retry budget, and never hurries HELLO", async () => {
    const { host, seen } = setup((msg, frame, device) => void device.send({ kind: "ERROR", code: 401, detail: 0, text: "" }), 60_000);
    expect(await codeOf(host.request({ kind: "GET_STATS" }))).toBe("PROTOCOL_TIMEOUT");
    expect(seen.length).toBe(4);
    expect(host.counters.fastRetransmissions).toBe(3);
    const slow = setup((msg, frame, device) => void device.send({ kind: "ERROR", code: 401, detail: 0, text: "" }), 20);
    expect(await codeOf(slow.host.handshake(7, 60))).toBe("PROTOCOL_HANDSHAKE_FAILED");
    expect(slow.host.counters.fastRetransmissions).toBe(0);
  });

  it("fails with PROTOCOL_TIMEOUT after all retries; every wait is bounded", async () => {
    const { host, seen } = setup(() => undefined);
    expect(await codeOf(host.request({ kind: "GET_STATS" }))).toBe("PROTOCOL_TIMEOUT");
    expect(seen.length).toBe(4);
  });

  it("turns a NACK into the NACK's error code", async () => {
    const { host } = setup((msg, frame, device) => void device.send({ kind: "NACK", replyTo: frame.seq, code: 508, detail: 9 }));
    const err = await host.request({ kind: "MODEL_BEGIN", totalLength: 1 << 30, sha256: new Uint8Array(32) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PicospikeError);
    expect((err as PicospikeError).code).toBe("DEVICE_OUT_OF_MEMORY");
    expect((err as PicospikeError).detail).toMatchObject({ nack: 508, detail: 9 });
  });

  it("ignores answers to other sequence numbers (stale) and keeps waiting", async () => {
    const { host } = setup((msg, frame, device) => {
      void device.send({ kind: "ACK", replyTo: (frame.seq + 100) & 0xffff, info: 0 });
      void device.send({ kind: "ACK", replyTo: frame.seq, info: 2 });
    });
    expect(await host.request({ kind: "RT_STOP" })).toMatchObject({ info: 2 });
    expect(host.counters.staleAnswers).toBe(1);
  });

  it("merges STEP_RESULT parts and retries until it holds all of them", async () => {
    let attempt = 0;
    const part = (frameSeq: number, p: number, more: boolean, indices: number[]): StepResultMsg => ({
      kind: "STEP_RESULT",
      replyTo: frameSeq,
      step: 4,
      more,
      part: p,
      sections: [{ layer: 1, indices: Uint32Array.from(indices) }],
    });
    const { host } = setup((msg, frame, device) => {
      attempt++;
      if (attempt > 1) void device.send(part(frame.seq, 0, true, [1, 2]));
      void device.send(part(frame.seq, 1, false, [5]));
    });
    const r = await host.request({ kind: "STEP", step: 4, more: false, wantCost: false, reportMask: 2, events: { indices: new Uint32Array(0) } });
    expect(attempt).toBe(2);
    expect(r.kind === "STEP_RESULT" && Array.from(r.sections[0]!.indices)).toEqual([1, 2, 5]);
    expect(r).toMatchObject({ more: false, part: 0, step: 4 });
  });

  it("counts gaps and late frames across the 16-bit wrap", async () => {
    const pair = new LoopbackPair();
    const host = new Link(pair.a);
    const got: number[] = [];
    host.onMessage((_m, f) => got.push(f.seq));
    const err: Message = { kind: "ERROR", code: 409, detail: 0, text: "" };
    for (const seq of [0xfffd, 0xfffe, 0xffff, 0, 1, 4, 2, 5]) await pair.b.write(frameOf(err, seq));
    await settle();
    expect(got).toEqual([0xfffd, 0xfffe, 0xffff, 0, 1, 4, 2, 5]);
    expect(host.counters.gaps).toBe(2); // 2 and 3 skipped when 4 arrived
    expect(host.counters.late).toBe(1); // 2 arrived after 4
    expect(host.counters.framesRx).toBe(8);
  });

  it("never gives a new request the previous request's number, even across the wrap", async () => {
    const { host, device, seen } = setup((msg, frame, dev) => void dev.send({ kind: "ACK", replyTo: frame.seq, info: 0 }));
    await host.request({ kind: "RT_STOP" }); // seq 0
    for (let i = 0; i < 0xffff; i++) await host.send({ kind: "RT_INPUT", events: { indices: new Uint32Array(0) } });
    await host.request({ kind: "RT_STOP" }); // counter is at 0 again: must skip to 1
    expect(seen.filter((s) => s.kind === "RT_STOP").map((s) => s.seq)).toEqual([0, 1]);
    expect(device.counters.gaps).toBe(1);
    expect(device.counters.late).toBe(0);
  });

  it("drops and counts corrupted, oversize and unknown frames without dispatching them", async () => {
    const pair = new LoopbackPair();
    const host = new Link(pair.a);
    const got: string[] = [];
    host.onMessage((m) => got.push(m.kind));
    const good = frameOf({ kind: "ERROR", code: 1, detail: 2, text: "x" }, 0);
    const corrupted = frameBytes({ version: 1, type: MSG.ERROR, seq: 0, payload: encodePayload({ kind: "ERROR", code: 1, detail: 2, text: "x" }) });
    corrupted[7]! ^= 0x10; // payload bit: the CRC catches it
    await pair.b.write(Uint8Array.from([...cobsEncode(corrupted), 0]));
    await pair.b.write(Uint8Array.from([...new Uint8Array(600).fill(3), 0]));
    await pair.b.write(Uint8Array.of(5, 1, 0));
    await pair.b.write(encodeFrame({ version: 1, type: 0x7e, seq: 1, payload: new Uint8Array(0) }));
    await pair.b.write(encodeFrame({ version: 1, type: MSG.ACK, seq: 2, payload: Uint8Array.of(1) }));
    await pair.b.write(frameOf({ kind: "RT_STOP" }, 3, 9));
    await pair.b.write(good);
    await settle();
    expect(got).toEqual(["ERROR"]);
    expect(host.counters).toMatchObject({ badFrame: 3, badCrc: 1, unknownType: 1, badPayload: 1 });
  });

  it("handshakes: flush, HELLO, nonce-checked HELLO_ACK, sequence restart", async () => {
    const { host, device, seen } = setup((msg, frame, dev) => {
      if (msg.kind !== "HELLO") return;
      dev.resetSession();
      // An answer with a stale nonce first: must be ignored.
      void dev.sendWithSeq(helloAck(frame.seq, 1), 0);
      void dev.sendWithSeq(helloAck(frame.seq, msg.nonce), 0);
    });
    const ack = await host.handshake(0xabcdef01);
    expect(ack).toMatchObject({ board: "native", nonce: 0xabcdef01, protoVersion: 1 });
    await host.send({ kind: "RT_INPUT", events: { indices: new Uint32Array(0) } });
    await settle();
    expect(seen).toEqual([
      { kind: "HELLO", seq: 0 },
      { kind: "RT_INPUT", seq: 0 },
    ]);
    expect(device.counters.badFrame).toBe(0); // the flush byte is not a bad frame
  });

  it("handshake failures are readable errors", async () => {
    const silent = setup(() => undefined);
    expect(await codeOf(silent.host.handshake(1, 20))).toBe("PROTOCOL_HANDSHAKE_FAILED");
    const other = setup((msg, frame, dev) => void dev.send({ kind: "NACK", replyTo: frame.seq, code: 403, detail: 0x0302 }));
    expect(await codeOf(other.host.handshake(1, 20))).toBe("PROTOCOL_VERSION_MISMATCH");
  });

  it("fails the outstanding request with DEVICE_DISCONNECTED when the transport closes", async () => {
    const { host, pair } = setup(() => undefined, 1000);
    const p = host.request({ kind: "GET_STATS" });
    await settle();
    await pair.b.close();
    expect(await codeOf(p)).toBe("DEVICE_DISCONNECTED");
    expect(await codeOf(host.send({ kind: "RT_STOP" }))).toBe("DEVICE_DISCONNECTED");
  });
});

function helloAck(replyTo: number, nonce: number): Message {
  return {
    kind: "HELLO_ACK",
    replyTo,
    protoMin: 1,
    protoMax: 1,
    protoVersion: 1,
    nonce,
    capabilities: 1,
    board: "native",
    firmwareHash: new Uint8Array(8),
    modelHash: new Uint8Array(32),
    maxFrame: 512,
    maxInputEvents: 784,
    uploadRam: 0,
    costUnit: 0,
    state: 0,
    modelSource: 0,
    step: 0,
  };
}

describe("Link after another session", () => {
  it("ignores an earlier session's HELLO_ACK that carries the reply_to of the request now outstanding", async () => {
    const stats = (replyTo: number): Message => ({
      kind: "STATS",
      replyTo,
      steps: 7,
      framesRx: 0,
      framesTx: 0,
      badFrame: 0,
      badCrc: 0,
      gaps: 0,
      late: 0,
      dropped: 0,
      lastCost: 0,
      maxCost: 0,
    });
    const { host } = setup((msg, frame, device) => {
      // what a QEMU pty still held: the answer to the previous program's HELLO, then the real answer
      void device.send(helloAck(frame.seq, 1)).then(() => device.send(stats(frame.seq)));
    }, 1000);
    const answer = await host.request({ kind: "GET_STATS" });
    expect(answer.kind).toBe("STATS");
    expect(host.counters.staleAnswers).toBe(1);
  });
});

describe("Link under random bytes", () => {
  it("never throws and accounts for every chunk as a frame or a counted error (property)", async () => {
    const fc = (await import("fast-check")).default;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 6 }), async (slices) => {
        const pair = new LoopbackPair();
        const host = new Link(pair.a);
        let dispatched = 0;
        host.onMessage(() => dispatched++);
        for (const s of slices) await pair.b.write(s);
        await settle();
        const c = host.counters;
        expect(c.framesRx).toBe(dispatched + c.unknownType + c.badPayload + c.staleAnswers);
        await host.close();
      }),
      { numRuns: 200 },
    );
  });
});
