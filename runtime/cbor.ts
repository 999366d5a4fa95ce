/**
 * The bounded, canonical CBOR codec of event tables (spec/table-format.md §2).
 *
 * Only the subset of RFC 8949 the format uses is accepted: unsigned and negative integers within
 * ±(2^53-1), floats, text strings (valid UTF-8), byte strings, arrays, maps with text keys, false and
 * true, and the RFC 8746 typed-array tags 64, 69, 70, 72, 77, 78. Encoding is RFC 8949 §4.2.1 "core
 * deterministic": definite lengths, shortest heads, shortest float that keeps the value, map keys
 * sorted bytewise by their encoding. In addition, integer-valued numbers are always integers.
 *
 * The decoder is written for hostile input: every declared length is checked against the bytes
 * that remain and against the limits before anything is allocated, nesting depth is bounded, and
 * every problem is a PicospikeError with a specific code and the byte offset. It rejects anything
 * that is not canonical, so decode(x) re-encodes to x exactly.
 *
 * cbor-x is not used on this path: it writes 2^40 as a float64, has no float16 and does not sort
 * keys, so it cannot produce deterministic bytes; and after decoding it cannot tell a tag-64
 * typed array from a plain byte string. Tests check that cbor-x reads what this codec writes.
 */
import { fail } from "./errors.js";

/** A CBOR byte string (major type 2), kept apart from tag-64 uint8 typed arrays. */
export class ByteString {
  /** Creates a byte string item over `bytes` (not copied). */
  constructor(readonly bytes: Uint8Array) {}
}

/** Typed arrays that travel as RFC 8746 tags. */
export type CborTypedArray = Uint8Array | Int8Array | Uint16Array | Uint32Array | Int16Array | Int32Array;

/** A CBOR map with text keys. Decoded maps have a null prototype. */
export interface CborMap {
  readonly [key: string]: CborValue;
}

/** Any value of the supported subset. */
export type CborValue = number | string | boolean | ByteString | CborTypedArray | readonly CborValue[] | CborMap;

/** Bounds the decoder enforces (spec/table-format.md §5). */
export interface CborLimits {
  /** Deepest nesting of arrays and maps; the outermost item is depth 1. */
  readonly maxDepth: number;
  /** Most entries of one array or map. */
  readonly maxItems: number;
  /** Longest text string in UTF-8 bytes. */
  readonly maxTextBytes: number;
  /** Longest byte string (and typed array payload). */
  readonly maxByteStringBytes: number;
}

/** RFC 8746 tags this format uses: tag → element byte size and constructor (little-endian). */
const TYPED_ARRAY_TAGS = {
  64: { size: 1, name: "uint8" },
  72: { size: 1, name: "int8" },
  69: { size: 2, name: "uint16le" },
  70: { size: 4, name: "uint32le" },
  77: { size: 2, name: "int16le" },
  78: { size: 4, name: "int32le" },
} as const;
type TypedArrayTag = keyof typeof TYPED_ARRAY_TAGS;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The RFC 8746 tag of a typed array (which must be one of the six supported kinds). */
export function typedArrayTag(a: CborTypedArray): TypedArrayTag {
  if (a instanceof Uint8Array) return 64;
  if (a instanceof Int8Array) return 72;
  if (a instanceof Uint16Array) return 69;
  if (a instanceof Uint32Array) return 70;
  if (a instanceof Int16Array) return 77;
  return 78;
}

/** True for the typed arrays the codec carries as tags. */
export function isCborTypedArray(v: unknown): v is CborTypedArray {
  return (
    v instanceof Uint8Array ||
    v instanceof Int8Array ||
    v instanceof Uint16Array ||
    v instanceof Uint32Array ||
    v instanceof Int16Array ||
    v instanceof Int32Array
  );
}

/** True when `v` is a CBOR map (a plain object, not an array, byte string or typed array). */
export function isCborMap(v: unknown): v is CborMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof ByteString) && !ArrayBuffer.isView(v);
}

// ---- float16 ------------------------------------------------------------------------------------

/** Value of IEEE 754 binary16 bits. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** binary16 bits that represent `x` exactly, or -1 when none do. */
function numberToHalfExact(x: number): number {
  if (!Number.isFinite(x) || x === 0) return -1; // zero is an integer; non-finite never encoded
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a < 2 ** -14) {
    const k = a * 2 ** 24; // subnormal: a = k * 2^-24, k < 1024
    return Number.isInteger(k) && k < 1024 ? sign | k : -1;
  }
  const e = Math.floor(Math.log2(a));
  // log2 can be off by one near powers of two; settle the exponent exactly.
  let exp = e;
  if (2 ** exp > a) exp--;
  if (2 ** (exp + 1) <= a) exp++;
  if (exp > 15) return -1;
  const m = a / 2 ** exp - 1; // in [0, 1)
  const mant = m * 1024;
  if (!Number.isInteger(mant)) return -1;
  return sign | ((exp + 15) << 10) | mant;
}

// ---- encoder ------------------------------------------------------------------------------------

const textEncoder = new TextEncoder();

/** Growable output buffer. */
class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;

  ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** A head in its shortest form: major type and argument (0 .. 2^53-1). */
  head(major: number, n: number): void {
    const mt = major << 5;
    if (n < 24) this.byte(mt | n);
    else if (n < 0x100) {
      this.ensure(2);
      this.buf[this.len++] = mt | 24;
      this.buf[this.len++] = n;
    } else if (n < 0x10000) {
      this.ensure(3);
      this.buf[this.len++] = mt | 25;
      this.view.setUint16(this.len, n);
      this.len += 2;
    } else if (n < 0x100000000) {
      this.ensure(5);
      this.buf[this.len++] = mt | 26;
      this.view.setUint32(this.len, n);
      this.len += 4;
    } else {
      this.ensure(9);
      this.buf[this.len++] = mt | 27;
      this.view.setUint32(this.len, Math.floor(n / 0x100000000));
      this.view.setUint32(this.len + 4, n >>> 0);
      this.len += 8;
    }
  }
}

/** Canonical encoding of a text key (head + UTF-8), used for sorting map keys. */
function encodedKey(key: string): Uint8Array {
  const utf8 = textEncoder.encode(key);
  const w = new Writer();
  w.head(3, utf8.length);
  w.bytes(utf8);
  return w.buf.slice(0, w.len);
}

/** Bytewise order of two encoded keys (RFC 8949 §4.2.1). */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function encodeNumber(w: Writer, x: number): void {
  if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER) {
    if (x >= 0) w.head(0, x);
    else w.head(1, -1 - x);
    return;
  }
  if (!Number.isFinite(x)) fail("FORMAT_OUT_OF_RANGE", `cannot encode the non-finite number ${x}`);
  if (Number.isInteger(x)) fail("FORMAT_OUT_OF_RANGE", `cannot encode the integer ${x}: beyond ±(2^53-1)`);
  const half = numberToHalfExact(x);
  if (half >= 0) {
    w.ensure(3);
    w.buf[w.len++] = 0xf9;
    w.view.setUint16(w.len, half);
    w.len += 2;
  } else if (Math.fround(x) === x) {
    w.ensure(5);
    w.buf[w.len++] = 0xfa;
    w.view.setFloat32(w.len, x);
    w.len += 4;
  } else {
    w.ensure(9);
    w.buf[w.len++] = 0xfb;
    w.view.setFloat64(w.len, x);
    w.len += 8;
  }
}

function encodeTypedArray(w: Writer, a: CborTypedArray): void {
  const tag = typedArrayTag(a);
  const size = TYPED_ARRAY_TAGS[tag].size;
  w.head(6, tag);
  w.head(2, a.length * size);
  if (size === 1 || LITTLE_ENDIAN_HOST) {
    w.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    return;
  }
  w.ensure(a.byteLength);
  for (let i = 0; i < a.length; i++, w.len += size) {
    if (tag === 69) w.view.setUint16(w.len, a[i]!, true);
    else if (tag === 77) w.view.setInt16(w.len, a[i]!, true);
    else if (tag === 70) w.view.setUint32(w.len, a[i]!, true);
    else w.view.setInt32(w.len, a[i]!, true);
  }
}

function encodeValue(w: Writer, v: CborValue): void {
  if (typeof v === "number") encodeNumber(w, v);
  else if (typeof v === "string") {
    const utf8 = textEncoder.encode(v);
    w.head(3, utf8.length);
    w.bytes(utf8);
  } else if (typeof v === "boolean") w.byte(v ? 0xf5 : 0xf4);
  else if (v instanceof ByteString) {
    w.head(2, v.bytes.length);
    w.bytes(v.bytes);
  } else if (isCborTypedArray(v)) encodeTypedArray(w, v);
  else if (Array.isArray(v)) {
    w.head(4, v.length);
    for (const item of v as readonly CborValue[]) encodeValue(w, item);
  } else {
    const map = v as CborMap;
    const entries = Object.keys(map)
      .filter((k) => map[k] !== undefined)
      .map((k) => ({ key: encodedKey(k), value: map[k]! }))
      .sort((a, b) => compareBytes(a.key, b.key));
    w.head(5, entries.length);
    for (const e of entries) {
      w.bytes(e.key);
      encodeValue(w, e.value);
    }
  }
}

/**
 * Canonical CBOR encoding of `value` (RFC 8949 §4.2.1 plus "integers as integers"). Map entries
 * whose value is `undefined` are left out. Same value, same bytes, whatever the JS key order.
 */
export function encodeCanonical(value: CborValue): Uint8Array {
  const w = new Writer();
  encodeValue(w, value);
  return w.buf.slice(0, w.len);
}

// ---- decoder ------------------------------------------------------------------------------------

const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Head argument widths for additional information 24..27. */
const ARG_BYTES: Record<number, number> = { 24: 1, 25: 2, 26: 4, 27: 8 };

/** One pass over the input, building values and rejecting anything outside the subset. */
class Reader {
  pos = 0;
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly limits: CborLimits,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number, what: string): void {
    if (n > this.bytes.length - this.pos) {
      fail("FORMAT_TRUNCATED", `data ends inside ${what} at byte ${this.pos} (${n} more bytes declared, ${this.bytes.length - this.pos} left)`, {
        offset: this.pos,
      });
    }
  }

  /** Reads a head; returns major type and argument. Rejects indefinite and non-shortest heads. */
  head(): { major: number; ai: number; arg: number; start: number } {
    const start = this.pos;
    this.need(1, "an item head");
    const ib = this.bytes[this.pos++]!;
    const major = ib >> 5;
    const ai = ib & 31;
    if (major === 7) return { major, ai, arg: 0, start }; // simple values and floats: read by the caller
    if (ai < 24) return { major, ai, arg: ai, start };
    if (ai === 31) {
      if (major === 2 || major === 3 || major === 4 || major === 5) {
        fail("FORMAT_NON_CANONICAL", `indefinite-length item at byte ${start}: canonical CBOR uses definite lengths`, { offset: start });
      }
      fail("FORMAT_MALFORMED_CBOR", `invalid additional information 31 for major type ${major} at byte ${start}`, { offset: start });
    }
    const width = ARG_BYTES[ai];
    if (width === undefined) fail("FORMAT_MALFORMED_CBOR", `reserved additional information ${ai} at byte ${start}`, { offset: start });
    this.need(width, "an item head");
    let arg: number;
    if (width === 1) arg = this.bytes[this.pos]!;
    else if (width === 2) arg = this.view.getUint16(this.pos);
    else if (width === 4) arg = this.view.getUint32(this.pos);
    else {
      const hi = this.view.getUint32(this.pos);
      const lo = this.view.getUint32(this.pos + 4);
      // Beyond 2^53 a number cannot hold it exactly; every such value is over a limit anyway.
      arg = hi >= 0x200000 ? Infinity : hi * 0x100000000 + lo;
    }
    this.pos += width;
    const shortest = arg < 24 ? 0 : arg < 0x100 ? 1 : arg < 0x10000 ? 2 : arg < 0x100000000 ? 4 : 8;
    if (shortest !== width) fail("FORMAT_NON_CANONICAL", `item head at byte ${start} is not in its shortest form`, { offset: start });
    return { major, ai, arg, start };
  }

  /** Checks a declared string length against the limit, then against the bytes left. */
  stringLength(arg: number, limit: number, what: string, start: number): number {
    if (arg > limit) fail("FORMAT_LIMIT_EXCEEDED", `${what} at byte ${start} declares ${arg} bytes; the limit is ${limit}`, { offset: start });
    this.need(arg, what);
    return arg;
  }

  item(depth: number): CborValue {
    const h = this.head();
    switch (h.major) {
      case 0:
        if (h.arg > Number.MAX_SAFE_INTEGER) fail("FORMAT_OUT_OF_RANGE", `integer at byte ${h.start} is beyond 2^53-1`, { offset: h.start });
        return h.arg;
      case 1:
        if (h.arg >= Number.MAX_SAFE_INTEGER) fail("FORMAT_OUT_OF_RANGE", `integer at byte ${h.start} is beyond -(2^53-1)`, { offset: h.start });
        return -1 - h.arg;
      case 2: {
        const n = this.stringLength(h.arg, this.limits.maxByteStringBytes, "a byte string", h.start);
        const b = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        return new ByteString(b);
      }
      case 3: {
        const n = this.stringLength(h.arg, this.limits.maxTextBytes, "a text string", h.start);
        let s: string;
        try {
          s = textDecoder.decode(this.bytes.subarray(this.pos, this.pos + n));
        } catch {
          fail("FORMAT_MALFORMED_CBOR", `text string at byte ${h.start} is not valid UTF-8`, { offset: h.start });
        }
        this.pos += n;
        return s;
      }
      case 4: {
        this.checkContainer(h.arg, depth, h.start, "array");
        const out: CborValue[] = [];
        for (let i = 0; i < h.arg; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5:
        return this.map(h.arg, depth, h.start);
      case 6:
        return this.typedArray(h.arg, h.start);
      default:
        return this.simple(h.ai, h.start);
    }
  }

  checkContainer(count: number, depth: number, start: number, what: string): void {
    if (depth > this.limits.maxDepth)
      fail("FORMAT_LIMIT_EXCEEDED", `${what} at byte ${start} nests deeper than ${this.limits.maxDepth} levels`, { offset: start });
    if (count > this.limits.maxItems)
      fail("FORMAT_LIMIT_EXCEEDED", `${what} at byte ${start} declares ${count} entries; the limit is ${this.limits.maxItems}`, { offset: start });
  }

  map(count: number, depth: number, start: number): CborMap {
    this.checkContainer(count, depth, start, "map");
    const out: Record<string, CborValue> = Object.create(null) as Record<string, CborValue>;
    let prevKey: Uint8Array | undefined;
    for (let i = 0; i < count; i++) {
      const keyStart = this.pos;
      this.need(1, "a map key");
      if (this.bytes[keyStart]! >> 5 !== 3) fail("FORMAT_BAD_TYPE", `map key at byte ${keyStart} is not a text string`, { offset: keyStart });
      const key = this.item(depth + 1) as string;
      const keyBytes = this.bytes.subarray(keyStart, this.pos);
      if (prevKey) {
        const order = compareBytes(prevKey, keyBytes);
        if (order === 0) fail("FORMAT_MALFORMED_CBOR", `duplicate map key '${key}' at byte ${keyStart}`, { offset: keyStart });
        if (order > 0) fail("FORMAT_NON_CANONICAL", `map key '${key}' at byte ${keyStart} is out of canonical order`, { offset: keyStart });
      }
      prevKey = keyBytes;
      out[key] = this.item(depth + 1);
    }
    return out;
  }

  typedArray(tag: number, start: number): CborTypedArray {
    const info = (TYPED_ARRAY_TAGS as Record<number, { size: number; name: string } | undefined>)[tag];
    if (info === undefined) fail("FORMAT_BAD_TYPE", `tag ${tag} at byte ${start} is not a typed-array tag this format uses`, { offset: start });
    const contentStart = this.pos;
    this.need(1, "a tagged item");
    if (this.bytes[contentStart]! >> 5 !== 2) fail("FORMAT_BAD_TYPE", `tag ${tag} at byte ${start} does not enclose a byte string`, { offset: start });
    const h = this.head();
    const n = this.stringLength(h.arg, this.limits.maxByteStringBytes, "a typed array", h.start);
    if (n % info.size !== 0)
      fail("FORMAT_MALFORMED_CBOR", `${info.name} array at byte ${start} has ${n} bytes, not a multiple of ${info.size}`, { offset: start });
    // A fresh, aligned copy: never a view into the input (which may be unaligned or reused).
    // (Explicit copy: on a Node Buffer, .slice() would return a view.)
    const copy = new Uint8Array(n);
    copy.set(this.bytes.subarray(this.pos, this.pos + n));
    const count = n / info.size;
    this.pos += n;
    switch (tag as TypedArrayTag) {
      case 64:
        return copy;
      case 72:
        return new Int8Array(copy.buffer);
      default:
        break;
    }
    if (LITTLE_ENDIAN_HOST) {
      if (tag === 69) return new Uint16Array(copy.buffer);
      if (tag === 70) return new Uint32Array(copy.buffer);
      if (tag === 77) return new Int16Array(copy.buffer);
      return new Int32Array(copy.buffer);
    }
    const dv = new DataView(copy.buffer);
    if (tag === 69) return Uint16Array.from({ length: count }, (_, i) => dv.getUint16(2 * i, true));
    if (tag === 70) return Uint32Array.from({ length: count }, (_, i) => dv.getUint32(4 * i, true));
    if (tag === 77) return Int16Array.from({ length: count }, (_, i) => dv.getInt16(2 * i, true));
    return Int32Array.from({ length: count }, (_, i) => dv.getInt32(4 * i, true));
  }

  simple(ai: number, start: number): number | boolean {
    if (ai === 20) return false;
    if (ai === 21) return true;
    if (ai === 28 || ai === 29 || ai === 30) fail("FORMAT_MALFORMED_CBOR", `reserved additional information ${ai} at byte ${start}`, { offset: start });
    if (ai === 31) fail("FORMAT_MALFORMED_CBOR", `unexpected break byte at byte ${start}`, { offset: start });
    if (ai < 25) {
      if (ai === 24) this.need(1, "a simple value");
      fail("FORMAT_BAD_TYPE", `simple value (null, undefined or other) at byte ${start}: not used by this format`, { offset: start });
    }
    const width = ai === 25 ? 2 : ai === 26 ? 4 : 8;
    this.need(width, "a float");
    const x = width === 2 ? halfToNumber(this.view.getUint16(this.pos)) : width === 4 ? this.view.getFloat32(this.pos) : this.view.getFloat64(this.pos);
    this.pos += width;
    if (!Number.isFinite(x)) fail("FORMAT_OUT_OF_RANGE", `float at byte ${start} is not finite`, { offset: start });
    if (Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER) {
      fail("FORMAT_NON_CANONICAL", `float at byte ${start} holds an integer; canonical form is an integer`, { offset: start });
    }
    const shortest = numberToHalfExact(x) >= 0 ? 2 : Math.fround(x) === x ? 4 : 8;
    if (shortest !== width) fail("FORMAT_NON_CANONICAL", `float at byte ${start} is not in its shortest exact form`, { offset: start });
    return x;
  }
}

/**
 * Decodes exactly one canonical CBOR item filling all of `bytes`, within `limits`. Typed arrays
 * come back as fresh, aligned arrays of their tag's type; byte strings as ByteString views into
 * `bytes`. Throws PicospikeError (FORMAT_TRUNCATED, FORMAT_MALFORMED_CBOR, FORMAT_NON_CANONICAL,
 * FORMAT_LIMIT_EXCEEDED, FORMAT_BAD_TYPE, FORMAT_OUT_OF_RANGE) on anything else.
 */
export function decodeCanonical(bytes: Uint8Array, limits: CborLimits): CborValue {
  const r = new Reader(bytes, limits);
  const value = r.item(1);
  if (r.pos !== bytes.length) fail("FORMAT_MALFORMED_CBOR", `${bytes.length - r.pos} trailing bytes after the item, at byte ${r.pos}`, { offset: r.pos });
  return value;
}
