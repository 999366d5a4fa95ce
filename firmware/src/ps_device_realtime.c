/* Real-time mode: the device clock, RT_START/RT_STOP, pending RT_INPUT frames and the steps that fall
 * due: the twin of firmware-host/mock/realtime.ts. */
#include <string.h>

#include "ps_device_internal.h"
#include "ps_port.h"

static void clock_update(void)
{
    uint32_t now = ps_port_cycles();
    uint32_t hz = ps_port_cycles_hz();
    /* A counter read that steps back (a port's counter misread; the Cortex-M SysTick count once did
     * on the tick its wrap pends on) would wrap to a difference of about 2^32 ticks and run
     * PS_DEVICE_RT_MAX_CATCH_UP steps at once: the device clock holds instead, never running backwards. */
    if ((int32_t)(now - ps_dev.clock_last) < 0) {
        return;
    }
    ps_dev.clock_rem += (uint64_t)(uint32_t)(now - ps_dev.clock_last) * 1000000u;
    ps_dev.clock_last = now;
    ps_dev.clock_us += ps_dev.clock_rem / hz;
    ps_dev.clock_rem %= hz;
}

static void rt_step(void)
{
    out_parts_t o;
    uint32_t step = ps_dev.net.t_low;
    uint32_t rewards_applied;
    uint32_t layers = ps_dev.live->n_layers < MAX_REPORT_LAYERS ? ps_dev.live->n_layers : MAX_REPORT_LAYERS;
    uint32_t l;
    uint8_t spiked = 0u;
    int graded = 0;
    /* merged real-time inputs carry values only when some value is not 1 (mergeRealtimeInputs) */
    for (l = 0u; l < ps_dev.in_count; l++) {
        if (ps_dev.in_val[l] != 1u) {
            graded = 1;
        }
    }
    rewards_applied = psd_run_step(graded);
    for (l = 0u; l < layers; l++) {
        uint32_t n = 0u;
        (void)ps_net_spikes(&ps_dev.net, l, &n);
        if (((ps_dev.rt.report_mask >> l) & 1u) != 0u && n > 0u) {
            spiked = 1u;
        }
    }
    if (ps_dev.rt_applied_count > 0u || rewards_applied > 0u || spiked) {
        o.type = PS_MSG_RT_OUTPUT;
        o.buf = ps_dev.scratch_buf;
        o.seq = ps_dev.tx_seq;
        o.reply_to = 0u;
        o.step = step;
        o.want_cost = ps_dev.rt.want_cost;
        o.cost = ps_dev.counters.last_cost;
        o.mask = ps_dev.rt.report_mask;
        /* step, flags, [cost u32], applied_count u8, applied_seq u16 each, section_count */
        o.fixed = PS_RT_OUTPUT_PREFIX_SIZE + (ps_dev.rt.want_cost ? 4u : 0u) + 1u + 2u * ps_dev.rt_applied_count + PS_SECTION_COUNT_SIZE;
        ps_dev.tx_seq = (uint16_t)(ps_dev.tx_seq + psd_send_sections(&o));
    }
    ps_dev.rt_applied_count = 0u;
    ps_dev.rt_pending_events = 0u;
}

/** Merges one RT_INPUT's events into the pending set: union of indices, values summed, saturated at 255. */
static void rt_merge(const ps_events_t *ev)
{
    ps_index_iter_t it;
    uint32_t index;
    uint32_t k = 0u;
    uint32_t pos = 0u;
    ps_index_iter_init(&it, &ev->list);
    while (ps_index_iter_next(&it, &index)) { /* bounded by the decoded count */
        uint32_t v = ev->values != NULL ? ev->values[k] : 1u;
        uint32_t j;
        k++;
        while (pos < ps_dev.in_count && ps_dev.in_idx[pos] < index) { /* indices ascend: the search resumes */
            pos++;
        }
        if (pos < ps_dev.in_count && ps_dev.in_idx[pos] == index) {
            v += ps_dev.in_val[pos];
            ps_dev.in_val[pos] = (uint8_t)(v > 255u ? 255u : v);
            continue;
        }
        for (j = ps_dev.in_count; j > pos; j--) { /* in_count < MAX_INPUT: checked by the caller */
            ps_dev.in_idx[j] = ps_dev.in_idx[j - 1u];
            ps_dev.in_val[j] = ps_dev.in_val[j - 1u];
        }
        ps_dev.in_idx[pos] = index;
        ps_dev.in_val[pos] = (uint8_t)v;
        ps_dev.in_count++;
    }
    ps_dev.in_has_values = 1u;
}

void psd_rt_input(const ps_events_t *ev, uint16_t seq)
{
    uint32_t n = ev->list.count;
    uint32_t last_index = 0u;
    ps_index_iter_t it;
    uint32_t index;
    if (!ps_dev.handshaken || ps_dev.live == NULL || !ps_dev.rt.on) {
        ps_dev.counters.dropped++;
        return;
    }
    ps_index_iter_init(&it, &ev->list);
    while (ps_index_iter_next(&it, &index)) {
        last_index = index;
    }
    if ((n > 0u && last_index >= ps_dev.live->input.size) || ps_dev.rt_applied_count >= PS_DEVICE_RT_MAX_PENDING ||
        ps_dev.rt_pending_events + n > MAX_INPUT) {
        ps_dev.counters.dropped++;
        return;
    }
    rt_merge(ev);
    ps_dev.rt_applied[ps_dev.rt_applied_count++] = seq;
    ps_dev.rt_pending_events += n;
}

/** RT_START: real-time steps from the device clock every period_us (spec §5.5). */
void psd_do_rt_start(const ps_frame_t *f, const ps_rt_start_t *s)
{
    if (ps_dev.live == NULL) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_MODEL_MISMATCH, 0u);
    } else if (ps_dev.rt.on || ps_dev.partial) {
        psd_answer_nack(f->seq, f->type, PS_E_PROTOCOL_BUSY, 0u);
    } else {
        clock_update();
        ps_dev.rt.on = 1u;
        ps_dev.rt.want_cost = (uint8_t)((s->flags & PS_STEP_COST) != 0u);
        ps_dev.rt.report_mask = s->report_mask;
        ps_dev.rt.period_us = s->period_us;
        ps_dev.rt.next_due_us = ps_dev.clock_us + ps_dev.rt.period_us;
        psd_answer_ack(f->seq, f->type, ps_dev.net.t_low);
    }
}

/** RT_STOP: ends real-time mode; inputs still pending are discarded (spec §5.3). */
void psd_do_rt_stop(const ps_frame_t *f)
{
    ps_dev.rt.on = 0u;
    /* inputs that arrived after the last real-time step are discarded: they were never applied */
    ps_dev.rt_applied_count = 0u;
    ps_dev.rt_pending_events = 0u;
    if (!ps_dev.partial) { /* the buffer holds pending real-time inputs, not STEP parts */
        ps_dev.in_count = 0u;
        ps_dev.in_has_values = 0u;
    }
    psd_answer_ack(f->seq, f->type, psd_next_step());
}

void ps_device_poll(void)
{
    uint32_t ran = 0u;
    if (!ps_dev.rt.on) {
        return;
    }
    clock_update();
    while (ps_dev.rt.on && ps_dev.rt.next_due_us <= ps_dev.clock_us) {
        rt_step();
        ps_dev.rt.next_due_us += ps_dev.rt.period_us;
        if (++ran >= PS_DEVICE_RT_MAX_CATCH_UP) {
            clock_update();
            ps_dev.rt.next_due_us = ps_dev.clock_us + ps_dev.rt.period_us; /* too far behind: resynchronise instead of spinning */
            break;
        }
    }
}

int ps_device_realtime(void)
{
    return ps_dev.rt.on;
}
