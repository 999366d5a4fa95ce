/*
 * Bit-exactness of the C-only dense int8 spike fold (spec/ops.md §12.2, ps_fold_dense_i8_spikes in
 * firmware/kernels/) against the plain exact fold of the IR kernel, on pseudo-random cases: weights at
 * every offset mod 4 (rows that share one misalignment, and rows of odd or 2 mod 4 widths whose
 * starts take 2 or 4 alignments), widths of every residue mod 4 around
 * the 1..4-word register tiles, event counts past the Cortex-M0 row buckets (32, 64, 128 rows) and
 * the 256-event int16 chunk, shifts 0..7, nonzero starting accumulators, and
 * weights all -128 or all 127 (the int16 and lane extremes). Built for each Cortex-M
 * board (the SXTAB16 register path on Cortex-M4, the biased register-lane path on Cortex-M0, the
 * Helium int16 vector lanes with predicated tails on Cortex-M55); it prints
 * "fold ok <cases>" or the first mismatch, then "END" (test/fold.test.ts).
 */
#include <stddef.h>
#include <stdint.h>

#include "ps_fixed.h"
#ifdef PS_FOLD_MUTANT
/* test/fold.test.ts: a deliberately broken copy of this core's fold header, which the test must catch */
#define PS_FOLD_DENSE_I8_SPIKES 1
#include "ps_fold_mutant.h"
#else
#include "ps_fold.h"
#endif
#include "ps_port.h"
#include "../ports/ps_port_text.h"

#define ROWS 24u
#define MAX_OUT 264u
#define MAX_EVENTS 300u

static int8_t weights_store[ROWS * MAX_OUT + 8u] __attribute__((aligned(8)));
static uint32_t rows[MAX_EVENTS];
static int32_t acc_fast[MAX_OUT];
static int32_t acc_plain[MAX_OUT];

int main(void)
{
    /* every residue mod 4, and mod 16 after 16-output tiles (Cortex-M4 tails of 1..15) and mod 12 (ARMv6-M 3-word tiles) */
    static const uint32_t widths[] = { 1u, 4u, 5u, 6u, 7u, 8u, 9u, 10u, 12u, 13u, 14u, 15u, 16u, 17u, 18u, 19u, 24u, 30u, 35u, 40u, 63u, 64u, 65u, 100u, 128u, 129u, 136u, 255u, 256u, 257u, 264u };
    static const uint32_t events[] = { 0u, 1u, 2u, 3u, 17u, 32u, 33u, 64u, 65u, 128u, 129u, 255u, 256u, 257u, 300u };
    uint32_t state = 0x9e3779b9u;
    uint32_t cases = 0u;
    ps_port_init();
    /* random weights, then every weight -128 and every weight 127: the int16 and 16-bit lane extremes */
    for (uint32_t fill = 0u; fill < 3u; fill++) {
        for (uint32_t q = 0u; q < sizeof weights_store; q++) {
            weights_store[q] = fill == 0u ? (int8_t)((int32_t)(ps_xorshift32_next(&state) & 0xffu) - 128) : (fill == 1u ? (int8_t)-128 : (int8_t)127);
        }
        for (uint32_t wi = 0u; wi < sizeof widths / sizeof widths[0]; wi++) {
            for (uint32_t ei = 0u; ei < sizeof events / sizeof events[0]; ei++) {
                for (uint32_t offset = 0u; offset < 4u; offset++) {
                    uint32_t outputs = widths[wi];
                    uint32_t n = events[ei];
                    const int8_t *w = weights_store + offset; /* offset 1..3: unaligned rows */
                    uint32_t shift = ps_xorshift32_next(&state) % 8u;
                    int32_t scale = (int32_t)(1u << shift);
                    for (uint32_t e = 0u; e < n; e++) {
                        rows[e] = ps_xorshift32_next(&state) % ROWS;
                    }
                    for (uint32_t j = 0u; j < outputs; j++) {
                        int32_t start = (int32_t)(ps_xorshift32_next(&state) % 20001u) - 10000;
                        acc_fast[j] = start;
                        acc_plain[j] = start;
                    }
                    for (uint32_t e = 0u; e < n; e++) {
                        for (uint32_t j = 0u; j < outputs; j++) {
                            acc_plain[j] = ps_add_exact32(acc_plain[j], ps_mul_exact32((int32_t)w[rows[e] * outputs + j], scale));
                        }
                    }
                    uint32_t count = ps_fold_dense_i8_spikes(rows, n, w, outputs, scale, acc_fast);
                    for (uint32_t j = 0u; j < outputs; j++) {
                        if (acc_fast[j] != acc_plain[j] || count != n * outputs) {
                            put_text("fold MISMATCH fill=");
                            put_u32(fill);
                            put_text(" outputs=");
                            put_u32(outputs);
                            put_text(" events=");
                            put_u32(n);
                            put_text(" offset=");
                            put_u32(offset);
                            put_text(" j=");
                            put_u32(j);
                            put_text("\nEND\n");
                            for (;;) {
                                ps_port_idle();
                            }
                        }
                    }
                    cases++;
                }
            }
        }
    }
    put_text("fold ok ");
    put_u32(cases);
    put_text("\nEND\n");
    for (;;) {
        ps_port_idle();
    }
}
