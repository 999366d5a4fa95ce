/*
 * Replays dispatcher sessions (the record format of firmware/fuzz/fuzz_device.c) through the C device
 * (ps_device.c) and prints every frame it sends, so test/twin.test.ts can require the TypeScript mock
 * board (firmware-host mock) to send exactly the same bytes for the same sessions.
 *
 * Usage: twin_device FILE...   One "session FILE" line per file, then one line per frame sent:
 *   <record> <hex of the wire frame, delimiter included>
 * where <record> is the index of the input record being fed when the frame went out (-1: boot).
 *
 * The port is a fake one like the fuzz harness's, except for the clock: ps_port_cycles() returns a
 * virtual nanosecond counter that moves ONLY on TICK records ((n + 1) x 250 us), not on every read,
 * so the device and the mock see the same clock and every step cost measures 0.
 * The records are read by firmware/fuzz/session_records.h (ps_replay_records), shared with the
 * fuzz harness.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ps_device.h"
#include "ps_frame.h"
#include "ps_port.h"
#include "ps_proto.h"

#include "../fuzz/session_records.h"


static uint64_t clock_ns;
static long record;

void ps_port_init(void) {}

bool ps_port_running(void) { return true; }

size_t ps_port_uart_read(uint8_t *buf, size_t cap)
{
    (void)buf;
    (void)cap;
    return 0u;
}

uint32_t ps_port_cycles(void) { return (uint32_t)clock_ns; }

uint32_t ps_port_cycles_align(void) { return ps_port_cycles(); }

uint32_t ps_port_cycles_hz(void) { return 1000000000u; }

const char *ps_port_board_name(void) { return "twin"; }

void ps_port_idle(void) {}

void ps_port_uart_write(const uint8_t *data, size_t len)
{
    size_t i;
    printf("%ld ", record);
    for (i = 0u; i < len; i++) {
        printf("%02x", data[i]);
    }
    printf("\n");
}

static uint8_t wire_buf[PS_WIRE_SIZE(PS_MAX_PAYLOAD) + 1u];

static void feed_frame(uint8_t version, uint8_t type, uint16_t seq, const uint8_t *payload, size_t len)
{
    static const uint8_t delimiter = 0u;
    size_t n = 0u;
    if (ps_frame_encode(version, type, seq, payload, len, PS_MAX_FRAME, wire_buf, sizeof wire_buf, &n) != PS_OK) {
        return;
    }
    ps_device_receive(&delimiter, 1u); /* ends whatever a RAW record left half-received */
    ps_device_receive(wire_buf, n);
}

static void run(const uint8_t *data, size_t size)
{
    clock_ns = 0u;
    record = -1;
    ps_device_reset_all();
    ps_replay_records(data, size, &clock_ns, feed_frame, &record);
}

int main(int argc, char **argv)
{
    static uint8_t data[1u << 20];
    int i;
    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        size_t size;
        if (f == NULL) {
            fprintf(stderr, "cannot open %s\n", argv[i]);
            return 2;
        }
        size = fread(data, 1u, sizeof data, f);
        fclose(f);
        printf("session %s\n", argv[i]);
        run(data, size);
    }
    return 0;
}
