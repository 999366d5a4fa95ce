/**
 * Prophesee / Metavision RAW recordings in EVT 2.0 (32-bit words) and EVT 3.0 (16-bit words),
 * little-endian, after the '%' text header. spec/input-formats.md §4. Only change-detection (CD)
 * events are returned; triggers and vendor words are skipped; reserved word types are errors.
 */
import { EventColumns, type EventStream, type GeometryOverride, type HeaderLine, MAX_TIME_US, badInput, checkGeometry, scanHeaderLines } from "./stream.js";

const PERCENT = 0x25;

/** What the '%' header of a RAW file declares. */
export interface RawHeader {
  /** Encoding named by '% evt 2.0' / '% evt 3.0' or '% format EVT2;...', when present ("2.0" or "3.0" or other). */
  readonly evt?: string;
  readonly width?: number;
  readonly height?: number;
  /** Offset of the first data byte. */
  readonly dataOffset: number;
}

/**
 * Parses the '%' header: lines starting with '%' up to and including '% end' (or up to the first
 * line that does not start with '%'). Geometry comes from '% geometry WxH' or from the
 * 'width='/'height=' keys of '% format EVTn;...'.
 */
export function readRawHeader(format: string, bytes: Uint8Array): RawHeader {
  const { lines, dataOffset } = scanHeaderLines(format, bytes, PERCENT, (t) => t.trim() === "% end");
  let evt: string | undefined;
  let width: number | undefined;
  let height: number | undefined;
  const side = (line: HeaderLine, v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 2048) badInput(format, line.offset, `header geometry '${v}' is not an integer in 1..2048`);
    return n;
  };
  for (const line of lines) {
    const text = line.text.trim();
    let m = /^%\s*evt\s+(\S+)/i.exec(text);
    if (m) evt = m[1]!;
    m = /^%\s*format\s+EVT(\d)(\d?)\b(.*)$/i.exec(text);
    if (m) {
      evt = `${m[1]}.${m[2] || "0"}`;
      const w = /width=(\w+)/.exec(m[3]!);
      const h = /height=(\w+)/.exec(m[3]!);
      if (w) width = side(line, w[1]!);
      if (h) height = side(line, h[1]!);
    }
    m = /^%\s*geometry\s+(\w+)x(\w+)/i.exec(text);
    if (m) {
      width = side(line, m[1]!);
      height = side(line, m[2]!);
    }
  }
  return { ...(evt !== undefined && { evt }), ...(width !== undefined && { width }), ...(height !== undefined && { height }), dataOffset };
}

function geometryOf(
  format: string,
  header: RawHeader,
  geometry: GeometryOverride | undefined,
  expectEvt: string,
): { width: number | undefined; height: number | undefined } {
  checkGeometry(format, geometry);
  if (header.evt !== undefined && header.evt !== expectEvt) badInput(format, 0, `the header declares EVT ${header.evt}, not EVT ${expectEvt}`);
  return { width: geometry?.width ?? header.width, height: geometry?.height ?? header.height };
}

function checkXY(format: string, at: number, x: number, y: number, width: number | undefined, height: number | undefined): void {
  if ((width !== undefined && x >= width) || (height !== undefined && y >= height)) {
    badInput(format, at, `event at (${x}, ${y}) is outside the ${width ?? "?"}x${height ?? "?"} sensor`);
  }
}

// ---- EVT 2.0 -----------------------------------------------------------------------------------

const E2 = "EVT 2.0";
/** EVT 2.0 word types (bits 31-28). */
export const EVT2 = { CD_OFF: 0x0, CD_ON: 0x1, EVT_TIME_HIGH: 0x8, EXT_TRIGGER: 0xa, OTHERS: 0xe, CONTINUED: 0xf } as const;

/**
 * EVT 2.0: 32-bit little-endian words, type in bits 31-28. CD_OFF/CD_ON: bits 27-22 time LSBs
 * (6 bits), 21-11 x, 10-0 y. EVT_TIME_HIGH: bits 27-0 are time bits 33-6. The time of a CD event
 * is loops * 2^34 + high * 64 + low, where `loops` counts EVT_TIME_HIGH values that fall by at
 * least 2^27 (half the range). CD words before the first EVT_TIME_HIGH are skipped.
 */
export function readEvt2(bytes: Uint8Array, geometry?: GeometryOverride): EventStream {
  const header = readRawHeader(E2, bytes);
  const { width, height } = geometryOf(E2, header, geometry, "2.0");
  const start = header.dataOffset;
  const dataBytes = bytes.length - start;
  const whole = start + dataBytes - (dataBytes % 4);
  if (whole !== bytes.length) badInput(E2, whole, `truncated word: ${bytes.length - whole} trailing bytes (words are 4 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = (whole - start) / 4;
  const out = new EventColumns(count, count);
  let high = -1;
  let loops = 0;
  for (let off = start; off < whole; off += 4) {
    const w = view.getUint32(off, true);
    const type = w >>> 28;
    switch (type) {
      case EVT2.CD_OFF:
      case EVT2.CD_ON: {
        if (high < 0) break;
        const x = (w >>> 11) & 0x7ff;
        const y = w & 0x7ff;
        checkXY(E2, off, x, y, width, height);
        const t = loops * 2 ** 34 + high * 64 + ((w >>> 22) & 0x3f);
        if (t > MAX_TIME_US) badInput(E2, off, "timestamp exceeds 2^53 µs");
        out.push(x, y, type, t);
        break;
      }
      case EVT2.EVT_TIME_HIGH: {
        const next = w & 0x0fffffff;
        if (high >= 0 && high >= next + 2 ** 27) loops++;
        high = next;
        break;
      }
      case EVT2.EXT_TRIGGER:
      case EVT2.OTHERS:
      case EVT2.CONTINUED:
        break;
      default:
        badInput(E2, off, `reserved word type 0x${type.toString(16)}`);
    }
  }
  return out.finish(width, height);
}

// ---- EVT 3.0 -----------------------------------------------------------------------------------

const E3 = "EVT 3.0";
/** EVT 3.0 word types (bits 15-12). */
export const EVT3 = {
  EVT_ADDR_Y: 0x0,
  EVT_ADDR_X: 0x2,
  VECT_BASE_X: 0x3,
  VECT_12: 0x4,
  VECT_8: 0x5,
  EVT_TIME_LOW: 0x6,
  CONTINUED_4: 0x7,
  EVT_TIME_HIGH: 0x8,
  EXT_TRIGGER: 0xa,
  OTHERS: 0xe,
  CONTINUED_12: 0xf,
} as const;

/**
 * EVT 3.0: 16-bit little-endian words, type in bits 15-12, decoded with state:
 * EVT_ADDR_Y sets y (bits 10-0; bit 11, the system type, is ignored); EVT_ADDR_X emits one event
 * at x = bits 10-0 with polarity bit 11; VECT_BASE_X sets the vector base x (bits 10-0) and
 * polarity (bit 11); VECT_12 / VECT_8 emit an event at base + i for each set bit i of their 12 / 8
 * low bits, then advance base by 12 / 8; EVT_TIME_LOW / EVT_TIME_HIGH set the low / high 12 bits of
 * the 24-bit time (a new high value clears low, and a high value that falls by at least 2^11
 * counts a loop of 2^24 µs). CD words before the first EVT_TIME_HIGH, EVT_ADDR_Y (and VECT_BASE_X
 * for vectors) are skipped.
 */
export function readEvt3(bytes: Uint8Array, geometry?: GeometryOverride): EventStream {
  const header = readRawHeader(E3, bytes);
  const { width, height } = geometryOf(E3, header, geometry, "3.0");
  const start = header.dataOffset;
  const dataBytes = bytes.length - start;
  const whole = start + dataBytes - (dataBytes % 2);
  if (whole !== bytes.length) badInput(E3, whole, "truncated word: 1 trailing byte (words are 2 bytes)");
  const words = (whole - start) / 2;
  const out = new EventColumns(words, words * 12);
  let y = -1;
  let baseX = -1;
  let basePol = 0;
  let high = -1;
  let low = 0;
  let loops = 0;
  const time = (at: number): number => {
    const t = loops * 2 ** 24 + high * 4096 + low;
    if (t > MAX_TIME_US) badInput(E3, at, "timestamp exceeds 2^53 µs");
    return t;
  };
  const vector = (at: number, mask: number, n: number): void => {
    if (baseX < 0) return;
    if (y >= 0 && high >= 0) {
      for (let i = 0; i < n; i++) {
        if (((mask >>> i) & 1) === 0) continue;
        const x = baseX + i;
        if (x > 0x7ff) badInput(E3, at, `vector event x ${x} exceeds 2047`);
        checkXY(E3, at, x, y, width, height);
        out.push(x, y, basePol, time(at));
      }
    }
    baseX += n;
  };
  for (let off = start; off < whole; off += 2) {
    const w = bytes[off]! | (bytes[off + 1]! << 8);
    const type = w >>> 12;
    switch (type) {
      case EVT3.EVT_ADDR_Y:
        y = w & 0x7ff;
        break;
      case EVT3.EVT_ADDR_X: {
        if (y < 0 || high < 0) break;
        const x = w & 0x7ff;
        checkXY(E3, off, x, y, width, height);
        out.push(x, y, (w >>> 11) & 1, time(off));
        break;
      }
      case EVT3.VECT_BASE_X:
        baseX = w & 0x7ff;
        basePol = (w >>> 11) & 1;
        break;
      case EVT3.VECT_12:
        vector(off, w & 0xfff, 12);
        break;
      case EVT3.VECT_8:
        vector(off, w & 0xff, 8);
        break;
      case EVT3.EVT_TIME_LOW:
        low = w & 0xfff;
        break;
      case EVT3.EVT_TIME_HIGH: {
        const next = w & 0xfff;
        if (high >= 0 && high >= next + 2 ** 11) loops++;
        if (next !== high) low = 0;
        high = next;
        break;
      }
      case EVT3.CONTINUED_4:
      case EVT3.EXT_TRIGGER:
      case EVT3.OTHERS:
      case EVT3.CONTINUED_12:
        break;
      default:
        badInput(E3, off, `reserved word type 0x${type.toString(16)}`);
    }
  }
  return out.finish(width, height);
}
