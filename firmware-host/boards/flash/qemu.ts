/**
 * Flash method `qemu`: boot the image in qemu-system-arm with UART0 on a pty. `-icount shift=0`
 * makes virtual time advance exactly 1 ns per guest instruction, so the boards' cycle counters
 * give deterministic costs; QEMU prints the pty as
 * `char device redirected to /dev/pts/N (label serial0)`.
 */
import type { BoardSpec } from "../boards.js";
import { PicospikeError } from "../../../runtime/errors.js";
import { requireTool } from "../toolchain.js";
import { requireImage } from "./paths.js";
import { awaitPort, spawnManaged, type FlashHandle } from "./process.js";

/** QEMU's announcement of the first serial port's pty. */
export const QEMU_PORT_LINE = /char device redirected to (\S+) \(label serial0\)/;

/** QEMU arguments that run `board` with UART0 on a pty and deterministic instruction timing. */
export function qemuArgs(board: BoardSpec, image: string | undefined, extra: readonly string[] = []): string[] {
  if (board.qemu === undefined) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} does not run under QEMU`, { board: board.name });
  }
  return [
    "-M", board.qemu.machine,
    "-nographic", "-monitor", "none", "-serial", "pty",
    "-icount", "shift=0",
    ...(image === undefined ? [] : ["-kernel", image]),
    ...extra,
  ];
}

/** Boots `image` on `board` under QEMU and resolves with its pty once QEMU announced it. */
export function flashQemu(board: BoardSpec, image: string, options: { timeoutMs?: number } = {}): Promise<FlashHandle> {
  const qemu = requireTool("qemu-system-arm");
  requireImage(image, false);
  const child = spawnManaged(qemu, qemuArgs(board, image), true);
  return awaitPort(child, "qemu", QEMU_PORT_LINE, options.timeoutMs ?? 10_000);
}
