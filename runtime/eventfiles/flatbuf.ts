/**
 * The few FlatBuffers reads AEDAT 4.0 needs (tables, scalars, strings, vectors of structs), each
 * bounds-checked against the buffer's region of the file so a hostile file yields a byte-offset
 * error, never an out-of-range read. Layout per the FlatBuffers binary format: a buffer starts
 * with a uoffset (u32) to its root table; a table starts with an soffset (i32) such that
 * vtable = table - soffset; a vtable is u16 vtable size, u16 table size, then one u16 field
 * offset per field (0 = absent). All little-endian.
 */
import { badInput } from "./stream.js";

/** A FlatBuffers buffer occupying bytes [start, end) of a file. */
export class FlatRegion {
  private readonly view: DataView;

  constructor(
    private readonly format: string,
    readonly bytes: Uint8Array,
    readonly start: number,
    readonly end: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Fails unless [pos, pos + size) lies inside the region. */
  need(pos: number, size: number, what: string): void {
    if (pos < this.start || pos + size > this.end) badInput(this.format, Math.max(0, Math.min(pos, this.end)), `${what} lies outside its flatbuffer`);
  }

  u16(pos: number): number {
    this.need(pos, 2, "a u16");
    return this.view.getUint16(pos, true);
  }

  u32(pos: number): number {
    this.need(pos, 4, "a u32");
    return this.view.getUint32(pos, true);
  }

  i32(pos: number): number {
    this.need(pos, 4, "an i32");
    return this.view.getInt32(pos, true);
  }

  /** An int64 as a number; fails when it is not exactly representable (|v| > 2^53 - 1). */
  i64(pos: number, what: string): number {
    this.need(pos, 8, what);
    const v = this.view.getBigInt64(pos, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) badInput(this.format, pos, `${what} ${v} exceeds 2^53 - 1`);
    return Number(v);
  }

  /** Position of the root table (the uoffset at the region's first byte). */
  root(): number {
    return this.start + this.u32(this.start);
  }

  /** The 4-character file identifier after the root offset, or "" when the region is too short. */
  identifier(): string {
    if (this.end - this.start < 8) return "";
    let s = "";
    for (let k = this.start + 4; k < this.start + 8; k++) s += String.fromCharCode(this.bytes[k]!);
    return s;
  }

  /** Absolute position of field `index` of the table at `table`, or -1 when the field is absent. */
  field(table: number, index: number): number {
    const vtable = table - this.i32(table);
    const vtableSize = this.u16(vtable);
    const tableSize = this.u16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) badInput(this.format, vtable, `vtable size ${vtableSize} is invalid`);
    this.need(vtable, vtableSize, "a vtable");
    this.need(table, tableSize, "a table");
    const slot = 4 + 2 * index;
    if (slot + 2 > vtableSize) return -1;
    const rel = this.u16(vtable + slot);
    if (rel === 0) return -1;
    if (rel >= tableSize) badInput(this.format, vtable + slot, `field ${index} offset ${rel} is beyond its table (${tableSize} bytes)`);
    return table + rel;
  }

  /** Follows the uoffset stored at `pos` (strings, vectors, sub-tables). */
  deref(pos: number): number {
    return pos + this.u32(pos);
  }

  /** The string whose uoffset is at `pos`, decoded as UTF-8. */
  string(pos: number): string {
    const at = this.deref(pos);
    const len = this.u32(at);
    this.need(at + 4, len, "a string");
    return new TextDecoder("utf-8", { fatal: false }).decode(this.bytes.subarray(at + 4, at + 4 + len));
  }

  /** Start and length of the vector (of `elementSize`-byte elements) whose uoffset is at `pos`. */
  vector(pos: number, elementSize: number): { first: number; length: number } {
    const at = this.deref(pos);
    const length = this.u32(at);
    this.need(at + 4, length * elementSize, "a vector");
    return { first: at + 4, length };
  }
}
