/**
 * The firmware as a library, as a user takes it: `picospike codegen MODEL.cbor --target c --out DIR`
 * (the built CLI) into a fresh folder outside the repository, then a separate ~20-line example
 * program that pulls it in with `add_subdirectory` + `target_link_libraries(example picospike)`,
 * configured and built by cmake for the host (gcc) and for arm-none-eabi (the folder's toolchain
 * file, run under QEMU mps2-an386 with semihosting), and the plain Makefile. The example runs one
 * MNIST test digit through the model; every step's output spikes and the class must equal the
 * interpreter's. Missing tools skip with a printed reason.
 */
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCli, PACKAGE_ROOT, runCli } from "../../cli/testing/run-cli.js";
import { missingTools } from "../../firmware-host/boards/toolchain.js";
import { embeddedMnist } from "../../firmware-host/sources/datasets.js";
import { image } from "../../runtime/datasets.js";
import { encodeTable } from "../../runtime/format.js";
import { encodeSample, Interpreter } from "../../runtime/interpreter.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { mlpTable } from "../boards/mlp.js";

/** Runs a tool without blocking the worker (long synchronous builds starve vitest's RPC on a loaded machine); resolves with stdout. */
async function run(command: string, args: readonly string[], timeout = 110_000): Promise<string> {
  const { stdout } = await promisify(execFile)(command, [...args], { encoding: "utf8", timeout, maxBuffer: 1 << 24 });
  return stdout;
}

const STEPS = 20;
const table = mlpTable(32, 5);
const digit = embeddedMnist().test;
const steps = encodeSample(table.input, image(digit, 0), STEPS, new Xorshift32(table.input.seed ?? 1));

/** What the interpreter says: the last layer's spikes at every step, then the class. */
function expectedOutput(): string {
  const interp = new Interpreter(table);
  const lines: string[] = [];
  steps.forEach((ev, t) => {
    interp.step(ev);
    lines.push(`${t}:${Array.from(interp.lastSpikes(table.layers.length - 1), (i) => ` ${i}`).join("")}`);
  });
  lines.push(`class ${interp.readoutClass()}`);
  return lines.join("\n") + "\n";
}

/** The digit's input events as C arrays (offsets per step, indices). */
function digitHeader(): string {
  const offsets = [0];
  const indices: number[] = [];
  for (const ev of steps) {
    indices.push(...ev.indices);
    offsets.push(indices.length);
  }
  return `#include <stdint.h>\n#define STEPS ${STEPS}\nstatic const uint32_t offsets[] = { ${offsets.join(", ")} };\nstatic const uint32_t events[] = { ${indices.join(", ") || "0"} };\n`;
}

/** The user's program: 20 lines. */
const MAIN_C = `#include <stdio.h>
#include "picospike.h"
#include "digit.h"

int main(void) {
    if (picospike_init() != 0) return 1;
    for (uint32_t t = 0; t < STEPS; t++) {
        uint32_t n = 0;
        if (picospike_step(&events[offsets[t]], NULL, offsets[t + 1] - offsets[t]) != 0) return 2;
        const uint32_t *spikes = picospike_spikes(picospike_layers() - 1u, &n);
        printf("%u:", (unsigned)t);
        for (uint32_t i = 0; i < n; i++) printf(" %u", (unsigned)spikes[i]);
        printf("\\n");
    }
    printf("class %u\\n", (unsigned)picospike_readout());
    return 0;
}
`;

/** The example's CMakeLists: the library by add_subdirectory; cross builds add a vector table and semihosting to run under QEMU. */
const EXAMPLE_CMAKE = `cmake_minimum_required(VERSION 3.13)
project(example C)
add_subdirectory(\${PICOSPIKE_DIR} picospike)
add_executable(example main.c)
target_link_libraries(example picospike)
if(CMAKE_CROSSCOMPILING)
  target_sources(example PRIVATE vectors.c)
  target_link_options(example PRIVATE --specs=rdimon.specs -Wl,--section-start=.vectors=0x0)
endif()
`;

const cmakeSkip =
  missingTools(["gcc"]).length > 0 ? "gcc is not installed" : spawnSync("cmake", ["--version"]).status !== 0 ? "cmake is not installed" : undefined;
if (cmakeSkip !== undefined) console.log(`library tests skipped: ${cmakeSkip}`);
const armMissing = missingTools(["arm-none-eabi-gcc", "qemu-system-arm"]);
if (armMissing.length > 0) console.log(`library test for arm-none-eabi skipped: ${armMissing.join(", ")} not installed`);

const work = mkdtempSync(join(tmpdir(), "picospike-lib-"));
const lib = join(work, "model-lib");
const example = join(work, "example");
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(cmakeSkip !== undefined)("firmware as a library (codegen --target c) from a fresh folder", () => {
  beforeAll(async () => {
    buildCli();
    const model = join(work, "mlp.cbor");
    writeFileSync(model, encodeTable(table));
    const r = runCli(["codegen", model, "--target", "c", "--out", lib]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    mkdirSync(example, { recursive: true });
    writeFileSync(join(example, "main.c"), MAIN_C);
    writeFileSync(join(example, "digit.h"), digitHeader());
    writeFileSync(join(example, "CMakeLists.txt"), EXAMPLE_CMAKE);
    await run("cp", [join(PACKAGE_ROOT, "test/conformance/qemu_vectors.c"), join(example, "vectors.c")]);
  }, 120_000);

  it("build --lib writes the same library folder as codegen --target c", async () => {
    const viaBuild = join(work, "lib-via-build");
    const r = runCli(["build", join(work, "mlp.cbor"), "--lib", "--out", viaBuild, "--json"]);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { files: string[] };
    expect(report.files).toEqual(expect.arrayContaining(["picospike.h", "CMakeLists.txt", "Makefile", "zephyr/module.yml", "arm-none-eabi.cmake"]));
    for (const name of report.files) expect(await run("cmp", [join(viaBuild, name), join(lib, name)])).toBe("");
    expect(runCli(["build", join(work, "mlp.cbor"), "--out", viaBuild]).stderr).toMatch(/^error CLI_USAGE: --board is required/);
  });

  it("the example is 20 lines and outside the repository", () => {
    expect(MAIN_C.trimEnd().split("\n").length).toBeLessThanOrEqual(20);
    expect(work.startsWith(PACKAGE_ROOT)).toBe(false);
  });

  it("cmake for the host: static library, example linked, one MNIST digit bit-exact with the interpreter", async () => {
    const build = join(work, "build-host");
    await run("cmake", ["-S", example, "-B", build, `-DPICOSPIKE_DIR=${lib}`, "-DCMAKE_BUILD_TYPE=Release"]);
    await run("cmake", ["--build", build, "-j", "1"]);
    const out = await run(join(build, "example"), []);
    expect(out).toBe(expectedOutput());
    expect(out).toMatch(/\d+: \d/); // the output layer spikes on this digit
  }, 120_000);

  it.skipIf(armMissing.length > 0)(
    "cmake for arm-none-eabi (toolchain file): Cortex-M4 image under QEMU gives the same spikes and class",
    async () => {
      const build = join(work, "build-arm");
      await run("cmake", [
        "-S",
        example,
        "-B",
        build,
        `-DPICOSPIKE_DIR=${lib}`,
        `-DCMAKE_TOOLCHAIN_FILE=${join(lib, "arm-none-eabi.cmake")}`,
        "-DPICOSPIKE_CPU=cortex-m4",
        "-DCMAKE_BUILD_TYPE=MinSizeRel",
      ]);
      await run("cmake", ["--build", build, "-j", "1"]);
      const elf = join(build, "example");
      const out = await run(
        "qemu-system-arm",
        ["-M", "mps2-an386", "-nographic", "-monitor", "none", "-semihosting-config", "enable=on,target=native", "-kernel", elf],
        60_000,
      );
      expect(out).toBe(expectedOutput());
    },
    120_000,
  );

  it("the plain Makefile builds libpicospike.a that links the same example", async () => {
    await run("make", ["-C", lib, "-s"]);
    const exe = join(work, "example-make");
    await run("gcc", ["-std=c99", "-O2", `-I${lib}`, `-I${example}`, join(example, "main.c"), join(lib, "libpicospike.a"), "-o", exe]);
    expect(await run(exe, [])).toBe(expectedOutput());
  }, 120_000);
});
