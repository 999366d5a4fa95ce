/*
 * Bit-exactness of the ARMv6-M IF update of firmware/kernels/ps_neuron_m0.h (spec/ops.md §12.2 item 2)
 * against the reference ps_k_neuron_if (refractory 0, subtract, vMin = INT32_MIN), on the cases of
 * neuron_if_cases.h (shared with test_neuron_m4.c): membranes, inputs and biases at and near the int32 extremes (the out-of-line
 * saturation both ways), thresholds 1 and 2^31 - 1, layers of 1 to 300 neurons, with and without
 * bias; spike lists, membranes and counts. Prints "neuron ok <cases>" or the first mismatch, then
 * "END" (test/fold.test.ts). The same cases, with leak shifts 1..31, check the LIF update against
 * ps_k_neuron_lif_shift. With -DPS_NEURON_MUTANT it includes ps_neuron_m0_mutant.h instead.
 */
#include <stddef.h>
#include <stdint.h>

#include "ps_fixed.h"
#include "ps_kernels_generated.h"
#include "ps_port.h"
#include "../ports/ps_port_text.h"
#ifdef PS_NEURON_MUTANT
#include "ps_neuron_m0_mutant.h"
#else
#include "ps_neuron_m0.h"
#endif

#define MAX_N 300u

static int32_t acc[MAX_N];
static int32_t bias[MAX_N];
static int32_t v_fast[MAX_N];
static int32_t v_ref[MAX_N];
static uint32_t spikes_fast[MAX_N];
static uint32_t spikes_ref[MAX_N];
static uint32_t counts_fast[MAX_N];
static uint32_t counts_ref[MAX_N];
static uint8_t refr[MAX_N];
static uint32_t rng = 0x2545f491u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

#define PS_NEURON_IF_UNDER_TEST ps_neuron_if_m0
#include "neuron_if_cases.h"

static int lif_case(uint32_t c)
{
    uint32_t n = 1u + next() % MAX_N;
    int with_bias = (int)(next() % 2u);
    uint32_t leak = 1u + next() % 31u;
    int32_t theta = draw_theta();
    draw_layer(n);
    uint32_t fired_ref = ps_k_neuron_lif_shift(with_bias ? n : 1u, with_bias ? 1u : n, with_bias ? bias : (const int32_t[1]){ 0 }, acc, INT32_MIN, v_ref,
                                               (uint8_t)leak, theta, true, 0, 0u, refr, counts_ref, spikes_ref);
    uint32_t fired = ps_neuron_lif_shift_m0(n, with_bias ? bias : NULL, acc, v_fast, leak, theta, spikes_fast);
    return check_update("lif", n, fired, fired_ref, c);
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
    for (uint32_t c = 0u; c < 400u; c++, cases++) {
        if (lif_case(c) != 0) {
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
