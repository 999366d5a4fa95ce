/**
 * The acceptance suite's cross-board half: the installed package building for every board other
 * than native and running stream, compare and bench on a Cortex-M4 under QEMU. Each case takes tens
 * of seconds, so they run in the `boards` tier (`npm run test:boards`, CI) rather than in `npm test`;
 * acceptance.test.ts holds the rest, on the machine the README promises (Node and gcc).
 */
import { beforeAll, describe } from "vitest";
import { VERB_CASES } from "./verb-cases.js";
import { Acceptance } from "./context.js";
import { onPath, skipReason } from "./installed.js";

/** The tools at least one cross case needs; without any of them every case would skip, so nothing is packed. */
const CROSS_TOOLS = ["arm-none-eabi-gcc", "riscv64-unknown-elf-gcc", "qemu-system-arm"];

describe("acceptance on the cross-compiled boards: the installed package", () => {
  const ctx = new Acceptance();
  beforeAll(() => {
    if (CROSS_TOOLS.some(onPath)) ctx.setup();
    else skipReason("the cross-board acceptance cases", `none of ${CROSS_TOOLS.join(", ")} is on PATH`);
  }, 600_000);

  for (const verb of VERB_CASES) verb.defineCross?.(ctx);
});
