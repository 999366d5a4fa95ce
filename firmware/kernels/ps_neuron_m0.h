#ifndef PS_NEURON_M0_H
#define PS_NEURON_M0_H

/*
 * IF neuron update for ARMv6-M (Cortex-M0/M0+), a drop-in for the reference kernel ps_k_neuron_if
 * (firmware/src/ps_kernels_generated.c) that MUST compute its integers (spec/ops.md §4.1, §12.2
 * item 2), under the same conditions as the Cortex-M4 one (ps_neuron_m4.h; ps_net.c checks them):
 * an `if` layer with no refractory period, reset by subtraction, no lower clamp (vMin = INT32_MIN),
 * threshold > 0 and a bias per neuron or none. Then per neuron
 *     x = sat32(sat32(v + b) + acc);  if (x >= theta) { x = x - theta; spike }  v = x
 * ARMv6-M has no QADD: ADDS sets V exactly when a + b leaves int32, and then the wrapped sum has the
 * opposite sign of the true one, so sat32 is (wrapped >> 31) XOR 0x80000000 (INT32_MAX when the
 * true sum was positive, INT32_MIN when negative), taken out of line. x - theta cannot overflow
 * (x >= theta > 0). A spike stores the address just past the neuron's acc entry, turned into its
 * index after the loop (work per spike, not per neuron): 12 instructions per neuron with a bias,
 * 9 without, where the generated loop takes about 27.
 */
#include <stdint.h>

/** Runs n IF neurons as above; bias may be NULL (no bias). Returns how many spiked; spikes[] gets their indices, ascending. */
static inline uint32_t ps_neuron_if_m0(uint32_t n, const int32_t *bias, const int32_t *acc, int32_t *v, int32_t theta, uint32_t *spikes)
{
    const int32_t *a = acc;
    const int32_t *end = acc + n;
    int32_t *pv = v;
    uint32_t *slot = spikes;
    int32_t x, t;
    if (n == 0u) {
        return 0u;
    }
    if (bias != NULL) {
        const int32_t *pb = bias;
        __asm__ volatile(".syntax unified\n\t"
                         "1:\n\t"
                         "ldr %[x], [%[pv]]\n\t"
                         "ldm %[pb]!, {%[t]}\n\t"
                         "adds %[x], %[x], %[t]\n\t"
                         "bvc 2f\n\t"
                         "asrs %[x], %[x], #31\n\t"
                         "movs %[t], #1\n\t"
                         "lsls %[t], %[t], #31\n\t"
                         "eors %[x], %[t]\n\t"
                         "2:\n\t"
                         "ldm %[a]!, {%[t]}\n\t"
                         "adds %[x], %[x], %[t]\n\t"
                         "bvc 3f\n\t"
                         "asrs %[x], %[x], #31\n\t"
                         "movs %[t], #1\n\t"
                         "lsls %[t], %[t], #31\n\t"
                         "eors %[x], %[t]\n\t"
                         "3:\n\t"
                         "cmp %[x], %[theta]\n\t"
                         "blt 4f\n\t"
                         "subs %[x], %[x], %[theta]\n\t"
                         "stm %[slot]!, {%[a]}\n\t"
                         "4:\n\t"
                         "stm %[pv]!, {%[x]}\n\t"
                         "cmp %[a], %[end]\n\t"
                         "bne 1b\n\t"
                         : [a] "+l"(a), [pv] "+l"(pv), [pb] "+l"(pb), [slot] "+l"(slot), [x] "=&l"(x), [t] "=&l"(t)
                         : [end] "r"(end), [theta] "l"(theta)
                         : "cc", "memory");
    } else {
        __asm__ volatile(".syntax unified\n\t"
                         "1:\n\t"
                         "ldr %[x], [%[pv]]\n\t"
                         "ldm %[a]!, {%[t]}\n\t"
                         "adds %[x], %[x], %[t]\n\t"
                         "bvc 3f\n\t"
                         "asrs %[x], %[x], #31\n\t"
                         "movs %[t], #1\n\t"
                         "lsls %[t], %[t], #31\n\t"
                         "eors %[x], %[t]\n\t"
                         "3:\n\t"
                         "cmp %[x], %[theta]\n\t"
                         "blt 4f\n\t"
                         "subs %[x], %[x], %[theta]\n\t"
                         "stm %[slot]!, {%[a]}\n\t"
                         "4:\n\t"
                         "stm %[pv]!, {%[x]}\n\t"
                         "cmp %[a], %[end]\n\t"
                         "bne 1b\n\t"
                         : [a] "+l"(a), [pv] "+l"(pv), [slot] "+l"(slot), [x] "=&l"(x), [t] "=&l"(t)
                         : [end] "r"(end), [theta] "l"(theta)
                         : "cc", "memory");
    }
    uint32_t fired = (uint32_t)(slot - spikes);
    /* each slot holds &acc[j + 1] as an address: back to the index j */
    for (uint32_t k = 0u; k < fired; k++) {
        spikes[k] = (uint32_t)(((const int32_t *)(uintptr_t)spikes[k] - acc) - 1);
    }
    return fired;
}

/*
 * The LIF update with shift leak (spec/ops.md §4.2) under the same conditions and a leak shift k >= 1:
 * per neuron x = v - (v >> k) (arithmetic shift: v - floor(v / 2^k), never overflows), then as the
 * IF update above. Six more instructions per neuron than the IF update: the leak shift and the end
 * of the layer are read from the stack each neuron, which leaves the eight low registers for the rest.
 */
#define PS_NEURON_M0_LIF_BODY(BIAS) \
    ".syntax unified\n\t" \
    "1:\n\t" \
    "ldr %[x], [%[pv]]\n\t" \
    "ldr %[t], %[k]\n\t" \
    "movs %[y], %[x]\n\t" \
    "asrs %[y], %[t]\n\t" \
    "subs %[x], %[x], %[y]\n\t" BIAS \
    "ldm %[a]!, {%[t]}\n\t" \
    "adds %[x], %[x], %[t]\n\t" \
    "bvc 3f\n\t" \
    "asrs %[x], %[x], #31\n\t" \
    "movs %[t], #1\n\t" \
    "lsls %[t], %[t], #31\n\t" \
    "eors %[x], %[t]\n\t" \
    "3:\n\t" \
    "cmp %[x], %[theta]\n\t" \
    "blt 4f\n\t" \
    "subs %[x], %[x], %[theta]\n\t" \
    "stm %[slot]!, {%[a]}\n\t" \
    "4:\n\t" \
    "stm %[pv]!, {%[x]}\n\t" \
    "ldr %[t], %[end]\n\t" \
    "cmp %[a], %[t]\n\t" \
    "bne 1b\n\t"
#define PS_NEURON_M0_LIF_BIAS \
    "ldm %[pb]!, {%[t]}\n\t" \
    "adds %[x], %[x], %[t]\n\t" \
    "bvc 2f\n\t" \
    "asrs %[x], %[x], #31\n\t" \
    "movs %[t], #1\n\t" \
    "lsls %[t], %[t], #31\n\t" \
    "eors %[x], %[t]\n\t" \
    "2:\n\t"

/** Runs n LIF (shift leak k >= 1) neurons as above; bias may be NULL. Returns how many spiked; spikes[] gets their indices, ascending. */
static inline uint32_t ps_neuron_lif_shift_m0(uint32_t n, const int32_t *bias, const int32_t *acc, int32_t *v, uint32_t k, int32_t theta, uint32_t *spikes)
{
    const int32_t *a = acc;
    const int32_t *end = acc + n;
    int32_t *pv = v;
    uint32_t *slot = spikes;
    int32_t x, t, y;
    if (n == 0u) {
        return 0u;
    }
    if (bias != NULL) {
        const int32_t *pb = bias;
        __asm__ volatile(PS_NEURON_M0_LIF_BODY(PS_NEURON_M0_LIF_BIAS)
                         : [a] "+l"(a), [pv] "+l"(pv), [pb] "+l"(pb), [slot] "+l"(slot), [x] "=&l"(x), [t] "=&l"(t), [y] "=&l"(y)
                         : [end] "m"(end), [theta] "l"(theta), [k] "m"(k)
                         : "cc", "memory");
    } else {
        __asm__ volatile(PS_NEURON_M0_LIF_BODY("")
                         : [a] "+l"(a), [pv] "+l"(pv), [slot] "+l"(slot), [x] "=&l"(x), [t] "=&l"(t), [y] "=&l"(y)
                         : [end] "m"(end), [theta] "l"(theta), [k] "m"(k)
                         : "cc", "memory");
    }
    uint32_t fired = (uint32_t)(slot - spikes);
    for (uint32_t j = 0u; j < fired; j++) {
        spikes[j] = (uint32_t)(((const int32_t *)(uintptr_t)spikes[j] - acc) - 1);
    }
    return fired;
}
#undef PS_NEURON_M0_LIF_BODY
#undef PS_NEURON_M0_LIF_BIAS

#endif /* PS_NEURON_M0_H */
