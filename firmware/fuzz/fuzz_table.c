/*
 * libFuzzer harness for the event-table reader (firmware/src/ps_table.c). Build and run: see
 * README.md beside this file. Besides the sanitizers' checks it aborts when the reader returns a
 * code outside the format/semantics/out-of-memory set, or accepts a table whose model breaks an
 * invariant the kernels rely on (every array walked within its declared length), or when a
 * smaller arena does not give DEVICE_OUT_OF_MEMORY for an accepted table.
 *
 * Built with -DPS_FUZZ_BODY the input is a table BODY: the harness wraps it in a canonical envelope
 * with the right SHA-256, so mutations reach the body's CBOR and schema checks instead of stopping
 * at FORMAT_HASH_MISMATCH (its seeds are corpus/table-body/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ps_sha256.h"
#include "ps_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t arena[1u << 16];

static void require(int cond)
{
    if (!cond) abort();
}

static void check_weights(const ps_weights_t *w, uint32_t post_channels)
{
    uint32_t k, n = w->bits == 4u ? (w->count + 1u) / 2u : w->count;
    volatile int32_t sink = 0;
    require(w->bits == 4u || w->bits == 8u || w->bits == 16u);
    require((w->i8 != NULL) + (w->i16 != NULL) + (w->packed4 != NULL) == 1);
    for (k = 0; k < n; k++) sink += w->bits == 8u ? w->i8[k] : w->bits == 16u ? w->i16[k] : w->packed4[k];
    require(w->shift_len == 1u || w->shift_len == post_channels);
    for (k = 0; k < w->shift_len; k++) require(w->shift[k] <= PS_MAX_SHIFT);
    (void)sink;
}

static void check_connection(const ps_connection_t *c, uint32_t pre, uint32_t post, uint32_t post_channels)
{
    uint32_t i, k;
    require(c->inputs == pre && c->outputs == post);
    if (c->kind == PS_CONN_POOL) return;
    check_weights(&c->weights, post_channels);
    if (c->kind != PS_CONN_SPARSE) return;
    require(c->row_ptr[0] == 0u && c->row_ptr[c->inputs] == c->nnz && c->weights.count == c->nnz);
    require((c->cols16 != NULL) != (c->cols32 != NULL));
    for (i = 0; i < c->inputs; i++) {
        require(c->row_ptr[i] <= c->row_ptr[i + 1u]);
        for (k = c->row_ptr[i]; k < c->row_ptr[i + 1u]; k++) require((c->cols16 ? c->cols16[k] : c->cols32[k]) < c->outputs);
    }
}

#ifdef PS_FUZZ_BODY
#define MAX_BODY (1u << 20)
static uint8_t file[MAX_BODY + 128u];

/* The canonical envelope {body, hash, format, version: 1} around `body` (spec section 1). */
static size_t wrap(const uint8_t *body, size_t n)
{
    static const uint8_t tail[] = {0x66, 'f', 'o', 'r', 'm', 'a', 't', 0x75, 'p', 'i', 'c', 'o', 's', 'p', 'i', 'k', 'e', '-', 'e', 'v', 'e',
                                   'n', 't', '-', 't', 'a', 'b', 'l', 'e', 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x01};
    size_t at = 0, i;
    file[at++] = 0xa4;
    file[at++] = 0x64;
    file[at++] = 'b';
    file[at++] = 'o';
    file[at++] = 'd';
    file[at++] = 'y';
    if (n < 24u) file[at++] = (uint8_t)(0x40u | n);
    else if (n < 0x100u) {
        file[at++] = 0x58;
        file[at++] = (uint8_t)n;
    } else if (n < 0x10000u) {
        file[at++] = 0x59;
        file[at++] = (uint8_t)(n >> 8);
        file[at++] = (uint8_t)n;
    } else {
        file[at++] = 0x5a;
        for (i = 0; i < 4u; i++) file[at++] = (uint8_t)(n >> (24u - 8u * i));
    }
    for (i = 0; i < n; i++) file[at++] = body[i];
    file[at++] = 0x64;
    file[at++] = 'h';
    file[at++] = 'a';
    file[at++] = 's';
    file[at++] = 'h';
    file[at++] = 0x58;
    file[at++] = 0x20;
    ps_sha256(body, n, file + at);
    at += PS_SHA256_BYTES;
    for (i = 0; i < sizeof tail; i++) file[at++] = tail[i];
    return at;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ps_model_t m;
    ps_status_t st;
#ifdef PS_FUZZ_BODY
    if (size > MAX_BODY) return 0;
    size = wrap(data, size);
    data = file;
#endif
    st = ps_table_read(data, size, arena, sizeof arena, &m);
    uint32_t i, k, pre;
    volatile int64_t bias_sum = 0;
    if (st != PS_OK) {
        require((st >= PS_E_FORMAT_TRUNCATED && st <= PS_E_FORMAT_UNKNOWN_FIELD) || st == PS_E_SEMANTICS_SHAPE_MISMATCH ||
                st == PS_E_DEVICE_OUT_OF_MEMORY);
        return 0;
    }
    require(m.n_layers >= 1u && m.n_layers <= PS_MAX_LAYERS && m.synapses <= PS_MAX_SYNAPSES && m.arena_used <= sizeof arena);
    pre = m.input.size;
    for (i = 0; i < m.n_layers; i++) {
        const ps_layer_t *l = &m.layers[i];
        require(l->name_len >= 1u && l->name_len <= 64u && l->size >= 1u && l->size <= PS_MAX_NEURONS);
        check_connection(&l->input, pre, l->size, l->channels);
        if (l->recurrent.kind != PS_CONN_NONE) check_connection(&l->recurrent, l->size, l->size, l->channels);
        require(l->bias == NULL || l->bias_len == l->size || l->bias_len == l->channels);
        for (k = 0; k < l->bias_len; k++) bias_sum += l->bias[k]; /* ASan checks every read */
        require(!l->has_plasticity || l->input.weights.writable != NULL);
        pre = l->size;
    }
    (void)bias_sum;
    if (m.arena_used > 0u) { /* one byte less must be refused, never overrun */
        size_t need = m.arena_used;
        require(ps_table_read(data, size, arena, need - 1u, &m) == PS_E_DEVICE_OUT_OF_MEMORY && m.arena_used == need);
    }
    return 0;
}
