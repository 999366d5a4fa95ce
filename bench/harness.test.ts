import { describe, expect, it } from "vitest";
import { median, timeRuns } from "./harness.js";
import { convModel, denseModel } from "./interpreter.bench.js";
import { Interpreter } from "../runtime/interpreter.js";

describe("bench harness", () => {
  it("takes the median of odd and even lists", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("runs the work once to warm up plus once per timed run", () => {
    let calls = 0;
    expect(timeRuns(3, () => void calls++).length).toBe(3);
    expect(calls).toBe(4);
  });

  it("builds benchmark models the interpreter accepts, identically for one seed", () => {
    for (const make of [denseModel, convModel]) {
      const a = new Interpreter(make(3));
      expect(a.layerCount).toBeGreaterThan(1);
      expect(make(3)).toEqual(make(3));
    }
  });
});
