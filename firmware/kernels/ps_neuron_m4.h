#ifndef PS_NEURON_M4_H
#define PS_NEURON_M4_H

/*
 * IF neuron update for the Cortex-M4 (DSP extension), a drop-in for the reference kernel
 * ps_k_neuron_if (firmware/src/ps_kernels_generated.c) that MUST compute its integers
 * (spec/ops.md §4.1, §12.2 item 2). It applies only to an `if` layer with no refractory period, reset by
 * subtraction, no lower clamp (vMin = INT32_MIN) and a bias per neuron or none; ps_net.c checks that.
 * Then the refractory counters stay 0 (they are set to `refractory` = 0 on a spike), so per neuron
 *     x = sat32(sat32(v + b) + acc);  if (x >= theta) { x = x - theta; spike }  v = x
 * QADD is sat32(a + b) exactly, and x - theta cannot overflow (x >= theta > 0). No branch per
 * neuron: the spike list slot is written for every neuron and the count of spikes advances under the
 * compare flags (IT GE), 13 instructions per neuron with a bias, 11 without. The slot holds the
 * address just past the neuron's acc entry, turned into its index after the loop (work per spike,
 * not per neuron); spike counts are raised from the list afterwards (ps_net.c), also per spike.
 */
#include <stdint.h>

/** Runs n IF neurons as above; bias may be NULL (no bias). Returns how many spiked; spikes[] gets their indices, ascending. */
static inline uint32_t ps_neuron_if_m4(uint32_t n, const int32_t *bias, const int32_t *acc, int32_t *v, int32_t theta, uint32_t *spikes)
{
    const int32_t *a = acc;
    const int32_t *end = acc + n;
    int32_t *pv = v;
    uint32_t fired = 0u;
    int32_t x, in, b;
    if (n == 0u) {
        return 0u;
    }
    if (bias != NULL) {
        const int32_t *pb = bias;
        __asm__ volatile(
            "1:\n\t"
            "ldr %[in], [%[a]], #4\n\t"
            "ldr %[x], [%[pv]]\n\t"
            "ldr %[b], [%[pb]], #4\n\t"
            "qadd %[x], %[x], %[b]\n\t"
            "qadd %[x], %[x], %[in]\n\t"
            "str %[a], [%[spk], %[fired], lsl #2]\n\t"
            "cmp %[x], %[theta]\n\t"
            "itt ge\n\t"
            "subge %[x], %[x], %[theta]\n\t"
            "addge %[fired], %[fired], #1\n\t"
            "str %[x], [%[pv]], #4\n\t"
            "cmp %[a], %[end]\n\t"
            "bne 1b\n\t"
            : [a] "+r"(a), [pv] "+r"(pv), [pb] "+r"(pb), [fired] "+r"(fired), [x] "=&r"(x), [in] "=&r"(in), [b] "=&r"(b)
            : [end] "r"(end), [theta] "r"(theta), [spk] "r"(spikes)
            : "cc", "memory");
    } else {
        __asm__ volatile(
            "1:\n\t"
            "ldr %[in], [%[a]], #4\n\t"
            "ldr %[x], [%[pv]]\n\t"
            "qadd %[x], %[x], %[in]\n\t"
            "str %[a], [%[spk], %[fired], lsl #2]\n\t"
            "cmp %[x], %[theta]\n\t"
            "itt ge\n\t"
            "subge %[x], %[x], %[theta]\n\t"
            "addge %[fired], %[fired], #1\n\t"
            "str %[x], [%[pv]], #4\n\t"
            "cmp %[a], %[end]\n\t"
            "bne 1b\n\t"
            : [a] "+r"(a), [pv] "+r"(pv), [fired] "+r"(fired), [x] "=&r"(x), [in] "=&r"(in)
            : [end] "r"(end), [theta] "r"(theta), [spk] "r"(spikes)
            : "cc", "memory");
    }
    (void)b;
    /* each slot holds &acc[j + 1] as an address: back to the index j */
    for (uint32_t k = 0u; k < fired; k++) {
        spikes[k] = (uint32_t)(((const int32_t *)(uintptr_t)spikes[k] - acc) - 1);
    }
    return fired;
}


/*
 * Held-input fold of a dense int8 connection with graded events (spec/ops.md §7.3, §12.2 item 3), a
 * drop-in for ps_k_scatter_dense_w8_exact on graded events with one shift for the layer, used only
 * where §12.1's bound holds for graded steps: then acc[j] + Σ_e w[pre_e][j]·value_e·2^shift equals
 * acc[j] + 2^shift·Σ_e w[pre_e][j]·value_e with every partial sum inside int32, in any order. Four
 * outputs' sums stay in registers across a chunk of at most 64 events, each event one word
 * (row offset << 8 | value): per event SXTB16 splits its four weights into pairs and SMLABB/SMLATB
 * add weight × value to each sum, 12 instructions per 4 synapses (3 per synapse). Rows need outputs % 4 == 0 and
 * inputs · outputs < 2^24 (the packed offset); the caller checks.
 */
static inline void ps_held_dense_i8_m4(const uint32_t *pre, const uint8_t *values, uint32_t n, const int8_t *w, uint32_t outputs, uint32_t shift, int32_t *acc)
{
    uint32_t packed[64];
    for (uint32_t start = 0u; start < n; start += 64u) {
        uint32_t count = n - start < 64u ? n - start : 64u;
        for (uint32_t e = 0u; e < count; e++) {
            packed[e] = ((pre[start + e] * outputs) << 8) | values[start + e];
        }
        for (uint32_t j = 0u; j < outputs; j += 4u) {
            int32_t a0 = 0;
            int32_t a1 = 0;
            int32_t a2 = 0;
            int32_t a3 = 0;
            const uint32_t *pe = packed;
            const uint32_t *end = packed + count;
            const int8_t *base = w + j;
            uint32_t ev, val, v, t;
            __asm__ volatile(
                "1:\n\t"
                "ldr %[ev], [%[pe]], #4\n\t"
                "uxtb %[val], %[ev]\n\t"
                "add %[v], %[base], %[ev], lsr #8\n\t"
                "ldr %[v], [%[v]]\n\t"
                "sxtb16 %[t], %[v]\n\t"
                "smlabb %[a0], %[t], %[val], %[a0]\n\t"
                "smlatb %[a2], %[t], %[val], %[a2]\n\t"
                "sxtb16 %[t], %[v], ror #8\n\t"
                "smlabb %[a1], %[t], %[val], %[a1]\n\t"
                "smlatb %[a3], %[t], %[val], %[a3]\n\t"
                "cmp %[pe], %[end]\n\t"
                "bne 1b\n\t"
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [pe] "+r"(pe), [ev] "=&r"(ev), [val] "=&r"(val), [v] "=&r"(v), [t] "=&r"(t)
                : [end] "r"(end), [base] "r"(base)
                : "cc", "memory");
            acc[j] += (int32_t)((uint32_t)a0 << shift);
            acc[j + 1u] += (int32_t)((uint32_t)a1 << shift);
            acc[j + 2u] += (int32_t)((uint32_t)a2 << shift);
            acc[j + 3u] += (int32_t)((uint32_t)a3 << shift);
        }
    }
}

#endif /* PS_NEURON_M4_H */
