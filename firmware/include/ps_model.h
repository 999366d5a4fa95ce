/*
 * The in-memory model the C kernels run: the C mirror of runtime/model.ts (EventTable), filled by
 * the event-table reader (ps_table.h) from an uploaded `.cbor`, or by generated code from const
 * tables. Field meanings, ranges and arithmetic are spec/table-format.md and spec/ops.md; every
 * value here has been validated, so kernels may trust it (sizes agree, indices are in range, shifts
 * are 0..23, ...) and need no checks at step time.
 *
 * Memory: arrays are either views into the caller's input buffer (int8 weights, packed int4 weights
 * and uint8 shifts of non-plastic connections, layer names) or aligned copies in the caller's arena
 * (every int16, int32 and uint32 array, and every weight array of a plastic layer). Both buffers
 * must outlive the model. Multi-byte arrays are in host byte order.
 */
#ifndef PS_MODEL_H
#define PS_MODEL_H

#include <stddef.h>
#include <stdint.h>

/** Event-table format version this model layout mirrors (runtime/model.ts FORMAT_VERSION). */
#define PS_MODEL_FORMAT_VERSION 2
/** Oldest format version the table reader accepts (runtime/model.ts READABLE_FORMAT_VERSIONS). */
#define PS_MODEL_MIN_FORMAT_VERSION 1
/** Most layers in a table. */
#define PS_MAX_LAYERS 64u
/** Most neurons in one layer (and in the input); also the bound of each shape dimension. */
#define PS_MAX_NEURONS (1ul << 20)
/** Most synapses over all connections of a table (spec section 4). */
#define PS_MAX_SYNAPSES (1ul << 26)
/**
 * Word alignment of compiled-in int8 weight arrays (codegen's const tables): rows of a multiple of 4
 * weights then start on word boundaries, which the Cortex-M4 fold reads two words per LDRD
 * (firmware/kernels/ps_fold_m4.h). Only a speed matter: every kernel takes rows at any alignment.
 */
#if defined(__GNUC__)
#define PS_WEIGHTS_ALIGNED __attribute__((aligned(4)))
#else
#define PS_WEIGHTS_ALIGNED
#endif
/** Largest weight shift exponent. */
#define PS_MAX_SHIFT 23u

/** Connection kinds (Connection["kind"]). */
typedef enum ps_conn_kind {
    PS_CONN_NONE = 0, /* no connection (an absent recurrent connection) */
    PS_CONN_DENSE = 1,
    PS_CONN_SPARSE = 2,
    PS_CONN_CONV2D = 3,
    PS_CONN_POOL = 4
} ps_conn_kind_t;

/** Neuron models (NeuronModel), spec/ops.md. */
typedef enum ps_neuron_model {
    PS_NEURON_IF = 0,
    PS_NEURON_LIF_SHIFT = 1,
    PS_NEURON_LIF_Q15 = 2,
    PS_NEURON_CUBA = 3,
    PS_NEURON_INTEGRATOR = 4
} ps_neuron_model_t;

/** Reset after a spike (ResetMode): v -= threshold, or v = reset_value. */
typedef enum ps_reset_mode { PS_RESET_SUBTRACT = 0, PS_RESET_VALUE = 1 } ps_reset_mode_t;

/** Input encodings (InputDescription["encoding"]). */
typedef enum ps_encoding { PS_ENCODING_SPIKES = 0, PS_ENCODING_RATE = 1, PS_ENCODING_CURRENT = 2 } ps_encoding_t;

/** Readout kinds (Readout["kind"]). */
typedef enum ps_readout_kind { PS_READOUT_COUNT = 0, PS_READOUT_MEMBRANE = 1 } ps_readout_kind_t;

/** Learning rules (Plasticity["rule"]). */
typedef enum ps_rule { PS_RULE_STDP = 0, PS_RULE_RSTDP = 1, PS_RULE_TRIPLET = 2 } ps_rule_t;

/** Plasticity timing (Plasticity["timing"], spec/ops.md §11.5): per step (absent) or event-driven. */
typedef enum ps_timing { PS_TIMING_STEP = 0, PS_TIMING_EVENT = 1, PS_TIMING_EPOCH = 2 } ps_timing_t;

/** epochShift of an epoch-timed layer that leaves it out (spec/ops.md §11.7; runtime/model.ts EPOCH_SHIFT_DEFAULT). */
#define PS_EPOCH_SHIFT_DEFAULT 5

/** Channels, height, width; index of (c, y, x) is (c * h + y) * w + x. All zero when absent. */
typedef struct ps_shape3 {
    uint32_t c;
    uint32_t h;
    uint32_t w;
} ps_shape3_t;

/**
 * Stored weights of a dense, sparse or conv2d connection (Weights). Exactly one of the data
 * pointers is non-NULL, chosen by `bits`. The contribution of weight k to post neuron j of
 * channel c is `weight(k) << shift[shift_len == 1 ? 0 : c]`.
 */
typedef struct ps_weights {
    uint8_t bits;            /* 4, 8 or 16 */
    uint32_t count;          /* number of weights */
    const int8_t *i8;        /* bits 8: count entries */
    const int16_t *i16;      /* bits 16: count entries */
    const uint8_t *packed4;  /* bits 4: (count + 1) / 2 bytes, two's complement nibbles, weight k in
                                nibble (k & 1) of byte k >> 1 (low nibble first) */
    void *writable;          /* plastic layer's input connection only: the same array as the
                                non-NULL data pointer, a private arena copy the learning rule may
                                write; NULL otherwise (the data may alias the read-only input) */
    const uint8_t *shift;    /* shift_len entries, each 0..23 */
    uint32_t shift_len;      /* 1 (per layer) or the post layer's channels */
} ps_weights_t;

/**
 * One connection (Connection). Which fields hold data depends on `kind`:
 * - dense:  inputs, outputs, weights; weight of pre i onto post j is index i * outputs + j.
 * - sparse: inputs, outputs, row_ptr, cols16 or cols32, nnz, weights (count = nnz); the synapses
 *           of pre i are row_ptr[i] .. row_ptr[i + 1] - 1, columns strictly ascending per row.
 * - conv2d: in_shape, out_shape, kernel, stride, padding, weights laid out [K][C][kh][kw].
 * - pool:   in_shape, out_shape, kernel, stride, pool_weight, pool_shift; padding is 0.
 * For conv2d and pool, inputs and outputs hold the products of in_shape and out_shape.
 */
typedef struct ps_connection {
    uint8_t kind;              /* ps_conn_kind_t */
    uint32_t inputs;           /* presynaptic neurons */
    uint32_t outputs;          /* postsynaptic neurons */
    ps_shape3_t in_shape;      /* conv2d, pool */
    ps_shape3_t out_shape;     /* conv2d, pool */
    uint8_t kernel[2];         /* kh, kw: 1..64 */
    uint8_t stride[2];         /* sy, sx: 1..64 */
    uint8_t padding[2];        /* py, px: 0..kernel-1 (conv2d) */
    ps_weights_t weights;      /* dense, sparse, conv2d */
    const uint32_t *row_ptr;   /* sparse: inputs + 1 entries, row_ptr[0] = 0, non-decreasing */
    const uint16_t *cols16;    /* sparse with outputs <= 65536: nnz entries < outputs */
    const uint32_t *cols32;    /* sparse with outputs > 65536: nnz entries < outputs */
    uint32_t nnz;              /* sparse: synapse count */
    int16_t pool_weight;       /* pool: weight of every synapse */
    uint8_t pool_shift;        /* pool: left shift of pool_weight, 0..23 */
    uint32_t synapses;         /* synapse count of spec section 4 */
} ps_connection_t;

/** Integer neuron parameters shared by a layer (NeuronParams). */
typedef struct ps_neuron {
    uint8_t model;             /* ps_neuron_model_t */
    uint8_t reset;             /* ps_reset_mode_t */
    uint8_t leak_shift;        /* lif-shift, cuba: 0..31; else 0 */
    uint8_t current_shift;     /* cuba: 0..31; else 0 */
    uint8_t refractory;        /* steps, 0..255; 0 for integrator */
    uint16_t leak_q15;         /* lif-q15: 0..32767; else 32767 */
    int32_t threshold;         /* 1..INT32_MAX */
    int32_t reset_value;       /* reset value: in [v_min, threshold); subtract: 0 */
    int32_t v_min;             /* lower membrane clamp; INT32_MIN = unclamped */
    /* format version 2 (spec/ops.md §4.9); zero/NULL keeps the version-1 meaning */
    uint8_t compare_gt;        /* 1: spike when v > threshold; 0: v >= threshold */
    uint8_t reset_delay;       /* 1: subtract last step's spike one step late (reset subtract only) */
    uint8_t multi_spike;       /* 1: n = min(floor(v/threshold), 255) spikes per step as one graded event */
    uint8_t synapse_q15;       /* cuba: 1 = Q15 form (Q15 retentions, the bias enters the current) */
    uint8_t rules;             /* 1 when any step rule of §4.9 applies: the layer runs the rule kernels */
    uint16_t current_q15;      /* cuba in Q15 form: current retention, 0..32767 */
    int32_t v_init;            /* membrane at every reset */
    const uint16_t *leak_q15s;    /* per-neuron membrane retention (size entries) or NULL */
    const uint16_t *current_q15s; /* per-neuron current retention (size entries) or NULL */
} ps_neuron_t;

/** Learning parameters of a plastic layer's input connection (Plasticity), spec/ops.md. */
typedef struct ps_plasticity {
    uint8_t rule;              /* ps_rule_t */
    uint8_t pre_trace_shift;   /* 1..15 */
    uint8_t post_trace_shift;  /* 1..15 */
    uint8_t eligibility_shift; /* 1..15 */
    uint8_t learning_shift;    /* 0..31 */
    uint8_t baseline_shift;    /* 0..15 */
    uint8_t timing;            /* ps_timing_t */
    uint8_t triplet_shift;     /* triplet: 1..15 (slow post trace); else 0 */
    uint8_t epoch_shift;       /* epoch timing: 1..8 (epochs of 2^epoch_shift steps); else 0 */
    int16_t a3_plus;           /* triplet: 0..32767; else 0 */
    int16_t trace_increment;   /* 1..32767 */
    int16_t a_plus;            /* 0..32767 */
    int16_t a_minus;           /* 0..32767 */
    int16_t w_min;             /* within the stored width; w_min <= w_max */
    int16_t w_max;
} ps_plasticity_t;

/** One layer (Layer). */
typedef struct ps_layer {
    const uint8_t *name;       /* UTF-8, name_len bytes, NOT NUL-terminated (points into the input) */
    uint32_t name_len;         /* 1..64 */
    uint32_t size;             /* neurons, 1..2^20 */
    uint8_t has_shape;         /* 1 when `shape` is set (feature map) */
    ps_shape3_t shape;         /* c * h * w = size when has_shape */
    uint32_t channels;         /* shape.c when has_shape, else size (each neuron its own channel) */
    ps_connection_t input;     /* feed-forward, from the previous layer (layer 0: the input) */
    ps_connection_t recurrent; /* from this layer onto itself, one step later; kind NONE if absent */
    const int32_t *bias;       /* NULL when absent */
    uint32_t bias_len;         /* size (per neuron) or channels (per channel); 0 when absent */
    ps_neuron_t neuron;
    uint8_t has_plasticity;    /* 1 when the input connection learns (then input.weights.writable) */
    ps_plasticity_t plasticity;
} ps_layer_t;

/** Network input (InputDescription). */
typedef struct ps_input {
    uint32_t size;             /* 1..2^20 */
    uint8_t has_shape;
    ps_shape3_t shape;
    uint8_t encoding;          /* ps_encoding_t */
    uint32_t seed;             /* rate: nonzero PRNG seed */
} ps_input_t;

/** A whole validated model (EventTable minus provenance, which the device does not need). */
typedef struct ps_model {
    uint8_t hash[32];          /* SHA-256 of the table body: the model's identity */
    ps_input_t input;
    uint32_t n_layers;         /* 1..64 */
    const ps_layer_t *layers;  /* n_layers entries, in the arena */
    uint8_t readout;           /* ps_readout_kind_t */
    uint32_t synapses;         /* total synapse count (spec section 4), <= 2^26 */
    size_t arena_used;         /* bytes of the arena the model occupies (including alignment) */
} ps_model_t;

#endif /* PS_MODEL_H */
