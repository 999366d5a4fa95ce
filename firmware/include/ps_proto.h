/*
 * Message payloads of spec/protocol.md section 3: typed encode/decode of every message, device and
 * host direction alike (the host test tools use both). Decoding is zero-copy: byte strings, event
 * lists and spike sections point into the payload and stay valid while it does; the decoder fully
 * validates them first (canonical varints, strictly ascending indices, counts against the bytes
 * present), so iterating later cannot fail. No allocation, no recursion, every loop bounded by the
 * payload length or a count checked against it.
 */
#ifndef PS_PROTO_H
#define PS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "ps_frame.h"
#include "ps_status_generated.h"

/** Message types. */
enum ps_msg_type {
    PS_MSG_HELLO = 0x01,
    PS_MSG_HELLO_ACK = 0x02,
    PS_MSG_ACK = 0x03,
    PS_MSG_NACK = 0x04,
    PS_MSG_ERROR = 0x05,
    PS_MSG_MODEL_BEGIN = 0x10,
    PS_MSG_MODEL_CHUNK = 0x11,
    PS_MSG_MODEL_END = 0x12,
    PS_MSG_MODEL_LOADED = 0x13,
    PS_MSG_STEP = 0x20,
    PS_MSG_STEP_RESULT = 0x21,
    PS_MSG_RT_START = 0x22,
    PS_MSG_RT_STOP = 0x23,
    PS_MSG_RT_INPUT = 0x24,
    PS_MSG_RT_OUTPUT = 0x25,
    PS_MSG_REWARD = 0x30,
    PS_MSG_READ_STATE = 0x40,
    PS_MSG_STATE_CHUNK = 0x41,
    PS_MSG_RESET_STATE = 0x42,
    PS_MSG_GET_STATS = 0x50,
    PS_MSG_STATS = 0x51
};

/* HELLO_ACK capability bits. */
#define PS_CAP_LOCKSTEP 0x01u
#define PS_CAP_REALTIME 0x02u
#define PS_CAP_UPLOAD 0x04u
#define PS_CAP_PLASTICITY 0x08u
#define PS_CAP_STATE_READBACK 0x10u
#define PS_CAP_COST 0x20u

/* Cost units, device states, model sources (HELLO_ACK). */
#define PS_COST_NONE 0u
#define PS_COST_CYCLES 1u
#define PS_COST_INSTRUCTIONS 2u
#define PS_COST_MICROSECONDS 3u
#define PS_STATE_NO_MODEL 0u
#define PS_STATE_READY 1u
#define PS_STATE_REALTIME 2u
#define PS_MODEL_NONE 0u
#define PS_MODEL_COMPILED_IN 1u
#define PS_MODEL_UPLOADED 2u

/* READ_STATE what, RESET_STATE what. */
#define PS_STATE_MEMBRANE 0u
#define PS_STATE_WEIGHTS 1u
#define PS_STATE_RECURRENT_WEIGHTS 2u
#define PS_STATE_PRE_TRACE 3u
#define PS_STATE_POST_TRACE 4u
#define PS_STATE_ELIGIBILITY 5u
#define PS_RESET_DYNAMIC 0u
#define PS_RESET_WEIGHTS 1u

/* Flags of STEP / STEP_RESULT / RT_START / RT_OUTPUT, and of event lists. */
#define PS_STEP_MORE 0x01u
#define PS_STEP_COST 0x02u
#define PS_EVENTS_VALUES 0x01u

/* Sizes. */
#define PS_FIRMWARE_HASH_SIZE 8u
#define PS_MODEL_HASH_SIZE 32u
#define PS_MAX_BOARD_NAME 32u
#define PS_MAX_ERROR_TEXT 64u
#define PS_MAX_PENDING_REWARDS 4u
/** Request timeout, retries, MODEL_END timeout (ms), for host tools written in C. */
#define PS_REQUEST_TIMEOUT_MS 200u
#define PS_REQUEST_RETRIES 5u
#define PS_MODEL_END_TIMEOUT_MS 2000u

/* ---- byte writer / reader ----------------------------------------------------------------- */

/** Appends little-endian fields to a bounded buffer; overflow is sticky and reported by ps_writer_status. */
typedef struct ps_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
    ps_status_t status;
} ps_writer_t;

void ps_writer_init(ps_writer_t *w, uint8_t *buf, size_t cap);
void ps_put_u8(ps_writer_t *w, uint8_t v);
void ps_put_u16(ps_writer_t *w, uint16_t v);
void ps_put_u32(ps_writer_t *w, uint32_t v);
/** Unsigned LEB128, 1..5 bytes. */
void ps_put_varint(ps_writer_t *w, uint32_t v);
void ps_put_bytes(ps_writer_t *w, const uint8_t *data, size_t len);
/** Writes count then the indices delta-coded (spec 3.1); PS_E_SEMANTICS_BAD_INPUT unless strictly ascending. */
void ps_put_indices(ps_writer_t *w, const uint32_t *indices, uint32_t count);
/** PS_OK, or the first error (PS_E_PROTOCOL_BAD_PAYLOAD when the buffer was too small). */
ps_status_t ps_writer_status(const ps_writer_t *w);
/** Bytes of the LEB128 form of v. */
size_t ps_varint_size(uint32_t v);

/* ---- shared encodings --------------------------------------------------------------------- */

/**
 * A strictly ascending index list. To encode, set count and indices. A decoded list has count and
 * coded/coded_len (the validated varints); read it with ps_index_iter_*.
 */
typedef struct ps_index_list {
    uint32_t count;
    const uint32_t *indices;
    const uint8_t *coded;
    size_t coded_len;
} ps_index_list_t;

/** Iterator over a decoded index list. */
typedef struct ps_index_iter {
    const uint8_t *p;
    const uint8_t *end;
    uint32_t remaining;
    uint32_t prev;
    uint8_t started;
} ps_index_iter_t;

void ps_index_iter_init(ps_index_iter_t *it, const ps_index_list_t *list);
/** Stores the next index in *index and returns 1; returns 0 at the end. */
int ps_index_iter_next(ps_index_iter_t *it, uint32_t *index);

/** Input events of one step: indices, and a value 1..255 per event (values NULL: all 1). */
typedef struct ps_events {
    ps_index_list_t list;
    const uint8_t *values;
} ps_events_t;

/** Spikes of one layer. */
typedef struct ps_section {
    uint8_t layer;
    ps_index_list_t spikes;
} ps_section_t;

/** Spike sections: to encode set count and items; decoded ones have coded/coded_len, read with ps_section_iter_*. */
typedef struct ps_sections {
    uint8_t count;
    const ps_section_t *items;
    const uint8_t *coded;
    size_t coded_len;
} ps_sections_t;

/** Iterator over decoded sections. */
typedef struct ps_section_iter {
    const uint8_t *p;
    const uint8_t *end;
    uint8_t remaining;
} ps_section_iter_t;

void ps_section_iter_init(ps_section_iter_t *it, const ps_sections_t *sections);
/** Fills *out (its spikes are a decoded index list) and returns 1; returns 0 at the end. */
int ps_section_iter_next(ps_section_iter_t *it, ps_section_t *out);

/* ---- messages ------------------------------------------------------------------------------- */

typedef struct ps_hello { uint8_t proto_min; uint8_t proto_max; uint32_t nonce; } ps_hello_t;

typedef struct ps_hello_ack {
    uint16_t reply_to;
    uint8_t proto_min;
    uint8_t proto_max;
    uint8_t proto_version;
    uint32_t nonce;
    uint16_t capabilities;
    uint8_t board_len;
    const char *board;              /* board_len printable ASCII bytes, not NUL-terminated */
    const uint8_t *firmware_hash;   /* PS_FIRMWARE_HASH_SIZE bytes */
    const uint8_t *model_hash;      /* PS_MODEL_HASH_SIZE bytes, all zero: no model */
    uint16_t max_frame;
    uint16_t max_input_events;
    uint32_t upload_ram;
    uint8_t cost_unit;
    uint8_t state;
    uint8_t model_source;
    uint32_t step;
} ps_hello_ack_t;

typedef struct ps_ack { uint16_t reply_to; uint32_t info; } ps_ack_t;
typedef struct ps_nack { uint16_t reply_to; uint16_t code; uint32_t detail; } ps_nack_t;
typedef struct ps_error_msg { uint16_t code; uint32_t detail; uint8_t text_len; const char *text; } ps_error_msg_t;
typedef struct ps_model_begin { uint32_t total_len; const uint8_t *sha256; } ps_model_begin_t;
typedef struct ps_model_chunk { uint32_t offset; uint16_t len; const uint8_t *data; } ps_model_chunk_t;
typedef struct ps_model_loaded { uint16_t reply_to; const uint8_t *model_hash; } ps_model_loaded_t;

typedef struct ps_step {
    uint32_t step;
    uint8_t flags;        /* PS_STEP_MORE | PS_STEP_COST */
    uint32_t report_mask; /* bit L: report layer L */
    ps_events_t events;
} ps_step_t;

typedef struct ps_step_result {
    uint16_t reply_to;
    uint32_t step;
    uint8_t flags;        /* PS_STEP_MORE | PS_STEP_COST (cost present) */
    uint8_t part;
    uint32_t cost;
    ps_sections_t sections;
} ps_step_result_t;

typedef struct ps_rt_start { uint32_t period_us; uint8_t flags; uint32_t report_mask; } ps_rt_start_t;
typedef struct ps_rt_input { ps_events_t events; } ps_rt_input_t;

typedef struct ps_rt_output {
    uint32_t step;
    uint8_t flags;               /* PS_STEP_COST (cost present) */
    uint32_t cost;
    uint8_t applied_count;
    const uint16_t *applied;     /* encode: the RT_INPUT sequence numbers */
    const uint8_t *applied_raw;  /* decoded: applied_count u16 LE; read with ps_rt_output_applied */
    ps_sections_t sections;
} ps_rt_output_t;

typedef struct ps_reward { uint32_t target_step; int16_t reward; } ps_reward_t;
typedef struct ps_read_state { uint8_t what; uint8_t layer; uint32_t offset; uint16_t length; } ps_read_state_t;

typedef struct ps_state_chunk {
    uint16_t reply_to;
    uint8_t what;
    uint8_t layer;
    uint32_t offset;
    uint32_t total;
    uint16_t data_len;
    const uint8_t *data;
} ps_state_chunk_t;

typedef struct ps_reset_state { uint8_t what; } ps_reset_state_t;

typedef struct ps_stats {
    uint16_t reply_to;
    uint32_t steps;
    uint32_t frames_rx;
    uint32_t frames_tx;
    uint32_t bad_frame;
    uint32_t bad_crc;
    uint32_t gaps;
    uint32_t late;
    uint32_t dropped;
    uint32_t last_cost;
    uint32_t max_cost;
} ps_stats_t;

/** Any message; type selects the union member (MODEL_END, RT_STOP, GET_STATS have none). */
typedef struct ps_msg {
    uint8_t type;
    union {
        ps_hello_t hello;
        ps_hello_ack_t hello_ack;
        ps_ack_t ack;
        ps_nack_t nack;
        ps_error_msg_t error;
        ps_model_begin_t model_begin;
        ps_model_chunk_t model_chunk;
        ps_model_loaded_t model_loaded;
        ps_step_t step;
        ps_step_result_t step_result;
        ps_rt_start_t rt_start;
        ps_rt_input_t rt_input;
        ps_rt_output_t rt_output;
        ps_reward_t reward;
        ps_read_state_t read_state;
        ps_state_chunk_t state_chunk;
        ps_reset_state_t reset_state;
        ps_stats_t stats;
    } u;
} ps_msg_t;

/** 1 when type is a message type of this protocol version. */
int ps_msg_type_known(uint8_t type);
/** 1 when type is a request (acknowledged, retried, subject to duplicate detection; spec section 2). */
int ps_msg_is_request(uint8_t type);

/**
 * Encodes m's payload into buf[0, cap); *len = payload bytes. PS_E_PROTOCOL_BAD_PAYLOAD for fields out
 * of range or a too small buffer, PS_E_SEMANTICS_BAD_INPUT for unsorted indices or zero event values,
 * PS_E_PROTOCOL_UNKNOWN_MESSAGE for an unknown type.
 */
ps_status_t ps_msg_encode(const ps_msg_t *m, uint8_t *buf, size_t cap, size_t *len);

/**
 * Decodes and fully validates a payload of the given type into *out (pointers into payload).
 * PS_E_PROTOCOL_UNKNOWN_MESSAGE for an unknown type, PS_E_PROTOCOL_BAD_PAYLOAD for any layout error.
 */
ps_status_t ps_msg_decode(uint8_t type, const uint8_t *payload, size_t len, ps_msg_t *out);

/** The i-th applied sequence number of a decoded (or encodable) RT_OUTPUT. */
uint16_t ps_rt_output_applied(const ps_rt_output_t *m, uint8_t i);

#endif /* PS_PROTO_H */
