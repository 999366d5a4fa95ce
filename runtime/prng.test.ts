import { describe, expect, it } from "vitest";
import { isPicospikeError } from "./errors.js";
import { XORSHIFT32_REFERENCE_SEED, Xorshift32 } from "./prng.js";

describe("xorshift32", () => {
  it("reproduces the reference values of spec/ops.md §8 (computed by a C implementation)", () => {
    const g = new Xorshift32(XORSHIFT32_REFERENCE_SEED);
    const first8 = Array.from({ length: 8 }, () => g.next());
    expect(first8).toEqual([723471715, 2497366906, 2064144800, 2008045182, 3532304609, 374114282, 1350636274, 691148861]);
    const one = new Xorshift32(1);
    expect([one.next(), one.next(), one.next(), one.next()]).toEqual([270369, 67634689, 2647435461, 307599695]);
    expect(one.value).toBe(307599695);
  });

  it("accepts the largest uint32 seed and rejects 0, negatives, fractions and > 2^32-1", () => {
    expect(new Xorshift32(0xffffffff).next()).toBeGreaterThan(0);
    for (const bad of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
      let caught: unknown;
      try {
        new Xorshift32(bad);
      } catch (e) {
        caught = e;
      }
      expect(isPicospikeError(caught, "SEMANTICS_BAD_INPUT")).toBe(true);
    }
  });
});
