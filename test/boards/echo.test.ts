/**
 * Board bring-up, end to end: build firmware/ports/echo_main.c for each board, flash it with each
 * method the machine can run, open the announced pty with SerialTransport, and check the echo,
 * the banner and the cycle counter. Under QEMU -icount the cost of the fixed workload must be the
 * same on every run. Missing tools skip with a printed reason.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Xorshift32, XORSHIFT32_REFERENCE_SEED } from "../../runtime/prng.js";
import { boardTools, buildFirmware, getBoard, testedBoards, type BuildResult } from "../../firmware-host/boards/boards.js";
import { flash, type FlashHandle } from "../../firmware-host/boards/flash/index.js";
import { SerialTransport } from "../../firmware-host/transports/serial-transport.js";
import { missingTools, type ToolName } from "../../firmware-host/boards/toolchain.js";
import type { FlashMethodName } from "../../firmware-host/boards/boards.js";

const CMD_CYCLES = 0xc1;
const CMD_WORKLOAD = 0xc2;
const WORKLOAD_ITERATIONS = 1000;

/** The echo firmware's workload (xorshift32 from the reference seed), computed here to check the device's result. */
function expectedWorkload(iterations: number): number {
  const g = new Xorshift32(XORSHIFT32_REFERENCE_SEED);
  let state = g.value;
  for (let i = 0; i < iterations; i++) state = g.next();
  return state;
}

/** Collects received bytes and waits for a given count, with a timeout. */
class Receiver {
  private bytes: number[] = [];
  private wake: (() => void) | undefined;
  constructor(transport: SerialTransport) {
    transport.onData((chunk) => {
      this.bytes.push(...chunk);
      this.wake?.();
    });
  }
  async take(count: number, timeoutMs = 3000): Promise<Uint8Array> {
    const deadline = Date.now() + timeoutMs;
    while (this.bytes.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out: wanted ${count} bytes, have ${this.bytes.length}`);
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, left);
        this.wake = () => {
          clearTimeout(timer);
          resolveWait();
        };
      });
    }
    return Uint8Array.from(this.bytes.splice(0, count));
  }
  /** Drops leading copies of `value` (echoes of a repeated byte). */
  dropLeading(value: number): void {
    while (this.bytes[0] === value) this.bytes.shift();
  }
  async line(timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let text = "";
    while (!text.endsWith("\n")) text += String.fromCharCode((await this.take(1, deadline - Date.now()))[0] ?? 0);
    return text.trimEnd();
  }
}

const u32 = (bytes: Uint8Array, at: number): number => new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);

function isGone(handle: FlashHandle): boolean {
  const pid = handle.process.pid;
  if (pid === undefined) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

const outDir = mkdtempSync(join(tmpdir(), "picospike-boards-"));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const builds = new Map<string, Promise<BuildResult>>();
function buildEcho(board: string): Promise<BuildResult> {
  let build = builds.get(board);
  if (build === undefined) {
    build = buildFirmware(board, ["ports/echo_main.c"], [], join(outDir, board));
    builds.set(board, build);
  }
  return build;
}

const cases: Array<{ board: string; method: FlashMethodName; tools: ToolName[] }> = (
  [
    { board: "native", method: "native", tools: ["gcc", "size"] },
    { board: "mps2-an386", method: "qemu", tools: ["arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm"] },
    { board: "mps2-an386", method: "gdb", tools: ["arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm", "gdb-multiarch"] },
    { board: "microbit", method: "qemu", tools: ["arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm"] },
    { board: "nucleo-f4", method: "qemu", tools: boardTools(getBoard("nucleo-f4")) },
    { board: "nucleo-f4", method: "gdb", tools: [...boardTools(getBoard("nucleo-f4")), "gdb-multiarch"] },
    { board: "hifive1", method: "qemu", tools: boardTools(getBoard("hifive1")) },
    { board: "mps3-an547", method: "qemu", tools: boardTools(getBoard("mps3-an547")) },
  ] as Array<{ board: string; method: FlashMethodName; tools: ToolName[] }>
).filter((c) => testedBoards([c.board]).length > 0);

/** Workload costs per board, across methods and runs: deterministic boards must agree. */
const costsByBoard = new Map<string, number[]>();

describe("board bring-up with the echo firmware", () => {
  for (const { board, method, tools } of cases) {
    const missing = missingTools(tools);
    if (missing.length > 0) console.log(`skip ${board} via ${method}: missing ${missing.join(", ")} (bash scripts/install-system-deps.sh)`);

    it.skipIf(missing.length > 0)(`${board} via ${method}: echo, banner and cycle counter`, async () => {
      const build = await buildEcho(board);
      const spec = getBoard(board);
      if (spec.flashBytes !== undefined) expect(build.size.flash).toBeLessThan(8 * 1024);
      const handle = await flash(board, build.image, { method });
      try {
        const transport = await SerialTransport.open(handle.port);
        const rx = new Receiver(transport);
        try {
          // The host speaks first; the banner follows the first byte, then its echo. QEMU's STM32
          // USART drops bytes that arrive before the firmware enables its receiver (the host can
          // open the pty before the guest's first instruction), so the first byte is repeated
          // until the banner comes, as the protocol's HELLO is.
          let banner: string | undefined;
          for (let attempt = 0; attempt < 5 && banner === undefined; attempt++) {
            await transport.write(Uint8Array.of(0x48));
            banner = await rx.line(1000).catch(() => undefined);
          }
          expect(banner).toBe(`picospike-echo board=${board} hz=${spec.counterHz}`);
          expect([...(await rx.take(1))]).toEqual([0x48]);
          await new Promise((r) => setTimeout(r, 100));
          rx.dropLeading(0x48);

          // Every byte value except the two commands comes back unchanged, in order.
          const payload = Uint8Array.from({ length: 600 }, (_, i) => i % 256).filter((b) => b !== CMD_CYCLES && b !== CMD_WORKLOAD);
          await transport.write(payload);
          expect([...(await rx.take(payload.length))]).toEqual([...payload]);

          await transport.write(Uint8Array.of(CMD_CYCLES));
          const first = await rx.take(5);
          await new Promise((r) => setTimeout(r, 20));
          await transport.write(Uint8Array.of(CMD_CYCLES));
          const second = await rx.take(5);
          expect(first[0]).toBe(CMD_CYCLES);
          expect(second[0]).toBe(CMD_CYCLES);
          expect((u32(second, 1) - u32(first, 1)) >>> 0).toBeGreaterThan(0); // the counter runs

          const costs: number[] = [];
          for (let run = 0; run < 3; run++) {
            await transport.write(Uint8Array.of(CMD_WORKLOAD));
            const reply = await rx.take(9);
            expect(reply[0]).toBe(CMD_WORKLOAD);
            expect(u32(reply, 5)).toBe(expectedWorkload(WORKLOAD_ITERATIONS));
            costs.push(u32(reply, 1));
            await new Promise((r) => setTimeout(r, 7 * run)); // a different arrival phase each time
          }
          expect(costs.every((cost) => cost > 0)).toBe(true);
          if (spec.qemu !== undefined) {
            expect(new Set(costs).size).toBe(1);
            const all = costsByBoard.get(board) ?? [];
            all.push(...costs);
            costsByBoard.set(board, all);
            expect(new Set(all).size).toBe(1);
            console.log(
              `${board} via ${method}: workload ${costs[0]} ticks = ${(costs[0] ?? 0) * spec.qemu.instructionsPerTick} instructions; image ${JSON.stringify(build.size)}`,
            );
          }
        } finally {
          await transport.close();
        }
      } finally {
        await handle.stop();
      }
      expect(isGone(handle)).toBe(true);
    });
  }
});
