import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
  it.each(["mps2-an386", "microbit", "nucleo-f4", "mps3-an547"])(
    "is bit-exact with the plain fold on %s under QEMU",
    async (board) => {
      const build = await buildFirmware(board, [SOURCE], [], join(work, board));
      const out = await runQemu(board, build.image, 120_000);
      expect(out).toMatch(/^fold ok 5580$/m);
    },
    240_000,
  );
});

// Each mutant of a core's fold header (a chunk past the lane bound, swapped lanes, tiles that do not
// advance, a tail word off the row's end, a wrong bias or mask) must make test_fold.c report a mismatch.
const KERNELS_DIR = join(import.meta.dirname, "../firmware/kernels");
const FOLD_MUTANTS: Array<[board: string, header: string, name: string, from: string, to: string]> = [
  ["mps2-an386", "ps_fold_m4.h", "a chunk of 257 events", "#define PS_FOLD_CHUNK_M4 256u", "#define PS_FOLD_CHUNK_M4 257u"],
  ["mps2-an386", "ps_fold_m4.h", "bytes 1 and 2 swapped", "2u * ((b) & 1u) + ((b) >> 1)", "((b) & 1u) + 2u * ((b) >> 1)"],
  ["mps2-an386", "ps_fold_m4.h", "odd bytes not rotated", '"sxtab16 " odd ", " odd ", " d ", ror #8', '"sxtab16 " odd ", " odd ", " d ", ror #16'],
  ["mps2-an386", "ps_fold_m4.h", "aligned tiles do not advance the rows", '"stmia r0!, {r12, lr}', '"adds r0, r0, #8'],
  ["mps2-an386", "ps_fold_m4.h", "the tail's last word one byte late", "(int32_t)rest - 4, words", "(int32_t)rest - 3, words"],
  ["microbit", "ps_fold_m0.h", "a chunk of 258 rows", "#define PS_FOLD_CHUNK 128u", "#define PS_FOLD_CHUNK 258u"],
  ["microbit", "ps_fold_m0.h", "bias 127", "int32_t bias = 128 * (int32_t)count;", "int32_t bias = 127 * (int32_t)count;"],
  ["microbit", "ps_fold_m0.h", "mask 0x00fe00fe", '"movs r6, #255', '"movs r6, #254'],
  ["microbit", "ps_fold_m0.h", "3-word tiles do not advance the rows", '"stm r0!, {r1, r7}', '"adds r0, #8'],
  ["microbit", "ps_fold_m0.h", "odd half-word rows given the even group's misalignment", "parity | 2u, outputs", "parity, outputs"],
];

describe.skipIf(armMissing)("dense int8 spike fold mutants (spec/ops.md §12.2 item 1)", () => {
  it.each(FOLD_MUTANTS)(
    "%s %s: catches the mutant: %s",
    async (board, header, name, from, to) => {
      const text = readFileSync(join(KERNELS_DIR, header), "utf8");
      expect(text.includes(from)).toBe(true);
      const dir = join(work, `fold-mutant-${FOLD_MUTANTS.findIndex((m) => m[2] === name)}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "ps_fold_mutant.h"), text.replace(from, to));
      const build = await buildFirmware(board, [SOURCE], [dir], dir, { PS_FOLD_MUTANT: 1 });
      // a mutant may also fault or hang: anything but "fold ok" is caught
      const out = await runQemu(board, build.image, 60_000).catch((e: unknown) => String(e));
      expect(out).not.toMatch(/^fold ok /m);
    },
    240_000,
  );
});

// spec/ops.md §12.2 items 2-3: the Cortex-M4 IF update and held-input graded fold
// (firmware/kernels/ps_neuron_m4.h) equal the reference kernels; each mutant below (a dropped
// saturation, a strict threshold test, a swapped lane, a short chunk, a wrong scale) must be caught.
const NEURON_SOURCE = join(import.meta.dirname, "../firmware/test/test_neuron_m4.c");
const NEURON_HEADER = join(import.meta.dirname, "../firmware/kernels/ps_neuron_m4.h");
const KERNELS = join(import.meta.dirname, "../firmware/src/ps_kernels_generated.c");
const MUTANTS: Array<[name: string, from: string, to: string]> = [
  ["no saturation on the bias add", "qadd %[x], %[x], %[b]", "add %[x], %[x], %[b]"],
  [
    "threshold test v > theta",
    '"itt ge\\n\\t"\n            "subge %[x], %[x], %[theta]\\n\\t"\n            "addge',
    '"itt gt\\n\\t"\n            "subgt %[x], %[x], %[theta]\\n\\t"\n            "addgt',
  ],
  ["lane 3 reads byte 1", "smlatb %[a3]", "smlabb %[a3]"],
  ["a chunk of 63 events", "n - start : 64u", "n - start : 63u"],
  ["scale by 2^(shift+1)", "(uint32_t)a1 << shift", "(uint32_t)a1 << (shift + 1u)"],
];

describe.skipIf(armMissing)("Cortex-M4 IF update and held-input fold (spec/ops.md §12.2 items 2-3)", () => {
  it("is bit-exact with the reference kernels on mps2-an386 under QEMU", async () => {
    const build = await buildFirmware("mps2-an386", [NEURON_SOURCE, KERNELS], [], join(work, "neuron"));
    const out = await runQemu("mps2-an386", build.image, 120_000);
    expect(out).toMatch(/^neuron ok 580$/m);
  }, 240_000);

  it.each(MUTANTS)(
    "catches the mutant: %s",
    async (name, from, to) => {
      const text = readFileSync(NEURON_HEADER, "utf8");
      expect(text.includes(from)).toBe(true);
      const dir = join(work, `mutant-${MUTANTS.findIndex((m) => m[0] === name)}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "ps_neuron_m4_mutant.h"), text.replace(from, to));
      const build = await buildFirmware("mps2-an386", [NEURON_SOURCE, KERNELS], [dir], dir, { PS_NEURON_MUTANT: 1 });
      const out = await runQemu("mps2-an386", build.image, 120_000);
      expect(out).toMatch(/^neuron FAIL /m);
    },
    240_000,
  );
});

// spec/ops.md §12.2 item 2 on ARMv6-M (firmware/kernels/ps_neuron_m0.h): the IF and LIF shift-leak
// updates equal the reference kernels; each mutant (a dropped saturation, a wrong saturated value, a
// strict threshold test, a wrong leak, no subtraction on a spike) must be caught.
const NEURON_M0_SOURCE = join(import.meta.dirname, "../firmware/test/test_neuron_m0.c");
const NEURON_M0_HEADER = join(KERNELS_DIR, "ps_neuron_m0.h");
const NEURON_M0_MUTANTS: Array<[name: string, from: string, to: string]> = [
  ["no saturation on the bias add", '"bvc 2f', '"b 2f'],
  ["saturation to the wrong end", '"asrs %[x], %[x], #31', '"lsrs %[x], %[x], #31'],
  ["threshold test v > theta", '"blt 4f', '"ble 4f'],
  ["LIF leak by a logical shift", '"asrs %[y], %[t]', '"lsrs %[y], %[t]'],
  ["LIF leak added", '"subs %[x], %[x], %[y]', '"adds %[x], %[x], %[y]'],
  ["no reset by subtraction", '"subs %[x], %[x], %[theta]\\n\\t"\n                         "stm %[slot]', '"stm %[slot]'],
];

describe.skipIf(armMissing)("ARMv6-M IF and LIF shift-leak updates (spec/ops.md §12.2 item 2)", () => {
  it("is bit-exact with the reference kernels on microbit under QEMU", async () => {
    const build = await buildFirmware("microbit", [NEURON_M0_SOURCE, KERNELS], [], join(work, "neuron-m0"));
    const out = await runQemu("microbit", build.image, 120_000);
    expect(out).toMatch(/^neuron ok 800$/m);
  }, 240_000);

  it.each(NEURON_M0_MUTANTS)(
    "catches the mutant: %s",
    async (name, from, to) => {
      const text = readFileSync(NEURON_M0_HEADER, "utf8");
      expect(text.includes(from)).toBe(true);
      const dir = join(work, `neuron-m0-mutant-${NEURON_M0_MUTANTS.findIndex((m) => m[0] === name)}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "ps_neuron_m0_mutant.h"), text.replace(from, to));
      const build = await buildFirmware("microbit", [NEURON_M0_SOURCE, KERNELS], [dir], dir, { PS_NEURON_MUTANT: 1 });
      const out = await runQemu("microbit", build.image, 120_000);
      expect(out).toMatch(/^neuron FAIL /m);
    },
    240_000,
  );
});
