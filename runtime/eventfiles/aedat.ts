/**
 * AEDAT polarity events (iniVation / jAER / cAER / DV), spec/input-formats.md §3:
 * 2.0 (jAER, DVS128 addresses), 3.1 (cAER packets) and 4.0 (DV, FlatBuffers packets; uncompressed
 * only). `readAedat` picks the version from the first header line.
 */
import { FlatRegion } from "./flatbuf.js";
import { EventColumns, type EventStream, type GeometryOverride, MAX_SENSOR_SIDE, MAX_TIME_US, badInput, checkGeometry, scanHeaderLines } from "./stream.js";

const HASH = 0x23;

/** Reads any supported AEDAT version, chosen by the `#!AER-DAT<v>` first line. */
export function readAedat(bytes: Uint8Array, geometry?: GeometryOverride): EventStream {
  const version = aedatVersion(bytes);
  if (version === "2.0") return readAedat2(bytes, geometry);
  if (version === "3.1") return readAedat31(bytes, geometry);
  if (version === "4.0") return readAedat4(bytes, geometry);
  return badInput(
    "AEDAT",
    0,
    version === undefined ? "missing '#!AER-DAT<version>' first line" : `AEDAT version ${version} is not supported (2.0, 3.1 and 4.0 are)`,
  );
}

/** The version named by a file's `#!AER-DAT<v>` first line, or undefined when there is none. */
export function aedatVersion(bytes: Uint8Array): string | undefined {
  const prefix = "#!AER-DAT";
  if (bytes.length < prefix.length) return undefined;
  for (let k = 0; k < prefix.length; k++) if (bytes[k] !== prefix.charCodeAt(k)) return undefined;
  let v = "";
  for (let k = prefix.length; k < Math.min(bytes.length, prefix.length + 8); k++) {
    const c = bytes[k]!;
    if (c === 0x0d || c === 0x0a) break;
    v += String.fromCharCode(c);
  }
  return v;
}

// ---- AEDAT 2.0 ---------------------------------------------------------------------------------

const A2 = "AEDAT 2.0";
/** DVS128 sensor side. */
export const DVS128_SIDE = 128;

/**
 * AEDAT 2.0 with the DVS128 address layout: after the '#' header lines, 8-byte big-endian records
 * (u32 address, u32 timestamp µs). Address bit 0 is the polarity (0 = ON, as jAER), bits 1-7 are
 * 127 - x (jAER flips x), bits 8-14 are y, bit 15 marks an external/special event (skipped);
 * bits 16-31 must be zero. Timestamps unwrap at 2^32 when they fall by more than 2^31.
 */
export function readAedat2(bytes: Uint8Array, geometry?: GeometryOverride): EventStream {
  checkGeometry(A2, geometry);
  if (aedatVersion(bytes) !== "2.0") badInput(A2, 0, "missing '#!AER-DAT2.0' first line");
  const { dataOffset } = scanHeaderLines(A2, bytes, HASH, () => false);
  const width = geometry?.width ?? DVS128_SIDE;
  const height = geometry?.height ?? DVS128_SIDE;
  const dataBytes = bytes.length - dataOffset;
  const whole = dataOffset + dataBytes - (dataBytes % 8);
  if (whole !== bytes.length) badInput(A2, whole, `truncated event: ${bytes.length - whole} trailing bytes (events are 8 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = (whole - dataOffset) / 8;
  const out = new EventColumns(count, count);
  let wraps = 0;
  let last = -1;
  for (let off = dataOffset; off < whole; off += 8) {
    const addr = view.getUint32(off, false);
    const ts = view.getUint32(off + 4, false);
    if (last >= 0 && last - ts > 0x80000000) wraps++;
    last = ts;
    if (addr > 0xffff)
      badInput(A2, off, `address 0x${addr.toString(16)} is not a DVS128 address (bits 16-31 set; other sensors' AEDAT 2.0 layouts are not supported)`);
    if (addr & 0x8000) continue;
    const x = DVS128_SIDE - 1 - ((addr >>> 1) & 0x7f);
    const y = (addr >>> 8) & 0x7f;
    if (x >= width || y >= height) badInput(A2, off, `event at (${x}, ${y}) is outside the ${width}x${height} sensor`);
    out.push(x, y, (addr & 1) === 0 ? 1 : 0, wraps * 0x100000000 + ts);
  }
  return out.finish(width, height);
}

// ---- AEDAT 3.1 ---------------------------------------------------------------------------------

const A3 = "AEDAT 3.1";
/** Bytes of a cAER packet header. */
export const AEDAT3_PACKET_HEADER_BYTES = 28;
/** cAER event type of polarity events. */
export const AEDAT3_POLARITY_EVENT = 1;

/** Sensor sizes by the chip name in AEDAT 3.1 `#Source` lines (first match wins, longest names first). */
const KNOWN_SENSORS: readonly (readonly [string, number, number])[] = [
  ["DVXPLORER_LITE", 320, 240],
  ["DVXPLORER", 640, 480],
  ["DAVIS346", 346, 260],
  ["DAVIS240", 240, 180],
  ["DAVIS640", 640, 480],
  ["DAVIS208", 208, 192],
  ["DAVIS128", 128, 128],
  ["DVS132S", 132, 104],
  ["DVS128", 128, 128],
];

/**
 * AEDAT 3.1: '#' header lines up to '#!END-HEADER', then packets. Each packet has a 28-byte
 * little-endian header (i16 eventType, i16 eventSource, i32 eventSize, i32 eventTSOffset,
 * i32 eventTSOverflow, i32 eventCapacity, i32 eventNumber, i32 eventValid) followed by
 * eventCapacity * eventSize bytes. Polarity packets (type 1) hold 8-byte events: u32 data
 * (bit 0 valid, bit 1 polarity, bits 2-16 y, bits 17-31 x) and i32 timestamp; the full time is
 * eventTSOverflow * 2^31 + timestamp. Other packet types are skipped; invalid events are skipped.
 */
export function readAedat31(bytes: Uint8Array, geometry?: GeometryOverride): EventStream {
  checkGeometry(A3, geometry);
  if (aedatVersion(bytes) !== "3.1") badInput(A3, 0, "missing '#!AER-DAT3.1' first line");
  const { lines, dataOffset } = scanHeaderLines(A3, bytes, HASH, (t) => t.startsWith("#!END-HEADER"));
  const last = lines[lines.length - 1];
  if (!last || !last.text.startsWith("#!END-HEADER")) badInput(A3, dataOffset, "header does not end with '#!END-HEADER'");
  let width = geometry?.width;
  let height = geometry?.height;
  for (const line of lines) {
    const format = /^#Format:\s*(\S+)/.exec(line.text);
    if (format && format[1] !== "RAW") badInput(A3, line.offset, `data format '${format[1]}' is not supported (only RAW)`);
    const source = /^#Source\s+\d+:\s*(.+)$/.exec(line.text);
    if (source && (width === undefined || height === undefined)) {
      const name = source[1]!.toUpperCase().replace(/[\s-]/g, "_");
      const known = KNOWN_SENSORS.find(([n]) => name.includes(n));
      if (known) {
        width ??= known[1];
        height ??= known[2];
      }
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new EventColumns(Math.floor((bytes.length - dataOffset) / 8), Math.floor((bytes.length - dataOffset) / 8));
  let off = dataOffset;
  while (off < bytes.length) {
    if (bytes.length - off < AEDAT3_PACKET_HEADER_BYTES)
      badInput(A3, off, `truncated packet header: ${bytes.length - off} of ${AEDAT3_PACKET_HEADER_BYTES} bytes`);
    const type = view.getInt16(off, true);
    const size = view.getInt32(off + 4, true);
    const tsOffset = view.getInt32(off + 8, true);
    const tsOverflow = view.getInt32(off + 12, true);
    const capacity = view.getInt32(off + 16, true);
    const number = view.getInt32(off + 20, true);
    const valid = view.getInt32(off + 24, true);
    if (size < 1 || capacity < 0 || number < 0 || number > capacity || valid < 0 || valid > number || tsOverflow < 0) {
      badInput(A3, off, `packet header is inconsistent (eventSize ${size}, capacity ${capacity}, number ${number}, valid ${valid}, tsOverflow ${tsOverflow})`);
    }
    const body = off + AEDAT3_PACKET_HEADER_BYTES;
    const bodyBytes = capacity * size;
    if (body + bodyBytes > bytes.length) badInput(A3, off, `truncated packet: header declares ${bodyBytes} bytes of events, ${bytes.length - body} remain`);
    if (type === AEDAT3_POLARITY_EVENT) {
      if (size !== 8 || tsOffset !== 4) badInput(A3, off, `polarity packet has eventSize ${size} and eventTSOffset ${tsOffset} (expected 8 and 4)`);
      const base = tsOverflow * 0x80000000;
      if (base > MAX_TIME_US - 0x7fffffff) badInput(A3, off + 12, `eventTSOverflow ${tsOverflow} makes timestamps exceed 2^53 µs`);
      for (let k = 0; k < number; k++) {
        const at = body + 8 * k;
        const data = view.getUint32(at, true);
        if ((data & 1) === 0) continue;
        const ts = view.getInt32(at + 4, true);
        if (ts < 0) badInput(A3, at + 4, `negative timestamp ${ts}`);
        const x = (data >>> 17) & 0x7fff;
        const y = (data >>> 2) & 0x7fff;
        if ((width !== undefined && x >= width) || (height !== undefined && y >= height)) {
          badInput(A3, at, `event at (${x}, ${y}) is outside the ${width ?? "?"}x${height ?? "?"} sensor`);
        }
        out.push(x, y, (data >>> 1) & 1, base + ts);
      }
    }
    off = body + bodyBytes;
  }
  return out.finish(width, height);
}

// ---- AEDAT 4.0 ---------------------------------------------------------------------------------

const A4 = "AEDAT 4.0";
/** The 14-byte version line that starts every AEDAT 4.0 file. */
export const AEDAT4_MAGIC = "#!AER-DAT4.0\r\n";
/** IOHeader compression enum values, by name (dv-processing's IOHeader.fbs). */
export const AEDAT4_COMPRESSION = ["NONE", "LZ4", "LZ4_HIGH", "ZSTD", "ZSTD_HIGH"] as const;
/** Bytes of one `dv.Event` struct (i64 timestamp, i16 x, i16 y, bool polarity, 3 bytes padding). */
export const AEDAT4_EVENT_BYTES = 16;

/** What the IOHeader's infoNode XML says about one output stream. */
interface StreamInfo {
  type?: string;
  sizeX?: number;
  sizeY?: number;
}

/**
 * AEDAT 4.0: the magic line, a size-prefixed IOHeader flatbuffer (compression i32 enum,
 * dataTablePosition i64 = -1, infoNode string of XML describing the streams), then packets up to
 * dataTablePosition (or the end): i32 streamId, i32 size, and `size` bytes holding a size-prefixed
 * EventPacket flatbuffer (`elements: [dv.Event]`). Packets of streams whose typeIdentifier is not
 * EVTS (frames, IMU, triggers) are skipped. Compressed files are rejected, naming the compression.
 */
export function readAedat4(bytes: Uint8Array, geometry?: GeometryOverride): EventStream {
  checkGeometry(A4, geometry);
  for (let k = 0; k < AEDAT4_MAGIC.length; k++) {
    if (bytes[k] !== AEDAT4_MAGIC.charCodeAt(k)) badInput(A4, Math.min(k, bytes.length), `missing '#!AER-DAT4.0\\r\\n' magic`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sizeAt = AEDAT4_MAGIC.length;
  if (bytes.length < sizeAt + 4) badInput(A4, sizeAt, "truncated before the IOHeader size");
  const headerSize = view.getUint32(sizeAt, true);
  const headerStart = sizeAt + 4;
  if (headerStart + headerSize > bytes.length) badInput(A4, sizeAt, `IOHeader of ${headerSize} bytes runs past the end of the file`);
  const header = new FlatRegion(A4, bytes, headerStart, headerStart + headerSize);
  const root = header.root();
  const compressionAt = header.field(root, 0);
  const compression = compressionAt < 0 ? 0 : header.i32(compressionAt);
  const compressionName = AEDAT4_COMPRESSION[compression];
  if (compressionName === undefined) badInput(A4, compressionAt, `unknown compression type ${compression}`);
  if (compressionName !== "NONE") {
    badInput(
      A4,
      compressionAt,
      `packets are ${compressionName}-compressed; this build reads only uncompressed AEDAT 4.0 (no ${compressionName.startsWith("LZ4") ? "LZ4" : "Zstandard"} decoder is available): re-export the recording with compression NONE`,
    );
  }
  const tablePosAt = header.field(root, 1);
  const dataTablePosition = tablePosAt < 0 ? -1 : header.i64(tablePosAt, "dataTablePosition");
  const infoAt = header.field(root, 2);
  const info = infoAt < 0 ? "" : header.string(infoAt);
  const streams = parseInfoNode(info);
  const eventStreams = new Set([...streams].filter(([, s]) => s.type === "EVTS").map(([id]) => id));
  if (eventStreams.size === 0) badInput(A4, headerStart, "the IOHeader names no event stream (typeIdentifier EVTS)");
  let width = geometry?.width;
  let height = geometry?.height;
  for (const id of eventStreams) {
    const s = streams.get(id)!;
    if (s.sizeX !== undefined && s.sizeX >= 1 && s.sizeX <= MAX_SENSOR_SIDE) width ??= s.sizeX;
    if (s.sizeY !== undefined && s.sizeY >= 1 && s.sizeY <= MAX_SENSOR_SIDE) height ??= s.sizeY;
  }
  const dataStart = headerStart + headerSize;
  let dataEnd = bytes.length;
  if (dataTablePosition >= 0) {
    if (dataTablePosition < dataStart || dataTablePosition > bytes.length)
      badInput(A4, tablePosAt, `dataTablePosition ${dataTablePosition} is outside the packet area ${dataStart}..${bytes.length}`);
    dataEnd = dataTablePosition;
  }
  const limit = Math.floor((dataEnd - dataStart) / AEDAT4_EVENT_BYTES);
  const out = new EventColumns(limit, limit);
  let off = dataStart;
  while (off < dataEnd) {
    if (dataEnd - off < 8) badInput(A4, off, `truncated packet header: ${dataEnd - off} of 8 bytes`);
    const streamId = view.getInt32(off, true);
    const size = view.getInt32(off + 4, true);
    const body = off + 8;
    if (size < 0 || body + size > dataEnd) badInput(A4, off, `packet of ${size} bytes runs past the end of the packet area (${dataEnd - body} bytes remain)`);
    if (eventStreams.has(streamId)) readEventPacket(bytes, body, body + size, out, width, height);
    else if (!streams.has(streamId)) badInput(A4, off, `packet for stream ${streamId}, which the IOHeader does not declare`);
    off = body + size;
  }
  return out.finish(width, height);
}

/** Decodes one size-prefixed EventPacket flatbuffer occupying bytes [start, end). */
function readEventPacket(bytes: Uint8Array, start: number, end: number, out: EventColumns, width: number | undefined, height: number | undefined): void {
  if (end - start < 4) badInput(A4, start, "event packet shorter than its size prefix");
  const prefix = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(start, true);
  if (prefix > end - start - 4) badInput(A4, start, `event packet size prefix ${prefix} exceeds the packet (${end - start - 4} bytes)`);
  const fb = new FlatRegion(A4, bytes, start + 4, start + 4 + prefix);
  const id = fb.identifier();
  if (id !== "EVTS" && id !== "\0\0\0\0")
    badInput(A4, start + 8, `event stream packet has file identifier '${id.replace(/[^\x20-\x7e]/g, "?")}' (expected EVTS)`);
  const root = fb.root();
  const elementsAt = fb.field(root, 0);
  if (elementsAt < 0) return;
  const { first, length } = fb.vector(elementsAt, AEDAT4_EVENT_BYTES);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let k = 0; k < length; k++) {
    const at = first + AEDAT4_EVENT_BYTES * k;
    const t = fb.i64(at, "event timestamp");
    const x = view.getInt16(at + 8, true);
    const y = view.getInt16(at + 10, true);
    if (t < 0) badInput(A4, at, `negative timestamp ${t}`);
    if (x < 0 || y < 0 || (width !== undefined && x >= width) || (height !== undefined && y >= height)) {
      badInput(A4, at + 8, `event at (${x}, ${y}) is outside the ${width ?? "?"}x${height ?? "?"} sensor`);
    }
    out.push(x, y, bytes[at + 12] !== 0 ? 1 : 0, t);
  }
}

/**
 * Reads the streams out of the infoNode XML: `<node name="outInfo">` holds one `<node name="N">`
 * per stream id N, with `<attr key="typeIdentifier">` and, in its `<node name="info">`,
 * `<attr key="sizeX">`/`<attr key="sizeY">`. Unknown elements are ignored.
 */
function parseInfoNode(xml: string): Map<number, StreamInfo> {
  const streams = new Map<number, StreamInfo>();
  const path: string[] = [];
  const tag = /<(\/?)(node|attr)\b([^>]*?)(\/?)>/g;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(xml)) !== null) {
    const [, closing, kind, attrs = "", selfClosing] = m;
    if (kind === "node") {
      if (closing) path.pop();
      else if (!selfClosing) path.push(/\bname="([^"]*)"/.exec(attrs)?.[1] ?? "");
      continue;
    }
    if (closing || selfClosing) continue;
    const key = /\bkey="([^"]*)"/.exec(attrs)?.[1];
    const close = xml.indexOf("</attr>", tag.lastIndex);
    if (key === undefined || close < 0) continue;
    const value = xml.slice(tag.lastIndex, close).trim();
    const outAt = path.lastIndexOf("outInfo");
    if (outAt < 0 || outAt + 1 >= path.length) continue;
    const id = Number(path[outAt + 1]);
    if (!Number.isInteger(id)) continue;
    const rest = path.slice(outAt + 2);
    const s = streams.get(id) ?? {};
    streams.set(id, s);
    if (rest.length === 0 && key === "typeIdentifier") s.type = value;
    if (rest.length === 1 && rest[0] === "info" && (key === "sizeX" || key === "sizeY")) {
      const n = Number(value);
      if (Number.isInteger(n)) s[key] = n;
    }
  }
  return streams;
}
