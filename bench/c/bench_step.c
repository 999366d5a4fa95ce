/*
 * Host C side of bench/codegen.bench.ts: loads a .cbor with ps_table_read, reads the input events
 * (the conformance harness's EVENTS format), then runs every step `reps` times (reset before each
 * repetition) with ps_net and prints: seconds-per-repetition (median of reps) and the spike total
 * of one repetition. Build: -std=c99 -D_POSIX_C_SOURCE=199309L -O2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ps_net.h"
#include "ps_table.h"

#define MAX_FILE (4ul << 20)
#define MAX_STEPS 4096u
#define MAX_EVENTS (1u << 20)

static uint8_t file_buf[MAX_FILE];
static uint64_t arena[(4ul << 20) / 8u];
static uint32_t state[1u << 20];
static uint32_t events[MAX_EVENTS];
static uint32_t step_start[MAX_STEPS + 1u];
static ps_net_t net;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return x < y ? -1 : x > y ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_step MODEL.cbor EVENTS REPS\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    size_t len = f == NULL ? 0u : fread(file_buf, 1, sizeof file_buf, f);
    ps_model_t model;
    if (f != NULL) {
        fclose(f);
    }
    if (ps_table_read(file_buf, len, (uint8_t *)arena, sizeof arena, &model) != PS_OK ||
        ps_net_init(&net, &model, state, (uint32_t)(sizeof state / sizeof state[0])) != PS_OK) {
        fprintf(stderr, "bench_step: cannot load %s\n", argv[1]);
        return 1;
    }
    FILE *ev = fopen(argv[2], "rb");
    uint32_t steps = 0u;
    uint32_t total = 0u;
    if (ev == NULL || fread(&steps, 4, 1, ev) != 1u || steps > MAX_STEPS) {
        return 1;
    }
    for (uint32_t t = 0u; t < steps; t++) {
        uint32_t n;
        uint8_t graded;
        if (fread(&n, 4, 1, ev) != 1u || fread(&graded, 1, 1, ev) != 1u || graded != 0u || total + n > MAX_EVENTS ||
            fread(&events[total], 4, n, ev) != n) {
            return 1;
        }
        step_start[t] = total;
        total += n;
    }
    step_start[steps] = total;
    fclose(ev);
    int reps = atoi(argv[3]);
    double seconds[64];
    unsigned long spikes = 0ul;
    if (reps < 1 || reps > 64) {
        return 2;
    }
    for (int r = 0; r < reps; r++) {
        ps_net_reset(&net);
        spikes = 0ul;
        double t0 = now();
        for (uint32_t t = 0u; t < steps; t++) {
            (void)ps_net_step(&net, &events[step_start[t]], NULL, step_start[t + 1u] - step_start[t]);
            for (uint32_t l = 0u; l < model.n_layers; l++) {
                uint32_t c;
                (void)ps_net_spikes(&net, l, &c);
                spikes += c;
            }
        }
        seconds[r] = now() - t0;
    }
    qsort(seconds, (size_t)reps, sizeof seconds[0], cmp_double);
    printf("%.9f %lu\n", seconds[reps / 2], spikes);
    return 0;
}
