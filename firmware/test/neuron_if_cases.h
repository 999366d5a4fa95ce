/*
 * The IF neuron-update cases the Cortex-M fold tests share (test_neuron_m4.c, test_neuron_m0.c):
 * membranes, inputs and biases at and near the int32 extremes, thresholds 1 and 2^31 - 1, layers of
 * 1 to MAX_N neurons, with and without bias, checked against the reference ps_k_neuron_if
 * (refractory 0, subtract, vMin = INT32_MIN): spike lists, membranes and counts. The including file
 * defines MAX_N, PS_NEURON_IF_UNDER_TEST(n, bias_or_null, acc, v, theta, spikes) (the fold under
 * test), the buffers acc, bias, v_fast, v_ref, spikes_fast, spikes_ref, counts_fast, counts_ref,
 * refr, and the generator next(); it includes ps_port_text.h and the kernels first. Cases of other
 * neuron rules reuse draw_theta, draw_layer and check_update.
 */
#ifndef PS_NEURON_IF_CASES_H
#define PS_NEURON_IF_CASES_H

static int32_t extreme(void)
{
    switch (next() % 6u) {
    case 0u: return INT32_MAX - (int32_t)(next() % 4u);
    case 1u: return INT32_MIN + (int32_t)(next() % 4u);
    case 2u: return (int32_t)(next() % 2001u) - 1000;
    default: return (int32_t)next();
    }
}

/* Prints "neuron FAIL rule what case c" (no rule when it is empty) and END; returns 1. */
static int fail_rule(const char *rule, const char *what, uint32_t c)
{
    put_text("neuron FAIL ");
    if (rule[0] != '\0') {
        put_text(rule);
        put_text(" ");
    }
    put_text(what);
    put_text(" case ");
    put_u32(c);
    put_text("\nEND\n");
    return 1;
}

/* A threshold: 1 or 2^31 - 1 in one case of eight, else 1..5000. */
static int32_t draw_theta(void)
{
    return next() % 4u == 0u ? (next() % 2u == 0u ? 1 : INT32_MAX) : (int32_t)(1u + next() % 5000u);
}

/* Inputs, biases, membranes (v_fast = v_ref) and counts of n neurons, refractory 0. */
static void draw_layer(uint32_t n)
{
    for (uint32_t j = 0u; j < n; j++) {
        acc[j] = next() % 3u == 0u ? extreme() : (int32_t)(next() % 12001u) - 6000;
        bias[j] = next() % 5u == 0u ? extreme() : (int32_t)(next() % 201u) - 100;
        v_fast[j] = v_ref[j] = next() % 4u == 0u ? extreme() : (int32_t)(next() % 10001u) - 5000;
        counts_fast[j] = counts_ref[j] = next() % 50u == 0u ? UINT32_MAX : next() % 100u;
        refr[j] = 0u;
    }
}

/* Counts the fold's spikes as the reference does (saturating), then compares spike lists, membranes and counts. */
static int check_update(const char *rule, uint32_t n, uint32_t fired, uint32_t fired_ref, uint32_t c)
{
    for (uint32_t k = 0u; k < fired; k++) {
        if (counts_fast[spikes_fast[k]] != UINT32_MAX) {
            counts_fast[spikes_fast[k]] += 1u;
        }
    }
    if (fired != fired_ref) {
        return fail_rule(rule, "spike count", c);
    }
    for (uint32_t k = 0u; k < fired; k++) {
        if (spikes_fast[k] != spikes_ref[k]) {
            return fail_rule(rule, "spike list", c);
        }
    }
    for (uint32_t j = 0u; j < n; j++) {
        if (v_fast[j] != v_ref[j] || counts_fast[j] != counts_ref[j] || refr[j] != 0u) {
            return fail_rule(rule, "membrane or counts", c);
        }
    }
    return 0;
}

static int neuron_case(uint32_t c)
{
    uint32_t n = 1u + next() % MAX_N;
    int with_bias = (int)(next() % 2u);
    int32_t theta = draw_theta();
    draw_layer(n);
    uint32_t fired_ref = ps_k_neuron_if(with_bias ? n : 1u, with_bias ? 1u : n, with_bias ? bias : (const int32_t[1]){ 0 }, acc, INT32_MIN, v_ref, theta, true, 0,
                                        0u, refr, counts_ref, spikes_ref);
    uint32_t fired = PS_NEURON_IF_UNDER_TEST(n, with_bias ? bias : NULL, acc, v_fast, theta, spikes_fast);
    return check_update("if", n, fired, fired_ref, c);
}

#endif /* PS_NEURON_IF_CASES_H */
