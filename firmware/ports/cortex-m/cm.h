/*
 * Shared pieces of the Cortex-M ports: core registers, interrupt masking, the receive ring
 * buffer filled by the UART interrupt, and the startup/fault entry points in cm_startup.c.
 */
#ifndef PS_CM_H
#define PS_CM_H

#include <stddef.h>
#include <stdint.h>

#define PS_REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* System Control Block and NVIC (ARMv6-M and ARMv7-M share these addresses). */
#define PS_SCB_ICSR PS_REG32(0xE000ED04u)
#define PS_SCB_ICSR_PENDSTSET (1u << 26)
#define PS_SCB_ICSR_PENDSTCLR (1u << 25)
#define PS_NVIC_ISER PS_REG32(0xE000E100u)
#define PS_SYST_CSR PS_REG32(0xE000E010u)
#define PS_SYST_RVR PS_REG32(0xE000E014u)
#define PS_SYST_CVR PS_REG32(0xE000E018u)

/** Masks interrupts and returns the previous PRIMASK, for ps_cm_irq_restore(). */
static inline uint32_t ps_cm_irq_save(void) {
  uint32_t primask;
  __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
  return primask;
}

/** Restores PRIMASK saved by ps_cm_irq_save(). */
static inline void ps_cm_irq_restore(uint32_t primask) {
  __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
}

/** Sleeps until an interrupt is pending (it wakes even while PRIMASK masks it). */
static inline void ps_cm_wfi(void) { __asm__ volatile("wfi" : : : "memory"); }

/** Receive ring size in bytes (a power of two); the UART interrupt fills it. */
#ifndef PS_CM_RX_RING_SIZE
#define PS_CM_RX_RING_SIZE 256u
#endif

/** The receive ring: written by the interrupt (head), read by the main loop (tail). */
typedef struct {
  volatile uint8_t bytes[PS_CM_RX_RING_SIZE];
  volatile uint32_t head;
  volatile uint32_t tail;
} ps_cm_ring;

/** True when the ring has no room for another byte. */
static inline int ps_cm_ring_full(const ps_cm_ring *ring) {
  return ring->head - ring->tail >= PS_CM_RX_RING_SIZE;
}

/** Appends one byte; the caller checked ps_cm_ring_full(). */
static inline void ps_cm_ring_put(ps_cm_ring *ring, uint8_t byte) {
  ring->bytes[ring->head % PS_CM_RX_RING_SIZE] = byte;
  ring->head = ring->head + 1u;
}

/** Moves up to `cap` bytes out of the ring; call with interrupts masked. */
static inline size_t ps_cm_ring_take(ps_cm_ring *ring, uint8_t *buf, size_t cap) {
  size_t count = 0;
  while (count < cap && ring->tail != ring->head) {
    buf[count++] = ring->bytes[ring->tail % PS_CM_RX_RING_SIZE];
    ring->tail = ring->tail + 1u;
  }
  return count;
}

/** Default handler for unused vectors: reports like a fault (an unexpected interrupt is a bug). */
void ps_cm_default_handler(void);
/** HardFault entry: finds the stacked frame and reports pc/lr/psr over the UART, then halts. */
void ps_cm_hardfault_handler(void);
/** Reset entry: copies .data, zeroes .bss, runs main(). */
void ps_cm_reset_handler(void);

#endif /* PS_CM_H */
