/*
 * mps2-an386 port: Cortex-M4 on the Arm MPS2 board with the AN386 FPGA image, as QEMU models it
 * (`qemu-system-arm -M mps2-an386`). UART0 is the CMSDK APB UART at 0x40004000 (RX interrupt
 * IRQ 0); the cycle counter is SysTick on the 25 MHz CPU clock with a 1 ms period whose
 * interrupt extends it to 32 bits and also wakes ps_port_idle().
 */
#include "ps_port.h"
#include "../cortex-m/cm.h"

#define SYSCLK_HZ 25000000u
#define UART0_BASE 0x40004000u
#define UART0_RX_IRQ 0u
#define PS_CMSDK_BOARD_NAME "mps2-an386"
#include "../cortex-m/cmsdk_port.h"

/* Vectors 1..15, then the external interrupts this port uses (IRQ 0 = UART0 RX); the linker
 * script writes vector 0, the initial stack pointer. */
__attribute__((section(".vectors"), used)) static void (*const vector_table[15 + 1])(void) = {
    ps_cm_reset_handler,
    ps_cm_default_handler, /* NMI */
    ps_cm_hardfault_handler,
    ps_cm_hardfault_handler, /* MemManage */
    ps_cm_hardfault_handler, /* BusFault */
    ps_cm_hardfault_handler, /* UsageFault */
    0, 0, 0, 0,
    ps_cm_default_handler, /* SVCall */
    ps_cm_default_handler, /* DebugMonitor */
    0,
    ps_cm_default_handler, /* PendSV */
    systick_irq,
    uart0_rx_irq,
};
