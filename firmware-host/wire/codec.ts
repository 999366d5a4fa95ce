/**
 * The byte-level primitives the generated message codecs (messages.ts, from schema.ts) call: a
 * bounded little-endian writer and reader, LEB128 varints, and the two shared encodings of
 * spec/protocol.md §3.1 (event lists and spike sections). Decoding never trusts a count: every
 * length is checked against the bytes present, so hostile payloads cannot cause large allocations.
 * The C twin is firmware/src/ps_wire.c.
 */
import { PicospikeError } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import { MAX_PAYLOAD } from "./frame.js";

/** Output spikes of one layer in one step, indices strictly ascending. */
export interface SpikeSection {
  readonly layer: number;
  readonly indices: Uint32Array;
}

/** Throws PROTOCOL_BAD_PAYLOAD: the one error of a payload that does not match its layout. */
export function badPayload(message: string, detail?: Record<string, unknown>): never {
  throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", message, detail);
}

/** Throws PROTOCOL_BAD_PAYLOAD unless `value` is an integer that fits `bits` unsigned bits. */
export function checkU(value: number, bits: 8 | 16 | 32, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** bits - 1) badPayload(`${field} = ${value} is not a u${bits}`);
}

/** Throws PROTOCOL_BAD_PAYLOAD when `flags` has a bit outside `allowed`. */
export function checkFlags(flags: number, allowed: number, what: string): void {
  if (flags & ~allowed) badPayload(`${what}: unknown flags 0x${flags.toString(16)}`);
}

/** True when every byte of `bytes` is printable ASCII (0x20..0x7e). */
export function printableBytes(bytes: Uint8Array): boolean {
  return !bytes.some((b) => b < 0x20 || b > 0x7e);
}

/** Little-endian writer bounded by MAX_PAYLOAD; range-checks every integer it writes. */
export class Writer {
  private bytes = new Uint8Array(64);
  /** Bytes written so far. */
  length = 0;
  private ensure(n: number): void {
    if (this.length + n > MAX_PAYLOAD) badPayload(`payload exceeds ${MAX_PAYLOAD} bytes`);
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.min(MAX_PAYLOAD, Math.max(this.bytes.length * 2, this.length + n)));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  /** Writes a u8. */
  u8(v: number, field = "field"): void {
    checkU(v, 8, field);
    this.ensure(1);
    this.bytes[this.length++] = v & 0xff;
  }
  /** Writes a u16. */
  u16(v: number, field = "field"): void {
    checkU(v, 16, field);
    this.ensure(2);
    this.bytes[this.length++] = v & 0xff;
    this.bytes[this.length++] = (v >>> 8) & 0xff;
  }
  /** Writes a u32. */
  u32(v: number, field = "field"): void {
    checkU(v, 32, field);
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.bytes[this.length++] = (v >>> (8 * i)) & 0xff;
  }
  /** Writes an i16 (two's complement). */
  i16(v: number, field = "field"): void {
    if (!Number.isInteger(v) || v < -32768 || v > 32767) badPayload(`${field} ${v} is not an i16`);
    this.u16(v & 0xffff, field);
  }
  /** Writes an unsigned LEB128 of at most 32 bits. */
  varint(v: number, field = "varint"): void {
    checkU(v, 32, field);
    let x = v >>> 0;
    while (x >= 0x80) {
      this.u8((x & 0x7f) | 0x80);
      x >>>= 7;
    }
    this.u8(x);
  }
  /** Writes raw bytes. */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  /** The payload written. */
  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/** Little-endian reader of one payload; any read past its end is PROTOCOL_BAD_PAYLOAD. */
export class Reader {
  private pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}
  /** Bytes not yet read. */
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  private need(n: number): void {
    if (this.remaining < n) badPayload(`${this.what} payload ends early at byte ${this.pos}`, { offset: this.pos });
  }
  /** Reads a u8. */
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  /** Reads a u16. */
  u16(): number {
    this.need(2);
    const v = this.bytes[this.pos]! | (this.bytes[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }
  /** Reads an i16. */
  i16(): number {
    return (this.u16() << 16) >> 16;
  }
  /** Reads a u32. */
  u32(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }
  /** Reads a canonical LEB128 of at most 32 bits. */
  varint(): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && b > 0x0f) badPayload(`${this.what}: varint exceeds 32 bits at byte ${this.pos - 1}`);
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) badPayload(`${this.what}: non-canonical varint at byte ${this.pos - 1}`);
        return value;
      }
    }
    return badPayload(`${this.what}: varint longer than 5 bytes`);
  }
  /** Reads `n` raw bytes (a copy). */
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** Reads the rest of the payload. */
  rest(): Uint8Array {
    return this.raw(this.remaining);
  }
  /** Throws unless the payload was read to its end. */
  end(): void {
    if (this.remaining !== 0) badPayload(`${this.what} payload has ${this.remaining} trailing bytes`);
  }
}

/** Event-list flag: a value byte follows for every event (spec §3.1). */
export const EVENTS_VALUES = 1;
/** Most bytes of an event list before its indices: flags u8 and a count varint of at most 3 bytes (< 2^21 events). */
export const EVENTS_HEADER_MAX = 4;
/** Bytes of the section count that starts spike sections. */
export const SECTION_COUNT_SIZE = 1;

function writeIndices(w: Writer, indices: Uint32Array, field: string): void {
  w.varint(indices.length);
  let prev = -1;
  for (let k = 0; k < indices.length; k++) {
    const idx = indices[k]!;
    if (idx <= prev) throw new PicospikeError("SEMANTICS_BAD_INPUT", `${field}: indices not strictly ascending at position ${k}`, { position: k });
    w.varint(k === 0 ? idx : idx - prev - 1);
    prev = idx;
  }
}

function readIndices(r: Reader, field: string): Uint32Array {
  const count = r.varint();
  // Every index takes at least one byte: bounds the allocation by the payload size.
  if (count > r.remaining) badPayload(`${field}: count ${count} exceeds the ${r.remaining} bytes left`);
  const out = new Uint32Array(count);
  let prev = -1;
  for (let k = 0; k < count; k++) {
    const v = r.varint();
    const idx = k === 0 ? v : prev + 1 + v;
    if (idx > 0xffffffff) badPayload(`${field}: index exceeds 32 bits at position ${k}`);
    out[k] = idx;
    prev = idx;
  }
  return out;
}

/** Writes an event list; SEMANTICS_BAD_INPUT for unsorted indices or a value 0. */
export function writeEvents(w: Writer, events: StepEvents): void {
  const values = events.values;
  if (values && values.length !== events.indices.length) throw new PicospikeError("SEMANTICS_BAD_INPUT", "event values and indices differ in length");
  w.u8(values ? EVENTS_VALUES : 0);
  writeIndices(w, events.indices, "events");
  if (values) {
    for (let k = 0; k < values.length; k++) {
      if (values[k] === 0) throw new PicospikeError("SEMANTICS_BAD_INPUT", `event value 0 at position ${k} (values are 1..255)`);
    }
    w.raw(values);
  }
}

/** Reads and validates an event list. */
export function readEvents(r: Reader): StepEvents {
  const flags = r.u8();
  if (flags & ~EVENTS_VALUES) badPayload(`events: unknown flags 0x${flags.toString(16)}`);
  const indices = readIndices(r, "events");
  if (!(flags & EVENTS_VALUES)) return { indices };
  const values = r.raw(indices.length);
  if (values.includes(0)) badPayload("events: value 0 (values are 1..255)");
  return { indices, values };
}

/** Writes spike sections (layers strictly ascending). */
export function writeSections(w: Writer, sections: readonly SpikeSection[]): void {
  checkU(sections.length, 8, "section count");
  let prevLayer = -1;
  w.u8(sections.length);
  for (const s of sections) {
    checkU(s.layer, 8, "section layer");
    if (s.layer <= prevLayer) badPayload("sections: layers not strictly ascending");
    prevLayer = s.layer;
    w.u8(s.layer);
    writeIndices(w, s.indices, `layer ${s.layer} spikes`);
  }
}

/** Reads and validates spike sections. */
export function readSections(r: Reader): SpikeSection[] {
  const count = r.u8();
  const sections: SpikeSection[] = [];
  let prevLayer = -1;
  for (let i = 0; i < count; i++) {
    const layer = r.u8();
    if (layer <= prevLayer) badPayload("sections: layers not strictly ascending");
    prevLayer = layer;
    sections.push({ layer, indices: readIndices(r, `layer ${layer} spikes`) });
  }
  return sections;
}

/** Writes a u8 count then `values` as u16 each. */
export function writeU16List(w: Writer, values: readonly number[], field: string): void {
  checkU(values.length, 8, `${field} count`);
  w.u8(values.length);
  for (const v of values) w.u16(v, field);
}

/** Reads a u8 count then that many u16. */
export function readU16List(r: Reader): number[] {
  const count = r.u8();
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(r.u16());
  return out;
}

/** Writes exactly `size` bytes; PROTOCOL_BAD_PAYLOAD for any other length. */
export function writeFixed(w: Writer, data: Uint8Array, size: number, field: string): void {
  if (data.length !== size) badPayload(`${field} must be ${size} bytes, got ${data.length}`);
  w.raw(data);
}

/** Writes printable ASCII text of min..max bytes, with a u8 length prefix when `prefixed`. */
export function writeText(w: Writer, text: string, min: number, max: number, prefixed: boolean, field: string): void {
  if (text.length < min || text.length > max || !/^[\x20-\x7e]*$/.test(text)) badPayload(`${field} must be ${min}..${max} printable ASCII bytes`);
  const bytes = new TextEncoder().encode(text);
  if (prefixed) w.u8(bytes.length);
  w.raw(bytes);
}

/** Reads printable ASCII text of min..max bytes: u8-prefixed, or the rest of the payload. */
export function readText(r: Reader, min: number, max: number, prefixed: boolean, field: string): string {
  const n = prefixed ? r.u8() : r.remaining;
  if (n < min || n > max) badPayload(`${field} length ${n} outside ${min}..${max}`);
  const bytes = r.raw(n);
  if (!printableBytes(bytes)) badPayload(`${field} is not printable ASCII`);
  return String.fromCharCode(...bytes);
}

/** Reads the rest of the payload as data of at least `min` bytes. */
export function readRest(r: Reader, min: number, field: string): Uint8Array {
  if (r.remaining < min) badPayload(`${field}: ${r.remaining} bytes, at least ${min} expected`);
  return r.rest();
}

/** Writes data of at least `min` bytes as the rest of the payload. */
export function writeRest(w: Writer, data: Uint8Array, min: number, field: string): void {
  if (data.length < min) badPayload(`${field}: ${data.length} bytes, at least ${min} expected`);
  w.raw(data);
}
