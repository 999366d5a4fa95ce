/*
 * ARMv6-M (Cortex-M0/M0+) dense int8 spike fold: a drop-in optimized kernel that computes the same
 * integers as the reference scatter kernel (spec/ops.md §12.2). Included only by ps_fold.h, which
 * decides when it applies; firmware/test/test_fold.c and the conformance suite check it.
 */
#ifndef PS_FOLD_M0_H
#define PS_FOLD_M0_H

#include <stdint.h>

#include "ps_fixed.h"

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

#endif /* PS_FOLD_M0_H */
