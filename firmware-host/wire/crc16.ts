/**
 * CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0; check value 0x29B1 for
 * ASCII "123456789"), the frame checksum of spec/protocol.md §1.1. Table-driven for speed; the table
 * is built once from the polynomial so nothing is hand-copied.
 */

/** The CRC polynomial (normal form). */
export const CRC16_POLY = 0x1021;
/** The initial register value. */
export const CRC16_INIT = 0xffff;
/** CRC of ASCII "123456789": the catalogue check value of CRC-16/CCITT-FALSE. */
export const CRC16_CHECK = 0x29b1;

const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let b = 0; b < 256; b++) {
    let r = b << 8;
    for (let i = 0; i < 8; i++) r = r & 0x8000 ? ((r << 1) ^ CRC16_POLY) & 0xffff : (r << 1) & 0xffff;
    t[b] = r;
  }
  return t;
})();

/**
 * Continues a CRC over `bytes[start, end)` from register `crc` (pass CRC16_INIT to start).
 * Returns the updated 16-bit register, which is also the final CRC (xorout is 0).
 */
export function crc16Update(crc: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  let r = crc & 0xffff;
  for (let i = start; i < end; i++) r = ((r << 8) & 0xffff) ^ TABLE[((r >>> 8) ^ bytes[i]!) & 0xff]!;
  return r;
}

/** CRC-16/CCITT-FALSE of `bytes[start, end)`. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc16Update(CRC16_INIT, bytes, start, end);
}
