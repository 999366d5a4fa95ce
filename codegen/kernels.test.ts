import { describe, expect, it } from "vitest";
import { encodeSample, Interpreter } from "../runtime/interpreter.js";
import { ReferenceInterpreter } from "../runtime/testing/reference-interpreter.js";
import { randomTable, TestRng } from "../runtime/testing/random-table.js";
import { cExpr, emitCSource } from "./emit-c.js";
import { tsExpr } from "./emit-ts.js";
import { checkKernel, cmp, for_, ix, k, ld, let_, output, prim, ret, scalar, st, v, type Kernel } from "./ir.js";
import { KERNELS } from "./kernels.js";

function kernel(body: Kernel["body"], params: Kernel["params"] = [scalar("a", "i32"), scalar("n", "u32"), output("out", "i32")]): Kernel {
  return { name: "probe", doc: "test", params, returns: "u32", body: [...body, ret(k(0))] };
}

describe("IR checks", () => {
  it("accepts every kernel of codegen/kernels.ts", () => {
    for (const kn of KERNELS) expect(() => checkKernel(kn)).not.toThrow();
  });

  it("rejects index arithmetic on signed state, mixed-sign comparisons and stores to inputs", () => {
    expect(() => checkKernel(kernel([let_("x", "u32", ix("add", v("a"), k(1)))]))).toThrow(/index arithmetic/);
    expect(() => checkKernel(kernel([let_("x", "bool", cmp("lt", v("a"), v("n")))]))).toThrow(/comparison/);
    expect(() => checkKernel(kernel([st("a", k(0), v("a"))]))).toThrow(/read-only or unknown/);
    expect(() => checkKernel(kernel([for_("i", k(0), v("n"), "", [])]))).toThrow(/names the table size/);
    expect(() => checkKernel(kernel([st("out", v("a"), k(0, "i32"))]))).toThrow(/must be unsigned/);
  });

  it("admits the proven-exact primitives only in kernels that declare the accumulation bound (spec/ops.md §12.1)", () => {
    const body = [let_("x", "i32", prim("addExact32", v("a"), v("a")))];
    expect(() => checkKernel(kernel(body))).toThrow(/precondition/);
    expect(() => checkKernel({ ...kernel(body), precondition: "a + a fits int32" })).not.toThrow();
    const exact = KERNELS.filter((kn) => kn.name.endsWith("Exact"));
    expect(exact.length).toBeGreaterThan(10);
    for (const kn of exact) {
      expect(kn.precondition).toMatch(/§12\.1/);
      expect(KERNELS.some((twin) => twin.name === kn.name.slice(0, -"Exact".length) && twin.precondition === undefined)).toBe(true);
    }
  });

  it("renders primitives under their TS and C names", () => {
    const e = prim("satAdd32", ld("out", v("n")), k(-2147483648, "i32"));
    expect(tsExpr(e)).toBe("satAdd32(out[n]!, -2147483648)");
    expect(cExpr(e)).toBe("ps_sat_add32(out[n], INT32_MIN)");
  });
});

describe("generated kernels against the hand-written reference", () => {
  it("agree bit for bit on random tables of every kind", () => {
    for (let seed = 100; seed < 130; seed++) {
      const table = randomTable(seed, { layers: 5, recurrentProbability: 0.5 });
      const gen = new Interpreter(table);
      const ref = new ReferenceInterpreter(table);
      const g = new TestRng(seed);
      const input = encodeSample(
        table.input,
        Uint8Array.from({ length: table.input.size }, () => g.next() & 255),
        60,
      );
      for (const step of input) {
        gen.step(step);
        ref.step(step);
        for (let l = 0; l < table.layers.length; l++) expect(Array.from(gen.lastSpikes(l))).toEqual(Array.from(ref.lastSpikes(l)));
      }
      expect(gen.snapshot()).toEqual(ref.snapshot());
      expect(gen.synapticEvents).toBe(ref.synapticEvents);
      expect(gen.readoutClass()).toBe(ref.readoutClass());
    }
  });
});

describe("model-specialised C source", () => {
  it("declares the index helper only when a kept kernel calls it (clang -Werror rejects an unused static function)", () => {
    const [, none] = emitCSource(() => false);
    expect(none).not.toContain("ps_k_min_u32");
    const [, all] = emitCSource();
    expect(all).toContain("static uint32_t ps_k_min_u32(");
    const users = KERNELS.filter((kn) => JSON.stringify(kn.body).includes('"min"'));
    expect(users.length).toBeGreaterThan(0);
    const [, some] = emitCSource((kn) => kn === users[0]);
    expect(some).toContain("static uint32_t ps_k_min_u32(");
  });
});
