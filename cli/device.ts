/**
 * What the device-facing verbs share: connecting to a board (`--board mock` in-process, `--port
 * PATH`, or `--board NAME` built and started; firmware-host/boards/open-board.ts) and Ctrl-C as an
 * abort signal. Their input comes from the one source registry, firmware-host/sources/registry.ts.
 */
import { fail } from "../runtime/errors.js";
import { boardDriver, openableBoards, openBoard, type OpenedBoard } from "../firmware-host/boards/open-board.js";
import type { EmulatedClock } from "../firmware-host/boards/qemu.js";

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
