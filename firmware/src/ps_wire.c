/* Byte-level primitives of the protocol codecs: spec/protocol.md section 3.1 (hand-written; the
 * per-message codecs in ps_proto.c are generated from firmware-host/wire/schema.ts). */
#include "ps_wire.h"

/* ---- writer --------------------------------------------------------------------------------- */

void ps_writer_init(ps_writer_t *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0u;
    w->status = PS_OK;
}

void ps_writer_fail(ps_writer_t *w, ps_status_t st)
{
    if (w->status == PS_OK) {
        w->status = st; /* keep the first error */
    }
}

void ps_put_u8(ps_writer_t *w, uint8_t v)
{
    if (w->len >= w->cap) {
        ps_writer_fail(w, PS_E_PROTOCOL_BAD_PAYLOAD);
        return;
    }
    w->buf[w->len++] = v;
}

void ps_put_u16(ps_writer_t *w, uint16_t v)
{
    ps_put_u8(w, (uint8_t)(v & 0xFFu));
    ps_put_u8(w, (uint8_t)(v >> 8));
}

void ps_put_u32(ps_writer_t *w, uint32_t v)
{
    ps_put_u16(w, (uint16_t)(v & 0xFFFFu));
    ps_put_u16(w, (uint16_t)(v >> 16));
}

void ps_put_varint(ps_writer_t *w, uint32_t v)
{
    int i;
    for (i = 0; i < 5; i++) {
        if (v < 0x80u) {
            ps_put_u8(w, (uint8_t)v);
            return;
        }
        ps_put_u8(w, (uint8_t)((v & 0x7Fu) | 0x80u));
        v >>= 7;
    }
}

void ps_put_bytes(ps_writer_t *w, const uint8_t *data, size_t len)
{
    size_t i;
    if (len > w->cap - w->len) {
        ps_writer_fail(w, PS_E_PROTOCOL_BAD_PAYLOAD);
        return;
    }
    for (i = 0; i < len; i++) {
        w->buf[w->len++] = data[i];
    }
}

void ps_put_indices(ps_writer_t *w, const uint32_t *indices, uint32_t count)
{
    uint32_t k;
    ps_put_varint(w, count);
    for (k = 0; k < count; k++) {
        if (k == 0u) {
            ps_put_varint(w, indices[0]);
        } else if (indices[k] <= indices[k - 1u]) {
            ps_writer_fail(w, PS_E_SEMANTICS_BAD_INPUT);
            return;
        } else {
            ps_put_varint(w, indices[k] - indices[k - 1u] - 1u);
        }
    }
}

ps_status_t ps_writer_status(const ps_writer_t *w)
{
    return w->status;
}

size_t ps_varint_size(uint32_t v)
{
    size_t n = 1u;
    while (v >= 0x80u) { /* at most 4 iterations */
        v >>= 7;
        n++;
    }
    return n;
}

/* ---- reader (sticky error) -------------------------------------------------------------------- */

void ps_reader_init(ps_reader_t *r, const uint8_t *payload, size_t len)
{
    r->p = payload;
    r->len = len;
    r->pos = 0u;
    r->status = PS_OK;
}

void ps_reader_fail(ps_reader_t *r)
{
    r->status = PS_E_PROTOCOL_BAD_PAYLOAD;
    r->pos = r->len; /* later reads yield zeros */
}

size_t ps_reader_remaining(const ps_reader_t *r)
{
    return r->len - r->pos;
}

uint8_t ps_get_u8(ps_reader_t *r)
{
    if (r->pos >= r->len) {
        ps_reader_fail(r);
        return 0u;
    }
    return r->p[r->pos++];
}

uint16_t ps_get_u16(ps_reader_t *r)
{
    const uint16_t lo = ps_get_u8(r);
    const uint16_t hi = ps_get_u8(r);
    return (uint16_t)(lo | (uint16_t)(hi << 8));
}

uint32_t ps_get_u32(ps_reader_t *r)
{
    const uint32_t lo = ps_get_u16(r);
    const uint32_t hi = ps_get_u16(r);
    return lo | (hi << 16);
}

/* Canonical LEB128 of at most 32 bits from p[0, end); returns bytes used, 0 when malformed. */
static size_t ps_varint_decode(const uint8_t *p, const uint8_t *end, uint32_t *value)
{
    uint32_t v = 0u;
    size_t i;
    for (i = 0; i < 5u && p + i < end; i++) {
        const uint8_t b = p[i];
        if (i == 4u && b > 0x0Fu) {
            return 0u;
        }
        v |= (uint32_t)(b & 0x7Fu) << (7u * i);
        if ((b & 0x80u) == 0u) {
            if (b == 0u && i > 0u) {
                return 0u; /* redundant zero group */
            }
            *value = v;
            return i + 1u;
        }
    }
    return 0u;
}

uint32_t ps_get_varint(ps_reader_t *r)
{
    uint32_t v = 0u;
    const size_t used = r->pos < r->len ? ps_varint_decode(r->p + r->pos, r->p + r->len, &v) : 0u;
    if (used == 0u) {
        ps_reader_fail(r);
        return 0u;
    }
    r->pos += used;
    return v;
}

const uint8_t *ps_get_bytes(ps_reader_t *r, size_t n)
{
    const uint8_t *at = r->p + r->pos;
    if (n > ps_reader_remaining(r)) {
        ps_reader_fail(r);
        return r->p;
    }
    r->pos += n;
    return at;
}

/* Reads and validates an index list; the list points into the payload. */
static void ps_get_indices(ps_reader_t *r, ps_index_list_t *list)
{
    uint32_t k;
    uint32_t prev = 0u;
    size_t start;
    list->count = ps_get_varint(r);
    list->indices = NULL;
    start = r->pos;
    /* Every index takes at least one byte: the count cannot exceed the bytes left. */
    if (list->count > ps_reader_remaining(r)) {
        ps_reader_fail(r);
    }
    for (k = 0; k < list->count && r->status == PS_OK; k++) {
        const uint32_t v = ps_get_varint(r);
        if (k == 0u) {
            prev = v;
        } else if (prev == 0xFFFFFFFFu || v > 0xFFFFFFFEu - prev) {
            ps_reader_fail(r); /* index would exceed 32 bits */
        } else {
            prev = prev + 1u + v;
        }
    }
    list->coded = r->p + start;
    list->coded_len = r->pos - start;
}

void ps_get_events(ps_reader_t *r, ps_events_t *ev)
{
    const uint8_t flags = ps_get_u8(r);
    if ((flags & (uint8_t)~PS_EVENTS_VALUES) != 0u) {
        ps_reader_fail(r);
    }
    ps_get_indices(r, &ev->list);
    ev->values = NULL;
    if (r->status == PS_OK && (flags & PS_EVENTS_VALUES) != 0u) {
        uint32_t k;
        const uint8_t *values = ps_get_bytes(r, ev->list.count);
        for (k = 0; k < ev->list.count && r->status == PS_OK; k++) {
            if (values[k] == 0u) {
                ps_reader_fail(r);
            }
        }
        ev->values = values;
    }
}

void ps_get_sections(ps_reader_t *r, ps_sections_t *s)
{
    uint8_t i;
    int prev_layer = -1;
    size_t start;
    s->count = ps_get_u8(r);
    s->items = NULL;
    start = r->pos;
    for (i = 0; i < s->count && r->status == PS_OK; i++) {
        ps_index_list_t list;
        const uint8_t layer = ps_get_u8(r);
        if ((int)layer <= prev_layer) {
            ps_reader_fail(r);
        }
        prev_layer = (int)layer;
        ps_get_indices(r, &list);
    }
    s->coded = r->p + start;
    s->coded_len = r->pos - start;
}

void ps_put_events(ps_writer_t *w, const ps_events_t *ev)
{
    uint32_t k;
    ps_put_u8(w, ev->values != NULL ? (uint8_t)PS_EVENTS_VALUES : 0u);
    ps_put_indices(w, ev->list.indices, ev->list.count);
    if (ev->values != NULL) {
        for (k = 0; k < ev->list.count; k++) {
            if (ev->values[k] == 0u) {
                ps_writer_fail(w, PS_E_SEMANTICS_BAD_INPUT);
            }
        }
        ps_put_bytes(w, ev->values, ev->list.count);
    }
}

void ps_put_sections(ps_writer_t *w, const ps_sections_t *s)
{
    uint8_t i;
    ps_put_u8(w, s->count);
    for (i = 0; i < s->count; i++) {
        if (i > 0u && s->items[i].layer <= s->items[i - 1u].layer) {
            ps_writer_fail(w, PS_E_PROTOCOL_BAD_PAYLOAD);
        }
        ps_put_u8(w, s->items[i].layer);
        ps_put_indices(w, s->items[i].spikes.indices, s->items[i].spikes.count);
    }
}

/* ---- iterators -------------------------------------------------------------------------------- */

void ps_index_iter_init(ps_index_iter_t *it, const ps_index_list_t *list)
{
    it->p = list->coded;
    it->end = list->coded + list->coded_len;
    it->remaining = list->count;
    it->prev = 0u;
    it->started = 0u;
}

int ps_index_iter_next(ps_index_iter_t *it, uint32_t *index)
{
    uint32_t v = 0u;
    size_t used;
    if (it->remaining == 0u) {
        return 0;
    }
    used = ps_varint_decode(it->p, it->end, &v);
    if (used == 0u) {
        it->remaining = 0u; /* cannot happen on a validated list */
        return 0;
    }
    it->p += used;
    it->remaining--;
    it->prev = it->started ? it->prev + 1u + v : v;
    it->started = 1u;
    *index = it->prev;
    return 1;
}

void ps_section_iter_init(ps_section_iter_t *it, const ps_sections_t *sections)
{
    it->p = sections->coded;
    it->end = sections->coded + sections->coded_len;
    it->remaining = sections->count;
}

int ps_section_iter_next(ps_section_iter_t *it, ps_section_t *out)
{
    ps_reader_t r;
    if (it->remaining == 0u || it->p >= it->end) {
        return 0;
    }
    r.p = it->p;
    r.len = (size_t)(it->end - it->p);
    r.pos = 0u;
    r.status = PS_OK;
    out->layer = ps_get_u8(&r);
    ps_get_indices(&r, &out->spikes);
    if (r.status != PS_OK) {
        it->remaining = 0u;
        return 0;
    }
    it->p += r.pos;
    it->remaining--;
    return 1;
}


int ps_printable(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20u || (unsigned char)s[i] > 0x7Eu) {
            return 0;
        }
    }
    return 1;
}

