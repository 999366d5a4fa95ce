/*
 * libFuzzer harness for the C protocol decoders (firmware/src/ps_{cobs,frame,proto}.c,
 * spec/protocol.md sections 1-3): the receive path a device runs on every byte from the host.
 *
 * Input layout: mode, max_frame_sel, rest...
 *   mode % 3 == 0  WIRE: `rest` is a raw byte stream (COBS chunks and delimiters): streaming COBS
 *                  decoder -> ps_frame_parse -> ps_msg_decode, as the device receives it.
 *   mode % 3 == 1  PAYLOAD: rest[0] is a message type, rest[1..] its payload -> ps_msg_decode.
 *                  Reaches every payload decoder without having to forge a CRC.
 *   mode % 3 == 2  FRAME: rest[0] version, rest[1] type, rest[2..3] seq, rest[4..] payload; the harness
 *                  builds the frame with ps_frame_encode (valid length and CRC), then runs the WIRE path
 *                  on it, so CRC-valid frames of every type reach the payload decoders through COBS.
 * max_frame = 512 when max_frame_sel is 0, else 64 + sel * 448 / 255 (65..512): the receiver's limit.
 *
 * Properties (a violation aborts):
 *   - no decoder reads or writes outside its input (ASan: the input is an exact-size heap copy);
 *   - a frame is accepted only if its size, length field and CRC hold (checked independently);
 *   - an accepted payload is fully validated: its index lists and sections iterate to exactly their
 *     counts, strictly ascending, layers strictly ascending, event values 1..255;
 *   - re-encoding a decoded message (index lists expanded into arrays, so the real encoder runs)
 *     gives back exactly the payload bytes, and re-framing gives back the frame (decode is canonical);
 *   - a payload the decoder rejects is rejected with PROTOCOL_BAD_PAYLOAD or, for a type this version
 *     does not know, PROTOCOL_UNKNOWN_MESSAGE, and nothing else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ps_cobs.h"
#include "ps_crc16.h"
#include "ps_frame.h"
#include "ps_proto.h"

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            __builtin_trap(); \
        } \
    } while (0)

/* Room for every index one payload can hold (each takes at least one byte), and every section. */
static uint32_t index_pool[PS_MAX_PAYLOAD];
static size_t index_used;
static ps_section_t section_pool[256];

/* Expands a decoded index list into index_pool, checking it iterates to exactly its count, ascending. */
static void expand_list(ps_index_list_t *list)
{
    ps_index_iter_t it;
    uint32_t idx = 0;
    uint32_t n = 0;
    uint32_t *dst = index_pool + index_used;
    ps_index_iter_init(&it, list);
    while (ps_index_iter_next(&it, &idx)) {
        CHECK(index_used + n < PS_MAX_PAYLOAD);
        CHECK(n == 0u || idx > dst[n - 1u]);
        dst[n++] = idx;
    }
    CHECK(n == list->count);
    CHECK(it.p == list->coded + list->coded_len); /* the list used exactly its coded bytes */
    list->indices = dst;
    list->coded = NULL;
    list->coded_len = 0;
    index_used += n;
}

static void expand_sections(ps_sections_t *s)
{
    ps_section_iter_t it;
    unsigned n = 0;
    ps_section_iter_init(&it, s);
    while (ps_section_iter_next(&it, &section_pool[n])) {
        CHECK(n < s->count);
        CHECK(n == 0u || section_pool[n].layer > section_pool[n - 1u].layer);
        expand_list(&section_pool[n].spikes);
        n++;
    }
    CHECK(n == s->count);
    CHECK(it.p == s->coded + s->coded_len);
    s->items = section_pool;
    s->coded = NULL;
    s->coded_len = 0;
}

static void check_events(ps_events_t *ev)
{
    uint32_t k;
    if (ev->values != NULL) {
        for (k = 0; k < ev->list.count; k++) {
            CHECK(ev->values[k] != 0u);
        }
    }
    expand_list(&ev->list);
}

/* Decodes a payload; on success checks every invariant and that re-encoding reproduces it. */
static void check_payload(uint8_t type, const uint8_t *payload, size_t len)
{
    static ps_msg_t m;
    static uint8_t again[PS_MAX_PAYLOAD + 16u];
    size_t again_len = 0;
    ps_status_t st;
    memset(&m, 0xA5, sizeof m); /* the decoder must set every field it reports */
    st = ps_msg_decode(type, payload, len, &m);
    if (!ps_msg_type_known(type)) {
        CHECK(st == PS_E_PROTOCOL_UNKNOWN_MESSAGE);
        return;
    }
    if (st != PS_OK) {
        CHECK(st == PS_E_PROTOCOL_BAD_PAYLOAD);
        return;
    }
    CHECK(m.type == type);
    index_used = 0;
    switch (type) {
    case PS_MSG_STEP:
        CHECK((m.u.step.flags & (uint8_t)~(PS_STEP_MORE | PS_STEP_COST)) == 0u);
        check_events(&m.u.step.events);
        break;
    case PS_MSG_RT_INPUT:
        check_events(&m.u.rt_input.events);
        break;
    case PS_MSG_STEP_RESULT:
        expand_sections(&m.u.step_result.sections);
        break;
    case PS_MSG_RT_OUTPUT: {
        uint8_t i;
        for (i = 0; i < m.u.rt_output.applied_count; i++) {
            (void)ps_rt_output_applied(&m.u.rt_output, i); /* in bounds (ASan) */
        }
        expand_sections(&m.u.rt_output.sections);
        break;
    }
    case PS_MSG_HELLO_ACK:
        CHECK(m.u.hello_ack.board_len >= 1u && m.u.hello_ack.board_len <= PS_MAX_BOARD_NAME);
        break;
    case PS_MSG_ERROR:
        CHECK(m.u.error.text_len <= PS_MAX_ERROR_TEXT);
        break;
    case PS_MSG_MODEL_CHUNK:
        CHECK(m.u.model_chunk.len >= 1u && m.u.model_chunk.data + m.u.model_chunk.len == payload + len);
        break;
    case PS_MSG_STATE_CHUNK:
        CHECK(m.u.state_chunk.data + m.u.state_chunk.data_len == payload + len);
        break;
    case PS_MSG_READ_STATE:
        CHECK(m.u.read_state.what <= PS_STATE_ELIGIBILITY);
        break;
    case PS_MSG_RESET_STATE:
        CHECK(m.u.reset_state.what <= PS_RESET_WEIGHTS);
        break;
    case PS_MSG_RT_START:
        CHECK(m.u.rt_start.period_us >= 1u);
        break;
    default:
        break;
    }
    /* Decoding is canonical: the encoder must give back the very same bytes. */
    st = ps_msg_encode(&m, again, sizeof again, &again_len);
    CHECK(st == PS_OK);
    CHECK(again_len == len);
    CHECK(len == 0u || memcmp(again, payload, len) == 0);
}

/* Independent frame acceptance rule of spec section 1.2. */
static int frame_valid(const uint8_t *f, size_t n, size_t max_frame)
{
    if (n < PS_HEADER_SIZE + PS_CRC_SIZE || n > max_frame) {
        return 0;
    }
    if (((size_t)f[4] | ((size_t)f[5] << 8)) != n - PS_HEADER_SIZE - PS_CRC_SIZE) {
        return 0;
    }
    return ((uint16_t)(f[n - 2u] | (f[n - 1u] << 8))) == ps_crc16(f, n - PS_CRC_SIZE);
}

static void check_frame(const uint8_t *f, size_t n, size_t max_frame)
{
    ps_frame_t fr;
    const ps_status_t st = ps_frame_parse(f, n, max_frame, &fr);
    const int valid = frame_valid(f, n, max_frame);
    if (st != PS_OK) {
        CHECK(!valid);
        CHECK(st == PS_E_PROTOCOL_BAD_FRAME || st == PS_E_PROTOCOL_BAD_CRC);
        return;
    }
    CHECK(valid);
    CHECK(fr.len == n - PS_HEADER_SIZE - PS_CRC_SIZE && fr.payload == f + PS_HEADER_SIZE);
    check_payload(fr.type, fr.payload, fr.len);
    {
        /* Re-framing the parsed frame gives back the same decoded bytes. */
        static uint8_t wire[PS_WIRE_SIZE(PS_MAX_PAYLOAD)];
        static uint8_t back[PS_MAX_FRAME];
        size_t wire_len = 0;
        size_t back_len = 0;
        CHECK(ps_frame_encode(fr.version, fr.type, fr.seq, fr.payload, fr.len, max_frame, wire, sizeof wire, &wire_len) == PS_OK);
        CHECK(wire_len >= 2u && wire[wire_len - 1u] == 0u);
        CHECK(ps_cobs_decode(wire, wire_len - 1u, back, sizeof back, &back_len) == PS_OK);
        CHECK(back_len == n && memcmp(back, f, n) == 0);
    }
}

static void run_wire(const uint8_t *bytes, size_t n, size_t max_frame)
{
    static uint8_t rx[PS_MAX_ENCODED];
    static ps_seq_track_t track;
    ps_cobs_dec_t dec;
    size_t i;
    ps_cobs_dec_init(&dec, rx, sizeof rx);
    memset(&track, 0, sizeof track);
    for (i = 0; i < n; i++) {
        const uint8_t *frame = NULL;
        size_t frame_len = 0;
        if (ps_cobs_dec_push(&dec, bytes[i], &frame, &frame_len) == PS_COBS_FRAME) {
            ps_frame_t fr;
            CHECK(frame == rx && frame_len < sizeof rx);
            check_frame(frame, frame_len, max_frame);
            if (ps_frame_parse(frame, frame_len, max_frame, &fr) == PS_OK) {
                const uint32_t gaps = track.gaps;
                const int late = ps_seq_track_frame(&track, fr.seq);
                CHECK(late == 0 || track.gaps == gaps);
            }
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    uint8_t *rest;
    size_t n;
    size_t max_frame;
    uint8_t mode;
    if (size < 2u) {
        return 0;
    }
    mode = (uint8_t)(input[0] % 3u);
    max_frame = input[1] == 0u ? PS_MAX_FRAME : 64u + (size_t)input[1] * (PS_MAX_FRAME - 64u) / 255u;
    n = size - 2u;
    /* An exact-size heap copy: ASan reports any read past the end of the bytes under test. */
    rest = (uint8_t *)malloc(n == 0u ? 1u : n);
    CHECK(rest != NULL);
    if (n > 0u) {
        memcpy(rest, input + 2, n);
    }
    if (mode == 0u) {
        run_wire(rest, n, max_frame);
    } else if (mode == 1u) {
        if (n >= 1u) {
            uint8_t *payload = (uint8_t *)malloc(n - 1u == 0u ? 1u : n - 1u);
            CHECK(payload != NULL);
            memcpy(payload, rest + 1, n - 1u);
            if (n - 1u <= PS_MAX_PAYLOAD) {
                check_payload(rest[0], payload, n - 1u);
            }
            free(payload);
        }
    } else if (n >= 4u) {
        static uint8_t wire[PS_WIRE_SIZE(PS_MAX_PAYLOAD)];
        size_t wire_len = 0;
        const size_t payload_len = n - 4u;
        const ps_status_t st = ps_frame_encode(rest[0], rest[1], (uint16_t)(rest[2] | (rest[3] << 8)), rest + 4, payload_len,
                                               max_frame, wire, sizeof wire, &wire_len);
        if (payload_len + PS_HEADER_SIZE + PS_CRC_SIZE > max_frame) {
            CHECK(st == PS_E_PROTOCOL_BAD_PAYLOAD);
        } else {
            CHECK(st == PS_OK);
            run_wire(wire, wire_len, max_frame);
        }
    }
    free(rest);
    return 0;
}
