import { describe, expect, it } from "vitest";
import {
  INT32_MAX,
  INT32_MIN,
  clampMin,
  currentDecay,
  int4At,
  int4FromNibble,
  leakShift,
  q15Mul,
  sat32,
  satAdd32,
  satSub32,
  shlSat32,
  shrFloor32,
  shrFloor64,
  synContrib,
  synScale,
  mulSat32,
  addExact32,
  mulExact32,
} from "./fixed.js";

describe("saturating arithmetic", () => {
  it("saturates adds and subtracts at both int32 ends instead of wrapping", () => {
    expect(satAdd32(INT32_MAX, 1)).toBe(INT32_MAX);
    expect(satAdd32(INT32_MAX - 5, 3)).toBe(INT32_MAX - 2);
    expect(satAdd32(INT32_MIN, -1)).toBe(INT32_MIN);
    expect(satAdd32(INT32_MIN, INT32_MIN)).toBe(INT32_MIN);
    expect(satAdd32(INT32_MAX, INT32_MIN)).toBe(-1);
    expect(satSub32(INT32_MIN, 1)).toBe(INT32_MIN);
    expect(satSub32(0, INT32_MIN)).toBe(INT32_MAX); // 2^31 does not fit
    expect(sat32(2 ** 40)).toBe(INT32_MAX);
    expect(sat32(-(2 ** 40))).toBe(INT32_MIN);
  });

  it("shifts right with floor, also for negative values", () => {
    expect(shrFloor32(-1, 5)).toBe(-1); // floor(-1/32)
    expect(shrFloor32(-5, 1)).toBe(-3); // floor(-2.5)
    expect(shrFloor32(5, 1)).toBe(2);
    expect(shrFloor32(INT32_MIN, 31)).toBe(-1);
    expect(shrFloor32(INT32_MAX, 31)).toBe(0);
    expect(shrFloor64(-(2 ** 46) - 1, 15)).toBe(-(2 ** 31) - 1); // floor(-2^31 - 2^-15)
    expect(shrFloor64(-3, 0)).toBe(-3);
  });

  it("shifts left with saturation and forms the synaptic contribution exactly before saturating", () => {
    expect(shlSat32(-128, 23)).toBe(-(2 ** 30)); // -2^7 * 2^23
    expect(shlSat32(256, 23)).toBe(INT32_MAX); // 2^31 does not fit
    expect(shlSat32(-256, 23)).toBe(INT32_MIN); // -2^31 fits exactly
    expect(shlSat32(-257, 23)).toBe(INT32_MIN);
    expect(synContrib(-3, 200, 4)).toBe(-9600); // -3*200*16
    expect(synContrib(32767, 255, 23)).toBe(INT32_MAX);
    expect(synContrib(-32768, 255, 23)).toBe(INT32_MIN);
    // multiply-then-shift-then-saturate: 100*255 = 25500, * 2^16 = 1671168000 fits, while
    // 255 * sat(100 << 16) would be computed differently only if the per-spike value saturated.
    expect(synContrib(100, 255, 16)).toBe(1671168000);
  });
});

describe("leak forms", () => {
  it("shift leak rounds the leaked value toward +inf: positives stick below 2^k, negatives reach 0", () => {
    // k=1: 5 -> 5-2=3 -> 3-1=2 -> 2-1=1 -> 1-0=1
    const pos = [5];
    for (let s = 0; s < 4; s++) pos.push(leakShift(pos[pos.length - 1]!, 1));
    expect(pos).toEqual([5, 3, 2, 1, 1]);
    // k=1: -5 -> -5-(-3)=-2 -> -2-(-1)=-1 -> -1-(-1)=0
    const neg = [-5];
    for (let s = 0; s < 3; s++) neg.push(leakShift(neg[neg.length - 1]!, 1));
    expect(neg).toEqual([-5, -2, -1, 0]);
    // k=2: -7 -> -5 -> -3 -> -2 -> -1 -> 0 ; 7 -> 6 -> 5 -> 4 -> 3 -> 3
    const n2 = [-7];
    for (let s = 0; s < 5; s++) n2.push(leakShift(n2[n2.length - 1]!, 2));
    expect(n2).toEqual([-7, -5, -3, -2, -1, 0]);
    const p2 = [7];
    for (let s = 0; s < 5; s++) p2.push(leakShift(p2[p2.length - 1]!, 2));
    expect(p2).toEqual([7, 6, 5, 4, 3, 3]);
    expect(leakShift(-123, 0)).toBe(-123); // k=0: no leak
    expect(leakShift(INT32_MIN, 1)).toBe(-1073741824); // -2^31 - (-2^30)
    expect(leakShift(INT32_MAX, 1)).toBe(1073741824); // (2^31-1) - (2^30-1)
    expect(leakShift(-1, 31)).toBe(0);
  });

  it("current decay with k=0 wipes the current", () => {
    expect(currentDecay(12345, 0)).toBe(0);
    expect(currentDecay(-12345, 0)).toBe(0);
    expect(currentDecay(40, 1)).toBe(20);
    expect(currentDecay(-1, 3)).toBe(0);
  });

  it("Q15 multiply floors: positives reach 0, small negatives stay", () => {
    // a=16384 (one half): 5 -> floor(2.5)=2 -> 1 -> floor(0.5)=0
    expect([q15Mul(5, 16384), q15Mul(2, 16384), q15Mul(1, 16384)]).toEqual([2, 1, 0]);
    // -5 -> floor(-2.5)=-3 -> floor(-1.5)=-2 -> -1 -> floor(-0.5)=-1 (fixed point)
    expect([q15Mul(-5, 16384), q15Mul(-3, 16384), q15Mul(-2, 16384), q15Mul(-1, 16384)]).toEqual([-3, -2, -1, -1]);
    expect(q15Mul(100, 32767)).toBe(99); // floor(3276700/32768) = floor(99.997)
    expect(q15Mul(-100, 32767)).toBe(-100); // floor(-99.997)
    expect(q15Mul(INT32_MIN, 32767)).toBe(-2147418112); // -2^16 * 32767
    expect(q15Mul(INT32_MAX, 32767)).toBe(2147418111); // floor((2^31-1)*32767/2^15)
    expect(q15Mul(-77, 0)).toBe(0);
  });

  it("clamps from below", () => {
    expect(clampMin(-10, -5)).toBe(-5);
    expect(clampMin(3, -5)).toBe(3);
    expect(clampMin(INT32_MIN, INT32_MIN)).toBe(INT32_MIN);
  });
});

describe("int4 unpacking", () => {
  it("reads nibbles as two's complement, low nibble first", () => {
    expect([0, 7, 8, 9, 15].map(int4FromNibble)).toEqual([0, 7, -8, -7, -1]);
    const packed = new Uint8Array([0x9f, 0x70, 0x08]);
    // byte 0x9F: low 0xF = -1, high 0x9 = -7; 0x70: low 0 = 0, high 7 = 7; 0x08: low 8 = -8, high 0
    expect([0, 1, 2, 3, 4, 5].map((q) => int4At(packed, q))).toEqual([-1, -7, 0, 7, -8, 0]);
  });
});

describe("hoisted synaptic primitives (spec/ops.md §12.1)", () => {
  it("mulSat32(w, synScale(value, shift)) is synContrib(w, value, shift), saturation included", () => {
    for (const w of [-32768, -32767, -129, -8, -1, 0, 1, 7, 127, 32767]) {
      for (const value of [1, 2, 254, 255]) {
        for (const shift of [0, 1, 7, 15, 16, 22, 23]) {
          expect(synScale(value, shift)).toBe(value * 2 ** shift);
          expect(mulSat32(w, synScale(value, shift))).toBe(synContrib(w, value, shift));
        }
      }
    }
    expect(mulSat32(-32768, synScale(255, 23))).toBe(INT32_MIN);
    expect(mulSat32(32767, synScale(255, 23))).toBe(INT32_MAX);
  });

  it("the exact forms equal the saturating ones inside int32", () => {
    expect(addExact32(INT32_MAX - 5, 5)).toBe(satAdd32(INT32_MAX - 5, 5));
    expect(addExact32(INT32_MIN + 5, -5)).toBe(satAdd32(INT32_MIN + 5, -5));
    expect(mulExact32(-127, synScale(1, 23))).toBe(mulSat32(-127, synScale(1, 23)));
  });
});
