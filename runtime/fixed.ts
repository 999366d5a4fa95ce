/**
 * The integer primitives of spec/ops.md §2, one function per operation. Every kernel (the
 * interpreter here, the generated TS kernels, and the C kernels) spells its arithmetic with these
 * and nothing else: no bare signed `>>`, `/` or `%` on state. Each function's doc names its C twin
 * (firmware/include/ps_fixed.h), which must give the same result for every input in its domain.
 *
 * Arguments are JS numbers holding exact integers. Domains are stated per function; intermediate
 * values never exceed 2^47 in magnitude, so double arithmetic is exact (the C side uses int64_t).
 * Nothing here wraps: where spec/ops.md says "saturate", the result is clamped to int32.
 */

/** Smallest int32, -2^31. C: `INT32_MIN`. */
export const INT32_MIN = -2147483648;
/** Largest int32, 2^31 - 1. C: `INT32_MAX`. */
export const INT32_MAX = 2147483647;

/**
 * Clamps an exact integer (|x| < 2^53) to the int32 range.
 * C: `int32_t ps_sat32(int64_t x)`.
 */
export function sat32(x: number): number {
  return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x;
}

/**
 * Saturating int32 addition: the exact sum a + b clamped to [INT32_MIN, INT32_MAX].
 * C: `int32_t ps_sat_add32(int32_t a, int32_t b)` (sum computed in int64_t).
 */
export function satAdd32(a: number, b: number): number {
  const s = a + b;
  return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : s;
}

/**
 * Saturating int32 subtraction: the exact difference a - b clamped to int32.
 * C: `int32_t ps_sat_sub32(int32_t a, int32_t b)`.
 */
export function satSub32(a: number, b: number): number {
  const s = a - b;
  return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : s;
}

/**
 * Arithmetic right shift of an int32 rounding toward minus infinity: floor(x / 2^k), k in 0..31.
 * JS `>>` on an int32 is exactly this. C: `int32_t ps_shr_floor32(int32_t x, unsigned k)`, written
 * without relying on implementation-defined signed `>>` (`x < 0 ? ~(~x >> k) : x >> k`).
 */
export function shrFloor32(x: number, k: number): number {
  return x >> k;
}

/**
 * Floor division by 2^k of an exact integer product (|x| < 2^47), k in 0..31: floor(x / 2^k).
 * Division by a power of two is exact in doubles, so Math.floor gives the floor.
 * C: `int64_t ps_shr_floor64(int64_t x, unsigned k)`.
 */
export function shrFloor64(x: number, k: number): number {
  return Math.floor(x / 2 ** k) + 0; // + 0 turns -0 into 0
}

/**
 * Saturating left shift: x * 2^s clamped to int32, for |x| <= 2^23 and s in 0..23 (so the exact
 * product stays below 2^47). C: `int32_t ps_shl_sat32(int32_t x, unsigned s)` (int64_t multiply;
 * never a `<<` of a negative value, which C leaves undefined).
 */
export function shlSat32(x: number, s: number): number {
  return sat32(x * 2 ** s);
}

/**
 * Synaptic contribution of one event (spec/ops.md §3.1): (w * value) << shift, saturated to int32.
 * w is the stored weight (int4/int8/int16 range), value the event value 1..255, shift 0..23;
 * |w * value| <= 32768 * 255 < 2^23, so the shift stays exact before saturation.
 * C: `int32_t ps_syn_contrib(int32_t w, uint32_t value, unsigned shift)`.
 */
export function synContrib(w: number, value: number, shift: number): number {
  return sat32(w * value * 2 ** shift);
}

/**
 * Membrane shift leak (spec/ops.md §4.2): k = 0 means no leak, otherwise v - floor(v / 2^k).
 * Never overflows (the result lies between v and 0). Rounds the leaked value toward +infinity:
 * positive v in 1..2^k-1 stays put, negative v reaches 0.
 * C: `int32_t ps_leak_shift(int32_t v, unsigned k)`.
 */
export function leakShift(v: number, k: number): number {
  return k === 0 ? v : v - (v >> k);
}

/**
 * Synaptic current decay of `cuba` neurons (spec/ops.md §4.4): i - floor(i / 2^k), k in 0..31.
 * Unlike leakShift, k = 0 is not special: i - i = 0, so the current does not persist.
 * C: `int32_t ps_current_decay(int32_t i, unsigned k)`.
 */
export function currentDecay(i: number, k: number): number {
  return i - (i >> k);
}

/**
 * Q15 multiply rounding toward minus infinity (spec/ops.md §4.3): floor(v * a / 2^15) for v int32
 * and a in 0..32767. |v * a| < 2^46 (exact); the result lies between v and 0 or is -1.
 * C: `int32_t ps_q15_mul(int32_t v, int32_t a)` (int64_t product, ps_shr_floor64).
 */
export function q15Mul(v: number, a: number): number {
  // `| 0` is exact here (the result is int32) and turns floor's -0 into 0.
  return Math.floor((v * a) / 32768) | 0;
}

/**
 * Spikes a multi-spike neuron emits (spec/ops.md §4.9): min(floor(v / theta), 255), for v >= theta >= 1.
 * C: `uint32_t ps_spike_count(int32_t v, int32_t theta)`.
 */
export function spikeCount(v: number, theta: number): number {
  return Math.min(Math.floor(v / theta), 255);
}

/**
 * The membrane after n spikes of a multi-spike neuron (spec/ops.md §4.9): v − n·theta, for n·theta <= v
 * (exact: the result lies in 0..v). C: `int32_t ps_sub_count(int32_t v, uint32_t n, int32_t theta)`.
 */
export function subCount(v: number, n: number, theta: number): number {
  return v - n * theta;
}

/**
 * Lower clamp (the `vMin` rule): max(v, lo).
 * C: `int32_t ps_clamp_min(int32_t v, int32_t lo)`.
 */
export function clampMin(v: number, lo: number): number {
  return v < lo ? lo : v;
}

/**
 * A 4-bit two's complement nibble (0..15) as a signed weight -8..7: nibbles 8..15 are -8..-1.
 * C: `int32_t ps_int4(uint8_t nibble)`.
 */
export function int4FromNibble(nibble: number): number {
  return ((nibble & 15) ^ 8) - 8;
}

/**
 * The q-th int4 weight of packed data (two per byte, low nibble first): weight 2m is the low nibble
 * of byte m, weight 2m+1 the high nibble. C: `int32_t ps_int4_at(const uint8_t *data, uint32_t q)`.
 */
export function int4At(data: Uint8Array, q: number): number {
  const byte = data[q >>> 1] ?? 0;
  return int4FromNibble((q & 1) === 0 ? byte : byte >>> 4);
}

/**
 * Saturate to int16 (plasticity traces and eligibility, spec/ops.md §11): min(max(x, −32768), 32767).
 * C: `int32_t ps_sat16(int32_t x)`.
 */
export function sat16(x: number): number {
  return x < -32768 ? -32768 : x > 32767 ? 32767 : x;
}

/**
 * Trace decay toward zero (spec/ops.md §11): x − sign(x)·ceil(|x| / 2^k), i.e. the magnitude is
 * multiplied by (1 − 2^−k) and rounded down, so every trace reaches exactly 0 (unlike leakShift,
 * whose positive values below 2^k never decay). x in int16 range, k 0..15 (k = 0 gives 0).
 * C: `int32_t ps_trace_decay(int32_t x, unsigned k)`.
 */
export function traceDecay(x: number, k: number): number {
  const round = (1 << k) - 1;
  return x >= 0 ? x - ((x + round) >> k) : x + ((round - x) >> k);
}

/**
 * Product of two int16-range values (|a·b| ≤ 2^30, exact in int32; spec/ops.md §11).
 * C: `int32_t ps_mul16(int32_t a, int32_t b)`.
 */
export function mul16(a: number, b: number): number {
  return Math.imul(a, b);
}

/**
 * Range clamp (the plasticity weight bounds): min(max(x, lo), hi) for lo ≤ hi.
 * C: `int32_t ps_clamp(int32_t x, int32_t lo, int32_t hi)`.
 */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/**
 * Scale of one event (spec/ops.md §12.1): value * 2^shift for value 1..255 and shift 0..23, so the
 * result is below 2^31. Hoisted out of the synapse loop: mulSat32(w, synScale(value, shift)) equals
 * synContrib(w, value, shift). C: `int32_t ps_syn_scale(uint32_t value, unsigned shift)`.
 */
export function synScale(value: number, shift: number): number {
  return value * (1 << shift);
}

/**
 * sat32(w * scale) for w in the int16 range (or |w| <= 32768) and 0 <= scale < 2^31: the product
 * stays below 2^47, exact in doubles. C: `int32_t ps_mul_sat32(int32_t w, int32_t scale)` (int64_t).
 */
export function mulSat32(w: number, scale: number): number {
  return sat32(w * scale);
}

/**
 * a + b where a load-time proof (spec/ops.md §12.1) guarantees the sum is an int32; equal to
 * satAdd32(a, b) under that proof. C: `int32_t ps_add_exact32(int32_t a, int32_t b)` (a plain add).
 */
export function addExact32(a: number, b: number): number {
  return a + b;
}

/**
 * w * scale where a load-time proof (spec/ops.md §12.1) guarantees the product is an int32; equal to
 * mulSat32(w, scale) under that proof. C: `int32_t ps_mul_exact32(int32_t w, int32_t scale)`.
 */
export function mulExact32(w: number, scale: number): number {
  return w * scale;
}

/**
 * Steps between a stamp and now, modulo 2^32 (event-timed plasticity, spec/ops.md §11.5): both are
 * uint32 step counters, so the age stays right across the counter's wrap. C: `uint32_t ps_age(uint32_t now, uint32_t then)`.
 */
export function age(now: number, then: number): number {
  return (now - then) >>> 0;
}

/**
 * Decay over `steps` steps by the binary schedule `factors` (spec/ops.md §11.5): for each set bit i
 * of `steps`, lowest first, x = sign(x)·floor(|x|·factors[i] / 2^15); 0 when steps ≥ 2^16. x int16
 * range, factors 16 entries in 0..32767 (so |x|·factor < 2^30). Symmetric, and never moves away from 0.
 * C: `int32_t ps_decay_by(const uint16_t *factors, int32_t x, uint32_t steps)`.
 */
export function decayBy(factors: Uint16Array, x: number, steps: number): number {
  if (steps >= 65536) return 0;
  const negative = x < 0;
  let m = negative ? -x : x;
  for (let i = 0; steps !== 0 && m !== 0; i++, steps >>>= 1) {
    if ((steps & 1) !== 0) m = (m * factors[i]!) >>> 15;
  }
  return negative ? -m : m;
}

/**
 * The binary decay schedule of a decay shift k (1..15, spec/ops.md §11.5): factors[0] = 2^15 − 2^(15−k)
 * (one step multiplies by 1 − 2^−k), factors[i+1] = floor(factors[i]^2 / 2^15) (2^(i+1) steps).
 * C: `void ps_decay_factors(uint16_t factors[16], unsigned k)`.
 */
export function decayFactors(k: number): Uint16Array {
  const f = new Uint16Array(16);
  f[0] = 32768 - (1 << (15 - k));
  for (let i = 1; i < 16; i++) f[i] = (f[i - 1]! * f[i - 1]!) >>> 15;
  return f;
}
