/*
 * libFuzzer harness for the C COBS code (firmware/src/ps_cobs.c, spec/protocol.md section 1.3).
 *
 * Input layout: cap_lo, cap_hi, seed, data...
 *   - The streaming decoder, over a heap buffer of exactly `cap` bytes (1..PS_MAX_ENCODED, so ASan
 *     sees any write past it), is fed `data` one byte at a time, with resets at seeded positions. Every
 *     event and every decoded frame is checked against an independent reference model of section 1.3.
 *   - Round trip: `data` (zeros included) is encoded one-shot and with the streaming encoder in seeded
 *     pieces, into buffers of exactly the documented bound; both encodings must agree, hold no zero,
 *     respect the bound and decode back to `data` (out of place and in place). One byte less of
 *     room must make both encoders fail cleanly. The encoding plus a delimiter pushed into a
 *     full-size decoder must yield exactly `data` (or OVERSIZE when the encoding exceeds the buffer).
 * Any disagreement aborts (a finding). Build: see firmware/fuzz/PROTOCOL.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ps_cobs.h"

#define CHECK(cond) \
    do { \
        if (!(cond)) { \
            __builtin_trap(); \
        } \
    } while (0)

static uint32_t xs_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* Reference one-shot decoder written from the spec text, not from ps_cobs.c: 0 on success. */
static int ref_decode(const uint8_t *in, size_t n, uint8_t *out, size_t *out_len)
{
    size_t r = 0;
    size_t w = 0;
    while (r < n) {
        size_t code = in[r];
        size_t k;
        if (code == 0 || r + code > n) {
            return -1; /* a zero, or a block running past the chunk */
        }
        for (k = 1; k < code; k++) {
            if (in[r + k] == 0) {
                return -1;
            }
            out[w++] = in[r + k];
        }
        r += code;
        if (code != 0xFF && r < n) {
            out[w++] = 0; /* implied zero, except after a maximal block or at the end */
        }
    }
    *out_len = w;
    return 0;
}

/* Reference streaming receiver: chunk store with a cap, skip-to-delimiter on overflow. */
typedef struct ref_dec {
    uint8_t chunk[PS_MAX_ENCODED];
    size_t cap;
    size_t fill;
    int skipping;
} ref_dec_t;

static ps_cobs_event_t ref_push(ref_dec_t *d, uint8_t b, uint8_t *frame, size_t *frame_len)
{
    if (b != 0) {
        if (d->skipping) {
            return PS_COBS_NONE;
        }
        if (d->fill == d->cap) {
            d->skipping = 1;
            d->fill = 0;
        } else {
            d->chunk[d->fill++] = b;
        }
        return PS_COBS_NONE;
    }
    if (d->skipping) {
        d->skipping = 0;
        return PS_COBS_OVERSIZE;
    }
    if (d->fill == 0) {
        return PS_COBS_NONE;
    }
    {
        const size_t n = d->fill;
        d->fill = 0;
        return ref_decode(d->chunk, n, frame, frame_len) == 0 ? PS_COBS_FRAME : PS_COBS_MALFORMED;
    }
}

static void check_stream(const uint8_t *data, size_t n, size_t cap, uint32_t seed, int with_resets)
{
    uint8_t *buf = (uint8_t *)malloc(cap);
    static ref_dec_t ref;
    static uint8_t ref_frame[PS_MAX_ENCODED];
    ps_cobs_dec_t dec;
    size_t i;
    uint32_t s = seed | 1u;
    CHECK(buf != NULL);
    ps_cobs_dec_init(&dec, buf, cap);
    ref.cap = cap;
    ref.fill = 0;
    ref.skipping = 0;
    for (i = 0; i < n; i++) {
        const uint8_t *frame = NULL;
        size_t frame_len = 0;
        size_t ref_len = 0;
        ps_cobs_event_t got;
        ps_cobs_event_t want;
        /* About one reset per 64 bytes when asked for: a reconnect mid-chunk. */
        if (with_resets && (xs_next(&s) & 63u) == 0u) {
            ps_cobs_dec_reset(&dec);
            ref.fill = 0;
            ref.skipping = 0;
        }
        got = ps_cobs_dec_push(&dec, data[i], &frame, &frame_len);
        want = ref_push(&ref, data[i], ref_frame, &ref_len);
        CHECK(got == want);
        CHECK(dec.fill <= cap);
        if (got == PS_COBS_FRAME) {
            CHECK(frame == buf);
            CHECK(frame_len == ref_len);
            CHECK(frame_len < cap); /* decoded is shorter than its chunk, which fits the buffer */
            CHECK(memcmp(frame, ref_frame, frame_len) == 0);
        }
    }
    free(buf);
}

static void check_round_trip(const uint8_t *data, size_t n, uint32_t seed)
{
    const size_t bound = PS_COBS_MAX_ENCODED(n);
    uint8_t *enc = (uint8_t *)malloc(bound);
    uint8_t *enc2 = (uint8_t *)malloc(bound + 1u);
    uint8_t *dec = (uint8_t *)malloc(n + 1u);
    size_t enc_len = 0;
    size_t enc2_len = 0;
    size_t dec_len = 0;
    size_t i;
    ps_cobs_enc_t se;
    uint32_t s = seed ^ 0x9E3779B9u;
    CHECK(enc != NULL && enc2 != NULL && dec != NULL);

    CHECK(ps_cobs_encode(data, n, enc, bound, &enc_len) == PS_OK);
    CHECK(enc_len >= 1u && enc_len <= bound);
    for (i = 0; i < enc_len; i++) {
        CHECK(enc[i] != 0u);
    }

    /* Streaming encoder in seeded pieces: same bytes plus the delimiter. */
    ps_cobs_enc_init(&se, enc2, bound + 1u);
    for (i = 0; i < n;) {
        size_t piece = 1u + (xs_next(&s) % 300u);
        if (piece > n - i) {
            piece = n - i;
        }
        ps_cobs_enc_put(&se, data + i, piece);
        i += piece;
    }
    CHECK(ps_cobs_enc_finish(&se, &enc2_len) == PS_OK);
    CHECK(enc2_len == enc_len + 1u);
    CHECK(memcmp(enc, enc2, enc_len) == 0 && enc2[enc_len] == 0u);

    /* Decode out of place, then in place. */
    CHECK(ps_cobs_decode(enc, enc_len, dec, n + 1u, &dec_len) == PS_OK);
    CHECK(dec_len == n && memcmp(dec, data, n) == 0);
    CHECK(ps_cobs_decode(enc2, enc_len, enc2, enc_len, &dec_len) == PS_OK);
    CHECK(dec_len == n && memcmp(enc2, data, n) == 0);
    free(enc2);

    /* One byte too little room: a clean failure, no write past the buffer (exact-size heap blocks). */
    {
        uint8_t *small = (uint8_t *)malloc(enc_len - 1u + 1u); /* malloc(0) may return NULL */
        size_t small_len = 99;
        CHECK(small != NULL);
        CHECK(ps_cobs_encode(data, n, small, enc_len - 1u, &small_len) == PS_E_PROTOCOL_BAD_PAYLOAD);
        CHECK(small_len == 0u);
        ps_cobs_enc_init(&se, small, enc_len); /* room for the encoding but not the delimiter */
        ps_cobs_enc_put(&se, data, n);
        CHECK(ps_cobs_enc_finish(&se, &small_len) == PS_E_PROTOCOL_BAD_PAYLOAD);
        free(small);
    }
    if (n > 0u) {
        /* Decoding into a buffer one byte short of the decoded size must fail, not overflow. */
        uint8_t *short_out = (uint8_t *)malloc(n - 1u + 1u);
        CHECK(short_out != NULL);
        CHECK(ps_cobs_decode(enc, enc_len, short_out, n - 1u, &dec_len) == PS_E_PROTOCOL_BAD_FRAME);
        free(short_out);
    }

    /* Through a full-size streaming decoder. */
    {
        static uint8_t rx[PS_MAX_ENCODED];
        ps_cobs_dec_t d;
        const uint8_t *frame = NULL;
        size_t frame_len = 0;
        ps_cobs_event_t ev = PS_COBS_NONE;
        ps_cobs_dec_init(&d, rx, sizeof rx);
        for (i = 0; i < enc_len; i++) {
            CHECK(ps_cobs_dec_push(&d, enc[i], &frame, &frame_len) == PS_COBS_NONE);
        }
        ev = ps_cobs_dec_push(&d, 0u, &frame, &frame_len);
        if (enc_len <= sizeof rx) {
            CHECK(ev == PS_COBS_FRAME && frame_len == n && memcmp(frame, data, n) == 0);
        } else {
            CHECK(ev == PS_COBS_OVERSIZE);
        }
    }
    free(enc);
    free(dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *input, size_t size)
{
    size_t cap;
    uint32_t seed;
    if (size < 3u) {
        return 0;
    }
    cap = 1u + (((size_t)input[0] | ((size_t)input[1] << 8)) % PS_MAX_ENCODED);
    seed = (uint32_t)input[2] * 0x01000193u + 0x811C9DC5u;
    check_stream(input + 3, size - 3u, cap, seed, (input[2] & 1u) != 0u);
    check_round_trip(input + 3, size - 3u, seed);
    return 0;
}
