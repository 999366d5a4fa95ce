/** demo, learn, ports, bench: the verbs that stand alone. */
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { missing, type Acceptance, type VerbCase } from "../context.js";
import { expectError } from "../expect.js";

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

export const bench: VerbCase = {
  verb: "bench",
  define(ctx: Acceptance) {
    describe("bench", () => {
      it("--quick runs from the installed package (no development dependencies)", async () => {
        if (missing("bench --quick", ["gcc"])) return;
        const r = await ctx.user.jsonAsync<{ summary: { interpreterVsNativeC: number | null } }>(["bench", "--quick", "--json"], { timeoutMs: 600_000 });
        expect(r.summary.interpreterVsNativeC).toBeGreaterThan(0);
      }, 600_000);
    });
  },
};
