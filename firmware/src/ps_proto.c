/* Message payload encode/decode, spec/protocol.md section 3. */
#include "ps_proto.h"

/* ---- writer --------------------------------------------------------------------------------- */

void ps_writer_init(ps_writer_t *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0u;
    w->status = PS_OK;
}

static void ps_writer_fail(ps_writer_t *w, ps_status_t st)
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

typedef struct ps_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    ps_status_t status;
} ps_reader_t;

static void ps_reader_fail(ps_reader_t *r)
{
    r->status = PS_E_PROTOCOL_BAD_PAYLOAD;
    r->pos = r->len; /* later reads yield zeros */
}

static size_t ps_remaining(const ps_reader_t *r)
{
    return r->len - r->pos;
}

static uint8_t ps_get_u8(ps_reader_t *r)
{
    if (r->pos >= r->len) {
        ps_reader_fail(r);
        return 0u;
    }
    return r->p[r->pos++];
}

static uint16_t ps_get_u16(ps_reader_t *r)
{
    const uint16_t lo = ps_get_u8(r);
    const uint16_t hi = ps_get_u8(r);
    return (uint16_t)(lo | (uint16_t)(hi << 8));
}

static uint32_t ps_get_u32(ps_reader_t *r)
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

static uint32_t ps_get_varint(ps_reader_t *r)
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

static const uint8_t *ps_get_bytes(ps_reader_t *r, size_t n)
{
    const uint8_t *at = r->p + r->pos;
    if (n > ps_remaining(r)) {
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
    if (list->count > ps_remaining(r)) {
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

static void ps_get_events(ps_reader_t *r, ps_events_t *ev)
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

static void ps_get_sections(ps_reader_t *r, ps_sections_t *s)
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

static void ps_put_events(ps_writer_t *w, const ps_events_t *ev)
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

static void ps_put_sections(ps_writer_t *w, const ps_sections_t *s)
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

uint16_t ps_rt_output_applied(const ps_rt_output_t *m, uint8_t i)
{
    if (i >= m->applied_count) {
        return 0u;
    }
    if (m->applied != NULL) {
        return m->applied[i];
    }
    return (uint16_t)(m->applied_raw[2u * i] | (m->applied_raw[2u * i + 1u] << 8));
}

/* ---- messages --------------------------------------------------------------------------------- */

int ps_msg_type_known(uint8_t type)
{
    switch (type) {
    case PS_MSG_HELLO: case PS_MSG_HELLO_ACK: case PS_MSG_ACK: case PS_MSG_NACK: case PS_MSG_ERROR:
    case PS_MSG_MODEL_BEGIN: case PS_MSG_MODEL_CHUNK: case PS_MSG_MODEL_END: case PS_MSG_MODEL_LOADED:
    case PS_MSG_STEP: case PS_MSG_STEP_RESULT: case PS_MSG_RT_START: case PS_MSG_RT_STOP: case PS_MSG_RT_INPUT:
    case PS_MSG_RT_OUTPUT: case PS_MSG_REWARD: case PS_MSG_READ_STATE: case PS_MSG_STATE_CHUNK:
    case PS_MSG_RESET_STATE: case PS_MSG_GET_STATS: case PS_MSG_STATS:
        return 1;
    default:
        return 0;
    }
}

int ps_msg_is_request(uint8_t type)
{
    switch (type) {
    case PS_MSG_HELLO: case PS_MSG_MODEL_BEGIN: case PS_MSG_MODEL_CHUNK: case PS_MSG_MODEL_END: case PS_MSG_STEP:
    case PS_MSG_RT_START: case PS_MSG_RT_STOP: case PS_MSG_REWARD: case PS_MSG_READ_STATE: case PS_MSG_RESET_STATE:
    case PS_MSG_GET_STATS:
        return 1;
    default:
        return 0;
    }
}

static int ps_printable(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20u || (unsigned char)s[i] > 0x7Eu) {
            return 0;
        }
    }
    return 1;
}

ps_status_t ps_msg_encode(const ps_msg_t *m, uint8_t *buf, size_t cap, size_t *len)
{
    ps_writer_t w;
    ps_writer_init(&w, buf, cap);
    *len = 0u;
    switch (m->type) {
    case PS_MSG_HELLO:
        ps_put_u8(&w, m->u.hello.proto_min);
        ps_put_u8(&w, m->u.hello.proto_max);
        ps_put_u32(&w, m->u.hello.nonce);
        break;
    case PS_MSG_HELLO_ACK: {
        const ps_hello_ack_t *a = &m->u.hello_ack;
        if (a->board_len < 1u || a->board_len > PS_MAX_BOARD_NAME || !ps_printable(a->board, a->board_len)) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u16(&w, a->reply_to);
        ps_put_u8(&w, a->proto_min);
        ps_put_u8(&w, a->proto_max);
        ps_put_u8(&w, a->proto_version);
        ps_put_u32(&w, a->nonce);
        ps_put_u16(&w, a->capabilities);
        ps_put_u8(&w, a->board_len);
        ps_put_bytes(&w, (const uint8_t *)a->board, a->board_len);
        ps_put_bytes(&w, a->firmware_hash, PS_FIRMWARE_HASH_SIZE);
        ps_put_bytes(&w, a->model_hash, PS_MODEL_HASH_SIZE);
        ps_put_u16(&w, a->max_frame);
        ps_put_u16(&w, a->max_input_events);
        ps_put_u32(&w, a->upload_ram);
        ps_put_u8(&w, a->cost_unit);
        ps_put_u8(&w, a->state);
        ps_put_u8(&w, a->model_source);
        ps_put_u32(&w, a->step);
        break;
    }
    case PS_MSG_ACK:
        ps_put_u16(&w, m->u.ack.reply_to);
        ps_put_u32(&w, m->u.ack.info);
        break;
    case PS_MSG_NACK:
        ps_put_u16(&w, m->u.nack.reply_to);
        ps_put_u16(&w, m->u.nack.code);
        ps_put_u32(&w, m->u.nack.detail);
        break;
    case PS_MSG_ERROR:
        if (m->u.error.text_len > PS_MAX_ERROR_TEXT || !ps_printable(m->u.error.text, m->u.error.text_len)) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u16(&w, m->u.error.code);
        ps_put_u32(&w, m->u.error.detail);
        ps_put_bytes(&w, (const uint8_t *)m->u.error.text, m->u.error.text_len);
        break;
    case PS_MSG_MODEL_BEGIN:
        ps_put_u32(&w, m->u.model_begin.total_len);
        ps_put_bytes(&w, m->u.model_begin.sha256, PS_MODEL_HASH_SIZE);
        break;
    case PS_MSG_MODEL_CHUNK:
        if (m->u.model_chunk.len == 0u) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u32(&w, m->u.model_chunk.offset);
        ps_put_bytes(&w, m->u.model_chunk.data, m->u.model_chunk.len);
        break;
    case PS_MSG_MODEL_END:
    case PS_MSG_RT_STOP:
    case PS_MSG_GET_STATS:
        break;
    case PS_MSG_MODEL_LOADED:
        ps_put_u16(&w, m->u.model_loaded.reply_to);
        ps_put_bytes(&w, m->u.model_loaded.model_hash, PS_MODEL_HASH_SIZE);
        break;
    case PS_MSG_STEP:
        if ((m->u.step.flags & (uint8_t)~(PS_STEP_MORE | PS_STEP_COST)) != 0u) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u32(&w, m->u.step.step);
        ps_put_u8(&w, m->u.step.flags);
        ps_put_varint(&w, m->u.step.report_mask);
        ps_put_events(&w, &m->u.step.events);
        break;
    case PS_MSG_STEP_RESULT: {
        const ps_step_result_t *s = &m->u.step_result;
        if ((s->flags & (uint8_t)~(PS_STEP_MORE | PS_STEP_COST)) != 0u) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u16(&w, s->reply_to);
        ps_put_u32(&w, s->step);
        ps_put_u8(&w, s->flags);
        ps_put_u8(&w, s->part);
        if ((s->flags & PS_STEP_COST) != 0u) {
            ps_put_u32(&w, s->cost);
        }
        ps_put_sections(&w, &s->sections);
        break;
    }
    case PS_MSG_RT_START:
        if ((m->u.rt_start.flags & (uint8_t)~PS_STEP_COST) != 0u || m->u.rt_start.period_us == 0u) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u32(&w, m->u.rt_start.period_us);
        ps_put_u8(&w, m->u.rt_start.flags);
        ps_put_varint(&w, m->u.rt_start.report_mask);
        break;
    case PS_MSG_RT_INPUT:
        ps_put_events(&w, &m->u.rt_input.events);
        break;
    case PS_MSG_RT_OUTPUT: {
        const ps_rt_output_t *o = &m->u.rt_output;
        uint8_t i;
        if ((o->flags & (uint8_t)~PS_STEP_COST) != 0u) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u32(&w, o->step);
        ps_put_u8(&w, o->flags);
        if ((o->flags & PS_STEP_COST) != 0u) {
            ps_put_u32(&w, o->cost);
        }
        ps_put_u8(&w, o->applied_count);
        for (i = 0; i < o->applied_count; i++) {
            ps_put_u16(&w, ps_rt_output_applied(o, i));
        }
        ps_put_sections(&w, &o->sections);
        break;
    }
    case PS_MSG_REWARD:
        ps_put_u32(&w, m->u.reward.target_step);
        ps_put_u16(&w, (uint16_t)m->u.reward.reward);
        break;
    case PS_MSG_READ_STATE:
        if (m->u.read_state.what > PS_STATE_ELIGIBILITY) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u8(&w, m->u.read_state.what);
        ps_put_u8(&w, m->u.read_state.layer);
        ps_put_u32(&w, m->u.read_state.offset);
        ps_put_u16(&w, m->u.read_state.length);
        break;
    case PS_MSG_STATE_CHUNK:
        ps_put_u16(&w, m->u.state_chunk.reply_to);
        ps_put_u8(&w, m->u.state_chunk.what);
        ps_put_u8(&w, m->u.state_chunk.layer);
        ps_put_u32(&w, m->u.state_chunk.offset);
        ps_put_u32(&w, m->u.state_chunk.total);
        ps_put_bytes(&w, m->u.state_chunk.data, m->u.state_chunk.data_len);
        break;
    case PS_MSG_RESET_STATE:
        if (m->u.reset_state.what > PS_RESET_WEIGHTS) {
            return PS_E_PROTOCOL_BAD_PAYLOAD;
        }
        ps_put_u8(&w, m->u.reset_state.what);
        break;
    case PS_MSG_STATS: {
        const ps_stats_t *s = &m->u.stats;
        ps_put_u16(&w, s->reply_to);
        ps_put_u32(&w, s->steps);
        ps_put_u32(&w, s->frames_rx);
        ps_put_u32(&w, s->frames_tx);
        ps_put_u32(&w, s->bad_frame);
        ps_put_u32(&w, s->bad_crc);
        ps_put_u32(&w, s->gaps);
        ps_put_u32(&w, s->late);
        ps_put_u32(&w, s->dropped);
        ps_put_u32(&w, s->last_cost);
        ps_put_u32(&w, s->max_cost);
        break;
    }
    default:
        return PS_E_PROTOCOL_UNKNOWN_MESSAGE;
    }
    if (w.status == PS_OK && w.len > PS_MAX_PAYLOAD) {
        return PS_E_PROTOCOL_BAD_PAYLOAD;
    }
    if (w.status == PS_OK) {
        *len = w.len;
    }
    return w.status;
}

ps_status_t ps_msg_decode(uint8_t type, const uint8_t *payload, size_t len, ps_msg_t *out)
{
    ps_reader_t r;
    r.p = payload;
    r.len = len;
    r.pos = 0u;
    r.status = PS_OK;
    out->type = type;
    switch (type) {
    case PS_MSG_HELLO:
        out->u.hello.proto_min = ps_get_u8(&r);
        out->u.hello.proto_max = ps_get_u8(&r);
        out->u.hello.nonce = ps_get_u32(&r);
        break;
    case PS_MSG_HELLO_ACK: {
        ps_hello_ack_t *a = &out->u.hello_ack;
        a->reply_to = ps_get_u16(&r);
        a->proto_min = ps_get_u8(&r);
        a->proto_max = ps_get_u8(&r);
        a->proto_version = ps_get_u8(&r);
        a->nonce = ps_get_u32(&r);
        a->capabilities = ps_get_u16(&r);
        a->board_len = ps_get_u8(&r);
        if (a->board_len < 1u || a->board_len > PS_MAX_BOARD_NAME) {
            ps_reader_fail(&r);
        }
        a->board = (const char *)ps_get_bytes(&r, a->board_len);
        if (r.status == PS_OK && !ps_printable(a->board, a->board_len)) {
            ps_reader_fail(&r);
        }
        a->firmware_hash = ps_get_bytes(&r, PS_FIRMWARE_HASH_SIZE);
        a->model_hash = ps_get_bytes(&r, PS_MODEL_HASH_SIZE);
        a->max_frame = ps_get_u16(&r);
        a->max_input_events = ps_get_u16(&r);
        a->upload_ram = ps_get_u32(&r);
        a->cost_unit = ps_get_u8(&r);
        a->state = ps_get_u8(&r);
        a->model_source = ps_get_u8(&r);
        a->step = ps_get_u32(&r);
        break;
    }
    case PS_MSG_ACK:
        out->u.ack.reply_to = ps_get_u16(&r);
        out->u.ack.info = ps_get_u32(&r);
        break;
    case PS_MSG_NACK:
        out->u.nack.reply_to = ps_get_u16(&r);
        out->u.nack.code = ps_get_u16(&r);
        out->u.nack.detail = ps_get_u32(&r);
        break;
    case PS_MSG_ERROR: {
        size_t n;
        out->u.error.code = ps_get_u16(&r);
        out->u.error.detail = ps_get_u32(&r);
        n = ps_remaining(&r);
        if (n > PS_MAX_ERROR_TEXT) {
            ps_reader_fail(&r);
            n = 0u;
        }
        out->u.error.text_len = (uint8_t)n;
        out->u.error.text = (const char *)ps_get_bytes(&r, n);
        if (r.status == PS_OK && !ps_printable(out->u.error.text, n)) {
            ps_reader_fail(&r);
        }
        break;
    }
    case PS_MSG_MODEL_BEGIN:
        out->u.model_begin.total_len = ps_get_u32(&r);
        out->u.model_begin.sha256 = ps_get_bytes(&r, PS_MODEL_HASH_SIZE);
        break;
    case PS_MSG_MODEL_CHUNK:
        out->u.model_chunk.offset = ps_get_u32(&r);
        out->u.model_chunk.len = (uint16_t)ps_remaining(&r);
        if (out->u.model_chunk.len == 0u) {
            ps_reader_fail(&r);
        }
        out->u.model_chunk.data = ps_get_bytes(&r, out->u.model_chunk.len);
        break;
    case PS_MSG_MODEL_END:
    case PS_MSG_RT_STOP:
    case PS_MSG_GET_STATS:
        break;
    case PS_MSG_MODEL_LOADED:
        out->u.model_loaded.reply_to = ps_get_u16(&r);
        out->u.model_loaded.model_hash = ps_get_bytes(&r, PS_MODEL_HASH_SIZE);
        break;
    case PS_MSG_STEP:
        out->u.step.step = ps_get_u32(&r);
        out->u.step.flags = ps_get_u8(&r);
        if ((out->u.step.flags & (uint8_t)~(PS_STEP_MORE | PS_STEP_COST)) != 0u) {
            ps_reader_fail(&r);
        }
        out->u.step.report_mask = ps_get_varint(&r);
        ps_get_events(&r, &out->u.step.events);
        break;
    case PS_MSG_STEP_RESULT: {
        ps_step_result_t *s = &out->u.step_result;
        s->reply_to = ps_get_u16(&r);
        s->step = ps_get_u32(&r);
        s->flags = ps_get_u8(&r);
        s->part = ps_get_u8(&r);
        if ((s->flags & (uint8_t)~(PS_STEP_MORE | PS_STEP_COST)) != 0u) {
            ps_reader_fail(&r);
        }
        s->cost = (s->flags & PS_STEP_COST) != 0u ? ps_get_u32(&r) : 0u;
        ps_get_sections(&r, &s->sections);
        break;
    }
    case PS_MSG_RT_START:
        out->u.rt_start.period_us = ps_get_u32(&r);
        out->u.rt_start.flags = ps_get_u8(&r);
        if ((out->u.rt_start.flags & (uint8_t)~PS_STEP_COST) != 0u || out->u.rt_start.period_us == 0u) {
            ps_reader_fail(&r);
        }
        out->u.rt_start.report_mask = ps_get_varint(&r);
        break;
    case PS_MSG_RT_INPUT:
        ps_get_events(&r, &out->u.rt_input.events);
        break;
    case PS_MSG_RT_OUTPUT: {
        ps_rt_output_t *o = &out->u.rt_output;
        o->step = ps_get_u32(&r);
        o->flags = ps_get_u8(&r);
        if ((o->flags & (uint8_t)~PS_STEP_COST) != 0u) {
            ps_reader_fail(&r);
        }
        o->cost = (o->flags & PS_STEP_COST) != 0u ? ps_get_u32(&r) : 0u;
        o->applied_count = ps_get_u8(&r);
        o->applied = NULL;
        o->applied_raw = ps_get_bytes(&r, 2u * (size_t)o->applied_count);
        ps_get_sections(&r, &o->sections);
        break;
    }
    case PS_MSG_REWARD:
        out->u.reward.target_step = ps_get_u32(&r);
        out->u.reward.reward = (int16_t)ps_get_u16(&r); /* two's complement on every supported target */
        break;
    case PS_MSG_READ_STATE:
        out->u.read_state.what = ps_get_u8(&r);
        if (out->u.read_state.what > PS_STATE_ELIGIBILITY) {
            ps_reader_fail(&r);
        }
        out->u.read_state.layer = ps_get_u8(&r);
        out->u.read_state.offset = ps_get_u32(&r);
        out->u.read_state.length = ps_get_u16(&r);
        break;
    case PS_MSG_STATE_CHUNK:
        out->u.state_chunk.reply_to = ps_get_u16(&r);
        out->u.state_chunk.what = ps_get_u8(&r);
        out->u.state_chunk.layer = ps_get_u8(&r);
        out->u.state_chunk.offset = ps_get_u32(&r);
        out->u.state_chunk.total = ps_get_u32(&r);
        out->u.state_chunk.data_len = (uint16_t)ps_remaining(&r);
        out->u.state_chunk.data = ps_get_bytes(&r, out->u.state_chunk.data_len);
        break;
    case PS_MSG_RESET_STATE:
        out->u.reset_state.what = ps_get_u8(&r);
        if (out->u.reset_state.what > PS_RESET_WEIGHTS) {
            ps_reader_fail(&r);
        }
        break;
    case PS_MSG_STATS: {
        ps_stats_t *s = &out->u.stats;
        s->reply_to = ps_get_u16(&r);
        s->steps = ps_get_u32(&r);
        s->frames_rx = ps_get_u32(&r);
        s->frames_tx = ps_get_u32(&r);
        s->bad_frame = ps_get_u32(&r);
        s->bad_crc = ps_get_u32(&r);
        s->gaps = ps_get_u32(&r);
        s->late = ps_get_u32(&r);
        s->dropped = ps_get_u32(&r);
        s->last_cost = ps_get_u32(&r);
        s->max_cost = ps_get_u32(&r);
        break;
    }
    default:
        return PS_E_PROTOCOL_UNKNOWN_MESSAGE;
    }
    if (r.status == PS_OK && ps_remaining(&r) != 0u) {
        return PS_E_PROTOCOL_BAD_PAYLOAD; /* trailing bytes */
    }
    return r.status;
}
