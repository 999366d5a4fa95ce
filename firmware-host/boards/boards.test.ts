import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { boardNames, buildFirmware, getBoard } from "./boards.js";
import { findTool, missingTools, requireTool } from "./toolchain.js";

const scratch = mkdtempSync(join(tmpdir(), "picospike-boards-unit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("board registry", () => {
  it("lists the boards with consistent memory and counters", () => {
    expect(boardNames()).toEqual(["native", "mps2-an386", "microbit", "nucleo-f4", "hifive1", "mps3-an547"]);
    // every QEMU board: one counter tick is 1e9 / Hz instructions under -icount shift=0
    for (const name of boardNames()) {
      const board = getBoard(name);
      if (board.qemu !== undefined) expect(board.qemu.instructionsPerTick).toBeCloseTo(1e9 / board.counterHz, 9);
    }
    const f4 = getBoard("nucleo-f4");
    expect([f4.flashBytes, f4.ramBytes, f4.qemu?.serial]).toEqual([512 * 1024, 96 * 1024, ["null", "pty"]]);
    expect(getBoard("hifive1").ramBytes).toBe(16 * 1024);
    expect(getBoard("mps3-an547").cflags).toContain("-mfloat-abi=hard");
    const microbit = getBoard("microbit");
    expect(microbit.ramBytes).toBe(16 * 1024);
    expect(microbit.flashBytes).toBe(256 * 1024);
    expect(microbit.qemu?.instructionsPerTick).toBe(1e9 / microbit.counterHz);
    const mps2 = getBoard("mps2-an386");
    expect(mps2.qemu?.instructionsPerTick).toBe(1e9 / mps2.counterHz);
    expect(getBoard("native").flashMethods[0]).toBe("native");
  });

  it("rejects unknown boards (including prototype keys) with DEVICE_UNKNOWN_BOARD", () => {
    for (const name of ["stm32", "toString", "__proto__", ""]) {
      let caught: unknown;
      try {
        getBoard(name);
      } catch (e) {
        caught = e;
      }
      expect(isPicospikeError(caught, "DEVICE_UNKNOWN_BOARD")).toBe(true);
    }
  });
});

describe("toolchain", () => {
  it("names the Debian package of a missing tool", () => {
    expect(findTool("qemu-system-arm", "/nonexistent")).toBeUndefined();
    let caught: unknown;
    try {
      requireTool("qemu-system-arm", "/nonexistent");
    } catch (e) {
      caught = e;
    }
    expect(isPicospikeError(caught, "DEVICE_TOOL_MISSING")).toBe(true);
    expect((caught as Error).message).toContain("apt-get install qemu-system-arm");
  });
});

const noGcc = missingTools(["gcc", "size"]);
if (noGcc.length > 0) console.log(`skip native build tests: missing ${noGcc.join(", ")}`);

describe("buildFirmware", () => {
  it.skipIf(noGcc.length > 0)("turns compiler errors into CODEGEN_COMPILE_FAILED with the compiler's output", async () => {
    const broken = join(scratch, "broken.c");
    writeFileSync(broken, "int main(void) { return undeclared_thing; }\n");
    let caught: unknown;
    try {
      await buildFirmware("native", [broken], [], join(scratch, "out"));
    } catch (e) {
      caught = e;
    }
    expect(isPicospikeError(caught, "CODEGEN_COMPILE_FAILED")).toBe(true);
    expect((caught as Error).message).toContain("undeclared_thing");
  });

  it.skipIf(noGcc.length > 0)("builds with defines and reports sizes", async () => {
    const app = join(scratch, "app.c");
    writeFileSync(app, '#include "ps_port.h"\nint main(void) { ps_port_init(); return PS_TEST_VALUE - 7; }\n');
    const result = await buildFirmware("native", [app], [], join(scratch, "ok"), { PS_TEST_VALUE: 7 });
    expect(result.size.text).toBeGreaterThan(0);
    expect(result.size.flash).toBe(result.size.text + result.size.data);
    expect(result.command).toContain("-DPS_TEST_VALUE=7");
  });

  it("rejects a define that is not a macro name", async () => {
    await expect(buildFirmware("native", [], [], join(scratch, "bad"), { "X;rm": 1 })).rejects.toMatchObject({
      code: "CODEGEN_COMPILE_FAILED",
    });
  });
});
