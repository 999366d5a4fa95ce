import { describe, expect, it } from "vitest";
import { bytesEqual, fromHex, sha256, toHex } from "./hash.js";

describe("hash", () => {
  it("computes SHA-256 test vectors (FIPS 180-4 examples)", () => {
    const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
    expect(toHex(sha256(ascii("")))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(toHex(sha256(ascii("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(toHex(sha256(ascii("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("converts hex both ways and rejects malformed hex", () => {
    const bytes = Uint8Array.of(0, 1, 0xab, 0xff);
    expect(toHex(bytes)).toBe("0001abff");
    expect(fromHex("0001ABff")).toEqual(bytes);
    expect(() => fromHex("abc")).toThrow(RangeError);
    expect(() => fromHex("zz")).toThrow(RangeError);
    expect(bytesEqual(bytes, fromHex("0001abff"))).toBe(true);
    expect(bytesEqual(bytes, fromHex("0001abfe"))).toBe(false);
  });
});
