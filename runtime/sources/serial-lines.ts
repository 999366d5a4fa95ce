/**
 * Text lines from a sensor on a serial port, as the Edge Impulse data forwarder prints them
 * (spec/input-formats.md §7.3): numbers separated by commas, tabs or spaces, with the channel count
 * and sample rate detected from the first lines. The port reader is firmware-host/sources/serial.ts.
 */
import { fail } from "../errors.js";

/** Lines the serial source uses to detect the channel count and sample rate (after dropping the first, possibly cut, line). */
export const SERIAL_DETECT_LINES = 10;
/** Lines the serial source holds while the streamer is busy; beyond it the oldest are dropped and counted. */
export const SERIAL_QUEUE_LINES = 1024;

/** Parses a data-forwarder line: numbers separated by commas, tabs or spaces; undefined when it is not one. */
export function parseNumberLine(text: string): number[] | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const parts = t.split(/[\s,;]+/);
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(p)) return undefined;
    out.push(Number(p));
  }
  return out;
}

/**
 * What the serial source learns from its first lines, as the Edge Impulse data forwarder does:
 * the channel count (every one of SERIAL_DETECT_LINES lines after the first must agree) and the
 * sample rate (lines per second between the first and last of them).
 */
export interface SerialDetection {
  readonly channels: number;
  readonly rateHz: number;
}

/** Detects channels and rate from timed lines; throws CLI_BAD_INPUT_FILE when the lines disagree or are not numbers. */
export function detectSerial(where: string, lines: ReadonlyArray<{ text: string; atMs: number }>): SerialDetection {
  const rows = lines.map((l, k) => {
    const row = parseNumberLine(l.text);
    if (!row)
      fail("CLI_BAD_INPUT_FILE", `${where}: line ${k + 2} is not numbers separated by commas, tabs or spaces: ${JSON.stringify(l.text.slice(0, 80))}`, {
        line: k + 2,
      });
    return row;
  });
  const channels = rows[0]?.length ?? 0;
  rows.forEach((r, k) => {
    if (r.length !== channels) fail("CLI_BAD_INPUT_FILE", `${where}: line ${k + 2} has ${r.length} values, line 2 had ${channels}`, { line: k + 2 });
  });
  const span = lines.length > 1 ? lines[lines.length - 1]!.atMs - lines[0]!.atMs : 0;
  return { channels, rateHz: span > 0 ? Math.round(((lines.length - 1) * 1000 * 10) / span) / 10 : 0 };
}
