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
 * Spike fold of a dense int8 connection (spec/ops.md §12.2). On a step of spikes every event has the
 * same scale (1 << shift), so under the accumulation bound of §12.1 the exact fold
 *     for each event e, for each j: acc[j] = acc[j] + w[pre[e]][j] * scale
 * equals acc[j] + scale * (sum over e of w[pre[e]][j]): the same integers, with no int32 overflow in
 * any order or grouping of the events. Cores with the DSP extension (__ARM_FEATURE_DSP, Cortex-M4/M7)
 * keep 16 outputs' sums in registers across the events as int16 pairs (SXTAB16, see
 * ps_fold_sum_words_m4), in chunks of at most 256 events (|sum| <= 128 * 256 fits int16). ARMv6-M
 * (Cortex-M0) keeps 16 outputs' sums in registers across the events, as biased bytes in 16-bit lanes
 * of whole aligned words (see ps_fold_sum_words_m0), so it needs no aligned rows and no sums in RAM.
 * Only the exact scatter kernel calls it, and only when its §12.1 proof holds. Elsewhere
 * PS_FOLD_DENSE_I8_SPIKES stays undefined and the kernel runs its plain loop.
 */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && (defined(__ARM_FEATURE_DSP) || defined(__ARM_ARCH_6M__))
/* Only where it was measured to pay: on the host (x86-64 gcc -O2) the kernel's plain loop is as fast. */
#define PS_FOLD_DENSE_I8_SPIKES 1

#if defined(__ARM_FEATURE_DSP)
/* One weight word into two int16-pair sums: bytes 0 and 2, then bytes 1 and 3 (SXTAB16 adds both halves) */
#define PS_M4_WORD(offset, even, odd) \
    "ldr lr, [r12, #" offset "]\n\t" \
    "sxtab16 " even ", " even ", lr\n\t" \
    "sxtab16 " odd ", " odd ", lr, ror #8\n\t"
#define PS_M4_ROW "ldr r12, [r0], #4\n\t" "mla r12, r12, r3, r2\n\t"
#define PS_M4_W0 PS_M4_WORD("0", "r4", "r5")
#define PS_M4_W1 PS_M4_WORD("4", "r6", "r7")
#define PS_M4_W2 PS_M4_WORD("8", "r8", "r9")
#define PS_M4_W3 PS_M4_WORD("12", "r10", "r11")
#define PS_M4_NEXT(label) "cmp r0, r1\n\t" "bne " label "\n\t"
/* the parameters arrive in r0-r3 and on the stack; a naked body names none of them */
#define PS_M4_ARG __attribute__((unused))

/**
 * Cortex-M4/M7 (DSP extension): for the `words` (1..4) weight words at `base` + row * `outputs` of each
 * row rows[i], rows <= i < end (1..256 rows; LDR takes unaligned words), sums[2k] = the int16 pair
 * sum of bytes 0 and 2 of word k and sums[2k + 1] that of bytes 1 and 3 (|sum| <= 128 * 256). The
 * sums stay in r4-r11 across the rows: one load and two SXTAB16 per word, 4 instructions per row
 * (3 in the two-row rounds of 4 words).
 */
static __attribute__((naked, noinline)) void ps_fold_sum_words_m4(PS_M4_ARG const uint32_t *rows, PS_M4_ARG const uint32_t *end, PS_M4_ARG const int8_t *base, PS_M4_ARG uint32_t *sums, PS_M4_ARG uint32_t words, PS_M4_ARG uint32_t outputs)
{
    __asm__(".syntax unified\n\t"
            "push {r3, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t" /* sums at [sp], words at [sp, #40], outputs at [sp, #44] */
            "ldr r12, [sp, #40]\n\t"
            "ldr r3, [sp, #44]\n\t"
            "movs r4, #0\n\t"
            "movs r5, #0\n\t"
            "movs r6, #0\n\t"
            "movs r7, #0\n\t"
            "mov r8, #0\n\t"
            "mov r9, #0\n\t"
            "mov r10, #0\n\t"
            "mov r11, #0\n\t"
            "cmp r12, #4\n\t"
            "beq 4f\n\t"
            "cmp r12, #2\n\t"
            "blo 1f\n\t"
            "beq 2f\n\t"
            "3:\n\t" PS_M4_ROW PS_M4_W0 PS_M4_W1 PS_M4_W2 PS_M4_NEXT("3b")
            "b 9f\n\t"
            "2:\n\t" PS_M4_ROW PS_M4_W0 PS_M4_W1 PS_M4_NEXT("2b")
            "b 9f\n\t"
            "1:\n\t" PS_M4_ROW PS_M4_W0 PS_M4_NEXT("1b")
            "b 9f\n\t"
            /* 4 words: two rows per round, entered at the second when their number is odd */
            "4:\n\t"
            "subs r12, r1, r0\n\t"
            "lsls r12, r12, #29\n\t"
            "bmi 6f\n\t"
            "5:\n\t" PS_M4_ROW PS_M4_W0 PS_M4_W1 PS_M4_W2 PS_M4_W3
            "6:\n\t" PS_M4_ROW PS_M4_W0 PS_M4_W1 PS_M4_W2 PS_M4_W3 PS_M4_NEXT("5b")
            "9:\n\t"
            "ldr r12, [sp]\n\t"
            "stmia r12, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
            "pop {r3, r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}
#undef PS_M4_WORD
#undef PS_M4_ROW
#undef PS_M4_W0
#undef PS_M4_W1
#undef PS_M4_W2
#undef PS_M4_W3
#undef PS_M4_NEXT
#undef PS_M4_ARG

/** True when ps_fold_dense_i8_spikes pays: rows of at least 4 outputs, any alignment (LDR takes unaligned words). */
static inline int ps_fold_dense_i8_fits(const int8_t *w, uint32_t outputs)
{
    (void)w;
    return outputs >= 4u;
}

/**
 * acc[j] += scale * sum of w[rows[e] * outputs + j] over e < n, for j < outputs. Returns n * outputs.
 * Tiles of 16 outputs (4 words) summed in registers over chunks of at most 256 events; the last
 * outputs % 4 outputs of each row by the plain exact fold.
 */
static inline uint32_t ps_fold_dense_i8_spikes(const uint32_t *rows, uint32_t n, const int8_t *w, uint32_t outputs, int32_t scale, int32_t *acc)
{
    uint32_t words = outputs >> 2;
    for (uint32_t e0 = 0u; e0 < n; e0 += 256u) {
        uint32_t count = n - e0 < 256u ? n - e0 : 256u;
        for (uint32_t k0 = 0u; k0 < words; k0 += 4u) {
            uint32_t width = words - k0 < 4u ? words - k0 : 4u;
            /* word 2g holds outputs 4g and 4g+2 of the tile, word 2g+1 holds 4g+1 and 4g+3 */
            union {
                uint32_t word[8];
                int16_t half[16];
            } sums;
            ps_fold_sum_words_m4(rows + e0, rows + e0 + count, w + 4u * k0, sums.word, width, outputs);
            int32_t *at = acc + 4u * k0;
            for (uint32_t g = 0u; g < 4u * width; g += 4u) {
                at[g] += scale * (int32_t)sums.half[g];
                at[g + 1u] += scale * (int32_t)sums.half[g + 2u];
                at[g + 2u] += scale * (int32_t)sums.half[g + 1u];
                at[g + 3u] += scale * (int32_t)sums.half[g + 3u];
            }
        }
    }
    /* the last outputs % 4 outputs: plain exact fold */
    for (uint32_t e = 0u; e < n && 4u * words < outputs; e++) {
        const int8_t *row = w + rows[e] * outputs;
        for (uint32_t q = 4u * words; q < outputs; q++) {
            acc[q] += scale * (int32_t)row[q];
        }
    }
    return n * outputs;
}

#else /* ARMv6-M */
/* Row starts gathered per call of ps_fold_flush_m0: 512 bytes of stack; at most 256 (16-bit lanes). */
#define PS_FOLD_CHUNK 128u

/* One aligned weight word y (bytes biased by ^ 0x80 to 0..255) into lanes F += y, H += (y >> 8) & 0x00ff00ff */
#define PS_M0_WORD(offset, add_f, add_h) \
    "ldr r2, [r1, #" offset "]\n\t" \
    "eors r2, r3\n\t" \
    add_f "\n\t" \
    "lsrs r2, r2, #8\n\t" \
    "ands r2, r4\n\t" \
    add_h "\n\t"
/* The next row start plus the word offset of the tile */
#define PS_M0_ROW "ldm r0!, {r1}\n\t" "add r1, r8\n\t"
#define PS_M0_W0 PS_M0_WORD("0", "adds r5, r5, r2", "adds r6, r6, r2")
#define PS_M0_W1 PS_M0_WORD("4", "adds r7, r7, r2", "add r9, r2")
#define PS_M0_W2 PS_M0_WORD("8", "add r10, r2", "add r11, r2")
#define PS_M0_W3 PS_M0_WORD("12", "add r12, r2", "add lr, r2")
#define PS_M0_NEXT(label) "ldr r2, [sp, #16]\n\t" "cmp r0, r2\n\t" "bne " label "\n\t"

/**
 * ARMv6-M: for the `words` (1 or 4) aligned words at byte `offset` of each row starts[i], starts <= i <
 * end (1..256 rows, word-aligned addresses), with every byte biased to y = byte ^ 0x80 (0..255):
 * lanes[2k] = sum of word k (mod 2^32) and lanes[2k + 1] = sum of (word k >> 8) & 0x00ff00ff (bytes
 * 1 and 3 in 16-bit lanes that cannot carry: 255 * 256 < 2^16). The sums stay in r5-r7, r9-r12 and
 * lr across the rows: one load and 5 instructions per word, 2 per row, 3 per round of rows (4 rows
 * a round for 4 words).
 */
/* the parameters arrive in r0-r3 and on the stack; a naked body names none of them */
#define PS_M0_ARG __attribute__((unused))
static __attribute__((naked, noinline)) void ps_fold_sum_words_m0(PS_M0_ARG const uintptr_t *starts, PS_M0_ARG const uintptr_t *end, PS_M0_ARG uint32_t offset, PS_M0_ARG uint32_t *lanes, PS_M0_ARG uint32_t words)
{
    __asm__(".syntax unified\n\t"
            "push {r1, r3, r4, r5, r6, r7, lr}\n\t"
            "mov r4, r8\n\t"
            "mov r5, r9\n\t"
            "mov r6, r10\n\t"
            "mov r7, r11\n\t"
            "push {r4, r5, r6, r7}\n\t" /* end at [sp, #16], lanes at [sp, #20], words at [sp, #44] */
            "mov r8, r2\n\t"
            "movs r5, #0\n\t"
            "movs r6, #0\n\t"
            "movs r7, #0\n\t"
            "mov r9, r5\n\t"
            "mov r10, r5\n\t"
            "mov r11, r5\n\t"
            "mov r12, r5\n\t"
            "mov lr, r5\n\t"
            "movs r4, #255\n\t" /* r4 = 0x00ff00ff */
            "lsls r3, r4, #16\n\t"
            "orrs r4, r3\n\t"
            "movs r3, #128\n\t" /* r3 = 0x80808080 */
            "lsls r2, r3, #8\n\t"
            "orrs r3, r2\n\t"
            "lsls r2, r3, #16\n\t"
            "orrs r3, r2\n\t"
            "ldr r2, [sp, #44]\n\t"
            "cmp r2, #4\n\t"
            "beq 4f\n\t"
            "1:\n\t" PS_M0_ROW PS_M0_W0 PS_M0_NEXT("1b")
            "b 9f\n\t"
            /* 4 words: four rows per round, entered at row 4 - (rows mod 4) of the first */
            "4:\n\t"
            "subs r2, r1, r0\n\t"
            "lsls r2, r2, #29\n\t" /* C = bit 1, N = bit 0 of the number of rows */
            "bcs 0f\n\t"
            "bpl 5f\n\t"
            "b 8f\n\t"
            "0:\n\t"
            "bpl 7f\n\t"
            "b 6f\n\t"
            "5:\n\t" PS_M0_ROW PS_M0_W0 PS_M0_W1 PS_M0_W2 PS_M0_W3
            "6:\n\t" PS_M0_ROW PS_M0_W0 PS_M0_W1 PS_M0_W2 PS_M0_W3
            "7:\n\t" PS_M0_ROW PS_M0_W0 PS_M0_W1 PS_M0_W2 PS_M0_W3
            "8:\n\t" PS_M0_ROW PS_M0_W0 PS_M0_W1 PS_M0_W2 PS_M0_W3 PS_M0_NEXT("5b")
            "9:\n\t"
            "ldr r2, [sp, #20]\n\t"
            "stm r2!, {r5, r6, r7}\n\t"
            "mov r3, r9\n\t"
            "mov r4, r10\n\t"
            "mov r5, r11\n\t"
            "mov r6, r12\n\t"
            "mov r7, lr\n\t"
            "stm r2!, {r3, r4, r5, r6, r7}\n\t"
            "pop {r4, r5, r6, r7}\n\t"
            "mov r8, r4\n\t"
            "mov r9, r5\n\t"
            "mov r10, r6\n\t"
            "mov r11, r7\n\t"
            "pop {r1, r3, r4, r5, r6, r7, pc}\n\t"
            ".syntax divided\n\t");
}
#undef PS_M0_ARG
#undef PS_M0_WORD
#undef PS_M0_ROW
#undef PS_M0_W0
#undef PS_M0_W1
#undef PS_M0_W2
#undef PS_M0_W3
#undef PS_M0_NEXT

/**
 * ARMv6-M: acc[j] += scale * sum over the `count` rows of w[row][j], for rows whose starts all lie
 * `misalign` bytes past the word-aligned addresses starts[] (so byte b of aligned word k is output
 * 4k + b - misalign of every row). Reads whole aligned words: up to 3 bytes before a row's first and
 * after its last weight, never outside the aligned words that hold weights.
 */
static __attribute__((noinline)) void ps_fold_flush_m0(const uintptr_t *starts, uint32_t count, uint32_t misalign, uint32_t outputs, int32_t scale, int32_t *acc)
{
    uint32_t words = (outputs + misalign + 3u) >> 2;
    int32_t bias = 128 * (int32_t)count; /* count rows of bytes biased by +128 */
    uint32_t lanes[8];
    uint32_t width;
    uint32_t first = 0u - misalign; /* output of byte 0 of the current word; wraps past 0 before the row */
    for (uint32_t k0 = 0u; k0 < words; k0 += width) {
        width = words - k0 < 4u ? 1u : 4u; /* a last 1..3 words one at a time: less code than 2- and 3-word loops */
        ps_fold_sum_words_m0(starts, starts + count, 4u * k0, lanes, width);
        for (const uint32_t *lane = lanes; lane < lanes + 2u * width; lane += 2u, first += 4u) {
            uint32_t odd = lane[1];                 /* bytes 1 and 3: Y1 + Y3 * 2^16 */
            uint32_t even = lane[0] - (odd << 8);   /* bytes 0 and 2: Y0 + Y2 * 2^16 */
            int32_t sums[4] = {
                (int32_t)(even & 0xffffu) - bias,
                (int32_t)(odd & 0xffffu) - bias,
                (int32_t)(even >> 16) - bias,
                (int32_t)(odd >> 16) - bias,
            };
            if (first < outputs - 3u) { /* the whole word lies in the row */
                int32_t *at = acc + first;
                at[0] += scale * sums[0];
                at[1] += scale * sums[1];
                at[2] += scale * sums[2];
                at[3] += scale * sums[3];
            } else {
                for (uint32_t b = 0u; b < 4u; b++) {
                    if (first + b < outputs) {
                        acc[first + b] += scale * sums[b];
                    }
                }
            }
        }
    }
}

/** True when ps_fold_dense_i8_spikes pays on ARMv6-M: rows of at least 8 outputs, any alignment. */
static inline int ps_fold_dense_i8_fits(const int8_t *w, uint32_t outputs)
{
    (void)w;
    return outputs >= 8u;
}

/**
 * acc[j] += scale * sum of w[rows[e] * outputs + j] over e < n, for j < outputs. Returns n * outputs.
 * Rows whose starts agree mod 4 share the lanes of ps_fold_sum_words_m0: one pass over the events per
 * residue that can occur (w's when outputs is a multiple of 4; w's and w's + 2 when it is even; all
 * four when it is odd), flushing the rows of that residue among every PS_FOLD_CHUNK events.
 */
static inline uint32_t ps_fold_dense_i8_spikes(const uint32_t *rows, uint32_t n, const int8_t *w, uint32_t outputs, int32_t scale, int32_t *acc)
{
    uintptr_t starts[PS_FOLD_CHUNK];
    uint32_t step = (outputs & 1u) != 0u ? 1u : ((outputs & 2u) != 0u ? 2u : 4u);
    const uint32_t *end = rows + n;
    for (uint32_t c = 0u; c < 4u; c += step) {
        uint32_t misalign = ((uint32_t)(uintptr_t)w + c) & 3u;
        uintptr_t base = (uintptr_t)w - misalign;
        /* at most PS_FOLD_CHUNK rows looked at per flush, so at most that many gathered */
        for (const uint32_t *from = rows; from != end;) {
            const uint32_t *stop = (uint32_t)(end - from) > PS_FOLD_CHUNK ? from + PS_FOLD_CHUNK : end;
            uintptr_t *slot = starts;
            for (const uint32_t *row = from; row != stop; row++) {
                uintptr_t start = base + *row * outputs;
                if ((start & 3u) == 0u) {
                    *slot++ = start;
                }
            }
            if (slot != starts) {
                ps_fold_flush_m0(starts, (uint32_t)(slot - starts), misalign, outputs, scale, acc);
            }
            from = stop;
        }
    }
    return n * outputs;
}
#endif
#endif /* PS_FOLD_DENSE_I8_SPIKES */

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
