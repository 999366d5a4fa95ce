/**
 * Writers for every event-file format the readers accept, so tests (here and elsewhere) build
 * their own small recordings instead of shipping binary fixtures. Each writer is the inverse of its
 * reader for the events it is given (which must fit the format), and follows the layouts of
 * spec/input-formats.md byte for byte. Test helpers: not used by the toolchain itself.
 */
import { AEDAT4_MAGIC } from "../aedat.js";

/** One polarity event as tests write it: p 1 = ON, 0 = OFF; t integer µs. */
export interface TestEvent {
  readonly x: number;
  readonly y: number;
  readonly p: number;
  readonly t: number;
}

const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

function concat(parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * N-MNIST: 5 bytes per event. Times beyond 23 bits are written with overflow records (y = 240),
 * each adding 2^13 µs, as the reference reader expects.
 */
export function writeNmnist(events: readonly TestEvent[]): Uint8Array {
  const out: number[] = [];
  let offset = 0;
  for (const e of events) {
    while (e.t - offset > 0x7fffff) {
      out.push(0, 240, 0, 0, 0);
      offset += 8192;
    }
    const ts = e.t - offset;
    out.push(e.x, e.y, (e.p ? 0x80 : 0) | ((ts >>> 16) & 0x7f), (ts >>> 8) & 0xff, ts & 0xff);
  }
  return Uint8Array.from(out);
}

/** AEDAT 2.0 with DVS128 addresses (x stored as 127 - x, polarity bit 0 = ON); `special` adds a bit-15 event first. */
export function writeAedat2(events: readonly TestEvent[], options: { special?: boolean } = {}): Uint8Array {
  const header = ascii("#!AER-DAT2.0\r\n# This is a raw AE data file created by picospike tests\r\n# Timestamps tick is 1 us\r\n");
  const body = new Uint8Array(8 * (events.length + (options.special ? 1 : 0)));
  const view = new DataView(body.buffer);
  let at = 0;
  if (options.special) {
    view.setUint32(0, 0x8000, false);
    view.setUint32(4, events[0]?.t ?? 0, false);
    at = 8;
  }
  for (const e of events) {
    view.setUint32(at, ((127 - e.x) << 1) | (e.y << 8) | (e.p ? 0 : 1), false);
    view.setUint32(at + 4, e.t % 0x100000000, false);
    at += 8;
  }
  return concat([header, body]);
}

/** Options of writeAedat31. */
export interface Aedat31Options {
  /** Chip name in the `#Source` line (default DVS128). */
  readonly source?: string;
  /** Events per polarity packet (default 4). */
  readonly packetSize?: number;
  /** Extra unused capacity per packet, in events (default 0). */
  readonly spareCapacity?: number;
  /** Put a special-event packet (type 0) first, which readers must skip. */
  readonly specialPacket?: boolean;
  /** Also write one invalid (valid bit 0) event per packet, which readers must skip. */
  readonly invalidEvents?: boolean;
}

/** AEDAT 3.1: header, then polarity packets (28-byte header + 8-byte events), grouped by timestamp overflow. */
export function writeAedat31(events: readonly TestEvent[], options: Aedat31Options = {}): Uint8Array {
  const parts: (Uint8Array | number[])[] = [
    ascii(`#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: ${options.source ?? "DVS128"}\r\n#Start-Time: 2024-01-01 00:00:00 (TZ+0000)\r\n#!END-HEADER\r\n`),
  ];
  const packet = (type: number, tsOverflow: number, evs: readonly (TestEvent & { valid: boolean })[]): Uint8Array => {
    const capacity = evs.length + (options.spareCapacity ?? 0);
    const out = new Uint8Array(28 + 8 * capacity);
    const v = new DataView(out.buffer);
    v.setInt16(0, type, true);
    v.setInt16(2, 1, true);
    v.setInt32(4, 8, true);
    v.setInt32(8, 4, true);
    v.setInt32(12, tsOverflow, true);
    v.setInt32(16, capacity, true);
    v.setInt32(20, evs.length, true);
    v.setInt32(24, evs.filter((e) => e.valid).length, true);
    evs.forEach((e, k) => {
      v.setUint32(28 + 8 * k, ((e.x << 17) | (e.y << 2) | ((e.p & 1) << 1) | (e.valid ? 1 : 0)) >>> 0, true);
      v.setInt32(32 + 8 * k, e.t % 0x80000000, true);
    });
    return out;
  };
  if (options.specialPacket) parts.push(packet(0, 0, [{ x: 0, y: 0, p: 0, t: 0, valid: true }]));
  const size = options.packetSize ?? 4;
  let k = 0;
  while (k < events.length) {
    const overflow = Math.floor(events[k]!.t / 0x80000000);
    const group: (TestEvent & { valid: boolean })[] = [];
    while (k < events.length && group.length < size && Math.floor(events[k]!.t / 0x80000000) === overflow) group.push({ ...events[k++]!, valid: true });
    if (options.invalidEvents) group.push({ x: 1, y: 1, p: 1, t: group[0]!.t, valid: false });
    parts.push(packet(1, overflow, group));
  }
  return concat(parts);
}

/** Little-endian byte builder with alignment, for hand-laid flatbuffers. */
class Bytes {
  readonly data: number[] = [];
  get length(): number {
    return this.data.length;
  }
  pad(align: number): void {
    while (this.data.length % align) this.data.push(0);
  }
  u8(v: number): void {
    this.data.push(v & 0xff);
  }
  u16(v: number): void {
    this.data.push(v & 0xff, (v >>> 8) & 0xff);
  }
  u32(v: number): void {
    this.data.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  i64(v: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(v), true);
    this.data.push(...b);
  }
  setU32(at: number, v: number): void {
    this.data[at] = v & 0xff;
    this.data[at + 1] = (v >>> 8) & 0xff;
    this.data[at + 2] = (v >>> 16) & 0xff;
    this.data[at + 3] = (v >>> 24) & 0xff;
  }
}

/** A size-prefixed flatbuffer: u32 size, then the buffer (root uoffset, identifier, ...). */
function sizePrefixed(buffer: Bytes): Uint8Array {
  const out = new Bytes();
  out.u32(buffer.length);
  return Uint8Array.from([...out.data, ...buffer.data]);
}

/** The IOHeader flatbuffer: compression (i32), dataTablePosition (i64), infoNode (string). */
function ioHeader(compression: number, dataTablePosition: number, infoNode: string): Uint8Array {
  const b = new Bytes();
  b.u32(0); // root offset, patched below
  b.data.push(...ascii("IOHE"));
  const vtable = b.length;
  b.u16(10); // vtable size: 4 + 3 fields
  b.u16(20); // table size
  b.u16(4); // compression
  b.u16(8); // dataTablePosition
  b.u16(16); // infoNode
  b.pad(8);
  const table = b.length;
  b.setU32(0, table);
  b.u32(table - vtable); // soffset
  b.u32(compression);
  b.i64(dataTablePosition);
  const strField = b.length;
  b.u32(0);
  b.pad(4);
  const str = b.length;
  b.setU32(strField, str - strField);
  const utf8 = new TextEncoder().encode(infoNode);
  b.u32(utf8.length);
  b.data.push(...utf8, 0);
  b.pad(4);
  return sizePrefixed(b);
}

/** One EventPacket flatbuffer, size-prefixed: `elements: [dv.Event]` of 16-byte structs. */
function eventPacket(events: readonly TestEvent[], identifier = "EVTS"): Uint8Array {
  const b = new Bytes();
  b.u32(0);
  b.data.push(...ascii(identifier));
  const vtable = b.length;
  b.u16(6);
  b.u16(8);
  b.u16(4);
  b.pad(4);
  const table = b.length;
  b.setU32(0, table);
  b.u32(table - vtable);
  const field = b.length;
  b.u32(0);
  while ((b.length + 4) % 8) b.u8(0);
  b.setU32(field, b.length - field);
  b.u32(events.length);
  for (const e of events) {
    b.i64(e.t);
    b.u16(e.x);
    b.u16(e.y);
    b.u8(e.p ? 1 : 0);
    b.u8(0);
    b.u8(0);
    b.u8(0);
  }
  return sizePrefixed(b);
}

/** Options of writeAedat4. */
export interface Aedat4Options {
  readonly width?: number;
  readonly height?: number;
  /** IOHeader compression enum (0 NONE, 1 LZ4, 2 LZ4_HIGH, 3 ZSTD, 4 ZSTD_HIGH); only the header says so. */
  readonly compression?: number;
  /** Events per packet (default 3). */
  readonly packetSize?: number;
  /** Interleave a packet of a second, non-event stream (IMU) that readers must skip. */
  readonly imuStream?: boolean;
  /** Append a (dummy) file data table and point dataTablePosition at it. */
  readonly dataTable?: boolean;
}

/** AEDAT 4.0: magic, size-prefixed IOHeader, then (streamId, size, size-prefixed EventPacket) packets. */
export function writeAedat4(events: readonly TestEvent[], options: Aedat4Options = {}): Uint8Array {
  const width = options.width ?? 346;
  const height = options.height ?? 260;
  const info =
    `<dv version="2.0"><node name="outInfo" path="/mainloop/Recorder/outInfo/">` +
    `<node name="0" path="/mainloop/Recorder/outInfo/0/"><attr key="compression" type="string">NONE</attr>` +
    `<attr key="originalOutputName" type="string">events</attr><attr key="typeIdentifier" type="string">EVTS</attr>` +
    `<node name="info" path="/mainloop/Recorder/outInfo/0/info/"><attr key="sizeX" type="int">${width}</attr>` +
    `<attr key="sizeY" type="int">${height}</attr><attr key="source" type="string">DAVIS346</attr></node></node>` +
    (options.imuStream ? `<node name="1" path="/mainloop/Recorder/outInfo/1/"><attr key="typeIdentifier" type="string">IMUS</attr></node>` : "") +
    `</node></dv>`;
  const packets: Uint8Array[] = [];
  const size = options.packetSize ?? 3;
  const packetBytes = (stream: number, payload: Uint8Array): Uint8Array => {
    const head = new Uint8Array(8);
    new DataView(head.buffer).setInt32(0, stream, true);
    new DataView(head.buffer).setInt32(4, payload.length, true);
    return concat([head, payload]);
  };
  for (let k = 0; k < events.length; k += size) {
    packets.push(packetBytes(0, eventPacket(events.slice(k, k + size))));
    if (options.imuStream) packets.push(packetBytes(1, Uint8Array.from([4, 0, 0, 0, 9, 9, 9, 9])));
  }
  const build = (tablePos: number): Uint8Array => concat([ascii(AEDAT4_MAGIC), ioHeader(options.compression ?? 0, tablePos, info), ...packets]);
  if (!options.dataTable) return build(-1);
  const body = build(0);
  const withTable = build(body.length);
  return concat([withTable, Uint8Array.from([8, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4])]);
}

/** Options of the Prophesee writers. */
export interface RawOptions {
  readonly width?: number;
  readonly height?: number;
  /** Omit the '% end' line (older files). */
  readonly noEnd?: boolean;
}

function rawHeader(evt: "2.0" | "3.0", options: RawOptions): number[] {
  const w = options.width ?? 640;
  const h = options.height ?? 480;
  const fmt = evt === "2.0" ? "EVT2" : "EVT3";
  return ascii(
    `% camera_integrator_name Prophesee\n% date 2024-01-01 00:00:00\n% evt ${evt}\n% format ${fmt};height=${h};width=${w}\n% geometry ${w}x${h}\n${options.noEnd ? "" : "% end\n"}`,
  );
}

/** EVT 2.0: an EVT_TIME_HIGH word whenever time bits 33..6 change, a CD word per event, and a trigger word to skip. */
export function writeEvt2(events: readonly TestEvent[], options: RawOptions = {}): Uint8Array {
  const words: number[] = [];
  let high = -1;
  for (const e of events) {
    const absHigh = Math.floor(e.t / 64);
    while (high >= 0 && absHigh - high >= 2 ** 27) {
      high += 2 ** 27 - 1;
      words.push(((0x8 << 28) | (high % 2 ** 28)) >>> 0);
    }
    if (absHigh !== high) {
      const h = absHigh % 2 ** 28;
      words.push(((0x8 << 28) | h) >>> 0);
      words.push(((0xa << 28) | ((e.t & 0x3f) << 22) | (1 << 8) | 1) >>> 0);
      high = absHigh;
    }
    words.push((((e.p ? 1 : 0) << 28) | ((e.t & 0x3f) << 22) | (e.x << 11) | e.y) >>> 0);
  }
  const body = new Uint8Array(4 * words.length);
  words.forEach((w, k) => new DataView(body.buffer).setUint32(4 * k, w, true));
  return concat([rawHeader("2.0", options), body]);
}

/**
 * EVT 3.0: TIME_HIGH/TIME_LOW when they change, ADDR_Y when y changes, then either one ADDR_X
 * per event or, for runs of same-y same-polarity same-time events, VECT_BASE_X + VECT_12/VECT_8
 * masks (`vectorize`). Adds an OTHERS + CONTINUED_12 pair and a trigger word that readers skip.
 */
export function writeEvt3(events: readonly TestEvent[], options: RawOptions & { vectorize?: boolean } = {}): Uint8Array {
  const words: number[] = [0xe000 | 0x014, 0xf000 | 0x123, 0xa000 | (2 << 8) | 1];
  let high = -1;
  let low = -1;
  let y = -1;
  let k = 0;
  while (k < events.length) {
    const e = events[k]!;
    const absHigh = Math.floor(e.t / 4096);
    const l = e.t % 4096;
    // As a camera does, never let the high half jump by 2^11 or more at once (that reads as a loop).
    while (high >= 0 && absHigh - high >= 2048) {
      high += 2047;
      words.push(0x8000 | (high % 4096));
      low = 0;
    }
    if (absHigh !== high) {
      words.push(0x8000 | (absHigh % 4096));
      high = absHigh;
      low = 0;
    }
    if (l !== low) {
      words.push(0x6000 | l);
      low = l;
    }
    if (e.y !== y) {
      words.push(0x0000 | e.y);
      y = e.y;
    }
    // A run: same t, y, p, strictly increasing x within 12 of the run's start.
    let end = k + 1;
    if (options.vectorize) {
      while (end < events.length) {
        const f = events[end]!;
        if (f.t !== e.t || f.y !== e.y || f.p !== e.p || f.x <= events[end - 1]!.x || f.x - e.x >= 20) break;
        end++;
      }
    }
    if (end - k === 1) {
      words.push(0x2000 | ((e.p ? 1 : 0) << 11) | e.x);
    } else {
      words.push(0x3000 | ((e.p ? 1 : 0) << 11) | e.x);
      let mask12 = 0;
      let mask8 = 0;
      for (let j = k; j < end; j++) {
        const d = events[j]!.x - e.x;
        if (d < 12) mask12 |= 1 << d;
        else mask8 |= 1 << (d - 12);
      }
      words.push(0x4000 | mask12);
      if (mask8) words.push(0x5000 | mask8);
    }
    k = end;
  }
  const body = new Uint8Array(2 * words.length);
  words.forEach((w, j) => new DataView(body.buffer).setUint16(2 * j, w, true));
  return concat([rawHeader("3.0", options), body]);
}
