/*
 * hifive1 port: SiFive FE310 (RV32IMAC) on the HiFive1 board, and QEMU's sifive_e model of it
 * (`qemu-system-riscv32 -M sifive_e`), one image for both. UART0 at 0x10013000 receives by the
 * PLIC's interrupt (source 3) into a 256-byte ring; TX polls the FIFO-full flag. The cost
 * counter is mcycle: under QEMU with `-icount shift=0` it counts virtual nanoseconds, one per
 * instruction; on the chip it counts core cycles. The CLINT timer gives the ~1 ms idle wake-up.
 * Portable C and RISC-V CSRs only: nothing here is Arm.
 *
 * Silicon and model are told apart by mvendorid (SiFive's JEDEC id 0x489 on the chip, 0 in
 * QEMU). On the chip the core is switched to the 16 MHz crystal (HFXOSC, PLL bypassed) so the
 * UART divisor and the counter rate are known whatever the bootloader left; that wait is bounded.
 */
#include "ps_port.h"

#define PS_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define SIFIVE_MVENDORID 0x489u
#define HFXOSC_HZ 16000000u
#define QEMU_COUNTER_HZ 1000000000u /* mcycle under -icount shift=0: virtual ns */
#define QEMU_MTIME_HZ 10000000u     /* QEMU's CLINT timebase */
#define CHIP_MTIME_HZ 32768u        /* the FE310's real-time clock */
#define UART_BAUD 115200u

/* PRCI: clock sources. */
#define PRCI_BASE 0x10008000u
#define PRCI_HFXOSCCFG PS_REG32(PRCI_BASE + 0x04u)
#define PRCI_PLLCFG PS_REG32(PRCI_BASE + 0x08u)
#define PRCI_PLLOUTDIV PS_REG32(PRCI_BASE + 0x0Cu)
#define HFXOSC_EN (1u << 30)
#define HFXOSC_RDY (1u << 31)
#define PLL_SEL (1u << 16)
#define PLL_REFSEL (1u << 17)
#define PLL_BYPASS (1u << 18)
#define PLLOUT_DIV_BY_1 (1u << 8)
#define CLOCK_WAIT_LIMIT 1000000u

/* GPIO: UART0 pins (GPIO 16 RX, 17 TX) to their IOF0 function. */
#define GPIO_BASE 0x10012000u
#define GPIO_IOF_EN PS_REG32(GPIO_BASE + 0x38u)
#define GPIO_IOF_SEL PS_REG32(GPIO_BASE + 0x3Cu)
#define UART0_PINS ((1u << 16) | (1u << 17))

/* UART0. */
#define UART0_BASE 0x10013000u
#define UART_TXDATA PS_REG32(UART0_BASE + 0x00u)
#define UART_RXDATA PS_REG32(UART0_BASE + 0x04u)
#define UART_TXCTRL PS_REG32(UART0_BASE + 0x08u)
#define UART_RXCTRL PS_REG32(UART0_BASE + 0x0Cu)
#define UART_IE PS_REG32(UART0_BASE + 0x10u)
#define UART_DIV PS_REG32(UART0_BASE + 0x18u)
#define UART_TX_FULL (1u << 31)
#define UART_RX_EMPTY (1u << 31)
#define UART_TXEN 1u
#define UART_RXEN 1u
#define UART_IE_RXWM (1u << 1) /* raised while the RX FIFO holds more than rxcnt (0) bytes */
#define TX_WAIT_LIMIT 1000000u

/* PLIC (hart 0, machine mode) and CLINT. */
#define PLIC_PRIORITY(n) PS_REG32(0x0C000000u + 4u * (n))
#define PLIC_ENABLE0 PS_REG32(0x0C002000u)
#define PLIC_THRESHOLD PS_REG32(0x0C200000u)
#define PLIC_CLAIM PS_REG32(0x0C200004u)
#define PLIC_SRC_UART0 3u
#define CLINT_MTIMECMP_LO PS_REG32(0x02004000u)
#define CLINT_MTIMECMP_HI PS_REG32(0x02004004u)
#define CLINT_MTIME_LO PS_REG32(0x0200BFF8u)
#define CLINT_MTIME_HI PS_REG32(0x0200BFFCu)

#define MSTATUS_MIE (1u << 3)
#define MIE_MTIE (1u << 7)
#define MIE_MEIE (1u << 11)
#define MCAUSE_INTERRUPT (1u << 31)
#define IRQ_M_TIMER 7u
#define IRQ_M_EXT 11u

#define csr_read(name) __extension__({ uint32_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define csr_write(name, value) __asm__ volatile("csrw " #name ", %0" : : "r"(value) : "memory")
#define csr_set(name, bits) __asm__ volatile("csrs " #name ", %0" : : "r"(bits) : "memory")
#define csr_clear(name, bits) __asm__ volatile("csrc " #name ", %0" : : "r"(bits) : "memory")

/* Receive ring, filled by the UART interrupt (head) and emptied by ps_port_uart_read (tail). */
#define RX_RING_SIZE 256u
static volatile uint8_t rx_bytes[RX_RING_SIZE];
static volatile uint32_t rx_head;
static volatile uint32_t rx_tail;

static int silicon;
static uint32_t counter_hz = QEMU_COUNTER_HZ;
static uint32_t mtime_hz = QEMU_MTIME_HZ;

static uint32_t irq_save(void) {
  uint32_t old;
  __asm__ volatile("csrrci %0, mstatus, 8" : "=r"(old) : : "memory");
  return old & MSTATUS_MIE;
}

static void irq_restore(uint32_t old) {
  if (old != 0u) csr_set(mstatus, MSTATUS_MIE);
}

/* Takes bytes from the RX FIFO into the ring; with the ring full the interrupt goes off and the
 * bytes stay in the FIFO (QEMU then holds back the rest). */
static void uart_pull(void) {
  while (rx_head - rx_tail < RX_RING_SIZE) {
    uint32_t word = UART_RXDATA;
    if ((word & UART_RX_EMPTY) != 0u) return;
    rx_bytes[rx_head % RX_RING_SIZE] = (uint8_t)word;
    rx_head = rx_head + 1u;
  }
  UART_IE = 0u;
}

static void put_hex32(const char *label, uint32_t value) {
  static const char digits[] = "0123456789abcdef";
  uint8_t text[20];
  size_t n = 0;
  int shift;
  while (label[n] != '\0' && n < 8u) {
    text[n] = (uint8_t)label[n];
    ++n;
  }
  for (shift = 28; shift >= 0; shift -= 4) text[n++] = (uint8_t)digits[(value >> (unsigned)shift) & 0xFu];
  ps_port_uart_write(text, n);
}

/* An exception means a bug: report where, as the Cortex-M ports do, and halt. */
static void fault_report(uint32_t mcause) {
  static const uint8_t head[] = "\r\nps: TRAP";
  ps_port_uart_write(head, sizeof head - 1u);
  put_hex32(" mcause=", mcause);
  put_hex32(" mepc=", csr_read(mepc));
  put_hex32(" mtval=", csr_read(mtval));
  ps_port_uart_write((const uint8_t *)"\r\n", 2u);
  csr_clear(mstatus, MSTATUS_MIE);
  for (;;) __asm__ volatile("wfi");
}

void ps_rv_trap(void) __attribute__((interrupt("machine"), aligned(4)));
void ps_rv_trap(void) {
  uint32_t mcause = csr_read(mcause);
  if ((mcause & MCAUSE_INTERRUPT) == 0u) fault_report(mcause);
  if ((mcause & 0xFFu) == IRQ_M_EXT) {
    uint32_t source = PLIC_CLAIM;
    if (source == PLIC_SRC_UART0) uart_pull();
    PLIC_CLAIM = source; /* complete */
  } else if ((mcause & 0xFFu) == IRQ_M_TIMER) {
    csr_clear(mie, MIE_MTIE); /* one-shot: ps_port_idle re-arms it */
  } else {
    fault_report(mcause);
  }
}

/* On the chip: run from the 16 MHz crystal with the PLL bypassed (bounded wait for it). */
static void clock_to_crystal(void) {
  uint32_t wait = 0;
  PRCI_HFXOSCCFG = HFXOSC_EN;
  while ((PRCI_HFXOSCCFG & HFXOSC_RDY) == 0u && wait < CLOCK_WAIT_LIMIT) ++wait;
  PRCI_PLLCFG = PRCI_PLLCFG | PLL_REFSEL | PLL_BYPASS;
  PRCI_PLLOUTDIV = PLLOUT_DIV_BY_1;
  PRCI_PLLCFG = PRCI_PLLCFG | PLL_SEL;
}

void ps_port_init(void) {
  silicon = csr_read(mvendorid) == SIFIVE_MVENDORID;
  if (silicon) {
    clock_to_crystal();
    counter_hz = HFXOSC_HZ;
    mtime_hz = CHIP_MTIME_HZ;
  }
  csr_write(mtvec, (uint32_t)(uintptr_t)&ps_rv_trap);
  GPIO_IOF_SEL &= ~UART0_PINS;
  GPIO_IOF_EN |= UART0_PINS;
  UART_DIV = HFXOSC_HZ / UART_BAUD - 1u; /* 138: 115108 baud; QEMU ignores the divisor */
  UART_TXCTRL = UART_TXEN;
  UART_RXCTRL = UART_RXEN;
  UART_IE = UART_IE_RXWM;
  PLIC_PRIORITY(PLIC_SRC_UART0) = 1u;
  PLIC_THRESHOLD = 0u;
  PLIC_ENABLE0 = 1u << PLIC_SRC_UART0;
  csr_set(mie, MIE_MEIE);
  csr_set(mstatus, MSTATUS_MIE);
}

bool ps_port_running(void) { return true; }

void ps_port_uart_write(const uint8_t *data, size_t len) {
  size_t i;
  for (i = 0; i < len; ++i) {
    uint32_t wait = 0;
    while ((UART_TXDATA & UART_TX_FULL) != 0u && wait < TX_WAIT_LIMIT) ++wait;
    UART_TXDATA = data[i];
  }
}

size_t ps_port_uart_read(uint8_t *buf, size_t cap) {
  uint32_t old = irq_save();
  size_t count = 0;
  while (count < cap && rx_tail != rx_head) {
    buf[count++] = rx_bytes[rx_tail % RX_RING_SIZE];
    rx_tail = rx_tail + 1u;
  }
  uart_pull(); /* bytes that waited in the FIFO while the ring was full */
  if (rx_head - rx_tail < RX_RING_SIZE) UART_IE = UART_IE_RXWM;
  irq_restore(old);
  return count;
}

/* mcycle's low word wraps modulo 2^32 as the contract asks. Under -icount it is exact per
 * instruction already, so aligning has nothing to re-phase. */
uint32_t ps_port_cycles(void) { return csr_read(mcycle); }

uint32_t ps_port_cycles_align(void) { return csr_read(mcycle); }

uint32_t ps_port_cycles_hz(void) { return counter_hz; }

uint8_t ps_port_cost_unit(void) { return silicon ? PS_PORT_COST_CYCLES : PS_PORT_COST_INSTRUCTIONS; }

uint32_t ps_port_cost_mul(void) { return 1u; }

uint32_t ps_port_cost_div(void) { return 1u; }

const char *ps_port_board_name(void) { return "hifive1"; }

/* Sleeps until a byte arrives or the CLINT timer fires about 1 ms from now. WFI wakes on a
 * pending enabled interrupt even with mstatus.MIE clear, so the check-then-sleep is race-free. */
static uint64_t mtime_now(void) {
  uint32_t hi;
  uint32_t lo;
  do {
    hi = CLINT_MTIME_HI;
    lo = CLINT_MTIME_LO;
  } while (hi != CLINT_MTIME_HI);
  return ((uint64_t)hi << 32) | lo;
}

void ps_port_idle(void) {
  uint32_t old = irq_save();
  if (rx_head == rx_tail) {
    uint64_t due = mtime_now() + mtime_hz / 1000u + 1u;
    CLINT_MTIMECMP_HI = 0xFFFFFFFFu; /* no early match while the low word changes */
    CLINT_MTIMECMP_LO = (uint32_t)due;
    CLINT_MTIMECMP_HI = (uint32_t)(due >> 32);
    csr_set(mie, MIE_MTIE);
    __asm__ volatile("wfi");
    csr_clear(mie, MIE_MTIE);
  }
  irq_restore(old);
}
