/*
 * Cortex-M4/M7 (DSP extension) dense int8 spike fold: a drop-in optimized kernel that computes the
 * same integers as the reference scatter kernel (spec/ops.md §12.2). Included only by ps_fold.h,
 * which decides when it applies; firmware/test/test_fold.c and the conformance suite check it.
 */
#ifndef PS_FOLD_M4_H
#define PS_FOLD_M4_H

#include <stdint.h>

#include "ps_fixed.h"

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

#endif /* PS_FOLD_M4_H */
