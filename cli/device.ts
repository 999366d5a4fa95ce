/**
 * What the device-facing verbs share: connecting to a board (`--board mock` in-process, `--port
 * PATH`, or `--board NAME` built and started; firmware-host/boards/open-board.ts), opening the input
 * source (the `mnist:START:COUNT` hook on top of cli/sources.ts), and Ctrl-C as an abort signal.
 */
import { fail } from "../runtime/errors.js";
import type { InputSample } from "../runtime/events.js";
import { encodeSample } from "../runtime/interpreter.js";
import type { EventTable } from "../runtime/model.js";
import { loadDataset, slice, image } from "../models/datasets.js";
import { boardDriver, openableBoards, openBoard, type OpenedBoard } from "../firmware-host/boards/open-board.js";
import { openLiveSource, parseSource, sourceIsEndless, sourceIsLive, type SourceContext } from "./sources.js";

/** A connected, model-ready device (the board factory's open board). */
export type Device = OpenedBoard;

/** The --board / --port help text. */
export const BOARD_HELP = `board: mock (${boardDriver("mock").description}) or ${openableBoards().filter((name) => name !== "mock").join(", ")} (built and started)`;

/** The board options the device verbs share. */
export interface DeviceOptions {
  readonly board?: string;
  readonly port?: string;
  readonly baud?: number;
  readonly inject?: string;
}

/** Connects to the device named by --board/--port and makes it run `modelBytes` (through firmware-host's board factory). */
export function connectDevice(opts: DeviceOptions, modelBytes: Uint8Array): Promise<Device> {
  return openBoard({ ...opts, model: modelBytes });
}

/**
 * Opens an input source for `table`: `mnist`, `mnist:START:COUNT` (held-out test digits, encoded as
 * the table's input says, each digit with a fresh encoder as `eval` does), or any cli/sources.ts kind.
 * Returns the samples and how many to take.
 */
export function openInput(spec: string, table: EventTable, steps: number, samples: number | undefined, context: SourceContext = {}): { samples: Iterable<InputSample>; count: number } {
  const m = /^mnist(?::(\d+):(\d+))?$/.exec(spec);
  if (m) {
    if (table.input.size !== 784) fail("SEMANTICS_BAD_INPUT", `mnist digits have 784 pixels, the model's input has ${table.input.size}`);
    const test = loadDataset().test;
    const set = m[1] === undefined ? test : slice(test, Number(m[1]), Number(m[2]));
    const count = Math.min(samples ?? set.count, set.count);
    return {
      count,
      samples: {
        *[Symbol.iterator]() {
          for (let i = 0; i < count; i++) yield { steps: encodeSample(table.input, image(set, i), steps), label: set.labels[i]! };
        },
      },
    };
  }
  if (spec.startsWith("mnist")) fail("CLI_BAD_SOURCE", `'${spec}' is not mnist or mnist:START:COUNT`);
  const source = parseSource(spec, table.input.size, steps, { ...(table.input.shape ? { shape: table.input.shape } : {}), ...context });
  const count = samples ?? (sourceIsEndless(spec) ? 1 : Number.MAX_SAFE_INTEGER);
  return { samples: source, count };
}

/**
 * Opens the input of `stream`: live sources (ndjson:, serial:) as they arrive, in samples of one
 * step in real time (each step goes out as soon as it is read and due, and the run is one
 * continuous session) or of `steps` steps in lockstep (each a sample, reset before it); any other
 * source as openInput does. Returns the samples, how many to take and the steps per sample.
 */
export function openStreamInput(
  spec: string, table: EventTable, steps: number, samples: number | undefined, context: SourceContext & { realtime: boolean },
): { samples: Iterable<InputSample> | AsyncIterable<InputSample>; count: number; steps: number } {
  if (!sourceIsLive(spec)) return { ...openInput(spec, table, steps, samples, context), steps };
  const chunk = context.realtime ? 1 : steps;
  const full = { ...(table.input.shape ? { shape: table.input.shape } : {}), ...context };
  // --samples bounds a live run in units of --steps steps, in both modes.
  const count = samples === undefined ? Number.MAX_SAFE_INTEGER : context.realtime ? samples * steps : samples;
  return { samples: openLiveSource(spec, table.input.size, chunk, full), count, steps: chunk };
}

/** An AbortSignal fired by the first Ctrl-C (SIGINT); a second one exits at once. Call dispose() when done. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onInt = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", onInt);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", onInt) };
}
