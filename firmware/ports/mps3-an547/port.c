/*
 * mps3-an547 port: Cortex-M55 (Helium) on the Arm MPS3 board with the AN547 FPGA image, as QEMU models it
 * (`qemu-system-arm -M mps3-an547`). UART0 is the CMSDK APB UART at 0x49303000 (RX interrupt
 * IRQ 33); the cycle counter is SysTick on the 32 MHz CPU clock with a 1 ms period whose
 * interrupt extends it to 32 bits and also wakes ps_port_idle().
 */
#include "ps_port.h"
#include "../cortex-m/cm.h"

#define SYSCLK_HZ 32000000u
#define UART0_BASE 0x49303000u
#define UART0_RX_IRQ 33u
#define PS_CMSDK_BOARD_NAME "mps3-an547"
#include "../cortex-m/cmsdk_port.h"

/* Vectors 1..15, then IRQ 0..33 (33 = UART0 RX); the linker script writes vector 0, the initial
 * stack pointer. */
#define D ps_cm_default_handler
__attribute__((section(".vectors"), used)) static void (*const vector_table[15 + UART0_RX_IRQ + 1])(void) = {
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
    D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, /* IRQ 0..16 */
    D, D, D, D, D, D, D, D, D, D, D, D, D, D, D, D,    /* IRQ 17..32 */
    uart0_rx_irq,
};
#undef D
