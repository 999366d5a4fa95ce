#ifndef PS_PLASTIC_FAST_H
#define PS_PLASTIC_FAST_H

/*
 * Event-timed R-STDP (spec/ops.md §11.5) in C: the eligibility updates of the depression rows, the
 * potentiation columns and the rewards of a dense rstdp layer, computing the integers of the IR
 * kernels (plasticEventDepressDense, plasticEventPotentiateDense, plasticEventRewardDense) in the
 * same order with cheaper arithmetic, each step justified by the value ranges (spec/ops.md §12.2
 * item 4):
 *  - the rule (`direct`) is tested once per call, not per synapse;
 *  - decayBy is inlined, with the identity at age 0 and for x = 0 taken before the loop;
 *  - an eligibility (int16 range) minus or plus an amount in 0..32766 cannot leave int32, so the
 *    saturating int32 add is a plain add before the sat16;
 *  - an amount q15Mul of a trace and an amplitude (both 0..32767) is a non-negative product below
 *    2^30 shifted right by 15;
 *  - a reward's weight change floor(m * e / 2^learningShift) is an arithmetic right shift (GCC and
 *    clang define `>>` of a negative int as one: this header is only compiled by them) and the weight
 *    (int16 range) plus it (|.| <= 2^30 / 1) cannot leave int32, so the add before the clamp is plain.
 * test/conformance compares the kernels that call these with the TS interpreter and the reference
 * oracle on the host and on the Cortex-M4 under QEMU, event-timed plastic layers included.
 */
#include <stdint.h>

#define PS_PLASTIC_EVENT_FAST 1

/** decayBy (spec/ops.md §11.5) of x in the int16 range over `age` steps by the binary schedule f. */
__attribute__((always_inline)) static inline int32_t ps_pf_decay(const uint16_t *f, int32_t x, uint32_t age)
{
    if (age == 0u || x == 0) {
        return x;
    }
    if (age >= 65536u) {
        return 0;
    }
    uint32_t m = x < 0 ? (uint32_t)(-x) : (uint32_t)x;
    do {
        if ((age & 1u) != 0u) {
            m = (m * (uint32_t)*f) >> 15;
        }
        age >>= 1;
        f++;
    } while (age != 0u && m != 0u);
    return x < 0 ? -(int32_t)m : (int32_t)m;
}

/** min(max(x, -32768), 32767). */
__attribute__((always_inline)) static inline int32_t ps_pf_sat16(int32_t x)
{
    return x < -32768 ? -32768 : (x > 32767 ? 32767 : x);
}

/** Depression rows of an event-timed dense rstdp layer (plasticEventDepressDense with direct false). */
static inline void ps_plastic_event_depress_elig(const uint32_t *restrict pre, uint32_t n, uint32_t outputs, const int16_t *restrict postNow, int32_t aMinus,
                                                 const uint32_t *restrict preStamp, const uint32_t *restrict postStamp, uint32_t now,
                                                 const uint16_t *restrict factors, int16_t *restrict elig)
{
    for (uint32_t e = 0u; e < n; e++) {
        uint32_t p = pre[e];
        uint32_t preAge = now - preStamp[p];
        int16_t *restrict row = elig + p * outputs;
        for (uint32_t j = 0u; j < outputs; j++) {
            uint32_t postAge = now - postStamp[j];
            uint32_t age = preAge < postAge ? preAge : postAge;
            int32_t amount = ((int32_t)postNow[j] * aMinus) >> 15;
            row[j] = (int16_t)ps_pf_sat16(ps_pf_decay(factors, row[j], age) - amount);
        }
    }
}

/** Potentiation columns of an event-timed dense rstdp layer (plasticEventPotentiateDense with direct false). */
static inline void ps_plastic_event_potentiate_elig(const uint32_t *restrict fired, uint32_t n, uint32_t inputs, uint32_t outputs, const int16_t *restrict preNow,
                                                    const int32_t *restrict gain, const uint32_t *restrict preStamp, const uint32_t *restrict postStamp,
                                                    uint32_t now, const uint16_t *restrict factors, int16_t *restrict elig)
{
    for (uint32_t s = 0u; s < n; s++) {
        uint32_t j = fired[s];
        uint32_t postAge = now - postStamp[j];
        int32_t aPlus = gain[j];
        int16_t *restrict q = elig + j;
        for (uint32_t p = 0u; p < inputs; p++, q += outputs) {
            uint32_t preAge = now - preStamp[p];
            uint32_t age = preAge < postAge ? preAge : postAge;
            int32_t amount = ((int32_t)preNow[p] * aPlus) >> 15;
            *q = (int16_t)ps_pf_sat16(ps_pf_decay(factors, *q, age) + amount);
        }
    }
}

/** Every synapse's weight change by a reward's error m at step now (plasticEventRewardDense's synapse loop). */
static inline void ps_plastic_event_reward_weights(int16_t *restrict weights, const int16_t *restrict elig, uint32_t inputs, uint32_t outputs,
                                                   const uint32_t *restrict preStamp, const uint32_t *restrict postStamp, uint32_t now,
                                                   const uint16_t *restrict factors, int32_t m, uint8_t learningShift, int32_t wMin, int32_t wMax)
{
    uint32_t q = 0u;
    for (uint32_t p = 0u; p < inputs; p++) {
        uint32_t preAge = now - preStamp[p];
        for (uint32_t j = 0u; j < outputs; j++, q++) {
            uint32_t postAge = now - postStamp[j];
            int32_t e = ps_pf_decay(factors, elig[q], preAge < postAge ? preAge : postAge);
            int32_t w = (int32_t)weights[q] + ((m * e) >> learningShift);
            weights[q] = (int16_t)(w < wMin ? wMin : (w > wMax ? wMax : w));
        }
    }
}

#endif /* PS_PLASTIC_FAST_H */
