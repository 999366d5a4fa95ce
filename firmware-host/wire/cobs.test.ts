import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CobsDecoder, cobsDecode, cobsEncode, MAX_ENCODED } from "./cobs.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const nonzero = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i % 255) + 1);

describe("COBS", () => {
  it("encodes the edge cases of the spec", () => {
    expect(hex(cobsEncode(new Uint8Array(0)))).toBe("01");
    expect(hex(cobsEncode(Uint8Array.of(0)))).toBe("0101");
    expect(hex(cobsEncode(Uint8Array.of(0, 0, 0)))).toBe("01010101");
    expect(hex(cobsEncode(Uint8Array.of(0x11, 0x22, 0, 0x33)))).toBe("0311220233");
    expect(hex(cobsEncode(Uint8Array.of(0xff)))).toBe("02ff");
    expect(hex(cobsEncode(Uint8Array.of(0xff, 0, 0xff)))).toBe("02ff02ff");
  });
  it("handles 254, 255 and 256-byte non-zero runs", () => {
    const e254 = cobsEncode(nonzero(254));
    expect(e254.length).toBe(255);
    expect(e254[0]).toBe(0xff);
    const e255 = cobsEncode(nonzero(255));
    expect(e255.length).toBe(257);
    expect([e255[0], e255[255]]).toEqual([0xff, 0x02]);
    const e256 = cobsEncode(nonzero(256));
    expect(e256.length).toBe(258);
    expect([e256[0], e256[255]]).toEqual([0xff, 0x03]);
    const z = Uint8Array.from([...nonzero(254), 0]);
    expect(hex(cobsEncode(z).subarray(255))).toBe("0101");
    for (const d of [nonzero(254), nonzero(255), nonzero(256), z]) expect(cobsDecode(cobsEncode(d))).toEqual(d);
  });
  it("all zeros and 0xFF round-trip and never contain 0x00", () => {
    for (const d of [new Uint8Array(512), new Uint8Array(512).fill(0xff)]) {
      const e = cobsEncode(d);
      expect(e.includes(0)).toBe(false);
      expect(e.length).toBeLessThanOrEqual(MAX_ENCODED);
      expect(cobsDecode(e)).toEqual(d);
    }
  });
  it("rejects malformed chunks", () => {
    expect(cobsDecode(Uint8Array.of(0x05, 1, 2))).toBeUndefined();
    expect(cobsDecode(Uint8Array.of(0x02, 0))).toBeUndefined();
  });
  it("round-trips random data (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (d) => {
        const e = cobsEncode(d);
        expect(e.includes(0)).toBe(false);
        expect(cobsDecode(e)).toEqual(d);
      }),
    );
  });
});

describe("CobsDecoder", () => {
  it("splits a stream on zeros in any slicing and ignores empty chunks", () => {
    const frames = [Uint8Array.of(1, 0, 2), new Uint8Array(0), nonzero(300)];
    const stream: number[] = [0, 0];
    for (const f of frames) stream.push(...cobsEncode(f), 0, 0);
    const bytes = Uint8Array.from(stream);
    for (const step of [1, 7, bytes.length]) {
      const dec = new CobsDecoder();
      const out = [];
      for (let i = 0; i < bytes.length; i += step) out.push(...dec.push(bytes.subarray(i, i + step)));
      expect(out).toEqual(frames.map((f) => ({ kind: "frame", bytes: f })));
    }
  });
  it("reports an oversize chunk and resynchronises at the next zero", () => {
    const dec = new CobsDecoder(16);
    const out = dec.push(Uint8Array.from([...new Uint8Array(40).fill(7), 0, ...cobsEncode(Uint8Array.of(9)), 0]));
    expect(out).toEqual([
      { kind: "oversize", length: 40 },
      { kind: "frame", bytes: Uint8Array.of(9) },
    ]);
  });
  it("random byte streams yield only frames or counted errors, never exceptions (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 8 }), (slices) => {
        const dec = new CobsDecoder();
        for (const s of slices) {
          for (const c of dec.push(s)) {
            expect(["frame", "oversize", "malformed"]).toContain(c.kind);
            if (c.kind === "frame") expect(c.bytes.length).toBeLessThanOrEqual(MAX_ENCODED);
          }
        }
      }),
    );
  });
});
