/**
 * Footprint: code size of the runtime without model data on each Cortex-M board
 * (arm-none-eabi-gcc -Os, the board flags of firmware-host/boards/boards.ts, --gc-sections), split by
 * source file from the linked image's symbols (arm-none-eabi-nm -S -l), in two variants:
 *  - the device firmware as `picospike build` links it today: protocol, device loop, ps_table.c
 *    (CBOR reader) and SHA-256, with the model compiled in as its .cbor bytes;
 *  - codegen's model-specialised const tables (ps_model_t in flash, no reader, no SHA-256) under
 *    ps_net + kernels + port and a minimal step loop (bench/device/bench_main.c), no protocol.
 * Model data (the .cbor array, or the codegen const arrays) and the bench's input data are
 * subtracted by symbol. Then model bytes per synapse (int8, int4) and state RAM per workload.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { emitCSource } from "../codegen/emit-c.js";
import { kernelSelection, learningMask } from "../codegen/kernel-select.js";
import { emitCModel, stateWords } from "../codegen/model-c.js";
import { buildFirmware, getBoard, type BuildResult } from "../firmware-host/boards/boards.js";
import { DEVICE_RUNTIME_SOURCES, modelSource } from "../firmware-host/boards/launch.js";
import { requireTool } from "../firmware-host/boards/toolchain.js";
import { connectionSynapses, encodeTable } from "../runtime/format.js";
import type { EventTable, Plasticity, PlasticityTiming } from "../runtime/model.js";
import { repoRoot, type BenchModule, type BenchRow } from "./harness.js";
import { convModel } from "./interpreter.bench.js";
import { DEVICE_BOARDS, RSTDP, TOOLCHAIN_MLP_RELATIVE, recurrentModel } from "./device.bench.js";
import { mnistMlp } from "./peers/workload.js";
import { readFloatSnn } from "../models/float-snn.js";
import { quantizeSnn } from "../models/quantize.js";

const BENCH_MAIN = join(repoRoot(), "bench/device/bench_main.c");

/** TensorFlow Lite Micro's published figure (not measured here), the comparison the footprint target was set against. */
export const TFLM_PUBLISHED =
  "TensorFlow Lite Micro: about 10 KB of interpreter code on a Cortex-M3 without kernels (published figure quoted in issue 9; tensorflow.org states the core runtime fits in 16 KB on a Cortex-M3); not measured here";

/** Bytes of flash (text/rodata/data symbols) per source-file group of a linked image. */
export function flashBySource(image: string): Map<string, number> {
  const nm = requireTool("arm-none-eabi-gcc").replace(/gcc$/, "nm");
  const out = execFileSync(nm, ["-S", "-l", "--size-sort", image], { encoding: "utf8", maxBuffer: 64 << 20 });
  const groups = new Map<string, number>();
  for (const line of out.split("\n")) {
    const m = /^[0-9a-f]+ ([0-9a-f]+) ([A-Za-z]) (\S+)(?:\t(.*))?$/.exec(line);
    if (m === null || "bBnN".includes(m[2]!)) continue; // .bss takes no flash
    const source = m[4] === undefined || m[4].includes("libgcc") ? undefined : basename(m[4].replace(/:\d+$/, ""));
    // Functions defined in our port and harness headers count with the part that includes them.
    const file = source !== undefined && (source.endsWith(".c") || PART_HEADERS.has(source)) ? source : "(libc/libgcc)";
    groups.set(file, (groups.get(file) ?? 0) + parseInt(m[1]!, 16));
  }
  return groups;
}

/** Runtime part names and the source files each covers. */
const PARTS: ReadonlyArray<[string, readonly string[]]> = [
  ["kernels", ["ps_kernels_generated.c"]],
  ["ps_net", ["ps_net.c"]],
  ["CBOR reader + SHA-256", ["ps_table.c", "ps_sha256.c"]],
  [
    "protocol + device loop",
    [
      "ps_device.c",
      "ps_device_step.c",
      "ps_device_model.c",
      "ps_device_realtime.c",
      "ps_device_readback.c",
      "ps_proto.c",
      "ps_wire.c",
      "ps_frame.c",
      "ps_cobs.c",
      "ps_crc16.c",
      "ps_main.c",
    ],
  ],
  ["port + startup", ["port.c", "cm_startup.c", "cmsdk_port.h", "cm_systick.h", "cm.h"]],
  ["step loop (bench_main)", ["bench_main.c", "ps_port_text.h"]],
  ["libc/libgcc", ["(libc/libgcc)"]],
];
/** The headers of ours that define functions (the ports' shared bodies, the benches' text output). */
const PART_HEADERS = new Set(PARTS.flatMap(([, files]) => files.filter((f) => f.endsWith(".h"))));
const MODEL_FILES = new Set(["model_table.c", "ps_model_generated.c", "bench_workload.c"]);

function footprintRow(name: string, build: BuildResult, workload: string): BenchRow {
  const groups = flashBySource(build.image);
  const modelBytes = [...groups].filter(([f]) => MODEL_FILES.has(f)).reduce((n, [, b]) => n + b, 0);
  const figures: Record<string, number> = { "runtime code B (flash − model data)": build.size.flash - modelBytes };
  for (const [part, files] of PARTS) figures[`${part} B`] = files.reduce((n, f) => n + (groups.get(f) ?? 0), 0);
  figures["model + input data B (excluded)"] = modelBytes;
  figures["static RAM B (.data + .bss)"] = build.size.ram;
  return { name, figures, workload };
}

/** The workload the footprint builds carry (its size does not change the runtime code: ps_net links every kernel). */
function footprintModel(): EventTable {
  return mnistMlp(join(repoRoot(), TOOLCHAIN_MLP_RELATIVE)).table;
}

/** `table` with R-STDP (the given timing) on its first layer. */
function withRstdp(table: EventTable, timing: PlasticityTiming): EventTable {
  const rule: Plasticity = { ...RSTDP, ...(timing === "event" || timing === "epoch" ? { timing } : {}) };
  return { ...table, layers: table.layers.map((l, i) => (i === 0 ? { ...l, plasticity: rule } : l)) };
}

/** The timings that get a learner footprint row, and the spec section of each. */
const LEARNER_TIMINGS = ["step", "event", "epoch"] as const;
const TIMING_SECTION: Record<(typeof LEARNER_TIMINGS)[number], string> = { step: "§11.2", event: "§11.5", epoch: "§11.7" };

async function buildVariants(board: string, dir: string): Promise<BenchRow[]> {
  const table = footprintModel();
  const limits = getBoard(board).limits;
  const bytes = encodeTable(table);
  mkdirSync(dir, { recursive: true });
  // a small pool: code size does not depend on it, and the microbit's RAM cannot hold its own pool plus this table's arena
  writeFileSync(join(dir, "model_table.c"), modelSource(bytes));
  const device = await buildFirmware(board, [...DEVICE_RUNTIME_SOURCES, join(dir, "model_table.c")], [], join(dir, "device"), {
    PS_DEVICE_POOL_BYTES: "4096ul",
    PS_DEVICE_MAX_INPUT_EVENTS: `${limits.maxInputEvents}u`,
    PS_NET_MAX_LAYERS: `${limits.maxLayers}u`,
    PS_DEVICE_COST_UNIT: `${limits.costUnit}u`,
    PS_DEVICE_COST_MUL: `${limits.costMul}u`,
    PS_DEVICE_COST_DIV: `${limits.costDiv}u`,
    PS_COMPILED_MODEL: 1,
    PS_FIRMWARE_HASH: "0,0,0,0,0,0,0,0",
  });
  for (const [f, text] of emitCModel(table, "footprint")) writeFileSync(join(dir, f), text);
  writeFileSync(
    join(dir, "bench_workload.h"),
    [
      "#include <stdint.h>",
      "#define BENCH_STEPS 1u",
      "#define BENCH_MAX_EVENTS 1u",
      `#define BENCH_STATE_WORDS ${stateWords(table)}u`,
      "extern const uint32_t bench_offsets[2];",
      "extern const uint16_t bench_events[];",
      "extern const int16_t bench_rewards[];",
      "",
    ].join("\n"),
  );
  writeFileSync(
    join(dir, "bench_workload.c"),
    '#include "bench_workload.h"\nconst uint32_t bench_offsets[2] = { 0u, 1u };\nconst uint16_t bench_events[1] = { 0u };\nconst int16_t bench_rewards[1] = { 0 };\n',
  );
  const specialised = await buildFirmware(
    board,
    [BENCH_MAIN, "src/ps_net.c", "src/ps_kernels_generated.c", join(dir, "ps_model_generated.c"), join(dir, "bench_workload.c")],
    [dir],
    join(dir, "spec"),
    { PS_NET_MAX_LAYERS: `${table.layers.length}u` },
  );
  // ps_net built with only the learning rules the table uses (PS_NET_LEARNING; none for the MLP)
  const selectedFor = async (t: EventTable, name: string): Promise<BuildResult> => {
    const out = join(dir, name);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, "ps_kernels_generated.c"), emitCSource(kernelSelection(t))[1]);
    return buildFirmware(
      board,
      [BENCH_MAIN, "src/ps_net.c", join(out, "ps_kernels_generated.c"), join(dir, "ps_model_generated.c"), join(dir, "bench_workload.c")],
      [dir],
      out,
      { PS_NET_MAX_LAYERS: `${t.layers.length}u`, PS_NET_LEARNING: `${learningMask(t)}u` },
    );
  };
  const selected = await selectedFor(table, "selected");
  const learners = await Promise.all(LEARNER_TIMINGS.map((timing) => selectedFor(withRstdp(table, timing), `learner-${timing}`)));
  const cpu = getBoard(board).cpu;
  return [
    footprintRow(
      `${board} (${cpu}): device firmware, model as .cbor + CBOR reader + SHA-256 (today's build)`,
      device,
      "picospike build's sources (firmware-host/boards/launch.ts) with the MNIST MLP compiled in; pool shrunk to 4 KiB (code size does not depend on it)",
    ),
    footprintRow(
      `${board} (${cpu}): codegen const tables + ps_net + every kernel + port + step loop (no reader, no SHA-256, no protocol)`,
      specialised,
      "bench/device/bench_main.c over codegen's ps_model_generated.c for the MNIST MLP",
    ),
    footprintRow(
      `${board} (${cpu}): codegen const tables + ps_net + the model's kernels + port + step loop (codegen --target c)`,
      selected,
      "as above with the kernels codegen/kernel-select.ts keeps for the MLP (dense int8, IF + integrator neurons); the rest are stubs; ps_net without learning code (-DPS_NET_LEARNING=0, codegen/kernel-select.ts learningMask)",
    ),
    ...LEARNER_TIMINGS.map((timing, i) =>
      footprintRow(
        `${board} (${cpu}): as above, with R-STDP ${timing} timing built in (spec/ops.md ${TIMING_SECTION[timing]})`,
        learners[i]!,
        `the MLP's kernels plus the plasticity kernels of R-STDP with ${timing} timing and ps_net with that rule only (-DPS_NET_LEARNING=${learningMask(withRstdp(table, timing))}); the code a learner of that rule links (codegen's const tables carry no plasticity, so this model itself does not learn)`,
      ),
    ),
  ];
}

/** Bytes per synapse of a table: the .cbor file and codegen's const arrays (weights, shifts, sparse indices, bias, names). */
function modelBytesRow(name: string, table: EventTable, origin: string): BenchRow {
  const synapses = table.layers.reduce((n, l) => n + connectionSynapses(l.input) + (l.recurrent ? connectionSynapses(l.recurrent) : 0), 0);
  const cbor = encodeTable(table).length;
  let stored = 0;
  for (const l of table.layers)
    for (const c of [l.input, l.recurrent]) {
      if (c === undefined || c.kind === "pool") continue;
      stored += c.weights.data.byteLength + c.weights.shift.length + (c.kind === "sparse" ? c.rowPtr.byteLength + c.cols.byteLength : 0);
    }
  const round = (x: number): number => Number(x.toFixed(3));
  return {
    name,
    figures: {
      synapses,
      "table B (.cbor)": cbor,
      "B/synapse (.cbor)": round(cbor / synapses),
      "B/synapse (weights + indices in flash)": round(stored / synapses),
      "state RAM B": stateWords(table) * 4,
    },
    workload: origin,
  };
}

function int4Mlp(): EventTable | undefined {
  const path = join(repoRoot(), TOOLCHAIN_MLP_RELATIVE);
  if (!existsSync(path)) return undefined;
  return quantizeSnn(readFloatSnn(path), { weightBits: 4, perChannel: false, encoding: "rate", seed: 1, source: path }).table;
}

/** The footprint benchmark module. */
export const footprintBench: BenchModule = {
  title: "Footprint: runtime code, RAM, model bytes",
  description:
    "Runtime code is the linked image's flash (text + data, arm-none-eabi-gcc -Os -ffunction-sections --gc-sections, the board flags of firmware-host/boards/boards.ts) minus the model's and the bench input's data, " +
    "found by symbol (arm-none-eabi-nm -S -l groups every symbol by its source file). The per-part columns add up the symbols of each part; inlined helpers count in their caller; the remainder " +
    "(vectors, alignment) is in the total only. Issue 9 targets ≤ 8 KB of runtime code on the Cortex-M0 (microbit). " +
    TFLM_PUBLISHED +
    ". " +
    "Model rows: bytes per synapse of the .cbor table and of the weights (+ shifts, sparse row pointers and column indices) as they sit in flash; state RAM is ps_net's state buffer (learning off). Figures are exact sizes, one build each.",
  async run() {
    const rows: BenchRow[] = [];
    const dir = mkdtempSync(join(tmpdir(), "ps-bench-fp-"));
    try {
      for (const board of DEVICE_BOARDS) rows.push(...(await buildVariants(board, join(dir, board))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const mlp = mnistMlp(join(repoRoot(), TOOLCHAIN_MLP_RELATIVE));
    rows.push(modelBytesRow("MNIST MLP 784-256-10 int8", mlp.table, mlp.origin));
    const four = int4Mlp();
    if (four !== undefined) rows.push(modelBytesRow("MNIST MLP 784-256-10 int4", four, "toolchain MNIST MLP quantized to int4 (per-layer shift)"));
    rows.push(modelBytesRow("CNN conv 8x5x5/2 → pool → dense 10 int8", convModel(2), "seeded random (perf/interpreter.bench.ts)"));
    rows.push(
      modelBytesRow(
        "sparse recurrent 10,000 LIF int8",
        recurrentModel(10_000, 16, 10, 4),
        "seeded random (perf/device.bench.ts); sparse rows cost a uint16 column index per synapse",
      ),
    );
    return rows;
  },
};
