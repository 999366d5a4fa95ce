import { describe, expect, it } from "vitest";
import { postPreCrossoverHz, simulateVoltageStdp, voltagePairing } from "./voltage-stdp.js";

describe("voltage-based STDP (Clopath et al. 2010)", () => {
  it("post-pre pairing depresses at low frequency and potentiates at high frequency", () => {
    for (const f of [1, 10]) expect(voltagePairing(f, -10).dw).toBeLessThan(0);
    for (const f of [40, 50]) expect(voltagePairing(f, -10).dw).toBeGreaterThan(0);
    for (const f of [1, 10, 20, 40, 50]) expect(voltagePairing(f, -10).postSpikes).toBe(5);
  });

  it("the sign change lies around 30 Hz (between 15 and 40 Hz)", () => {
    const f = postPreCrossoverHz();
    expect(f).toBeDefined();
    expect(f!).toBeGreaterThan(15);
    expect(f!).toBeLessThan(40);
  });

  it("pre-post pairing potentiates, more at higher frequency", () => {
    expect(voltagePairing(1, 10).dw).toBeGreaterThan(0);
    expect(voltagePairing(50, 10).dw).toBeGreaterThan(voltagePairing(1, 10).dw);
  });

  it("a presynaptic spike on a resting membrane changes (almost) nothing (no depolarisation, no post spike)", () => {
    const r = simulateVoltageStdp([10, 50], [], 100);
    expect(r.postSpikes).toEqual([]);
    // the AdEx exponential term holds rest a hair above E_L = theta_-, hence not exactly 0
    expect(Math.abs(r.dw)).toBeLessThan(1e-6);
  });
});
