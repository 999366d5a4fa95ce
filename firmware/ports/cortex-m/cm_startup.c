/*
 * Cortex-M startup shared by mps2-an386 (M4), nucleo-f4 (M4), mps3-an547 (M55) and microbit (M0): reset (copy .data from flash,
 * zero .bss, call main) and a HardFault handler that reports the faulting pc over the UART.
 * Thumb-1 only (runs on ARMv6-M). The linker script provides the symbols below.
 */
#include "cm.h"
#include "ps_port.h"

extern uint32_t __data_load__[];
extern uint32_t __data_start__[];
extern uint32_t __data_end__[];
extern uint32_t __bss_start__[];
extern uint32_t __bss_end__[];

extern int main(void);

void ps_cm_reset_handler(void) {
  const uint32_t *src = __data_load__;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  /* Hard-float / Helium builds (Cortex-M55): grant CP10/CP11 before any FP or MVE instruction,
   * which would otherwise take a NOCP UsageFault. */
  PS_REG32(0xE000ED88u) |= 0xFu << 20; /* CPACR */
  __asm__ volatile("dsb\n\tisb" : : : "memory");
#endif
  uint32_t *dst = __data_start__;
  while (dst < __data_end__) *dst++ = *src++;
  for (dst = __bss_start__; dst < __bss_end__; ++dst) *dst = 0u;
  (void)main();
  for (;;) ps_cm_wfi();
}

/* Hex without printf: the fault path must not depend on anything that may be broken. */
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

/** Called with the exception frame the core stacked: r0 r1 r2 r3 r12 lr pc xpsr. */
void ps_cm_fault_report(const uint32_t *frame);
void ps_cm_fault_report(const uint32_t *frame) {
  static const uint8_t head[] = "\r\nps: HARDFAULT";
  ps_port_uart_write(head, sizeof head - 1u);
  put_hex32(" pc=", frame[6]);
  put_hex32(" lr=", frame[5]);
  put_hex32(" psr=", frame[7]);
  put_hex32(" icsr=", PS_SCB_ICSR);
  ps_port_uart_write((const uint8_t *)"\r\n", 2u);
  (void)ps_cm_irq_save();
  for (;;) ps_cm_wfi();
}

/* Picks MSP or PSP by EXC_RETURN bit 2; written with Thumb-1 instructions for the M0. */
__attribute__((naked)) void ps_cm_hardfault_handler(void) {
  __asm__ volatile(
      "movs r0, #4\n\t"
      "mov r1, lr\n\t"
      "tst r0, r1\n\t"
      "beq 1f\n\t"
      "mrs r0, psp\n\t"
      "b 2f\n"
      "1:\n\t"
      "mrs r0, msp\n"
      "2:\n\t"
      "ldr r1, =ps_cm_fault_report\n\t"
      "bx r1\n\t"
      ".ltorg\n");
}

/* Unexpected interrupts report the same way as faults: they mean a vector is missing. */
void ps_cm_default_handler(void) __attribute__((alias("ps_cm_hardfault_handler")));
