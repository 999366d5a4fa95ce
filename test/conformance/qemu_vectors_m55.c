/*
 * Minimal vector table for the conformance harness on the Cortex-M55 (mps3-an547) with newlib
 * semihosting: initial stack at the top of the ITCM that holds the whole image (code, data and the
 * harness's buffers; newlib's heap starts after .bss), and reset at a stub that grants the FPU/MVE
 * coprocessors (CP10/CP11) before newlib's _start, since the hard-float build uses them.
 */
#include <stdint.h>

extern void _start(void);

/** CPACR: grant CP10/CP11, then newlib's start-up. */
__attribute__((naked)) static void reset(void)
{
    __asm__ volatile("ldr r0, =0xE000ED88\n\t"
                     "ldr r1, [r0]\n\t"
                     "orr r1, r1, #(0xF << 20)\n\t"
                     "str r1, [r0]\n\t"
                     "dsb\n\t"
                     "isb\n\t"
                     "b _start\n\t"
                     ".ltorg\n");
}

/** Initial SP, reset handler. */
__attribute__((section(".vectors"), used)) const uint32_t ps_qemu_vectors_m55[2] = { 0x00080000u, (uint32_t)&reset };
