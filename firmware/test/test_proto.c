/*
 * Host unit tests of the device-side protocol code (CRC, COBS, frames, sequence tracking,
 * messages). Built and run by firmware-host/wire/protocol-c.test.ts; prints "ok N checks" and exits 0,
 * or prints each failure and exits 1.
 */
#include <stdio.h>
#include <string.h>

#include "ps_cobs.h"
#include "ps_crc16.h"
#include "ps_frame.h"
#include "ps_proto.h"
#include "proto_roundtrip.h"

static int checks;
static int failures;

#define CHECK(cond)                                                              \
    do {                                                                         \
        checks++;                                                                \
        if (!(cond)) {                                                           \
            failures++;                                                          \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                        \
    } while (0)

static uint32_t rng_state = 0x12345678u;
static uint32_t rng(void)
{
    /* xorshift32: deterministic fuzz input */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static void test_crc(void)
{
    const char *s = "123456789";
    CHECK(ps_crc16((const uint8_t *)s, 9) == PS_CRC16_CHECK);
    CHECK(ps_crc16((const uint8_t *)s, 9) == 0x29B1u);
    CHECK(ps_crc16_update(ps_crc16((const uint8_t *)s, 4), (const uint8_t *)s + 4, 5) == 0x29B1u);
    CHECK(ps_crc16(NULL, 0) == 0xFFFFu);
}

static int cobs_roundtrip(const uint8_t *in, size_t n, size_t expect_len)
{
    static uint8_t enc[PS_COBS_MAX_ENCODED(PS_MAX_FRAME)];
    static uint8_t dec[PS_MAX_FRAME];
    size_t enc_len = 0, dec_len = 0, i;
    if (ps_cobs_encode(in, n, enc, sizeof enc, &enc_len) != PS_OK || enc_len != expect_len) {
        return 0;
    }
    for (i = 0; i < enc_len; i++) {
        if (enc[i] == 0u) {
            return 0;
        }
    }
    if (ps_cobs_decode(enc, enc_len, dec, sizeof dec, &dec_len) != PS_OK || dec_len != n) {
        return 0;
    }
    return n == 0 || memcmp(in, dec, n) == 0;
}

static void test_cobs(void)
{
    uint8_t data[PS_MAX_FRAME];
    uint8_t enc[PS_MAX_ENCODED];
    size_t i, len = 0;
    const uint8_t bad1[] = {0x05, 1, 2};
    const uint8_t bad2[] = {0x02, 0};

    memset(data, 0, sizeof data);
    CHECK(ps_cobs_encode(data, 0, enc, sizeof enc, &len) == PS_OK && len == 1 && enc[0] == 1);
    memset(data, 0, sizeof data);
    CHECK(ps_cobs_encode(data, 1, enc, sizeof enc, &len) == PS_OK && len == 2 && enc[0] == 1 && enc[1] == 1);
    CHECK(cobs_roundtrip(data, 512, 513)); /* all zeros */
    for (i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)(i % 255u + 1u);
    }
    CHECK(cobs_roundtrip(data, 254, 255));
    CHECK(ps_cobs_encode(data, 254, enc, sizeof enc, &len) == PS_OK && enc[0] == 0xFF);
    CHECK(cobs_roundtrip(data, 255, 257));
    CHECK(ps_cobs_encode(data, 255, enc, sizeof enc, &len) == PS_OK && enc[0] == 0xFF && enc[255] == 0x02);
    CHECK(cobs_roundtrip(data, 256, 258));
    CHECK(ps_cobs_encode(data, 256, enc, sizeof enc, &len) == PS_OK && enc[255] == 0x03);
    CHECK(cobs_roundtrip(data, 512, PS_MAX_ENCODED));
    data[254] = 0; /* 254 non-zero bytes then a zero */
    CHECK(cobs_roundtrip(data, 255, 257));
    CHECK(ps_cobs_encode(data, 255, enc, sizeof enc, &len) == PS_OK && enc[255] == 1 && enc[256] == 1);
    memset(data, 0xFF, sizeof data);
    CHECK(cobs_roundtrip(data, 512, PS_MAX_ENCODED));
    CHECK(ps_cobs_encode(data, 300, enc, 100, &len) == PS_E_PROTOCOL_BAD_PAYLOAD);
    CHECK(ps_cobs_decode(bad1, sizeof bad1, data, sizeof data, &len) == PS_E_PROTOCOL_BAD_FRAME);
    CHECK(ps_cobs_decode(bad2, sizeof bad2, data, sizeof data, &len) == PS_E_PROTOCOL_BAD_FRAME);
}

static void test_cobs_stream(void)
{
    uint8_t buf[16];
    ps_cobs_dec_t dec;
    const uint8_t *frame = NULL;
    size_t frame_len = 0;
    int i, frames = 0, oversize = 0, malformed = 0;
    const uint8_t stream[] = {0, 0, 0x03, 0x11, 0x22, 0x02, 0x33, 0, 0x05, 1, 0};
    ps_cobs_dec_init(&dec, buf, sizeof buf);
    for (i = 0; i < (int)sizeof stream; i++) {
        switch (ps_cobs_dec_push(&dec, stream[i], &frame, &frame_len)) {
        case PS_COBS_FRAME:
            frames++;
            CHECK(frame_len == 4 && frame[0] == 0x11 && frame[2] == 0 && frame[3] == 0x33);
            break;
        case PS_COBS_MALFORMED: malformed++; break;
        case PS_COBS_OVERSIZE: oversize++; break;
        case PS_COBS_NONE: break;
        }
    }
    CHECK(frames == 1 && malformed == 1 && oversize == 0);
    /* 40 non-zero bytes into a 16-byte buffer: one oversize report, then resynchronised. */
    for (i = 0; i < 40; i++) {
        CHECK(ps_cobs_dec_push(&dec, 7, &frame, &frame_len) == PS_COBS_NONE);
    }
    CHECK(ps_cobs_dec_push(&dec, 0, &frame, &frame_len) == PS_COBS_OVERSIZE);
    CHECK(ps_cobs_dec_push(&dec, 2, &frame, &frame_len) == PS_COBS_NONE);
    CHECK(ps_cobs_dec_push(&dec, 9, &frame, &frame_len) == PS_COBS_NONE);
    CHECK(ps_cobs_dec_push(&dec, 0, &frame, &frame_len) == PS_COBS_FRAME && frame_len == 1 && frame[0] == 9);
}

static void test_frame(void)
{
    const uint8_t payload[] = {0xAA, 0xBB};
    uint8_t wire[PS_WIRE_SIZE(sizeof payload)];
    uint8_t dec[PS_MAX_FRAME];
    size_t wire_len = 0, dec_len = 0, bit;
    ps_frame_t f;
    CHECK(ps_frame_encode(1, 0x20, 0x1234, payload, sizeof payload, PS_MAX_FRAME, wire, sizeof wire, &wire_len) == PS_OK);
    CHECK(wire[wire_len - 1] == 0);
    CHECK(ps_cobs_decode(wire, wire_len - 1, dec, sizeof dec, &dec_len) == PS_OK && dec_len == 10);
    CHECK(dec[0] == 1 && dec[1] == 0x20 && dec[2] == 0x34 && dec[3] == 0x12 && dec[4] == 2 && dec[5] == 0);
    CHECK(ps_frame_parse(dec, dec_len, PS_MAX_FRAME, &f) == PS_OK && f.seq == 0x1234 && f.len == 2 && f.payload[1] == 0xBB);
    for (bit = 0; bit < dec_len * 8u; bit++) {
        ps_status_t st;
        dec[bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
        st = ps_frame_parse(dec, dec_len, PS_MAX_FRAME, &f);
        CHECK(st == PS_E_PROTOCOL_BAD_CRC || st == PS_E_PROTOCOL_BAD_FRAME);
        dec[bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
    }
    CHECK(ps_frame_parse(dec, 7, PS_MAX_FRAME, &f) == PS_E_PROTOCOL_BAD_FRAME);
    CHECK(ps_frame_encode(1, 1, 0, dec, PS_MAX_PAYLOAD + 1u, PS_MAX_FRAME, dec, sizeof dec, &wire_len) == PS_E_PROTOCOL_BAD_PAYLOAD);
    CHECK(ps_frame_encode(1, 1, 0, payload, sizeof payload, PS_MAX_FRAME, wire, 5, &wire_len) == PS_E_PROTOCOL_BAD_PAYLOAD);
}

static void test_seq(void)
{
    ps_seq_track_t t;
    const uint16_t seqs[] = {0xFFFD, 0xFFFE, 0xFFFF, 0, 1, 4, 2, 5};
    size_t i;
    memset(&t, 0, sizeof t);
    ps_seq_track_restart(&t);
    for (i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        (void)ps_seq_track_frame(&t, seqs[i]);
    }
    CHECK(t.gaps == 2 && t.late == 1);
    CHECK(ps_seq_distance(0, 0xFFFF) == 1 && ps_seq_distance(3, 0xFFFE) == 5);
}

/* Encodes m, decodes it, re-encodes the decoded form: both encodings must match. */
static void roundtrip(const ps_msg_t *m)
{
    uint8_t a[PS_MAX_PAYLOAD], b[PS_MAX_PAYLOAD];
    size_t a_len = 0, b_len = 0, n;
    ps_msg_t d;
    ps_status_t st = ps_msg_encode(m, a, sizeof a, &a_len);
    CHECK(st == PS_OK);
    CHECK(ps_msg_decode(m->type, a, a_len, &d) == PS_OK);
    rt_make_encodable(&d);
    CHECK(ps_msg_encode(&d, b, sizeof b, &b_len) == PS_OK);
    CHECK(a_len == b_len && memcmp(a, b, a_len) == 0);
    /* Every truncation is rejected unless the layout ends in a free-length byte string. */
    for (n = 0; n < a_len; n++) {
        st = ps_msg_decode(m->type, a, n, &d);
        if (m->type == PS_MSG_ERROR || m->type == PS_MSG_MODEL_CHUNK || m->type == PS_MSG_STATE_CHUNK) {
            CHECK(st == PS_OK || st == PS_E_PROTOCOL_BAD_PAYLOAD);
        } else {
            CHECK(st == PS_E_PROTOCOL_BAD_PAYLOAD);
        }
    }
    if (m->type != PS_MSG_ERROR && m->type != PS_MSG_MODEL_CHUNK && m->type != PS_MSG_STATE_CHUNK) {
        a[a_len] = 0;
        CHECK(ps_msg_decode(m->type, a, a_len + 1u, &d) == PS_E_PROTOCOL_BAD_PAYLOAD);
    }
}

static void test_messages(void)
{
    static const uint8_t hash[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
    static const uint32_t idx[] = {0, 1, 5, 130, 783, 20000, 0xFFFFFFFFu};
    static const uint8_t vals[] = {1, 255, 3, 4, 5, 6, 7};
    static const uint16_t applied[] = {5, 0xFFFF};
    ps_section_t sections[2];
    ps_msg_t m;
    uint8_t buf[PS_MAX_PAYLOAD];
    size_t len = 0;
    const uint32_t unsorted[] = {3, 3};

    memset(&m, 0, sizeof m);
    m.type = PS_MSG_HELLO; m.u.hello.proto_min = 1; m.u.hello.proto_max = 1; m.u.hello.nonce = 0xDEADBEEFu; roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_HELLO_ACK; m.u.hello_ack.board = "native"; m.u.hello_ack.board_len = 6;
    m.u.hello_ack.firmware_hash = hash; m.u.hello_ack.model_hash = hash; m.u.hello_ack.step = 99; roundtrip(&m);
    m.u.hello_ack.board_len = 0;
    CHECK(ps_msg_encode(&m, buf, sizeof buf, &len) == PS_E_PROTOCOL_BAD_PAYLOAD);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_ACK; m.u.ack.reply_to = 7; m.u.ack.info = 0xFFFFFFFFu; roundtrip(&m);
    m.type = PS_MSG_NACK; m.u.nack.reply_to = 1; m.u.nack.code = 408; m.u.nack.detail = 5; roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_ERROR; m.u.error.code = 507; m.u.error.text = "reset"; m.u.error.text_len = 5; roundtrip(&m);
    m.type = PS_MSG_MODEL_BEGIN; m.u.model_begin.total_len = 1000; m.u.model_begin.sha256 = hash; roundtrip(&m);
    m.type = PS_MSG_MODEL_CHUNK; m.u.model_chunk.offset = 64; m.u.model_chunk.data = hash; m.u.model_chunk.len = 32; roundtrip(&m);
    m.type = PS_MSG_MODEL_END; roundtrip(&m);
    m.type = PS_MSG_MODEL_LOADED; m.u.model_loaded.reply_to = 3; m.u.model_loaded.model_hash = hash; roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_STEP; m.u.step.step = 31; m.u.step.flags = PS_STEP_COST; m.u.step.report_mask = 5;
    m.u.step.events.list.indices = idx; m.u.step.events.list.count = 7; roundtrip(&m);
    m.u.step.events.values = vals; roundtrip(&m);
    m.u.step.events.list.indices = unsorted; m.u.step.events.list.count = 2; m.u.step.events.values = NULL;
    CHECK(ps_msg_encode(&m, buf, sizeof buf, &len) == PS_E_SEMANTICS_BAD_INPUT);
    memset(&m, 0, sizeof m);
    sections[0].layer = 0; sections[0].spikes.indices = idx; sections[0].spikes.count = 3;
    sections[1].layer = 2; sections[1].spikes.indices = idx + 3; sections[1].spikes.count = 4;
    m.type = PS_MSG_STEP_RESULT; m.u.step_result.reply_to = 9; m.u.step_result.step = 31; m.u.step_result.flags = PS_STEP_COST | PS_STEP_MORE;
    m.u.step_result.cost = 1234; m.u.step_result.sections.items = sections; m.u.step_result.sections.count = 2; roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_RT_START; m.u.rt_start.period_us = 1000; m.u.rt_start.report_mask = 0xFFFFFFFFu; roundtrip(&m);
    m.type = PS_MSG_RT_STOP; roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_RT_INPUT; m.u.rt_input.events.list.indices = idx; m.u.rt_input.events.list.count = 3; roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_RT_OUTPUT; m.u.rt_output.step = 77; m.u.rt_output.flags = PS_STEP_COST; m.u.rt_output.cost = 5;
    m.u.rt_output.applied = applied; m.u.rt_output.applied_count = 2; m.u.rt_output.sections.items = sections; m.u.rt_output.sections.count = 1; roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_REWARD; m.u.reward.target_step = 500; m.u.reward.reward = -32768; roundtrip(&m);
    CHECK(ps_msg_encode(&m, buf, sizeof buf, &len) == PS_OK && ps_msg_decode(PS_MSG_REWARD, buf, len, &m) == PS_OK && m.u.reward.reward == -32768);
    m.type = PS_MSG_READ_STATE; m.u.read_state.what = PS_STATE_ELIGIBILITY; m.u.read_state.layer = 1; m.u.read_state.length = 492; roundtrip(&m);
    m.u.read_state.what = 6;
    CHECK(ps_msg_encode(&m, buf, sizeof buf, &len) == PS_E_PROTOCOL_BAD_PAYLOAD);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_STATE_CHUNK; m.u.state_chunk.total = 4096; m.u.state_chunk.data = hash; m.u.state_chunk.data_len = 32; roundtrip(&m);
    m.type = PS_MSG_RESET_STATE; m.u.reset_state.what = 1; roundtrip(&m);
    m.type = PS_MSG_GET_STATS; roundtrip(&m);
    memset(&m, 0, sizeof m);
    m.type = PS_MSG_STATS; m.u.stats.steps = 1000000; m.u.stats.max_cost = 0x80000000u; roundtrip(&m);
    m.type = 0x7F;
    CHECK(ps_msg_encode(&m, buf, sizeof buf, &len) == PS_E_PROTOCOL_UNKNOWN_MESSAGE);
    CHECK(ps_msg_decode(0x7F, buf, 0, &m) == PS_E_PROTOCOL_UNKNOWN_MESSAGE);
    CHECK(ps_msg_type_known(PS_MSG_STATS) && !ps_msg_type_known(0x7F));
    CHECK(ps_msg_is_request(PS_MSG_STEP) && !ps_msg_is_request(PS_MSG_RT_INPUT));
}

static void test_bad_payloads(void)
{
    ps_msg_t m;
    const uint8_t noncanon[] = {0, 1, 0x80, 0x00};
    const uint8_t too_wide[] = {0, 1, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F};
    const uint8_t overflow[] = {0, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0};
    const uint8_t count_big[] = {0, 200, 1};
    const uint8_t bad_flag[] = {2, 0};
    const uint8_t zero_val[] = {1, 1, 5, 0};
    const uint8_t good[] = {1, 2, 5, 0, 9, 8};
    ps_index_iter_t it;
    uint32_t a = 0, b = 0;
    CHECK(ps_msg_decode(PS_MSG_RT_INPUT, noncanon, sizeof noncanon, &m) == PS_E_PROTOCOL_BAD_PAYLOAD);
    CHECK(ps_msg_decode(PS_MSG_RT_INPUT, too_wide, sizeof too_wide, &m) == PS_E_PROTOCOL_BAD_PAYLOAD);
    CHECK(ps_msg_decode(PS_MSG_RT_INPUT, overflow, sizeof overflow, &m) == PS_E_PROTOCOL_BAD_PAYLOAD);
    CHECK(ps_msg_decode(PS_MSG_RT_INPUT, count_big, sizeof count_big, &m) == PS_E_PROTOCOL_BAD_PAYLOAD);
    CHECK(ps_msg_decode(PS_MSG_RT_INPUT, bad_flag, sizeof bad_flag, &m) == PS_E_PROTOCOL_BAD_PAYLOAD);
    CHECK(ps_msg_decode(PS_MSG_RT_INPUT, zero_val, sizeof zero_val, &m) == PS_E_PROTOCOL_BAD_PAYLOAD);
    CHECK(ps_msg_decode(PS_MSG_RT_INPUT, good, sizeof good, &m) == PS_OK);
    ps_index_iter_init(&it, &m.u.rt_input.events.list);
    CHECK(ps_index_iter_next(&it, &a) && ps_index_iter_next(&it, &b) && !ps_index_iter_next(&it, &b));
    CHECK(a == 5 && b == 6 && m.u.rt_input.events.values[0] == 9 && m.u.rt_input.events.values[1] == 8);
}

/* Random bytes through the decoder, frame parser and message decoder: statuses only, no crash. */
static void test_fuzz(void)
{
    static uint8_t buf[PS_MAX_ENCODED];
    ps_cobs_dec_t dec;
    long i;
    int frames = 0;
    ps_cobs_dec_init(&dec, buf, sizeof buf);
    for (i = 0; i < 2000000L; i++) {
        const uint32_t r = rng();
        const uint8_t byte = (r & 0x300u) == 0u ? 0u : (uint8_t)r; /* frequent delimiters */
        const uint8_t *frame = NULL;
        size_t frame_len = 0;
        if (ps_cobs_dec_push(&dec, byte, &frame, &frame_len) == PS_COBS_FRAME) {
            ps_frame_t f;
            ps_msg_t m;
            frames++;
            CHECK(frame_len <= PS_MAX_ENCODED);
            if (frame_len >= 2) {
                /* Decode the raw bytes as a payload of the type in byte 1, valid CRC or not. */
                const ps_status_t st = ps_msg_decode(frame[1], frame + 1, frame_len - 1, &m);
                if (st != PS_OK && st != PS_E_PROTOCOL_BAD_PAYLOAD && st != PS_E_PROTOCOL_UNKNOWN_MESSAGE) {
                    CHECK(0);
                }
            }
            (void)ps_frame_parse(frame, frame_len, PS_MAX_FRAME, &f);
        }
    }
    CHECK(frames > 1000);
}

int main(void)
{
    test_crc();
    test_cobs();
    test_cobs_stream();
    test_frame();
    test_seq();
    test_messages();
    test_bad_payloads();
    test_fuzz();
    if (failures != 0) {
        printf("%d of %d checks failed\n", failures, checks);
        return 1;
    }
    printf("ok %d checks\n", checks);
    return 0;
}
