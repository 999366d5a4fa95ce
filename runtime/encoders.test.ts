import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DeltaEncoder,
  SigmaDeltaEncoder,
  deltaEncode,
  intensityFromUnit,
  latencyEncode,
  latencyStep,
  log2Q16,
  rateEncode,
  sampleFromFloat,
  sigmaDeltaEncode,
} from "./encoders.js";
import { isPicospikeError } from "./errors.js";
import type { InputSample } from "./events.js";
import { XORSHIFT32_REFERENCE_SEED, Xorshift32 } from "./prng.js";

const idx = (s: InputSample): number[][] => s.steps.map((st) => Array.from(st.indices));
const vals = (s: InputSample): number[][] => s.steps.map((st) => Array.from(st.indices, (_, k) => st.values?.[k] ?? 1));

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isPicospikeError(e) ? e.code : "not a PicospikeError";
  }
  return undefined;
}

describe("float to integer conversions", () => {
  it("rounds unit values half up to 0..255 and clamps", () => {
    expect([0, 1, 0.5, 0.25, 0.4 / 255, 0.6 / 255, -3, 7].map(intensityFromUnit)).toEqual([0, 255, 128, 64, 0, 1, 0, 255]);
    expect(code(() => intensityFromUnit(Number.NaN))).toBe("SEMANTICS_BAD_INPUT");
  });

  it("scales analog values, rounds half up and saturates to int32", () => {
    expect([sampleFromFloat(1.5, 2), sampleFromFloat(-0.5, 1), sampleFromFloat(-0.51, 1), sampleFromFloat(1e12, 1), sampleFromFloat(-1e12, 1)]).toEqual([
      3, 0, -1, 2147483647, -2147483648,
    ]);
    expect(code(() => sampleFromFloat(Number.POSITIVE_INFINITY, 1))).toBe("SEMANTICS_BAD_INPUT");
    expect(code(() => sampleFromFloat(1, 0))).toBe("CLI_USAGE");
  });
});

describe("rate encoding (spec/ops.md §7.2)", () => {
  it("spikes when the top byte of each draw is below the intensity, one draw per input per step", () => {
    // Reference draws for the spec's seed: top bytes 0x2b 0x94 0x7b 0x77 | 0xd2 0x16 0x50 0x29.
    const s = rateEncode([44, 148, 0, 255], 2, XORSHIFT32_REFERENCE_SEED);
    expect(idx(s)).toEqual([
      [0, 3],
      [1, 3],
    ]);
  });

  it("continues a caller's generator and always consumes steps * inputs draws", () => {
    const rng = new Xorshift32(7);
    const first = rateEncode([0, 0, 0], 5, rng);
    expect(idx(first).flat()).toEqual([]);
    const reference = new Xorshift32(7);
    for (let k = 0; k < 15; k++) reference.next();
    expect(rng.value).toBe(reference.value);
  });

  it("rejects intensities outside 0..255 and a zero seed", () => {
    expect(code(() => rateEncode([256], 1, 1))).toBe("SEMANTICS_BAD_INPUT");
    expect(code(() => rateEncode([1.5], 1, 1))).toBe("SEMANTICS_BAD_INPUT");
    expect(code(() => rateEncode([1], 1, 0))).toBe("SEMANTICS_BAD_INPUT");
  });
});

describe("latency encoding", () => {
  it("computes log2 in Q16 exactly for powers of two and within 2 units otherwise, increasing", () => {
    for (let n = 0; n < 8; n++) expect(log2Q16(2 ** n)).toBe(n * 65536);
    expect([log2Q16(3), log2Q16(255)]).toEqual([103872, 523917]);
    for (let q = 2; q < 256; q++) {
      expect(Math.abs(log2Q16(q) - 65536 * Math.log2(q))).toBeLessThan(2);
      expect(log2Q16(q)).toBeGreaterThan(log2Q16(q - 1));
    }
  });

  it("maps intensity to a spike step, linear or log, brightest first", () => {
    const lin = { steps: 11 };
    expect([255, 128, 1, 0].map((q) => latencyStep(q, lin))).toEqual([0, 5, 10, -1]);
    expect(latencyStep(100, { steps: 9, threshold: 10 })).toBe(5); // floor(155 * 8 / 245)
    expect(latencyStep(9, { steps: 9, threshold: 10 })).toBe(-1);
    const log = { steps: 9, mode: "log" as const };
    expect([255, 16, 1].map((q) => latencyStep(q, log))).toEqual([0, 3, 8]); // 16 = 2^4: floor(8 * (L255 - 4·2^16) / L255) = 3
    expect(latencyStep(100, { ...log, threshold: 10 })).toBe(2);
    expect(latencyStep(255, { steps: 4, threshold: 255 })).toBe(0);
  });

  it("emits each input at most once, at its step", () => {
    const s = latencyEncode([255, 0, 128, 1, 255], { steps: 11 });
    expect(idx(s)).toEqual([[0, 4], [], [], [], [], [2], [], [], [], [], [3]]);
    expect(code(() => latencyEncode([1], { steps: 0 }))).toBe("CLI_USAGE");
    expect(code(() => latencyEncode([1], { steps: 3, threshold: 0 }))).toBe("CLI_USAGE");
  });
});

describe("delta encoding", () => {
  const x = [0, 5, 12, 35, 30, 8, 8].map((v) => [v]);

  it("moves the reference one threshold per event, up on channel 2c and down on 2c+1", () => {
    expect(idx(deltaEncode(x, { threshold: 10 }))).toEqual([[], [], [0], [0], [0], [1], [1]]);
  });

  it("grades the event value by whole thresholds crossed when asked", () => {
    const s = deltaEncode(x, { threshold: 10, graded: true });
    expect(idx(s)).toEqual([[], [], [0], [0], [], [1], []]);
    expect(vals(s)).toEqual([[], [], [1], [2], [], [2], []]);
  });

  it("starts from zero when asked and keeps channels independent", () => {
    const s = deltaEncode(
      [
        [20, -20],
        [20, -20],
        [0, 0],
      ],
      { threshold: 10, initial: "zero" },
    );
    expect(idx(s)).toEqual([
      [0, 3],
      [0, 3],
      [1, 2],
    ]);
    expect(code(() => new DeltaEncoder(1, { threshold: 0 }))).toBe("CLI_USAGE");
    expect(code(() => deltaEncode([[1], [1, 2]], { threshold: 1 }))).toBe("SEMANTICS_BAD_INPUT");
  });

  it("tracks any signal: reference = r0 + threshold * (ups - downs) stays within a threshold when not slew-limited", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 50 }), (xs, th) => {
        const s = deltaEncode(
          xs.map((v) => [v]),
          { threshold: th, graded: true },
        );
        let r = xs[0]!;
        s.steps.forEach((st, k) => {
          const before = Math.abs(xs[k]! - r);
          for (let j = 0; j < st.indices.length; j++) r += (st.indices[j] === 0 ? 1 : -1) * th * (st.values?.[j] ?? 1);
          if (before < 256 * th) expect(Math.abs(xs[k]! - r)).toBeLessThan(th);
        });
      }),
      { numRuns: 100 },
    );
  });
});

describe("sigma-delta encoding", () => {
  it("integrates, fires and feeds back the full scale (hand-computed)", () => {
    const s = sigmaDeltaEncode(
      [1, 1, 1, 1, 2, 2, 4, -3, -3].map((v) => [v]),
      { fullScale: 4 },
    );
    expect(idx(s)).toEqual([[], [], [], [0], [], [0], [0], [], [1]]);
    const u = sigmaDeltaEncode(
      [3, -9, 9, 1].map((v) => [v]),
      { fullScale: 4, bipolar: false },
    );
    expect(idx(u)).toEqual([[], [], [0], [0]]); // -9 clamps to 0, 9 to 4: e = 3, 3, 7→3, 4→0
  });

  function checkTracking(xs: number[], F: number): void {
    const enc = new SigmaDeltaEncoder(1, { fullScale: F });
    let sum = 0;
    let net = 0;
    for (const x of xs) {
      const st = enc.step([x]);
      sum += Math.max(-F, Math.min(F, x));
      for (const i of st.indices) net += i === 0 ? 1 : -1;
      const e = enc.state[0]!;
      expect(sum).toBe(F * net + e);
      expect(Math.abs(e)).toBeLessThan(F);
    }
  }

  it("on a ramp, spike density follows the input and the error stays below one spike", () => {
    const F = 1000;
    const ramp = Array.from({ length: 400 }, (_, k) => Math.round((k * 2 * F) / 399) - F);
    checkTracking(ramp, F);
    const s = sigmaDeltaEncode(
      ramp.map((v) => [v]),
      { fullScale: F },
    );
    const pos = (a: number, b: number): number => s.steps.slice(a, b).reduce((n, st) => n + Array.from(st.indices).filter((i) => i === 0).length, 0);
    expect(pos(0, 100)).toBe(0); // strongly negative part: no positive spikes
    expect(pos(300, 400)).toBeGreaterThan(60); // input from +0.5F to +F
  });

  it("on a sine, the positive minus negative spikes reconstruct the integral", () => {
    const F = 256;
    const sine = Array.from({ length: 500 }, (_, k) => sampleFromFloat(Math.sin((2 * Math.PI * k) / 100), 200));
    checkTracking(sine, F);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5000, max: 5000 }), { maxLength: 80 }), fc.integer({ min: 1, max: 3000 }), (xs, F2) => checkTracking(xs, F2)),
      { numRuns: 100 },
    );
  });
});
