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

/* SysTick counts down from period-1; a wrap not yet serviced shows as PENDSTSET. Interrupts masked. */
static uint32_t cycles_masked(void) {
  uint32_t current = PS_SYST_CVR;
  uint32_t base = systick_base;
  if (PS_SCB_ICSR & PS_SCB_ICSR_PENDSTSET) {
    current = PS_SYST_CVR;
    base += PS_SYSTICK_PERIOD;
  }
  return base + (PS_SYSTICK_PERIOD - 1u - current);
}

uint32_t ps_port_cycles(void) {
  uint32_t primask = ps_cm_irq_save();
  uint32_t now = cycles_masked();
  ps_cm_irq_restore(primask);
  return now;
}

/* Stopping and restarting SysTick keeps its count but restarts the tick phase at this instant
 * (QEMU's ptimer re-bases on run); up to one tick is lost, never counted twice. */
uint32_t ps_port_cycles_align(void) {
  uint32_t primask = ps_cm_irq_save();
  uint32_t now;
  PS_SYST_CSR = PS_SYST_CSR_CLKSOURCE | PS_SYST_CSR_TICKINT;
  PS_SYST_CSR = PS_SYST_CSR_RUN;
  now = cycles_masked();
  ps_cm_irq_restore(primask);
  return now;
}

#endif /* PS_CM_SYSTICK_H */
