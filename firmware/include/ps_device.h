/*
 * The device side of spec/protocol.md: handshake, model upload into a static RAM pool (validated
 * by ps_table.c), a compiled-in model (a const table in flash, selected with PS_COMPILED_MODEL),
 * lockstep and real-time steps on ps_net.h, rewards queued, state readback, statistics, and
 * duplicate detection with stored answers. Its executable reference is firmware-host/mock/mock-board.ts:
 * same rules, same NACK codes, same order of checks.
 *
 * No malloc, no recursion, every loop bounded by a frame, a count checked against it, or a table
 * size. All memory is static and sized by the defines below (per board: firmware-host/launch.ts
 * passes them; the defaults suit a host build).
 *
 * Usage (ps_main.c): ps_port_init(); ps_device_init(); then forever: feed received bytes to
 * ps_device_receive() and call ps_device_poll() (real-time steps).
 */
#ifndef PS_DEVICE_H
#define PS_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#ifndef PS_DEVICE_POOL_BYTES
/** RAM pool for models: the uploaded file, the reader's arenas and the network state (bytes, multiple of 8). */
#define PS_DEVICE_POOL_BYTES (4ul * 1024ul * 1024ul)
#endif

#ifndef PS_DEVICE_MAX_INPUT_EVENTS
/** Most input events of one step (over all STEP parts, or all pending RT_INPUT frames). */
#define PS_DEVICE_MAX_INPUT_EVENTS 4096u
#endif

#ifndef PS_DEVICE_COST_UNIT
/** HELLO_ACK cost_unit: 1 CPU cycles, 2 instructions (QEMU -icount), 3 microseconds. */
#define PS_DEVICE_COST_UNIT 3u
#endif

#ifndef PS_DEVICE_COST_MUL
/** Cost = counter ticks * PS_DEVICE_COST_MUL / PS_DEVICE_COST_DIV (e.g. ns -> us: 1 / 1000). */
#define PS_DEVICE_COST_MUL 1u
#endif
#ifndef PS_DEVICE_COST_DIV
#define PS_DEVICE_COST_DIV 1000u
#endif

#ifndef PS_FIRMWARE_HASH
/** First 8 bytes of the firmware hash (spec/protocol.md §3.2 HELLO_ACK), as a C initializer list. The build passes it. */
#define PS_FIRMWARE_HASH 0, 0, 0, 0, 0, 0, 0, 0
#endif

/** Most RT_INPUT frames pending for one real-time step (spec §5.3). */
#define PS_DEVICE_RT_MAX_PENDING 32u
/** Most real-time steps run back to back before resynchronising to the clock (spec §5.5). */
#define PS_DEVICE_RT_MAX_CATCH_UP 10000u

/** Device counters reported by STATS. */
typedef struct ps_device_counters {
    uint32_t steps;
    uint32_t frames_rx;
    uint32_t frames_tx;
    uint32_t bad_frame;
    uint32_t bad_crc;
    uint32_t dropped;
    uint32_t last_cost;
    uint32_t max_cost;
} ps_device_counters_t;

/**
 * Boots the device: loads the compiled-in model (when built with PS_COMPILED_MODEL; a model that
 * fails validation or does not fit leaves the device without one and is reported in ERROR after
 * the boot ERROR) and sends ERROR DEVICE_RESET (507). Call once after ps_port_init().
 */
void ps_device_init(void);

/**
 * Full reset for tests and fuzzers (never called by the firmware's main loop, so a board's
 * behaviour is that of ps_device_init alone): zeroes the one struct that holds ALL device state
 * (model pool, model, handshake, sequence numbers, stored answer, pending inputs and rewards,
 * real-time mode, clock, counters), which is its power-on value, then runs ps_device_init().
 * ps_device_init by itself resets only what a board needs at power-on, where statics are already
 * zero; a process that boots the dispatcher many times (firmware/fuzz/fuzz_device.c) calls this
 * instead, so the same bytes always give the same answers. ps_net.c and ps_table.c keep no state
 * of their own outside what this file passes them.
 */
void ps_device_reset_all(void);

/** Feeds bytes received from the UART; answers go out through ps_port_uart_write. */
void ps_device_receive(const uint8_t *bytes, size_t len);

/** Runs the real-time steps that fell due (no-op outside real-time mode). Call often. */
void ps_device_poll(void);

/** 1 while real-time mode runs (the main loop then must not sleep longer than a step). */
int ps_device_realtime(void);

/** The device counters (for tests and debugging). */
const ps_device_counters_t *ps_device_counters(void);

#endif /* PS_DEVICE_H */
