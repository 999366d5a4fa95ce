/**
 * Flash method `qemu`: boot the image in the board's QEMU (the command line of ../qemu.ts) with the board's
 * UART on a pty; QEMU prints the pty as `char device redirected to /dev/pts/N (label serialK)`
 * (K = 0, or 1 for nucleo-f4's USART2).
 */
import type { BoardSpec } from "../boards.js";
import { qemuArgs, qemuPortLine, qemuTool, type EmulatedClock } from "../qemu.js";
import { requireImage } from "./paths.js";
import { awaitPort, spawnManaged, type FlashHandle } from "./process.js";

/** QEMU's announcement of the first serial port's pty. */
export const QEMU_PORT_LINE = /char device redirected to (\S+) \(label serial0\)/;

/** Boots `image` on `board` under QEMU (its clock as `options.clock` says) and resolves with its pty once QEMU announced it. */
export function flashQemu(board: BoardSpec, image: string, options: { timeoutMs?: number; clock?: EmulatedClock } = {}): Promise<FlashHandle> {
  const qemu = qemuTool(board);
  requireImage(image, false);
  const child = spawnManaged(qemu, qemuArgs(board, image, { icount: options.clock !== "host" }), true);
  return awaitPort(child, "qemu", qemuPortLine(board), options.timeoutMs ?? 10_000);
}
