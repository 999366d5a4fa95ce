/*
 * ARMv6-M (Cortex-M0/M0+) dense int8 spike fold: a drop-in optimized kernel that computes the same
 * integers as the reference scatter kernel (spec/ops.md §12.2). Included only by ps_fold.h, which
 * decides when it applies; firmware/test/test_fold.c and the conformance suite check it.
 *
 * Why it is exact (spec/ops.md §12.2 item 1): every event of a step of spikes has the same scale, so
 * acc[j] + Σ_e w[pre_e][j]·scale = acc[j] + scale·Σ_e w[pre_e][j] under §12.1's bound. ARMv6-M has
 * no SIMD and faults on unaligned words, so rows are grouped by their start address mod 4 and read
 * as whole aligned words, every byte biased to y = byte XOR 0x80 = w + 128 (0..255). Per word two
 * sums are kept: F = Σ word (mod 2^32) and H = Σ (word >> 8) AND 0x00ff00ff. A chunk holds at most
 * PS_FOLD_CHUNK = 128 rows, so each 16-bit lane sum of biased bytes is at most 255·128 < 2^16 and
 * cannot carry into the next lane: H = Y1 + 2^16·Y3 and F − 2^8·H = Y0 + 2^16·Y2 (mod 2^32) give
 * the four byte sums Y_b, and Σ w = Y_b − 128·rows.
 *
 * Cost: per row of a tile of 3 words (12 outputs), one LDM of the 3 words and 5 instructions per
 * word (EOR, ADD, LSR, AND, ADD), two rows per LDM/STM of their start pointers, which the tile
 * advances in place by 12 bytes for the next tile: 35 instructions per two rows of 12 synapses
 * (1.46 per synapse) plus 3 per round of 4 rows.
 */
#ifndef PS_FOLD_M0_H
#define PS_FOLD_M0_H

#include <stdint.h>

#include "ps_fixed.h"

/* Rows per chunk: 128 keeps every 16-bit lane sum below 2^16 (see above); the row starts take 512 bytes of stack. */
#define PS_FOLD_CHUNK 128u

/* The 3 aligned words at row pointer a (which advances by 12) into F/H of words 0-2: r8/r9, r10/r11, r12/lr */
#define PS_M0_WORD(d, f, h) \
    "eors " d ", r5\n\t" \
    "add " f ", " d "\n\t" \
    "lsrs " d ", " d ", #8\n\t" \
    "ands " d ", r6\n\t" \
    "add " h ", " d "\n\t"
#define PS_M0_ROW3(a) "ldm " a "!, {r2, r3, r4}\n\t" PS_M0_WORD("r2", "r8", "r9") PS_M0_WORD("r3", "r10", "r11") PS_M0_WORD("r4", "r12", "lr")
/* Two rows: their pointers read by one LDM and written back, advanced, by one STM */
#define PS_M0_PAIR3 "ldm r0!, {r1, r7}\n\t" PS_M0_ROW3("r1") PS_M0_ROW3("r7") "subs r0, #8\n\t" "stm r0!, {r1, r7}\n\t"
/* the parameters arrive in r0-r3; a naked body names none of them */
#define PS_M0_ARG __attribute__((unused))

/**
 * ARMv6-M: for each word-aligned row pointer p = *s, starts <= s < end (1..128 rows), the `words`
 * (1..3) aligned words at p, biased (XOR 0x80 per byte): lanes[2k] = F of word k, lanes[2k + 1] = H
 * of word k (as above). With words = 3 each *s becomes p + 12, for the next tile; with 1 or 2 (the
 * last tile of a row) the pointers are left as they are. Three words take rounds of 2 pairs of rows
 * (more would cost code bytes the micro:bit's runtime figure counts), entered at the second pair
 * when their number is odd, after one row when the rows' number is odd.
 */
static __attribute__((naked, noinline)) void ps_fold_sum_words_m0(PS_M0_ARG uintptr_t *starts, PS_M0_ARG const uintptr_t *end, PS_M0_ARG uint32_t *lanes, PS_M0_ARG uint32_t words)
{
    __asm__(".syntax unified\n\t"
            "push {r1, r2, r4, r5, r6, r7, lr}\n\t"
            "mov r4, r8\n\t"
            "mov r5, r9\n\t"
            "mov r6, r10\n\t"
            "mov r7, r11\n\t"
            "push {r4, r5, r6, r7}\n\t" /* end at [sp, #16], lanes at [sp, #20] */
            "movs r4, #0\n\t"
            "mov r8, r4\n\t"
            "mov r9, r4\n\t"
            "mov r10, r4\n\t"
            "mov r11, r4\n\t"
            "mov r12, r4\n\t"
            "mov lr, r4\n\t"
            "movs r6, #255\n\t" /* r6 = 0x00ff00ff */
            "lsls r5, r6, #16\n\t"
            "orrs r6, r5\n\t"
            "movs r5, #128\n\t" /* r5 = 0x80808080 */
            "lsls r2, r5, #8\n\t"
            "orrs r5, r2\n\t"
            "lsls r2, r5, #16\n\t"
            "orrs r5, r2\n\t"
            "cmp r3, #2\n\t"
            "blo 20f\n\t"
            "beq 30f\n\t"
            "b 40f\n\t"
            /* 1 word a row */
            "20:\n\t"
            "ldm r0!, {r1}\n\t"
            "ldr r2, [r1]\n\t" PS_M0_WORD("r2", "r8", "r9")
            "ldr r2, [sp, #16]\n\t"
            "cmp r0, r2\n\t"
            "bne 20b\n\t"
            "b 9f\n\t"
            /* 2 words a row */
            "30:\n\t"
            "ldm r0!, {r1}\n\t"
            "ldm r1!, {r2, r3}\n\t" PS_M0_WORD("r2", "r8", "r9") PS_M0_WORD("r3", "r10", "r11")
            "ldr r2, [sp, #16]\n\t"
            "cmp r0, r2\n\t"
            "bne 30b\n\t"
            "b 9f\n\t"
            /* 3 words a row (conditional branches reach 256 bytes: the far ones are B) */
            "40:\n\t"
            "subs r2, r1, r0\n\t"
            "lsls r2, r2, #29\n\t" /* N = bit 2 of 4·rows: an odd number of rows */
            "bpl 1f\n\t"
            "ldr r1, [r0]\n\t" PS_M0_ROW3("r1") "stm r0!, {r1}\n\t"
            "1:\n\t"
            "ldr r2, [sp, #16]\n\t"
            "subs r2, r2, r0\n\t"
            "bne 3f\n\t"
            "b 9f\n\t"
            "3:\n\t"
            "lsls r2, r2, #28\n\t" /* N = bit 0 of the pairs left */
            "bmi 5f\n\t"
            "4:\n\t" PS_M0_PAIR3
            "5:\n\t" PS_M0_PAIR3
            "ldr r2, [sp, #16]\n\t"
            "cmp r0, r2\n\t"
            "bne 4b\n\t"
            "9:\n\t"
            "ldr r2, [sp, #20]\n\t"
            "mov r3, r8\n\t"
            "mov r4, r9\n\t"
            "mov r5, r10\n\t"
            "mov r6, r11\n\t"
            "mov r7, r12\n\t"
            "stm r2!, {r3, r4, r5, r6, r7}\n\t"
            "mov r3, lr\n\t"
            "str r3, [r2]\n\t"
            "pop {r4, r5, r6, r7}\n\t"
            "mov r8, r4\n\t"
            "mov r9, r5\n\t"
            "mov r10, r6\n\t"
            "mov r11, r7\n\t"
            "pop {r1, r2, r4, r5, r6, r7, pc}\n\t"
            ".syntax divided\n\t");
}

/**
 * ARMv6-M: starts[e] = base + rows[e] * outputs for e < count (count >= 1): four rows per LDM, MULS
 * and STM round (3.25 instructions a row), then one at a time.
 */
static __attribute__((naked, noinline)) void ps_fold_starts_m0(PS_M0_ARG uintptr_t *starts, PS_M0_ARG const uint32_t *rows, PS_M0_ARG uint32_t count, PS_M0_ARG uint32_t outputs,
                                                                PS_M0_ARG uintptr_t base)
{
    __asm__(".syntax unified\n\t"
            "push {r4, r5, r6, r7, lr}\n\t"
            "ldr r4, [sp, #20]\n\t" /* base */
            "mov r12, r4\n\t"
            "lsrs r4, r2, #2\n\t"
            "lsls r4, r4, #4\n\t" /* bytes of the rows taken four at a time */
            "beq 2f\n\t"
            "adds r4, r4, r1\n\t"
            "mov lr, r4\n\t"
            "1:\n\t"
            "ldm r1!, {r4, r5, r6, r7}\n\t"
            "muls r4, r3, r4\n\t"
            "muls r5, r3, r5\n\t"
            "muls r6, r3, r6\n\t"
            "muls r7, r3, r7\n\t"
            "add r4, r12\n\t"
            "add r5, r12\n\t"
            "add r6, r12\n\t"
            "add r7, r12\n\t"
            "stm r0!, {r4, r5, r6, r7}\n\t"
            "cmp r1, lr\n\t"
            "bne 1b\n\t"
            "2:\n\t"
            "lsls r2, r2, #30\n\t" /* count mod 4 */
            "lsrs r2, r2, #30\n\t"
            "beq 9f\n\t"
            "3:\n\t"
            "ldm r1!, {r4}\n\t"
            "muls r4, r3, r4\n\t"
            "add r4, r12\n\t"
            "stm r0!, {r4}\n\t"
            "subs r2, #1\n\t"
            "bne 3b\n\t"
            "9:\n\t"
            "pop {r4, r5, r6, r7, pc}\n\t"
            ".syntax divided\n\t");
}
#undef PS_M0_ARG
#undef PS_M0_WORD
#undef PS_M0_ROW3
#undef PS_M0_PAIR3

/**
 * ARMv6-M: acc[j] += scale * sum over the `count` rows of w[row][j], for rows whose starts all lie
 * `misalign` bytes past the word-aligned addresses starts[] (so byte b of aligned word k is output
 * 4k + b - misalign of every row). Reads whole aligned words: up to 3 bytes before a row's first and
 * after its last weight, never outside the aligned words that hold weights. starts[] is overwritten.
 */
static __attribute__((noinline)) void ps_fold_flush_m0(uintptr_t *starts, uint32_t count, uint32_t misalign, uint32_t outputs, int32_t scale, int32_t *acc)
{
    uint32_t words = (outputs + misalign + 3u) >> 2;
    int32_t bias = 128 * (int32_t)count; /* count rows of bytes biased by +128 */
    uint32_t lanes[6];
    uint32_t width;
    uint32_t first = 0u - misalign; /* output of byte 0 of the current word; wraps past 0 before the row */
    for (uint32_t k0 = 0u; k0 < words; k0 += width) {
        width = words - k0 < 3u ? words - k0 : 3u;
        ps_fold_sum_words_m0(starts, starts + count, lanes, width);
        for (const uint32_t *lane = lanes; lane < lanes + 2u * width; lane += 2u, first += 4u) {
            uint32_t odd = lane[1];               /* bytes 1 and 3: Y1 + Y3 * 2^16 */
            uint32_t even = lane[0] - (odd << 8); /* bytes 0 and 2: Y0 + Y2 * 2^16 */
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
 * acc[j] += scale * sum of w[rows[e] * outputs + j] over e < n, for j < outputs (outputs >= 4).
 * Returns n * outputs. Rows whose starts agree mod 4 share lanes: when outputs is a multiple of 4
 * every row does (one group, gathered four rows at a time); otherwise each chunk of events is split
 * in one pass into the rows starting at an even and at an odd half-word (two groups, from both ends
 * of the stack array), over the rows of each start parity when outputs is odd.
 */
static inline uint32_t ps_fold_dense_i8_spikes(const uint32_t *rows, uint32_t n, const int8_t *w, uint32_t outputs, int32_t scale, int32_t *acc)
{
    uintptr_t starts[PS_FOLD_CHUNK];
    const uint32_t *end = rows + n;
    if ((outputs & 3u) == 0u) {
        uint32_t misalign = (uint32_t)(uintptr_t)w & 3u;
        for (const uint32_t *from = rows; from != end;) {
            uint32_t count = (uint32_t)(end - from) > PS_FOLD_CHUNK ? PS_FOLD_CHUNK : (uint32_t)(end - from);
            ps_fold_starts_m0(starts, from, count, outputs, (uintptr_t)w - misalign);
            ps_fold_flush_m0(starts, count, misalign, outputs, scale, acc);
            from += count;
        }
        return n * outputs;
    }
    /* starts of one parity (every row's, when outputs is even); bit 1 splits them into two groups */
    const uint32_t odd = outputs & 1u;
    for (uint32_t parity = (uint32_t)(uintptr_t)w & 1u, pass = 0u; pass <= odd; pass++, parity ^= 1u) {
        for (const uint32_t *from = rows; from != end;) {
            const uint32_t *stop = (uint32_t)(end - from) > PS_FOLD_CHUNK ? from + PS_FOLD_CHUNK : end;
            uintptr_t *low = starts;
            uintptr_t *high = starts + PS_FOLD_CHUNK;
            for (const uint32_t *row = from; row != stop; row++) {
                uintptr_t start = (uintptr_t)w + *row * outputs;
                if ((start & 1u) == parity) {
                    if ((start & 2u) == 0u) {
                        *low++ = start & ~(uintptr_t)3u;
                    } else {
                        *--high = start & ~(uintptr_t)3u;
                    }
                }
            }
            if (low != starts) {
                ps_fold_flush_m0(starts, (uint32_t)(low - starts), parity, outputs, scale, acc);
            }
            if (high != starts + PS_FOLD_CHUNK) {
                ps_fold_flush_m0(high, (uint32_t)(starts + PS_FOLD_CHUNK - high), parity | 2u, outputs, scale, acc);
            }
            from = stop;
        }
    }
    return n * outputs;
}

#endif /* PS_FOLD_M0_H */
