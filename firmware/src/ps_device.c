/*
 * The protocol dispatcher (ps_device.h): receiving frames, sequence tracking, duplicate detection,
 * dispatching requests and sending answers; the C twin of firmware-host/mock/mock-board.ts. The
 * handlers live by concern in ps_device_{step,model,realtime,readback}.c, twins of
 * firmware-host/mock/{step,model,realtime,readback}.ts; every one follows the mock's order of checks
 * so both give the same NACK code for the same request (test/twin.test.ts checks the bytes).
 *
 * Memory: one static pool holds the models. A compiled-in model takes its reader arena and network
 * state from the TOP of the pool at boot (its int8 tables stay in flash); an upload writes the file
 * at the bottom, then its arena and state after it, up to the compiled-in model. Answers to requests
 * are kept for duplicates: single-frame answers as their payload bytes, STEP_RESULT as the step's
 * parameters (its parts are rebuilt from the network's last spikes, which nothing changes before
 * the next executed request).
 */
#include "ps_device.h"

#include <string.h>

#include "ps_device_internal.h"
#include "ps_port.h"

static const uint8_t firmware_hash[PS_FIRMWARE_HASH_SIZE] = { PS_FIRMWARE_HASH };
static const uint8_t zero_hash[PS_MODEL_HASH_SIZE];

ps_device_state_t ps_dev;

/** Frames and sends payload[0, len) with sequence number seq. */
void psd_send_frame(uint8_t type, uint16_t seq, const uint8_t *payload, size_t len)
{
    size_t n = 0u;
    if (ps_frame_encode(ps_dev.version, type, seq, payload, len, PS_MAX_FRAME, ps_dev.wire, sizeof ps_dev.wire, &n) != PS_OK) {
        return; /* cannot happen: every payload is built within PS_MAX_PAYLOAD */
    }
    ps_port_uart_write(ps_dev.wire, n);
    ps_dev.counters.frames_tx++;
}

/** Encodes m into buf and returns its length (0 if it does not encode, which the builders rule out). */
static size_t encode(const ps_msg_t *m, uint8_t *buf)
{
    size_t len = 0u;
    if (ps_msg_encode(m, buf, PS_MAX_PAYLOAD, &len) != PS_OK) {
        return 0u;
    }
    return len;
}

/** Sends an unsolicited message with a new sequence number. */
static void send_new(const ps_msg_t *m)
{
    size_t len = encode(m, ps_dev.scratch_buf);
    psd_send_frame(m->type, ps_dev.tx_seq++, ps_dev.scratch_buf, len);
}

static void send_error(uint16_t code, uint32_t detail, const char *text)
{
    ps_msg_t m;
    size_t n = 0u;
    while (text[n] != '\0' && n < PS_MAX_ERROR_TEXT) {
        n++;
    }
    m.type = PS_MSG_ERROR;
    m.u.error.code = code;
    m.u.error.detail = detail;
    m.u.error.text_len = (uint8_t)n;
    m.u.error.text = text;
    send_new(&m);
}

/** Stores and sends a single-frame answer m to request (seq, type). */
void psd_answer_single(uint16_t req_seq, uint8_t req_type, const ps_msg_t *m)
{
    ps_dev.last.valid = 1u;
    ps_dev.last.req_seq = req_seq;
    ps_dev.last.req_type = req_type;
    ps_dev.last.type = m->type;
    ps_dev.last.len = (uint16_t)encode(m, ps_dev.answer_buf);
    ps_dev.last.tx_seq = ps_dev.tx_seq++;
    psd_send_frame(ps_dev.last.type, ps_dev.last.tx_seq, ps_dev.answer_buf, ps_dev.last.len);
}

void psd_answer_ack(uint16_t req_seq, uint8_t req_type, uint32_t info)
{
    ps_msg_t m;
    m.type = PS_MSG_ACK;
    m.u.ack.reply_to = req_seq;
    m.u.ack.info = info;
    psd_answer_single(req_seq, req_type, &m);
}

void psd_answer_nack(uint16_t req_seq, uint8_t req_type, uint16_t code, uint32_t detail)
{
    ps_msg_t m;
    m.type = PS_MSG_NACK;
    m.u.nack.reply_to = req_seq;
    m.u.nack.code = code;
    m.u.nack.detail = detail;
    psd_answer_single(req_seq, req_type, &m);
}

static void do_hello(const ps_frame_t *f, const ps_hello_t *h)
{
    ps_msg_t m;
    uint8_t lo = h->proto_min > PS_PROTOCOL_MIN ? h->proto_min : (uint8_t)PS_PROTOCOL_MIN;
    uint8_t hi = h->proto_max < PS_PROTOCOL_VERSION ? h->proto_max : (uint8_t)PS_PROTOCOL_VERSION;
    const char *board = ps_port_board_name();
    size_t board_len = 0u;
    if (lo > hi) {
        /* readable in any version: sent with the header version of the host's HELLO */
        size_t len;
        m.type = PS_MSG_NACK;
        m.u.nack.reply_to = f->seq;
        m.u.nack.code = PS_E_PROTOCOL_VERSION_MISMATCH;
        m.u.nack.detail = (uint32_t)PS_PROTOCOL_MIN | ((uint32_t)PS_PROTOCOL_VERSION << 8);
        len = encode(&m, ps_dev.scratch_buf);
        {
            size_t n = 0u;
            if (ps_frame_encode(f->version, PS_MSG_NACK, 0u, ps_dev.scratch_buf, len, PS_MAX_FRAME, ps_dev.wire, sizeof ps_dev.wire, &n) == PS_OK) {
                ps_port_uart_write(ps_dev.wire, n);
                ps_dev.counters.frames_tx++;
            }
        }
        ps_dev.tx_seq = 1u;
        ps_dev.last.valid = 0u;
        return;
    }
    while (board[board_len] != '\0' && board_len < PS_MAX_BOARD_NAME) {
        board_len++;
    }
    ps_dev.version = hi;
    ps_dev.handshaken = 1u;
    ps_dev.tx_seq = 0u;
    ps_dev.last.valid = 0u;
    ps_seq_track_restart(&ps_dev.seq_track); /* the next frame starts gap tracking (spec §4) */
    m.type = PS_MSG_HELLO_ACK;
    m.u.hello_ack.reply_to = f->seq;
    m.u.hello_ack.proto_min = PS_PROTOCOL_MIN;
    m.u.hello_ack.proto_max = PS_PROTOCOL_VERSION;
    m.u.hello_ack.proto_version = hi;
    m.u.hello_ack.nonce = h->nonce;
    m.u.hello_ack.capabilities = (uint16_t)(PS_CAP_LOCKSTEP | PS_CAP_REALTIME | (ps_dev.upload_cap > 0u ? PS_CAP_UPLOAD : 0u) |
                                            PS_CAP_STATE_READBACK | PS_CAP_COST | PS_CAP_PLASTICITY);
    m.u.hello_ack.board_len = (uint8_t)board_len;
    m.u.hello_ack.board = board;
    m.u.hello_ack.firmware_hash = firmware_hash;
    m.u.hello_ack.model_hash = ps_dev.live != NULL ? ps_dev.live->hash : zero_hash;
    m.u.hello_ack.max_frame = PS_MAX_FRAME;
    m.u.hello_ack.max_input_events = MAX_INPUT;
    m.u.hello_ack.upload_ram = (uint32_t)ps_dev.upload_cap;
    m.u.hello_ack.cost_unit = (uint8_t)COST_UNIT;
    m.u.hello_ack.state = ps_dev.rt.on ? PS_STATE_REALTIME : ps_dev.live != NULL ? PS_STATE_READY : PS_STATE_NO_MODEL;
    m.u.hello_ack.model_source = ps_dev.model_source;
    m.u.hello_ack.step = psd_next_step();
    send_new(&m);
}

static void execute(const ps_frame_t *f, const ps_msg_t *m)
{
    uint16_t seq = f->seq;
    uint8_t type = f->type;
    switch (m->type) {
    case PS_MSG_MODEL_BEGIN:
        psd_do_model_begin(f, &m->u.model_begin);
        break;
    case PS_MSG_MODEL_CHUNK:
        psd_do_model_chunk(f, &m->u.model_chunk);
        break;
    case PS_MSG_MODEL_END:
        psd_do_model_end(f);
        break;
    case PS_MSG_STEP:
        psd_do_step(f, &m->u.step);
        break;
    case PS_MSG_RT_START:
        psd_do_rt_start(f, &m->u.rt_start);
        break;
    case PS_MSG_RT_STOP:
        psd_do_rt_stop(f);
        break;
    case PS_MSG_REWARD:
        psd_do_reward(f, &m->u.reward);
        break;
    case PS_MSG_READ_STATE:
        psd_do_read_state(f, &m->u.read_state);
        break;
    case PS_MSG_RESET_STATE:
        if (ps_dev.rt.on) {
            psd_answer_nack(seq, type, PS_E_PROTOCOL_BUSY, 0u);
        } else if (ps_dev.live == NULL) {
            psd_answer_nack(seq, type, PS_E_PROTOCOL_MODEL_MISMATCH, 0u);
        } else {
            /* a reset keeps learned weights; what 1 puts the model's stored weights back (spec/ops.md §11.4) */
            ps_net_reset(&ps_dev.net);
            if (m->u.reset_state.what == PS_RESET_WEIGHTS) {
                ps_net_reset_weights(&ps_dev.net);
            }
            psd_clear_dynamic();
            psd_answer_ack(seq, type, 0u);
        }
        break;
    case PS_MSG_GET_STATS: {
        ps_msg_t s;
        s.type = PS_MSG_STATS;
        s.u.stats.reply_to = seq;
        s.u.stats.steps = ps_dev.counters.steps;
        s.u.stats.frames_rx = ps_dev.counters.frames_rx;
        s.u.stats.frames_tx = ps_dev.counters.frames_tx;
        s.u.stats.bad_frame = ps_dev.counters.bad_frame;
        s.u.stats.bad_crc = ps_dev.counters.bad_crc;
        s.u.stats.gaps = ps_dev.seq_track.gaps;
        s.u.stats.late = ps_dev.seq_track.late;
        s.u.stats.dropped = ps_dev.counters.dropped;
        s.u.stats.last_cost = ps_dev.counters.last_cost;
        s.u.stats.max_cost = ps_dev.counters.max_cost;
        psd_answer_single(seq, type, &s);
        break;
    }
    default:
        psd_answer_nack(seq, type, PS_E_PROTOCOL_BAD_PAYLOAD, 0u);
        break;
    }
}

/** Resends the stored answer of the last request byte for byte (same sequence numbers). */
static void resend_last(void)
{
    if (ps_dev.last.type == PS_MSG_STEP_RESULT) {
        (void)psd_emit_step_result();
    } else {
        psd_send_frame(ps_dev.last.type, ps_dev.last.tx_seq, ps_dev.answer_buf, ps_dev.last.len);
    }
}

static void handle_frame(const ps_frame_t *f)
{
    ps_msg_t m;
    int request;
    if (!ps_msg_type_known(f->type)) {
        send_error(PS_E_PROTOCOL_UNKNOWN_MESSAGE, f->type, "unknown message type");
        return;
    }
    request = ps_msg_is_request(f->type);
    if (ps_msg_decode(f->type, f->payload, f->len, &m) != PS_OK) {
        if (request && f->type != PS_MSG_HELLO) {
            psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BAD_PAYLOAD, 0u);
        } else {
            ps_dev.counters.dropped++;
        }
        return;
    }
    if (f->type == PS_MSG_HELLO) {
        do_hello(f, &m.u.hello);
        return;
    }
    if (f->type == PS_MSG_RT_INPUT) {
        psd_rt_input(&m.u.rt_input.events, f->seq);
        return;
    }
    if (!request) {
        return; /* answers and ERROR from the host: counted as received only */
    }
    if (ps_dev.last.valid && ps_dev.last.req_seq == f->seq && ps_dev.last.req_type == f->type) {
        resend_last(); /* a duplicate: not executed again (spec §2) */
        return;
    }
    if (!ps_dev.handshaken) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_HANDSHAKE_FAILED, 0u);
        return;
    }
    execute(f, &m);
}

void ps_device_init(void)
{
#ifdef PS_COMPILED_MODEL
    ps_status_t st;
#endif
    ps_dev.version = PS_PROTOCOL_VERSION;
    ps_cobs_dec_init(&ps_dev.rx, ps_dev.rx_buf, sizeof ps_dev.rx_buf);
    memset(&ps_dev.seq_track, 0, sizeof ps_dev.seq_track);
    ps_seq_track_restart(&ps_dev.seq_track);
    ps_dev.upload_cap = POOL_BYTES;
    ps_dev.clock_last = ps_port_cycles();
    ps_dev.live = NULL;
    ps_dev.model_source = PS_MODEL_NONE;
#ifdef PS_COMPILED_MODEL
    st = psd_load_compiled();
    if (st != PS_OK) {
        ps_dev.compiled_ok = 0u;
        ps_dev.upload_cap = POOL_BYTES;
    }
    psd_unload();
#endif
    send_error(PS_E_DEVICE_RESET, 0u, "boot");
#ifdef PS_COMPILED_MODEL
    if (st != PS_OK) {
        send_error((uint16_t)st, 0u, "compiled-in model refused");
    }
#endif
}

void ps_device_reset_all(void)
{
    /* All device state back to its power-on value (zero) in one go, then boot. */
    memset(&ps_dev, 0, sizeof ps_dev);
    ps_device_init();
}

/*
 * Damage report (spec/protocol.md §2 "Fast retransmission"): after a handshake, one short ERROR
 * 401/402 per chunk rejected by COBS, size, length or CRC, detail = frames rejected so far, so the
 * host retransmits its request at once instead of waiting for its timeout. Silent before a
 * handshake (line noise at boot; no request can be outstanding).
 */
static void report_rejected(uint16_t code)
{
    if (ps_dev.handshaken) {
        send_error(code, ps_dev.counters.bad_frame + ps_dev.counters.bad_crc, "");
    }
}

void ps_device_receive(const uint8_t *bytes, size_t len)
{
    size_t i;
    for (i = 0u; i < len; i++) {
        const uint8_t *frame = NULL;
        size_t frame_len = 0u;
        ps_frame_t f;
        ps_status_t st;
        ps_cobs_event_t ev = ps_cobs_dec_push(&ps_dev.rx, bytes[i], &frame, &frame_len);
        if (ev == PS_COBS_NONE) {
            continue;
        }
        if (ev != PS_COBS_FRAME) {
            ps_dev.counters.bad_frame++;
            report_rejected(PS_E_PROTOCOL_BAD_FRAME);
            continue;
        }
        st = ps_frame_parse(frame, frame_len, PS_MAX_FRAME, &f);
        if (st != PS_OK) {
            if (st == PS_E_PROTOCOL_BAD_CRC) {
                ps_dev.counters.bad_crc++;
            } else {
                ps_dev.counters.bad_frame++;
            }
            report_rejected(st == PS_E_PROTOCOL_BAD_CRC ? PS_E_PROTOCOL_BAD_CRC : PS_E_PROTOCOL_BAD_FRAME);
            continue;
        }
        if (f.version != ps_dev.version && f.type != PS_MSG_HELLO) {
            ps_dev.counters.bad_frame++;
            continue;
        }
        ps_dev.counters.frames_rx++;
        (void)ps_seq_track_frame(&ps_dev.seq_track, f.seq);
        handle_frame(&f);
    }
}

const ps_device_counters_t *ps_device_counters(void)
{
    return &ps_dev.counters;
}
