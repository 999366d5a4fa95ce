import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodePayload, encodePayload, kindOfType, type Message, MSG, typeOf } from "./messages.js";
import { SAMPLE_MESSAGES } from "../testing/protocol-samples.js";
import { codeOf } from "../../runtime/testing/error-code.js";

describe("messages", () => {
  it("the samples cover every message type", () => {
    expect(new Set(SAMPLE_MESSAGES.map((m) => m.kind))).toEqual(new Set(Object.keys(MSG)));
  });
  it.each(SAMPLE_MESSAGES.map((m, i) => [`${i} ${m.kind}`, m] as const))("%s round-trips", (_, msg) => {
    const payload = encodePayload(msg);
    expect(decodePayload(typeOf(msg), payload)).toEqual(msg);
  });
  it("rejects every truncation and an extra trailing byte of every sample", () => {
    for (const msg of SAMPLE_MESSAGES) {
      const payload = encodePayload(msg);
      const extended = Uint8Array.from([...payload, 0]);
      // ERROR text, chunks and STATE_CHUNK data are "rest of payload": a trailing byte is data there.
      if (!["ERROR", "MODEL_CHUNK", "STATE_CHUNK"].includes(msg.kind))
        expect(
          codeOf(() => decodePayload(typeOf(msg), extended)),
          msg.kind,
        ).toBe("PROTOCOL_BAD_PAYLOAD");
      for (let n = 0; n < payload.length; n++) {
        const code = codeOf(() => decodePayload(typeOf(msg), payload.subarray(0, n)));
        if (code === undefined) {
          expect(["ERROR", "MODEL_CHUNK", "STATE_CHUNK"], `${msg.kind} truncated to ${n}`).toContain(msg.kind);
        } else {
          expect(code).toBe("PROTOCOL_BAD_PAYLOAD");
        }
      }
    }
  });
  it("unknown types are PROTOCOL_UNKNOWN_MESSAGE", () => {
    expect(kindOfType(0x7f)).toBeUndefined();
    expect(codeOf(() => decodePayload(0x7f, new Uint8Array(0)))).toBe("PROTOCOL_UNKNOWN_MESSAGE");
  });
  it("delta-codes events in about one byte each for rate-coded MNIST", () => {
    // ~15% of 784 inputs active: the rate-coded MNIST density at a bright digit.
    let s = 12345;
    const indices: number[] = [];
    for (let i = 0; i < 784; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      if (s >>> 24 < 38) indices.push(i);
    }
    const payload = encodePayload({ kind: "STEP", step: 1, more: false, wantCost: false, reportMask: 1, events: { indices: Uint32Array.from(indices) } });
    const perEvent = (payload.length + 8 + 2) / indices.length; // + header/CRC + COBS/delimiter
    expect(indices.length).toBeGreaterThan(50);
    expect(perEvent).toBeLessThan(1.5);
  });
  it("rejects non-ascending indices, zero values, bad varints and unknown flags", () => {
    expect(codeOf(() => encodePayload({ kind: "RT_INPUT", events: { indices: Uint32Array.from([3, 3]) } }))).toBe("SEMANTICS_BAD_INPUT");
    expect(codeOf(() => encodePayload({ kind: "RT_INPUT", events: { indices: Uint32Array.from([3]), values: Uint8Array.of(0) } }))).toBe("SEMANTICS_BAD_INPUT");
    const bad = (bytes: number[]): string | undefined => codeOf(() => decodePayload(MSG.RT_INPUT, Uint8Array.from(bytes)));
    expect(bad([0, 1, 0x80, 0x00])).toBe("PROTOCOL_BAD_PAYLOAD"); // non-canonical varint
    expect(bad([0, 1, 0xff, 0xff, 0xff, 0xff, 0x1f])).toBe("PROTOCOL_BAD_PAYLOAD"); // > 32 bits
    expect(bad([0, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0])).toBe("PROTOCOL_BAD_PAYLOAD"); // index overflows after delta
    expect(bad([0, 200, 1])).toBe("PROTOCOL_BAD_PAYLOAD"); // count beyond the bytes
    expect(bad([2, 0])).toBe("PROTOCOL_BAD_PAYLOAD"); // unknown flag
    expect(bad([1, 1, 5, 0])).toBe("PROTOCOL_BAD_PAYLOAD"); // value 0
    expect(codeOf(() => encodePayload({ kind: "ACK", replyTo: 70000, info: 0 }))).toBe("PROTOCOL_BAD_PAYLOAD");
  });
  it("random payloads of every type decode or fail with a typed error only (property)", () => {
    const types = Object.values(MSG);
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 520 }), (type, payload) => {
        const code = codeOf(() => decodePayload(type, payload));
        expect([undefined, "PROTOCOL_BAD_PAYLOAD"]).toContain(code);
      }),
      { numRuns: 3000 },
    );
  });
  it("random STEP and STEP_RESULT messages round-trip (property)", () => {
    const sortedUnique = fc.uniqueArray(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }).map((a) => Uint32Array.from(a.sort((x, y) => x - y)));
    fc.assert(
      fc.property(sortedUnique, fc.boolean(), fc.integer({ min: 0, max: 0xffffffff }), (indices, withValues, step) => {
        const events = withValues ? { indices, values: Uint8Array.from(indices, (i) => (i % 255) + 1) } : { indices };
        const msgs: Message[] = [
          { kind: "STEP", step, more: withValues, wantCost: !withValues, reportMask: step, events },
          { kind: "STEP_RESULT", replyTo: step & 0xffff, step, more: false, part: 1, sections: [{ layer: 3, indices }] },
        ];
        for (const m of msgs) expect(decodePayload(typeOf(m), encodePayload(m))).toEqual(m);
      }),
    );
  });
});
