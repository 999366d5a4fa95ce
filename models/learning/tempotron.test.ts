import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { Rng } from "./core.js";
import { TEMPOTRON_DEFAULTS, Tempotron, randomPatterns } from "./tempotron.js";

describe("tempotron (Gütig & Sompolinsky 2006)", () => {
  it("the PSP kernel peaks at exactly the threshold and vanishes before the spike", () => {
    const t = new Tempotron(TEMPOTRON_DEFAULTS, new Rng(0));
    let peak = 0;
    for (let s = 0; s < 60; s += 0.01) peak = Math.max(peak, t.kernel(s));
    expect(peak).toBeCloseTo(1, 4);
    expect(t.kernel(-1)).toBe(0);
  });

  it("learns 300 random latency patterns with N = 200 afferents (load 1.5) to zero errors", () => {
    const rng = new Rng(7);
    const patterns = randomPatterns(300, TEMPOTRON_DEFAULTS, rng);
    const t = new Tempotron(TEMPOTRON_DEFAULTS, rng);
    const before = patterns.filter((p) => t.classify(p) !== p.label).length;
    const { errors } = t.train(patterns, 1000, rng);
    expect(before).toBeGreaterThan(100);
    expect(errors).toBe(0);
    expect(patterns.every((p) => t.classify(p) === p.label)).toBe(true);
  });

  it("rejects a pattern of the wrong width with SEMANTICS_BAD_INPUT", () => {
    const t = new Tempotron(TEMPOTRON_DEFAULTS, new Rng(0));
    try {
      t.classify({ spikeTimes: new Float64Array(3), label: true });
      expect.unreachable();
    } catch (e) {
      expect(isPicospikeError(e, "SEMANTICS_BAD_INPUT")).toBe(true);
    }
  });
});
