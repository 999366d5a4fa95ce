import { describe, expect, it } from "vitest";
import { Interpreter, encodeSample } from "./interpreter.js";
import { Xorshift32 } from "./prng.js";
import { runSamples } from "./run.js";
import { randomTable } from "./testing/random-table.js";

describe("runSamples", () => {
  it("resets between samples and reports what an interpreter run by hand reports", () => {
    const table = randomTable(5, { kinds: ["dense", "dense"] });
    const prng = new Xorshift32(9);
    const description = { size: table.input.size, encoding: "rate", seed: 9 } as const;
    const samples = [0, 1, 2].map(() => ({ steps: encodeSample(description, new Uint8Array(table.input.size).fill(77), 12, prng) }));
    const report = runSamples(table, samples, 10);
    const interp = new Interpreter(table);
    const last = table.layers.length - 1;
    samples.forEach((s, n) => {
      interp.reset();
      for (const e of s.steps) interp.step(e);
      expect(report.samples[n]!.class).toBe(interp.readoutClass());
      expect(report.samples[n]!.outputCounts).toEqual(Array.from(interp.spikeCounts(last)));
    });
    expect(report.samples.length).toBe(3);
    expect(report.steps).toBe(36);
    expect(report.synapticEvents).toBe(interp.synapticEvents);
  });
});
