/**
 * CI soak (firmware-host/jobs/soak.ts): lockstep steps to the native board (mock when no C compiler)
 * through 1% corruption and 1% drops both ways plus two device resets, bounded by
 * PICOSPIKE_SOAK_SECONDS (default 50, so the test takes about a minute with the build) and
 * PICOSPIKE_SOAK_STEPS (default 1,000,000). The steps run and the rate are printed; the full
 * million-step run is `scripts/soak.ts` (docs/RELIABILITY.md).
 */
import { describe, expect, it } from "vitest";
import { runSoak } from "../firmware-host/jobs/soak.js";
import { missingTools } from "../firmware-host/boards/toolchain.js";

const seconds = Number(process.env["PICOSPIKE_SOAK_SECONDS"] ?? 50);
const steps = Number(process.env["PICOSPIKE_SOAK_STEPS"] ?? 1_000_000);

describe("soak", () => {
  it(
    "no corrupted frame accepted, every request delivered, learned weights = checkpoint + replayed log",
    async () => {
      const board = missingTools(["gcc"]).length === 0 ? "native" : "mock";
      const report = await runSoak({ board, steps, seconds });
      process.stdout.write(
        `soak: ${report.steps} steps on ${board} in ${report.seconds} s (${report.stepsPerSecond}/s), ${report.recovery.recoveries} recoveries, ${report.recovery.checkpoints} checkpoints\n`,
      );
      expect(report.divergentSteps).toBe(0);
      expect(report.injected.resets).toBe(2);
      expect(report.recovery.resetsDetected).toBeGreaterThanOrEqual(2);
      expect(report.detected.badCrc + report.detected.badFrame).toBeGreaterThan(0);
      // Damage is reported and answered by fast retransmission (spec/protocol.md §2).
      expect(report.detected.damageReports).toBeGreaterThan(0);
      expect(report.detected.fastRetransmissions).toBeGreaterThan(0);
      if (report.learning) expect(report.weightsExact).toBe(true);
    },
    (seconds + 120) * 1000,
  );
});
