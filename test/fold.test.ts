import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runQemu } from "../bench/device.bench.js";
import { buildFirmware } from "../firmware-host/boards.js";
import { findTool } from "../firmware-host/toolchain.js";

// spec/ops.md §12.2: the C-only dense int8 spike fold equals the plain exact fold on every path
// (SXTB16/SADD16 on Cortex-M4; LDM/STM on Cortex-M0, fold sums on the stack or in .bss).
const work = mkdtempSync(join(tmpdir(), "ps-fold-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const SOURCE = join(import.meta.dirname, "../firmware/test/test_fold.c");
const armMissing = findTool("arm-none-eabi-gcc") === undefined || findTool("qemu-system-arm") === undefined;

describe.skipIf(armMissing)("tiled dense int8 spike fold (spec/ops.md §12.2; ARM only, the host keeps the plain loop)", () => {
  it.each([
    ["mps2-an386", ""],
    ["microbit", ""],
    ["microbit", "PS_FOLD_SUMS_STATIC"],
  ])("is bit-exact with the plain fold on %s under QEMU %s", async (board, define) => {
    const build = await buildFirmware(board, [SOURCE], [], join(work, `${board}${define}`), define === "" ? {} : { [define]: 1 });
    const out = await runQemu(board, build.image, 120_000);
    expect(out).toMatch(/^fold ok 288$/m);
  }, 240_000);
});
