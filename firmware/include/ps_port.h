/*
 * ps_port.h: the interface every board port implements. The runtime (kernels + protocol) uses
 * only this to talk to the outside world, so a new board is a new ports/<board>/ folder and
 * nothing else. C99, no malloc; every function is safe to call after ps_port_init().
 *
 * Boards (firmware/ports/README.md has memory maps and build commands):
 *   native      host process; the UART is a pty it announces as `port: /dev/pts/N` on stdout.
 *   mps2-an386  Cortex-M4 under QEMU, CMSDK APB UART0, SysTick counter.
 *   microbit    Cortex-M0 nRF51822 under QEMU, nRF51 UART, TIMER0 counter.
 *   nucleo-f4   STM32F401/F411/F446 Nucleo-64 (QEMU netduinoplus2), USART2, SysTick counter.
 *   hifive1     SiFive FE310 RV32IMAC (QEMU sifive_e), UART0, mcycle counter.
 */
#ifndef PS_PORT_H
#define PS_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Version of this interface; bumped when a function is added or its meaning changes. */
#define PS_PORT_API_VERSION 1

/** Sets up clocks, the UART (with its receive interrupt) and the cycle counter. Call once, first. */
void ps_port_init(void);

/**
 * False once the board has been asked to stop (native: SIGTERM/SIGINT, or stdin closed because
 * the host that started it went away). Always true on microcontrollers. The main loop polls it.
 */
bool ps_port_running(void);

/**
 * Sends `len` bytes. Blocks until every byte is handed to the UART (microcontrollers poll the
 * transmitter). Native: bytes written while no host holds the pty are dropped once the pty's
 * buffer is full, as a UART with nothing attached would lose them.
 */
void ps_port_uart_write(const uint8_t *data, size_t len);

/**
 * Non-blocking receive: copies up to `cap` bytes that have arrived into `buf` and returns how
 * many (0 when none). Bytes are buffered by the receive interrupt; when that buffer is full the
 * port stops taking bytes from the UART, so under QEMU nothing is lost (QEMU holds them back).
 */
size_t ps_port_uart_read(uint8_t *buf, size_t cap);

/**
 * A free-running counter for per-step cost. It wraps modulo 2^32: take differences as uint32_t.
 * Its rate is ps_port_cycles_hz(): native counts CLOCK_MONOTONIC nanoseconds; mps2-an386 counts
 * SysTick ticks of the 25 MHz CPU clock; microbit counts TIMER0 ticks at 16 MHz. Under QEMU with
 * `-icount shift=0` one guest instruction takes exactly 1 ns of virtual time, so
 * instructions = ticks * 1e9 / ps_port_cycles_hz() (40 per tick on mps2-an386, 62.5 on microbit).
 */
uint32_t ps_port_cycles(void);

/**
 * Re-phases the counter so that the sub-tick phase starts now, then returns ps_port_cycles().
 * Differences measured from this value are deterministic under QEMU -icount (the instant a host
 * byte arrives is not, and without re-phasing it would shift tick edges by up to one tick). The
 * count stays monotonic; it may lose less than one tick per call. Native: same as ps_port_cycles().
 */
uint32_t ps_port_cycles_align(void);

/** Counter rate in Hz (1000000000 for nanoseconds). */
uint32_t ps_port_cycles_hz(void);

/** The board's registry name, e.g. "mps2-an386". */
const char *ps_port_board_name(void);

/**
 * Waits until a byte may have arrived or about a millisecond has passed, whichever is first; it
 * may return early. Microcontrollers sleep (WFI) so QEMU does not spin a host core.
 */
void ps_port_idle(void);

/*
 * Optional (ports built with -DPS_PORT_COST_AT_RUN_TIME=1): the unit and scale of step costs
 * decided when the image runs, for ports whose one image runs both on a QEMU model (cost in
 * instructions under -icount) and on the real part (cost in CPU cycles). Other ports fix them at
 * build time with PS_DEVICE_COST_UNIT/MUL/DIV (ps_device.h). cost = ticks * mul / div.
 */
/** Cost unit values, as HELLO_ACK's cost_unit (spec/protocol.md). */
#define PS_PORT_COST_CYCLES 1u
#define PS_PORT_COST_INSTRUCTIONS 2u
/** The cost unit of ps_port_cycles() differences once scaled (PS_PORT_COST_*). */
uint8_t ps_port_cost_unit(void);
/** Numerator of the tick-to-cost scale. */
uint32_t ps_port_cost_mul(void);
/** Denominator of the tick-to-cost scale (non-zero). */
uint32_t ps_port_cost_div(void);

#ifdef __cplusplus
}
#endif

#endif /* PS_PORT_H */
