/** codegen: the C folder compiled as its README says (gcc and clang), the TS module imported and run. */
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { transformSync } from "esbuild";
import { describe, expect, it } from "vitest";
import { encodeSpikeFile } from "../../../runtime/spikefile.js";
import { missing, type Acceptance, type VerbCase } from "../context.js";
import { expectError } from "../expect.js";

/** The README's promise for the generated C folder. */
const STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"];
const STEPS = 20;
const INPUT = [3, 17, 42];

/** A program that steps the generated model on INPUT for STEPS steps and prints its class (the folder README's example). */
const MAIN_C = `#include <stdio.h>
#include "ps_model_generated.h"
#include "ps_net.h"

static uint32_t state[PS_MODEL_STATE_WORDS];
static ps_net_t net;

int main(void) {
    uint32_t spikes_in[] = { ${INPUT.join(", ")} };
    int t;
    ps_net_init(&net, &PS_MODEL_GENERATED, state, PS_MODEL_STATE_WORDS);
    for (t = 0; t < ${STEPS}; t++) ps_net_step(&net, spikes_in, NULL, ${INPUT.length});
    printf("%u\\n", (unsigned)ps_net_readout(&net));
    return 0;
}
`;

/** The class `picospike run` gives for INPUT held for STEPS steps (the reference the generated code must match). */
function interpreterClass(ctx: Acceptance): number {
  return ctx.once("codegen-reference", () => {
    const step = Uint32Array.from({ length: STEPS * INPUT.length }, (_, i) => Math.floor(i / INPUT.length));
    const index = Uint32Array.from({ length: STEPS * INPUT.length }, (_, i) => INPUT[i % INPUT.length]!);
    writeFileSync(ctx.user.path("codegen-input.spikes"), encodeSpikeFile({ inputSize: 784, samples: [{ steps: STEPS, step, index }] }));
    const r = ctx.user.json<{ samples: Array<{ class: number }> }>([
      "run",
      ctx.model(8),
      "--input",
      "spikes:codegen-input.spikes",
      "--steps",
      String(STEPS),
      "--json",
    ]);
    return r.samples[0]!.class;
  });
}

export const codegen: VerbCase = {
  verb: "codegen",
  define(ctx: Acceptance) {
    describe("codegen", () => {
      for (const compiler of ["gcc", "clang"]) {
        it(`--target c: the folder compiles with ${compiler} ${STRICT.join(" ")} and computes what run computes`, () => {
          const dir = ctx.once("codegen-c", () => {
            ctx.user.ok(["codegen", ctx.model(8), "--target", "c", "--out", "model-c"]);
            writeFileSync(ctx.user.path("model-c/main.c"), MAIN_C);
            return ctx.user.path("model-c");
          });
          if (missing(`codegen C compiled with ${compiler}`, [compiler])) return;
          const sources = readdirSync(dir)
            .filter((f) => f.endsWith(".c"))
            .map((f) => join(dir, f));
          const exe = join(dir, `main-${compiler}`);
          execFileSync(compiler, [...STRICT, "-O1", "-I", dir, "-o", exe, ...sources], { stdio: "pipe" });
          expect(Number(execFileSync(exe, { encoding: "utf8" }).trim())).toBe(interpreterClass(ctx));
        }, 300_000);
      }

      it("--target ts: the module imports and computes what run computes", async () => {
        ctx.user.ok(["codegen", ctx.model(4), "--target", "ts", "--out", "model-ts"]);
        const dir = ctx.user.path("model-ts");
        // the user's own TypeScript toolchain: here esbuild turns each file into an ES module
        writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
        for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
          writeFileSync(join(dir, f.replace(/\.ts$/, ".js")), transformSync(readFileSync(join(dir, f), "utf8"), { loader: "ts", format: "esm" }).code);
        }
        const mod = (await import(pathToFileURL(join(dir, "model.js")).href)) as {
          createModel(): {
            step(s: { indices: Uint32Array }): void;
            holdInput(s: { indices: Uint32Array }): Int32Array;
            stepHeld(held: Int32Array): void;
            readoutClass(): number;
          };
        };
        const model = mod.createModel();
        for (let t = 0; t < STEPS; t++) model.step({ indices: Uint32Array.from(INPUT) });
        const step = Uint32Array.from({ length: STEPS * INPUT.length }, (_, i) => Math.floor(i / INPUT.length));
        const index = Uint32Array.from({ length: STEPS * INPUT.length }, (_, i) => INPUT[i % INPUT.length]!);
        writeFileSync(ctx.user.path("codegen-input4.spikes"), encodeSpikeFile({ inputSize: 784, samples: [{ steps: STEPS, step, index }] }));
        const r = ctx.user.json<{ samples: Array<{ class: number }> }>([
          "run",
          ctx.model(4),
          "--input",
          "spikes:codegen-input4.spikes",
          "--steps",
          String(STEPS),
          "--json",
        ]);
        expect(model.readoutClass()).toBe(r.samples[0]!.class);
        // the constant input folded once and stepped held (spec/ops.md §7.3) computes the same
        const heldModel = mod.createModel();
        const held = heldModel.holdInput({ indices: Uint32Array.from(INPUT) });
        for (let t = 0; t < STEPS; t++) heldModel.stepHeld(held);
        expect(heldModel.readoutClass()).toBe(r.samples[0]!.class);
      }, 300_000);

      it("mistake: an unknown target names the ones there are", () => {
        expect(expectError(ctx.user.run(["codegen", ctx.model(8), "--target", "rust", "--out", "x"]), "CODEGEN_UNSUPPORTED")).toMatch(/c, ts/);
      }, 300_000);
    });
  },
};
