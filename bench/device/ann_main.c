/*
 * The int8 ANN peer of the SNN-vs-ANN benchmark (bench/snn-vs-ann.bench.ts): full-integer inference
 * as TensorFlow Lite Micro with CMSIS-NN runs it, on a network bench/ann-int8.ts quantized (int8
 * weights and activations, int32 accumulators, the input zero point folded into the bias, per-layer
 * requantisation by a Q31 multiplier and shift, ReLU as a clamp, TFLite's average pool).
 *
 * The dot products are CMSIS-NN's: where __ARM_FEATURE_DSP is defined (Cortex-M4), four int8 weights
 * and four int8 inputs per word are sign-extended in pairs by SXTB16 (and SXTB16 with ROR #8) and
 * multiplied-accumulated two at a time by SMLAD, two output rows per pass so that each input word is
 * expanded once for both (as arm_nn_vec_mat_mult_t_s8 does); convolutions gather each output
 * position's patch once (im2col, as arm_convolve_s8) and run the same four-row dot product over the
 * filters. On the Cortex-M0 plain C (CMSIS-NN's fallback has no SIMD either): two rows per pass, four
 * inputs per iteration, each input loaded once for both rows. Rows are padded to a multiple of
 * eight with zero weights by the generator.
 *
 * The dot-product function is compiled at -O2 (the rest of the image at the boards' -Os), as
 * TFLite Micro builds its kernels optimised for speed: at -Os gcc spills the M0's two sums.
 *
 * Prints per digit `A <digit> <ticks> <class> <o0> ... <o9>`: counter ticks of one whole inference
 * (ps_port_cycles_align() first, so under QEMU -icount shift=0 the figure is deterministic) and the
 * int8 outputs, which the bench compares with bench/ann-int8.ts runInt8Ann.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ann_workload.h"
#include "ps_port.h"
#include "../../firmware/ports/ps_port_text.h"

static int8_t ann_buf_a[ANN_MAX_ACT] __attribute__((aligned(4)));
static int8_t ann_buf_b[ANN_MAX_ACT] __attribute__((aligned(4)));
static int8_t ann_patch[ANN_MAX_PATCH] __attribute__((aligned(4)));

/* TFLite's MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT. */
static int32_t ann_requantize(int32_t x, int32_t mult, int32_t shift)
{
    int32_t left = shift > 0 ? shift : 0;
    int32_t right = shift > 0 ? 0 : -shift;
    int64_t a = (int64_t)x * ((int64_t)1 << left);
    if (a > INT32_MAX) {
        a = INT32_MAX;
    }
    int32_t high;
    if (a == INT32_MIN && mult == INT32_MIN) {
        high = INT32_MAX;
    } else {
        int64_t ab = a * (int64_t)mult;
        int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
        high = (int32_t)((ab + nudge) / ((int64_t)1 << 31));
    }
    if (right == 0) {
        return high;
    }
    int32_t mask = (int32_t)((1u << right) - 1u);
    int32_t remainder = high & mask;
    int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    int32_t floor = high < 0 ? ~(~high >> right) : high >> right;
    return floor + (remainder > threshold ? 1 : 0);
}

static int8_t ann_out(int32_t acc, const ann_layer_t *l, uint32_t o)
{
    int32_t v = ann_requantize(acc, l->mult[o], l->shift[o]) + l->zp_out;
    if (v < l->act_min) {
        v = l->act_min;
    }
    if (v > 127) {
        v = 127;
    }
    return (int8_t)v;
}

#if defined(__ARM_FEATURE_DSP)
static inline uint32_t ann_sxtb16(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
    return r;
}
static inline uint32_t ann_sxtb16_ror8(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t ann_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
/* An unaligned word load (LDR takes unaligned addresses on the M4); __builtin_memcpy because the
 * firmware builds with -ffreestanding, where plain memcpy stays a call. */
static inline __attribute__((always_inline)) uint32_t ann_word(const int8_t *p)
{
    uint32_t w;
    __builtin_memcpy(&w, p, 4);
    return w;
}
#endif

/*
 * out[o] = requantize(bias[o] + Σ_i w[o][i] · x[i]) for o < rows; w rows of `fan` (a multiple of 4)
 * int8, `stride` apart; x of `fan` int8; outputs written `out_step` apart.
 */
__attribute__((optimize("O2"))) static void ann_dot_rows(const ann_layer_t *l, const int8_t *x, uint32_t fan, uint32_t rows, int8_t *out, uint32_t out_step)
{
    const int8_t *w = l->w;
    uint32_t o = 0u;
#if defined(__ARM_FEATURE_DSP)
    /* two rows per pass, eight inputs per iteration (rows padded to a multiple of 8): 28
     * instructions per 16 MACs, in assembly so that -Os keeps both sums in registers */
    for (; o + 2u <= rows; o += 2u) {
        const int8_t *p0 = w + o * fan;
        const int8_t *p1 = p0 + fan;
        const int8_t *px = x;
        const int8_t *end = x + fan;
        int32_t a0 = l->bias[o];
        int32_t a1 = l->bias[o + 1u];
        uint32_t xv, v, x02, x13, t;
        __asm__ volatile(
            "1:\n\t"
            "ldr %[xv], [%[px]], #4\n\t"
            "ldr %[v], [%[p0]], #4\n\t"
            "sxtb16 %[x02], %[xv]\n\t"
            "sxtb16 %[x13], %[xv], ror #8\n\t"
            "sxtb16 %[t], %[v]\n\t"
            "smlad %[a0], %[t], %[x02], %[a0]\n\t"
            "sxtb16 %[t], %[v], ror #8\n\t"
            "smlad %[a0], %[t], %[x13], %[a0]\n\t"
            "ldr %[v], [%[p1]], #4\n\t"
            "sxtb16 %[t], %[v]\n\t"
            "smlad %[a1], %[t], %[x02], %[a1]\n\t"
            "sxtb16 %[t], %[v], ror #8\n\t"
            "smlad %[a1], %[t], %[x13], %[a1]\n\t"
            "ldr %[xv], [%[px]], #4\n\t"
            "ldr %[v], [%[p0]], #4\n\t"
            "sxtb16 %[x02], %[xv]\n\t"
            "sxtb16 %[x13], %[xv], ror #8\n\t"
            "sxtb16 %[t], %[v]\n\t"
            "smlad %[a0], %[t], %[x02], %[a0]\n\t"
            "sxtb16 %[t], %[v], ror #8\n\t"
            "smlad %[a0], %[t], %[x13], %[a0]\n\t"
            "ldr %[v], [%[p1]], #4\n\t"
            "sxtb16 %[t], %[v]\n\t"
            "smlad %[a1], %[t], %[x02], %[a1]\n\t"
            "sxtb16 %[t], %[v], ror #8\n\t"
            "smlad %[a1], %[t], %[x13], %[a1]\n\t"
            "cmp %[px], %[end]\n\t"
            "bne 1b\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [px] "+r"(px), [p0] "+r"(p0), [p1] "+r"(p1),
              [xv] "=&r"(xv), [v] "=&r"(v), [x02] "=&r"(x02), [x13] "=&r"(x13), [t] "=&r"(t)
            : [end] "r"(end)
            : "cc", "memory");
        out[o * out_step] = ann_out(a0, l, o);
        out[(o + 1u) * out_step] = ann_out(a1, l, o + 1u);
    }
    for (; o < rows; o++) {
        const int8_t *w0 = w + o * fan;
        int32_t a0 = l->bias[o];
        for (uint32_t i = 0u; i < fan; i += 4u) {
            uint32_t xw = ann_word(x + i);
            uint32_t v = ann_word(w0 + i);
            a0 = ann_smlad(ann_sxtb16(v), ann_sxtb16(xw), a0);
            a0 = ann_smlad(ann_sxtb16_ror8(v), ann_sxtb16_ror8(xw), a0);
        }
        out[o * out_step] = ann_out(a0, l, o);
    }
#else
    /* two rows per pass, four inputs per iteration, each input loaded once for both rows */
    for (; o + 2u <= rows; o += 2u) {
        const int8_t *w0 = w + o * fan;
        const int8_t *w1 = w0 + fan;
        int32_t a0 = l->bias[o];
        int32_t a1 = l->bias[o + 1u];
        for (uint32_t i = 0u; i < fan; i += 4u) {
            int32_t x0 = x[i];
            int32_t x1 = x[i + 1u];
            int32_t x2 = x[i + 2u];
            int32_t x3 = x[i + 3u];
            a0 += w0[i] * x0 + w0[i + 1u] * x1 + w0[i + 2u] * x2 + w0[i + 3u] * x3;
            a1 += w1[i] * x0 + w1[i + 1u] * x1 + w1[i + 2u] * x2 + w1[i + 3u] * x3;
        }
        out[o * out_step] = ann_out(a0, l, o);
        out[(o + 1u) * out_step] = ann_out(a1, l, o + 1u);
    }
    for (; o < rows; o++) {
        const int8_t *w0 = w + o * fan;
        int32_t a0 = l->bias[o];
        for (uint32_t i = 0u; i < fan; i++) {
            a0 += (int32_t)w0[i] * (int32_t)x[i];
        }
        out[o * out_step] = ann_out(a0, l, o);
    }
#endif
}

/* Runs the network on bench pixels; returns the buffer holding the last layer's outputs. */
static const int8_t *ann_infer(const uint8_t *pixels)
{
    int8_t *x = ann_buf_a;
    int8_t *y = ann_buf_b;
    for (uint32_t i = 0u; i < ANN_INPUTS; i++) {
        x[i] = (int8_t)((int32_t)pixels[i] - 128);
    }
    for (uint32_t i = ANN_INPUTS; i < ANN_INPUTS_PADDED; i++) {
        x[i] = 0;
    }
    for (uint32_t k = 0u; k < ANN_LAYERS; k++) {
        const ann_layer_t *l = &ann_layers[k];
        if (l->kind == ANN_DENSE) {
            ann_dot_rows(l, x, l->fan, l->out_c, y, 1u);
        } else if (l->kind == ANN_CONV) {
            uint32_t plane = l->out_h * l->out_w;
            for (uint32_t oy = 0u; oy < l->out_h; oy++) {
                for (uint32_t ox = 0u; ox < l->out_w; ox++) {
                    /* im2col: the patch (c, ky, kx) of this output, zero-padded to `fan` */
                    int8_t *p = ann_patch;
                    for (uint32_t c = 0u; c < l->in_c; c++) {
                        for (uint32_t ky = 0u; ky < l->kh; ky++) {
                            const int8_t *row = x + (c * l->in_h + oy * l->sy + ky) * l->in_w + ox * l->sx;
                            for (uint32_t kx = 0u; kx < l->kw; kx++) {
                                *p++ = row[kx];
                            }
                        }
                    }
                    while (p < ann_patch + l->fan) {
                        *p++ = 0;
                    }
                    ann_dot_rows(l, ann_patch, l->fan, l->out_c, y + oy * l->out_w + ox, plane);
                }
            }
        } else {
            uint32_t count = l->kh * l->kw;
            for (uint32_t c = 0u; c < l->in_c; c++) {
                for (uint32_t oy = 0u; oy < l->out_h; oy++) {
                    for (uint32_t ox = 0u; ox < l->out_w; ox++) {
                        int32_t s = 0;
                        for (uint32_t ky = 0u; ky < l->kh; ky++) {
                            for (uint32_t kx = 0u; kx < l->kw; kx++) {
                                s += x[(c * l->in_h + oy * l->sy + ky) * l->in_w + ox * l->sx + kx];
                            }
                        }
                        /* TFLite's int8 average pool: round half away from zero */
                        int32_t avg = s > 0 ? (s + (int32_t)(count / 2u)) / (int32_t)count : (s - (int32_t)(count / 2u)) / (int32_t)count;
                        y[(c * l->out_h + oy) * l->out_w + ox] = (int8_t)(avg < -128 ? -128 : avg > 127 ? 127 : avg);
                    }
                }
            }
        }
        int8_t *t = x;
        x = y;
        y = t;
    }
    return x;
}

int main(void)
{
    ps_port_init();
    put_text("BEGIN\n");
    for (uint32_t d = 0u; d < ANN_DIGITS; d++) {
        uint32_t start = ps_port_cycles_align();
        const int8_t *out = ann_infer(ann_pixels + d * ANN_INPUTS);
        uint32_t ticks = ps_port_cycles() - start;
        uint32_t best = 0u;
        for (uint32_t i = 1u; i < ANN_OUTPUTS; i++) {
            if (out[i] > out[best]) {
                best = i;
            }
        }
        put_text("A ");
        put_i32((int32_t)d);
        put_text(" ");
        put_i32((int32_t)ticks);
        put_text(" ");
        put_i32((int32_t)best);
        for (uint32_t i = 0u; i < ANN_OUTPUTS; i++) {
            put_text(" ");
            put_i32(out[i]);
        }
        put_text("\n");
    }
    put_text("END\n");
    for (;;) {
        ps_port_idle();
    }
}
