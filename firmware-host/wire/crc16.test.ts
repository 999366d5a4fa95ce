import { describe, expect, it } from "vitest";
import { crc16, CRC16_CHECK, crc16Update, CRC16_INIT } from "./crc16.js";

describe("crc16 (CRC-16/CCITT-FALSE)", () => {
  it("gives the catalogue check value 0x29B1 for ASCII 123456789", () => {
    expect(crc16(new TextEncoder().encode("123456789"))).toBe(0x29b1);
    expect(CRC16_CHECK).toBe(0x29b1);
  });
  it("is the initial value on empty input and matches a bitwise reference", () => {
    expect(crc16(new Uint8Array(0))).toBe(0xffff);
    const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
    let r = 0xffff;
    for (const b of data) {
      r ^= b << 8;
      for (let k = 0; k < 8; k++) r = r & 0x8000 ? ((r << 1) ^ 0x1021) & 0xffff : (r << 1) & 0xffff;
    }
    expect(crc16(data)).toBe(r);
  });
  it("continues across slices", () => {
    const data = new TextEncoder().encode("123456789");
    expect(crc16Update(crc16Update(CRC16_INIT, data, 0, 4), data, 4)).toBe(0x29b1);
  });
});
