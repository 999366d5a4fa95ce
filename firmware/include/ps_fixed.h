/*
 * The integer primitives of spec/ops.md §3, hand-written once for C99 (their TypeScript twins are in
 * runtime/fixed.ts; the same name in snake case with a ps_ prefix). Every kernel spells its
 * arithmetic with these and nothing else. Intermediates wider than int32 are int64_t; nothing relies
 * on implementation-defined or undefined behaviour (no `>>` of a negative value, no `<<` of a
 * negative value, no signed overflow).
 */
#ifndef PS_FIXED_H
#define PS_FIXED_H

#include <stdint.h>

/** min(max(x, INT32_MIN), INT32_MAX). */
static inline int32_t ps_sat32(int64_t x)
{
    return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : (int32_t)x;
}

/** sat32(a + b). */
static inline int32_t ps_sat_add32(int32_t a, int32_t b)
{
    return ps_sat32((int64_t)a + (int64_t)b);
}

/** sat32(a - b). */
static inline int32_t ps_sat_sub32(int32_t a, int32_t b)
{
    return ps_sat32((int64_t)a - (int64_t)b);
}

/** floor(x / 2^k), k 0..31, without the implementation-defined `>>` of a negative value. */
static inline int32_t ps_shr_floor32(int32_t x, unsigned k)
{
    /* ~x is non-negative when x < 0, and floor(x / 2^k) = ~(~x >> k) for negative x. */
    return x < 0 ? (int32_t)~(~x >> k) : (int32_t)(x >> k);
}

/** floor(x / 2^k) of an int64 (|x| < 2^47), k 0..31. */
static inline int64_t ps_shr_floor64(int64_t x, unsigned k)
{
    return x < 0 ? ~(~x >> k) : x >> k;
}

/** sat32(x * 2^s) for |x| <= 2^23, s 0..23 (a multiply: `<<` of a negative value is undefined). */
static inline int32_t ps_shl_sat32(int32_t x, unsigned s)
{
    return ps_sat32((int64_t)x * ((int64_t)1 << s));
}

/** Synaptic contribution sat32(w * value * 2^shift) (spec/ops.md §3.1); w int16 range, value 1..255, shift 0..23. */
static inline int32_t ps_syn_contrib(int32_t w, uint32_t value, unsigned shift)
{
    return ps_sat32((int64_t)w * (int64_t)value * ((int64_t)1 << shift));
}

/** Shift leak (spec/ops.md §4.2): k = 0: v; else v - floor(v / 2^k). Never overflows. */
static inline int32_t ps_leak_shift(int32_t v, unsigned k)
{
    return k == 0u ? v : v - ps_shr_floor32(v, k);
}

/** Current decay (spec/ops.md §4.4): i - floor(i / 2^k); k = 0 gives 0. Never overflows. */
static inline int32_t ps_current_decay(int32_t i, unsigned k)
{
    return i - ps_shr_floor32(i, k);
}

/** Q15 multiply (spec/ops.md §4.3): floor(v * a / 2^15), a 0..32767. */
static inline int32_t ps_q15_mul(int32_t v, int32_t a)
{
    return (int32_t)ps_shr_floor64((int64_t)v * (int64_t)a, 15u);
}

/** Spikes of a multi-spike neuron: min(floor(v / theta), 255), for v >= theta >= 1 (spec/ops.md §4.9). */
static inline uint32_t ps_spike_count(int32_t v, int32_t theta)
{
    uint32_t n = (uint32_t)v / (uint32_t)theta;
    return n < 255u ? n : 255u;
}

/** v - n * theta for n * theta <= v (spec/ops.md §4.9): exact, the result lies in 0..v. */
static inline int32_t ps_sub_count(int32_t v, uint32_t n, int32_t theta)
{
    return (int32_t)((int64_t)v - (int64_t)n * (int64_t)theta);
}

/** max(v, lo). */
static inline int32_t ps_clamp_min(int32_t v, int32_t lo)
{
    return v < lo ? lo : v;
}

/** A 4-bit two's complement nibble (0..15) as -8..7. */
static inline int32_t ps_int4(uint8_t nibble)
{
    return (int32_t)((unsigned)nibble & 15u) - (((unsigned)nibble & 8u) != 0u ? 16 : 0);
}

/** The q-th packed int4 weight (spec/ops.md §5.1): low nibble of byte q/2 for even q, high nibble for odd q. */
static inline int32_t ps_int4_at(const uint8_t *data, uint32_t q)
{
    uint8_t byte = data[q >> 1];
    return ps_int4((q & 1u) == 0u ? byte : (uint8_t)(byte >> 4));
}

/** Event scale value * 2^shift (spec/ops.md §12.1), value 1..255, shift 0..23: below 2^31. */
static inline int32_t ps_syn_scale(uint32_t value, unsigned shift)
{
    return (int32_t)(value << shift);
}

/** sat32(w * scale), |w| <= 32768, 0 <= scale < 2^31; ps_mul_sat32(w, ps_syn_scale(v, s)) == ps_syn_contrib(w, v, s). */
static inline int32_t ps_mul_sat32(int32_t w, int32_t scale)
{
    return ps_sat32((int64_t)w * (int64_t)scale);
}

/** a + b when a load-time proof (spec/ops.md §12.1) guarantees the sum fits int32: a plain add. */
static inline int32_t ps_add_exact32(int32_t a, int32_t b)
{
    return a + b;
}

/** w * scale when a load-time proof (spec/ops.md §12.1) guarantees the product fits int32: a plain multiply. */
static inline int32_t ps_mul_exact32(int32_t w, int32_t scale)
{
    return w * scale;
}

/** int16 saturation (spec/ops.md §11): min(max(x, -32768), 32767). */
static inline int32_t ps_sat16(int32_t x)
{
    return x < -32768 ? -32768 : (x > 32767 ? 32767 : x);
}

/** Trace decay toward zero (spec/ops.md §11): x - sign(x) * ceil(|x| / 2^k); x int16 range, k 0..15. */
static inline int32_t ps_trace_decay(int32_t x, unsigned k)
{
    int32_t round = (int32_t)((1u << k) - 1u);
    return x >= 0 ? x - ((x + round) >> k) : x + ((round - x) >> k);
}

/** Product of two int16-range values (|a * b| <= 2^30, exact in int32). */
static inline int32_t ps_mul16(int32_t a, int32_t b)
{
    return a * b;
}

/** min(max(x, lo), hi) for lo <= hi. */
static inline int32_t ps_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/** One xorshift32 step (spec/ops.md §8) on a nonzero state; returns the new state. */
static inline uint32_t ps_xorshift32_next(uint32_t *state)
{
    uint32_t s = *state;
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    *state = s;
    return s;
}

/** Steps from `then` to `now`, modulo 2^32 (event-timed plasticity, spec/ops.md §11.5). */
static inline uint32_t ps_age(uint32_t now, uint32_t then)
{
    return now - then;
}

/** Decay of x (int16 range) over `steps` steps by the binary schedule `factors` (spec/ops.md §11.5):
 * per set bit i of steps, lowest first, |x| = floor(|x| * factors[i] / 2^15); 0 when steps >= 2^16. */
static inline int32_t ps_decay_by(const uint16_t *factors, int32_t x, uint32_t steps)
{
    uint32_t m = x < 0 ? (uint32_t)(-x) : (uint32_t)x;
    unsigned i = 0u;
    if (steps >= 65536u) {
        return 0;
    }
    while (steps != 0u && m != 0u) {
        if ((steps & 1u) != 0u) {
            m = (m * (uint32_t)factors[i]) >> 15;
        }
        steps >>= 1;
        i++;
    }
    return x < 0 ? -(int32_t)m : (int32_t)m;
}

/** The binary decay schedule of shift k (1..15): factors[0] = 2^15 - 2^(15-k), factors[i+1] = floor(factors[i]^2 / 2^15). */
static inline void ps_decay_factors(uint16_t *factors, unsigned k)
{
    factors[0] = (uint16_t)(32768u - (1u << (15u - k)));
    for (unsigned i = 1u; i < 16u; i++) {
        factors[i] = (uint16_t)(((uint32_t)factors[i - 1u] * (uint32_t)factors[i - 1u]) >> 15);
    }
}

#endif /* PS_FIXED_H */
