/*
 * The C network runtime (ps_net.h): binds a validated model to its generated kernels and
 * orchestrates one step as spec/ops.md §6 says, mirroring Interpreter.step in
 * runtime/interpreter.ts line by line. No arithmetic on state happens here: that is all in the
 * generated kernels (ps_kernels_generated.c) and the primitives (ps_fixed.h).
 */
#include "ps_net.h"

#include <stdbool.h>
#include <string.h>

#include "ps_fixed.h"
#include "ps_kernels_generated.h"
#if defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_FEATURE_DSP)
#include "ps_neuron_m4.h"
#define PS_NEURON_IF_FAST 1
#elif defined(__GNUC__) && defined(__OPTIMIZE__) && defined(__ARM_ARCH_6M__)
#include "ps_neuron_m0.h"
#define PS_NEURON_IF_M0 1
#endif

static const int32_t ps_net_zero_bias[1] = { 0 };

/** Neurons per channel of a layer (H*W with a shape, else 1), spec/ops.md §5.1. */
static uint32_t ps_net_plane(const ps_layer_t *layer)
{
    return layer->has_shape ? layer->shape.h * layer->shape.w : 1u;
}

/** Channels of a layer (shape C, else one per neuron). */
static uint32_t ps_net_channels(const ps_layer_t *layer)
{
    return layer->has_shape ? layer->shape.c : layer->size;
}

/** Adds connection c's accumulation bound (spec/ops.md §12.1) for events of value up to vmax into bound. */
static void ps_net_bound(const ps_connection_t *c, const ps_layer_t *post, uint32_t vmax, int32_t *bound)
{
    const ps_weights_t *w = &c->weights;
    bool per_channel = w->shift_len != 1u;
    uint32_t plane = ps_net_plane(post);
    uint32_t channels = ps_net_channels(post);
    switch (c->kind) {
    case PS_CONN_DENSE:
        if (w->bits == 4u) {
            ps_k_bound_dense_w4(c->inputs, channels, w->packed4, w->shift, per_channel, plane, vmax, bound);
        } else if (w->bits == 8u) {
            ps_k_bound_dense_w8(c->inputs, channels, w->i8, w->shift, per_channel, plane, vmax, bound);
        } else {
            ps_k_bound_dense_w16(c->inputs, channels, w->i16, w->shift, per_channel, plane, vmax, bound);
        }
        break;
    case PS_CONN_SPARSE:
        if (c->cols16 != NULL) {
            if (w->bits == 4u) {
                ps_k_bound_sparse_w4_c16(c->inputs, c->row_ptr, c->cols16, w->packed4, w->shift, per_channel, plane, vmax, bound);
            } else if (w->bits == 8u) {
                ps_k_bound_sparse_w8_c16(c->inputs, c->row_ptr, c->cols16, w->i8, w->shift, per_channel, plane, vmax, bound);
            } else {
                ps_k_bound_sparse_w16_c16(c->inputs, c->row_ptr, c->cols16, w->i16, w->shift, per_channel, plane, vmax, bound);
            }
        } else {
            if (w->bits == 4u) {
                ps_k_bound_sparse_w4_c32(c->inputs, c->row_ptr, c->cols32, w->packed4, w->shift, per_channel, plane, vmax, bound);
            } else if (w->bits == 8u) {
                ps_k_bound_sparse_w8_c32(c->inputs, c->row_ptr, c->cols32, w->i8, w->shift, per_channel, plane, vmax, bound);
            } else {
                ps_k_bound_sparse_w16_c32(c->inputs, c->row_ptr, c->cols32, w->i16, w->shift, per_channel, plane, vmax, bound);
            }
        }
        break;
    case PS_CONN_CONV2D: {
        uint32_t out_plane = c->out_shape.h * c->out_shape.w;
        if (w->bits == 4u) {
            ps_k_bound_conv2d_w4(c->in_shape.c, c->kernel[0], c->kernel[1], c->out_shape.c, out_plane, w->packed4, w->shift, per_channel, vmax, bound);
        } else if (w->bits == 8u) {
            ps_k_bound_conv2d_w8(c->in_shape.c, c->kernel[0], c->kernel[1], c->out_shape.c, out_plane, w->i8, w->shift, per_channel, vmax, bound);
        } else {
            ps_k_bound_conv2d_w16(c->in_shape.c, c->kernel[0], c->kernel[1], c->out_shape.c, out_plane, w->i16, w->shift, per_channel, vmax, bound);
        }
        break;
    }
    case PS_CONN_POOL:
        ps_k_bound_pool(c->kernel[0], c->kernel[1], c->pool_weight, c->pool_shift, post->size, vmax, bound);
        break;
    default:
        break; /* PS_CONN_NONE */
    }
}

/**
 * True when the accumulation bound of spec/ops.md §12.1 holds for the layer with feed-forward
 * events up to vmax (recurrent events are spikes): then the exact kernels equal the saturating
 * ones. `scratch` (the layer's acc, size words) holds the per-neuron bounds.
 */
static bool ps_net_exact(const ps_layer_t *layer, uint32_t vmax, int32_t *scratch)
{
    memset(scratch, 0, (size_t)layer->size * sizeof(int32_t));
    ps_net_bound(&layer->input, layer, vmax, scratch);
    ps_net_bound(&layer->recurrent, layer, 1u, scratch);
    return scratch[ps_k_argmax_i32(scratch, layer->size)] < INT32_MAX;
}

static int16_t ps_net_no_elig[1];
/* stand-ins for the epoch pass's row bounds (stdp) and int8 copy (a clamp wider than int8): never read or written */
static uint16_t ps_net_no_bound[1];
static int8_t ps_net_no_w8[1];

/**
 * spec/ops.md §12.1 for a plastic layer: its working weights never leave wMin..wMax, so the bound
 * taken with every input weight at max(|wMin|, |wMax|) covers every weight it can learn. `w` (the
 * layer's working weights, `synapses` entries) is used as scratch; the caller copies the stored
 * weights back afterwards. Not proven when that magnitude is 32768 (no int16 holds it).
 */
static bool ps_net_plastic_exact(const ps_layer_t *layer, int16_t *w, uint32_t synapses, uint32_t vmax, int32_t *scratch)
{
    const ps_connection_t *c = &layer->input;
    int32_t lo = layer->plasticity.w_min < 0 ? -(int32_t)layer->plasticity.w_min : (int32_t)layer->plasticity.w_min;
    int32_t hi = layer->plasticity.w_max < 0 ? -(int32_t)layer->plasticity.w_max : (int32_t)layer->plasticity.w_max;
    int32_t big = lo > hi ? lo : hi;
    bool per_channel = c->weights.shift_len != 1u;
    uint32_t plane = ps_net_plane(layer);
    if (big > 32767) {
        return false;
    }
    for (uint32_t q = 0u; q < synapses; q++) {
        w[q] = (int16_t)big;
    }
    memset(scratch, 0, (size_t)layer->size * sizeof(int32_t));
    if (c->kind == PS_CONN_DENSE) {
        ps_k_bound_dense_w16(c->inputs, ps_net_channels(layer), w, c->weights.shift, per_channel, plane, vmax, scratch);
    } else if (c->cols16 != NULL) {
        ps_k_bound_sparse_w16_c16(c->inputs, c->row_ptr, c->cols16, w, c->weights.shift, per_channel, plane, vmax, scratch);
    } else {
        ps_k_bound_sparse_w16_c32(c->inputs, c->row_ptr, c->cols32, w, c->weights.shift, per_channel, plane, vmax, scratch);
    }
    ps_net_bound(&layer->recurrent, layer, 1u, scratch);
    return scratch[ps_k_argmax_i32(scratch, layer->size)] < INT32_MAX;
}

/* The learning rules of this build (PS_NET_LEARNING, ps_net.h) as constant conditions: the
 * compiler folds the code of a rule left out away, while every call stays visible to it. */
#define PS_NET_LEARNS ((PS_NET_LEARNING) != 0u)
#define PS_NET_HAS(rule) (((PS_NET_LEARNING) & (rule)) != 0u)

/** True when this build has the rule(s) layer's plasticity needs (ps_net.h PS_NET_LEARNING). */
static bool ps_net_rule_built(const ps_layer_t *layer)
{
    const ps_plasticity_t *p = &layer->plasticity;
    if (!layer->has_plasticity) {
        return true;
    }
    if (p->timing == PS_TIMING_EPOCH) {
        return PS_NET_HAS(PS_NET_LEARN_EPOCH);
    }
    if (p->timing != PS_TIMING_EVENT) {
        return PS_NET_HAS(PS_NET_LEARN_STEP);
    }
    return PS_NET_HAS(PS_NET_LEARN_EVENT) && (p->rule != PS_RULE_TRIPLET || PS_NET_HAS(PS_NET_LEARN_TRIPLET));
}

/** Presynaptic neurons of layer l (the input size for layer 0). */
static uint32_t ps_net_pre_size(const ps_model_t *model, uint32_t l)
{
    return l == 0u ? model->input.size : model->layers[l - 1u].size;
}

/** Plastic synapses of a layer: its dense or sparse input's synapse count, 0 when it does not learn. */
static uint32_t ps_net_plastic_synapses(const ps_layer_t *layer)
{
    return layer->has_plasticity ? layer->input.weights.count : 0u;
}

/** Extra state words of an event-timed plastic layer (spec/ops.md §11.5): stamps, trace scratch, three 16-entry decay schedules. */
static uint32_t ps_net_event_words(const ps_model_t *model, uint32_t l)
{
    const ps_layer_t *layer = &model->layers[l];
    uint32_t pre = ps_net_pre_size(model, l);
    if (!layer->has_plasticity || layer->plasticity.timing != PS_TIMING_EVENT) {
        return 0u;
    }
    return pre + layer->size + (pre + 1u) / 2u + (layer->size + 1u) / 2u + 32u + layer->size
           + (layer->plasticity.rule == PS_RULE_TRIPLET ? (layer->size + 1u) / 2u + layer->size : 0u);
}

/** True when an epoch-timed layer keeps an int8 copy of its working weights (spec/ops.md §11.7): dense, its clamp inside int8. */
static bool ps_net_epoch_int8(const ps_layer_t *layer)
{
    return layer->has_plasticity && layer->plasticity.timing == PS_TIMING_EPOCH && layer->input.kind == PS_CONN_DENSE && layer->plasticity.w_min >= -128
           && layer->plasticity.w_max <= 127;
}

/* An epoch-timed layer's block (ps_layer_state_t.epoch): the reward sum, the markers, the int8 weights, then
 * (rstdp) the row bounds of §11.7's row skip (uint16 per pre neuron, derived state: 0 after a reset). */
#define PS_PRE_MARK(s) ((uint8_t *)((s)->epoch + 1))
#define PS_POST_MARK(s) (PS_PRE_MARK(s) + (((s)->pre_size + 3u) & ~3u))
#define PS_W8(s, size) ((int8_t *)(PS_POST_MARK(s) + (((size) + 3u) & ~3u)))
#define PS_ROW_BOUND(s, layer) ((uint16_t *)(PS_W8(s, (layer)->size) + (ps_net_epoch_int8(layer) ? (((s)->synapses + 3u) & ~3u) : 0u)))

/** Writes the whole int8 copy of an epoch-timed layer's working weights (at a weight reset; the epoch pass writes it wherever it changes a weight). */
static void ps_net_mirror8(ps_layer_state_t *s, uint32_t size)
{
    const int16_t *w = s->w;
    int8_t *o = PS_W8(s, size);
    const int16_t *end4 = w + (s->synapses & ~3u);
    while (w != end4) {
        o[0] = (int8_t)w[0];
        o[1] = (int8_t)w[1];
        o[2] = (int8_t)w[2];
        o[3] = (int8_t)w[3];
        w += 4;
        o += 4;
    }
    for (const int16_t *end = s->w + s->synapses; w != end; w++, o++) {
        *o = (int8_t)*w;
    }
}

/** Words of the block of an epoch-timed plastic layer with `pre` presynaptic neurons (spec/ops.md §11.7): the reward sum, the markers (bytes),
 * the int8 weight copy and (rstdp) the row bounds (the pass's scratch is the layer's acc). */
static uint32_t ps_net_epoch_block_words(const ps_layer_t *layer, uint32_t pre)
{
    return 1u + (pre + 3u) / 4u + (layer->size + 3u) / 4u + (ps_net_epoch_int8(layer) ? (ps_net_plastic_synapses(layer) + 3u) / 4u : 0u)
           + (layer->plasticity.rule == PS_RULE_RSTDP ? (pre + 1u) / 2u : 0u);
}

/** Extra state words of an epoch-timed plastic layer (spec/ops.md §11.7): its block. */
static uint32_t ps_net_epoch_words(const ps_model_t *model, uint32_t l)
{
    const ps_layer_t *layer = &model->layers[l];
    if (!layer->has_plasticity || layer->plasticity.timing != PS_TIMING_EPOCH) {
        return 0u;
    }
    return ps_net_epoch_block_words(layer, ps_net_pre_size(model, l));
}

/** State words of a plastic layer (spec/ops.md §11.1): w, x, y, e (int16 each, word-rounded), flags bytes. */
static uint32_t ps_net_plastic_words(const ps_model_t *model, uint32_t l)
{
    const ps_layer_t *layer = &model->layers[l];
    uint32_t syn = ps_net_plastic_synapses(layer);
    if (!layer->has_plasticity) {
        return 0u;
    }
    return (syn + 1u) / 2u + (ps_net_pre_size(model, l) + 1u) / 2u + (layer->size + 1u) / 2u
           + (layer->plasticity.rule == PS_RULE_RSTDP ? (syn + 1u) / 2u : 0u) + (layer->size + 3u) / 4u
           + ps_net_event_words(model, l) + ps_net_epoch_words(model, l);
}

uint32_t ps_net_plastic_bytes(const ps_model_t *model)
{
    uint32_t words = 0u;
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        words += ps_net_plastic_words(model, l);
    }
    return words * 4u;
}

uint32_t ps_net_state_words(const ps_model_t *model)
{
    uint32_t words = 0u;
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        const ps_layer_t *layer = &model->layers[l];
        uint32_t size = layer->size;
        /* v, acc, counts, spikes, previous (+ current for cuba), then refractory bytes */
        words += size * (layer->neuron.model == PS_NEURON_CUBA ? 6u : 5u) + (size + 3u) / 4u + ps_net_plastic_words(model, l);
        if (layer->neuron.multi_spike) {
            words += (size + 3u) / 4u; /* spec/ops.md §4.9: the value of each event */
        }
    }
    return words;
}

ps_status_t ps_net_init(ps_net_t *net, const ps_model_t *model, uint32_t *state, uint32_t words)
{
    if (model->n_layers > PS_NET_MAX_LAYERS || ps_net_state_words(model) > words) {
        return PS_E_DEVICE_OUT_OF_MEMORY;
    }
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        if (!ps_net_rule_built(&model->layers[l])) {
            return PS_E_DEVICE_LEARNING_NOT_BUILT;
        }
    }
    net->model = model;
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        const ps_layer_t *layer = &model->layers[l];
        ps_layer_state_t *s = &net->layers[l];
        uint32_t size = layer->size;
        s->v = (int32_t *)state;
        state += size;
        s->acc = (int32_t *)state;
        state += size;
        s->counts = state;
        state += size;
        s->spikes = state;
        state += size;
        s->previous = state;
        state += size;
        if (layer->neuron.model == PS_NEURON_CUBA) {
            s->current = (int32_t *)state;
            state += size;
        } else {
            s->current = NULL;
        }
        s->refr = (uint8_t *)state;
        state += (size + 3u) / 4u;
        s->values = NULL;
        if (layer->neuron.multi_spike) {
            s->values = (uint8_t *)state;
            state += (size + 3u) / 4u;
        }
        /* spec/ops.md §12.1: prove once whether plain int32 folds equal the saturating ones */
        s->exact_spikes = ps_net_exact(layer, 1u, s->acc);
        /* layer 0 and the layer after a multi-spike layer take graded events (spec/ops.md §4.9) */
        s->exact_graded = (l == 0u || model->layers[l - 1u].neuron.multi_spike) ? ps_net_exact(layer, 255u, s->acc) : s->exact_spikes;
        s->synapses = ps_net_plastic_synapses(layer);
        s->pre_size = ps_net_pre_size(model, l);
        s->w = NULL;
        s->pre_trace = NULL;
        s->post_trace = NULL;
        s->elig = NULL;
        s->flags = NULL;
        s->pre_stamp = NULL;
        s->post_stamp = NULL;
        s->pre_now = NULL;
        s->post_now = NULL;
        s->factors = NULL;
        s->gain = NULL;
        s->slow = NULL;
        s->slow_stamp = NULL;
        s->epoch = NULL;
        if (PS_NET_LEARNS && layer->has_plasticity) {
            /* weights change while learning: the §12.1 proof over the stored weights does not hold,
             * the one over the clamp does (ps_net_reset_weights below puts the stored weights back) */
            s->w = (int16_t *)state;
            state += (s->synapses + 1u) / 2u;
            s->exact_spikes = ps_net_plastic_exact(layer, s->w, s->synapses, 1u, s->acc);
            s->exact_graded = (l == 0u || model->layers[l - 1u].neuron.multi_spike) ? ps_net_plastic_exact(layer, s->w, s->synapses, 255u, s->acc) : s->exact_spikes;
            s->pre_trace = (int16_t *)state;
            state += (s->pre_size + 1u) / 2u;
            s->post_trace = (int16_t *)state;
            state += (size + 1u) / 2u;
            if (layer->plasticity.rule == PS_RULE_RSTDP) {
                s->elig = (int16_t *)state;
                state += (s->synapses + 1u) / 2u;
            }
            s->flags = (uint8_t *)state;
            state += (size + 3u) / 4u;
            if (PS_NET_HAS(PS_NET_LEARN_EVENT) && layer->plasticity.timing == PS_TIMING_EVENT) {
                s->pre_stamp = state;
                state += s->pre_size;
                s->post_stamp = state;
                state += size;
                s->pre_now = (int16_t *)state;
                state += (s->pre_size + 1u) / 2u;
                s->post_now = (int16_t *)state;
                state += (size + 1u) / 2u;
                s->factors = (uint16_t *)state;
                state += 32u;
                s->gain = (int32_t *)state;
                state += size;
                const uint8_t shifts[4] = {layer->plasticity.pre_trace_shift, layer->plasticity.post_trace_shift, layer->plasticity.eligibility_shift,
                                           layer->plasticity.rule == PS_RULE_TRIPLET ? layer->plasticity.triplet_shift : 1u};
                for (uint32_t k = 0u; k < 4u; k++) {
                    ps_decay_factors(s->factors + 16u * k, shifts[k]);
                }
                for (uint32_t j = 0u; j < size; j++) {
                    s->gain[j] = layer->plasticity.a_plus;
                }
                if (PS_NET_HAS(PS_NET_LEARN_TRIPLET) && layer->plasticity.rule == PS_RULE_TRIPLET) {
                    s->slow = (int16_t *)state;
                    state += (size + 1u) / 2u;
                    s->slow_stamp = state;
                    state += size;
                }
            }
            if (PS_NET_HAS(PS_NET_LEARN_EPOCH) && layer->plasticity.timing == PS_TIMING_EPOCH) {
                s->epoch = (int32_t *)state;
                state += ps_net_epoch_block_words(layer, s->pre_size);
            }
        }
    }
    ps_net_reset_weights(net);
    ps_net_reset(net);
    return PS_OK;
}

void ps_net_reset(ps_net_t *net)
{
    const ps_model_t *model = net->model;
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        ps_layer_state_t *s = &net->layers[l];
        size_t size = model->layers[l].size;
        int32_t v_init = model->layers[l].neuron.v_init;
        if (v_init == 0) {
            memset(s->v, 0, size * sizeof(int32_t));
        } else {
            /* spec/ops.md §4.9: every reset starts the membrane at vInit */
            for (size_t j = 0u; j < size; j++) {
                s->v[j] = v_init;
            }
        }
        memset(s->counts, 0, size * sizeof(uint32_t));
        memset(s->refr, 0, size);
        if (s->current != NULL) {
            memset(s->current, 0, size * sizeof(int32_t));
        }
        s->n_spikes = 0u;
        s->n_previous = 0u;
        if (PS_NET_LEARNS && s->w != NULL) {
            memset(s->pre_trace, 0, (size_t)s->pre_size * sizeof(int16_t));
            memset(s->post_trace, 0, size * sizeof(int16_t));
            memset(s->flags, 0, size);
            if (s->elig != NULL) {
                memset(s->elig, 0, (size_t)s->synapses * sizeof(int16_t));
            }
            if (PS_NET_HAS(PS_NET_LEARN_EVENT) && s->pre_stamp != NULL) {
                memset(s->pre_stamp, 0, (size_t)s->pre_size * sizeof(uint32_t));
                memset(s->post_stamp, 0, size * sizeof(uint32_t));
            }
            if (PS_NET_HAS(PS_NET_LEARN_TRIPLET) && s->slow != NULL) {
                memset(s->slow, 0, size * sizeof(int16_t));
                memset(s->slow_stamp, 0, size * sizeof(uint32_t));
            }
            if (PS_NET_HAS(PS_NET_LEARN_EPOCH) && s->epoch != NULL) {
                s->epoch[0] = 0;
                memset(PS_PRE_MARK(s), 0, s->pre_size);
                memset(PS_POST_MARK(s), 0, size);
                if (s->elig != NULL) {
                    /* every eligibility is 0: so is every row's bound */
                    memset(PS_ROW_BOUND(s, &model->layers[l]), 0, (size_t)s->pre_size * sizeof(uint16_t));
                }
            }
            s->baseline[0] = 0;
        }
    }
    net->reward = 0;
    net->t_low = 0u;
    net->t_high = 0u;
}

/** Folds the events pre[0..n) through connection c into acc (spec/ops.md §3.3). */
static void ps_net_scatter(const ps_connection_t *c, const ps_layer_t *post, const uint32_t *pre, uint32_t n,
                           const uint8_t *values, bool exact, int32_t *acc)
{
    const ps_weights_t *w = &c->weights;
    bool graded = values != NULL;
    bool per_channel = w->shift_len != 1u;
    uint32_t plane = ps_net_plane(post);
    uint32_t channels = ps_net_channels(post);
    switch (c->kind) {
    case PS_CONN_DENSE:
        if (w->bits == 4u) {
            (void)(exact ? ps_k_scatter_dense_w4_exact : ps_k_scatter_dense_w4)(pre, n, values, graded, channels, w->packed4, w->shift, per_channel, plane, acc);
        } else if (w->bits == 8u) {
            (void)(exact ? ps_k_scatter_dense_w8_exact : ps_k_scatter_dense_w8)(pre, n, values, graded, channels, w->i8, w->shift, per_channel, plane, acc);
        } else {
            (void)(exact ? ps_k_scatter_dense_w16_exact : ps_k_scatter_dense_w16)(pre, n, values, graded, channels, w->i16, w->shift, per_channel, plane, acc);
        }
        break;
    case PS_CONN_SPARSE:
        if (c->cols16 != NULL) {
            if (w->bits == 4u) {
                (void)(exact ? ps_k_scatter_sparse_w4_c16_exact : ps_k_scatter_sparse_w4_c16)(pre, n, values, graded, c->row_ptr, c->cols16, w->packed4, w->shift, per_channel, plane, acc);
            } else if (w->bits == 8u) {
                (void)(exact ? ps_k_scatter_sparse_w8_c16_exact : ps_k_scatter_sparse_w8_c16)(pre, n, values, graded, c->row_ptr, c->cols16, w->i8, w->shift, per_channel, plane, acc);
            } else {
                (void)(exact ? ps_k_scatter_sparse_w16_c16_exact : ps_k_scatter_sparse_w16_c16)(pre, n, values, graded, c->row_ptr, c->cols16, w->i16, w->shift, per_channel, plane, acc);
            }
        } else {
            if (w->bits == 4u) {
                (void)(exact ? ps_k_scatter_sparse_w4_c32_exact : ps_k_scatter_sparse_w4_c32)(pre, n, values, graded, c->row_ptr, c->cols32, w->packed4, w->shift, per_channel, plane, acc);
            } else if (w->bits == 8u) {
                (void)(exact ? ps_k_scatter_sparse_w8_c32_exact : ps_k_scatter_sparse_w8_c32)(pre, n, values, graded, c->row_ptr, c->cols32, w->i8, w->shift, per_channel, plane, acc);
            } else {
                (void)(exact ? ps_k_scatter_sparse_w16_c32_exact : ps_k_scatter_sparse_w16_c32)(pre, n, values, graded, c->row_ptr, c->cols32, w->i16, w->shift, per_channel, plane, acc);
            }
        }
        break;
    case PS_CONN_CONV2D: {
        const ps_shape3_t *in = &c->in_shape;
        const ps_shape3_t *out = &c->out_shape;
        if (w->bits == 4u) {
            (void)(exact ? ps_k_scatter_conv2d_w4_exact : ps_k_scatter_conv2d_w4)(pre, n, values, graded, in->c, in->h, in->w, out->h, out->w, c->kernel[0], c->kernel[1],
                                         c->stride[0], c->stride[1], c->padding[0], c->padding[1], out->c, w->packed4, w->shift,
                                         per_channel, acc);
        } else if (w->bits == 8u) {
            (void)(exact ? ps_k_scatter_conv2d_w8_exact : ps_k_scatter_conv2d_w8)(pre, n, values, graded, in->c, in->h, in->w, out->h, out->w, c->kernel[0], c->kernel[1],
                                         c->stride[0], c->stride[1], c->padding[0], c->padding[1], out->c, w->i8, w->shift,
                                         per_channel, acc);
        } else {
            (void)(exact ? ps_k_scatter_conv2d_w16_exact : ps_k_scatter_conv2d_w16)(pre, n, values, graded, in->c, in->h, in->w, out->h, out->w, c->kernel[0], c->kernel[1],
                                          c->stride[0], c->stride[1], c->padding[0], c->padding[1], out->c, w->i16, w->shift,
                                          per_channel, acc);
        }
        break;
    }
    case PS_CONN_POOL:
        (void)(exact ? ps_k_scatter_pool_exact : ps_k_scatter_pool)(pre, n, values, graded, c->in_shape.h, c->in_shape.w, c->out_shape.h, c->out_shape.w,
                                c->kernel[0], c->kernel[1], c->stride[0], c->stride[1], c->pool_weight, c->pool_shift, acc);
        break;
    default:
        break; /* PS_CONN_NONE: no connection */
    }
}

/**
 * The neuron step of a layer with the version-2 rules of spec/ops.md §4.9 (one generic kernel; the
 * optimized kernels of §12.2 never see these layers). A per-layer retention is passed as a
 * one-entry array.
 */
static uint32_t ps_net_update_rules(const ps_layer_t *layer, ps_layer_state_t *s, uint32_t bias_count, uint32_t bias_plane, const int32_t *bias)
{
    const ps_neuron_t *p = &layer->neuron;
    const uint16_t leak_one[1] = { p->leak_q15 };
    const uint16_t current_one[1] = { p->current_q15 };
    const uint16_t *leaks = p->leak_q15s != NULL ? p->leak_q15s : leak_one;
    const uint16_t *currents = p->current_q15s != NULL ? p->current_q15s : current_one;
    int32_t no_current[1] = { 0 };
    uint8_t no_values[1] = { 0 };
    uint8_t leak_kind;
    uint8_t current_kind;
    if (p->model == PS_NEURON_INTEGRATOR) {
        ps_k_neuron_integrator_q15(bias_count, bias_plane, bias, s->acc, p->v_min, s->v, leaks, p->leak_q15s != NULL);
        return 0u;
    }
    leak_kind = (p->model == PS_NEURON_LIF_Q15 || p->synapse_q15) ? 2u : (p->model == PS_NEURON_LIF_SHIFT || p->model == PS_NEURON_CUBA) ? 1u : 0u;
    current_kind = p->synapse_q15 ? 2u : p->model == PS_NEURON_CUBA ? 1u : 0u;
    return ps_k_neuron_rule(bias_count, bias_plane, bias, s->acc, p->v_min, s->v, leak_kind, p->leak_shift, leaks, p->leak_q15s != NULL, current_kind,
                            p->current_shift, currents, p->current_q15s != NULL, s->current != NULL ? s->current : no_current, p->threshold,
                            p->compare_gt != 0u, p->reset_delay != 0u, p->multi_spike != 0u, p->reset == PS_RESET_SUBTRACT, p->reset_value, p->refractory,
                            s->refr, s->counts, s->spikes, s->values != NULL ? s->values : no_values);
}

/** Runs the layer's neuron kernel on s->acc; returns how many neurons spiked (spec/ops.md §4). */
static uint32_t ps_net_update(const ps_layer_t *layer, ps_layer_state_t *s)
{
    const ps_neuron_t *p = &layer->neuron;
    const int32_t *bias = ps_net_zero_bias;
    uint32_t bias_count = 1u;
    uint32_t bias_plane = layer->size;
    bool subtract = p->reset == PS_RESET_SUBTRACT;
    if (layer->bias != NULL) {
        bias = layer->bias;
        if (layer->bias_len == layer->size) {
            bias_count = layer->size;
            bias_plane = 1u;
        } else {
            bias_count = ps_net_channels(layer);
            bias_plane = ps_net_plane(layer);
        }
    }
    if (p->rules) {
        return ps_net_update_rules(layer, s, bias_count, bias_plane, bias);
    }
    switch (p->model) {
    case PS_NEURON_IF:
#if defined(PS_NEURON_IF_FAST) || defined(PS_NEURON_IF_M0)
        /* spec/ops.md §12.2 item 2: the branch-free IF update where it computes the same integers */
        if (p->refractory == 0u && subtract && p->v_min == INT32_MIN && p->threshold > 0 && (layer->bias == NULL || bias_count == layer->size)) {
#ifdef PS_NEURON_IF_M0
            uint32_t fired = ps_neuron_if_m0(layer->size, layer->bias, s->acc, s->v, p->threshold, s->spikes);
#else
            uint32_t fired = ps_neuron_if_m4(layer->size, layer->bias, s->acc, s->v, p->threshold, s->spikes);
#endif
            for (uint32_t k = 0u; k < fired; k++) {
                uint32_t *count = &s->counts[s->spikes[k]];
                if (*count != UINT32_MAX) {
                    *count += 1u;
                }
            }
            return fired;
        }
#endif
        return ps_k_neuron_if(bias_count, bias_plane, bias, s->acc, p->v_min, s->v, p->threshold, subtract, p->reset_value,
                              p->refractory, s->refr, s->counts, s->spikes);
    case PS_NEURON_LIF_SHIFT:
#ifdef PS_NEURON_IF_M0
        /* spec/ops.md §12.2 item 2: the IF update's conditions and a leak shift of at least 1 */
        if (p->refractory == 0u && subtract && p->v_min == INT32_MIN && p->threshold > 0 && p->leak_shift >= 1u &&
            (layer->bias == NULL || bias_count == layer->size)) {
            uint32_t fired = ps_neuron_lif_shift_m0(layer->size, layer->bias, s->acc, s->v, p->leak_shift, p->threshold, s->spikes);
            for (uint32_t k = 0u; k < fired; k++) {
                uint32_t *count = &s->counts[s->spikes[k]];
                if (*count != UINT32_MAX) {
                    *count += 1u;
                }
            }
            return fired;
        }
#endif
        return ps_k_neuron_lif_shift(bias_count, bias_plane, bias, s->acc, p->v_min, s->v, p->leak_shift, p->threshold, subtract,
                                     p->reset_value, p->refractory, s->refr, s->counts, s->spikes);
    case PS_NEURON_LIF_Q15:
        return ps_k_neuron_lif_q15(bias_count, bias_plane, bias, s->acc, p->v_min, s->v, p->leak_q15, p->threshold, subtract,
                                   p->reset_value, p->refractory, s->refr, s->counts, s->spikes);
    case PS_NEURON_CUBA:
        return ps_k_neuron_cuba(bias_count, bias_plane, bias, s->acc, p->v_min, s->v, p->leak_shift, p->current_shift, s->current,
                                p->threshold, subtract, p->reset_value, p->refractory, s->refr, s->counts, s->spikes);
    default:
        ps_k_neuron_integrator(bias_count, bias_plane, bias, s->acc, p->v_min, s->v);
        return 0u;
    }
}

void ps_net_reset_weights(ps_net_t *net)
{
    const ps_model_t *model = net->model;
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        ps_layer_state_t *s = &net->layers[l];
        const ps_weights_t *w = &model->layers[l].input.weights;
        for (uint32_t q = 0u; PS_NET_LEARNS && q < s->synapses && s->w != NULL; q++) {
            s->w[q] = (int16_t)(w->bits == 4u ? ps_int4_at(w->packed4, q) : w->bits == 8u ? (int32_t)w->i8[q] : (int32_t)w->i16[q]);
        }
        if (PS_NET_HAS(PS_NET_LEARN_EPOCH) && s->epoch != NULL && ps_net_epoch_int8(&model->layers[l])) {
            ps_net_mirror8(s, model->layers[l].size);
        }
    }
}

void ps_net_reward(ps_net_t *net, int32_t reward)
{
    net->reward = ps_sat16(ps_sat_add32(net->reward, ps_sat16(reward)));
}

const int16_t *ps_net_weights(const ps_net_t *net, uint32_t layer, uint32_t *count)
{
    if (layer >= net->model->n_layers || net->layers[layer].w == NULL) {
        *count = 0u;
        return NULL;
    }
    *count = net->layers[layer].synapses;
    return net->layers[layer].w;
}

/** A plastic layer's feed-forward fold through its int16 working weights (exact where §12.1's bound over the clamp holds). */
static void ps_net_scatter_plastic(const ps_layer_t *layer, ps_layer_state_t *s, const uint32_t *pre, uint32_t n, const uint8_t *values, bool exact)
{
    const ps_connection_t *c = &layer->input;
    bool graded = values != NULL;
    bool per_channel = c->weights.shift_len != 1u;
    uint32_t plane = ps_net_plane(layer);
    if (PS_NET_HAS(PS_NET_LEARN_EPOCH) && s->epoch != NULL && ps_net_epoch_int8(layer)) {
        /* spec/ops.md §11.7: the same weights as int8 (an epoch-timed layer's copy), through the int8 folds */
        if (exact) {
            (void)ps_k_scatter_dense_w8_exact(pre, n, values, graded, ps_net_channels(layer), PS_W8(s, layer->size), c->weights.shift, per_channel, plane, s->acc);
        } else {
            (void)ps_k_scatter_dense_w8(pre, n, values, graded, ps_net_channels(layer), PS_W8(s, layer->size), c->weights.shift, per_channel, plane, s->acc);
        }
        return;
    }
    if (exact) {
        if (c->kind == PS_CONN_DENSE) {
            (void)ps_k_scatter_dense_w16_exact(pre, n, values, graded, ps_net_channels(layer), s->w, c->weights.shift, per_channel, plane, s->acc);
        } else if (c->cols16 != NULL) {
            (void)ps_k_scatter_sparse_w16_c16_exact(pre, n, values, graded, c->row_ptr, c->cols16, s->w, c->weights.shift, per_channel, plane, s->acc);
        } else {
            (void)ps_k_scatter_sparse_w16_c32_exact(pre, n, values, graded, c->row_ptr, c->cols32, s->w, c->weights.shift, per_channel, plane, s->acc);
        }
    } else if (c->kind == PS_CONN_DENSE) {
        (void)ps_k_scatter_dense_w16(pre, n, values, graded, ps_net_channels(layer), s->w, c->weights.shift, per_channel, plane, s->acc);
    } else if (c->cols16 != NULL) {
        (void)ps_k_scatter_sparse_w16_c16(pre, n, values, graded, c->row_ptr, c->cols16, s->w, c->weights.shift, per_channel, plane, s->acc);
    } else {
        (void)ps_k_scatter_sparse_w16_c32(pre, n, values, graded, c->row_ptr, c->cols32, s->w, c->weights.shift, per_channel, plane, s->acc);
    }
}

/** spec/ops.md §11.5, right after the neuron update of step `now` of an event-timed (dense) layer: only the
 * synapses of this step's pre events and post spikes are touched. */
static void ps_net_learn_event(const ps_layer_t *layer, ps_layer_state_t *s, const uint32_t *pre, uint32_t n, uint32_t now)
{
    const ps_plasticity_t *p = &layer->plasticity;
    bool direct = p->rule != PS_RULE_RSTDP;
    int16_t *elig = s->elig != NULL ? s->elig : ps_net_no_elig;
    uint32_t outputs = layer->input.outputs;
    if (n > 0u) {
        ps_k_plastic_event_trace_now(s->post_trace, s->post_stamp, layer->size, now, s->factors + 16, s->post_now);
        ps_k_plastic_event_depress_dense(pre, n, outputs, s->post_now, p->a_minus, s->pre_stamp, s->post_stamp, now, s->factors + 32, direct, s->w, elig, p->learning_shift, p->w_min, p->w_max);
        ps_k_plastic_event_bump(s->pre_trace, s->pre_stamp, pre, n, now, s->factors, p->trace_increment);
    }
    if (s->n_spikes > 0u) {
        ps_k_plastic_event_trace_now(s->pre_trace, s->pre_stamp, s->pre_size, now, s->factors, s->pre_now);
        if (PS_NET_HAS(PS_NET_LEARN_TRIPLET) && s->slow != NULL) {
            /* §11.6: each post spike's gain from the slow trace just before it jumps */
            ps_k_plastic_triplet_gain(s->spikes, s->n_spikes, s->slow, s->slow_stamp, now, s->factors + 48, p->a_plus, p->a3_plus, s->gain);
        }
        ps_k_plastic_event_potentiate_dense(s->spikes, s->n_spikes, s->pre_size, outputs, s->pre_now, s->gain, s->pre_stamp, s->post_stamp, now, s->factors + 32, direct, s->w, elig, p->learning_shift, p->w_min, p->w_max);
        ps_k_plastic_event_bump(s->post_trace, s->post_stamp, s->spikes, s->n_spikes, now, s->factors + 16, p->trace_increment);
        if (PS_NET_HAS(PS_NET_LEARN_TRIPLET) && s->slow != NULL) {
            ps_k_plastic_event_bump(s->slow, s->slow_stamp, s->spikes, s->n_spikes, now, s->factors + 48, p->trace_increment);
        }
    }
}

/** spec/ops.md §11.7, right after the neuron update of step `now` of an epoch-timed (dense) layer: mark the
 * step's pre events and post spikes; at the epoch's last step, one fused pass does the epoch's learning. */
static void ps_net_learn_epoch(const ps_layer_t *layer, ps_layer_state_t *s, const uint32_t *pre, uint32_t n, uint32_t now)
{
    const ps_plasticity_t *p = &layer->plasticity;
    ps_k_plastic_mark(PS_PRE_MARK(s), pre, n, 1u);
    ps_k_plastic_mark(PS_POST_MARK(s), s->spikes, s->n_spikes, 1u);
    uint32_t mask = (1u << p->epoch_shift) - 1u;
    if ((now & mask) == mask) {
        /* the layer's acc is free after its neuron update: the pass's depression scratch; the pass writes
         * each weight it changes to the int8 copy too, so the copy stays the working weights */
        int16_t *elig = s->elig != NULL ? s->elig : ps_net_no_elig;
        uint16_t *bound = s->elig != NULL ? PS_ROW_BOUND(s, layer) : ps_net_no_bound;
        bool int8 = ps_net_epoch_int8(layer);
        (void)ps_k_plastic_epoch_dense(PS_PRE_MARK(s), PS_POST_MARK(s), s->pre_size, layer->input.outputs, s->pre_trace, s->post_trace, s->acc,
                                       p->pre_trace_shift, p->post_trace_shift, p->eligibility_shift, p->trace_increment, p->a_plus, p->a_minus, s->epoch[0],
                                       s->baseline, p->baseline_shift, p->rule != PS_RULE_RSTDP, s->w, elig, p->learning_shift, p->w_min, p->w_max, bound,
                                       int8, int8 ? PS_W8(s, layer->size) : ps_net_no_w8);
        s->epoch[0] = 0;
    }
}

/** spec/ops.md §11.2, right after the layer's neuron update: decay, depression, trace increments, potentiation. */
static void ps_net_learn(const ps_layer_t *layer, ps_layer_state_t *s, const uint32_t *pre, uint32_t n)
{
    const ps_connection_t *c = &layer->input;
    const ps_plasticity_t *p = &layer->plasticity;
    bool direct = p->rule == PS_RULE_STDP;
    int16_t *elig = s->elig != NULL ? s->elig : ps_net_no_elig;
    ps_k_plastic_decay(s->pre_trace, s->pre_size, p->pre_trace_shift);
    ps_k_plastic_decay(s->post_trace, layer->size, p->post_trace_shift);
    if (s->elig != NULL) {
        ps_k_plastic_decay(s->elig, s->synapses, p->eligibility_shift);
    }
    if (n > 0u) {
        if (c->kind == PS_CONN_DENSE) {
            ps_k_plastic_depress_dense(pre, n, c->outputs, s->post_trace, p->a_minus, direct, s->w, elig, p->learning_shift, p->w_min, p->w_max);
        } else if (c->cols16 != NULL) {
            ps_k_plastic_depress_sparse_c16(pre, n, c->row_ptr, c->cols16, s->post_trace, p->a_minus, direct, s->w, elig, p->learning_shift, p->w_min, p->w_max);
        } else {
            ps_k_plastic_depress_sparse_c32(pre, n, c->row_ptr, c->cols32, s->post_trace, p->a_minus, direct, s->w, elig, p->learning_shift, p->w_min, p->w_max);
        }
    }
    ps_k_plastic_bump(s->pre_trace, pre, n, p->trace_increment);
    ps_k_plastic_bump(s->post_trace, s->spikes, s->n_spikes, p->trace_increment);
    if (s->n_spikes > 0u) {
        if (c->kind == PS_CONN_DENSE) {
            ps_k_plastic_potentiate_dense(s->spikes, s->n_spikes, s->pre_size, c->outputs, s->pre_trace, p->a_plus, direct, s->w, elig, p->learning_shift, p->w_min, p->w_max);
        } else {
            ps_k_plastic_mark(s->flags, s->spikes, s->n_spikes, 1u);
            if (c->cols16 != NULL) {
                ps_k_plastic_potentiate_sparse_c16(s->flags, s->pre_size, c->row_ptr, c->cols16, s->pre_trace, p->a_plus, direct, s->w, elig, p->learning_shift, p->w_min, p->w_max);
            } else {
                ps_k_plastic_potentiate_sparse_c32(s->flags, s->pre_size, c->row_ptr, c->cols32, s->pre_trace, p->a_plus, direct, s->w, elig, p->learning_shift, p->w_min, p->w_max);
            }
            ps_k_plastic_mark(s->flags, s->spikes, s->n_spikes, 0u);
        }
    }
}

/** spec/ops.md §7.1: the events are valid input of the model. */
static bool ps_net_events_valid(const ps_model_t *model, const uint32_t *indices, const uint8_t *values, uint32_t n)
{
    if (n == 0u) {
        return true;
    }
    /* strictly ascending with the last below the input size means every index is: one compare an
     * event on the step's path (this runs on every event, so it is counted in the per-event cost) */
    const uint32_t *p = indices + 1;
    const uint32_t *end = indices + n;
    uint32_t previous = indices[0];
    for (; end - p >= 2; p += 2) {
        uint32_t a = p[0];
        uint32_t b = p[1];
        if (a <= previous || b <= a) {
            return false;
        }
        previous = b;
    }
    if (p != end) {
        if (*p <= previous) {
            return false;
        }
        previous = *p;
    }
    if (previous >= model->input.size) {
        return false;
    }
    for (uint32_t e = 0u; values != NULL && e < n; e++) {
        if (values[e] == 0u) {
            return false;
        }
    }
    return true;
}

ps_status_t ps_net_hold_input(const ps_net_t *net, const uint32_t *indices, const uint8_t *values, uint32_t n, int32_t *held)
{
    const ps_model_t *model = net->model;
    const ps_layer_t *layer = &model->layers[0];
    const ps_layer_state_t *s = &net->layers[0];
    if (!ps_net_events_valid(model, indices, values, n)) {
        return PS_E_SEMANTICS_BAD_INPUT;
    }
    if (s->w != NULL) {
        return PS_E_SEMANTICS_HELD_INPUT_PLASTIC;
    }
    /* spec/ops.md §7.3: exactly the fold a step of these events does into layer 0's zeroed acc */
    memset(held, 0, (size_t)layer->size * sizeof(int32_t));
#ifdef PS_NEURON_IF_FAST
    /* spec/ops.md §12.2 item 3: the Cortex-M4 graded fold, only where §12.1's bound holds */
    const ps_connection_t *c = &layer->input;
    if (values != NULL && s->exact_graded && c->kind == PS_CONN_DENSE && c->weights.bits == 8u && c->weights.shift_len == 1u &&
        layer->size % 4u == 0u && (uint64_t)model->input.size * layer->size < (1ull << 24)) {
        ps_held_dense_i8_m4(indices, values, n, c->weights.i8, layer->size, c->weights.shift[0], held);
        return PS_OK;
    }
#endif
    ps_net_scatter(&layer->input, layer, indices, n, values, values != NULL ? s->exact_graded : s->exact_spikes, held);
    return PS_OK;
}

static ps_status_t ps_net_step_from(ps_net_t *net, const uint32_t *indices, const uint8_t *values, uint32_t n, const int32_t *held);

ps_status_t ps_net_step(ps_net_t *net, const uint32_t *indices, const uint8_t *values, uint32_t n)
{
    /* spec/ops.md §7.1: reject before any state changes */
    if (!ps_net_events_valid(net->model, indices, values, n)) {
        return PS_E_SEMANTICS_BAD_INPUT;
    }
    return ps_net_step_from(net, indices, values, n, NULL);
}

ps_status_t ps_net_step_held(ps_net_t *net, const int32_t *held)
{
    if (net->layers[0].w != NULL) {
        return PS_E_SEMANTICS_HELD_INPUT_PLASTIC;
    }
    return ps_net_step_from(net, NULL, NULL, 0u, held);
}

/** One step (spec/ops.md §6); layer 0's feed-forward input is `held` when not NULL (§7.3), else the events'. */
static ps_status_t ps_net_step_from(ps_net_t *net, const uint32_t *indices, const uint8_t *values, uint32_t n, const int32_t *held)
{
    const ps_model_t *model = net->model;
    /* spec/ops.md §11.3: a reward acts at the start of its step, before layer 0 */
    if (PS_NET_LEARNS && net->reward != 0) {
        for (uint32_t l = 0u; l < model->n_layers; l++) {
            const ps_layer_t *layer = &model->layers[l];
            ps_layer_state_t *s = &net->layers[l];
            if (s->elig != NULL) {
                const ps_plasticity_t *p = &layer->plasticity;
                if (PS_NET_HAS(PS_NET_LEARN_EPOCH) && s->epoch != NULL) {
                    /* §11.7: into the epoch's reward sum, which acts at the epoch's end */
                    ps_k_plastic_epoch_add_reward(s->epoch, net->reward);
                } else if (PS_NET_HAS(PS_NET_LEARN_EVENT) && s->pre_stamp != NULL) {
                    /* §11.5: the eligibility as it was at the end of the previous step */
                    ps_k_plastic_event_reward_dense(s->w, s->elig, s->pre_size, layer->input.outputs, s->pre_stamp, s->post_stamp, net->t_low - 1u, s->factors + 32, net->reward, s->baseline, p->baseline_shift, p->learning_shift, p->w_min, p->w_max);
                } else if (PS_NET_HAS(PS_NET_LEARN_STEP)) {
                    ps_k_plastic_reward(s->w, s->elig, s->synapses, net->reward, s->baseline, p->baseline_shift, p->learning_shift, p->w_min, p->w_max);
                }
            }
        }
    }
    net->reward = 0;
    const uint32_t *pre = indices;
    uint32_t pre_count = n;
    const uint8_t *pre_values = values;
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        const ps_layer_t *layer = &model->layers[l];
        ps_layer_state_t *s = &net->layers[l];
        /* last step's spikes become the recurrent source; this step writes into the other buffer */
        uint32_t *previous = s->spikes;
        s->spikes = s->previous;
        s->previous = previous;
        s->n_previous = s->n_spikes;
        bool exact = pre_values != NULL ? s->exact_graded : s->exact_spikes;
        if (l == 0u && held != NULL) {
            memcpy(s->acc, held, (size_t)layer->size * sizeof(int32_t));
        } else if (PS_NET_LEARNS && s->w != NULL) {
            memset(s->acc, 0, (size_t)layer->size * sizeof(int32_t));
            ps_net_scatter_plastic(layer, s, pre, pre_count, pre_values, exact);
        } else {
            memset(s->acc, 0, (size_t)layer->size * sizeof(int32_t));
            ps_net_scatter(&layer->input, layer, pre, pre_count, pre_values, exact, s->acc);
        }
        ps_net_scatter(&layer->recurrent, layer, s->previous, s->n_previous, NULL, exact, s->acc);
        s->n_spikes = ps_net_update(layer, s);
        if (PS_NET_HAS(PS_NET_LEARN_EPOCH) && s->epoch != NULL) {
            ps_net_learn_epoch(layer, s, pre, pre_count, net->t_low);
        } else if (PS_NET_HAS(PS_NET_LEARN_EVENT) && s->pre_stamp != NULL) {
            ps_net_learn_event(layer, s, pre, pre_count, net->t_low);
        } else if (PS_NET_HAS(PS_NET_LEARN_STEP) && s->w != NULL) {
            ps_net_learn(layer, s, pre, pre_count);
        }
        pre = s->spikes;
        pre_count = s->n_spikes;
        pre_values = s->values; /* graded events of a multi-spike layer (spec/ops.md §4.9), else spikes */
    }
    net->t_low++;
    if (net->t_low == 0u) {
        net->t_high++;
    }
    return PS_OK;
}

const uint32_t *ps_net_spikes(const ps_net_t *net, uint32_t layer, uint32_t *count)
{
    if (layer >= net->model->n_layers) {
        *count = 0u;
        return NULL;
    }
    *count = net->layers[layer].n_spikes;
    return net->layers[layer].spikes;
}

const uint32_t *ps_net_counts(const ps_net_t *net, uint32_t layer)
{
    return layer < net->model->n_layers ? net->layers[layer].counts : NULL;
}

const int32_t *ps_net_membrane(const ps_net_t *net, uint32_t layer)
{
    return layer < net->model->n_layers ? net->layers[layer].v : NULL;
}

uint32_t ps_net_readout(const ps_net_t *net)
{
    const ps_model_t *model = net->model;
    uint32_t last = model->n_layers - 1u;
    uint32_t size = model->layers[last].size;
    return model->readout == PS_READOUT_COUNT ? ps_k_argmax_u32(net->layers[last].counts, size)
                                               : ps_k_argmax_i32(net->layers[last].v, size);
}

size_t ps_net_snapshot_size(const ps_net_t *net)
{
    const ps_model_t *model = net->model;
    size_t bytes = 16u;
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        size_t size = model->layers[l].size;
        bytes += 12u + size * 4u + (net->layers[l].current != NULL ? size * 4u : 0u) + size + size * 4u + (size_t)net->layers[l].n_spikes * 4u;
        const ps_layer_state_t *s = &net->layers[l];
        if (PS_NET_LEARNS && s->w != NULL) {
            /* the learning state of spec/ops.md §10: w, x, y, e (int16 each) and b (int32) */
            bytes += 2u * ((size_t)s->synapses + s->pre_size + size + (s->elig != NULL ? s->synapses : 0u)) + 4u;
            if (PS_NET_HAS(PS_NET_LEARN_EVENT) && s->pre_stamp != NULL) {
                bytes += 4u * ((size_t)s->pre_size + size); /* §11.5 event timing: the stamps (uint32 each) */
            }
            if (PS_NET_HAS(PS_NET_LEARN_TRIPLET) && s->slow != NULL) {
                bytes += 6u * size; /* §11.6 triplet: slow trace (int16) and its stamps (uint32) */
            }
            if (PS_NET_HAS(PS_NET_LEARN_EPOCH) && s->epoch != NULL) {
                bytes += (size_t)s->pre_size + size + 4u; /* §11.7 epoch timing: the markers (uint8 each) and the reward sum (int32) */
            }
        }
    }
    return bytes;
}

static uint8_t *ps_net_put_u32(uint8_t *out, uint32_t x)
{
    out[0] = (uint8_t)(x & 0xffu);
    out[1] = (uint8_t)((x >> 8) & 0xffu);
    out[2] = (uint8_t)((x >> 16) & 0xffu);
    out[3] = (uint8_t)(x >> 24);
    return out + 4;
}

static uint8_t *ps_net_put_u32s(uint8_t *out, const uint32_t *xs, uint32_t n)
{
    for (uint32_t j = 0u; j < n; j++) {
        out = ps_net_put_u32(out, xs[j]);
    }
    return out;
}

static uint8_t *ps_net_put_i32s(uint8_t *out, const int32_t *xs, uint32_t n)
{
    for (uint32_t j = 0u; j < n; j++) {
        out = ps_net_put_u32(out, (uint32_t)xs[j]); /* two's complement bits, as the TS setInt32 */
    }
    return out;
}

static uint8_t *ps_net_put_i16s(uint8_t *out, const int16_t *xs, uint32_t n)
{
    for (uint32_t j = 0u; j < n; j++) {
        uint16_t bits = (uint16_t)xs[j]; /* two's complement bits, as the TS setInt16 */
        out[0] = (uint8_t)(bits & 0xffu);
        out[1] = (uint8_t)(bits >> 8);
        out += 2;
    }
    return out;
}

ps_status_t ps_net_snapshot(const ps_net_t *net, uint8_t *out, size_t capacity, size_t *written)
{
    const ps_model_t *model = net->model;
    size_t need = ps_net_snapshot_size(net);
    *written = 0u;
    if (need > capacity) {
        return PS_E_DEVICE_OUT_OF_MEMORY;
    }
    uint8_t *o = out;
    o = ps_net_put_u32(o, (uint32_t)PS_NET_SNAPSHOT_MAGIC);
    o = ps_net_put_u32(o, model->n_layers);
    o = ps_net_put_u32(o, net->t_low);
    o = ps_net_put_u32(o, net->t_high);
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        const ps_layer_t *layer = &model->layers[l];
        const ps_layer_state_t *s = &net->layers[l];
        o = ps_net_put_u32(o, layer->size);
        o = ps_net_put_u32(o, layer->neuron.model);
        o = ps_net_put_u32(o, s->n_spikes);
        o = ps_net_put_i32s(o, s->v, layer->size);
        if (s->current != NULL) {
            o = ps_net_put_i32s(o, s->current, layer->size);
        }
        memcpy(o, s->refr, layer->size);
        o += layer->size;
        o = ps_net_put_u32s(o, s->counts, layer->size);
        o = ps_net_put_u32s(o, s->spikes, s->n_spikes);
    }
    for (uint32_t l = 0u; l < model->n_layers; l++) {
        const ps_layer_state_t *s = &net->layers[l];
        if (PS_NET_LEARNS && s->w != NULL) {
            o = ps_net_put_i16s(o, s->w, s->synapses);
            o = ps_net_put_i16s(o, s->pre_trace, s->pre_size);
            o = ps_net_put_i16s(o, s->post_trace, model->layers[l].size);
            if (s->elig != NULL) {
                o = ps_net_put_i16s(o, s->elig, s->synapses);
            }
            o = ps_net_put_u32(o, (uint32_t)s->baseline[0]);
            if (PS_NET_HAS(PS_NET_LEARN_EVENT) && s->pre_stamp != NULL) {
                o = ps_net_put_u32s(o, s->pre_stamp, s->pre_size);
                o = ps_net_put_u32s(o, s->post_stamp, model->layers[l].size);
            }
            if (PS_NET_HAS(PS_NET_LEARN_TRIPLET) && s->slow != NULL) {
                o = ps_net_put_i16s(o, s->slow, model->layers[l].size);
                o = ps_net_put_u32s(o, s->slow_stamp, model->layers[l].size);
            }
            if (PS_NET_HAS(PS_NET_LEARN_EPOCH) && s->epoch != NULL) {
                memcpy(o, PS_PRE_MARK(s), s->pre_size);
                o += s->pre_size;
                memcpy(o, PS_POST_MARK(s), model->layers[l].size);
                o += model->layers[l].size;
                o = ps_net_put_u32(o, (uint32_t)s->epoch[0]);
            }
        }
    }
    *written = need;
    return PS_OK;
}
