import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CobsDecoder } from "./cobs.js";
import { decodeFrame, encodeFrame, MAX_PAYLOAD, nextSeq, parseFrame, seqDistance, frameBytes } from "./frame.js";
import { codeOf } from "../../runtime/testing/error-code.js";

describe("frame", () => {
  it("lays out header, payload and a little-endian CRC", () => {
    const b = frameBytes({ version: 1, type: 0x20, seq: 0x1234, payload: Uint8Array.of(0xaa, 0xbb) });
    expect(Array.from(b.subarray(0, 8))).toEqual([1, 0x20, 0x34, 0x12, 2, 0, 0xaa, 0xbb]);
    expect(b.length).toBe(10);
    expect(parseFrame(b).seq).toBe(0x1234);
  });
  it("round-trips random frames through COBS (property)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: MAX_PAYLOAD }), (type, seq, payload) => {
        const wire = encodeFrame({ version: 1, type, seq, payload });
        expect(wire[wire.length - 1]).toBe(0);
        const f = decodeFrame(wire.subarray(0, wire.length - 1));
        expect(f).toEqual({ version: 1, type, seq, payload });
      }),
    );
  });
  it("refuses payloads over the limit", () => {
    expect(codeOf(() => encodeFrame({ version: 1, type: 1, seq: 0, payload: new Uint8Array(MAX_PAYLOAD + 1) }))).toBe("PROTOCOL_BAD_PAYLOAD");
  });
  it("rejects every single-bit corruption with a typed error", () => {
    const good = frameBytes({ version: 1, type: 0x24, seq: 5, payload: Uint8Array.of(0, 3, 10, 0, 0) });
    for (let bit = 0; bit < good.length * 8; bit++) {
      const bad = good.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(["PROTOCOL_BAD_CRC", "PROTOCOL_BAD_FRAME"]).toContain(codeOf(() => parseFrame(bad)));
    }
    expect(codeOf(() => parseFrame(good.subarray(0, 7)))).toBe("PROTOCOL_BAD_FRAME");
    expect(codeOf(() => decodeFrame(Uint8Array.of(9, 1)))).toBe("PROTOCOL_BAD_FRAME");
  });
  it("random streams through decoder + parser give frames or typed errors only (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        for (const c of new CobsDecoder().push(bytes)) {
          if (c.kind !== "frame") continue;
          const code = codeOf(() => parseFrame(c.bytes));
          expect([undefined, "PROTOCOL_BAD_FRAME", "PROTOCOL_BAD_CRC"]).toContain(code);
        }
      }),
    );
  });
  it("wraps sequence numbers and measures distance modulo 2^16", () => {
    expect(nextSeq(0xffff)).toBe(0);
    expect(seqDistance(0, 0xffff)).toBe(1);
    expect(seqDistance(3, 0xfffe)).toBe(5);
    expect(seqDistance(0xfffe, 3)).toBeGreaterThanOrEqual(0x8000);
  });
});
