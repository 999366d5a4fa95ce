/**
 * Flash method `qemu`: boot the image in the board's QEMU (qemu-system-arm, or qemu-system-riscv32
 * for hifive1) with the board's UART on a pty. `-icount shift=0`
 * makes virtual time advance exactly 1 ns per guest instruction, so the boards' cycle counters
 * give deterministic costs; QEMU prints the pty as
 * `char device redirected to /dev/pts/N (label serialK)`, K the position of the pty among the
 * -serial options (nucleo-f4: `-serial null -serial pty`, K = 1, USART2).
 */
import type { BoardSpec } from "../boards.js";
import { PicospikeError } from "../../../runtime/errors.js";
import { requireTool } from "../toolchain.js";
import { requireImage } from "./paths.js";
import { awaitPort, spawnManaged, type FlashHandle } from "./process.js";

/** QEMU's announcement of the first serial port's pty. */
export const QEMU_PORT_LINE = /char device redirected to (\S+) \(label serial0\)/;

/** QEMU's announcement of the pty of `board`'s UART (the -serial option that is `pty`). */
export function qemuPortLine(board: BoardSpec): RegExp {
  const index = board.qemu?.serial.indexOf("pty") ?? 0;
  return new RegExp(`char device redirected to (\\S+) \\(label serial${Math.max(0, index)}\\)`);
}

/** The QEMU executable for `board` (DEVICE_TOOL_MISSING naming its package when absent). */
export function qemuTool(board: BoardSpec): string {
  return requireTool(board.qemu?.binary ?? "qemu-system-arm");
}

/** QEMU arguments that run `board` with UART0 on a pty and deterministic instruction timing. */
export function qemuArgs(board: BoardSpec, image: string | undefined, extra: readonly string[] = []): string[] {
  if (board.qemu === undefined) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} does not run under QEMU`, { board: board.name });
  }
  return [
    "-M", board.qemu.machine,
    "-nographic", "-monitor", "none", ...board.qemu.serial.flatMap((backend) => ["-serial", backend]),
    "-icount", "shift=0",
    ...(image === undefined ? [] : ["-kernel", image]),
    ...extra,
  ];
}

/** Boots `image` on `board` under QEMU and resolves with its pty once QEMU announced it. */
export function flashQemu(board: BoardSpec, image: string, options: { timeoutMs?: number } = {}): Promise<FlashHandle> {
  const qemu = qemuTool(board);
  requireImage(image, false);
  const child = spawnManaged(qemu, qemuArgs(board, image), true);
  return awaitPort(child, "qemu", qemuPortLine(board), options.timeoutMs ?? 10_000);
}
