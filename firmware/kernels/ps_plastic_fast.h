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
#include <stdbool.h>
#include <stddef.h>
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

/*
 * Epoch-timed R-STDP (spec/ops.md §11.7) and the int16 working-weight fold of a plastic layer, in C,
 * computing the integers of the IR kernels (plasticEpochDense, scatterDenseW16Exact) with cheaper
 * arithmetic, each step justified by the value ranges (spec/ops.md §12.2 item 5):
 *  - traceDecay(x, k) of x in the int16 range is x - ((x + bias) >> k) with bias = 2^k - 1 for
 *    x >= 0 and 0 for x < 0 (the ceiling of a non-negative value, the floor of a negative one);
 *  - the eligibility sum traceDecay(e) - dep + pot has each term within int16 magnitude, so it is a
 *    plain int32 sum before the sat16;
 *  - the weight change floor(m * e / 2^ls) is an arithmetic right shift, and the weight plus it
 *    cannot leave int32, so the add before the clamp is plain; the clamp's common case (the weight
 *    within wMin..wMax) is one unsigned compare of w - wMin with wMax - wMin;
 *  - within the pass a set post marker is 0xFF, which read as int8 is -1: the mask of `pot`;
 *  - the fold of a step of spikes with one shift sums each output's weights over the events in
 *    int32 and scales once: §12.1's bound (over the clamp for a plastic layer) keeps every partial
 *    sum, and the scaled sum, inside int32, so any order gives the same integers.
 * test/conformance compares them with the TS interpreter and the reference oracle on the host and
 * under QEMU (Cortex-M4, M55, RV32), epoch-timed plastic layers included.
 */
#define PS_PLASTIC_EPOCH_FAST 1
/* The epoch pass and the int16 folds at -O2 under GCC, whose -Os spills their loops' registers
 * (measured on the M4: 270k instead of 327k instructions per unrewarded pass of 16,384 synapses);
 * clang has no per-function optimize attribute. */
#if defined(__GNUC__) && !defined(__clang__)
#define PS_PF_O2 __attribute__((optimize("O2")))
#else
#define PS_PF_O2
#endif
#define PS_FOLD_DENSE_I16_SPIKES 1

/** traceDecay (spec/ops.md §11.1) of x in the int16 range, shift k 1..15. */
__attribute__((always_inline)) static inline int32_t ps_pf_trace_decay(int32_t x, uint32_t k)
{
    int32_t bias = (int32_t)(((1u << k) - 1u) & ~(uint32_t)(x >> 31));
    return x - ((x + bias) >> k);
}

/** sat16 of x (one instruction where the core has SSAT). */
__attribute__((always_inline)) static inline int32_t ps_pf_ssat16(int32_t x)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    int32_t out;
    __asm__("ssat %0, #16, %1" : "=r"(out) : "r"(x));
    return out;
#else
    return x > 32767 ? 32767 : (x < -32768 ? -32768 : x);
#endif
}

/* One synapse j of a row in the epoch pass (plasticEpochDense's inner loop), as a statement: the new
 * eligibility v from e[j], the row's potentiation `pot` where postMark[j] is set (0xFF within the pass), and DEP (the row's
 * depression term, 0 for an unmarked pre neuron); REWARD moves the weight by m times it, and W8 also
 * writes the new weight to the row's int8 copy w8r. */
#define PS_PF_EPOCH_SYNAPSE(DEP, REWARD, W8)                                               \
    do {                                                                                   \
        int32_t x0 = e[j];                                                                 \
        int32_t v = x0 - ((x0 + (int32_t)(mask & ~(uint32_t)(x0 >> 31))) >> k);           \
        v = ps_pf_ssat16(v + (pot & (int32_t)(int8_t)postMark[j]) - (DEP));                \
        e[j] = (int16_t)v;                                                                 \
        if (REWARD) {                                                                      \
            int32_t nw = (int32_t)w[j] + ((m * v) >> ls);                                  \
            if ((uint32_t)(nw - wMin) > span) {                                            \
                nw = nw < wMin ? wMin : wMax;                                              \
            }                                                                              \
            w[j] = (int16_t)nw;                                                            \
            if (W8) {                                                                      \
                w8r[j] = (int8_t)nw;                                                       \
            }                                                                              \
        }                                                                                  \
    } while (0)

/* The row loop of the epoch pass over j < outputs, one synapse per iteration. */
#define PS_PF_EPOCH_ROW(DEP, REWARD, W8)                                                   \
    for (uint32_t j = 0u; j < outputs; j++) {                                              \
        PS_PF_EPOCH_SYNAPSE(DEP, REWARD, W8);                                              \
    }

/**
 * The end of an epoch of a dense rstdp layer (plasticEpochDense with direct false, its markers set
 * to 0 or 1): m is the reward's error sat16(R - b), `rewarded` whether R is not 0; w8, when not NULL,
 * is the int8 copy of the weights, written where a weight is; the caller moves the baseline. Skips
 * the rows of spec/ops.md §11.7's row skip, keeping rowBound (a bound on |e| over each row) as the
 * IR kernel does; returns the rows visited.
 */
PS_PF_O2 static inline uint32_t ps_plastic_epoch_rstdp(uint8_t *restrict preMark, uint8_t *restrict postMark, uint32_t inputs, uint32_t outputs,
                                                       int16_t *restrict preTrace, int16_t *restrict postTrace, int32_t *restrict depAmt, uint8_t preShift,
                                                       uint8_t postShift, uint8_t eligShift, int32_t increment, int32_t aPlus, int32_t aMinus, bool rewarded,
                                                       int32_t m, int16_t *restrict weights, int16_t *restrict elig, uint8_t learningShift, int32_t wMin,
                                                       int32_t wMax, uint16_t *restrict rowBound, int8_t *restrict w8)
{
    const uint32_t k = eligShift;
    const uint32_t mask = (1u << eligShift) - 1u;
    const uint32_t ls = learningShift;
    /* the clamp's common case, one unsigned compare: wMin <= nw <= wMax iff (nw - wMin) as unsigned <= wMax - wMin
     * (|nw| < 2^31 - 2^16 and wMin..wMax inside int16, so nw - wMin does not overflow) */
    const uint32_t span = (uint32_t)(wMax - wMin);
    int32_t dMax = 0;
    uint32_t anyPost = 0u;
    for (uint32_t j = 0u; j < outputs; j++) {
        int32_t y = ps_pf_trace_decay(postTrace[j], postShift);
        postTrace[j] = (int16_t)y;
        int32_t d = (y * aMinus) >> 15;
        depAmt[j] = d;
        dMax = d > dMax ? d : dMax;
        /* within the pass a set marker is 0xFF, which reads as int8 -1: the potentiation mask of column j */
        uint8_t mark = (uint8_t)(0u - postMark[j]);
        postMark[j] = mark;
        anyPost |= mark;
    }
    uint32_t visited = 0u;
    for (uint32_t p = 0u; p < inputs; p++) {
        int32_t x = ps_pf_trace_decay(preTrace[p], preShift);
        bool marked = preMark[p] != 0u;
        if (marked) {
            x = ps_pf_ssat16(x + increment);
            preMark[p] = 0u;
        }
        preTrace[p] = (int16_t)x;
        int32_t pot = (x * aPlus) >> 15;
        int32_t potRow = anyPost != 0u ? pot : 0;
        int32_t depRow = marked ? dMax : 0;
        int32_t bound = rowBound[p];
        if ((depRow | potRow | bound) == 0) {
            continue; /* §11.7 row skip: every e of the row is 0 and stays 0, no weight moves */
        }
        visited++;
        /* the bound decays as the largest |e| would, and grows by the largest pairing terms */
        bound = bound - ((bound + (int32_t)mask) >> k) + depRow + potRow;
        rowBound[p] = (uint16_t)(bound > 32768 ? 32768 : bound);
        int16_t *restrict e = elig + p * outputs;
        int16_t *restrict w = weights + p * outputs;
        int8_t *restrict w8r = w8 != NULL ? w8 + p * outputs : NULL;
        /* the row loops, so the tests stay out of the inner loop */
        if (rewarded) {
            if (w8r != NULL) {
                if (marked) {
                    PS_PF_EPOCH_ROW(depAmt[j], 1, 1)
                } else {
                    PS_PF_EPOCH_ROW(0, 1, 1)
                }
            } else if (marked) {
                PS_PF_EPOCH_ROW(depAmt[j], 1, 0)
            } else {
                PS_PF_EPOCH_ROW(0, 1, 0)
            }
        } else if (marked) {
            PS_PF_EPOCH_ROW(depAmt[j], 0, 0)
        } else {
            PS_PF_EPOCH_ROW(0, 0, 0)
        }
    }
    for (uint32_t j = 0u; j < outputs; j++) {
        if (postMark[j] != 0u) {
            postTrace[j] = (int16_t)ps_pf_ssat16((int32_t)postTrace[j] + increment);
            postMark[j] = 0u;
        }
    }
    return visited;
}

/** Two int16 weights from one 32-bit load (little-endian: the first in the low half). */
__attribute__((always_inline)) static inline uint32_t ps_pf_pair(const int16_t *at)
{
    uint32_t word;
    __builtin_memcpy(&word, at, 4u);
    return word;
}

/**
 * acc[j] += scale * (the sum of w[rows[e] * outputs + j] over e < n), four outputs at a time in
 * registers from two 32-bit loads per row (two weights each: low half sign-extended, high half by an
 * arithmetic shift); returns n * outputs. Rows must start 4-byte aligned (ps_fold_dense_i16_fits).
 */
PS_PF_O2 static inline uint32_t ps_fold_dense_i16_spikes(const uint32_t *restrict rows, uint32_t n, const int16_t *restrict w, uint32_t outputs, int32_t scale,
                                                int32_t *restrict acc)
{
    uint32_t j = 0u;
    for (; j + 4u <= outputs; j += 4u) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        const int16_t *col = w + j;
        for (uint32_t e = 0u; e < n; e++) {
            const int16_t *r = col + rows[e] * outputs;
            uint32_t p0 = ps_pf_pair(r), p1 = ps_pf_pair(r + 2);
            a0 += (int16_t)p0;
            a1 += (int32_t)p0 >> 16;
            a2 += (int16_t)p1;
            a3 += (int32_t)p1 >> 16;
        }
        acc[j] += scale * a0;
        acc[j + 1u] += scale * a1;
        acc[j + 2u] += scale * a2;
        acc[j + 3u] += scale * a3;
    }
    for (; j < outputs; j++) {
        int32_t a = 0;
        for (uint32_t e = 0u; e < n; e++) {
            a += w[rows[e] * outputs + j];
        }
        acc[j] += scale * a;
    }
    return n * outputs;
}

/**
 * The graded twin of ps_fold_dense_i16_spikes: acc[j] += scale * (the sum of w[rows[e] * outputs + j] *
 * values[e] over e < n), with scale = 2^shift for the whole step (one shift for the layer).
 */
PS_PF_O2 static inline uint32_t ps_fold_dense_i16_graded(const uint32_t *restrict rows, const uint8_t *restrict values, uint32_t n, const int16_t *restrict w,
                                                uint32_t outputs, int32_t scale, int32_t *restrict acc)
{
    uint32_t j = 0u;
    for (; j + 4u <= outputs; j += 4u) {
        int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
        const int16_t *col = w + j;
        for (uint32_t e = 0u; e < n; e++) {
            const int16_t *r = col + rows[e] * outputs;
            int32_t v = values[e];
            uint32_t p0 = ps_pf_pair(r), p1 = ps_pf_pair(r + 2);
            a0 += (int16_t)p0 * v;
            a1 += ((int32_t)p0 >> 16) * v;
            a2 += (int16_t)p1 * v;
            a3 += ((int32_t)p1 >> 16) * v;
        }
        acc[j] += scale * a0;
        acc[j + 1u] += scale * a1;
        acc[j + 2u] += scale * a2;
        acc[j + 3u] += scale * a3;
    }
    for (; j < outputs; j++) {
        int32_t a = 0;
        for (uint32_t e = 0u; e < n; e++) {
            a += w[rows[e] * outputs + j] * (int32_t)values[e];
        }
        acc[j] += scale * a;
    }
    return n * outputs;
}

/** True when ps_fold_dense_i16_spikes applies: a little-endian core, rows of an even number of outputs from a 4-byte aligned start. */
static inline int ps_fold_dense_i16_fits(const int16_t *w, uint32_t outputs)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return ((uintptr_t)w & 3u) == 0u && (outputs & 1u) == 0u && outputs >= 4u;
#else
    (void)w;
    (void)outputs;
    return 0;
#endif
}

#endif /* PS_PLASTIC_FAST_H */
