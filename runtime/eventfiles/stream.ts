/**
 * The typed event stream every event-camera reader returns, and the helpers the readers share:
 * a bounded growable column builder, byte-offset errors, and `%`/`#` text header scanning.
 * spec/input-formats.md §1 is the normative description.
 */
import { PicospikeError } from "../errors.js";

/**
 * Polarity (change-detection) events of one recording, as parallel columns.
 *
 * Times are integer microseconds held in a Float64Array: every supported format's timestamps fit
 * in 53 bits after unwrapping (readers reject any that would not), so doubles are exact, cheap to
 * subtract and compare, and need no BigInt on the binning path.
 */
export interface EventStream {
  /** Column of each event, 0..width-1. */
  readonly x: Uint16Array;
  /** Row of each event, 0..height-1. */
  readonly y: Uint16Array;
  /** Polarity: 1 = ON (brightness increase), 0 = OFF. */
  readonly p: Uint8Array;
  /** Timestamp in integer microseconds (file order; not re-sorted). */
  readonly t: Float64Array;
  /** Sensor width in pixels (from the file's header, the format, an override, or max x + 1). */
  readonly width: number;
  /** Sensor height in pixels (same sources as width). */
  readonly height: number;
}

/** Sensor geometry a caller may impose on a reader (e.g. N-Caltech101 in N-MNIST format). */
export interface GeometryOverride {
  /** Sensor width; events with x >= width are rejected. */
  readonly width?: number;
  /** Sensor height; events with y >= height are rejected. */
  readonly height?: number;
}

/** Largest timestamp magnitude a stream holds exactly (2^53 - 1 µs). */
export const MAX_TIME_US = Number.MAX_SAFE_INTEGER;

/** Largest sensor side any reader accepts (EVT 2.0/3.0 address 11 bits; AEDAT 15 bits). */
export const MAX_SENSOR_SIDE = 32768;

/** Throws CLI_BAD_INPUT_FILE naming the format and byte offset; `detail.offset` carries it. */
export function badInput(format: string, offset: number, message: string): never {
  throw new PicospikeError("CLI_BAD_INPUT_FILE", `${format}: ${message} at byte ${offset}`, { format, offset });
}

/**
 * Appends events column by column. Capacity starts at the caller's estimate and doubles, but never
 * beyond `limit` (an upper bound the reader derives from the file size), so a hostile file cannot
 * make the reader allocate more than a constant times its own size.
 */
export class EventColumns {
  private xs: Uint16Array;
  private ys: Uint16Array;
  private ps: Uint8Array;
  private ts: Float64Array;
  /** Number of events appended so far. */
  length = 0;

  constructor(
    initialCapacity: number,
    private readonly limit: number,
  ) {
    const cap = Math.max(16, Math.min(initialCapacity, limit));
    this.xs = new Uint16Array(cap);
    this.ys = new Uint16Array(cap);
    this.ps = new Uint8Array(cap);
    this.ts = new Float64Array(cap);
  }

  /** Appends one event (callers have validated the values). */
  push(x: number, y: number, p: number, t: number): void {
    if (this.length === this.xs.length) this.grow();
    const k = this.length++;
    this.xs[k] = x;
    this.ys[k] = y;
    this.ps[k] = p;
    this.ts[k] = t;
  }

  private grow(): void {
    const cap = Math.min(Math.max(this.xs.length * 2, 16), Math.max(this.limit, this.xs.length + 1));
    const xs = new Uint16Array(cap);
    const ys = new Uint16Array(cap);
    const ps = new Uint8Array(cap);
    const ts = new Float64Array(cap);
    xs.set(this.xs);
    ys.set(this.ys);
    ps.set(this.ps);
    ts.set(this.ts);
    this.xs = xs;
    this.ys = ys;
    this.ps = ps;
    this.ts = ts;
  }

  /** Largest x and y appended (-1 when empty), for geometry inference. */
  extent(): { maxX: number; maxY: number } {
    let maxX = -1;
    let maxY = -1;
    for (let k = 0; k < this.length; k++) {
      if (this.xs[k]! > maxX) maxX = this.xs[k]!;
      if (this.ys[k]! > maxY) maxY = this.ys[k]!;
    }
    return { maxX, maxY };
  }

  /** The finished stream, trimmed to length. Width/height default to max coordinate + 1 (at least 1). */
  finish(width: number | undefined, height: number | undefined): EventStream {
    const n = this.length;
    let w = width;
    let h = height;
    if (w === undefined || h === undefined) {
      const { maxX, maxY } = this.extent();
      w ??= Math.max(1, maxX + 1);
      h ??= Math.max(1, maxY + 1);
    }
    return {
      x: this.xs.slice(0, n),
      y: this.ys.slice(0, n),
      p: this.ps.slice(0, n),
      t: this.ts.slice(0, n),
      width: w,
      height: h,
    };
  }
}

/** Validates a geometry override's fields (positive integers up to MAX_SENSOR_SIDE). */
export function checkGeometry(format: string, g: GeometryOverride | undefined): void {
  for (const [name, v] of [
    ["width", g?.width],
    ["height", g?.height],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1 || v > MAX_SENSOR_SIDE)) {
      throw new PicospikeError("CLI_USAGE", `${format}: ${name} must be an integer in 1..${MAX_SENSOR_SIDE}, got ${v}`);
    }
  }
}

/** One text line of a header: its bytes decoded as Latin-1 without the line ending, and where it starts. */
export interface HeaderLine {
  readonly text: string;
  readonly offset: number;
}

/**
 * Reads text header lines at the start of `bytes` while the next byte is `marker` ('#' or '%').
 * Each line ends at '\n' (a preceding '\r' is dropped). `stop(text)` ends the header after the
 * line it accepts (e.g. '% end'). Returns the lines and the offset of the first data byte.
 * A header line with no '\n' before the end of the file is a truncated header.
 */
export function scanHeaderLines(
  format: string,
  bytes: Uint8Array,
  marker: number,
  stop: (text: string) => boolean,
  maxLineBytes = 1 << 20,
): { lines: HeaderLine[]; dataOffset: number } {
  const lines: HeaderLine[] = [];
  let pos = 0;
  while (pos < bytes.length && bytes[pos] === marker) {
    let end = pos;
    const limit = Math.min(bytes.length, pos + maxLineBytes);
    while (end < limit && bytes[end] !== 0x0a) end++;
    if (end >= limit) {
      if (end >= bytes.length) badInput(format, pos, "header line is not terminated by a newline (file truncated in its header)");
      badInput(format, pos, `header line longer than ${maxLineBytes} bytes`);
    }
    let textEnd = end;
    if (textEnd > pos && bytes[textEnd - 1] === 0x0d) textEnd--;
    let text = "";
    for (let k = pos; k < textEnd; k++) text += String.fromCharCode(bytes[k]!);
    lines.push({ text, offset: pos });
    pos = end + 1;
    if (stop(text)) break;
  }
  return { lines, dataOffset: pos };
}
