/** run and eval: the TypeScript interpreter, fed by every input source kind. */
import { describe, expect, it } from "vitest";
import { STEPS, type Acceptance, type VerbCase } from "../context.js";
import { expectError } from "../expect.js";
import { ndjsonLines, writeInputs } from "../inputs.js";

interface RunJson {
  readonly samples: ReadonlyArray<{ class: number }>;
}

/** Source strings of every file kind, written into the user's folder once. */
function sources(ctx: Acceptance): ReturnType<typeof writeInputs> {
  return ctx.once("inputs", () => writeInputs(ctx.user.dir));
}

export const run: VerbCase = {
  verb: "run",
  define(ctx: Acceptance) {
    describe("run", () => {
      const kinds = ["mnist", "random", "spikes", "nmnist", "aedat", "evt2", "evt3", "ndjsonFile", "ndjsonStdin"] as const;
      for (const kind of kinds) {
        it(`runs on input source ${kind}`, () => {
          const s = sources(ctx);
          const spec = kind === "mnist" ? "mnist:0:2" : kind === "random" ? "random:0.1:7" : kind === "ndjsonStdin" ? "ndjson:-" : s[kind];
          const r = ctx.user.json<RunJson>(
            ["run", ctx.model(8), "--input", spec, "--steps", String(STEPS), "--json"],
            kind === "ndjsonStdin" ? { input: ndjsonLines(STEPS) } : {},
          );
          expect(r.samples.length).toBeGreaterThan(0);
        }, 300_000);
      }

      it("defaults --steps as the other verbs do", () => {
        const r = ctx.user.json<RunJson>(["run", ctx.model(4), "--input", "random:0.1:7", "--json"]);
        expect(r.samples.length).toBe(1);
      }, 300_000);

      it("mistake: an unknown source kind lists the known ones", () => {
        const message = expectError(ctx.user.run(["run", ctx.model(8), "--input", "webcam:0"]), "CLI_BAD_SOURCE");
        expect(message).toMatch(/mnist:/);
      }, 300_000);
    });
  },
};

export const evalVerb: VerbCase = {
  verb: "eval",
  define(ctx: Acceptance) {
    describe("eval", () => {
      it("scores held-out digits (mnist:START:COUNT)", () => {
        const r = ctx.user.json<{ accuracy: number; samples: number }>(["eval", ctx.model(8), "--dataset", "mnist:0:40", "--steps", String(STEPS), "--json"]);
        expect(r.samples).toBe(40);
        expect(r.accuracy).toBeGreaterThan(0.3);
      }, 300_000);

      it("scores a labelled spike file (spikes:FILE) as well", () => {
        const r = ctx.user.json<{ samples: number }>(["eval", ctx.model(8), "--dataset", sources(ctx).spikes, "--steps", String(STEPS), "--json"]);
        expect(r.samples).toBe(2);
      }, 300_000);

      it("mistake: a source without labels is refused with a reason", () => {
        const message = expectError(ctx.user.run(["eval", ctx.model(8), "--dataset", "random:0.1:1"]), "CLI_BAD_SOURCE");
        expect(message).toMatch(/label/);
      }, 300_000);
    });
  },
};
