/**
 * The one registry of input sources (spec/input-formats.md §7), written `kind:detail`: each turns
 * into samples of input events for a model with `inputSize` inputs, `steps` steps each. Every verb
 * that reads input (run, eval, stream, compare, monitor, and calibration in convert and quantize)
 * opens it here, through SOURCE_KINDS: one vocabulary for all of them. The kinds' decoding is in
 * runtime/sources/; this room reads the files, stdin, pipes and ports they name.
 */
import { fail } from "../../runtime/errors.js";
import type { InputSample } from "../../runtime/events.js";
import type { EventTable, Shape3 } from "../../runtime/model.js";
import { calibrationIntensities, randomSource } from "../../runtime/sources/builtin.js";
import type { SourceContext, SourceKind } from "../../runtime/sources/kind.js";
import { mnistSource } from "./datasets.js";
import { EVENT_FILE_SOURCES, spikeFileSource } from "./files.js";
import { ndjsonSource } from "./ndjson.js";
import { serialSource } from "./serial.js";

export type { SourceContext, SourceKind } from "../../runtime/sources/kind.js";

/** Every source kind, by the name before the first colon. */
export const SOURCE_KINDS: Readonly<Record<string, SourceKind>> = {
  mnist: mnistSource,
  random: randomSource,
  spikes: spikeFileSource,
  ...EVENT_FILE_SOURCES,
  ndjson: ndjsonSource,
  serial: serialSource,
};

/** The --input help of every verb that reads input: each kind's syntax and what it gives. */
export function sourceHelp(): string {
  return Object.values(SOURCE_KINDS)
    .map((k) => k.help)
    .join("; ");
}

/** The syntax of every kind, comma-separated (for options that name sources briefly; run --help gives the details). */
export function sourceSyntax(): string {
  return Object.values(SOURCE_KINDS)
    .map((k) => k.help.split("  ", 1)[0])
    .join(", ");
}

/** True when the source string names an endless kind (false for unknown kinds: parseSource reports those). */
export function sourceIsEndless(spec: string): boolean {
  const kind = spec.split(":", 1)[0]!;
  return Object.hasOwn(SOURCE_KINDS, kind) && SOURCE_KINDS[kind]!.endless;
}

/**
 * Parses a source string `kind:detail` and opens it for a model with `inputSize` inputs, giving
 * samples of `steps` steps. Throws CLI_BAD_SOURCE for unknown kinds or malformed details.
 */
export function parseSource(spec: string, inputSize: number, steps: number, context?: SourceContext): Iterable<InputSample> {
  const { source, detail } = lookup(spec);
  return source.open(detail, inputSize, steps, context);
}

function lookup(spec: string): { source: SourceKind; detail: string } {
  const colon = spec.indexOf(":");
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const source = Object.hasOwn(SOURCE_KINDS, kind) ? SOURCE_KINDS[kind] : undefined;
  if (source === undefined) {
    fail(
      "CLI_BAD_SOURCE",
      `unknown input source '${spec}'; known kinds: ${Object.keys(SOURCE_KINDS)
        .map((k) => `${k}:`)
        .join(", ")}`,
    );
  }
  return { source, detail: colon < 0 ? "" : spec.slice(colon + 1) };
}

/** True when the source string names a live kind (ndjson:, serial:), which `stream` reads as it arrives. */
export function sourceIsLive(spec: string): boolean {
  const kind = spec.split(":", 1)[0]!;
  return Object.hasOwn(SOURCE_KINDS, kind) && SOURCE_KINDS[kind]!.live === true;
}

/**
 * Opens a live source for streaming: samples of `chunkSteps` steps as they arrive (1 in real-time
 * mode, so each step goes out as soon as it is read and due). CLI_BAD_SOURCE for non-live kinds.
 */
export function openLiveSource(spec: string, inputSize: number, chunkSteps: number, context?: SourceContext): AsyncIterable<InputSample> {
  const { source, detail } = lookup(spec);
  if (!source.openLive) fail("CLI_BAD_SOURCE", `'${spec}' is not a live source`);
  return source.openLive(detail, inputSize, chunkSteps, context);
}

/**
 * Opens a (non-live) source for `table`: its samples, and how many to take (`samples`, else all of
 * a file, or 1 of an endless source). The one entry point of run, eval, compare and stream.
 */
export function openInput(
  spec: string,
  table: EventTable,
  steps: number,
  samples: number | undefined,
  context: SourceContext = {},
): { samples: Iterable<InputSample>; count: number } {
  const source = parseSource(spec, table.input.size, steps, { ...(table.input.shape ? { shape: table.input.shape } : {}), input: table.input, ...context });
  const count = samples ?? (sourceIsEndless(spec) ? 1 : Number.MAX_SAFE_INTEGER);
  return { samples: source, count };
}

/** True when the source string names a kind whose samples all carry labels (mnist:). */
export function sourceIsLabelled(spec: string): boolean {
  const kind = spec.split(":", 1)[0]!;
  return Object.hasOwn(SOURCE_KINDS, kind) && SOURCE_KINDS[kind]!.labelled === true;
}

/** Steps each calibration sample is read for, when a source's samples are turned into intensities. */
export const CALIBRATION_STEPS = 32;

/**
 * `count` samples of a source as calibration images for convert and quantize (runtime/sources/builtin.ts
 * `calibrationIntensities`: each input's mean drive per step over CALIBRATION_STEPS steps). The
 * source is opened for a model with `size` inputs (and `shape`, for event-file mapping); fewer
 * samples than asked are used when the source holds fewer.
 */
export function calibrationImages(spec: string, size: number, count: number, shape?: Shape3): { images: Uint8Array; count: number } {
  const source = parseSource(spec, size, CALIBRATION_STEPS, shape ? { shape } : {});
  return calibrationIntensities(source, size, count, CALIBRATION_STEPS, spec);
}

/**
 * Opens the input of `stream` (and monitor): live sources (ndjson:, serial:) as they arrive, in
 * samples of one step in real time (each step goes out as soon as it is read and due, and the run
 * is one continuous session) or of `steps` steps in lockstep (each a sample, reset before it); any
 * other source as openInput does. Returns the samples, how many to take and the steps per sample.
 */
export function openStreamInput(
  spec: string,
  table: EventTable,
  steps: number,
  samples: number | undefined,
  context: SourceContext & { realtime: boolean },
): { samples: Iterable<InputSample> | AsyncIterable<InputSample>; count: number; steps: number } {
  if (!sourceIsLive(spec)) return { ...openInput(spec, table, steps, samples, context), steps };
  const chunk = context.realtime ? 1 : steps;
  const full = { ...(table.input.shape ? { shape: table.input.shape } : {}), ...context };
  // --samples bounds a live run in units of --steps steps, in both modes.
  const count = samples === undefined ? Number.MAX_SAFE_INTEGER : context.realtime ? samples * steps : samples;
  return { samples: openLiveSource(spec, table.input.size, chunk, full), count, steps: chunk };
}
