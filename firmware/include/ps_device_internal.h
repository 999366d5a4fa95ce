/*
 * Internal to the device dispatcher (ps_device*.c; not part of its API, ps_device.h): the one state
 * struct, and what its files call across each other. Split by concern like the mock board
 * (firmware-host/mock/): ps_device.c receives, dispatches and answers; ps_device_step.c runs lockstep
 * steps and sends spike sections; ps_device_model.c holds the upload and the model pool;
 * ps_device_realtime.c the clock and real-time steps; ps_device_readback.c READ_STATE.
 */
#ifndef PS_DEVICE_INTERNAL_H
#define PS_DEVICE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ps_device.h"
#include "ps_frame.h"
#include "ps_net.h"
#include "ps_proto.h"
#include "ps_table.h"

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)
#define POOL_BYTES ((size_t)PS_DEVICE_POOL_BYTES & ~(size_t)7u)
#define MAX_INPUT PS_DEVICE_MAX_INPUT_EVENTS
/* Layers the report mask can name (spec §3.2 STEP). */
#define MAX_REPORT_LAYERS 32u
/* Frame bytes of a STATE_CHUNK around its data: header, the payload's fixed prefix, CRC. */
#if defined(PS_PORT_COST_AT_RUN_TIME) && PS_PORT_COST_AT_RUN_TIME
/* One image for a QEMU model and the real part: the port says which it runs on (ps_port.h). */
#define COST_UNIT ps_port_cost_unit()
#define COST_MUL ps_port_cost_mul()
#define COST_DIV ps_port_cost_div()
#else
#define COST_UNIT PS_DEVICE_COST_UNIT
#define COST_MUL PS_DEVICE_COST_MUL
#define COST_DIV PS_DEVICE_COST_DIV
#endif

#define STATE_CHUNK_OVERHEAD (PS_HEADER_SIZE + PS_STATE_CHUNK_PREFIX_SIZE + PS_CRC_SIZE)

/* ---- device state ---------------------------------------------------------------------------- */

/*
 * Every piece of mutable device state, in one struct: a full reset (ps_device_reset_all) is one
 * memset of it, so a field added here cannot be forgotten there. ps_net.c and ps_table.c keep no
 * state of their own outside what lives here.
 */
typedef struct ps_device_state {
    uint64_t pool_words[POOL_BYTES / 8u]; /* the model pool, 8-byte aligned (first member) */
    ps_net_t net;
    ps_model_t upload_model;
    const ps_model_t *live;      /* the running model, NULL without one */
    uint8_t model_source;        /* PS_MODEL_* */
    size_t upload_cap;           /* bytes of the pool below the compiled-in model */
#ifdef PS_COMPILED_MODEL
    ps_model_t compiled_model;
    uint32_t *compiled_state;
    uint32_t compiled_words;
    uint8_t compiled_ok;
#endif

    struct {
        uint8_t active;
        uint32_t total;
        uint32_t received;
        uint8_t sha[32];
    } upload;

    /* Receive side. */
    uint8_t rx_buf[PS_MAX_ENCODED];
    ps_cobs_dec_t rx;
    ps_seq_track_t seq_track;
    uint8_t version;             /* the session's protocol version (PS_PROTOCOL_VERSION at boot) */
    uint8_t handshaken;

    /* Send side: the answer payload (kept for duplicates), a scratch payload for unsolicited frames, one wire buffer. */
    uint8_t answer_buf[PS_MAX_PAYLOAD];
    uint8_t scratch_buf[PS_MAX_PAYLOAD];
    uint8_t wire[PS_WIRE_SIZE(PS_MAX_PAYLOAD)];
    uint16_t tx_seq;

    /* The last executed request and how to resend its answer (spec §2 duplicate detection). */
    struct {
        uint8_t valid;
        uint8_t req_type;
        uint16_t req_seq;
        uint16_t tx_seq;   /* sequence number of the answer's first frame */
        uint8_t type;      /* answer type; PS_MSG_STEP_RESULT means "rebuild from step fields" */
        uint16_t len;      /* single-frame answers: payload bytes in answer_buf */
        uint32_t step;
        uint32_t report_mask;
        uint8_t want_cost;
        uint32_t cost;
    } last;

    /* Input events of the step being assembled (STEP parts) or of the next real-time step (RT_INPUT). */
    uint32_t in_idx[MAX_INPUT];
    uint8_t in_val[MAX_INPUT];
    uint32_t in_count;
    uint8_t in_has_values;
    uint8_t partial;             /* STEP parts with MORE are buffered */
    uint32_t partial_step;       /* the step the buffered parts belong to */
    uint32_t rt_pending_events;  /* sum of the pending RT_INPUT frames' event counts (spec §5.3) */
    uint16_t rt_applied[PS_DEVICE_RT_MAX_PENDING];
    uint8_t rt_applied_count;

    /* Pending rewards (spec §5.7): the step at whose start each acts and its value, in arrival order. */
    struct {
        uint32_t step;
        int16_t value;
    } rewards[PS_MAX_PENDING_REWARDS];
    uint8_t reward_count;

    struct {
        uint8_t on;
        uint8_t want_cost;
        uint32_t report_mask;
        uint64_t period_us;
        uint64_t next_due_us;
    } rt;

    /* The device clock in microseconds, accumulated from ps_port_cycles() differences. */
    uint64_t clock_us;
    uint64_t clock_rem;
    uint32_t clock_last;

    ps_device_counters_t counters;
} ps_device_state_t;

/** All mutable device state (defined in ps_device.c). */
extern ps_device_state_t ps_dev;
#define POOL ((uint8_t *)ps_dev.pool_words)

/*
 * Spike sections split into frames exactly as splitSections in firmware-host/mock/step.ts: a part holds sections
 * while the estimate (section header counted as 4 bytes) fits the budget; a layer that does not fit
 * continues in the next part with its indices restarting absolute. `fixed` counts the part's head
 * including section_count.
 */
typedef struct out_parts {
    uint8_t type;        /* PS_MSG_STEP_RESULT or PS_MSG_RT_OUTPUT */
    uint8_t *buf;
    uint16_t seq;        /* sequence number of the next part */
    uint16_t reply_to;
    uint32_t step;
    uint8_t want_cost;
    uint32_t cost;
    uint32_t mask;
    uint8_t part;
    size_t fixed;
    ps_writer_t w;
    size_t count_at;     /* offset of section_count */
    size_t flags_at;     /* offset of flags */
    uint8_t sections;    /* sections in the current part */
} out_parts_t;

/* ---- dispatch (ps_device.c) ---- */

/** Frames and sends payload[0, len) with sequence number seq. */
void psd_send_frame(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len);
/** Stores and sends a single-frame answer m to request (seq, type). */
void psd_answer_single(uint16_t req_seq, uint8_t req_type, const ps_msg_t *m);
/** Answers ACK with info, stored for duplicates. */
void psd_answer_ack(uint16_t req_seq, uint8_t req_type, uint32_t info);
/** Answers NACK with code and detail, stored for duplicates. */
void psd_answer_nack(uint16_t req_seq, uint8_t req_type, uint16_t code, uint32_t detail);

/* ---- lockstep steps and spike output (ps_device_step.c) ---- */

/** The live model's next step number (0 without a model). */
uint32_t psd_next_step(void);
/** Sends every part; returns how many frames went out. */
uint16_t psd_send_sections(out_parts_t *o);
/** Sends (or resends) the STEP_RESULT parts of the last step from the stored fields; returns the frames sent. */
uint16_t psd_emit_step_result(void);
/**
 * Applies due rewards, runs one step on in_idx[0, in_count) (with in_val when `graded`), measures its
 * cost; returns the rewards applied.
 */
uint32_t psd_run_step(int graded);
/** STEP: buffers a part with MORE (ACK), or runs the step and answers STEP_RESULT (spec §3.2, §5.2). */
void psd_do_step(const ps_frame_t *f, const ps_step_t *s);
/** REWARD: queued for the start of its step, or of the next step if it has passed (spec §5.7). */
void psd_do_reward(const ps_frame_t *f, const ps_reward_t *r);

/* ---- upload and model pool (ps_device_model.c) ---- */

/** Drops buffered STEP parts, pending real-time inputs and pending rewards. */
void psd_clear_dynamic(void);
/** Makes the compiled-in model live again (reset), or leaves the device without a model. */
void psd_unload(void);
#ifdef PS_COMPILED_MODEL
/** Validates the flash table and places its arena and state at the top of the pool. */
ps_status_t psd_load_compiled(void);
#endif
/** MODEL_END: checks length and hash, validates and loads the upload, answers MODEL_LOADED (spec §3.2). */
void psd_do_model_end(const ps_frame_t *f);
/** MODEL_BEGIN: discards an uploaded model or an upload in progress and starts an upload (spec §3.2, §5.6). */
void psd_do_model_begin(const ps_frame_t *f, const ps_model_begin_t *b);
/** MODEL_CHUNK: appends at the bytes received so far; a retransmitted chunk is re-ACKed unchanged. */
void psd_do_model_chunk(const ps_frame_t *f, const ps_model_chunk_t *c);

/* ---- real time (ps_device_realtime.c) ---- */

/** RT_INPUT: kept for the next real-time step, or dropped and counted (spec §5.3). */
void psd_rt_input(const ps_events_t *ev, uint16_t seq);
/** RT_START: real-time steps from the device clock every period_us (spec §5.5). */
void psd_do_rt_start(const ps_frame_t *f, const ps_rt_start_t *s);
/** RT_STOP: ends real-time mode; inputs still pending are discarded (spec §5.3). */
void psd_do_rt_stop(const ps_frame_t *f);

/* ---- state readback (ps_device_readback.c) ---- */

/** READ_STATE: answers a STATE_CHUNK of the array, or NACK 408 for state the layer lacks (spec §5.8). */
void psd_do_read_state(const ps_frame_t *f, const ps_read_state_t *r);

#endif /* PS_DEVICE_INTERNAL_H */
