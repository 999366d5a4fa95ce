/**
 * What the device-facing verbs share: connecting to a board (`--board mock` in-process, `--port
 * PATH`, or `--board NAME` built and started; firmware-host/boards/open-board.ts), opening the input
 * source (cli/sources.ts), and Ctrl-C as an abort signal.
 */
import { fail } from "../runtime/errors.js";
import type { InputSample } from "../runtime/events.js";
import type { EventTable } from "../runtime/model.js";
import { boardDriver, openableBoards, openBoard, type OpenedBoard } from "../firmware-host/boards/open-board.js";
import type { EmulatedClock } from "../firmware-host/boards/qemu.js";
import { openInput, openLiveSource, sourceIsLive, type SourceContext } from "./sources.js";

export { openInput } from "./sources.js";

/** A connected, model-ready device (the board factory's open board). */
export type Device = OpenedBoard;

/** The --board / --port help text. */
export const BOARD_HELP = `board: mock (${boardDriver("mock").description}) or ${openableBoards()
  .filter((name) => name !== "mock")
  .join(", ")} (built and started)`;

/** The board options the device verbs share. */
export interface DeviceOptions {
  readonly board?: string;
  readonly port?: string;
  readonly baud?: number;
  readonly inject?: string;
  /** What an emulated board's clock follows (`host` for real-time work). */
  readonly clock?: EmulatedClock;
}

/** Connects to the device named by --board/--port and makes it run `modelBytes` (through firmware-host's board factory). */
export function connectDevice(opts: DeviceOptions, modelBytes: Uint8Array): Promise<Device> {
  return openBoard({ ...opts, model: modelBytes });
}

/**
 * Opens the input of `stream`: live sources (ndjson:, serial:) as they arrive, in samples of one
 * step in real time (each step goes out as soon as it is read and due, and the run is one
 * continuous session) or of `steps` steps in lockstep (each a sample, reset before it); any other
 * source as openInput does. Returns the samples, how many to take and the steps per sample.
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
