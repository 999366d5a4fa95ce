/*
 * COBS framing (spec/protocol.md section 1.3): the variant in which a 0xFF block carries no implied
 * zero. A streaming encoder (writes into a caller buffer, no scratch copy) and a byte-at-a-time
 * decoder with a caller-provided bounded buffer. No allocation; every loop is bounded by its input.
 */
#ifndef PS_COBS_H
#define PS_COBS_H

#include <stddef.h>
#include <stdint.h>

#include "ps_status_generated.h"

/** Largest decoded frame (header + payload + CRC). */
#define PS_MAX_FRAME 512u
/** Largest COBS encoding of n decoded bytes, delimiter excluded. */
#define PS_COBS_MAX_ENCODED(n) ((n) + ((n) == 0u ? 1u : ((n) + 253u) / 254u))
/** Largest encoded chunk a receiver stores (515). */
#define PS_MAX_ENCODED PS_COBS_MAX_ENCODED(PS_MAX_FRAME)

/** Streaming COBS encoder state: feed bytes with ps_cobs_enc_put, end with ps_cobs_enc_finish. */
typedef struct ps_cobs_enc {
    uint8_t *out;     /* destination */
    size_t cap;       /* its capacity */
    size_t pos;       /* next write position */
    size_t code_at;   /* position of the current block's code byte */
    uint8_t code;     /* current block's code (1 + bytes in block) */
    uint8_t overflow; /* set when out was too small; the output is then unusable */
} ps_cobs_enc_t;

/** Starts encoding into out[0, cap). */
void ps_cobs_enc_init(ps_cobs_enc_t *enc, uint8_t *out, size_t cap);
/** Encodes len bytes. */
void ps_cobs_enc_put(ps_cobs_enc_t *enc, const uint8_t *data, size_t len);
/** Closes the last block and appends the 0x00 delimiter; *out_len gets the total. PS_E_PROTOCOL_BAD_PAYLOAD if out was too small. */
ps_status_t ps_cobs_enc_finish(ps_cobs_enc_t *enc, size_t *out_len);

/** Encodes in[0, in_len) into out (delimiter NOT appended). PS_E_PROTOCOL_BAD_PAYLOAD if out is too small. */
ps_status_t ps_cobs_encode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len);

/**
 * Decodes one chunk (no delimiter) into out; out may equal in (decoding in place is safe).
 * PS_E_PROTOCOL_BAD_FRAME if the chunk holds a zero or a code runs past its end.
 */
ps_status_t ps_cobs_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len);

/** What one byte pushed into the decoder completed. */
typedef enum ps_cobs_event {
    PS_COBS_NONE = 0,     /* nothing yet (or an empty chunk, a flush) */
    PS_COBS_FRAME = 1,    /* a decoded frame is ready */
    PS_COBS_OVERSIZE = 2, /* a chunk longer than the buffer was skipped */
    PS_COBS_MALFORMED = 3 /* a chunk failed COBS decoding */
} ps_cobs_event_t;

/** Streaming decoder over a caller buffer (PS_MAX_ENCODED bytes for full-size frames). */
typedef struct ps_cobs_dec {
    uint8_t *buf;
    size_t cap;
    size_t fill;
    uint8_t skipping; /* discarding an oversize chunk up to the next 0x00 */
} ps_cobs_dec_t;

/** Starts a decoder over buf[0, cap). */
void ps_cobs_dec_init(ps_cobs_dec_t *dec, uint8_t *buf, size_t cap);
/** Drops a partial chunk. */
void ps_cobs_dec_reset(ps_cobs_dec_t *dec);
/**
 * Pushes one received byte. On PS_COBS_FRAME, *frame and *frame_len describe the decoded frame, held in
 * the decoder's buffer and valid until the next push.
 */
ps_cobs_event_t ps_cobs_dec_push(ps_cobs_dec_t *dec, uint8_t byte, const uint8_t **frame, size_t *frame_len);

#endif /* PS_COBS_H */
