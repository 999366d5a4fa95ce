/*
 * Bit-exactness of the Cortex-M4 drop-ins of firmware/kernels/ps_neuron_m4.h (spec/ops.md §12.2
 * items 2 and 3) against the reference kernels of ps_kernels_generated.c, on pseudo-random cases:
 *  - ps_neuron_if_m4 vs ps_k_neuron_if (refractory 0, subtract, vMin = INT32_MIN): membranes,
 *    inputs and biases at and near the int32 extremes (QADD saturation both ways), thresholds 1 and
 *    2^31 - 1, layers of 1 to 300 neurons, with and without bias; spike lists, membranes and counts;
 *  - ps_held_dense_i8_m4 vs ps_k_scatter_dense_w8_exact on graded events: weights -128/127 and
 *    random, values 1..255, event counts around the 64-event chunk, outputs 4..64, shifts that keep
 *    §12.1's bound, nonzero starting accumulators.
 * Prints "neuron ok <cases>" or the first mismatch, then "END" (test/fold.test.ts). With
 * -DPS_NEURON_MUTANT it includes ps_neuron_m4_mutant.h instead (the test's mutants, which must fail).
 */
#include <stddef.h>
#include <stdint.h>

#include "ps_fixed.h"
#include "ps_kernels_generated.h"
#include "ps_port.h"
#include "../ports/ps_port_text.h"
#ifdef PS_NEURON_MUTANT
#include "ps_neuron_m4_mutant.h"
#else
#include "ps_neuron_m4.h"
#endif

#define MAX_N 300u
#define MAX_IN 200u
#define MAX_OUT 64u

static int32_t acc[MAX_N];
static int32_t bias[MAX_N];
static int32_t v_fast[MAX_N];
static int32_t v_ref[MAX_N];
static uint32_t spikes_fast[MAX_N];
static uint32_t spikes_ref[MAX_N];
static uint32_t counts_fast[MAX_N];
static uint32_t counts_ref[MAX_N];
static uint8_t refr[MAX_N];
static int8_t weights[MAX_IN * MAX_OUT];
static uint32_t pre[MAX_IN];
static uint8_t values[MAX_IN];
static int32_t held_fast[MAX_OUT];
static int32_t held_ref[MAX_OUT];
static uint32_t rng = 0x2545f491u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

#define PS_NEURON_IF_UNDER_TEST ps_neuron_if_m4
#include "neuron_if_cases.h"

static int held_case(uint32_t c)
{
    static const uint32_t event_counts[] = { 1u, 5u, 63u, 64u, 65u, 127u, 128u, 129u, 200u };
    uint32_t inputs = MAX_IN;
    uint32_t outputs = 4u * (1u + next() % (MAX_OUT / 4u));
    uint32_t n = event_counts[c % (sizeof event_counts / sizeof event_counts[0])];
    uint32_t mode = next() % 3u;
    for (uint32_t k = 0u; k < inputs * outputs; k++) {
        weights[k] = mode == 0u ? (int8_t)-128 : mode == 1u ? (int8_t)127 : (int8_t)(next() % 256u);
    }
    /* n ascending distinct inputs */
    uint32_t e = 0u;
    for (uint32_t i = 0u; i < inputs && e < n; i++) {
        if (inputs - i <= n - e || next() % 2u == 0u) {
            pre[e] = i;
            values[e] = next() % 3u == 0u ? 255u : (uint8_t)(1u + next() % 255u);
            e++;
        }
    }
    /* the §12.1 bound for graded steps: inputs * 128 * 255 * 2^shift plus the starting value stays inside int32 */
    uint8_t shift = (uint8_t)(next() % 7u);
    for (uint32_t j = 0u; j < outputs; j++) {
        held_fast[j] = held_ref[j] = (int32_t)(next() % 2001u) - 1000;
    }
    (void)ps_k_scatter_dense_w8_exact(pre, n, values, true, outputs, weights, &shift, false, 1u, held_ref);
    ps_held_dense_i8_m4(pre, values, n, weights, outputs, shift, held_fast);
    for (uint32_t j = 0u; j < outputs; j++) {
        if (held_fast[j] != held_ref[j]) {
            return fail_rule("held", "fold", c);
        }
    }
    return 0;
}

int main(void)
{
    ps_port_init();
    uint32_t cases = 0u;
    for (uint32_t c = 0u; c < 400u; c++, cases++) {
        if (neuron_case(c) != 0) {
            goto done;
        }
    }
    for (uint32_t c = 0u; c < 180u; c++, cases++) {
        if (held_case(c) != 0) {
            goto done;
        }
    }
    put_text("neuron ok ");
    put_u32(cases);
    put_text("\nEND\n");
done:
    for (;;) {
        ps_port_idle();
    }
}
