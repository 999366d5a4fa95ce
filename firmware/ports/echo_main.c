/*
 * Bring-up program for every port; it uses nothing but ps_port.h. The host speaks first (QEMU
 * drops UART output sent before the host opens the pty), so the banner goes out only after the
 * first byte arrives. Then:
 *   0xC1          -> 0xC1 + ps_port_cycles() (4 bytes, little-endian)
 *   0xC2          -> 0xC2 + cost of a fixed workload in counter ticks (4 bytes LE)
 *                         + the workload's result (4 bytes LE, so it cannot be optimised away)
 *   any other     -> echoed back unchanged
 * Banner: "picospike-echo board=<name> hz=<counter rate>\n".
 */
#include "ps_port.h"

#define CMD_CYCLES 0xC1u
#define CMD_WORKLOAD 0xC2u

/* Iterations of the workload; volatile so the compiler cannot fold the loop at build time. */
static volatile uint32_t workload_iterations = 1000u;

static void put_u32le(uint8_t *out, uint32_t value) {
  out[0] = (uint8_t)value;
  out[1] = (uint8_t)(value >> 8);
  out[2] = (uint8_t)(value >> 16);
  out[3] = (uint8_t)(value >> 24);
}

static size_t put_decimal(uint8_t *out, uint32_t value) {
  uint8_t digits[10];
  size_t count = 0;
  size_t i;
  do {
    digits[count++] = (uint8_t)('0' + value % 10u);
    value /= 10u;
  } while (value != 0u);
  for (i = 0; i < count; ++i) out[i] = digits[count - 1u - i];
  return count;
}

static void put_text(const char *text) {
  size_t len = 0;
  while (text[len] != '\0') ++len;
  ps_port_uart_write((const uint8_t *)text, len);
}

static void send_banner(void) {
  uint8_t hz[10];
  put_text("picospike-echo board=");
  put_text(ps_port_board_name());
  put_text(" hz=");
  ps_port_uart_write(hz, put_decimal(hz, ps_port_cycles_hz()));
  put_text("\n");
}

/* xorshift32: fixed work whose cost only depends on the iteration count. */
static uint32_t workload(uint32_t iterations) {
  uint32_t state = 2463534242u;
  uint32_t i;
  for (i = 0; i < iterations; ++i) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
  }
  return state;
}

static void handle(uint8_t byte) {
  uint8_t reply[9];
  if (byte == CMD_CYCLES) {
    reply[0] = CMD_CYCLES;
    put_u32le(&reply[1], ps_port_cycles());
    ps_port_uart_write(reply, 5u);
  } else if (byte == CMD_WORKLOAD) {
    uint32_t start = ps_port_cycles_align();
    uint32_t result = workload(workload_iterations);
    uint32_t cost = ps_port_cycles() - start;
    reply[0] = CMD_WORKLOAD;
    put_u32le(&reply[1], cost);
    put_u32le(&reply[5], result);
    ps_port_uart_write(reply, 9u);
  } else {
    ps_port_uart_write(&byte, 1u);
  }
}

int main(void) {
  uint8_t received[64];
  int greeted = 0;
  ps_port_init();
  while (ps_port_running()) {
    size_t count = ps_port_uart_read(received, sizeof received);
    size_t i;
    if (count == 0u) {
      ps_port_idle();
      continue;
    }
    if (!greeted) {
      send_banner();
      greeted = 1;
    }
    for (i = 0; i < count; ++i) handle(received[i]);
  }
  return 0;
}
