/**
 * N-MNIST / N-Caltech101 binary event files (Orchard et al. 2015), spec/input-formats.md §2.
 * Every event is 5 bytes: x (8 bits), y (8 bits), then a 24-bit big-endian word whose top bit is
 * the polarity and whose low 23 bits are the timestamp in microseconds. An event with y = 240 is
 * a timestamp-overflow marker (adds 2^13 µs to every later event), as in the dataset's reference
 * reader.
 */
import { EventColumns, type EventStream, type GeometryOverride, badInput, checkGeometry } from "./stream.js";

const FORMAT = "N-MNIST";
/** Bytes per N-MNIST event. */
export const NMNIST_EVENT_BYTES = 5;
/** Sensor side of N-MNIST (the ATIS crop used for the digits). */
export const NMNIST_SIDE = 34;
/** The y value that marks a timestamp-overflow record. */
export const NMNIST_OVERFLOW_Y = 240;
/** Microseconds added to every event after an overflow record (the reference reader's 2^13). */
export const NMNIST_OVERFLOW_US = 8192;

/**
 * Decodes an N-MNIST binary file. Geometry is 34x34 unless overridden (N-Caltech101 files use the
 * same encoding with larger frames). Throws CLI_BAD_INPUT_FILE with the byte offset for a
 * truncated final event or an event outside the sensor.
 */
export function readNmnist(bytes: Uint8Array, geometry?: GeometryOverride): EventStream {
  checkGeometry(FORMAT, geometry);
  const width = geometry?.width ?? NMNIST_SIDE;
  const height = geometry?.height ?? NMNIST_SIDE;
  const whole = bytes.length - (bytes.length % NMNIST_EVENT_BYTES);
  if (whole !== bytes.length) {
    badInput(FORMAT, whole, `truncated event: ${bytes.length - whole} trailing bytes (events are ${NMNIST_EVENT_BYTES} bytes)`);
  }
  const count = whole / NMNIST_EVENT_BYTES;
  const out = new EventColumns(count, count);
  let timeOffset = 0;
  for (let off = 0; off < whole; off += NMNIST_EVENT_BYTES) {
    const x = bytes[off]!;
    const y = bytes[off + 1]!;
    const b2 = bytes[off + 2]!;
    if (y === NMNIST_OVERFLOW_Y) {
      timeOffset += NMNIST_OVERFLOW_US;
      continue;
    }
    if (x >= width || y >= height) {
      badInput(FORMAT, off, `event at (${x}, ${y}) is outside the ${width}x${height} sensor`);
    }
    const ts = ((b2 & 0x7f) << 16) | (bytes[off + 3]! << 8) | bytes[off + 4]!;
    out.push(x, y, b2 >>> 7, ts + timeOffset);
  }
  return out.finish(width, height);
}
