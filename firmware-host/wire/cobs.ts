/**
 * COBS framing (spec/protocol.md §1.3): the variant where a 0xFF block carries no implied zero and
 * nothing is appended before encoding. `cobsEncode`/`cobsDecode` work on whole frames;
 * `CobsDecoder` is the streaming receiver that splits a byte stream on 0x00 with a bounded buffer.
 */

import { MAX_FRAME as SCHEMA_MAX_FRAME } from "./schema.js";

/** Largest decoded frame, header + payload + CRC (spec §1.2). */
export const MAX_FRAME: number = SCHEMA_MAX_FRAME;

/** Largest COBS encoding of `decodedLength` bytes, delimiter excluded. */
export function cobsMaxEncodedLength(decodedLength: number): number {
  return decodedLength + Math.max(1, Math.ceil(decodedLength / 254));
}

/** Largest encoded chunk a receiver stores (515 bytes for MAX_FRAME = 512). */
export const MAX_ENCODED = cobsMaxEncodedLength(MAX_FRAME);

/** COBS-encodes `data` (without the trailing 0x00 delimiter). */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  let codeAt = 0; // where the current block's code byte goes
  let w = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = w++;
      code = 1;
    } else {
      out[w++] = b;
      code++;
      // A full block ends without implied zero; start a new block only if data remains.
      if (code === 0xff && i + 1 < data.length) {
        out[codeAt] = code;
        codeAt = w++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return out.subarray(0, w);
}

/**
 * Decodes one COBS chunk (no 0x00 inside, delimiter excluded). Returns the decoded bytes, or
 * undefined when the chunk is malformed (a zero byte, or a code that runs past the end).
 */
export function cobsDecode(chunk: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(chunk.length);
  let r = 0;
  let w = 0;
  while (r < chunk.length) {
    const code = chunk[r++]!;
    if (code === 0) return undefined;
    const end = r + code - 1;
    if (end > chunk.length) return undefined;
    while (r < end) {
      const b = chunk[r++]!;
      if (b === 0) return undefined;
      out[w++] = b;
    }
    if (code !== 0xff && r < chunk.length) out[w++] = 0;
  }
  return out.subarray(0, w);
}

/** What the streaming decoder hands out: a decoded frame, or a counted error. */
export type CobsChunk =
  { readonly kind: "frame"; readonly bytes: Uint8Array } | { readonly kind: "oversize"; readonly length: number } | { readonly kind: "malformed" };

/**
 * Streaming COBS receiver: feed it bytes in any slicing; it yields decoded frames and reports
 * oversize or malformed chunks instead of throwing. Memory is bounded by `maxEncoded` bytes; an
 * oversize chunk is skipped up to the next 0x00. Empty chunks (0x00 0x00) are flushes and ignored.
 */
export class CobsDecoder {
  private readonly buffer: Uint8Array;
  private fill = 0;
  private overflowLength = 0; // > 0 while skipping an oversize chunk

  /** @param maxEncoded largest chunk stored; defaults to MAX_ENCODED. */
  constructor(readonly maxEncoded: number = MAX_ENCODED) {
    this.buffer = new Uint8Array(maxEncoded);
  }

  /** Feeds bytes; returns the frames and errors completed by them, in stream order. */
  push(bytes: Uint8Array): CobsChunk[] {
    const results: CobsChunk[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b === 0) {
        if (this.overflowLength > 0) {
          results.push({ kind: "oversize", length: this.overflowLength });
        } else if (this.fill > 0) {
          const decoded = cobsDecode(this.buffer.subarray(0, this.fill));
          results.push(decoded ? { kind: "frame", bytes: decoded.slice() } : { kind: "malformed" });
        }
        this.fill = 0;
        this.overflowLength = 0;
      } else if (this.overflowLength > 0) {
        this.overflowLength++;
      } else if (this.fill < this.maxEncoded) {
        this.buffer[this.fill++] = b;
      } else {
        this.overflowLength = this.fill + 1;
        this.fill = 0;
      }
    }
    return results;
  }

  /** Drops a partial chunk (after a reconnect). */
  reset(): void {
    this.fill = 0;
    this.overflowLength = 0;
  }
}
