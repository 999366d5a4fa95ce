/*
 * microbit port: Cortex-M0 nRF51822 (16 KiB RAM, 256 KiB flash) as QEMU models it
 * (`qemu-system-arm -M microbit`). The UART is the nRF51 UART at 0x40002000 (IRQ 2; pins 24/25
 * as on the micro:bit's interface chip); the cycle counter is TIMER0 in 32-bit mode at 16 MHz.
 * The nRF51's M0 has no SysTick, so TIMER0's compare channel 0 gives the 1 ms wake-up instead.
 */
#include "ps_port.h"
#include "../cortex-m/cm.h"

#define TIMER_HZ 16000000u
#define WAKE_TICKS (TIMER_HZ / 1000u)

/* nRF51 UART0 registers (tasks, events, configuration). */
#define UART_BASE 0x40002000u
#define UART_TASKS_STARTRX PS_REG32(UART_BASE + 0x000u)
#define UART_TASKS_STARTTX PS_REG32(UART_BASE + 0x008u)
#define UART_EVENTS_RXDRDY PS_REG32(UART_BASE + 0x108u)
#define UART_EVENTS_TXDRDY PS_REG32(UART_BASE + 0x11Cu)
#define UART_INTENSET PS_REG32(UART_BASE + 0x304u)
#define UART_INTENCLR PS_REG32(UART_BASE + 0x308u)
#define UART_ENABLE PS_REG32(UART_BASE + 0x500u)
#define UART_PSELTXD PS_REG32(UART_BASE + 0x50Cu)
#define UART_PSELRXD PS_REG32(UART_BASE + 0x514u)
#define UART_RXD PS_REG32(UART_BASE + 0x518u)
#define UART_TXD PS_REG32(UART_BASE + 0x51Cu)
#define UART_BAUDRATE PS_REG32(UART_BASE + 0x524u)
#define UART_INT_RXDRDY (1u << 2)
#define UART_ENABLE_ON 4u
#define UART_BAUD_115200 0x01D7E000u
#define UART_PIN_TX 24u
#define UART_PIN_RX 25u
#define UART_IRQ 2u

/* nRF51 TIMER0. */
#define TIMER0_BASE 0x40008000u
#define TIMER0_TASKS_START PS_REG32(TIMER0_BASE + 0x000u)
#define TIMER0_TASKS_CLEAR PS_REG32(TIMER0_BASE + 0x00Cu)
#define TIMER0_TASKS_CAPTURE3 PS_REG32(TIMER0_BASE + 0x04Cu)
#define TIMER0_EVENTS_COMPARE0 PS_REG32(TIMER0_BASE + 0x140u)
#define TIMER0_INTENSET PS_REG32(TIMER0_BASE + 0x304u)
#define TIMER0_MODE PS_REG32(TIMER0_BASE + 0x504u)
#define TIMER0_BITMODE PS_REG32(TIMER0_BASE + 0x508u)
#define TIMER0_PRESCALER PS_REG32(TIMER0_BASE + 0x510u)
#define TIMER0_CC0 PS_REG32(TIMER0_BASE + 0x540u)
#define TIMER0_CC3 PS_REG32(TIMER0_BASE + 0x54Cu)
#define TIMER_INT_COMPARE0 (1u << 16)
#define TIMER_BITMODE_32 3u
#define TIMER0_IRQ 8u

static ps_cm_ring rx_ring;
/* Ticks kept from before the last ps_port_cycles_align (which clears TIMER0). */
static uint32_t cycles_base;

static void uart_irq(void);
static void timer0_irq(void);

/* Vectors 1..15, then IRQ 0..8 (UART = 2, TIMER0 = 8); the linker script writes vector 0. */
__attribute__((section(".vectors"), used)) static void (*const vector_table[15 + 9])(void) = {
    ps_cm_reset_handler,
    ps_cm_default_handler, /* NMI */
    ps_cm_hardfault_handler,
    0, 0, 0, 0, 0, 0, 0,
    ps_cm_default_handler, /* SVCall */
    0, 0,
    ps_cm_default_handler, /* PendSV */
    ps_cm_default_handler, /* SysTick: absent on nRF51 */
    ps_cm_default_handler, /* POWER_CLOCK */
    ps_cm_default_handler, /* RADIO */
    uart_irq,
    ps_cm_default_handler, /* SPI0_TWI0 */
    ps_cm_default_handler, /* SPI1_TWI1 */
    ps_cm_default_handler, /* (reserved) */
    ps_cm_default_handler, /* GPIOTE */
    ps_cm_default_handler, /* ADC */
    timer0_irq,
};

/* Takes bytes from the UART's receive FIFO into the ring; when the ring is full the interrupt is
 * switched off and the bytes stay in the FIFO (QEMU then holds back the rest). The event is
 * cleared before RXD is read, as the reference manual requires. */
static void uart_pull(void) {
  while (UART_EVENTS_RXDRDY != 0u) {
    if (ps_cm_ring_full(&rx_ring)) {
      UART_INTENCLR = UART_INT_RXDRDY;
      return;
    }
    UART_EVENTS_RXDRDY = 0u;
    ps_cm_ring_put(&rx_ring, (uint8_t)UART_RXD);
  }
}

static void uart_irq(void) { uart_pull(); }

static void timer0_irq(void) {
  TIMER0_EVENTS_COMPARE0 = 0u;
  TIMER0_CC0 = TIMER0_CC0 + WAKE_TICKS;
}

void ps_port_init(void) {
  UART_PSELTXD = UART_PIN_TX;
  UART_PSELRXD = UART_PIN_RX;
  UART_BAUDRATE = UART_BAUD_115200;
  UART_ENABLE = UART_ENABLE_ON;
  UART_TASKS_STARTTX = 1u;
  UART_TASKS_STARTRX = 1u;
  UART_INTENSET = UART_INT_RXDRDY;
  TIMER0_MODE = 0u;
  TIMER0_BITMODE = TIMER_BITMODE_32;
  TIMER0_PRESCALER = 0u;
  TIMER0_CC0 = WAKE_TICKS;
  TIMER0_INTENSET = TIMER_INT_COMPARE0;
  TIMER0_TASKS_CLEAR = 1u;
  TIMER0_TASKS_START = 1u;
  PS_NVIC_ISER = (1u << UART_IRQ) | (1u << TIMER0_IRQ);
}

bool ps_port_running(void) { return true; }

void ps_port_uart_write(const uint8_t *data, size_t len) {
  size_t i;
  for (i = 0; i < len; ++i) {
    UART_EVENTS_TXDRDY = 0u;
    UART_TXD = data[i];
    while (UART_EVENTS_TXDRDY == 0u) {
    }
  }
}

size_t ps_port_uart_read(uint8_t *buf, size_t cap) {
  uint32_t primask = ps_cm_irq_save();
  size_t count = ps_cm_ring_take(&rx_ring, buf, cap);
  uart_pull(); /* bytes that waited in the FIFO while the ring was full */
  if (!ps_cm_ring_full(&rx_ring)) UART_INTENSET = UART_INT_RXDRDY;
  ps_cm_irq_restore(primask);
  return count;
}

/* CAPTURE copies the running count into CC[3] (channel 3 is reserved for this). */
static uint32_t timer0_now(void) {
  TIMER0_TASKS_CAPTURE3 = 1u;
  return TIMER0_CC3;
}

uint32_t ps_port_cycles(void) {
  uint32_t primask = ps_cm_irq_save();
  uint32_t now = cycles_base + timer0_now();
  ps_cm_irq_restore(primask);
  return now;
}

/* CLEAR restarts TIMER0 at 0 with its tick phase at this instant; the ticks so far are kept in
 * cycles_base (the fraction of a tick in progress is lost), and the wake-up compare restarts. */
uint32_t ps_port_cycles_align(void) {
  uint32_t primask = ps_cm_irq_save();
  uint32_t now;
  cycles_base += timer0_now();
  TIMER0_TASKS_CLEAR = 1u;
  TIMER0_EVENTS_COMPARE0 = 0u;
  TIMER0_CC0 = WAKE_TICKS;
  now = cycles_base + timer0_now();
  ps_cm_irq_restore(primask);
  return now;
}

uint32_t ps_port_cycles_hz(void) { return TIMER_HZ; }

const char *ps_port_board_name(void) { return "microbit"; }

void ps_port_idle(void) {
  uint32_t primask = ps_cm_irq_save();
  if (rx_ring.head == rx_ring.tail) ps_cm_wfi(); /* wakes on RX or the 1 ms compare */
  ps_cm_irq_restore(primask);
}
