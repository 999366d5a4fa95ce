/**
 * The board registry and the firmware build: which CPU, memory, compiler and flags each board
 * uses, which port sources it links, how QEMU runs it, and how it is flashed. Memory maps and the
 * equivalent hand-typed commands are in firmware/ports/README.md.
 */
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, resolve } from "node:path";
import { PicospikeError } from "../../runtime/errors.js";
import { requireTool, runTool, type ToolName } from "./toolchain.js";
import { packagePath } from "./package-root.js";

/** Ways to put firmware on a board (see firmware-host/boards/flash/). */
export type FlashMethodName = "native" | "qemu" | "gdb" | "openocd" | "uf2";

/** How QEMU emulates a board. */
export interface QemuMachine {
  /** `-M` machine name. */
  readonly machine: string;
  /** Guest instructions per counter tick under `-icount shift=0` (1 ns per instruction). */
  readonly instructionsPerTick: number;
}

/** Everything picospike knows about one board. */
export interface BoardSpec {
  /** Registry name, as given to `--board`. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** CPU the compiler targets (`host` for the native board). */
  readonly cpu: "host" | "cortex-m4" | "cortex-m0";
  /** Flash (code + const model tables) in bytes; undefined for the host. */
  readonly flashBytes: number | undefined;
  /** RAM in bytes (data + bss + stack); undefined for the host. */
  readonly ramBytes: number | undefined;
  /** Stack reserved at the top of RAM by the linker script, in bytes. */
  readonly stackBytes: number | undefined;
  /** Compiler and size tools. */
  readonly compiler: ToolName;
  readonly sizeTool: ToolName;
  /** Flags for compiling and linking every source. */
  readonly cflags: readonly string[];
  /** Extra flags for the link step only. */
  readonly ldflags: readonly string[];
  /** Port sources, relative to firmware/. */
  readonly portSources: readonly string[];
  /** Rate of ps_port_cycles() in Hz (1e9 = nanoseconds). */
  readonly counterHz: number;
  /** QEMU emulation, when the board runs under QEMU. */
  readonly qemu: QemuMachine | undefined;
  /** Flash methods that work for this board, the default first. */
  readonly flashMethods: readonly FlashMethodName[];
}

/** Warnings are errors and the code stays C99 everywhere; sections let the linker drop dead code. */
const COMMON_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-ffunction-sections", "-fdata-sections"];

/** Cortex-M: own startup (cm_startup.c), newlib-nano only for memcpy/memset, libgcc for division. */
function cortexMFlags(cpu: "cortex-m4" | "cortex-m0"): string[] {
  return [...COMMON_CFLAGS, `-mcpu=${cpu}`, "-mthumb", "-Os", "-g", "-ffreestanding"];
}

const CORTEX_M_LDFLAGS = ["-nostartfiles", "--specs=nano.specs", "-Wl,--gc-sections", "-Lports/cortex-m"];

/** The registered boards, by name. */
export const BOARDS: Readonly<Record<string, BoardSpec>> = {
  native: {
    name: "native",
    description: "the firmware as a host process (gcc); its serial port is a pty it announces",
    cpu: "host",
    flashBytes: undefined,
    ramBytes: undefined,
    stackBytes: undefined,
    compiler: "gcc",
    sizeTool: "size",
    cflags: [...COMMON_CFLAGS, "-O2", "-g"],
    ldflags: ["-Wl,--gc-sections"],
    portSources: ["ports/native/port.c"],
    counterHz: 1_000_000_000,
    qemu: undefined,
    flashMethods: ["native"],
  },
  "mps2-an386": {
    name: "mps2-an386",
    description: "Cortex-M4 (Arm MPS2 AN386) under QEMU; CMSDK UART0, SysTick at 25 MHz",
    cpu: "cortex-m4",
    flashBytes: 4 * 1024 * 1024,
    ramBytes: 4 * 1024 * 1024,
    stackBytes: 8 * 1024,
    compiler: "arm-none-eabi-gcc",
    sizeTool: "arm-none-eabi-size",
    cflags: cortexMFlags("cortex-m4"),
    ldflags: [...CORTEX_M_LDFLAGS, "-Tports/mps2-an386/link.ld"],
    portSources: ["ports/cortex-m/cm_startup.c", "ports/mps2-an386/port.c"],
    counterHz: 25_000_000,
    qemu: { machine: "mps2-an386", instructionsPerTick: 40 },
    flashMethods: ["qemu", "gdb", "openocd"],
  },
  microbit: {
    name: "microbit",
    description: "Cortex-M0 nRF51822 (BBC micro:bit, 16 KB RAM, 256 KB flash) under QEMU; TIMER0 at 16 MHz",
    cpu: "cortex-m0",
    flashBytes: 256 * 1024,
    ramBytes: 16 * 1024,
    stackBytes: 2 * 1024,
    compiler: "arm-none-eabi-gcc",
    sizeTool: "arm-none-eabi-size",
    cflags: cortexMFlags("cortex-m0"),
    ldflags: [...CORTEX_M_LDFLAGS, "-Tports/microbit/link.ld"],
    portSources: ["ports/cortex-m/cm_startup.c", "ports/microbit/port.c"],
    counterHz: 16_000_000,
    qemu: { machine: "microbit", instructionsPerTick: 62.5 },
    flashMethods: ["qemu", "gdb", "openocd", "uf2"],
  },
};

/** Registered board names, for `--help` and error messages. */
export function boardNames(): string[] {
  return Object.keys(BOARDS);
}

/** Looks a board up; DEVICE_UNKNOWN_BOARD (listing the known ones) when there is none. */
export function getBoard(name: string): BoardSpec {
  const board = Object.hasOwn(BOARDS, name) ? BOARDS[name] : undefined;
  if (board === undefined) {
    throw new PicospikeError("DEVICE_UNKNOWN_BOARD", `no board named "${name}" (boards: ${boardNames().join(", ")})`, {
      board: name,
    });
  }
  return board;
}

/** The package's firmware/ folder (sources, include/, kernels/, ports/), wherever the package runs from. */
export function firmwareRoot(): string {
  return packagePath("firmware") + "/";
}

/** Section sizes of a built image, in bytes, as `size` (Berkeley format) reports them. */
export interface SizeReport {
  /** Code and const data (flash). */
  readonly text: number;
  /** Initialised data: in flash and copied to RAM. */
  readonly data: number;
  /** Zeroed data (RAM). */
  readonly bss: number;
  /** Flash used: text + data. */
  readonly flash: number;
  /** Static RAM used: data + bss (the stack comes on top). */
  readonly ram: number;
}

/** Runs the board's size tool on `image`. */
export async function sizeReport(board: BoardSpec, image: string): Promise<SizeReport> {
  const tool = requireTool(board.sizeTool);
  const run = await runTool(tool, [image], { timeoutMs: 30_000 });
  const numbers = run.stdout.split("\n")[1]?.trim().split(/\s+/).slice(0, 3).map(Number);
  if (run.code !== 0 || numbers === undefined || numbers.length !== 3 || numbers.some((n) => !Number.isInteger(n))) {
    throw new PicospikeError("CODEGEN_COMPILE_FAILED", `${board.sizeTool} could not read ${image}:\n${run.stderr}${run.stdout}`);
  }
  const [text, data, bss] = numbers as [number, number, number];
  return { text, data, bss, flash: text + data, ram: data + bss };
}

/** What buildFirmware produced. */
export interface BuildResult {
  /** The board it was built for. */
  readonly board: BoardSpec;
  /** The executable (native) or ELF image (Cortex-M). */
  readonly image: string;
  /** Section sizes of the image. */
  readonly size: SizeReport;
  /** The compiler command line, as run (for logs and the README). */
  readonly command: readonly string[];
}

/** Preprocessor macro names that may be passed as defines. */
const MACRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Compiles and links `sources` (paths relative to firmware/ or absolute) with the board's port
 * into `outDir`, then reports sizes. Compiler errors become CODEGEN_COMPILE_FAILED carrying the
 * compiler's output; an image that overflows the board's flash or RAM fails at link time too.
 */
export async function buildFirmware(
  boardName: string,
  sources: readonly string[],
  includeDirs: readonly string[],
  outDir: string,
  defines: Readonly<Record<string, string | number>> = {},
): Promise<BuildResult> {
  const board = getBoard(boardName);
  const compiler = requireTool(board.compiler);
  const root = firmwareRoot();
  mkdirSync(outDir, { recursive: true });
  const image = resolve(outDir, board.cpu === "host" ? "firmware" : "firmware.elf");
  const defineFlags = Object.entries(defines).map(([name, value]) => {
    if (!MACRO_NAME.test(name)) throw new PicospikeError("CODEGEN_COMPILE_FAILED", `"${name}" is not a valid macro name`);
    return `-D${name}=${value}`;
  });
  const args = [
    ...board.cflags,
    `-I${join(root, "include")}`,
    `-I${join(root, "kernels")}`,
    ...includeDirs.map((dir) => `-I${resolve(root, dir)}`),
    ...defineFlags,
    ...board.portSources.map((source) => join(root, source)),
    ...sources.map((source) => resolve(root, source)),
    ...board.ldflags,
    "-o",
    image,
  ];
  // Relative -L/-T paths in ldflags are relative to firmware/, hence cwd.
  const run = await runTool(compiler, args, { cwd: root, timeoutMs: 120_000 });
  if (run.code !== 0) {
    const why = run.timedOut ? "timed out" : `exited with ${run.code}`;
    throw new PicospikeError("CODEGEN_COMPILE_FAILED", `${board.compiler} ${why} building for ${board.name}:\n${run.stderr}${run.stdout}`, {
      board: board.name,
    });
  }
  return { board, image, size: await sizeReport(board, image), command: [compiler, ...args] };
}
