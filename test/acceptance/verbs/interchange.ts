/** import, export, monitor: NIR in and out, and the live view attached to a running board. */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Acceptance, STEPS, type VerbCase } from "../context.js";
import { expectError } from "../expect.js";
import { REPO, skipReason } from "../installed.js";

/** A real snnTorch export from the shared fixtures (beside the repository), or undefined with the reason printed. */
function snntorchFixture(): string | undefined {
  const dir = process.env["PICOSPIKE_NIR_FIXTURES"] || join(REPO, "..", "shared", "nir-fixtures");
  const nir = join(dir, "snntorch-leaky-mlp", "model.nir");
  if (!existsSync(nir)) {
    skipReason("import of a framework's NIR export", `${nir} is not here (the shared NIR fixtures sit beside the repository)`);
    return undefined;
  }
  return join(dir, "snntorch-leaky-mlp");
}

export const importVerb: VerbCase = {
  verb: "import",
  define(ctx: Acceptance) {
    describe("import", () => {
      it("maps a snnTorch export with its dialect detected, and the float SNN runs on the fixture's input", () => {
        const fixture = snntorchFixture();
        if (fixture === undefined) return;
        const report = ctx.user.json<{ dialect: string; dialectSource: string; nodes: unknown[] }>([
          "import",
          join(fixture, "model.nir"),
          "--out",
          "nir-snn.json",
          "--json",
        ]);
        expect(report.dialect).toBe("snntorch");
        expect(report.dialectSource).toBe("detected");
        expect(report.nodes.length).toBeGreaterThan(0);
        expect(existsSync(ctx.user.path("nir-snn.json"))).toBe(true);
        const run = ctx.user.json<{ samples: Array<{ outputCounts: number[] }> }>([
          "run",
          "nir-snn.json",
          "--input",
          `ndjson:${join(fixture, "input.ndjson")}`,
          "--steps",
          String(STEPS),
          "--json",
        ]);
        expect(run.samples.length).toBeGreaterThan(0);
        expect(Array.isArray(run.samples[0]!.outputCounts)).toBe(true);
      }, 300_000);

      it("mistake: a file that is not HDF5 is refused by name, nothing written", () => {
        writeFileSync(ctx.user.path("not.nir"), "this is not an HDF5 file\n");
        expectError(ctx.user.run(["import", "not.nir", "--out", "never.json"]), "INTERCHANGE_NOT_HDF5");
        expect(existsSync(ctx.user.path("never.json"))).toBe(false);
      });
    });
  },
};

export const exportVerb: VerbCase = {
  verb: "export",
  define(ctx: Acceptance) {
    describe("export", () => {
      it("writes NIR from an int8 event table that import reads back to the same layer count", () => {
        const r = ctx.user.json<{ nodes?: unknown[] }>(["export", ctx.model(8), "--to", "nir", "--out", "exported.nir", "--json"]);
        expect(r).toBeTypeOf("object");
        expect(readFileSync(ctx.user.path("exported.nir")).subarray(0, 8).toString("latin1")).toBe("\x89HDF\r\n\x1a\n");
        const back = ctx.user.json<{ layers: unknown[] }>(["import", "exported.nir", "--from", "nir", "--out", "exported-back.json", "--json"]);
        const original = JSON.parse(readFileSync(ctx.snn(), "utf8")) as { layers: unknown[] };
        expect(back.layers.length).toBe(original.layers.length);
      }, 300_000);

      it("mistake: an unknown target format is a usage error", () => {
        expectError(ctx.user.run(["export", ctx.model(8), "--to", "onnx", "--out", "x.onnx"]), "CLI_USAGE", 2);
      });
    });
  },
};

export const monitor: VerbCase = {
  verb: "monitor",
  define(ctx: Acceptance) {
    describe("monitor", () => {
      it("attaches the live view to a mock board running the model, prints its URL and summary, and stops on Ctrl-C", async () => {
        const child = ctx.user.start([
          "monitor",
          "--board",
          "mock",
          "--model",
          ctx.model(8),
          "--input",
          "random:0.2:8",
          "--dt",
          "2",
          "--steps",
          "200",
          "--json",
        ]);
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
        const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        try {
          const deadline = Date.now() + 120_000;
          while (!/ui: run finished/.test(stderr) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
          expect(stderr).toMatch(/ui: http:\/\/127\.0\.0\.1:\d+\//);
          expect(stderr, stderr).toMatch(/ui: run finished/);
          child.kill("SIGINT");
          expect(await exit).toBe(0);
          const summary = JSON.parse(stdout) as { mode: string; device: string; steps: number };
          expect(summary).toMatchObject({ mode: "realtime", device: "mock" });
          expect(summary.steps).toBeGreaterThan(0);
        } finally {
          if (child.exitCode === null) child.kill("SIGKILL");
        }
      }, 300_000);

      it("mistake: neither --port nor --board is a usage error", () => {
        expectError(ctx.user.run(["monitor", "--model", ctx.model(8)]), "CLI_USAGE", 2);
      });
    });
  },
};
