import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildFirmware } from "../firmware-host/boards/boards.js";
import { runQemu } from "../firmware-host/boards/qemu.js";
import { findTool } from "../firmware-host/boards/toolchain.js";

// spec/ops.md §12.2: the C-only dense int8 spike fold equals the plain exact fold on every path
// (SXTAB16 int16 pairs in registers on Cortex-M4; biased 16-bit lanes in registers on Cortex-M0;
// Helium VLDRB.S16 + VADD.I16 int16 vector lanes with predicated tails on Cortex-M55; rows at any alignment).
const work = mkdtempSync(join(tmpdir(), "ps-fold-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const SOURCE = join(import.meta.dirname, "../firmware/test/test_fold.c");
const armMissing = findTool("arm-none-eabi-gcc") === undefined || findTool("qemu-system-arm") === undefined;

describe.skipIf(armMissing)("tiled dense int8 spike fold (spec/ops.md §12.2; ARM only, the host keeps the plain loop)", () => {
  it.each(["mps2-an386", "microbit", "nucleo-f4", "mps3-an547"])("is bit-exact with the plain fold on %s under QEMU", async (board) => {
    const build = await buildFirmware(board, [SOURCE], [], join(work, board));
    const out = await runQemu(board, build.image, 120_000);
    expect(out).toMatch(/^fold ok 4320$/m);
  }, 240_000);
});
