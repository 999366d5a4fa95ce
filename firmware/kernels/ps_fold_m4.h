/*
 * Cortex-M4/M7 (DSP extension) dense int8 spike fold: a drop-in optimized kernel that computes the
 * same integers as the reference scatter kernel (spec/ops.md §12.2). Included only by ps_fold.h,
 * which decides when it applies; firmware/test/test_fold.c and the conformance suite check it.
 *
 * Why it is exact (spec/ops.md §12.2 item 1): every event of a step of spikes has the same scale, so
 * acc[j] + Σ_e w[pre_e][j]·scale = acc[j] + scale·Σ_e w[pre_e][j] under §12.1's bound. The inner
 * sums Σ_e w[pre_e][j] are kept as int16 lanes (SXTAB16 adds bytes 0 and 2, or, rotated by 8, bytes 1
 * and 3, of a weight word to two 16-bit halves with no carry between them). A chunk holds at most
 * PS_FOLD_CHUNK_M4 = 256 events, so a lane sum of int8 weights lies in [-128·256, 127·256] =
 * [-32768, 32512]: inside int16, so the wrapping lane addition never wraps and the int16 read back is
 * the exact sum. Lanes that collect bytes outside the outputs being folded (the overlapped bytes of
 * a row's last word) may wrap; they are never read.
 *
 * Cost: the row starts of a chunk are gathered once (one word per event); then per tile of 16
 * outputs, every row is 4 weight words, 8 SXTAB16 and its start pointer, which the tile advances in
 * place by 16 bytes for the next tile. Word-aligned rows (the weights 4-aligned and outputs % 4 == 0,
 * the common dense layer) load two words per LDRD and two row pointers per LDM/STM: 11 instructions
 * per row of 16 synapses, 0.69 per synapse plus the loop; other rows use LDR (unaligned words),
 * 13 per row.
 */
#ifndef PS_FOLD_M4_H
#define PS_FOLD_M4_H

#include <stdint.h>

#include "ps_fixed.h"

/* Events per chunk: 256 keeps every int16 lane sum exact (see above); the row starts take 1 KiB of stack. */
#define PS_FOLD_CHUNK_M4 256u

/* Weight word d into the two int16-pair sums even (bytes 0 and 2) and odd (bytes 1 and 3) */
#define PS_M4_SX(d, even, odd) \
    "sxtab16 " even ", " even ", " d "\n\t" \
    "sxtab16 " odd ", " odd ", " d ", ror #8\n\t"
/* A word-aligned row of 16 weights at register a, which advances by 16 */
#define PS_M4_ROW16A(a) \
    "ldrd r2, r3, [" a "], #8\n\t" PS_M4_SX("r2", "r4", "r5") PS_M4_SX("r3", "r6", "r7") \
    "ldrd r2, r3, [" a "], #8\n\t" PS_M4_SX("r2", "r8", "r9") PS_M4_SX("r3", "r10", "r11")
/* A row of 16 weights at any alignment at register a, which advances by 16 */
#define PS_M4_ROW16U(a) \
    "ldr r2, [" a "], #4\n\t" "ldr r3, [" a "], #4\n\t" PS_M4_SX("r2", "r4", "r5") PS_M4_SX("r3", "r6", "r7") \
    "ldr r2, [" a "], #4\n\t" "ldr r3, [" a "], #4\n\t" PS_M4_SX("r2", "r8", "r9") PS_M4_SX("r3", "r10", "r11")
/* One row (its pointer read and written back), or two (one LDM, one STM) */
#define PS_M4_ONE(ROW) "ldr r12, [r0]\n\t" ROW("r12") "str r12, [r0], #4\n\t"
#define PS_M4_TWO(ROW) "ldm r0, {r12, lr}\n\t" ROW("r12") ROW("lr") "stmia r0!, {r12, lr}\n\t"
/*
 * The loop over the rows r0 <= row < r1 (at least one): one row first when their number is odd, then
 * rounds of 4 pairs, entered at pair 4 - (pairs mod 4) of the first round.
 */
#define PS_M4_ROUNDS(ROW) \
    "subs r2, r1, r0\n\t" \
    "lsls r2, r2, #29\n\t" /* N = bit 2 of 4·rows: an odd number of rows */ \
    "bpl 1f\n\t" PS_M4_ONE(ROW) \
    "1:\n\t" \
    "subs r2, r1, r0\n\t" \
    "lsls r2, r2, #28\n\t" /* C = bit 1, N = bit 0 of the pairs left */ \
    "bcs 2f\n\t" \
    "bmi 7f\n\t" \
    "cmp r0, r1\n\t" \
    "bne 4f\n\t" \
    "b 9f\n\t" \
    "2:\n\t" \
    "bmi 5f\n\t" \
    "b 6f\n\t" \
    "4:\n\t" PS_M4_TWO(ROW) \
    "5:\n\t" PS_M4_TWO(ROW) \
    "6:\n\t" PS_M4_TWO(ROW) \
    "7:\n\t" PS_M4_TWO(ROW) \
    "cmp r0, r1\n\t" \
    "bne 4b\n\t" \
    "9:\n\t"
#define PS_M4_CLEAR \
    "movs r4, #0\n\t" "movs r5, #0\n\t" "movs r6, #0\n\t" "movs r7, #0\n\t" \
    "mov r8, #0\n\t" "mov r9, #0\n\t" "mov r10, #0\n\t" "mov r11, #0\n\t"
/* the parameters arrive in r0-r3 and on the stack; a naked body names none of them */
#define PS_M4_ARG __attribute__((unused))

/**
 * A tile of 16 outputs over word-aligned rows: for each row pointer p = *s, starts <= s < end (at
 * least one), sums[2k] += the int16 pairs of bytes 0 and 2 of word k at p, sums[2k + 1] those of bytes
 * 1 and 3 (k < 4; from 0, |lane| <= 128 · rows), and *s = p + 16 for the next tile.
 */
static __attribute__((naked, noinline)) void ps_fold_tile16a_m4(PS_M4_ARG const int8_t **starts, PS_M4_ARG const int8_t **end, PS_M4_ARG uint32_t *sums)
{
    __asm__(".syntax unified\n\t"
            "push {r2, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t" PS_M4_CLEAR PS_M4_ROUNDS(PS_M4_ROW16A)
            "ldr r2, [sp]\n\t"
            "stmia r2, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
            "pop {r2, r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}

/** ps_fold_tile16a_m4 for rows at any alignment (LDR takes unaligned words). */
static __attribute__((naked, noinline)) void ps_fold_tile16u_m4(PS_M4_ARG const int8_t **starts, PS_M4_ARG const int8_t **end, PS_M4_ARG uint32_t *sums)
{
    __asm__(".syntax unified\n\t"
            "push {r2, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t" PS_M4_CLEAR PS_M4_ROUNDS(PS_M4_ROW16U)
            "ldr r2, [sp]\n\t"
            "stmia r2, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
            "pop {r2, r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}

/* The last `words` (1..4) words of a row at r12: words at 0, 4, 8 and the last at r12 + lr (any alignment) */
#define PS_M4_TAIL1 "ldr r12, [r0], #4\n\t" "ldr r2, [r12, lr]\n\t" PS_M4_SX("r2", "r4", "r5")
#define PS_M4_TAIL2 "ldr r12, [r0], #4\n\t" "ldr r2, [r12]\n\t" "ldr r3, [r12, lr]\n\t" PS_M4_SX("r2", "r4", "r5") PS_M4_SX("r3", "r6", "r7")
#define PS_M4_TAIL3 \
    "ldr r12, [r0], #4\n\t" "ldr r2, [r12]\n\t" "ldr r3, [r12, #4]\n\t" PS_M4_SX("r2", "r4", "r5") PS_M4_SX("r3", "r6", "r7") \
    "ldr r2, [r12, lr]\n\t" PS_M4_SX("r2", "r8", "r9")
#define PS_M4_TAIL4 \
    "ldr r12, [r0], #4\n\t" "ldr r2, [r12]\n\t" "ldr r3, [r12, #4]\n\t" PS_M4_SX("r2", "r4", "r5") PS_M4_SX("r3", "r6", "r7") \
    "ldr r2, [r12, #8]\n\t" "ldr r3, [r12, lr]\n\t" PS_M4_SX("r2", "r8", "r9") PS_M4_SX("r3", "r10", "r11")
/* rows r0 <= row < r1 (at least one), two per round, entered at the second when their number is odd */
#define PS_M4_TAIL_LOOP(TAIL, label) \
    "subs r2, r1, r0\n\t" \
    "lsls r2, r2, #29\n\t" /* N: an odd number of rows */ \
    "bmi " label "1f\n\t" \
    label "0:\n\t" TAIL \
    label "1:\n\t" TAIL \
    "cmp r0, r1\n\t" \
    "bne " label "0b\n\t" \
    "b 9f\n\t"

/**
 * The last 1..16 outputs of rows at any alignment: for each row pointer p = *s, starts <= s < end (at
 * least one), words k < words - 1 at p + 4k and the last word at p + last (last = outputs left - 4,
 * so the word ends where the row does: negative when fewer than 4 outputs are left after a tile, its
 * first bytes then the previous tile's) into sums[2k] and sums[2k + 1] as ps_fold_tile16a_m4 does.
 * The row pointers are left as they are.
 */
static __attribute__((naked, noinline)) void ps_fold_tail_m4(PS_M4_ARG const int8_t **starts, PS_M4_ARG const int8_t **end, PS_M4_ARG uint32_t *sums,
                                                              PS_M4_ARG int32_t last, PS_M4_ARG uint32_t words)
{
    __asm__(".syntax unified\n\t"
            "push {r2, r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t" /* sums at [sp], words at [sp, #40] */
            "mov lr, r3\n\t"
            "ldr r3, [sp, #40]\n\t" PS_M4_CLEAR
            "cmp r3, #2\n\t"
            "blo 10f\n\t"
            "beq 20f\n\t"
            "cmp r3, #3\n\t"
            "beq 30f\n\t" PS_M4_TAIL_LOOP(PS_M4_TAIL4, "4") "10:\n\t" PS_M4_TAIL_LOOP(PS_M4_TAIL1, "5") "20:\n\t" PS_M4_TAIL_LOOP(PS_M4_TAIL2, "6")
            "30:\n\t" PS_M4_TAIL_LOOP(PS_M4_TAIL3, "7") "9:\n\t"
            "ldr r2, [sp]\n\t"
            "stmia r2, {r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
            "pop {r2, r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}
#undef PS_M4_SX
#undef PS_M4_ROW16A
#undef PS_M4_ROW16U
#undef PS_M4_ONE
#undef PS_M4_TWO
#undef PS_M4_ROUNDS
#undef PS_M4_CLEAR
#undef PS_M4_TAIL1
#undef PS_M4_TAIL2
#undef PS_M4_TAIL3
#undef PS_M4_TAIL4
#undef PS_M4_TAIL_LOOP
#undef PS_M4_ARG

/** True when ps_fold_dense_i8_spikes pays: rows of at least 4 outputs, any alignment (LDR takes unaligned words). */
static inline int ps_fold_dense_i8_fits(const int8_t *w, uint32_t outputs)
{
    (void)w;
    return outputs >= 4u;
}

/** The int16 lane of byte b (0..3) of word k in the sums of a tile: word 2k holds bytes 0 and 2, word 2k + 1 bytes 1 and 3. */
#define PS_M4_LANE(k, b) (4u * (k) + 2u * ((b) & 1u) + ((b) >> 1))

/** starts[e] = w + rows[e] * outputs for e < count: four per round (2.5 instructions an event), then one at a time. */
static inline void ps_fold_starts_m4(const int8_t **starts, const uint32_t *rows, uint32_t count, const int8_t *w, uint32_t outputs)
{
    const uint32_t *end4 = rows + (count & ~3u);
    const uint32_t *end = rows + count;
    uint32_t a, b, c, d;
    if (rows != end4) {
        __asm__ volatile("1:\n\t"
                         "ldrd %[a], %[b], [%[rows]], #8\n\t"
                         "ldrd %[c], %[d], [%[rows]], #8\n\t"
                         "mla %[a], %[a], %[outputs], %[w]\n\t"
                         "mla %[b], %[b], %[outputs], %[w]\n\t"
                         "mla %[c], %[c], %[outputs], %[w]\n\t"
                         "mla %[d], %[d], %[outputs], %[w]\n\t"
                         "strd %[a], %[b], [%[starts]], #8\n\t"
                         "strd %[c], %[d], [%[starts]], #8\n\t"
                         "cmp %[rows], %[end4]\n\t"
                         "bne 1b\n\t"
                         : [rows] "+r"(rows), [starts] "+r"(starts), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c), [d] "=&r"(d)
                         : [end4] "r"(end4), [w] "r"(w), [outputs] "r"(outputs)
                         : "cc", "memory");
    }
    while (rows != end) {
        *starts++ = w + *rows++ * outputs;
    }
}

/**
 * acc[j] += scale * sum of w[rows[e] * outputs + j] over e < n, for j < outputs (outputs >= 4).
 * Returns n * outputs. Per chunk of at most 256 events: tiles of 16 outputs, then the last
 * outputs % 16 by ps_fold_tail_m4.
 */
static inline uint32_t ps_fold_dense_i8_spikes(const uint32_t *rows, uint32_t n, const int8_t *w, uint32_t outputs, int32_t scale, int32_t *acc)
{
    const int8_t *starts[PS_FOLD_CHUNK_M4];
    if (outputs < 4u) {
        /* rows shorter than a word (ps_fold_dense_i8_fits keeps them away; kept exact all the same) */
        for (uint32_t e = 0u; e < n; e++) {
            for (uint32_t j = 0u; j < outputs; j++) {
                acc[j] += scale * (int32_t)w[rows[e] * outputs + j];
            }
        }
        return n * outputs;
    }
    /* word-aligned rows: every row start a multiple of 4, so LDRD/LDM may read them */
    const int aligned = ((uintptr_t)w & 3u) == 0u && (outputs & 3u) == 0u;
    const uint32_t tiles = outputs >> 4;
    const uint32_t rest = outputs & 15u;
    for (uint32_t e0 = 0u; e0 < n; e0 += PS_FOLD_CHUNK_M4) {
        const uint32_t count = n - e0 < PS_FOLD_CHUNK_M4 ? n - e0 : PS_FOLD_CHUNK_M4;
        ps_fold_starts_m4(starts, rows + e0, count, w, outputs);
        union {
            uint32_t word[8];
            int16_t half[16];
        } sums;
        int32_t *at = acc;
        for (uint32_t t = 0u; t < tiles; t++, at += 16) {
            (aligned ? ps_fold_tile16a_m4 : ps_fold_tile16u_m4)(starts, starts + count, sums.word);
            for (uint32_t k = 0u; k < 4u; k++) {
                at[4u * k] += scale * (int32_t)sums.half[PS_M4_LANE(k, 0u)];
                at[4u * k + 1u] += scale * (int32_t)sums.half[PS_M4_LANE(k, 1u)];
                at[4u * k + 2u] += scale * (int32_t)sums.half[PS_M4_LANE(k, 2u)];
                at[4u * k + 3u] += scale * (int32_t)sums.half[PS_M4_LANE(k, 3u)];
            }
        }
        if (rest != 0u) {
            /* words 0..words-2 whole, then the word ending at the row's end, of which bytes >= 4·words - rest are new */
            const uint32_t words = (rest + 3u) >> 2;
            ps_fold_tail_m4(starts, starts + count, sums.word, (int32_t)rest - 4, words);
            for (uint32_t k = 0u; k + 1u < words; k++) {
                for (uint32_t b = 0u; b < 4u; b++) {
                    at[4u * k + b] += scale * (int32_t)sums.half[PS_M4_LANE(k, b)];
                }
            }
            for (uint32_t b = 4u * words - rest; b < 4u; b++) {
                at[rest - 4u + b] += scale * (int32_t)sums.half[PS_M4_LANE(words - 1u, b)];
            }
        }
    }
    return n * outputs;
}

#undef PS_M4_LANE

#endif /* PS_FOLD_M4_H */
