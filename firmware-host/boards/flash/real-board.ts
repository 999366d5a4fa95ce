/**
 * Real-board routes that cannot run on a machine without a probe or a board: OpenOCD `program`,
 * ST-Link's `st-flash write` of the raw binary, and copying an image to a USB mass-storage
 * bootloader (UF2 boards; the micro:bit's DAPLink drive takes Intel HEX the same way). These build
 * the exact commands picospike runs and prints; firmware/ports/README.md shows them. They are
 * tested for construction, and where OpenOCD is installed its configuration files are parsed
 * (the program step replaced by `shutdown`), so a wrong file name fails here.
 */
import { basename, join } from "node:path";
import type { BoardSpec } from "../boards.js";
import { PicospikeError } from "../../../runtime/errors.js";
import { requireTool, runTool, type ToolName } from "../toolchain.js";
import { requireImage } from "./paths.js";

/** A command line to run, as argv (no shell). */
export type Argv = readonly string[];

/** Where `st-flash write` puts the raw binary, per board (the flash base of the STM32). */
const STLINK_FLASH_BASE: Readonly<Record<string, string>> = { "nucleo-f4": "0x08000000" };

/**
 * `openocd -f <interface> -f <target> -c "program <elf> verify reset exit"`: writes the ELF
 * into flash through the debug probe, verifies it and starts it. `interfaceCfg` overrides the
 * probe (e.g. interface/stlink.cfg); the board's record (boards.ts) names its probe and chip.
 */
export function openocdProgramArgv(board: BoardSpec, elf: string, interfaceCfg?: string): Argv {
  const cfg = board.openocd;
  if (cfg === undefined) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} has no OpenOCD target (method openocd)`, { board: board.name });
  }
  if (/["{}\\]/.test(elf)) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `image path ${elf} contains characters OpenOCD's Tcl quoting cannot carry`, { image: elf });
  }
  return ["openocd", "-f", interfaceCfg ?? cfg.interface, ...(cfg.target === undefined ? [] : ["-f", cfg.target]), "-c", `program "${elf}" verify reset exit`];
}

/**
 * The same OpenOCD line with the program step replaced by `shutdown`: OpenOCD reads every
 * configuration file and stops before touching a probe (the HiFive1 board file runs `init` itself,
 * so there it stops at the missing FTDI adapter). Used to check the files exist and parse.
 */
export function openocdParseCheckArgv(program: Argv): Argv {
  const at = program.indexOf("-c");
  return [...program.slice(0, at), "-c", "shutdown"];
}

/**
 * True when OpenOCD's output of a parse check shows the configuration was read: clean exit, or a
 * stop at the missing probe; false for a missing file or a bad command.
 */
export function openocdConfigParsed(code: number | null, output: string): boolean {
  if (/Can't find|invalid command name|wrong # args|syntax error/i.test(output)) return false;
  return code === 0 || /unable to open ftdi device|no device found|open failed/i.test(output);
}

/** `st-flash --reset write <image.bin> <flash base>`: ST-Link's own route, from the raw binary. */
export function stlinkWriteArgv(board: BoardSpec, bin: string): Argv {
  const base = STLINK_FLASH_BASE[board.name];
  if (base === undefined || !board.flashMethods.includes("stlink")) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} has no ST-Link route (method stlink)`, { board: board.name });
  }
  return ["st-flash", "--reset", "write", bin, base];
}

/** The objcopy runs that put `firmware.bin` and `firmware.hex` next to the ELF (for probes and drag-and-drop tools). */
export function imageConversions(board: BoardSpec, elf: string): { bin: string; hex: string; commands: Argv[] } {
  const tool = board.cpu === "rv32imac" ? "riscv64-unknown-elf-objcopy" : "arm-none-eabi-objcopy";
  const stem = elf.replace(/\.elf$/, "");
  const bin = `${stem}.bin`;
  const hex = `${stem}.hex`;
  return {
    bin,
    hex,
    commands: [
      [tool, "-O", "binary", elf, bin],
      [tool, "-O", "ihex", elf, hex],
    ],
  };
}

/** The command that flashes `elf` on a real board with `method` (openocd, stlink), for printing and running. */
export function realBoardCommand(board: BoardSpec, method: "openocd" | "stlink", elf: string): Argv {
  return method === "openocd" ? openocdProgramArgv(board, elf) : stlinkWriteArgv(board, imageConversions(board, elf).bin);
}

/** The steps of a drag-and-drop flash: convert the ELF, then copy it onto the board's drive. */
export interface CopyFlashPlan {
  /** Converts the ELF to the file the bootloader takes. */
  readonly convert: Argv;
  /** The file written by `convert`. */
  readonly file: string;
  /** Where it is copied: the mounted drive (the copy itself is a plain file copy, then sync). */
  readonly destination: string;
}

/**
 * Intel HEX for the micro:bit's DAPLink drive (mounted as MICROBIT): `arm-none-eabi-objcopy -O
 * ihex firmware.elf firmware.hex`, then copy it to the drive; DAPLink flashes and resets the
 * nRF51. UF2 bootloaders take a .uf2 made from the binary in the same way (uf2conv with the
 * chip's family id); the micro:bit v1 has none, so its copy route is the HEX one.
 */
export function copyFlashPlan(board: BoardSpec, elf: string, mountPoint: string): CopyFlashPlan {
  if (!board.flashMethods.includes("uf2")) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} has no drag-and-drop flash route (method uf2)`, { board: board.name });
  }
  const file = elf.replace(/\.elf$/, "") + ".hex";
  return {
    convert: ["arm-none-eabi-objcopy", "-O", "ihex", elf, file],
    file,
    destination: join(mountPoint, basename(file)),
  };
}

/** What flashRealBoard did. */
export interface RealBoardFlash {
  /** The flash command, exactly as run (or to run by hand). */
  readonly command: Argv;
  /** The raw binary and Intel HEX written next to the ELF. */
  readonly bin: string;
  readonly hex: string;
  /** True when the command ran and exited 0; false when only printed (run: false). */
  readonly ran: boolean;
}

/**
 * Writes `.bin`/`.hex` next to `elf`, then runs the probe command for `method` unless `run` is
 * false. A missing objcopy or probe tool is DEVICE_TOOL_MISSING naming its package; the tool
 * failing (no probe attached, wrong board) is DEVICE_FLASH_FAILED with its output.
 */
export async function flashRealBoard(board: BoardSpec, method: "openocd" | "stlink", elf: string, run: boolean): Promise<RealBoardFlash> {
  if (!board.flashMethods.includes(method)) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} cannot be flashed with ${method} (methods: ${board.flashMethods.join(", ")})`, {
      board: board.name,
    });
  }
  requireImage(elf, false);
  const images = imageConversions(board, elf);
  for (const [tool, ...args] of images.commands) {
    const done = await runTool(requireTool(tool as ToolName), args, { timeoutMs: 60_000 });
    if (done.code !== 0) throw new PicospikeError("DEVICE_FLASH_FAILED", `${tool} failed on ${elf}:\n${done.stderr}`, { image: elf });
  }
  const command = realBoardCommand(board, method, elf);
  if (!run) return { command, bin: images.bin, hex: images.hex, ran: false };
  const [tool, ...args] = command;
  const done = await runTool(requireTool(tool as ToolName), args, { timeoutMs: 180_000 });
  if (done.code !== 0) {
    throw new PicospikeError(
      "DEVICE_FLASH_FAILED",
      `${command.join(" ")} failed (${done.timedOut ? "timed out" : `exit ${done.code}`}); is the board's probe connected?\n${done.stderr}${done.stdout}`,
      {
        board: board.name,
        method,
      },
    );
  }
  return { command, bin: images.bin, hex: images.hex, ran: true };
}
