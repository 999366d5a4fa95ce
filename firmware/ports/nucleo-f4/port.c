/*
 * nucleo-f4 port: STM32F401/F411/F446 Nucleo-64 boards (Cortex-M4F) and QEMU's netduinoplus2
 * (STM32F405), one image for both. The serial port is USART2 on PA2/PA3 (AF7), the ST-Link's
 * virtual COM port on Nucleo-64; QEMU connects it with `-serial null -serial pty` (the -serial
 * options map in order to USART1, USART2, ...). RX by interrupt (IRQ 38); TX polls TXE.
 *
 * The chip runs from its reset clock (HSI, 16 MHz): nothing waits on a clock or PLL ready flag.
 * QEMU models neither RCC nor GPIO (they read 0 and ignore writes), so the clock-enable and
 * pin-mux writes below are harmless there, and RCC_CR tells the two apart: the real part resets
 * with HSION|HSIRDY set, the model reads 0. SysTick runs on the core clock: 16 MHz on the part,
 * a fixed 168 MHz in the model; ps_port_cycles_hz() reports whichever is running.
 */
#include "ps_port.h"
#include "../cortex-m/cm.h"

#define HSI_HZ 16000000u
#define QEMU_SYSCLK_HZ 168000000u
#define UART_BAUD 115200u

/* RCC: clock enables for GPIOA (AHB1) and USART2 (APB1); RCC_CR tells silicon from the model. */
#define RCC_BASE 0x40023800u
#define RCC_CR PS_REG32(RCC_BASE + 0x00u)
#define RCC_AHB1ENR PS_REG32(RCC_BASE + 0x30u)
#define RCC_APB1ENR PS_REG32(RCC_BASE + 0x40u)
#define RCC_CR_HSIRDY (1u << 1)
#define RCC_AHB1ENR_GPIOAEN (1u << 0)
#define RCC_APB1ENR_USART2EN (1u << 17)

/* GPIOA: PA2 (TX) and PA3 (RX) in alternate-function mode 7 (USART2). */
#define GPIOA_BASE 0x40020000u
#define GPIOA_MODER PS_REG32(GPIOA_BASE + 0x00u)
#define GPIOA_PUPDR PS_REG32(GPIOA_BASE + 0x0Cu)
#define GPIOA_AFRL PS_REG32(GPIOA_BASE + 0x20u)

/* USART2 (STM32F4 USART v1 register layout). */
#define USART2_BASE 0x40004400u
#define USART_SR PS_REG32(USART2_BASE + 0x00u)
#define USART_DR PS_REG32(USART2_BASE + 0x04u)
#define USART_BRR PS_REG32(USART2_BASE + 0x08u)
#define USART_CR1 PS_REG32(USART2_BASE + 0x0Cu)
#define USART_SR_ORE (1u << 3)
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_UE (1u << 13)
#define USART2_IRQ 38u
/* 16 MHz / (16 * 115200) = 8.68: mantissa 8, fraction 11/16 -> 0x8B (115108 baud, -0.08 %). */
#define USART_BRR_115200_AT_16MHZ 0x8Bu

/** Bound on polling the transmitter: a wedged USART loses bytes instead of hanging the board. */
#define TX_WAIT_LIMIT 100000u

static ps_cm_ring rx_ring;
static uint32_t core_hz = HSI_HZ;
static uint32_t systick_period = HSI_HZ / 1000u;

/* SysTick: core clock, interrupt on wrap; period 1 ms at whichever clock runs. */
#define PS_SYSTICK_PERIOD systick_period
#include "../cortex-m/cm_systick.h"

static void usart2_irq(void);

/* Vectors 1..15, then IRQ 0..38 (USART2 = 38); the linker script writes vector 0. */
#define VECTOR_COUNT (15 + USART2_IRQ + 1)
#define D ps_cm_default_handler
__attribute__((section(".vectors"), used)) static void (*const vector_table[VECTOR_COUNT])(void) = {
    ps_cm_reset_handler,
    D, /* NMI */
    ps_cm_hardfault_handler,
    ps_cm_hardfault_handler, /* MemManage */
    ps_cm_hardfault_handler, /* BusFault */
    ps_cm_hardfault_handler, /* UsageFault */
    0, 0, 0, 0,
    D, /* SVCall */
    D, /* DebugMonitor */
    0,
    D, /* PendSV */
    systick_irq,
    /* IRQ 0..37: WWDG .. SPI2, none enabled */
    D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D,
    D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D,
    usart2_irq,
};
#undef D

/* USART2's line in the NVIC. The interrupt is switched off here, not by clearing RXNEIE: QEMU's
 * model (7.2) lowers the line only when DR is read, so with RXNEIE clear and a byte waiting the
 * handler would be re-entered forever and the main loop never run again. */
#define NVIC_USART2_WORD (USART2_IRQ / 32u)
#define NVIC_USART2_BIT (1u << (USART2_IRQ % 32u))
#define NVIC_ISER_USART2 PS_REG32(0xE000E100u + 4u * NVIC_USART2_WORD)
#define NVIC_ICER_USART2 PS_REG32(0xE000E180u + 4u * NVIC_USART2_WORD)

/* Moves received bytes into the ring. USART2 holds one byte (RXNE); when the ring is full the
 * interrupt goes off and the byte stays, so QEMU holds back the rest and a real part's sender sees
 * an overrun only if the runtime stops reading for over a byte time while the ring is full. */
static void usart2_pull(void) {
  uint32_t sr;
  while (((sr = USART_SR) & (USART_SR_RXNE | USART_SR_ORE)) != 0u) {
    if ((sr & USART_SR_RXNE) == 0u) {
      (void)USART_DR; /* overrun without data: SR then DR clears ORE */
      continue;
    }
    if (ps_cm_ring_full(&rx_ring)) {
      NVIC_ICER_USART2 = NVIC_USART2_BIT;
      return;
    }
    ps_cm_ring_put(&rx_ring, (uint8_t)USART_DR);
  }
}

static void usart2_irq(void) { usart2_pull(); }

/** True on real silicon: HSIRDY is set from reset there; QEMU's unmodelled RCC reads 0. */
static int on_silicon(void) { return (RCC_CR & RCC_CR_HSIRDY) != 0u; }

void ps_port_init(void) {
  core_hz = on_silicon() ? HSI_HZ : QEMU_SYSCLK_HZ;
  systick_period = core_hz / 1000u;
  RCC_AHB1ENR |= RCC_AHB1ENR_GPIOAEN;
  RCC_APB1ENR |= RCC_APB1ENR_USART2EN;
  (void)RCC_APB1ENR; /* read back: the enable takes effect before the peripheral is touched */
  GPIOA_MODER = (GPIOA_MODER & ~(0xFu << 4)) | (0xAu << 4);  /* PA2, PA3: alternate function */
  GPIOA_PUPDR = (GPIOA_PUPDR & ~(0xFu << 4)) | (0x4u << 4);  /* pull-up on RX (PA3) */
  GPIOA_AFRL = (GPIOA_AFRL & ~(0xFFu << 8)) | (0x77u << 8);  /* AF7 = USART2 */
  USART_BRR = USART_BRR_115200_AT_16MHZ;
  USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE | USART_CR1_RXNEIE;
  NVIC_ISER_USART2 = NVIC_USART2_BIT;
  ps_systick_start();
}

bool ps_port_running(void) { return true; }

void ps_port_uart_write(const uint8_t *data, size_t len) {
  size_t i;
  for (i = 0; i < len; ++i) {
    uint32_t wait = 0;
    while ((USART_SR & USART_SR_TXE) == 0u && wait < TX_WAIT_LIMIT) ++wait;
    USART_DR = data[i];
  }
}

size_t ps_port_uart_read(uint8_t *buf, size_t cap) {
  uint32_t primask = ps_cm_irq_save();
  size_t count = ps_cm_ring_take(&rx_ring, buf, cap);
  usart2_pull(); /* a byte that waited while the ring was full */
  if (!ps_cm_ring_full(&rx_ring)) NVIC_ISER_USART2 = NVIC_USART2_BIT;
  ps_cm_irq_restore(primask);
  return count;
}

uint32_t ps_port_cycles_hz(void) { return core_hz; }

/* On the part a SysTick tick is a core cycle. In the model, under -icount shift=0, a tick of the
 * 168 MHz SysTick is 1e9 / 168e6 = 125/21 instructions. */
uint8_t ps_port_cost_unit(void) { return core_hz == HSI_HZ ? PS_PORT_COST_CYCLES : PS_PORT_COST_INSTRUCTIONS; }

uint32_t ps_port_cost_mul(void) { return core_hz == HSI_HZ ? 1u : 125u; }

uint32_t ps_port_cost_div(void) { return core_hz == HSI_HZ ? 1u : 21u; }

const char *ps_port_board_name(void) { return "nucleo-f4"; }

void ps_port_idle(void) {
  uint32_t primask = ps_cm_irq_save();
  if (rx_ring.head == rx_ring.tail) ps_cm_wfi(); /* wakes on RX or the 1 ms SysTick */
  ps_cm_irq_restore(primask);
}
