/**
 * The `ndjson:` source (spec/input-formats.md §7.2) read from stdin (`-`), a file or a named pipe:
 * whole and bounded for the synchronous verbs (run, compare), or line by line with backpressure for
 * `stream` (the next line is read only when the streamer asks for the next step), stopping on the
 * abort signal. The decoding is runtime/sources/ndjson.ts.
 */
import { closeSync, createReadStream, openSync } from "node:fs";
import type { Readable } from "node:stream";
import { fail } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import type { SourceKind } from "../../runtime/sources/kind.js";
import { ANALOG_OPTION_KEYS, LineSplitter, MAX_NDJSON_BYTES, NdjsonDecoder, analogOptions, chunked, decodeNdjson } from "../../runtime/sources/ndjson.js";
import { splitDetail } from "../../runtime/sources/options.js";
import { readAllBounded, readChunk } from "./read.js";

/** `ndjson:-|PATH[,options]`: one JSON object per line; live (stream reads it as it arrives). */
export const ndjsonSource: SourceKind = {
  help: 'ndjson:-|PATH[,encoder=rate|latency|delta|sigma-delta,scale=S,threshold=N,full-scale=F,seed=N,window=T]  one JSON object per line from stdin, a file or a named pipe: {"t":STEP,"events":[i,...]} or {"values":[x,...]} (analog, encoded)',
  endless: false,
  live: true,
  open(detail, inputSize, steps) {
    const { path, options } = splitDetail("ndjson", detail, ANALOG_OPTION_KEYS);
    const where = path === "-" ? "ndjson stdin" : `ndjson ${path}`;
    const analog = analogOptions("ndjson", options, "rate");
    return decodeNdjson(readAllBounded(path, MAX_NDJSON_BYTES), where, inputSize, steps, analog);
  },
  openLive(detail, inputSize, chunkSteps, context = {}) {
    const { path, options } = splitDetail("ndjson", detail, ANALOG_OPTION_KEYS);
    const where = path === "-" ? "ndjson stdin" : `ndjson ${path}`;
    const analog = analogOptions("ndjson", options, "rate");
    async function* steps(): AsyncGenerator<StepEvents> {
      const decoder = new NdjsonDecoder(where, inputSize, analog);
      const splitter = new LineSplitter(where);
      const stream: Readable = path === "-" ? process.stdin : createReadStream(path);
      if (path !== "-") {
        // A missing file or pipe is a CLI_FILE_NOT_FOUND, not a stream error later.
        try {
          closeSync(openSync(path, "r"));
        } catch (e) {
          fail("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      }
      // a live run waits on its source: say where, so a quiet terminal is not mistaken for a hang
      context.log?.(`${where}: reading one JSON object per line until the input ends${context.signal ? " (Ctrl-C stops)" : ""}`);
      try {
        for (;;) {
          const chunk = await readChunk(stream, context.signal);
          if (chunk === undefined) break;
          for (const line of splitter.push(chunk)) yield* decoder.line(line);
        }
        if (!context.signal?.aborted) for (const line of splitter.end()) yield* decoder.line(line);
      } finally {
        if (path === "-") process.stdin.pause();
        else stream.destroy();
      }
    }
    return chunked(steps(), chunkSteps);
  },
};
