/**
 * The board → (build, flash, port) path for `--board native|mps2-an386|microbit`: build the
 * picospike device runtime for the board (firmware-host/boards.ts), start it with the board's flash
 * method (firmware-host/flash/), and hand back the serial port it announced. Only the device
 * runtime's main loop is missing today; until firmware/src/ps_main.c exists this fails with
 * CODEGEN_UNSUPPORTED saying so, and a missing compiler or QEMU fails with DEVICE_TOOL_MISSING.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PicospikeError } from "../runtime/errors.js";
import { buildFirmware, firmwareRoot, getBoard } from "./boards.js";
import { flash, type FlashHandle } from "./flash/index.js";

/** Sources of the device runtime, relative to firmware/ (the main loop first). */
export const DEVICE_RUNTIME_SOURCES = ["src/ps_main.c", "src/ps_proto.c", "src/ps_frame.c", "src/ps_cobs.c", "src/ps_crc16.c", "src/ps_table.c", "src/ps_sha256.c"] as const;

/** A started board and its port. */
export interface LaunchedBoard {
  readonly board: string;
  readonly port: string;
  readonly handle: FlashHandle;
  readonly image: string;
}

/**
 * Builds the generic (upload-capable) firmware for `boardName` into `outDir` (a fresh temporary
 * folder by default), starts it with the board's default flash method and returns its port.
 */
export async function launchBoard(boardName: string, outDir?: string): Promise<LaunchedBoard> {
  const board = getBoard(boardName);
  const root = firmwareRoot();
  const missing = DEVICE_RUNTIME_SOURCES.filter((s) => !existsSync(join(root, s)));
  if (missing.length > 0) {
    throw new PicospikeError(
      "CODEGEN_UNSUPPORTED",
      `board ${board.name}: the picospike device runtime is not built yet (missing firmware/${missing.join(", firmware/")}); use --board mock, or --port PATH for a board that already runs picospike firmware`,
      { board: board.name, missing },
    );
  }
  const dir = outDir ?? mkdtempSync(join(tmpdir(), `picospike-${board.name}-`));
  const built = await buildFirmware(board.name, DEVICE_RUNTIME_SOURCES, ["include"], dir);
  const handle = await flash(board.name, built.image);
  return { board: board.name, port: handle.port, handle, image: built.image };
}
