/* READ_STATE: membranes, weights (learned ones of plastic layers), traces and eligibility as
 * little-endian bytes: the twin of firmware-host/mock/readback.ts. */
#include <string.h>

#include "ps_device_internal.h"

/** Total bytes of a READ_STATE array, and its byte at offset i. */
typedef struct state_view {
    uint32_t total;
    const int32_t *v;           /* membranes */
    const ps_weights_t *w;      /* stored weights */
    const int16_t *h;           /* int16 state: traces, eligibility, a plastic layer's working weights */
    uint32_t h_count;           /* elements of h */
    uint32_t h_bits;            /* width h is sent in: 16, or a plastic layer's stored width 8 or 4 */
} state_view_t;

static uint8_t state_byte(const state_view_t *s, uint32_t i)
{
    if (s->v != NULL) {
        return (uint8_t)((uint32_t)s->v[i / 4u] >> (8u * (i % 4u)));
    }
    if (s->h != NULL) {
        /* working weights lie in wMin..wMax, inside the stored width, so narrowing is exact (spec §5.8) */
        if (s->h_bits == 16u) {
            return (uint8_t)((uint16_t)s->h[i / 2u] >> (8u * (i % 2u)));
        }
        if (s->h_bits == 8u) {
            return (uint8_t)s->h[i];
        }
        return (uint8_t)(((uint32_t)s->h[2u * i] & 15u) |
                         (2u * i + 1u < s->h_count ? ((uint32_t)s->h[2u * i + 1u] & 15u) << 4 : 0u));
    }
    if (s->w->bits == 16u) {
        return (uint8_t)((uint16_t)s->w->i16[i / 2u] >> (8u * (i % 2u)));
    }
    return s->w->bits == 8u ? (uint8_t)s->w->i8[i] : s->w->packed4[i];
}

static int weights_view(const ps_connection_t *c, state_view_t *s)
{
    const ps_weights_t *w = &c->weights;
    if (c->kind == PS_CONN_NONE || c->kind == PS_CONN_POOL) {
        return 0;
    }
    s->w = w;
    s->total = w->bits == 16u ? w->count * 2u : w->bits == 8u ? w->count : (w->count + 1u) / 2u;
    return 1;
}

void psd_do_read_state(const ps_frame_t *f, const ps_read_state_t *r)
{
    const ps_layer_state_t *ls;
    state_view_t s;
    ps_msg_t m;
    uint32_t n;
    uint32_t i;
    int ok = 0;
    if (ps_dev.live == NULL) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_MODEL_MISMATCH, 0u);
        return;
    }
    if (r->layer >= ps_dev.live->n_layers) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BAD_PAYLOAD, ps_dev.live->n_layers);
        return;
    }
    s.v = NULL;
    s.w = NULL;
    s.h = NULL;
    s.h_count = 0u;
    s.h_bits = 16u;
    s.total = 0u;
    ls = &ps_dev.net.layers[r->layer];
    if (r->what == PS_STATE_MEMBRANE) {
        s.v = ps_net_membrane(&ps_dev.net, r->layer);
        s.total = ps_dev.live->layers[r->layer].size * 4u;
        ok = 1;
    } else if (r->what == PS_STATE_WEIGHTS) {
        ok = weights_view(&ps_dev.live->layers[r->layer].input, &s);
        if (ok && ls->w != NULL) {
            /* a plastic layer's weights are the learned ones, in the stored width (spec §5.8) */
            s.h = ls->w;
            s.h_count = ls->synapses;
            s.h_bits = s.w->bits;
        }
    } else if (r->what == PS_STATE_RECURRENT_WEIGHTS) {
        ok = weights_view(&ps_dev.live->layers[r->layer].recurrent, &s);
    } else if (ls->w != NULL && (r->what == PS_STATE_PRE_TRACE || r->what == PS_STATE_POST_TRACE ||
                                 (r->what == PS_STATE_ELIGIBILITY && ls->elig != NULL))) {
        /* only plastic layers have traces, and only rstdp ones eligibility (spec §5.8) */
        s.h = r->what == PS_STATE_PRE_TRACE ? ls->pre_trace : r->what == PS_STATE_POST_TRACE ? ls->post_trace : ls->elig;
        s.h_count = r->what == PS_STATE_PRE_TRACE ? ls->pre_size : r->what == PS_STATE_POST_TRACE ? ps_dev.live->layers[r->layer].size : ls->synapses;
        s.total = s.h_count * 2u;
        ok = 1;
    }
    if (!ok) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BAD_PAYLOAD, 0u);
        return;
    }
    if (r->offset > s.total) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BAD_PAYLOAD, s.total);
        return;
    }
    n = s.total - r->offset;
    if (r->length < n) {
        n = r->length;
    }
    if (n > PS_MAX_FRAME - STATE_CHUNK_OVERHEAD) {
        n = PS_MAX_FRAME - STATE_CHUNK_OVERHEAD;
    }
    for (i = 0u; i < n; i++) {
        ps_dev.scratch_buf[i] = state_byte(&s, r->offset + i);
    }
    m.type = PS_MSG_STATE_CHUNK;
    m.u.state_chunk.reply_to = f->seq;
    m.u.state_chunk.what = r->what;
    m.u.state_chunk.layer = r->layer;
    m.u.state_chunk.offset = r->offset;
    m.u.state_chunk.total = s.total;
    m.u.state_chunk.data_len = (uint16_t)n;
    m.u.state_chunk.data = ps_dev.scratch_buf;
    psd_answer_single(f->seq, f->type, &m);
}
