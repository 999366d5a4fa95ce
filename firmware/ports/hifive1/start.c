/*
 * hifive1 startup: set gp and sp, copy .data from flash, zero .bss, install the trap vector,
 * run main(). The trap handler (port.c) reports exceptions like the Cortex-M HardFault handler.
 */
#include <stdint.h>

extern uint32_t __data_load__[];
extern uint32_t __data_start__[];
extern uint32_t __data_end__[];
extern uint32_t __bss_start__[];
extern uint32_t __bss_end__[];
extern int main(void);

void ps_rv_c_start(void);

/* gp must be set with relaxation off (it would otherwise be relaxed against itself). */
__asm__(
    ".section .text.start, \"ax\", @progbits\n"
    ".globl _start\n"
    "_start:\n"
    ".option push\n"
    ".option norelax\n"
    "  la gp, __global_pointer$\n"
    ".option pop\n"
    "  la sp, __stack_top__\n"
    "  j ps_rv_c_start\n");

void ps_rv_c_start(void) {
  const uint32_t *src = __data_load__;
  uint32_t *dst = __data_start__;
  while (dst < __data_end__) *dst++ = *src++;
  for (dst = __bss_start__; dst < __bss_end__; ++dst) *dst = 0u;
  (void)main();
  for (;;) __asm__ volatile("wfi");
}
