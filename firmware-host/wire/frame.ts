/**
 * Frames (spec/protocol.md §1): header {version u8, type u8, seq u16 LE, len u16 LE} + payload +
 * CRC-16/CCITT-FALSE over header+payload (little-endian), COBS-encoded and 0x00-delimited.
 */
import { PicospikeError } from "../../runtime/errors.js";
import { cobsDecode, cobsEncode, MAX_FRAME } from "./cobs.js";
import { crc16 } from "./crc16.js";
import { CRC_SIZE as SCHEMA_CRC_SIZE, HEADER_SIZE as SCHEMA_HEADER_SIZE, PROTOCOL } from "./schema.js";

/** Protocol version this build speaks. */
export const PROTOCOL_VERSION: number = PROTOCOL.VERSION;
/** Bytes of the frame header (schema.ts HEADER). */
export const HEADER_SIZE: number = SCHEMA_HEADER_SIZE;
/** Bytes of the trailing CRC. */
export const CRC_SIZE: number = SCHEMA_CRC_SIZE;
/** Largest payload in a MAX_FRAME frame (504). */
export const MAX_PAYLOAD = MAX_FRAME - HEADER_SIZE - CRC_SIZE;

/** One decoded, CRC-checked frame. */
export interface Frame {
  /** Protocol version of the sender. */
  readonly version: number;
  /** Message type (messages.ts MSG). */
  readonly type: number;
  /** Sender's sequence number, 0..65535. */
  readonly seq: number;
  /** Payload bytes. */
  readonly payload: Uint8Array;
}

/** Serialises a frame to its decoded form (header + payload + CRC), without COBS. */
export function frameBytes(frame: Frame, maxFrame: number = MAX_FRAME): Uint8Array {
  const size = HEADER_SIZE + frame.payload.length + CRC_SIZE;
  if (size > maxFrame) {
    throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `payload of ${frame.payload.length} bytes exceeds the frame limit of ${maxFrame} bytes`, {
      type: frame.type,
      size,
    });
  }
  const out = new Uint8Array(size);
  out[0] = frame.version & 0xff;
  out[1] = frame.type & 0xff;
  out[2] = frame.seq & 0xff;
  out[3] = (frame.seq >>> 8) & 0xff;
  out[4] = frame.payload.length & 0xff;
  out[5] = frame.payload.length >>> 8;
  out.set(frame.payload, HEADER_SIZE);
  const crc = crc16(out, 0, size - CRC_SIZE);
  out[size - 2] = crc & 0xff;
  out[size - 1] = crc >>> 8;
  return out;
}

/** Encodes a frame for the wire: COBS(header + payload + CRC) followed by the 0x00 delimiter. */
export function encodeFrame(frame: Frame, maxFrame: number = MAX_FRAME): Uint8Array {
  const encoded = cobsEncode(frameBytes(frame, maxFrame));
  const out = new Uint8Array(encoded.length + 1);
  out.set(encoded);
  return out;
}

/**
 * Parses a decoded frame (COBS already removed). Throws PROTOCOL_BAD_FRAME when the size or length
 * field is wrong, PROTOCOL_BAD_CRC when the checksum disagrees.
 */
export function parseFrame(bytes: Uint8Array, maxFrame: number = MAX_FRAME): Frame {
  if (bytes.length < HEADER_SIZE + CRC_SIZE || bytes.length > maxFrame) {
    throw new PicospikeError("PROTOCOL_BAD_FRAME", `frame of ${bytes.length} bytes is outside ${HEADER_SIZE + CRC_SIZE}..${maxFrame}`, { size: bytes.length });
  }
  const len = bytes[4]! | (bytes[5]! << 8);
  if (len !== bytes.length - HEADER_SIZE - CRC_SIZE) {
    throw new PicospikeError("PROTOCOL_BAD_FRAME", `length field ${len} disagrees with frame size ${bytes.length}`, { size: bytes.length, len });
  }
  const stored = bytes[bytes.length - 2]! | (bytes[bytes.length - 1]! << 8);
  const computed = crc16(bytes, 0, bytes.length - CRC_SIZE);
  if (stored !== computed) {
    throw new PicospikeError("PROTOCOL_BAD_CRC", `frame CRC 0x${stored.toString(16)} does not match 0x${computed.toString(16)}`, { stored, computed });
  }
  return {
    version: bytes[0]!,
    type: bytes[1]!,
    seq: bytes[2]! | (bytes[3]! << 8),
    payload: bytes.slice(HEADER_SIZE, bytes.length - CRC_SIZE),
  };
}

/** Decodes one COBS chunk (delimiter excluded) into a checked frame; typed errors as parseFrame. */
export function decodeFrame(chunk: Uint8Array, maxFrame: number = MAX_FRAME): Frame {
  const bytes = cobsDecode(chunk);
  if (!bytes) throw new PicospikeError("PROTOCOL_BAD_FRAME", "COBS decoding failed", { size: chunk.length });
  return parseFrame(bytes, maxFrame);
}

/** Sequence number following `seq`, wrapping 0xFFFF → 0. */
export function nextSeq(seq: number): number {
  return (seq + 1) & 0xffff;
}

/** Distance from `expected` forward to `seq` modulo 2^16 (spec §2: 0 in order, < 32768 gap, else late). */
export function seqDistance(seq: number, expected: number): number {
  return (seq - expected) & 0xffff;
}
