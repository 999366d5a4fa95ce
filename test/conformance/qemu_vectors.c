/*
 * Minimal Cortex-M vector table for running the conformance harness under QEMU (mps2-an386) with
 * newlib semihosting (--specs=rdimon.specs): initial stack at the top of SSRAM2/3 and reset at
 * newlib's _start, which sets up the C library and calls main. Linked at address 0.
 */
#include <stdint.h>

extern void _start(void);

/** Initial SP, reset handler. */
__attribute__((section(".vectors"), used)) const uint32_t ps_qemu_vectors[2] = { 0x20400000u, (uint32_t)&_start };
