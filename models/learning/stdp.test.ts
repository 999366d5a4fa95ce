import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { PAIR_DEFAULTS, PFISTER_MINIMAL, SJOSTROM_2001, pairWeightChange, pairingProtocol, stdpWindow, tripletWeightChange } from "./stdp.js";

describe("pair STDP window", () => {
  const dts = [-80, -40, -20, -10, -5, -1, 1, 5, 10, 20, 40, 80];
  const window = stdpWindow(dts);

  it("potentiates pre-before-post and depresses post-before-pre", () => {
    for (const { dtMs, dw } of window) expect(Math.sign(dw)).toBe(dtMs > 0 ? 1 : -1);
  });

  it("is exponential in Δt with the configured amplitudes and time constants", () => {
    for (const { dtMs, dw } of window) {
      const expected =
        dtMs > 0 ? PAIR_DEFAULTS.aPlus * Math.exp(-dtMs / PAIR_DEFAULTS.tauPlusMs) : -PAIR_DEFAULTS.aMinus * Math.exp(dtMs / PAIR_DEFAULTS.tauMinusMs);
      expect(dw).toBeCloseTo(expected, 12);
    }
    // log|dw| is linear in Δt on each side: slope -1/tau.
    const a = window.find((p) => p.dtMs === 10)!.dw;
    const b = window.find((p) => p.dtMs === 40)!.dw;
    expect(Math.log(a / b) / 30).toBeCloseTo(1 / PAIR_DEFAULTS.tauPlusMs, 10);
  });

  it("all-to-all sums every earlier spike, nearest-spike only the latest", () => {
    const pre = [0, 5, 10];
    const post = [20];
    const all = pairWeightChange(pre, post, { ...PAIR_DEFAULTS, interaction: "all-to-all" });
    const nearest = pairWeightChange(pre, post, { ...PAIR_DEFAULTS, interaction: "nearest" });
    expect(nearest).toBeCloseTo(PAIR_DEFAULTS.aPlus * Math.exp(-10 / 20), 12);
    expect(all).toBeCloseTo(PAIR_DEFAULTS.aPlus * (Math.exp(-20 / 20) + Math.exp(-15 / 20) + Math.exp(-10 / 20)), 12);
  });

  it("rejects unsorted or non-finite trains with CLI_USAGE", () => {
    expect(() => pairWeightChange([5, 1], [3])).toThrow();
    try {
      pairWeightChange([Number.NaN], [3]);
    } catch (e) {
      expect(isPicospikeError(e, "CLI_USAGE")).toBe(true);
    }
  });
});

describe("triplet STDP (Pfister & Gerstner 2006, minimal visual-cortex model)", () => {
  const p = PFISTER_MINIMAL.visual;

  it("turns post-pre depression at low frequency into potentiation at 40-50 Hz", () => {
    expect(pairingProtocol(p, 1, -10)).toBeLessThan(-0.2);
    expect(pairingProtocol(p, 10, -10)).toBeLessThan(-0.2);
    expect(pairingProtocol(p, 40, -10)).toBeGreaterThan(0.1);
    expect(pairingProtocol(p, 50, -10)).toBeGreaterThan(0.5);
    // pre-post: no change at low frequency, growing potentiation with frequency
    expect(Math.abs(pairingProtocol(p, 0.1, 10))).toBeLessThan(0.01);
    const rising = [10, 20, 40, 50].map((f) => pairingProtocol(p, f, 10));
    for (let k = 1; k < rising.length; k++) expect(rising[k]!).toBeGreaterThan(rising[k - 1]!);
  });

  it("matches the Sjöström 2001 data the model was fitted to within two standard errors at every point (worst: 40 Hz post-pre, 1.2 SEM)", () => {
    SJOSTROM_2001.frequenciesHz.forEach((f, k) => {
      expect(Math.abs(pairingProtocol(p, f, 10) - SJOSTROM_2001.prePost10[k]!)).toBeLessThan(2 * SJOSTROM_2001.prePost10Sem[k]!);
      expect(Math.abs(pairingProtocol(p, f, -10) - SJOSTROM_2001.postPre10[k]!)).toBeLessThan(2 * SJOSTROM_2001.postPre10Sem[k]!);
    });
  });

  it("reduces to pair STDP when the triplet amplitudes are zero", () => {
    // the minimal visual model has A2+ = 0, so give the pair term an amplitude of its own
    const pair = { ...p, a2Plus: 5e-3, a3Plus: 0, a3Minus: 0 };
    expect(tripletWeightChange([0], [10], pair)).toBeCloseTo(pair.a2Plus * Math.exp(-10 / p.tauPlusMs), 15);
    expect(tripletWeightChange([10], [0], pair)).toBeCloseTo(-p.a2Minus * Math.exp(-10 / p.tauMinusMs), 15);
  });

  it("the hippocampal set also switches post-pre pairing to potentiation at 50 Hz", () => {
    expect(pairingProtocol(PFISTER_MINIMAL.hippocampal, 1, -10)).toBeLessThan(0);
    expect(pairingProtocol(PFISTER_MINIMAL.hippocampal, 50, -10)).toBeGreaterThan(0);
  });
});
