/*
 * The 32-bit cycle counter of the Cortex-M ports: SysTick on the core clock, PS_SYSTICK_PERIOD ticks
 * a period (1 ms), whose wrap interrupt (systick_irq, named in the port's vector table) extends it to
 * 32 bits and wakes ps_port_idle(). A port includes cm.h, defines PS_SYSTICK_PERIOD (a constant, or a
 * variable it sets before ps_systick_start), includes this once, and calls ps_systick_start() from
 * ps_port_init(); this file defines ps_port_cycles() and ps_port_cycles_align().
 */
#ifndef PS_CM_SYSTICK_H
#define PS_CM_SYSTICK_H

#ifndef PS_SYSTICK_PERIOD
#error "define PS_SYSTICK_PERIOD (SysTick ticks per 1 ms period) before including cm_systick.h"
#endif

#include "cm.h"
#include "ps_port.h"

#define PS_SYST_CSR_ENABLE (1u << 0)
#define PS_SYST_CSR_TICKINT (1u << 1)
#define PS_SYST_CSR_CLKSOURCE (1u << 2)
#define PS_SYST_CSR_RUN (PS_SYST_CSR_CLKSOURCE | PS_SYST_CSR_TICKINT | PS_SYST_CSR_ENABLE)

/* Ticks of all SysTick periods completed so far (plus what ps_port_cycles_align kept). */
static volatile uint32_t systick_base;

/* The wrap interrupt: one more period completed. */
static void systick_irq(void) { systick_base += PS_SYSTICK_PERIOD; }

/* Starts SysTick on the core clock with the wrap interrupt. */
static void ps_systick_start(void) {
  PS_SYST_RVR = PS_SYSTICK_PERIOD - 1u;
  PS_SYST_CVR = 0u;
  PS_SYST_CSR = PS_SYST_CSR_RUN;
}

/* A period is PS_SYSTICK_PERIOD ticks and starts when the counter reaches 0, the tick the wrap
 * pends on (the Cortex-M and QEMU both pend it on the 1 -> 0 step); the next tick reloads
 * PERIOD-1. So the counter reads 0, PERIOD-1, ..., 1 at 0, 1, ..., PERIOD-1 ticks into a period.
 * Counting the 0 as the end of the period instead read one period too far whenever a read fell on
 * that tick: a step's cost came out one period long, or, on the tick of an align, 2^32 short. */
static uint32_t ticks_into_period(uint32_t current) { return current == 0u ? 0u : PS_SYSTICK_PERIOD - current; }

/* The count with interrupts masked: a wrap not yet serviced shows as PENDSTSET. */
static uint32_t cycles_masked(void) {
  uint32_t current = PS_SYST_CVR;
  uint32_t base = systick_base;
  if (PS_SCB_ICSR & PS_SCB_ICSR_PENDSTSET) {
    current = PS_SYST_CVR; /* the first read may predate the wrap */
    base += PS_SYSTICK_PERIOD;
  }
  return base + ticks_into_period(current);
}

uint32_t ps_port_cycles(void) {
  uint32_t primask = ps_cm_irq_save();
  uint32_t now = cycles_masked();
  ps_cm_irq_restore(primask);
  return now;
}

/* Starts a fresh period at this instant, so the next wrap interrupt comes a whole period (1 ms)
 * after the align: a step shorter than that is never interrupted by it, and a longer one at the
 * same points every time. Stopping SysTick, clearing the counter and restarting it re-bases QEMU's
 * timer on this instant too; the count carries on from what was read (the part of a tick already
 * gone is dropped, never counted twice). */
uint32_t ps_port_cycles_align(void) {
  uint32_t primask = ps_cm_irq_save();
  uint32_t now = cycles_masked();
  PS_SYST_CSR = PS_SYST_CSR_CLKSOURCE | PS_SYST_CSR_TICKINT;
  PS_SYST_CVR = 0u;
  PS_SCB_ICSR = PS_SCB_ICSR_PENDSTCLR; /* a wrap it showed is in `now` already */
  systick_base = now;
  PS_SYST_CSR = PS_SYST_CSR_RUN;
  ps_cm_irq_restore(primask);
  return now;
}

#endif /* PS_CM_SYSTICK_H */
