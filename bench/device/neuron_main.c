/*
 * Cost of one IF neuron-step (bench/snn-vs-ann.bench.ts): NEURON_REPS steps of a 256-neuron IF
 * layer with a bias per neuron, reset by subtraction, no refractory period, no clamp (the MNIST MLP's
 * hidden layer), through the Cortex-M4 kernel (ps_neuron_if_m4, firmware/kernels/ps_neuron_m4.h)
 * plus raising the spike counts from its list as ps_net.c does, and through the reference kernel
 * (ps_k_neuron_if); inputs vary per step so that about one neuron
 * in eight spikes. Prints `K <ticks fast> <ticks reference> <spikes fast> <spikes reference>`.
 */
#include <stddef.h>
#include <stdint.h>

#include "ps_kernels_generated.h"
#include "ps_neuron_m4.h"
#include "ps_port.h"
#include "../../firmware/ports/ps_port_text.h"

#define NEURONS 256u
#define NEURON_REPS 64u

static int32_t acc[NEURONS];
static int32_t bias[NEURONS];
static int32_t v_fast[NEURONS];
static int32_t v_ref[NEURONS];
static uint32_t spikes[NEURONS];
static uint32_t counts[NEURONS];
static uint32_t counts_fast[NEURONS];
static uint8_t refr[NEURONS];

int main(void)
{
    ps_port_init();
    uint32_t x = 12345u;
    for (uint32_t j = 0u; j < NEURONS; j++) {
        x = x * 1103515245u + 12345u;
        bias[j] = (int32_t)((x >> 16) % 64u) - 32;
        acc[j] = (int32_t)((x >> 8) % 160u);
    }
    uint32_t fired_fast = 0u;
    uint32_t fired_ref = 0u;
    uint32_t start = ps_port_cycles_align();
    for (uint32_t r = 0u; r < NEURON_REPS; r++) {
        uint32_t fired = ps_neuron_if_m4(NEURONS, bias, acc, v_fast, 1000, spikes);
        /* the spike counts, raised from the list as ps_net.c does */
        for (uint32_t k = 0u; k < fired; k++) {
            if (counts_fast[spikes[k]] != UINT32_MAX) {
                counts_fast[spikes[k]] += 1u;
            }
        }
        fired_fast += fired;
    }
    uint32_t fast = ps_port_cycles() - start;
    start = ps_port_cycles_align();
    for (uint32_t r = 0u; r < NEURON_REPS; r++) {
        fired_ref += ps_k_neuron_if(NEURONS, 1u, bias, acc, INT32_MIN, v_ref, 1000, true, 0, 0u, refr, counts, spikes);
    }
    uint32_t ref = ps_port_cycles() - start;
    put_text("K ");
    put_u32(fast);
    put_text(" ");
    put_u32(ref);
    put_text(" ");
    put_u32(fired_fast);
    put_text(" ");
    put_u32(fired_ref);
    put_text("\nEND\n");
    for (;;) {
        ps_port_idle();
    }
}
