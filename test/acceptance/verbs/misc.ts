/** demo, learn, ports, bench: the verbs that stand alone. */
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { missing, type Acceptance, type VerbCase } from "../context.js";
import { expectError } from "../expect.js";
import { REPO } from "../installed.js";

export const demo: VerbCase = {
  verb: "demo",
  define(ctx: Acceptance) {
    describe("demo", () => {
      it("runs the whole pipeline, small, on the native board", async () => {
        if (missing("demo --board native", ["gcc", "size"])) return;
        const r = await ctx.user.jsonAsync<Record<string, unknown>>(
          ["demo", "--epochs", "1", "--eval-digits", "20", "--digits", "2", "--steps", "8", "--out", "demo", "--json"],
          { timeoutMs: 600_000 },
        );
        expect(JSON.stringify(r)).toMatch(/"bitExact":\s*true/);
        expect(existsSync(ctx.user.path("demo"))).toBe(true);
      }, 600_000);
    });
  },
};

export const learn: VerbCase = {
  verb: "learn",
  define(ctx: Acceptance) {
    describe("learn", () => {
      it("--list names the rules; a closed pipe ends quietly", () => {
        expect(ctx.user.ok(["learn", "--list"]).stdout).toMatch(/pair-stdp/);
        const r = ctx.user.shell(`"${ctx.pkg.bin}" learn --list | head -1`);
        expect(r.stderr).toBe("");
        expect(r.stdout).toMatch(/pair-stdp/);
      });

      it("--quick runs a rule's small task", () => {
        const r = ctx.user.json<{ passed: boolean | null }>(["learn", "--rule", "pair-stdp", "--quick", "--out", "learn-out", "--json"]);
        expect(r.passed).toBe(true);
      }, 300_000);

      it("--quick diehl-cook reports against the check it ran, not the full one", async () => {
        const r = await ctx.user.runAsync(["learn", "--rule", "diehl-cook", "--quick", "--out", "learn-dc"], { timeoutMs: 300_000 });
        expect(r.status, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/25 neurons/);
        expect(r.stdout).toMatch(/check: .*: not made by --quick/);
        expect(r.stdout).not.toMatch(/FAIL/);
      }, 300_000);

      it("mistake: an unknown rule lists the rules", () => {
        expect(expectError(ctx.user.run(["learn", "--rule", "hebb9"]), "CLI_USAGE", 2)).toMatch(/pair-stdp/);
      });
    });
  },
};

export const ports: VerbCase = {
  verb: "ports",
  define(ctx: Acceptance) {
    describe("ports", () => {
      it("lists serial ports, ptys included, as JSON", () => {
        const r = ctx.user.json<{ ports: unknown[] }>(["ports", "--json"]);
        expect(Array.isArray(r.ports)).toBe(true);
      });
    });
  },
};

/** The figures of `bench --quick --json` these cases read. */
interface BenchSummary {
  readonly summary: {
    readonly interpreterVsNativeC: number | null;
    readonly snnAccuracy: number | null;
    readonly m4InstrPerSynEvent: number | null;
    readonly rstdpOnOffM4: number | null;
  };
}

export const bench: VerbCase = {
  verb: "bench",
  define(ctx: Acceptance) {
    describe("bench", () => {
      it("--quick runs from the installed package (no development dependencies); without the Arm toolchain and QEMU it says what it skipped", async () => {
        if (missing("bench --quick", ["gcc"])) return;
        // The machine the README promises: Node and gcc only (the board modules take minutes and run in defineCross).
        const nodeGccPath = execFileSync("bash", [join(REPO, "scripts/path-without-cross-tools.sh")], { encoding: "utf8" }).trim();
        try {
          const r = await ctx.user.runAsync(["bench", "--quick", "--json"], { timeoutMs: 600_000, env: { PATH: nodeGccPath } });
          expect(r.status, r.stderr).toBe(0);
          const { summary } = JSON.parse(r.stdout) as BenchSummary;
          expect(summary.interpreterVsNativeC).toBeGreaterThan(0);
          expect(summary.snnAccuracy).toBeGreaterThan(50);
          expect(summary.m4InstrPerSynEvent).toBeNull();
          expect(r.stderr).toMatch(/skipped: arm-none-eabi-gcc is not installed \(Debian: apt-get install gcc-arm-none-eabi/);
        } finally {
          rmSync(nodeGccPath, { recursive: true, force: true });
        }
      }, 600_000);
    });
  },
  defineCross(ctx: Acceptance) {
    describe("bench", () => {
      it("--quick measures the device figures on the QEMU boards", async () => {
        if (missing("bench --quick on the QEMU boards", ["gcc", "arm-none-eabi-gcc", "qemu-system-arm"])) return;
        const r = await ctx.user.jsonAsync<BenchSummary>(["bench", "--quick", "--json"], { timeoutMs: 600_000 });
        expect(r.summary.interpreterVsNativeC).toBeGreaterThan(0);
        expect(r.summary.m4InstrPerSynEvent).toBeGreaterThan(0);
        expect(r.summary.rstdpOnOffM4).toBeGreaterThan(0);
      }, 600_000);
    });
  },
};
