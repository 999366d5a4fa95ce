/*
 * The C network runtime: runs a validated model (ps_model.h) step by step exactly as spec/ops.md
 * defines it, with the generated kernels (ps_kernels_generated.h). The TypeScript twin is
 * runtime/interpreter.ts; both must agree bit for bit (test/conformance).
 *
 * No malloc, no recursion, every loop bounded by table sizes. All per-neuron state lives in one
 * caller-provided word buffer of ps_net_state_words(model) uint32_t words; the per-layer
 * bookkeeping lives in ps_net_t itself (PS_NET_MAX_LAYERS entries; define it before including this
 * header to shrink ps_net_t for a model with fewer layers).
 *
 * Usage:
 *     static uint32_t state[WORDS];            // WORDS >= ps_net_state_words(&model)
 *     static ps_net_t net;
 *     ps_net_init(&net, &model, state, WORDS);  // also resets
 *     ps_net_step(&net, indices, NULL, n);      // spikes; or values[] for graded events
 *     ps_net_readout(&net);
 *     // constant input (the `current` encoding) held over T steps, folded once:
 *     ps_net_hold_input(&net, indices, values, n, held); then T x ps_net_step_held(&net, held);
 */
#ifndef PS_NET_H
#define PS_NET_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "ps_model.h"
#include "ps_status_generated.h"

#ifndef PS_NET_MAX_LAYERS
/** Most layers a ps_net_t can run (the format allows 64). */
#define PS_NET_MAX_LAYERS 64u
#endif

/*
 * The learning rules compiled into ps_net (spec/ops.md §11), one bit each. A build may leave out
 * what its models never use (codegen/kernel-select.ts learningMask derives the bits a table needs;
 * `-DPS_NET_LEARNING=0` drops all learning code, which keeps an inference-only Cortex-M0 build
 * small); ps_net_init refuses a model that needs a rule left out with PS_E_DEVICE_LEARNING_NOT_BUILT.
 */
/** Step timing (§11.2): stdp and rstdp, dense and sparse. */
#define PS_NET_LEARN_STEP 1u
/** Event timing (§11.5): stdp and rstdp, dense. */
#define PS_NET_LEARN_EVENT 2u
/** The triplet rule (§11.6; needs PS_NET_LEARN_EVENT too). */
#define PS_NET_LEARN_TRIPLET 4u
/** Epoch timing (§11.7): stdp and rstdp, dense. */
#define PS_NET_LEARN_EPOCH 8u
#ifndef PS_NET_LEARNING
/** Every rule (the generic firmware, which accepts any uploaded table). */
#define PS_NET_LEARNING 15u
#endif

/** Snapshot magic "PSS1" little-endian (spec/ops.md §10). */
#define PS_NET_SNAPSHOT_MAGIC 0x31535350ul

/** The state of one layer: views into the caller's state buffer. */
typedef struct ps_layer_state {
    int32_t *v;            /* membranes, size */
    int32_t *current;      /* cuba synaptic currents, size; NULL for other models */
    int32_t *acc;          /* per-step input accumulator, size */
    uint32_t *counts;      /* spikes per neuron since reset, size */
    uint32_t *spikes;      /* this step's spikes, ascending, n_spikes of them */
    uint32_t *previous;    /* the previous step's spikes (the recurrent source) */
    uint8_t *refr;         /* refractory counters, size */
    uint8_t *values;       /* multi-spike layers: spikes per event of this step, beside spikes; NULL otherwise */
    uint32_t n_spikes;
    uint32_t n_previous;
    bool exact_spikes;     /* spec/ops.md §12.1 bound proven for steps of spikes: plain int32 kernels */
    bool exact_graded;     /* the same for graded input values up to 255 (layer 0) */
    /* plastic layers only (spec/ops.md §11); NULL / 0 otherwise */
    int16_t *w;            /* int16 working weights, `synapses` of them, stored synapse order */
    int16_t *pre_trace;    /* one per presynaptic neuron */
    int16_t *post_trace;   /* one per neuron */
    int16_t *elig;         /* rstdp: one per synapse; NULL for stdp */
    uint8_t *flags;        /* post-spike flags for sparse potentiation, one per neuron */
    /* event-timed plastic layers only (spec/ops.md §11.5); NULL otherwise */
    uint32_t *pre_stamp;   /* step of each presynaptic neuron's last event (pre_trace holds its value then) */
    uint32_t *post_stamp;  /* step of each neuron's last spike (post_trace holds its value then) */
    int16_t *pre_now;      /* scratch: the pre traces at the current step */
    int16_t *post_now;     /* scratch: the post traces at the current step */
    uint16_t *factors;     /* binary decay schedules: pre [0..16), post [16..32), eligibility [32..48), slow [48..64) */
    int32_t *gain;         /* potentiation gain per neuron: a_plus, or the triplet gain of this step's spikes */
    int16_t *slow;         /* triplet only: slow post trace y2 at each neuron's last spike; NULL otherwise */
    uint32_t *slow_stamp;  /* triplet only: its stamps */
    /* epoch-timed plastic layers only (spec/ops.md §11.7); NULL / 0 otherwise */
    int32_t *epoch;        /* [0] the epoch's summed reward R, then the pre and the post markers (bytes, each 0 or 1,
                              word-rounded), then with an int8 clamp the working weights as int8 (ps_net.c), then for
                              rstdp the row bounds of the §11.7 row skip (uint16 per pre neuron) */
    int32_t baseline[1];   /* reward baseline b */
    uint32_t synapses;     /* plastic synapses (0 when the layer does not learn) */
    uint32_t pre_size;     /* presynaptic neurons */
} ps_layer_state_t;

/** A network: a model and its state. */
typedef struct ps_net {
    const ps_model_t *model;
    uint32_t t_low;        /* steps since reset, low and high words (spec/ops.md §10) */
    uint32_t t_high;
    int32_t reward;        /* reward of the next step (spec/ops.md §11.3), sat16 sum; 0 = none */
    ps_layer_state_t layers[PS_NET_MAX_LAYERS];
} ps_net_t;

/** uint32_t words of state buffer the model needs (per layer: v, acc, counts, two spike lists, refractory bytes, cuba currents, multi-spike event values). */
uint32_t ps_net_state_words(const ps_model_t *model);

/**
 * Binds `net` to `model` with state in `state[0..words)` and resets it. Returns
 * PS_E_DEVICE_OUT_OF_MEMORY when the buffer is too small or the model has more than
 * PS_NET_MAX_LAYERS layers, PS_E_DEVICE_LEARNING_NOT_BUILT when a layer learns by a rule this
 * build left out (PS_NET_LEARNING). `model` and `state` must outlive `net`.
 */
ps_status_t ps_net_init(ps_net_t *net, const ps_model_t *model, uint32_t *state, uint32_t words);

/**
 * Sets all state to its initial value (spec/ops.md §10): zeros, no spikes, t = 0; clears traces,
 * eligibility, baselines and the pending reward but keeps learned weights (spec/ops.md §11.4).
 */
void ps_net_reset(ps_net_t *net);

/** Working weights of every plastic layer back to the model's stored weights. */
void ps_net_reset_weights(ps_net_t *net);

/** Adds an int16 reward to the next step's (sat16); it acts at that step's start (spec/ops.md §11.3). */
void ps_net_reward(ps_net_t *net, int32_t reward);

/** int16 working weights of plastic `layer` (stored synapse order); *count receives their number. NULL when the layer does not learn. */
const int16_t *ps_net_weights(const ps_net_t *net, uint32_t layer, uint32_t *count);

/** Bytes of state buffer plasticity takes for `model` (working weights, traces, eligibility, flags), for build's memory report. */
uint32_t ps_net_plastic_bytes(const ps_model_t *model);

/**
 * Applies one step (spec/ops.md §6) with input events indices[0..n) (strictly ascending, < input
 * size) and values[0..n) (1..255; NULL means all 1). Returns PS_E_SEMANTICS_BAD_INPUT, with the
 * state unchanged, when the events are invalid (spec/ops.md §7.1).
 */
ps_status_t ps_net_step(ps_net_t *net, const uint32_t *indices, const uint8_t *values, uint32_t n);

/**
 * Held input (spec/ops.md §7.3): folds the events through layer 0's feed-forward connection once,
 * exactly as a step of them would, into held[0..size of layer 0). Events as for ps_net_step
 * (PS_E_SEMANTICS_BAD_INPUT otherwise); PS_E_SEMANTICS_HELD_INPUT_PLASTIC when layer 0 learns
 * (its weights change, so its input is not constant). The net's state is not touched.
 */
ps_status_t ps_net_hold_input(const ps_net_t *net, const uint32_t *indices, const uint8_t *values, uint32_t n, int32_t *held);

/**
 * One step whose input is the held events of ps_net_hold_input: the same integers as ps_net_step
 * of those events, without folding them again (for a constant `current` input held over T steps).
 */
ps_status_t ps_net_step_held(ps_net_t *net, const int32_t *held);

/** This step's spikes of `layer` (ascending); *count receives how many. NULL for a bad layer. */
const uint32_t *ps_net_spikes(const ps_net_t *net, uint32_t layer, uint32_t *count);

/** Spike counts per neuron of `layer` since reset; NULL for a bad layer. */
const uint32_t *ps_net_counts(const ps_net_t *net, uint32_t layer);

/** Membranes of `layer`; NULL for a bad layer. */
const int32_t *ps_net_membrane(const ps_net_t *net, uint32_t layer);

/** The class read from the last layer (spec/ops.md §9), ties to the lowest index. */
uint32_t ps_net_readout(const ps_net_t *net);

/** Bytes of the current snapshot (it varies with the last step's spike counts). */
size_t ps_net_snapshot_size(const ps_net_t *net);

/**
 * Writes the state in the byte layout of spec/ops.md §10 (identical to the TS snapshot()) into
 * out[0..capacity); *written receives the length. PS_E_DEVICE_OUT_OF_MEMORY when it does not fit.
 */
ps_status_t ps_net_snapshot(const ps_net_t *net, uint8_t *out, size_t capacity, size_t *written);

#endif /* PS_NET_H */
