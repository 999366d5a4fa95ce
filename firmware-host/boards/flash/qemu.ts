/**
 * Flash method `qemu`: boot the image in qemu-system-arm (the command line of ../qemu.ts) with UART0
 * on a pty; QEMU prints the pty as `char device redirected to /dev/pts/N (label serial0)`.
 */
import type { BoardSpec } from "../boards.js";
import { qemuArgs } from "../qemu.js";
import { requireTool } from "../toolchain.js";
import { requireImage } from "./paths.js";
import { awaitPort, spawnManaged, type FlashHandle } from "./process.js";

/** QEMU's announcement of the first serial port's pty. */
export const QEMU_PORT_LINE = /char device redirected to (\S+) \(label serial0\)/;

/** Boots `image` on `board` under QEMU and resolves with its pty once QEMU announced it. */
export function flashQemu(board: BoardSpec, image: string, options: { timeoutMs?: number } = {}): Promise<FlashHandle> {
  const qemu = requireTool("qemu-system-arm");
  requireImage(image, false);
  const child = spawnManaged(qemu, qemuArgs(board, image), true);
  return awaitPort(child, "qemu", QEMU_PORT_LINE, options.timeoutMs ?? 10_000);
}
