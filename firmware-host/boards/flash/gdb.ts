/**
 * Flash method `gdb`: load the ELF through the GDB remote protocol. Here the server is QEMU's
 * gdbstub (QEMU started empty and halted with `-S -gdb tcp:127.0.0.1:PORT`); the same gdb command
 * line reaches real boards through OpenOCD, pyOCD, probe-rs or a Black Magic Probe
 * (see gdbServerTargets and firmware/ports/README.md).
 */
import { createServer } from "node:net";
import type { BoardSpec } from "../boards.js";
import { PicospikeError } from "../../../runtime/errors.js";
import { requireTool, runTool } from "../toolchain.js";
import { requireImage } from "./paths.js";
import { qemuArgs, qemuPortLine, qemuTool, type EmulatedClock } from "../qemu.js";
import { awaitPort, spawnManaged, type FlashHandle } from "./process.js";

/** How to reach a GDB server: the `target` command and how to start the loaded program. */
export interface GdbServerTarget {
  /** The gdb command that connects, e.g. `target extended-remote :3333`. */
  readonly connect: string;
  /** Commands run before `load` (probe scan and attach for Black Magic). */
  readonly before: readonly string[];
  /** Commands after `load` that reset into the new image and let it run. */
  readonly after: readonly string[];
}

/** GDB servers picospike documents, for `--method gdb --gdb-server <name>[:address]`. */
export const gdbServerTargets = {
  /** QEMU's gdbstub: reset re-reads the vector table; detach resumes the VM. */
  qemu: (address: string): GdbServerTarget => ({ connect: `target remote ${address}`, before: [], after: ["monitor system_reset", "detach"] }),
  /** OpenOCD (`openocd -f interface/... -f target/...`, gdb port 3333 by default). */
  openocd: (address = "127.0.0.1:3333"): GdbServerTarget => ({
    connect: `target extended-remote ${address}`,
    before: ["monitor reset halt"],
    after: ["monitor reset run", "detach"],
  }),
  /** pyOCD (`pyocd gdbserver`, port 3333). */
  pyocd: (address = "127.0.0.1:3333"): GdbServerTarget => ({
    connect: `target extended-remote ${address}`,
    before: ["monitor reset halt"],
    after: ["monitor reset", "detach"],
  }),
  /** probe-rs (`probe-rs gdb --chip <chip>`, port 1337). */
  probeRs: (address = "127.0.0.1:1337"): GdbServerTarget => ({
    connect: `target extended-remote ${address}`,
    before: ["monitor reset halt"],
    after: ["monitor reset", "detach"],
  }),
  /** Black Magic Probe: the gdb server is its first serial port. */
  blackMagic: (serialPath = "/dev/ttyACM0"): GdbServerTarget => ({
    connect: `target extended-remote ${serialPath}`,
    before: ["monitor swdp_scan", "attach 1"],
    after: ["kill"],
  }),
} as const;

/** The gdb-multiarch arguments that load `image` through `target` and start it. */
export function gdbLoadArgs(image: string, target: GdbServerTarget): string[] {
  const commands = [target.connect, ...target.before, "load", ...target.after];
  return ["-batch", "-nx", image, ...commands.flatMap((command) => ["-ex", command])];
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts QEMU for `board` empty and halted with its gdbstub on 127.0.0.1, loads `image` with
 * gdb-multiarch, resets into it and resolves with the pty of its UART.
 */
export async function flashGdbQemu(board: BoardSpec, image: string, options: { timeoutMs?: number; clock?: EmulatedClock } = {}): Promise<FlashHandle> {
  const qemu = qemuTool(board);
  const gdb = requireTool("gdb-multiarch");
  requireImage(image, false);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const gdbPort = await freeLocalPort();
  const child = spawnManaged(qemu, qemuArgs(board, undefined, { icount: options.clock !== "host", extra: ["-S", "-gdb", `tcp:127.0.0.1:${gdbPort}`] }), true);
  const handle = await awaitPort(child, "gdb", qemuPortLine(board), timeoutMs);
  const run = await runTool(gdb, gdbLoadArgs(image, gdbServerTargets.qemu(`127.0.0.1:${gdbPort}`)), { timeoutMs });
  if (run.code !== 0 || !/Start address/.test(run.stdout + run.stderr)) {
    await handle.stop();
    throw new PicospikeError(
      "DEVICE_FLASH_FAILED",
      `gdb load into QEMU failed (${run.timedOut ? "timed out" : `exit ${run.code}`}):\n${run.stdout}${run.stderr}`,
      {
        method: "gdb",
      },
    );
  }
  return handle;
}
