/*
 * The body of a port for an Arm MPS2/MPS3 FPGA image as QEMU models it: UART0 is the CMSDK APB
 * UART (RX by interrupt into a ring), the cycle counter is SysTick on the CPU clock with a 1 ms
 * period whose interrupt extends it to 32 bits and wakes ps_port_idle() (cm_systick.h). A board's port.c defines
 * SYSCLK_HZ, UART0_BASE, UART0_RX_IRQ and PS_CMSDK_BOARD_NAME, includes this once, then writes its
 * vector table (whose length follows UART0_RX_IRQ) naming uart0_rx_irq and systick_irq.
 */
#ifndef PS_CMSDK_PORT_H
#define PS_CMSDK_PORT_H

#if !defined(SYSCLK_HZ) || !defined(UART0_BASE) || !defined(UART0_RX_IRQ) || !defined(PS_CMSDK_BOARD_NAME)
#error "define SYSCLK_HZ, UART0_BASE, UART0_RX_IRQ and PS_CMSDK_BOARD_NAME before including cmsdk_port.h"
#endif

#define UART_BAUD 115200u

/* CMSDK APB UART registers and bits. */
#define UART_DATA PS_REG32(UART0_BASE + 0x00u)
#define UART_STATE PS_REG32(UART0_BASE + 0x04u)
#define UART_CTRL PS_REG32(UART0_BASE + 0x08u)
#define UART_INTSTATUS PS_REG32(UART0_BASE + 0x0Cu)
#define UART_BAUDDIV PS_REG32(UART0_BASE + 0x10u)
#define UART_STATE_TXFULL (1u << 0)
#define UART_STATE_RXFULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)
#define UART_CTRL_RX_INTEN (1u << 3)
#define UART_INT_RX (1u << 1)

/* SysTick: processor clock, interrupt on wrap; period 1 ms. */
#define PS_SYSTICK_PERIOD (SYSCLK_HZ / 1000u)
#include "cm_systick.h"

static ps_cm_ring rx_ring;

static void uart0_rx_irq(void);

/* Moves the byte in the UART into the ring; leaves it there (QEMU then holds back the rest) when
 * the ring is full, with the RX interrupt off until ps_port_uart_read makes room. */
static void uart0_pull(void) {
  while (UART_STATE & UART_STATE_RXFULL) {
    if (ps_cm_ring_full(&rx_ring)) {
      UART_CTRL &= ~UART_CTRL_RX_INTEN;
      return;
    }
    ps_cm_ring_put(&rx_ring, (uint8_t)UART_DATA);
  }
}

static void uart0_rx_irq(void) {
  UART_INTSTATUS = UART_INT_RX; /* clear first: a byte arriving after this re-raises it */
  uart0_pull();
}

void ps_port_init(void) {
  UART_BAUDDIV = SYSCLK_HZ / UART_BAUD;
  UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN | UART_CTRL_RX_INTEN;
  PS_REG32(0xE000E100u + 4u * (UART0_RX_IRQ / 32u)) = 1u << (UART0_RX_IRQ % 32u); /* NVIC_ISERn */
  ps_systick_start();
}

bool ps_port_running(void) { return true; }

void ps_port_uart_write(const uint8_t *data, size_t len) {
  size_t i;
  for (i = 0; i < len; ++i) {
    while (UART_STATE & UART_STATE_TXFULL) {
    }
    UART_DATA = data[i];
  }
}

size_t ps_port_uart_read(uint8_t *buf, size_t cap) {
  uint32_t primask = ps_cm_irq_save();
  size_t count = ps_cm_ring_take(&rx_ring, buf, cap);
  uart0_pull(); /* a byte that waited while the ring was full */
  UART_CTRL |= UART_CTRL_RX_INTEN;
  ps_cm_irq_restore(primask);
  return count;
}

uint32_t ps_port_cycles_hz(void) { return SYSCLK_HZ; }

const char *ps_port_board_name(void) { return PS_CMSDK_BOARD_NAME; }

void ps_port_idle(void) {
  uint32_t primask = ps_cm_irq_save();
  if (rx_ring.head == rx_ring.tail) ps_cm_wfi(); /* wakes on RX or the 1 ms SysTick */
  ps_cm_irq_restore(primask);
}

#endif /* PS_CMSDK_PORT_H */
