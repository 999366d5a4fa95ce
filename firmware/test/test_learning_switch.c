/*
 * ps_net built with a subset of the learning rules (PS_NET_LEARNING, ps_net.h): prints the
 * ps_net_init status of one plastic layer per rule (no learning, step-timed rstdp, event-timed
 * rstdp, triplet, epoch-timed rstdp, epoch-timed stdp) on one line, so a build without a rule shows
 * PS_E_DEVICE_LEARNING_NOT_BUILT for exactly the models that need it. With the argument `bytes` it
 * prints instead ps_net_plastic_bytes of a 3 -> 5 layer for each of those rules (the host's
 * plasticRamBytes must agree). Built and run by test/c-learning-switch.test.ts.
 */
#include <stdio.h>
#include <string.h>

#include "ps_net.h"

static const int8_t weights[15] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t shift[1] = {0u};
static const uint8_t name[2] = {'l', '0'};
static uint32_t state[512];
static ps_net_t net;

/* One dense layer of `inputs` -> `size` int8 synapses, plastic by `rule` and `timing` when `plastic`. */
static void fill(ps_layer_t *layer, ps_model_t *model, uint32_t inputs, uint32_t size, int plastic, uint8_t rule, uint8_t timing)
{
    memset(layer, 0, sizeof *layer);
    memset(model, 0, sizeof *model);
    layer->name = name;
    layer->name_len = 2u;
    layer->size = size;
    layer->channels = size;
    layer->input.kind = PS_CONN_DENSE;
    layer->input.inputs = inputs;
    layer->input.outputs = size;
    layer->input.synapses = inputs * size;
    layer->input.weights.bits = 8u;
    layer->input.weights.count = inputs * size;
    layer->input.weights.i8 = weights;
    layer->input.weights.shift = shift;
    layer->input.weights.shift_len = 1u;
    layer->recurrent.kind = PS_CONN_NONE;
    layer->neuron.model = PS_NEURON_LIF_SHIFT;
    layer->neuron.leak_shift = 4u;
    layer->neuron.leak_q15 = 32767u;
    layer->neuron.threshold = 10;
    layer->neuron.v_min = INT32_MIN;
    layer->has_plasticity = (uint8_t)plastic;
    layer->plasticity.rule = rule;
    layer->plasticity.timing = timing;
    layer->plasticity.pre_trace_shift = 3u;
    layer->plasticity.post_trace_shift = 3u;
    layer->plasticity.eligibility_shift = 4u;
    layer->plasticity.triplet_shift = rule == PS_RULE_TRIPLET ? 5u : 0u;
    /* epochs of 2 steps, so the 3 steps below end one (its pass runs) */
    layer->plasticity.epoch_shift = timing == PS_TIMING_EPOCH ? 1u : 0u;
    layer->plasticity.trace_increment = 1024;
    layer->plasticity.a_plus = 96;
    layer->plasticity.a_minus = 64;
    layer->plasticity.w_min = -127;
    layer->plasticity.w_max = 127;
    model->input.size = inputs;
    model->n_layers = 1u;
    model->layers = layer;
    model->synapses = inputs * size;
}

static ps_status_t init_with(int plastic, uint8_t rule, uint8_t timing)
{
    ps_layer_t layer;
    ps_model_t model;
    fill(&layer, &model, 2u, 2u, plastic, rule, timing);
    ps_status_t status = ps_net_init(&net, &model, state, 512u);
    if (status == PS_OK) {
        /* a step with a pre event, a spike and a reward runs whatever was built */
        const uint32_t pre[2] = {0u, 1u};
        ps_net_reward(&net, 100);
        for (int t = 0; t < 3; t++) {
            (void)ps_net_step(&net, pre, NULL, 2u);
        }
    }
    return status;
}

static unsigned bytes_of(int plastic, uint8_t rule, uint8_t timing)
{
    ps_layer_t layer;
    ps_model_t model;
    fill(&layer, &model, 3u, 5u, plastic, rule, timing);
    return (unsigned)ps_net_plastic_bytes(&model);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "bytes") == 0) {
        printf("%u %u %u %u %u %u\n", bytes_of(0, PS_RULE_RSTDP, PS_TIMING_STEP), bytes_of(1, PS_RULE_RSTDP, PS_TIMING_STEP),
               bytes_of(1, PS_RULE_RSTDP, PS_TIMING_EVENT), bytes_of(1, PS_RULE_TRIPLET, PS_TIMING_EVENT), bytes_of(1, PS_RULE_RSTDP, PS_TIMING_EPOCH),
               bytes_of(1, PS_RULE_STDP, PS_TIMING_EPOCH));
        return 0;
    }
    printf("%d %d %d %d %d %d\n", (int)init_with(0, PS_RULE_RSTDP, PS_TIMING_STEP), (int)init_with(1, PS_RULE_RSTDP, PS_TIMING_STEP),
           (int)init_with(1, PS_RULE_RSTDP, PS_TIMING_EVENT), (int)init_with(1, PS_RULE_TRIPLET, PS_TIMING_EVENT), (int)init_with(1, PS_RULE_RSTDP, PS_TIMING_EPOCH),
           (int)init_with(1, PS_RULE_STDP, PS_TIMING_EPOCH));
    return 0;
}
