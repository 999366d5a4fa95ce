/**
 * The one QEMU runner: the command line that emulates a registry board (qemu-system-arm, or
 * qemu-system-riscv32 for hifive1; the board's UART in its place among the -serial options) (used by the qemu and gdb
 * flash methods, the device bench, the fold test and the conformance suite's semihosting harness)
 * and a run-to-completion helper for images that print their results on UART0. `-icount shift=0`
 * makes virtual time advance exactly 1 ns per guest instruction, so the boards' cycle counters give
 * deterministic costs.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PicospikeError } from "../../runtime/errors.js";
import { getBoard, type BoardSpec } from "./boards.js";
import { requireTool } from "./toolchain.js";

/**
 * What an emulated board's clock follows: `instructions` (-icount shift=0: 1 ns of virtual time per
 * guest instruction, so step costs are deterministic instruction counts, but the guest's clock runs
 * at the emulator's pace, slower than the wall clock) or `host` (no -icount: the guest's timers follow
 * the host's clock, which real-time streaming needs; costs are then wall-clock ticks, not instructions).
 */
export type EmulatedClock = "instructions" | "host";

/** How QEMU is asked to run a board. */
export interface QemuOptions {
  /** Where UART0 goes: a pty (default; QEMU announces it), stdio, or QEMU's default (null: no -serial flag). */
  readonly serial?: "pty" | "stdio" | null;
  /** Deterministic instruction timing (-icount shift=0). Default true. */
  readonly icount?: boolean;
  /** Semihosting on, with these program arguments (argv[0] first). */
  readonly semihosting?: readonly string[];
  /** More arguments, appended. */
  readonly extra?: readonly string[];
}

/** QEMU's announcement of the pty of `board`'s UART: label serialK, K its place among the -serial options (nucleo-f4: USART2, serial1). */
export function qemuPortLine(board: BoardSpec): RegExp {
  const index = board.qemu?.serial.indexOf("pty") ?? 0;
  return new RegExp(`char device redirected to (\\S+) \\(label serial${Math.max(0, index)}\\)`);
}

/** The QEMU executable for `board` (qemu-system-arm, or qemu-system-riscv32 for hifive1); DEVICE_TOOL_MISSING naming its package when absent. */
export function qemuTool(board: BoardSpec): string {
  return requireTool(board.qemu?.binary ?? "qemu-system-arm");
}

/**
 * The QEMU arguments that run `image` (or nothing yet, for gdb) on `board`. The board's UART gets
 * the `serial` backend in its place among the machine's -serial options (the others stay as the
 * record says, e.g. `null` for nucleo-f4's USART1).
 */
export function qemuArgs(board: BoardSpec, image: string | undefined, options: QemuOptions = {}): string[] {
  if (board.qemu === undefined) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} does not run under QEMU`, { board: board.name });
  }
  const serial = options.serial === undefined ? "pty" : options.serial;
  return [
    "-M",
    board.qemu.machine,
    "-nographic",
    "-monitor",
    "none",
    ...(serial === null ? [] : board.qemu.serial.flatMap((backend) => ["-serial", backend === "pty" ? serial : backend])),
    ...(options.icount === false ? [] : ["-icount", "shift=0"]),
    ...(options.semihosting === undefined
      ? []
      : ["-semihosting-config", ["enable=on", "target=native", ...options.semihosting.map((a) => `arg=${a}`)].join(",")]),
    ...(image === undefined ? [] : ["-kernel", image]),
    ...(options.extra ?? []),
  ];
}

/** Longest a run-to-END image may take under QEMU by default, in ms. */
export const QEMU_RUN_TIMEOUT_MS = 300_000;

/** How often runQemu looks at what the image has printed, in ms. */
const OUTPUT_POLL_MS = 20;

/**
 * Runs `elf` on `board` under QEMU (UART0 on QEMU's stdout, -icount shift=0) until it prints a line
 * `END` or `ERROR…`; resolves with everything it printed. Rejects on timeout or when QEMU exits first.
 *
 * QEMU's stdout is a file, not a pipe: some UART models (sifive_e's, QEMU 7.2) hand each byte to a
 * non-blocking write and drop it when the write would block, and a socket pair fills after a few
 * hundred one-byte writes when the reader is slow (a loaded machine), so lines went missing. A file
 * write never blocks; the file is read every OUTPUT_POLL_MS.
 */
export function runQemu(board: string, elf: string, timeoutMs: number = QEMU_RUN_TIMEOUT_MS): Promise<string> {
  const spec = getBoard(board);
  const args = qemuArgs(spec, elf, { serial: "stdio" });
  const qemu = qemuTool(spec);
  const dir = mkdtempSync(join(tmpdir(), "picospike-qemu-"));
  const outPath = join(dir, "uart0.txt");
  const outFd = openSync(outPath, "w");
  return new Promise<string>((resolveRun, reject) => {
    const child = spawn(qemu, args, { stdio: ["ignore", outFd, "pipe"] });
    closeSync(outFd);
    let err = "";
    let settled = false;
    const output = (): string => readFileSync(outPath, "latin1");
    const settle = (result: { out: string } | { error: Error }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      child.kill("SIGKILL");
      if ("out" in result) resolveRun(result.out);
      else reject(result.error);
    };
    const timer = setTimeout(() => {
      settle({ error: new Error(`QEMU ${board} timed out after ${timeoutMs} ms; output so far:\n${output().slice(-2000)}${err}`) });
    }, timeoutMs);
    const poll = setInterval(() => {
      const out = output();
      if (/^(END|ERROR.*)$/m.test(out)) settle({ out });
    }, OUTPUT_POLL_MS);
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => {
      if (settled) return; // killed after END, or on timeout
      const out = output();
      if (/^(END|ERROR.*)$/m.test(out)) settle({ out });
      else settle({ error: new Error(`QEMU ${board} exited (${code}) before END:\n${out.slice(-2000)}${err}`) });
    });
  }).finally(() => rmSync(dir, { recursive: true, force: true }));
}
