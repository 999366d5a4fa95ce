/**
 * The one PRNG of picospike (spec/ops.md §6): Marsaglia's xorshift32 with shifts (13, 17, 5).
 * Used for everything stochastic (rate encoding now, stochastic rounding and probabilistic neurons
 * later), seeded explicitly, identical in C (`ps_xorshift32_next`) and TS.
 */
import { fail } from "./errors.js";

/** Reference seed of spec/ops.md §6 (the seed of Marsaglia's 2003 paper). */
export const XORSHIFT32_REFERENCE_SEED = 2463534242;

/** An xorshift32 generator. State is one nonzero uint32; zero is a fixed point and is forbidden. */
export class Xorshift32 {
  private state: number;

  /** Seeds the generator; the seed must be a nonzero uint32 (else SEMANTICS_BAD_INPUT). */
  constructor(seed: number) {
    if (!Number.isInteger(seed) || seed <= 0 || seed > 0xffffffff) {
      fail("SEMANTICS_BAD_INPUT", `PRNG seed must be an integer in 1..4294967295, got ${seed}`);
    }
    this.state = seed | 0;
  }

  /**
   * Advances the state and returns it as a uint32:
   * x ^= x << 13; x ^= x >>> 17; x ^= x << 5 (all on 32 bits). C: `uint32_t ps_xorshift32_next(uint32_t *s)`.
   */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x;
    return x >>> 0;
  }

  /** The current state as a uint32 (what a snapshot of an encoder stores). */
  get value(): number {
    return this.state >>> 0;
  }
}
