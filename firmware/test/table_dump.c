/*
 * Host tool for the C vs TS cross-check (test/c-table-reader.test.ts): reads event tables with
 * ps_table_read and prints, per table, either `error <num>` or `ok <hash hex>` followed by a
 * summary of the decoded model (every scalar, and an FNV-1a digest of every array's values) that
 * the test recomputes from the TS reader's result. Input and arena are deliberately placed at odd
 * addresses so the alignment of the copies is exercised.
 *
 *   table_dump FILE...        one block per file
 *   table_dump -              records from stdin: uint32 little-endian length, then the bytes
 * Each block ends with a line `end`. Option `--arena N` caps the arena at N bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps_table.h"

static unsigned long arena_cap = 0; /* 0: ample */

static uint32_t fnv_start(void) { return 2166136261u; }
static uint32_t fnv_add(uint32_t h, int64_t v) { return (h ^ (uint32_t)v) * 16777619u; }

static int32_t weight_value(const ps_weights_t *w, uint32_t k)
{
    if (w->bits == 8u) return w->i8[k];
    if (w->bits == 16u) return w->i16[k];
    {
        unsigned nib = (w->packed4[k >> 1] >> ((k & 1u) * 4u)) & 15u;
        return nib >= 8u ? (int32_t)nib - 16 : (int32_t)nib;
    }
}

static void print_conn(unsigned i, const char *role, const ps_connection_t *c)
{
    uint32_t k, h = fnv_start(), hs = fnv_start(), hr = fnv_start(), hc = fnv_start();
    uint32_t cols_width = c->cols16 ? 16u : c->cols32 ? 32u : 0u;
    uint32_t rp_len = c->row_ptr ? c->inputs + 1u : 0u;
    if (c->weights.bits != 0u)
        for (k = 0; k < c->weights.count; k++) h = fnv_add(h, weight_value(&c->weights, k));
    for (k = 0; k < c->weights.shift_len; k++) hs = fnv_add(hs, c->weights.shift[k]);
    for (k = 0; k < rp_len; k++) hr = fnv_add(hr, c->row_ptr[k]);
    for (k = 0; k < (cols_width ? c->nnz : 0u); k++) hc = fnv_add(hc, c->cols16 ? c->cols16[k] : c->cols32[k]);
    printf("conn %u %s kind=%u inputs=%lu outputs=%lu inShape=%lu,%lu,%lu outShape=%lu,%lu,%lu kernel=%u,%u stride=%u,%u padding=%u,%u "
           "weights=%u,%lu,%lu,rw%d shift=%lu,%lu rowPtr=%lu,%lu cols=%lu,%lu,%lu pool=%d,%u synapses=%lu\n",
           i, role, c->kind, (unsigned long)c->inputs, (unsigned long)c->outputs,
           (unsigned long)c->in_shape.c, (unsigned long)c->in_shape.h, (unsigned long)c->in_shape.w,
           (unsigned long)c->out_shape.c, (unsigned long)c->out_shape.h, (unsigned long)c->out_shape.w,
           c->kernel[0], c->kernel[1], c->stride[0], c->stride[1], c->padding[0], c->padding[1],
           c->weights.bits, (unsigned long)c->weights.count, (unsigned long)h, c->weights.writable != NULL,
           (unsigned long)c->weights.shift_len, (unsigned long)hs, (unsigned long)rp_len, (unsigned long)hr,
           (unsigned long)cols_width, (unsigned long)(cols_width ? c->nnz : 0u), (unsigned long)hc,
           c->pool_weight, c->pool_shift, (unsigned long)c->synapses);
}

static void dump(const uint8_t *file, size_t len)
{
    size_t cap = arena_cap ? (size_t)arena_cap : 2u * len + 64u * sizeof(ps_layer_t) + 4096u;
    uint8_t *arena_block = (uint8_t *)malloc(cap + 1u);
    uint8_t *copy_block = (uint8_t *)malloc(len + 1u);
    ps_model_t m;
    ps_status_t st;
    uint32_t i, k;
    if (arena_block == NULL || copy_block == NULL) {
        fprintf(stderr, "table_dump: out of host memory\n");
        exit(2);
    }
    if (len > 0u) memcpy(copy_block + 1, file, len); /* odd address: nothing may assume alignment */
    st = ps_table_read(copy_block + 1, len, arena_block + 1, cap, &m);
    if (st != PS_OK) {
        printf("error %d\n", (int)st);
    } else {
        printf("ok ");
        for (i = 0; i < 32u; i++) printf("%02x", m.hash[i]);
        printf("\ninput size=%lu shape=%lu,%lu,%lu encoding=%u seed=%lu readout=%u synapses=%lu layers=%lu\n",
               (unsigned long)m.input.size, (unsigned long)m.input.shape.c, (unsigned long)m.input.shape.h,
               (unsigned long)m.input.shape.w, m.input.encoding, (unsigned long)m.input.seed, m.readout,
               (unsigned long)m.synapses, (unsigned long)m.n_layers);
        for (i = 0; i < m.n_layers; i++) {
            const ps_layer_t *l = &m.layers[i];
            const ps_neuron_t *n = &l->neuron;
            const ps_plasticity_t *p = &l->plasticity;
            uint32_t hb = fnv_start(), hl = fnv_start(), hc = fnv_start();
            for (k = 0; k < l->bias_len; k++) hb = fnv_add(hb, l->bias[k]);
            for (k = 0; n->leak_q15s != 0 && k < l->size; k++) hl = fnv_add(hl, n->leak_q15s[k]);
            for (k = 0; n->current_q15s != 0 && k < l->size; k++) hc = fnv_add(hc, n->current_q15s[k]);
            printf("layer %lu name=", (unsigned long)i);
            for (k = 0; k < l->name_len; k++) printf("%02x", l->name[k]);
            printf(" size=%lu shape=%lu,%lu,%lu channels=%lu neuron=%u,%u,%ld,%ld,%u,%u,%u,%u,%ld,%u,%u,%u,%u,%u,%ld,%u,%lu,%u,%lu bias=%lu,%lu",
                   (unsigned long)l->size, (unsigned long)l->shape.c, (unsigned long)l->shape.h, (unsigned long)l->shape.w,
                   (unsigned long)l->channels, n->model, n->reset, (long)n->threshold, (long)n->reset_value, n->leak_shift,
                   n->leak_q15, n->current_shift, n->refractory, (long)n->v_min, n->compare_gt, n->reset_delay, n->multi_spike, n->synapse_q15,
                   n->current_q15, (long)n->v_init, n->leak_q15s != 0, (unsigned long)hl, n->current_q15s != 0, (unsigned long)hc,
                   (unsigned long)l->bias_len, (unsigned long)hb);
            if (l->has_plasticity) {
                printf(" plasticity=%u,%u,%u,%d,%d,%d,%u,%u,%u,%d,%d,%u,%u,%d,%u\n", p->rule, p->pre_trace_shift, p->post_trace_shift,
                       p->trace_increment, p->a_plus, p->a_minus, p->eligibility_shift, p->learning_shift, p->baseline_shift,
                       p->w_min, p->w_max, p->timing, p->triplet_shift, p->a3_plus, p->epoch_shift);
            } else {
                printf(" plasticity=-\n");
            }
            print_conn(i, "input", &l->input);
            if (l->recurrent.kind != PS_CONN_NONE) print_conn(i, "recurrent", &l->recurrent);
        }
    }
    printf("end\n");
    free(arena_block);
    free(copy_block);
}

static uint8_t *read_all(FILE *f, size_t *len)
{
    size_t cap = 1u << 16, n = 0;
    uint8_t *buf = (uint8_t *)malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        cap *= 2u;
        buf = (uint8_t *)realloc(buf, cap);
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    int i = 1;
    if (argc > 2 && strcmp(argv[1], "--arena") == 0) {
        arena_cap = strtoul(argv[2], NULL, 10);
        i = 3;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: table_dump [--arena N] FILE... | -\n");
        return 2;
    }
    for (; i < argc; i++) {
        size_t len, at = 0;
        uint8_t *data;
        FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "rb");
        if (f == NULL) {
            fprintf(stderr, "table_dump: cannot open %s\n", argv[i]);
            return 2;
        }
        data = read_all(f, &len);
        if (f != stdin) fclose(f);
        if (data == NULL) return 2;
        if (f != stdin) dump(data, len);
        else {
            while (len - at >= 4u) { /* records: uint32 LE length, bytes */
                size_t n = (size_t)data[at] | ((size_t)data[at + 1] << 8) | ((size_t)data[at + 2] << 16) | ((size_t)data[at + 3] << 24);
                at += 4u;
                if (n > len - at) {
                    fprintf(stderr, "table_dump: record runs past the end of stdin\n");
                    return 2;
                }
                dump(data + at, n);
                at += n;
            }
        }
        free(data);
    }
    return 0;
}
