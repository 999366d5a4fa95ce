/* COBS encode/decode, spec/protocol.md section 1.3. */
#include "ps_cobs.h"

void ps_cobs_enc_init(ps_cobs_enc_t *enc, uint8_t *out, size_t cap)
{
    enc->out = out;
    enc->cap = cap;
    enc->pos = 1u;
    enc->code_at = 0u;
    enc->code = 1u;
    enc->overflow = (uint8_t)(cap < 1u);
}

static void ps_cobs_enc_emit(ps_cobs_enc_t *enc, size_t at, uint8_t value)
{
    if (at < enc->cap) {
        enc->out[at] = value;
    } else {
        enc->overflow = 1u;
    }
}

void ps_cobs_enc_put(ps_cobs_enc_t *enc, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        /* A full block closes without implied zero only now that more data follows. */
        if (enc->code == 0xFFu) {
            ps_cobs_enc_emit(enc, enc->code_at, 0xFFu);
            enc->code_at = enc->pos++;
            enc->code = 1u;
        }
        if (data[i] == 0u) {
            ps_cobs_enc_emit(enc, enc->code_at, enc->code);
            enc->code_at = enc->pos++;
            enc->code = 1u;
        } else {
            ps_cobs_enc_emit(enc, enc->pos++, data[i]);
            enc->code++;
        }
    }
}

ps_status_t ps_cobs_enc_finish(ps_cobs_enc_t *enc, size_t *out_len)
{
    ps_cobs_enc_emit(enc, enc->code_at, enc->code);
    ps_cobs_enc_emit(enc, enc->pos++, 0u);
    if (enc->overflow) {
        *out_len = 0u;
        return PS_E_PROTOCOL_BAD_PAYLOAD;
    }
    *out_len = enc->pos;
    return PS_OK;
}

ps_status_t ps_cobs_encode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    ps_cobs_enc_t enc;
    ps_cobs_enc_init(&enc, out, out_cap);
    ps_cobs_enc_put(&enc, in, in_len);
    ps_cobs_enc_emit(&enc, enc.code_at, enc.code); /* close the last block, no delimiter */
    if (enc.overflow) {
        *out_len = 0u;
        return PS_E_PROTOCOL_BAD_PAYLOAD;
    }
    *out_len = enc.pos;
    return PS_OK;
}

ps_status_t ps_cobs_decode(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    size_t r = 0u;
    size_t w = 0u;
    *out_len = 0u;
    while (r < in_len) {
        const uint8_t code = in[r++];
        size_t end;
        if (code == 0u) {
            return PS_E_PROTOCOL_BAD_FRAME;
        }
        end = r + (size_t)code - 1u;
        if (end > in_len) {
            return PS_E_PROTOCOL_BAD_FRAME;
        }
        while (r < end) {
            const uint8_t b = in[r++];
            if (b == 0u || w >= out_cap) {
                return PS_E_PROTOCOL_BAD_FRAME;
            }
            out[w++] = b; /* w < r always, so decoding in place is safe */
        }
        if (code != 0xFFu && r < in_len) {
            if (w >= out_cap) {
                return PS_E_PROTOCOL_BAD_FRAME;
            }
            out[w++] = 0u;
        }
    }
    *out_len = w;
    return PS_OK;
}

void ps_cobs_dec_init(ps_cobs_dec_t *dec, uint8_t *buf, size_t cap)
{
    dec->buf = buf;
    dec->cap = cap;
    dec->fill = 0u;
    dec->skipping = 0u;
}

void ps_cobs_dec_reset(ps_cobs_dec_t *dec)
{
    dec->fill = 0u;
    dec->skipping = 0u;
}

ps_cobs_event_t ps_cobs_dec_push(ps_cobs_dec_t *dec, uint8_t byte, const uint8_t **frame, size_t *frame_len)
{
    if (byte != 0u) {
        if (dec->skipping) {
            return PS_COBS_NONE;
        }
        if (dec->fill < dec->cap) {
            dec->buf[dec->fill++] = byte;
        } else {
            dec->skipping = 1u;
            dec->fill = 0u;
        }
        return PS_COBS_NONE;
    }
    if (dec->skipping) {
        ps_cobs_dec_reset(dec);
        return PS_COBS_OVERSIZE;
    }
    if (dec->fill == 0u) {
        return PS_COBS_NONE; /* empty chunk: a flush */
    }
    {
        size_t len = 0u;
        const ps_status_t st = ps_cobs_decode(dec->buf, dec->fill, dec->buf, dec->cap, &len);
        dec->fill = 0u;
        if (st != PS_OK) {
            return PS_COBS_MALFORMED;
        }
        *frame = dec->buf;
        *frame_len = len;
        return PS_COBS_FRAME;
    }
}
