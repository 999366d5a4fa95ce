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
export type FlashMethodName = "native" | "qemu" | "gdb" | "openocd" | "stlink" | "uf2";

/** How QEMU emulates a board. */
export interface QemuMachine {
  /** The QEMU system emulator that models the board. */
  readonly binary: "qemu-system-arm" | "qemu-system-riscv32";
  /** `-M` machine name. */
  readonly machine: string;
  /**
   * The -serial options, in QEMU's order of the machine's UARTs; the board's UART is the one on
   * `pty`. nucleo-f4 talks on USART2, the second: `-serial null -serial pty`.
   */
  readonly serial: readonly string[];
  /** Guest instructions per counter tick under `-icount shift=0` (1 ns per instruction). */
  readonly instructionsPerTick: number;
}

/** Static sizes of the device runtime on one board (the #defines of firmware/include/ps_device.h). */
export interface DeviceLimits {
  /** PS_DEVICE_POOL_BYTES: RAM for models (uploaded file, reader arenas, network state). */
  readonly poolBytes: number;
  /** PS_DEVICE_MAX_INPUT_EVENTS: most input events of one step. */
  readonly maxInputEvents: number;
  /** PS_NET_MAX_LAYERS: most layers a model may have on this board. */
  readonly maxLayers: number;
  /** HELLO_ACK cost_unit and cost = ticks * costMul / costDiv. */
  readonly costUnit: 1 | 2 | 3;
  /** Multiplier of the cost formula above. */
  readonly costMul: number;
  /** Divisor of the cost formula above. */
  readonly costDiv: number;
}

/** OpenOCD configuration files of a board's real-silicon counterpart (method openocd). */
export interface OpenocdTarget {
  /** The probe, e.g. interface/cmsis-dap.cfg. */
  readonly interface: string;
  /** The chip, e.g. target/nrf51.cfg; undefined when `interface` is a board file that names both (board/sifive-hifive1.cfg). */
  readonly target: string | undefined;
}

/** Everything picospike knows about one board. */
export interface BoardSpec {
  /** Registry name, as given to `--board`. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** CPU the compiler targets (`host` for the native board). */
  readonly cpu: "host" | "cortex-m4" | "cortex-m0" | "cortex-m55" | "rv32imac";
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
  /**
   * The device runtime's static sizes on this board. The microbit's 16 KiB hold the stack (2 KiB),
   * the port's ring, the protocol buffers (receive, answer, scratch, wire: ~2 KiB), the input-event
   * buffer (5 bytes per event) and the pool (9 KiB: what is left once the per-layer network state
   * of PS_NET_MAX_LAYERS layers, with its plasticity pointers, is counted). Under QEMU
   * `-icount shift=0` a counter tick is a fixed number of instructions, so the Cortex-M builds
   * report instructions (40 per SysTick tick at 25 MHz, 62.5 per TIMER0 tick at 16 MHz); the
   * native board reports wall-clock microseconds.
   */
  readonly limits: DeviceLimits;
  /**
   * OpenOCD files for method openocd; undefined when the board has no real chip. mps2-an386 has
   * no single real chip, so its entry is an example Cortex-M4 (STM32F4) to replace with the
   * board's own target file.
   */
  readonly openocd: OpenocdTarget | undefined;
}

/** Warnings are errors and the code stays C99 everywhere; sections let the linker drop dead code. */
const COMMON_CFLAGS = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-ffunction-sections", "-fdata-sections"];

/** Cortex-M: own startup (cm_startup.c), newlib-nano only for memcpy/memset, libgcc for division. */
function cortexMFlags(cpu: "cortex-m4" | "cortex-m0" | "cortex-m55"): string[] {
  // MVE (Helium) needs the hard-float ABI: with the soft ABI gcc silently leaves arm_mve.h out.
  return [...COMMON_CFLAGS, `-mcpu=${cpu}`, ...(cpu === "cortex-m55" ? ["-mfloat-abi=hard"] : []), "-mthumb", "-Os", "-g", "-ffreestanding"];
}

/**
 * RV32IMAC (FE310): `-misa-spec=2.2` keeps Zicsr in the base ISA; spelling it `rv32imac_zicsr`
 * makes gcc 12 pick the wrong multilib. picolibc supplies memcpy/memset.
 */
const RV32IMAC_CFLAGS = [...COMMON_CFLAGS, "-march=rv32imac", "-mabi=ilp32", "-misa-spec=2.2", "-Os", "-g", "-ffreestanding"];

/**
 * One image for the QEMU model and the real part: the port decides at run time whether the step
 * cost is in instructions (QEMU -icount) or CPU cycles (ps_port.h).
 */
const COST_AT_RUN_TIME = "-DPS_PORT_COST_AT_RUN_TIME=1";

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
    limits: { poolBytes: 4 * 1024 * 1024, maxInputEvents: 4096, maxLayers: 64, costUnit: 3, costMul: 1, costDiv: 1000 },
    openocd: undefined,
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
    qemu: { binary: "qemu-system-arm", machine: "mps2-an386", serial: ["pty"], instructionsPerTick: 40 },
    flashMethods: ["qemu", "gdb", "openocd"],
    limits: { poolBytes: 2 * 1024 * 1024, maxInputEvents: 4096, maxLayers: 64, costUnit: 2, costMul: 40, costDiv: 1 },
    openocd: { interface: "interface/cmsis-dap.cfg", target: "target/stm32f4x.cfg" },
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
    qemu: { binary: "qemu-system-arm", machine: "microbit", serial: ["pty"], instructionsPerTick: 62.5 },
    flashMethods: ["qemu", "gdb", "openocd", "uf2"],
    limits: { poolBytes: 9 * 1024, maxInputEvents: 256, maxLayers: 8, costUnit: 2, costMul: 125, costDiv: 2 },
    openocd: { interface: "interface/cmsis-dap.cfg", target: "target/nrf51.cfg" },
  },
  "nucleo-f4": {
    name: "nucleo-f4",
    description: "STM32F401/F411/F446 Nucleo-64 (Cortex-M4F, USART2 = ST-Link VCP, 16 MHz HSI); QEMU netduinoplus2",
    cpu: "cortex-m4",
    // linked for the smallest of the three parts, the F401RE
    flashBytes: 512 * 1024,
    ramBytes: 96 * 1024,
    stackBytes: 8 * 1024,
    compiler: "arm-none-eabi-gcc",
    sizeTool: "arm-none-eabi-size",
    cflags: [...cortexMFlags("cortex-m4"), COST_AT_RUN_TIME],
    ldflags: [...CORTEX_M_LDFLAGS, "-Tports/nucleo-f4/link.ld"],
    portSources: ["ports/cortex-m/cm_startup.c", "ports/nucleo-f4/port.c"],
    // SysTick on the core clock: 168 MHz in QEMU's model (this figure), 16 MHz HSI on the part
    counterHz: 168_000_000,
    qemu: { binary: "qemu-system-arm", machine: "netduinoplus2", serial: ["null", "pty"], instructionsPerTick: 125 / 21 },
    flashMethods: ["qemu", "gdb", "openocd", "stlink"],
    // 96 KiB: 8 KiB stack, 64 KiB pool (the e2e MLP uploads), 1024 input events. Cost unit and scale
    // are decided on the board (PS_PORT_COST_AT_RUN_TIME): QEMU's values here, 1 / 1 cycles on the part.
    limits: { poolBytes: 64 * 1024, maxInputEvents: 1024, maxLayers: 16, costUnit: 2, costMul: 125, costDiv: 21 },
    openocd: { interface: "interface/stlink.cfg", target: "target/stm32f4x.cfg" },
  },
  hifive1: {
    name: "hifive1",
    description: "SiFive HiFive1 (FE310 RV32IMAC, 16 KB RAM, code in place from SPI flash); QEMU sifive_e",
    cpu: "rv32imac",
    flashBytes: 12 * 1024 * 1024,
    ramBytes: 16 * 1024,
    stackBytes: 2 * 1024,
    compiler: "riscv64-unknown-elf-gcc",
    sizeTool: "riscv64-unknown-elf-size",
    cflags: [...RV32IMAC_CFLAGS, COST_AT_RUN_TIME],
    ldflags: ["-nostartfiles", "--specs=picolibc.specs", "-Wl,--gc-sections", "-Tports/hifive1/link.ld"],
    portSources: ["ports/hifive1/start.c", "ports/hifive1/port.c"],
    // mcycle: virtual nanoseconds (one per instruction) under QEMU -icount shift=0; 16 MHz on the chip
    counterHz: 1_000_000_000,
    qemu: { binary: "qemu-system-riscv32", machine: "sifive_e", serial: ["pty"], instructionsPerTick: 1 },
    flashMethods: ["qemu", "openocd"],
    // 16 KiB as on the microbit: 2 KiB stack, 9 KiB pool (small models by upload; larger ones compiled in, tables in flash)
    limits: { poolBytes: 9 * 1024, maxInputEvents: 256, maxLayers: 8, costUnit: 2, costMul: 1, costDiv: 1 },
    // the HiFive1 (rev A) board file names its on-board FTDI JTAG and the SPI flash bank, and runs init itself
    openocd: { interface: "board/sifive-hifive1.cfg", target: undefined },
  },
  "mps3-an547": {
    name: "mps3-an547",
    description: "Cortex-M55 with Helium (Arm MPS3 AN547) under QEMU; ITCM code, DTCM data, CMSDK UART0, SysTick at 32 MHz",
    cpu: "cortex-m55",
    flashBytes: 512 * 1024,
    ramBytes: 512 * 1024,
    stackBytes: 8 * 1024,
    compiler: "arm-none-eabi-gcc",
    sizeTool: "arm-none-eabi-size",
    cflags: cortexMFlags("cortex-m55"),
    ldflags: [...CORTEX_M_LDFLAGS, "-Tports/mps3-an547/link.ld"],
    portSources: ["ports/cortex-m/cm_startup.c", "ports/mps3-an547/port.c"],
    counterHz: 32_000_000,
    // QEMU's ptimer keeps the fractional period: a 32 MHz tick is 31.25 ns = 31.25 instructions
    qemu: { binary: "qemu-system-arm", machine: "mps3-an547", serial: ["pty"], instructionsPerTick: 31.25 },
    flashMethods: ["qemu", "gdb"],
    // 512 KiB DTCM: 8 KiB stack, 256 KiB pool
    limits: { poolBytes: 256 * 1024, maxInputEvents: 4096, maxLayers: 64, costUnit: 2, costMul: 125, costDiv: 4 },
    openocd: undefined,
  },
};

/** The external tools building and running `board` needs (compiler, size, its QEMU when emulated), for skips and hints. */
export function boardTools(board: BoardSpec): ToolName[] {
  return [board.compiler, board.sizeTool, ...(board.qemu === undefined ? [] : [board.qemu.binary])];
}

/**
 * Boards the board tests run: all, or the comma-separated PICOSPIKE_TEST_BOARDS (to test one
 * board's port on a shared machine without running every QEMU board). Besides board names it
 * takes `host` (the boards that run as host processes: the `native` test tier) and `qemu` (the
 * emulated ones: the `boards` tier).
 */
export function testedBoards(names: readonly string[], env: string | undefined = process.env["PICOSPIKE_TEST_BOARDS"]): string[] {
  if (env === undefined || env.trim() === "") return [...names];
  const wanted = new Set(env.split(",").map((n) => n.trim()));
  return names.filter((n) => {
    const board = Object.hasOwn(BOARDS, n) ? BOARDS[n] : undefined;
    return wanted.has(n) || (wanted.has("host") && board?.cpu === "host") || (wanted.has("qemu") && board?.qemu !== undefined);
  });
}

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
