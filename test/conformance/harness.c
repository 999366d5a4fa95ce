/*
 * Conformance harness: runs models through the C network runtime (ps_net.c + generated kernels)
 * and writes what happened, for test/conformance/conformance.ts to compare with the TypeScript
 * interpreter. One process runs a whole batch, so the suite stays fast.
 *
 * Usage: harness MANIFEST. Each manifest line is `MODEL.cbor EVENTS OUT` (no spaces in paths).
 * With -DPS_HARNESS_SPECIALISED the model is compiled in (ps_model_generated.h from
 * `picospike codegen --target c`) and each line is `- EVENTS OUT`.
 *
 * EVENTS (little-endian): u32 steps, then per step u32 n, u8 flags (bit 0 graded, bit 1 reward),
 * when rewarded i32 reward (aimed at this step, spec/ops.md §11.3), n x u32 indices, and when
 * graded n x u8 values.
 * OUT (little-endian): u32 status; when 0, per step: per layer u32 n then n x u32 spikes, then u32
 * FNV-1a of every plastic layer's int16 working weights (little-endian bytes); then u32 snapshot
 * length and the snapshot bytes (spec/ops.md §10).
 *
 * Works on the host (stdio) and under QEMU with newlib semihosting (--specs=rdimon.specs), where
 * fopen/fread/fwrite reach the host's files.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ps_net.h"

#ifdef PS_HARNESS_SPECIALISED
#include "ps_model_generated.h"
#else
#include "ps_table.h"
#endif

#ifndef HARNESS_FILE_BYTES
#define HARNESS_FILE_BYTES (1ul << 20)
#endif
#ifndef HARNESS_ARENA_BYTES
#define HARNESS_ARENA_BYTES (1ul << 20)
#endif
#ifndef HARNESS_STATE_WORDS
#define HARNESS_STATE_WORDS (1ul << 18)
#endif
#ifndef HARNESS_MAX_EVENTS
#define HARNESS_MAX_EVENTS 65536u
#endif
#define HARNESS_SNAPSHOT_BYTES (HARNESS_STATE_WORDS * 4ul + 4096ul)

#ifndef PS_HARNESS_SPECIALISED
static uint8_t file_buf[HARNESS_FILE_BYTES];
static uint64_t arena_words[HARNESS_ARENA_BYTES / 8u];
#endif
static uint32_t state[HARNESS_STATE_WORDS];
static uint32_t indices[HARNESS_MAX_EVENTS];
static uint8_t values[HARNESS_MAX_EVENTS];
static uint8_t snapshot[HARNESS_SNAPSHOT_BYTES];
static ps_net_t net;

static int read_u32(FILE *f, uint32_t *x)
{
    uint8_t b[4];
    if (fread(b, 1, 4, f) != 4u) {
        return 0;
    }
    *x = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    return 1;
}

static void write_u32(FILE *f, uint32_t x)
{
    uint8_t b[4];
    b[0] = (uint8_t)(x & 0xffu);
    b[1] = (uint8_t)((x >> 8) & 0xffu);
    b[2] = (uint8_t)((x >> 16) & 0xffu);
    b[3] = (uint8_t)(x >> 24);
    (void)fwrite(b, 1, 4, f);
}

/** Runs one model over the events file into out; returns 0, or 1 on a harness (not model) failure. */
static int run(const ps_model_t *model, FILE *events, FILE *out)
{
    uint32_t steps;
    ps_status_t st = ps_net_init(&net, model, state, (uint32_t)HARNESS_STATE_WORDS);
    write_u32(out, (uint32_t)st);
    if (st != PS_OK) {
        return 0;
    }
    if (!read_u32(events, &steps)) {
        return 1;
    }
    for (uint32_t t = 0u; t < steps; t++) {
        uint32_t n;
        uint8_t flags;
        if (!read_u32(events, &n) || n > HARNESS_MAX_EVENTS || fread(&flags, 1, 1, events) != 1u) {
            return 1;
        }
        uint8_t graded = flags & 1u;
        if ((flags & 2u) != 0u) {
            uint32_t reward;
            if (!read_u32(events, &reward)) {
                return 1;
            }
            ps_net_reward(&net, (int32_t)reward);
        }
        for (uint32_t e = 0u; e < n; e++) {
            if (!read_u32(events, &indices[e])) {
                return 1;
            }
        }
        if (graded && fread(values, 1, n, events) != n) {
            return 1;
        }
        if (ps_net_step(&net, indices, graded ? values : NULL, n) != PS_OK) {
            return 1;
        }
        for (uint32_t l = 0u; l < model->n_layers; l++) {
            uint32_t count;
            const uint32_t *spikes = ps_net_spikes(&net, l, &count);
            write_u32(out, count);
            for (uint32_t k = 0u; k < count; k++) {
                write_u32(out, spikes[k]);
            }
        }
        uint32_t hash = 0x811c9dc5u;
        for (uint32_t l = 0u; l < model->n_layers; l++) {
            uint32_t count;
            const int16_t *w = ps_net_weights(&net, l, &count);
            for (uint32_t q = 0u; q < count && w != NULL; q++) {
                uint16_t bits = (uint16_t)w[q];
                hash = (hash ^ (bits & 0xffu)) * 0x01000193u;
                hash = (hash ^ (uint32_t)(bits >> 8)) * 0x01000193u;
            }
        }
        write_u32(out, hash);
    }
    size_t written;
    if (ps_net_snapshot(&net, snapshot, sizeof snapshot, &written) != PS_OK) {
        return 1;
    }
    write_u32(out, (uint32_t)written);
    (void)fwrite(snapshot, 1, written, out);
    return 0;
}

int main(int argc, char **argv)
{
    char line[3 * 1024];
    int failures = 0;
#ifdef HARNESS_MANIFEST_PATH
    /* picolibc's RISC-V semihosting start-up passes no usable command line: the path is built in. */
    const char *manifest_path = HARNESS_MANIFEST_PATH;
    (void)argc;
    (void)argv;
#else
    if (argc != 2) {
        fprintf(stderr, "usage: harness MANIFEST\n");
        return 2;
    }
    const char *manifest_path = argv[1];
#endif
    FILE *manifest = fopen(manifest_path, "r");
    if (manifest == NULL) {
        fprintf(stderr, "harness: cannot open %s\n", manifest_path);
        return 2;
    }
    while (fgets(line, (int)sizeof line, manifest) != NULL) {
        char model_path[1024];
        char events_path[1024];
        char out_path[1024];
        if (sscanf(line, "%1023s %1023s %1023s", model_path, events_path, out_path) != 3) {
            continue;
        }
        FILE *events = fopen(events_path, "rb");
        FILE *out = fopen(out_path, "wb");
        if (events == NULL || out == NULL) {
            fprintf(stderr, "harness: cannot open %s or %s\n", events_path, out_path);
            return 2;
        }
#ifdef PS_HARNESS_SPECIALISED
        failures += run(&PS_MODEL_GENERATED, events, out);
#else
        FILE *mf = fopen(model_path, "rb");
        size_t len = mf == NULL ? 0u : fread(file_buf, 1, sizeof file_buf, mf);
        if (mf != NULL) {
            fclose(mf);
        }
        ps_model_t model;
        ps_status_t st = ps_table_read(file_buf, len, (uint8_t *)arena_words, sizeof arena_words, &model);
        if (st != PS_OK) {
            write_u32(out, (uint32_t)st);
        } else {
            failures += run(&model, events, out);
        }
#endif
        fclose(events);
        fclose(out);
    }
    fclose(manifest);
    if (failures != 0) {
        fprintf(stderr, "harness: %d model runs failed to read their events\n", failures);
        return 1;
    }
    return 0;
}
