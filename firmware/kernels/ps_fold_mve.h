/*
 * Cortex-M55/M85 (Helium, M-profile Vector Extension) dense int8 spike fold: a drop-in optimized
 * kernel that computes the same integers as the reference scatter kernel (spec/ops.md §12.2).
 * Included only by ps_fold.h, which decides when it applies; firmware/test/test_fold.c and the
 * conformance suite check it.
 *
 * gcc 12 does not vectorise the int8 -> int16 widening sum by itself, so it is written with
 * arm_mve.h intrinsics: per event, VLDRB.S16 loads 8 weights widened to int16 lanes and VADD.I16
 * adds them to a register accumulator; 6 accumulators (48 outputs) stay in Q registers across the
 * events of a chunk. A tile's tail is predicated (VCTP.16 predicates, zeroing loads), so rows of any
 * width need no scalar tail loop and no byte past a row is read. Under §12.1 every int16 lane sum of
 * at most 256 int8 weights lies in [-32768, 32512], so the wrapping VADD.I16 never wraps.
 */
#ifndef PS_FOLD_MVE_H
#define PS_FOLD_MVE_H

#include <arm_mve.h>
#include <stdint.h>

#include "ps_fixed.h"

/** Outputs one register tile covers: 6 vectors of 8 int16 lanes (q0-q5; q6-q7 stay free for loads). */
#define PS_MVE_TILE 48u

/** True when ps_fold_dense_i8_spikes pays: rows of at least 8 outputs (one vector), any alignment. */
static inline int ps_fold_dense_i8_fits(const int8_t *w, uint32_t outputs)
{
    (void)w;
    return outputs >= 8u;
}

/** Lanes of the vector at `lane0` within a tile of `width` outputs that hold outputs (0..8). */
static inline uint32_t ps_mve_lanes(uint32_t width, uint32_t lane0)
{
    return width > lane0 ? width - lane0 : 0u;
}

/**
 * acc[j] += scale * sum of w[rows[e] * outputs + j] over e < n, for j < outputs. Returns n * outputs.
 * Tiles of 48 outputs summed in int16 lanes over chunks of at most 256 events.
 */
static inline uint32_t ps_fold_dense_i8_spikes(const uint32_t *rows, uint32_t n, const int8_t *w, uint32_t outputs, int32_t scale, int32_t *acc)
{
    for (uint32_t e0 = 0u; e0 < n; e0 += 256u) {
        const uint32_t count = n - e0 < 256u ? n - e0 : 256u;
        const uint32_t *first = rows + e0;
        for (uint32_t j0 = 0u; j0 < outputs; j0 += PS_MVE_TILE) {
            const uint32_t width = outputs - j0 < PS_MVE_TILE ? outputs - j0 : PS_MVE_TILE;
            const mve_pred16_t p0 = vctp16q(ps_mve_lanes(width, 0u));
            const mve_pred16_t p1 = vctp16q(ps_mve_lanes(width, 8u));
            const mve_pred16_t p2 = vctp16q(ps_mve_lanes(width, 16u));
            const mve_pred16_t p3 = vctp16q(ps_mve_lanes(width, 24u));
            const mve_pred16_t p4 = vctp16q(ps_mve_lanes(width, 32u));
            const mve_pred16_t p5 = vctp16q(ps_mve_lanes(width, 40u));
            int16x8_t s0 = vdupq_n_s16(0);
            int16x8_t s1 = s0;
            int16x8_t s2 = s0;
            int16x8_t s3 = s0;
            int16x8_t s4 = s0;
            int16x8_t s5 = s0;
            const int8_t *base = w + j0;
            if (width == PS_MVE_TILE) {
                /* whole tile: unpredicated loads */
                for (uint32_t e = 0u; e < count; e++) {
                    const int8_t *row = base + first[e] * outputs;
                    s0 = vaddq_s16(s0, vldrbq_s16(row));
                    s1 = vaddq_s16(s1, vldrbq_s16(row + 8));
                    s2 = vaddq_s16(s2, vldrbq_s16(row + 16));
                    s3 = vaddq_s16(s3, vldrbq_s16(row + 24));
                    s4 = vaddq_s16(s4, vldrbq_s16(row + 32));
                    s5 = vaddq_s16(s5, vldrbq_s16(row + 40));
                }
            } else if (width <= 16u) {
                /* a row's last tile, predicated (inactive lanes load 0 and read nothing past the row);
                 * as few vectors as it needs, since each predicated load also reloads the predicate */
                for (uint32_t e = 0u; e < count; e++) {
                    const int8_t *row = base + first[e] * outputs;
                    s0 = vaddq_s16(s0, vldrbq_z_s16(row, p0));
                    s1 = vaddq_s16(s1, vldrbq_z_s16(row + 8, p1));
                }
            } else if (width <= 32u) {
                for (uint32_t e = 0u; e < count; e++) {
                    const int8_t *row = base + first[e] * outputs;
                    s0 = vaddq_s16(s0, vldrbq_s16(row));
                    s1 = vaddq_s16(s1, vldrbq_s16(row + 8));
                    s2 = vaddq_s16(s2, vldrbq_z_s16(row + 16, p2));
                    s3 = vaddq_s16(s3, vldrbq_z_s16(row + 24, p3));
                }
            } else {
                for (uint32_t e = 0u; e < count; e++) {
                    const int8_t *row = base + first[e] * outputs;
                    s0 = vaddq_s16(s0, vldrbq_s16(row));
                    s1 = vaddq_s16(s1, vldrbq_s16(row + 8));
                    s2 = vaddq_s16(s2, vldrbq_s16(row + 16));
                    s3 = vaddq_s16(s3, vldrbq_s16(row + 24));
                    s4 = vaddq_s16(s4, vldrbq_z_s16(row + 32, p4));
                    s5 = vaddq_s16(s5, vldrbq_z_s16(row + 40, p5));
                }
            }
            int16_t sums[PS_MVE_TILE];
            vst1q_s16(sums, s0);
            vst1q_s16(sums + 8, s1);
            vst1q_s16(sums + 16, s2);
            vst1q_s16(sums + 24, s3);
            vst1q_s16(sums + 32, s4);
            vst1q_s16(sums + 40, s5);
            for (uint32_t q = 0u; q < width; q++) {
                acc[j0 + q] += scale * (int32_t)sums[q];
            }
        }
    }
    return n * outputs;
}

#undef PS_MVE_TILE

#endif /* PS_FOLD_MVE_H */
