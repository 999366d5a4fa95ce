/* Lockstep steps (STEP parts, rewards, running a step and measuring its cost) and the spike sections of
 * STEP_RESULT and RT_OUTPUT split into frames: the twin of firmware-host/mock/step.ts. */
#include <string.h>

#include "ps_device_internal.h"
#include "ps_port.h"

uint32_t psd_next_step(void)
{
    return ps_dev.live != NULL ? ps_dev.net.t_low : 0u;
}

static void part_begin(out_parts_t *o)
{
    uint8_t k;
    ps_writer_init(&o->w, o->buf, PS_MAX_PAYLOAD);
    if (o->type == PS_MSG_STEP_RESULT) {
        ps_put_u16(&o->w, o->reply_to);
        ps_put_u32(&o->w, o->step);
        o->flags_at = o->w.len;
        ps_put_u8(&o->w, (uint8_t)(o->want_cost ? PS_STEP_COST : 0u));
        ps_put_u8(&o->w, o->part);
        if (o->want_cost) {
            ps_put_u32(&o->w, o->cost);
        }
    } else {
        ps_put_u32(&o->w, o->step);
        o->flags_at = o->w.len;
        ps_put_u8(&o->w, (uint8_t)(o->want_cost ? PS_STEP_COST : 0u));
        if (o->want_cost) {
            ps_put_u32(&o->w, o->cost);
        }
        /* only the first frame of a step carries applied_seq (spec §5.4) */
        ps_put_u8(&o->w, o->part == 0u ? ps_dev.rt_applied_count : 0u);
        for (k = 0u; o->part == 0u && k < ps_dev.rt_applied_count; k++) {
            ps_put_u16(&o->w, ps_dev.rt_applied[k]);
        }
    }
    o->count_at = o->w.len;
    ps_put_u8(&o->w, 0u);
    o->sections = 0u;
}

static void part_end(out_parts_t *o, int more)
{
    if (more && o->type == PS_MSG_STEP_RESULT) {
        o->buf[o->flags_at] = (uint8_t)(o->buf[o->flags_at] | PS_STEP_MORE);
    }
    o->buf[o->count_at] = o->sections;
    psd_send_frame(o->type, o->seq++, o->buf, o->w.len);
    o->part++;
    part_begin(o);
}

/** Sends every part; returns how many frames went out. */
uint16_t psd_send_sections(out_parts_t *o)
{
    const size_t budget = PS_MAX_PAYLOAD;
    size_t used = o->fixed;
    uint32_t layers = ps_dev.live->n_layers < MAX_REPORT_LAYERS ? ps_dev.live->n_layers : MAX_REPORT_LAYERS;
    uint32_t l;
    uint16_t first = o->seq;
    o->part = 0u;
    part_begin(o);
    for (l = 0u; l < layers; l++) {
        uint32_t n = 0u;
        const uint32_t *spikes = ps_net_spikes(&ps_dev.net, l, &n);
        uint32_t k = 0u;
        if (((o->mask >> l) & 1u) == 0u || n == 0u) {
            continue;
        }
        while (k < n) { /* each round consumes at least one spike or closes a non-empty part */
            size_t size;
            uint32_t end = k;
            uint32_t prev = 0u;
            if (used + 4u + ps_varint_size(spikes[k]) > budget && o->sections > 0u) {
                part_end(o, 1);
                used = o->fixed;
            }
            size = used + 4u;
            while (end < n) {
                size_t add = ps_varint_size(end == k ? spikes[end] : spikes[end] - prev - 1u);
                if (size + add > budget) {
                    break;
                }
                size += add;
                prev = spikes[end];
                end++;
            }
            if (end == k) { /* nothing fits after the sections already here: next part */
                part_end(o, 1);
                used = o->fixed;
                continue;
            }
            ps_put_u8(&o->w, (uint8_t)l);
            ps_put_indices(&o->w, spikes + k, end - k);
            o->sections++;
            used = size;
            k = end;
            if (k < n) {
                part_end(o, 1);
                used = o->fixed;
            }
        }
    }
    o->buf[o->count_at] = o->sections;
    psd_send_frame(o->type, o->seq++, o->buf, o->w.len);
    return (uint16_t)(o->seq - first);
}

/** Sends (or resends) the STEP_RESULT parts of the last step from the stored fields; returns the frames sent. */
uint16_t psd_emit_step_result(void)
{
    out_parts_t o;
    o.type = PS_MSG_STEP_RESULT;
    o.buf = ps_dev.answer_buf;
    o.seq = ps_dev.last.tx_seq;
    o.reply_to = ps_dev.last.req_seq;
    o.step = ps_dev.last.step;
    o.want_cost = ps_dev.last.want_cost;
    o.cost = ps_dev.last.cost;
    o.mask = ps_dev.last.report_mask;
    /* reply_to, step, flags, part, [cost u32], section_count */
    o.fixed = PS_STEP_RESULT_PREFIX_SIZE + (ps_dev.last.want_cost ? 4u : 0u) + PS_SECTION_COUNT_SIZE;
    return psd_send_sections(&o);
}

static uint32_t scale_cost(uint32_t ticks)
{
    return (uint32_t)((uint64_t)ticks * COST_MUL / COST_DIV);
}

/**
 * Applies due rewards, runs one step on in_idx[0, in_count) (with in_val when `graded`), measures its
 * cost; returns the rewards applied.
 */
uint32_t psd_run_step(int graded)
{
    uint32_t step = ps_dev.net.t_low;
    uint32_t applied = 0u;
    uint32_t kept = 0u;
    uint32_t r;
    uint32_t start;
    uint32_t cost;
    /* Rewards due now act at the step's start (spec/ops.md §11.3); those aimed at one step add
     * (sat16) in arrival order, as the mock board adds them (firmware-host/mock/step.ts runStep). */
    for (r = 0u; r < ps_dev.reward_count; r++) {
        if (ps_dev.rewards[r].step > step) {
            ps_dev.rewards[kept++] = ps_dev.rewards[r];
        } else {
            ps_net_reward(&ps_dev.net, ps_dev.rewards[r].value);
            applied++;
        }
    }
    ps_dev.reward_count = (uint8_t)kept;
    start = ps_port_cycles_align();
    (void)ps_net_step(&ps_dev.net, ps_dev.in_idx, graded ? ps_dev.in_val : NULL, ps_dev.in_count);
    cost = scale_cost(ps_port_cycles() - start);
    ps_dev.counters.steps++;
    ps_dev.counters.last_cost = cost;
    if (cost > ps_dev.counters.max_cost) {
        ps_dev.counters.max_cost = cost;
    }
    ps_dev.in_count = 0u;
    ps_dev.in_has_values = 0u;
    return applied;
}

void psd_do_step(const ps_frame_t *f, const ps_step_t *s)
{
    ps_index_iter_t it;
    uint32_t index;
    uint32_t n = s->events.list.count;
    uint32_t k;
    if (ps_dev.live == NULL) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_MODEL_MISMATCH, 0u);
        return;
    }
    if (ps_dev.rt.on) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BUSY, 0u);
        return;
    }
    if (s->step != ps_dev.net.t_low) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BAD_PAYLOAD, ps_dev.net.t_low);
        return;
    }
    if (!(ps_dev.partial && ps_dev.partial_step == s->step)) {
        ps_dev.in_count = 0u;
        ps_dev.in_has_values = 0u;
    }
    if (ps_dev.in_count + n > MAX_INPUT) {
        ps_dev.partial = 0u;
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BUSY, MAX_INPUT);
        return;
    }
    ps_index_iter_init(&it, &s->events.list);
    if (n > 0u && ps_index_iter_next(&it, &index) && ps_dev.in_count > 0u && index <= ps_dev.in_idx[ps_dev.in_count - 1u]) {
        ps_dev.partial = 0u;
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BAD_PAYLOAD, 0u);
        return;
    }
    ps_index_iter_init(&it, &s->events.list);
    while (ps_index_iter_next(&it, &index)) {
        if (index >= ps_dev.live->input.size) {
            ps_dev.partial = 0u;
            psd_answer_nack(f->seq, f->type, PS_E_SEMANTICS_BAD_INPUT, index);
            return;
        }
    }
    /* values: a part without values carries 1s; once any part has values every event gets one */
    if (s->events.values != NULL && !ps_dev.in_has_values) {
        for (k = 0u; k < ps_dev.in_count; k++) {
            ps_dev.in_val[k] = 1u;
        }
        ps_dev.in_has_values = 1u;
    }
    ps_index_iter_init(&it, &s->events.list);
    k = 0u;
    while (ps_index_iter_next(&it, &index)) {
        ps_dev.in_idx[ps_dev.in_count] = index;
        ps_dev.in_val[ps_dev.in_count] = s->events.values != NULL ? s->events.values[k] : 1u;
        ps_dev.in_count++;
        k++;
    }
    if ((s->flags & PS_STEP_MORE) != 0u) {
        ps_dev.partial = 1u;
        ps_dev.partial_step = s->step;
        psd_answer_ack(f->seq, f->type, ps_dev.in_count);
        return;
    }
    ps_dev.partial = 0u;
    ps_dev.last.step = ps_dev.net.t_low;
    /* a STEP whose parts carried values is graded even when every value is 1, as the mock sends it */
    (void)psd_run_step(ps_dev.in_has_values);
    ps_dev.last.valid = 1u;
    ps_dev.last.req_seq = f->seq;
    ps_dev.last.req_type = f->type;
    ps_dev.last.type = PS_MSG_STEP_RESULT;
    ps_dev.last.report_mask = s->report_mask;
    ps_dev.last.want_cost = (uint8_t)((s->flags & PS_STEP_COST) != 0u);
    ps_dev.last.cost = ps_dev.counters.last_cost;
    ps_dev.last.tx_seq = ps_dev.tx_seq;
    ps_dev.tx_seq = (uint16_t)(ps_dev.tx_seq + psd_emit_step_result());
}

/** REWARD: queued for the start of its step, or of the next step if it has passed (spec §5.7). */
void psd_do_reward(const ps_frame_t *f, const ps_reward_t *r)
{
    if (ps_dev.live == NULL) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_MODEL_MISMATCH, 0u);
    } else if (ps_dev.reward_count >= PS_MAX_PENDING_REWARDS) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BUSY, ps_dev.reward_count);
    } else {
        uint32_t at = r->target_step > ps_dev.net.t_low ? r->target_step : ps_dev.net.t_low;
        ps_dev.rewards[ps_dev.reward_count].step = at;
        ps_dev.rewards[ps_dev.reward_count].value = r->reward;
        ps_dev.reward_count++;
        psd_answer_ack(f->seq, f->type, at);
    }
}
