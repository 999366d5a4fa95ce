/**
 * The board → (build, flash, port) path for `--board native|mps2-an386|microbit`: build the
 * picospike device runtime (firmware/src/ps_main.c + ps_device.c on ps_net.c) for the board, with a
 * model compiled in or as the generic upload firmware, start it with a flash method and hand back
 * the serial port it announced. A missing compiler or QEMU fails with DEVICE_TOOL_MISSING; a model
 * that does not fit the board's flash or RAM with DEVICE_MODEL_TOO_LARGE.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isPicospikeError, PicospikeError } from "../../runtime/errors.js";
import { sha256, toHex } from "../../runtime/hash.js";
import type { EventTable } from "../../runtime/model.js";
import { buildFirmware, firmwareRoot, getBoard, type BoardSpec, type BuildResult, type FlashMethodName } from "./boards.js";
import { flash, type FlashHandle } from "./flash/index.js";

/** Sources of the device runtime, relative to firmware/ (the main loop first). */
export const DEVICE_RUNTIME_SOURCES = [
  "src/ps_main.c", "src/ps_device.c", "src/ps_net.c", "src/ps_kernels_generated.c", "src/ps_proto.c", "src/ps_frame.c",
  "src/ps_cobs.c", "src/ps_crc16.c", "src/ps_table.c", "src/ps_sha256.c",
] as const;

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
  readonly costMul: number;
  readonly costDiv: number;
}

/**
 * Per-board limits. The microbit's 16 KiB hold the stack (2 KiB), the port's ring, the protocol
 * buffers (receive, answer, scratch, wire: ~2 KiB), the input-event buffer (5 bytes per event) and
 * the pool (9 KiB: what is left once the per-layer network state of PS_NET_MAX_LAYERS layers,
 * with its plasticity pointers, is counted). Under QEMU `-icount shift=0` a counter tick is a fixed number of instructions, so the
 * Cortex-M builds report instructions (40 per SysTick tick at 25 MHz, 62.5 per TIMER0 tick at 16 MHz);
 * the native board reports wall-clock microseconds.
 */
export const DEVICE_LIMITS: Readonly<Record<string, DeviceLimits>> = {
  native: { poolBytes: 4 * 1024 * 1024, maxInputEvents: 4096, maxLayers: 64, costUnit: 3, costMul: 1, costDiv: 1000 },
  "mps2-an386": { poolBytes: 2 * 1024 * 1024, maxInputEvents: 4096, maxLayers: 64, costUnit: 2, costMul: 40, costDiv: 1 },
  microbit: { poolBytes: 9 * 1024, maxInputEvents: 256, maxLayers: 8, costUnit: 2, costMul: 125, costDiv: 2 },
  // 96 KiB: 8 KiB stack, 64 KiB pool (the e2e MLP uploads), 1024 input events. Cost unit and scale
  // are decided on the board (PS_PORT_COST_AT_RUN_TIME): QEMU's values here, 1 / 1 cycles on the part.
  "nucleo-f4": { poolBytes: 64 * 1024, maxInputEvents: 1024, maxLayers: 16, costUnit: 2, costMul: 125, costDiv: 21 },
  // 16 KiB as on the microbit: 2 KiB stack, 9 KiB pool (models by upload that small; larger ones compiled in, tables in flash).
  hifive1: { poolBytes: 9 * 1024, maxInputEvents: 256, maxLayers: 8, costUnit: 2, costMul: 1, costDiv: 1 },
  // 512 KiB DTCM: 8 KiB stack, 256 KiB pool.
  "mps3-an547": { poolBytes: 256 * 1024, maxInputEvents: 4096, maxLayers: 64, costUnit: 2, costMul: 125, costDiv: 4 },
};

/** The limits of a board. */
export function deviceLimits(board: BoardSpec): DeviceLimits {
  const limits = DEVICE_LIMITS[board.name];
  if (limits === undefined) throw new PicospikeError("DEVICE_UNKNOWN_BOARD", `board ${board.name} has no device runtime limits`);
  return limits;
}

/** A built device firmware. */
export interface DeviceBuild extends BuildResult {
  /** True when a model is compiled in (its table in flash). */
  readonly compiledIn: boolean;
  /** Bytes of const model data in the image (the table), 0 for the generic firmware. */
  readonly modelBytes: number;
  /** The firmware hash the device reports (hex, 8 bytes; spec/protocol.md §3.2). */
  readonly firmwareHash: string;
  /** The defines the runtime was built with. */
  readonly defines: Readonly<Record<string, string | number>>;
  /** The board's limits. */
  readonly limits: DeviceLimits;
}

/** Options of buildDevice. */
export interface BuildDeviceOptions {
  /** The model's `.cbor` bytes to compile in; absent: the generic firmware (models arrive by upload). */
  readonly model?: Uint8Array;
  /** Output folder; a fresh temporary one by default. */
  readonly outDir?: string;
}

/** The compiled-in model as C: the `.cbor` bytes as const data (flash), read and validated by ps_table.c at boot. */
export function modelSource(model: Uint8Array): string {
  const lines: string[] = [];
  for (let i = 0; i < model.length; i += 16) lines.push("    " + Array.from(model.subarray(i, i + 16), (b) => `0x${b.toString(16).padStart(2, "0")}`).join(", ") + ",");
  return [
    "/* GENERATED by picospike build: the compiled-in event table (spec/table-format.md bytes). */",
    "#include <stdint.h>",
    "",
    `const uint8_t ps_compiled_model[${model.length}] = {`,
    ...lines,
    "};",
    `const uint32_t ps_compiled_model_len = ${model.length}u;`,
    "",
  ].join("\n");
}

/**
 * The firmware hash (spec/protocol.md §3.2): SHA-256 over, in this order, every runtime and port
 * source and every header of firmware/include/ and firmware/kernels/ (sorted by path relative to firmware/; each as
 * path, NUL, content, NUL), then the board name, NUL, and the compiler flags and defines joined by
 * single spaces (the hash define itself excluded). The model's table is not part of it (the model
 * hash names it). HELLO_ACK carries the first 8 bytes.
 */
export function firmwareHash(board: BoardSpec, sources: readonly string[], flags: readonly string[]): Uint8Array {
  const root = firmwareRoot();
  const headers = ["include", "kernels"].flatMap((dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith(".h")).map((f) => `${dir}/${f}`));
  const files = [...new Set([...sources, ...board.portSources, ...headers])].sort();
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  for (const file of files) parts.push(enc.encode(`${file}\0`), readFileSync(resolve(root, file)), enc.encode("\0"));
  parts.push(enc.encode(`${board.name}\0${flags.join(" ")}`));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return sha256(all).slice(0, 8);
}

/**
 * Builds the device firmware for `boardName`: the generic firmware, or with `model` compiled in.
 * A link that overflows flash or RAM becomes DEVICE_MODEL_TOO_LARGE naming the board's sizes.
 */
export async function buildDevice(boardName: string, options: BuildDeviceOptions = {}): Promise<DeviceBuild> {
  const board = getBoard(boardName);
  const limits = deviceLimits(board);
  const dir = resolve(options.outDir ?? mkdtempSync(join(tmpdir(), `picospike-${board.name}-`)));
  mkdirSync(dir, { recursive: true });
  const sources: string[] = [...DEVICE_RUNTIME_SOURCES];
  const defines: Record<string, string | number> = {
    PS_DEVICE_POOL_BYTES: `${limits.poolBytes}ul`,
    PS_DEVICE_MAX_INPUT_EVENTS: `${limits.maxInputEvents}u`,
    PS_NET_MAX_LAYERS: `${limits.maxLayers}u`,
    PS_DEVICE_COST_UNIT: `${limits.costUnit}u`,
    PS_DEVICE_COST_MUL: `${limits.costMul}u`,
    PS_DEVICE_COST_DIV: `${limits.costDiv}u`,
  };
  if (options.model !== undefined) {
    const modelFile = join(dir, "model_table.c");
    writeFileSync(modelFile, modelSource(options.model));
    sources.push(modelFile);
    defines["PS_COMPILED_MODEL"] = 1;
  }
  const flagList = [...board.cflags, ...board.ldflags, ...Object.entries(defines).map(([k, v]) => `-D${k}=${v}`)];
  const hash = firmwareHash(board, DEVICE_RUNTIME_SOURCES, flagList);
  defines["PS_FIRMWARE_HASH"] = Array.from(hash, (b) => `0x${b.toString(16).padStart(2, "0")}`).join(",");
  let built: BuildResult;
  try {
    built = await buildFirmware(board.name, sources, ["include"], dir, defines);
  } catch (e) {
    if (isPicospikeError(e, "CODEGEN_COMPILE_FAILED") && /will not fit in region|do not fit in RAM|overflowed by/.test(e.message)) {
      const what = options.model === undefined ? "the generic firmware" : `the firmware with the model (${options.model.length} bytes of table) compiled in`;
      throw new PicospikeError(
        "DEVICE_MODEL_TOO_LARGE",
        `${what} does not fit ${board.name} (flash ${board.flashBytes ?? "?"} bytes, RAM ${board.ramBytes ?? "?"} bytes):\n${e.message}`,
        { board: board.name },
      );
    }
    throw e;
  }
  return { ...built, compiledIn: options.model !== undefined, modelBytes: options.model?.length ?? 0, firmwareHash: toHex(hash), defines, limits };
}

/** A started board and its port. */
export interface LaunchedBoard {
  readonly board: string;
  readonly port: string;
  readonly handle: FlashHandle;
  readonly image: string;
  /** The build that was started. */
  readonly build: DeviceBuild;
}

/** Options of launchBoard. */
export interface LaunchOptions {
  /** The model the run needs (its `.cbor` bytes). */
  readonly model?: Uint8Array;
  /**
   * Compile the model in (true), build the generic firmware and upload (false), or decide (default
   * "auto"): upload when the table takes at most a quarter of the board's model pool (the reader's
   * arena and the network state need the rest), else compile it in.
   */
  readonly compiledIn?: boolean | "auto";
  /** Output folder of the build. */
  readonly outDir?: string;
  /** Flash method; the board's default when absent. */
  readonly method?: FlashMethodName;
}

/** True when launchBoard would compile `model` in for `board` under "auto". */
export function prefersCompiledIn(board: BoardSpec, model: Uint8Array): boolean {
  return model.length * 4 > deviceLimits(board).poolBytes;
}

/**
 * Builds the device firmware for `boardName` (with the model compiled in or generic, see
 * LaunchOptions), starts it with the flash method and returns its port.
 */
export async function launchBoard(boardName: string, options: LaunchOptions = {}): Promise<LaunchedBoard> {
  const board = getBoard(boardName);
  const model = options.model;
  const compile = model !== undefined && (options.compiledIn === true || ((options.compiledIn ?? "auto") === "auto" && prefersCompiledIn(board, model)));
  const build = await buildDevice(board.name, {
    ...(compile && model !== undefined ? { model } : {}),
    ...(options.outDir === undefined ? {} : { outDir: options.outDir }),
  });
  const handle = await startImage(board.name, build.image, options.method);
  return { board: board.name, port: handle.port, handle, image: build.image, build };
}

/** Starts an already built image with a flash method (the board's default when absent). */
export function startImage(boardName: string, image: string, method?: FlashMethodName): Promise<FlashHandle> {
  return flash(boardName, image, method === undefined ? {} : { method });
}

/**
 * RAM a model needs on the device beside its table bytes: the network state (ps_net_state_words:
 * per neuron 5 words, 6 for cuba, plus a refractory byte) and the reader's arena (aligned copies of
 * every int16/int32/uint32 array and of plastic weights, plus about 256 bytes of structs per layer).
 * An estimate for build-time checks; the device computes the exact figure when it loads the model.
 */
export function estimateModelRam(table: EventTable): { stateBytes: number; arenaBytes: number } {
  let stateWords = 0;
  let arena = 0;
  const align8 = (n: number): number => Math.ceil(n / 8) * 8;
  for (const layer of table.layers) {
    stateWords += layer.size * (layer.neuron.model === "cuba" ? 6 : 5) + Math.ceil(layer.size / 4);
    arena += 256;
    if (layer.bias) arena += align8(layer.bias.length * 4);
    for (const c of [layer.input, layer.recurrent]) {
      if (c === undefined || c.kind === "pool") continue;
      if (c.weights.bits === 16 || layer.plasticity !== undefined) arena += align8(c.weights.data.byteLength);
      if (c.kind === "sparse") arena += align8((c.inputs + 1) * 4) + align8(c.weights.count * (c.outputs > 65536 ? 4 : 2));
    }
  }
  return { stateBytes: align8(stateWords * 4), arenaBytes: arena };
}
