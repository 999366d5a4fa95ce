/*
 * libFuzzer harness for the C protocol DISPATCHER (firmware/src/ps_device.c, spec/protocol.md
 * sections 2-5) on top of everything it calls: COBS, frames, payload decoders, the table reader
 * (model uploads), ps_net (steps, rewards, learning, state readback). The device runs over a fake
 * port defined here: nothing is read from a UART (the harness calls ps_device_receive itself), the
 * counter is a virtual clock, and every byte the device sends is checked.
 *
 * Input: a sequence of records (read by session_records.h, shared with firmware/test/twin_device.c),
 * each starting with an op byte:
 *   op 0x00..0x7f  FRAME: seq_lo seq_hi len payload[len]: a frame of type `op`, protocol version 1,
 *                  built by the harness with a valid length and CRC (so mutations reach the
 *                  handlers), COBS-encoded, preceded and followed by a delimiter, fed in one call.
 *   op 0xfd        VFRAME: version type seq_lo seq_hi len payload[len]: the same with any version.
 *   op 0xfe        TICK: n: the virtual clock advances (n + 1) x 250 us, then ps_device_poll()
 *                  (real-time steps fall due).
 *   op 0xff        RAW: len bytes[len]: fed to ps_device_receive as they are (damaged wire data).
 *   other ops      ignored (one byte).
 * A truncated record ends the input. ps_device_poll() also runs after every record.
 *
 * The virtual clock (ps_port_cycles, nanoseconds) advances 1 us per read, so step costs and
 * real-time schedules are deterministic.
 *
 * Properties (a violation aborts):
 *   - ASan/UBSan: no out-of-bounds access, overflow or misalignment anywhere in the device code;
 *   - every ps_port_uart_write is exactly one well-formed wire frame: one trailing delimiter, COBS
 *     valid, length and CRC right, a device-to-host message type whose payload ps_msg_decode
 *     accepts;
 *   - a damage report (ERROR 401/402, spec/protocol.md section 2 "Fast retransmission") is sent
 *     only for a chunk just rejected, at most one per rejected chunk: its detail equals the device's
 *     rejected-frame count (bad_frame + bad_crc) at that moment and exceeds the previous report's;
 *     it carries no reply_to, so it may come out while a FRAME record is fed (a RAW record's
 *     leftovers, ended by the record's leading delimiter, are rejected then);
 *   - an answer sent while a FRAME record is fed replies to that record's sequence number (ACK,
 *     NACK, HELLO_ACK, MODEL_LOADED, STEP_RESULT, STATE_CHUNK, STATS), and a version-1 request other
 *     than HELLO always gets at least one frame back (its answer, a NACK or the stored answer);
 *   - determinism: every input runs twice, each after ps_device_reset_all(); both runs must send
 *     exactly the same bytes (so a finding reproduces from its input alone).
 *
 * Built with -DPS_FUZZ_TRACE, every frame the device sends is also printed to stderr (type, and for
 * ACK/NACK/ERROR their fields), to read what a seed or a finding does.
 */
#include <stdint.h>
#include <stdlib.h>
#ifdef PS_FUZZ_TRACE
#include <stdio.h>
#endif
#include <string.h>

#include "ps_cobs.h"
#include "ps_device.h"
#include "ps_frame.h"
#include "ps_port.h"
#include "ps_proto.h"
#include "session_records.h"

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            __builtin_trap(); \
        } \
    } while (0)


/* ---- fake port ------------------------------------------------------------------------------ */

static uint64_t clock_ns;       /* virtual time */
static uint64_t tx_hash;        /* FNV-1a of every byte sent this run */
static uint32_t tx_frames;      /* frames sent this run */
static int expect_reply;        /* 1 while a FRAME record is fed: answers must reply to reply_seq */
static uint16_t reply_seq;
static uint8_t tx_decoded[PS_MAX_FRAME];
static uint32_t last_report;    /* detail of the last damage report this run (0: none yet) */

void ps_port_init(void) {}

bool ps_port_running(void) { return true; }

size_t ps_port_uart_read(uint8_t *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return 0u;
}

uint32_t ps_port_cycles(void)
{
    clock_ns += 1000u;
    return (uint32_t)clock_ns;
}

uint32_t ps_port_cycles_align(void) { return ps_port_cycles(); }

uint32_t ps_port_cycles_hz(void) { return 1000000000u; }

const char *ps_port_board_name(void) { return "fuzz"; }

void ps_port_idle(void) {}

/** The reply_to field of a decoded answer, or -1 for messages without one. */
static long reply_to_of(const ps_msg_t *m)
{
    switch (m->type) {
    case PS_MSG_HELLO_ACK: return m->u.hello_ack.reply_to;
    case PS_MSG_ACK: return m->u.ack.reply_to;
    case PS_MSG_NACK: return m->u.nack.reply_to;
    case PS_MSG_MODEL_LOADED: return m->u.model_loaded.reply_to;
    case PS_MSG_STEP_RESULT: return m->u.step_result.reply_to;
    case PS_MSG_STATE_CHUNK: return m->u.state_chunk.reply_to;
    case PS_MSG_STATS: return m->u.stats.reply_to;
    default: return -1;
    }
}

void ps_port_uart_write(const uint8_t *data, size_t len)
{
    size_t i;
    size_t n = 0u;
    ps_frame_t f;
    ps_msg_t m;
    long reply_to;
    for (i = 0u; i < len; i++) {
        tx_hash = (tx_hash ^ data[i]) * 1099511628211ull;
    }
    tx_frames++;
    /* one frame per write: a single delimiter, at the end */
    CHECK(len >= 2u && data[len - 1u] == 0u);
    CHECK(memchr(data, 0, len - 1u) == NULL);
    CHECK(ps_cobs_decode(data, len - 1u, tx_decoded, sizeof tx_decoded, &n) == PS_OK);
    CHECK(ps_frame_parse(tx_decoded, n, PS_MAX_FRAME, &f) == PS_OK);
    CHECK(ps_msg_type_known(f.type) && !ps_msg_is_request(f.type) && f.type != PS_MSG_RT_INPUT);
    CHECK(ps_msg_decode(f.type, f.payload, f.len, &m) == PS_OK);
    reply_to = reply_to_of(&m);
#ifdef PS_FUZZ_TRACE
    fprintf(stderr, "tx seq %u type 0x%02x reply_to %ld", f.seq, f.type, reply_to);
    if (m.type == PS_MSG_ACK) {
        fprintf(stderr, " ACK info %lu", (unsigned long)m.u.ack.info);
    } else if (m.type == PS_MSG_NACK) {
        fprintf(stderr, " NACK code %u detail %lu", m.u.nack.code, (unsigned long)m.u.nack.detail);
    } else if (m.type == PS_MSG_ERROR) {
        fprintf(stderr, " ERROR code %u detail %lu", m.u.error.code, (unsigned long)m.u.error.detail);
    } else if (m.type == PS_MSG_STEP_RESULT) {
        fprintf(stderr, " STEP_RESULT step %lu sections %u", (unsigned long)m.u.step_result.step, m.u.step_result.sections.count);
    } else if (m.type == PS_MSG_RT_OUTPUT) {
        fprintf(stderr, " RT_OUTPUT step %lu applied %u sections %u", (unsigned long)m.u.rt_output.step, m.u.rt_output.applied_count, m.u.rt_output.sections.count);
    }
    fprintf(stderr, "\n");
#endif
    if (expect_reply && reply_to >= 0) {
        CHECK(reply_to == (long)reply_seq);
    }
    if (m.type == PS_MSG_ERROR && (m.u.error.code == PS_E_PROTOCOL_BAD_FRAME || m.u.error.code == PS_E_PROTOCOL_BAD_CRC)) {
        const ps_device_counters_t *c = ps_device_counters();
        CHECK(m.u.error.detail == c->bad_frame + c->bad_crc);
        CHECK(m.u.error.detail > last_report);
        last_report = m.u.error.detail;
    }
}

/* ---- driver --------------------------------------------------------------------------------- */

static uint8_t wire_buf[PS_WIRE_SIZE(PS_MAX_PAYLOAD) + 1u];

/** Frames (version, type, seq, payload) and feeds it between delimiters; checks a request is answered. */
static void feed_frame(uint8_t version, uint8_t type, uint16_t seq, const uint8_t *payload, size_t len)
{
    static const uint8_t delimiter = 0u;
    size_t n = 0u;
    uint32_t before;
    if (ps_frame_encode(version, type, seq, payload, len, PS_MAX_FRAME, wire_buf, sizeof wire_buf, &n) != PS_OK) {
        return; /* larger than a frame: not something a host can send */
    }
    ps_device_receive(&delimiter, 1u); /* ends whatever a RAW record left half-received */
    before = tx_frames;
    expect_reply = 1;
    reply_seq = seq;
    ps_device_receive(wire_buf, n);
    expect_reply = 0;
    if (version == PS_PROTOCOL_VERSION && ps_msg_is_request(type) && type != PS_MSG_HELLO) {
        CHECK(tx_frames > before);
    }
}

/** One run of the whole input from a full reset; returns the hash of the bytes sent. */
static uint64_t run(const uint8_t *data, size_t size)
{
    clock_ns = 0u;
    tx_hash = 14695981039346656037ull;
    tx_frames = 0u;
    expect_reply = 0;
    last_report = 0u;
    ps_device_reset_all();
    ps_replay_records(data, size, &clock_ns, feed_frame, NULL);
    return tx_hash;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t first = run(data, size);
    uint32_t frames = tx_frames;
    CHECK(run(data, size) == first);
    CHECK(tx_frames == frames);
    return 0;
}
