/**
 * Flash methods: put a built image on a board and return a handle with the board's serial port.
 *   native   run the host executable (it announces its pty)
 *   qemu     boot the ELF in QEMU with `-serial pty -icount shift=0`
 *   gdb      start QEMU halted and load the ELF through its gdbstub with gdb-multiarch
 *   openocd, uf2  real boards: command construction only (see real-board.ts)
 */
import { getBoard, type FlashMethodName } from "../boards.js";
import { PicospikeError } from "../../../runtime/errors.js";
import { flashGdbQemu } from "./gdb.js";
import { flashNative } from "./native.js";
import { flashQemu } from "./qemu.js";
import type { FlashHandle } from "./process.js";
import type { EmulatedClock } from "../qemu.js";

export type { FlashHandle } from "./process.js";

/** Options common to the flash methods. */
export interface FlashOptions {
  /** Flash method; the board's default when absent. */
  readonly method?: FlashMethodName;
  /** How long to wait for the board to announce its port, in ms. */
  readonly timeoutMs?: number;
  /** What an emulated board's clock follows (QEMU methods); default `instructions`. */
  readonly clock?: EmulatedClock;
}

/**
 * Starts `image` on board `boardName` with the chosen method. Methods that need a real probe or
 * drive (openocd, uf2) are DEVICE_FLASH_FAILED here with the command to run by hand.
 */
export function flash(boardName: string, image: string, options: FlashOptions = {}): Promise<FlashHandle> {
  const board = getBoard(boardName);
  const method = options.method ?? board.flashMethods[0];
  if (method === undefined || !board.flashMethods.includes(method)) {
    throw new PicospikeError(
      "DEVICE_FLASH_FAILED",
      `board ${board.name} cannot be flashed with ${String(method)} (methods: ${board.flashMethods.join(", ")})`,
      {
        board: board.name,
      },
    );
  }
  const timing = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const emulated = { ...timing, ...(options.clock === undefined ? {} : { clock: options.clock }) };
  switch (method) {
    case "native":
      return flashNative(image, timing);
    case "qemu":
      return flashQemu(board, image, emulated);
    case "gdb":
      return flashGdbQemu(board, image, emulated);
    case "openocd":
    case "stlink":
    case "uf2":
      throw new PicospikeError("DEVICE_FLASH_FAILED", `method ${method} needs a real board and probe; see firmware/ports/README.md for the exact command`, {
        board: board.name,
        method,
      });
  }
}
