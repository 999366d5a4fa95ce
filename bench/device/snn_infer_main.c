/*
 * Whole-inference cost of the SNN for the SNN-vs-ANN benchmark (bench/snn-vs-ann.bench.ts): per
 * compiled-in digit, reset the network and run SNN_STEPS steps of its `current`-encoded input
 * (every non-zero pixel a graded event of its intensity), then read the class out. With SNN_HELD the
 * input is folded once (ps_net_hold_input) and every step is ps_net_step_held (spec/ops.md §7.3),
 * else each step folds the events again (ps_net_step). The counter ticks cover everything from the
 * reset to the readout, ps_port_cycles_align() first, so under QEMU -icount shift=0 the figure is
 * deterministic.
 *
 * The workload header defines SNN_DIGITS, SNN_STEPS, snn_offsets[SNN_DIGITS + 1] and snn_indices[] /
 * snn_values[] (each digit's events), SNN_MAX_EVENTS, SNN_STATE_WORDS, SNN_LAYER0 (layer 0's size).
 * Prints per digit `N <digit> <ticks> <class> <spikes>`.
 */
#include <stddef.h>
#include <stdint.h>

#include "ps_model_generated.h"
#include "ps_net.h"
#include "ps_port.h"
#include "../../firmware/ports/ps_port_text.h"
#include "snn_workload.h"

static uint32_t snn_state[SNN_STATE_WORDS];
static uint32_t snn_input[SNN_MAX_EVENTS];
static int32_t snn_held[SNN_LAYER0];
static ps_net_t snn_net;

int main(void)
{
    ps_port_init();
    ps_status_t st = ps_net_init(&snn_net, &PS_MODEL_GENERATED, snn_state, SNN_STATE_WORDS);
    if (st != PS_OK) {
        put_text("ERROR ");
        put_u32((uint32_t)st);
        put_text("\n");
        for (;;) {
            ps_port_idle();
        }
    }
    put_text("BEGIN\n");
    for (uint32_t d = 0u; d < SNN_DIGITS; d++) {
        uint32_t n = snn_offsets[d + 1u] - snn_offsets[d];
        const uint8_t *values = snn_values + snn_offsets[d];
        for (uint32_t e = 0u; e < n; e++) {
            snn_input[e] = snn_indices[snn_offsets[d] + e];
        }
        uint32_t start = ps_port_cycles_align();
        ps_net_reset(&snn_net);
#ifdef SNN_HELD
        st = ps_net_hold_input(&snn_net, snn_input, values, n, snn_held);
        for (uint32_t t = 0u; t < SNN_STEPS && st == PS_OK; t++) {
            st = ps_net_step_held(&snn_net, snn_held);
        }
#else
        (void)snn_held;
        for (uint32_t t = 0u; t < SNN_STEPS && st == PS_OK; t++) {
            st = ps_net_step(&snn_net, snn_input, values, n);
        }
#endif
        uint32_t cls = ps_net_readout(&snn_net);
        uint32_t ticks = ps_port_cycles() - start;
        uint32_t spikes = 0u;
        for (uint32_t l = 0u; l < PS_MODEL_GENERATED.n_layers; l++) {
            const uint32_t *counts = ps_net_counts(&snn_net, l);
            for (uint32_t j = 0u; j < PS_MODEL_GENERATED.layers[l].size; j++) {
                spikes += counts[j];
            }
        }
        put_text("N ");
        put_u32(d);
        put_text(" ");
        put_u32(ticks);
        put_text(" ");
        put_u32(cls);
        put_text(" ");
        put_u32(spikes);
        put_text(st == PS_OK ? "\n" : " ERROR\n");
    }
    put_text("END\n");
    for (;;) {
        ps_port_idle();
    }
}
