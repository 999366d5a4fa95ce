import { describe, expect, it } from "vitest";
import { bundleC } from "../../codegen/bundle-c.js";
import { emitTsModel } from "../../codegen/emit-ts-model.js";
import {
  compareRuns,
  makeCase,
  QEMU_CONFORMANCE_TARGETS,
  qemuSkipReason,
  ROOT,
  runConformance,
  runHeldConformance,
  runQemuConformance,
  runSpecialisedConformance,
  runSpecialisedTsConformance,
  runTs,
  tableReaderPresent,
} from "./conformance.js";
import { missingTools } from "../../firmware-host/boards/toolchain.js";
import { Interpreter } from "../../runtime/interpreter.js";
import type { PlasticLayer } from "../../runtime/plasticity.js";

const skipReason = !tableReaderPresent()
  ? "firmware/src/ps_table.c (the C table reader) is missing"
  : missingTools(["gcc"]).length > 0
    ? "gcc is not installed"
    : undefined;
if (skipReason !== undefined) console.log(`conformance (host C): skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("conformance: TS interpreter, reference oracle and host C kernels", () => {
  // 200 random models x 1000 steps, as 4 seeds x 50 models: each test stays short enough that a
  // loaded machine does not starve vitest's worker RPC (a single 200-model test did).
  it.each([1, 2, 3, 4])(
    "agree on every layer's spikes at every step and the final state bytes (seed %i: 50 random models x 1000 steps)",
    (seed) => {
      const report = runConformance(50, 1000, seed);
      expect(report.mismatches).toEqual([]);
      expect(report.spikes).toBeGreaterThan(25_000); // the models are busy, not silent
    },
    600_000,
  );
});

describe.skipIf(skipReason !== undefined)("conformance: held input (spec/ops.md §7.3), folded once and stepped held, equals stepping the events", () => {
  it("host C and the TS interpreter's holdInput/stepHeld agree with stepping every event (40 models x 300 steps of constant runs)", () => {
    const report = runHeldConformance(40, 300, 11);
    expect(report.mismatches).toEqual([]);
    expect(report.spikes).toBeGreaterThan(5_000);
  }, 600_000);
});

describe.skipIf(missingTools(["gcc"]).length > 0)("conformance: model-specialised C (picospike codegen --target c, tables compiled in)", () => {
  it("builds warning-free under the strict flags and agrees with the TS interpreter (4 models x 300 steps)", () => {
    const report = runSpecialisedConformance(4, 300, 3, (table) => bundleC(table, "conformance", ROOT));
    expect(report.mismatches).toEqual([]);
    expect(report.spikes).toBeGreaterThan(1000);
  });
});

describe("conformance: model-specialised TypeScript (picospike codegen --target ts)", () => {
  it("is bit-exact with the interpreter: every layer's spikes at every step and the final state (12 models x 300 steps)", async () => {
    const report = await runSpecialisedTsConformance(12, 300, 4, (table) => emitTsModel(table, "conformance", ROOT));
    expect(report.mismatches).toEqual([]);
    expect(report.spikes).toBeGreaterThan(1000);
  });

  it("held input (spec/ops.md §7.3): holdInput + stepHeld give the integers of stepping the events (8 models x 200 steps)", async () => {
    const report = await runSpecialisedTsConformance(8, 200, 13, (table) => emitTsModel(table, "conformance", ROOT), true);
    expect(report.mismatches).toEqual([]);
    expect(report.spikes).toBeGreaterThan(500);
  });
});

const qemuSkip = qemuSkipReason();
if (qemuSkip !== undefined) console.log(`conformance (Cortex-M4 under QEMU): skipped: ${qemuSkip}`);

describe.skipIf(qemuSkip !== undefined)("conformance: C kernels built by arm-none-eabi-gcc for Cortex-M4, run under QEMU (mps2-an386, semihosting)", () => {
  it("held input (spec/ops.md §7.3) agrees with stepping the events (15 models x 200 steps)", () => {
    const report = runHeldConformance(15, 200, 12, "qemu");
    expect(report.mismatches).toEqual([]);
    expect(report.spikes).toBeGreaterThan(1000);
  }, 600_000);

  it("agree with the TS interpreter on a subset (30 models x 300 steps)", () => {
    const report = runQemuConformance(30, 300, 2);
    expect(report.mismatches).toEqual([]);
    expect(report.spikes).toBeGreaterThan(10_000);
  });
});

const m55Skip = qemuSkipReason(QEMU_CONFORMANCE_TARGETS["cortex-m55"]);
if (m55Skip !== undefined) console.log(`conformance (Cortex-M55 under QEMU): skipped: ${m55Skip}`);

describe.skipIf(m55Skip !== undefined)(
  "conformance: C kernels with the Helium fold, built for Cortex-M55 (the mps3-an547's flags), run under QEMU (mps3-an547, semihosting)",
  () => {
    it("agree with the TS interpreter on a subset (30 models x 300 steps)", () => {
      const report = runQemuConformance(30, 300, 2, QEMU_CONFORMANCE_TARGETS["cortex-m55"]);
      expect(report.mismatches).toEqual([]);
      expect(report.spikes).toBeGreaterThan(10_000);
    });
  },
);

const rvSkip = qemuSkipReason(QEMU_CONFORMANCE_TARGETS["rv32imac"]);
if (rvSkip !== undefined) console.log(`conformance (RV32IMAC under QEMU): skipped: ${rvSkip}`);

describe.skipIf(rvSkip !== undefined)(
  "conformance: C kernels built by riscv64-unknown-elf-gcc for RV32IMAC (the hifive1's flags), run under QEMU (riscv32 virt, semihosting)",
  () => {
    it("agree with the TS interpreter on a subset (30 models x 300 steps)", () => {
      const report = runQemuConformance(30, 300, 2, QEMU_CONFORMANCE_TARGETS["rv32imac"]);
      expect(report.mismatches).toEqual([]);
      expect(report.spikes).toBeGreaterThan(10_000);
    });
  },
);

describe("conformance covers learning (spec/ops.md §11)", () => {
  it("a good share of the plastic dense layers are event-timed (spec/ops.md §11.5)", () => {
    let event = 0;
    for (let i = 0; i < 50; i++) event += makeCase(1, i, 1).table.layers.filter((l) => l.plasticity?.timing === "event").length;
    expect(event).toBeGreaterThan(5);
  });

  it("some plastic dense layers are epoch-timed (spec/ops.md §11.7) and change their weights at epoch ends", () => {
    let epoch = 0;
    let changed = 0;
    for (let i = 0; i < 60; i++) {
      const c = makeCase(1, i, 300);
      if (!c.table.layers.some((l) => l.plasticity?.timing === "epoch")) continue;
      epoch++;
      if (new Set(runTs(c).run.weightHashes).size > 1) changed++;
    }
    expect(epoch).toBeGreaterThan(3);
    expect(changed).toBeGreaterThan(1);
  });

  it("the epoch pass skips rows (spec/ops.md §11.7 row skip), rewarded epochs and rows gone quiet included, and a restored interpreter derives the same bounds", () => {
    let skipped = 0;
    let skippedRewarded = 0;
    let quieted = 0;
    let restored = 0;
    for (let i = 0; i < 80; i++) {
      const c = makeCase(1, i, 600);
      const layers = c.table.layers.map((l, k) => (l.plasticity?.timing === "epoch" ? k : -1)).filter((k) => k >= 0);
      if (layers.length === 0) continue;
      const gen = new Interpreter(c.table);
      let twin: Interpreter | undefined;
      const plastic = (sim: Interpreter, l: number): PlasticLayer => sim.plasticity(l) as PlasticLayer;
      c.steps.forEach((s, t) => {
        const before = layers.map((l) => ({ visited: plastic(gen, l).epochRowsVisited, bound: plastic(gen, l).rowBound.slice() }));
        const reward = c.rewards[t] ?? 0;
        if (reward !== 0) {
          gen.reward(reward);
          twin?.reward(reward);
        }
        const sums = layers.map((l) => plastic(gen, l).rewardSum[0]!); // the epoch's reward sum, this step's included
        gen.step(s);
        twin?.step(s);
        layers.forEach((l, k) => {
          const pl = plastic(gen, l);
          if ((t + 1) % 2 ** (pl.params.epochShift ?? 5) !== 0) return; // not an epoch end
          const visits = pl.epochRowsVisited - before[k]!.visited;
          const inputs = pl.preTrace.length;
          skipped += inputs - visits;
          if (sums[k] !== 0 && pl.rewarded) skippedRewarded += inputs - visits;
          quieted += before[k]!.bound.filter((b, p) => b > 0 && pl.rowBound[p] === 0).length;
        });
        if (t === 300) {
          // a fresh interpreter restored from a snapshot recomputes the bounds from the eligibility
          twin = new Interpreter(c.table);
          twin.restore(gen.snapshot());
          restored++;
        }
        if (twin !== undefined) for (const l of layers) expect(twin.weights(l)).toEqual(gen.weights(l));
      });
      if (twin !== undefined) for (const l of layers) expect(plastic(twin, l).eligibility).toEqual(plastic(gen, l).eligibility);
    }
    expect(skipped).toBeGreaterThan(100);
    expect(skippedRewarded).toBeGreaterThan(10);
    expect(quieted).toBeGreaterThan(10);
    expect(restored).toBeGreaterThan(3);
  });

  it("about half the random models are plastic, get random rewards, and most of those change their weights", () => {
    let plastic = 0;
    let changed = 0;
    for (let i = 0; i < 40; i++) {
      const c = makeCase(1, i, 300);
      if (!c.table.layers.some((l) => l.plasticity !== undefined)) continue;
      plastic++;
      expect(c.rewards.some((r) => r !== 0)).toBe(true);
      if (new Set(runTs(c).run.weightHashes).size > 1) changed++;
    }
    expect(plastic).toBeGreaterThan(10);
    expect(changed).toBeGreaterThan(plastic / 3);
  });
});

describe("conformance reports", () => {
  it("name the seed, model, step, layer, neuron and both values of a mismatch", () => {
    const c = makeCase(5, 3, 20);
    const { run } = runTs(c);
    const t = run.spikes.findIndex((row) => row.some((a) => a.length > 0));
    expect(t).toBeGreaterThanOrEqual(0);
    const l = run.spikes[t]!.findIndex((a) => a.length > 0);
    const broken = run.spikes.map((row, s) => row.map((a, k) => (s === t && k === l ? a.subarray(1) : a)));
    const message = compareRuns(c, run, { status: 0, spikes: broken, snapshot: run.snapshot }, "c-host");
    expect(message).toBe(`seed ${c.seed} model 3 step ${t} layer ${l} neuron ${run.spikes[t]![l]![0]}: ts spiked, c-host silent`);
    const snap = run.snapshot.slice();
    snap[16 + 12] = snap[16 + 12]! ^ 1; // layer 0 v[0], lowest byte
    expect(compareRuns(c, run, { status: 0, spikes: run.spikes, snapshot: snap }, "c-host")).toMatch(
      new RegExp(`^seed ${c.seed} model 3 final state layer 0 v\\[0\\]: ts -?\\d+, c-host -?\\d+$`),
    );
  });
});
