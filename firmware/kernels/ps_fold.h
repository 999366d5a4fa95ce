#ifndef PS_FOLD_H
#define PS_FOLD_H

/*
 * Spike fold of a dense int8 connection (spec/ops.md §12.2). On a step of spikes every event has the
 * same scale (1 << shift), so under the accumulation bound of §12.1 the exact fold
 *     for each event e, for each j: acc[j] = acc[j] + w[pre[e]][j] * scale
 * equals acc[j] + scale * (sum over e of w[pre[e]][j]): the same integers, with no int32 overflow in
 * any order or grouping of the events. Cores with the DSP extension (__ARM_FEATURE_DSP, Cortex-M4/M7)
 * keep 16 outputs' sums in registers across the events as int16 pairs (SXTAB16, see
 * ps_fold_sum_words_m4), in chunks of at most 256 events (|sum| <= 128 * 256 fits int16). ARMv6-M
 * (Cortex-M0) keeps 16 outputs' sums in registers across the events, as biased bytes in 16-bit lanes
 * of whole aligned words (see ps_fold_sum_words_m0), so it needs no aligned rows and no sums in RAM.
 * Helium (__ARM_FEATURE_MVE, Cortex-M55) keeps 48 outputs' sums in int16 vector lanes (VLDRB.S16 +
 * VADD.I16, predicated tails; see ps_fold_mve.h), in the same 256-event chunks.
 * Only the exact scatter kernel calls it, and only when its §12.1 proof holds. Elsewhere
 * PS_FOLD_DENSE_I8_SPIKES stays undefined and the kernel runs its plain loop.
 *
 * This folder holds the optimized kernels, one header per core, beside the reference kernels of
 * firmware/src/ps_kernels_generated.c (as tflite-micro keeps kernels/cmsis_nn/ beside its reference):
 * each is a drop-in that MUST compute the reference's integers. This header picks the one for the
 * core being compiled for; a new core adds its header and one branch here.
 */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && (defined(__ARM_FEATURE_MVE) || defined(__ARM_FEATURE_DSP) || defined(__ARM_ARCH_6M__))
/* Only where it was measured to pay: on the host (x86-64 gcc -O2) the kernel's plain loop is as fast. */
#define PS_FOLD_DENSE_I8_SPIKES 1

#if defined(__ARM_FEATURE_MVE)
/* Helium (Cortex-M55/M85), which also has the DSP extension: the vector fold wins */
#include "ps_fold_mve.h"
#elif defined(__ARM_FEATURE_DSP)
#include "ps_fold_m4.h"
#else /* ARMv6-M */
#include "ps_fold_m0.h"
#endif
#endif /* optimized Cortex-M */

#if defined(__GNUC__) && defined(__OPTIMIZE__)
/* event-timed R-STDP (spec/ops.md §12.2 item 4): plain C for every core, measured to pay on the Cortex-M4 and M0 */
#include "ps_plastic_fast.h"
#endif

#endif /* PS_FOLD_H */
