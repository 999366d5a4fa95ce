import { describe, expect, it } from "vitest";
import { Rng, vanRossumDistance } from "./core.js";
import { RESUME_DEFAULTS, randomTargetTrain, trainResume } from "./resume.js";

describe("ReSuMe (Ponulak)", () => {
  it("a single LIF neuron learns a target train: van Rossum distance below 10% of its start", () => {
    const p = { ...RESUME_DEFAULTS, nAfferents: 100, durationMs: 200 };
    const target = randomTargetTrain(4, 200, 25, new Rng(3));
    const r = trainResume(p, target, 60, 2);
    expect(r.initialDistance).toBeGreaterThan(1);
    expect(r.finalDistance).toBeLessThan(0.1 * r.initialDistance);
  });

  it("is reproducible from its seed", () => {
    const p = { ...RESUME_DEFAULTS, nAfferents: 50, durationMs: 100 };
    const target = [30, 70];
    expect(trainResume(p, target, 5, 9).distances).toEqual(trainResume(p, target, 5, 9).distances);
  });

  it("van Rossum distance: zero for equal trains, sqrt(n/2) for disjoint far-apart trains", () => {
    expect(vanRossumDistance([10, 50], [10, 50], 10)).toBe(0);
    expect(vanRossumDistance([10, 500], [], 10)).toBeCloseTo(1, 6);
    expect(vanRossumDistance([10], [1000], 10)).toBeCloseTo(1, 6);
  });
});
