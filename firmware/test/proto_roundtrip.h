/*
 * Test helper shared by test_proto.c and proto_vectors.c: turns a decoded message (zero-copy index
 * lists) into an encodable one (index arrays), so re-encoding exercises the real encoder rather
 * than copying the coded bytes back.
 */
#ifndef PROTO_ROUNDTRIP_H
#define PROTO_ROUNDTRIP_H

#include "ps_proto.h"

/* Room for every index a max-size payload can hold, and every section. */
static uint32_t rt_index_pool[PS_MAX_PAYLOAD];
static ps_section_t rt_sections[256];

static void rt_expand_list(ps_index_list_t *list, size_t *used)
{
    ps_index_iter_t it;
    uint32_t idx;
    uint32_t *dst = rt_index_pool + *used;
    uint32_t n = 0;
    ps_index_iter_init(&it, list);
    while (ps_index_iter_next(&it, &idx) && *used + n < PS_MAX_PAYLOAD) {
        dst[n++] = idx;
    }
    list->indices = dst;
    list->coded = NULL;
    list->coded_len = 0;
    *used += n;
}

static void rt_expand_sections(ps_sections_t *s, size_t *used)
{
    ps_section_iter_t it;
    uint8_t n = 0;
    ps_section_iter_init(&it, s);
    while (n < s->count && ps_section_iter_next(&it, &rt_sections[n])) {
        rt_expand_list(&rt_sections[n].spikes, used);
        n++;
    }
    s->items = rt_sections;
    s->coded = NULL;
    s->coded_len = 0;
}

/* Rewrites a decoded message in place into its encodable form. */
static void rt_make_encodable(ps_msg_t *m)
{
    size_t used = 0;
    switch (m->type) {
    case PS_MSG_STEP:
        rt_expand_list(&m->u.step.events.list, &used);
        break;
    case PS_MSG_RT_INPUT:
        rt_expand_list(&m->u.rt_input.events.list, &used);
        break;
    case PS_MSG_STEP_RESULT:
        rt_expand_sections(&m->u.step_result.sections, &used);
        break;
    case PS_MSG_RT_OUTPUT:
        rt_expand_sections(&m->u.rt_output.sections, &used);
        break;
    default:
        break;
    }
}

#endif /* PROTO_ROUNDTRIP_H */
