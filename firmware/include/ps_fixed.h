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

/*
 * Tiled spike fold of a dense int8 connection (spec/ops.md §12.2). On a step of spikes every event
 * has the same scale (1 << shift), so under the accumulation bound of §12.1 the exact fold
 *     for each event e, for each j: acc[j] = acc[j] + w[pre[e]][j] * scale
 * equals acc[j] + scale * (sum over e of w[pre[e]][j]): the same integers, with no int32 overflow in
 * either order. The sums are formed a tile of PS_FOLD_TILE outputs at a time: on cores with the DSP
 * extension (__ARM_FEATURE_DSP, Cortex-M4/M7) as packed int16 pairs on the stack, 8 weights per
 * SXTB16/SADD16 round, in chunks of at most 256 events (|sum| <= 128 * 256 fits int16); on ARMv6-M
 * (Cortex-M0) as int32 sums, 16 weights per LDM/STM round over word-aligned rows (else plain C), 64
 * outputs on the stack, or 256 in .bss when the build defines PS_FOLD_SUMS_STATIC (1 KB of RAM).
 * Only the exact scatter kernel calls it, and only when its §12.1 proof holds. Elsewhere
 * PS_FOLD_DENSE_I8_SPIKES stays undefined and the kernel runs its plain loop.
 */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && (defined(__ARM_FEATURE_DSP) || defined(__ARM_ARCH_6M__))
/* Only where it was measured to pay: on the host (x86-64 gcc -O2) the kernel's plain loop is as fast. */
#define PS_FOLD_DENSE_I8_SPIKES 1
#if defined(__ARM_FEATURE_DSP)
#define PS_FOLD_TILE 128u /* 256 bytes of int16 sums on the stack */
#elif defined(PS_FOLD_SUMS_STATIC)
#define PS_FOLD_TILE 256u /* opt-in: 1 KB of int32 sums in .bss, fewer tiles per event (cheaper per synaptic event) */
#else
#define PS_FOLD_TILE 64u /* 256 bytes of int32 sums on the stack (a Cortex-M0 stack is small) */
#endif

#if defined(__ARM_ARCH_6M__) && defined(__GNUC__) && defined(__OPTIMIZE__)
/**
 * ARMv6-M: sums[q] += w[rows[e] * outputs + q] (int8, rows word-aligned) for e < n and q < count, a
 * multiple of 16. Out of line: the loop needs every low register.
 */
static __attribute__((noinline)) void ps_fold_rows8_m0(const uint32_t *rows, uint32_t n, const int8_t *w, uint32_t outputs, int32_t *sums, uint32_t count)
{
  for (uint32_t e = 0u; e < n; e++) {
    const int8_t *row = w + rows[e] * outputs;
    int32_t *at = sums;
    int32_t *end = sums + count;
    uint32_t w0;
    uint32_t t0;
    /* Thumb-1 LDM always writes the base back unless it is in the list: load with !, step back, store with ! */
#define PS_FOLD_GROUP4 \
    "ldm %[row]!, {%[w0]}\n\t" \
    "ldm %[at]!, {r0, r1, r2, r3}\n\t" \
    "sxtb %[t0], %[w0]\n\t" \
    "adds r0, r0, %[t0]\n\t" \
    "asrs %[t0], %[w0], #8\n\t" \
    "sxtb %[t0], %[t0]\n\t" \
    "adds r1, r1, %[t0]\n\t" \
    "asrs %[t0], %[w0], #16\n\t" \
    "sxtb %[t0], %[t0]\n\t" \
    "adds r2, r2, %[t0]\n\t" \
    "asrs %[w0], %[w0], #24\n\t" \
    "adds r3, r3, %[w0]\n\t" \
    "subs %[at], %[at], #16\n\t" \
    "stm %[at]!, {r0, r1, r2, r3}\n\t"
    __asm__ volatile(".syntax unified\n\t"
                     "1:\n\t" PS_FOLD_GROUP4 PS_FOLD_GROUP4 PS_FOLD_GROUP4 PS_FOLD_GROUP4
                     "cmp %[at], %[end]\n\t"
                     "bne 1b\n\t"
                     ".syntax divided\n\t"
                     : [row] "+l"(row), [at] "+l"(at), [w0] "=&l"(w0), [t0] "=&l"(t0)
                     : [end] "h"(end)
                     : "r0", "r1", "r2", "r3", "cc", "memory");
#undef PS_FOLD_GROUP4
  }
}
#endif

/**
 * True when ps_fold_dense_i8_spikes pays for weights `w` with `outputs` per row: always with the DSP
 * extension (LDR takes unaligned words); on ARMv6-M only for word-aligned rows of at least 16
 * outputs (else the kernel's plain loop is cheaper: weights read by ps_table.c inside a .cbor file
 * are rarely aligned).
 */
static inline int ps_fold_dense_i8_fits(const int8_t *w, uint32_t outputs)
{
#if defined(__ARM_FEATURE_DSP)
    (void)w;
    (void)outputs;
    return 1;
#else
    return ((outputs | (uint32_t)(uintptr_t)w) & 3u) == 0u && outputs >= 16u;
#endif
}

/** acc[j] += scale * sum of w[rows[e] * outputs + j] over e < n, for j < outputs. Returns n * outputs. */
static inline uint32_t ps_fold_dense_i8_spikes(const uint32_t *rows, uint32_t n, const int8_t *w, uint32_t outputs, int32_t scale, int32_t *acc)
{
    for (uint32_t j0 = 0u; j0 < outputs; j0 += PS_FOLD_TILE) {
        uint32_t width = outputs - j0 < PS_FOLD_TILE ? outputs - j0 : PS_FOLD_TILE;
#if defined(__ARM_FEATURE_DSP) && defined(__GNUC__)
        /* groups of 8 outputs in packed int16 pairs: word 2k holds outputs 4k and 4k+2, word 2k+1 holds 4k+1 and 4k+3 */
        union {
            uint32_t word[PS_FOLD_TILE / 2u];
            int16_t half[PS_FOLD_TILE];
        } sums;
        uint32_t packed = width & ~7u;
        for (uint32_t e0 = 0u; e0 < n; e0 += 256u) {
            uint32_t e1 = n - e0 < 256u ? n : e0 + 256u;
            for (uint32_t q = 0u; q < packed / 2u; q++) {
                sums.word[q] = 0u;
            }
            for (uint32_t e = e0; e < e1 && packed > 0u; e++) {
                const int8_t *row = w + rows[e] * outputs + j0;
                uint32_t *at = sums.word;
                uint32_t *end = sums.word + packed / 2u;
                uint32_t w0;
                uint32_t w1;
                uint32_t t0;
                /* one 8-output group when their number is odd, then 16 outputs per round */
#define PS_FOLD_GROUP8 \
                    "ldr %[w0], [%[row]], #4\n\t" \
                    "ldr %[w1], [%[row]], #4\n\t" \
                    "ldmia %[at], {r8, r9, r10, r11}\n\t" \
                    "sxtb16 %[t0], %[w0]\n\t" \
                    "sxtb16 %[w0], %[w0], ror #8\n\t" \
                    "sadd16 r8, r8, %[t0]\n\t" \
                    "sadd16 r9, r9, %[w0]\n\t" \
                    "sxtb16 %[t0], %[w1]\n\t" \
                    "sxtb16 %[w1], %[w1], ror #8\n\t" \
                    "sadd16 r10, r10, %[t0]\n\t" \
                    "sadd16 r11, r11, %[w1]\n\t" \
                    "stmia %[at]!, {r8, r9, r10, r11}\n\t"
                if ((packed & 8u) != 0u) {
                    __asm__ volatile(PS_FOLD_GROUP8
                                     : [row] "+r"(row), [at] "+r"(at), [w0] "=&r"(w0), [w1] "=&r"(w1), [t0] "=&r"(t0)
                                     :
                                     : "r8", "r9", "r10", "r11", "memory");
                }
                if (at != end) {
                    __asm__ volatile("1:\n\t" PS_FOLD_GROUP8 PS_FOLD_GROUP8
                                     "cmp %[at], %[end]\n\t"
                                     "bne 1b\n\t"
                                     : [row] "+r"(row), [at] "+r"(at), [w0] "=&r"(w0), [w1] "=&r"(w1), [t0] "=&r"(t0)
                                     : [end] "r"(end)
                                     : "r8", "r9", "r10", "r11", "cc", "memory");
                }
#undef PS_FOLD_GROUP8
            }
            for (uint32_t g = 0u; g < packed; g += 4u) {
                acc[j0 + g] += scale * (int32_t)sums.half[g];
                acc[j0 + g + 1u] += scale * (int32_t)sums.half[g + 2u];
                acc[j0 + g + 2u] += scale * (int32_t)sums.half[g + 1u];
                acc[j0 + g + 3u] += scale * (int32_t)sums.half[g + 3u];
            }
        }
        /* the last width % 8 outputs of the tile: plain exact fold */
        for (uint32_t e = 0u; e < n && packed < width; e++) {
            const int8_t *row = w + rows[e] * outputs + j0;
            for (uint32_t q = packed; q < width; q++) {
                acc[j0 + q] += scale * (int32_t)row[q];
            }
        }
#else
#ifdef PS_FOLD_SUMS_STATIC
        static int32_t sums[PS_FOLD_TILE]; /* the kernels run on one thread: never re-entered */
#else
        int32_t sums[PS_FOLD_TILE];
#endif
        for (uint32_t q = 0u; q < width; q++) {
            sums[q] = 0;
        }
        uint32_t done = 0u; /* outputs of the tile summed by the LDM/STM loop */
        /* ARMv6-M: word loads need aligned rows; 16 weights per round, sums in r0-r3 via LDM/STM */
        if (((outputs | (uint32_t)(uintptr_t)w) & 3u) == 0u && width >= 16u) {
            done = width & ~15u;
            ps_fold_rows8_m0(rows, n, w + j0, outputs, sums, done);
        }
        for (uint32_t e = 0u; e < n && done < width; e++) {
            const int8_t *row = w + rows[e] * outputs + j0;
            for (uint32_t q = done; q < width; q++) {
                sums[q] += (int32_t)row[q];
            }
        }
        for (uint32_t q = 0u; q < width; q++) {
            acc[j0 + q] += scale * sums[q];
        }
#endif
    }
    return n * outputs;
}
#endif /* PS_FOLD_DENSE_I8_SPIKES */

#endif /* PS_FIXED_H */
