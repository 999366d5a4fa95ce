/**
 * The int8 ANN peer of the SNN-vs-ANN comparison: the toolchain's trained ANN (the same tfjs model the
 * SNN is converted from) quantized as TensorFlow Lite does for full-integer inference: int8 weights,
 * symmetric per layer; int8 activations with a zero point (asymmetric, ranges from calibration
 * digits); int32 biases in the scale s_in·s_w; int32 accumulators; per-layer requantisation by a Q31
 * multiplier and a shift (MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul, then
 * RoundingDivideByPOT); ReLU as the clamp at the output zero point; average pooling with TFLite's
 * rounding (half away from zero). The input zero point is folded into the bias offline (CMSIS-NN's
 * kernel sum), so the device kernel is a plain int8 × int8 dot product.
 *
 * `runInt8Ann` is the reference of the integers: bench/device/ann_main.c computes the same ones on
 * the Cortex-M4 (SMLAD) and the Cortex-M0 (plain C), and the bench checks the device's outputs
 * against it digit by digit.
 */
import type { ParsedAnn } from "../models/convert.js";
import type { FloatLayer } from "../models/float-snn.js";

/** One layer of the int8 network; activations are channel-major [C][H][W] or a vector. */
export type Int8Layer =
  | { kind: "dense"; inputs: number; outputs: number; w: Int8Array; bias: Int32Array; mult: Int32Array; shift: Int32Array; zpOut: number; actMin: number }
  | {
      kind: "conv";
      inShape: [number, number, number];
      outShape: [number, number, number];
      kernel: [number, number];
      stride: [number, number];
      /** [K][C·kh·kw], row-major patch order (c, ky, kx). */
      w: Int8Array;
      bias: Int32Array;
      mult: Int32Array;
      shift: Int32Array;
      zpOut: number;
      actMin: number;
    }
  | { kind: "pool"; inShape: [number, number, number]; outShape: [number, number, number]; kernel: [number, number]; stride: [number, number] };

/** A quantized network: input quantization of a pixel p (0..255) is p − 128 (scale 1/255, zero point −128). */
export interface Int8Ann {
  readonly layers: Int8Layer[];
  /** Multiply-accumulates per inference (dense and conv). */
  readonly macs: number;
}

const INPUT_ZERO_POINT = -128;

/** TFLite's QuantizeMultiplier: M = m · 2^(shift − 31) with m a Q31 in [2^30, 2^31). */
export function quantizeMultiplier(real: number): { mult: number; shift: number } {
  if (real <= 0) return { mult: 0, shift: 0 };
  let shift = 0;
  let q = real;
  while (q < 0.5) {
    q *= 2;
    shift--;
  }
  while (q >= 1) {
    q /= 2;
    shift++;
  }
  let mult = Math.round(q * 2 ** 31);
  if (mult === 2 ** 31) {
    mult /= 2;
    shift++;
  }
  return { mult, shift };
}

/** TFLite's MultiplyByQuantizedMultiplier (gemmlowp SRDHM then rounding divide by a power of two), exactly. */
export function requantize(x: number, mult: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : -shift;
  let a = BigInt(x) * (1n << BigInt(left));
  if (a > 2147483647n) a = 2147483647n; // TFLite's left shift saturates only in theory: shifts here are ≤ 0
  const b = BigInt(mult);
  let high: bigint;
  if (a === -2147483648n && b === -2147483648n) high = 2147483647n;
  else {
    const ab = a * b;
    const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
    high = (ab + nudge) / (1n << 31n); // BigInt division truncates toward zero, as C's
  }
  const h = Number(high);
  if (right === 0) return h;
  const mask = 2 ** right - 1;
  const remainder = h & mask;
  const threshold = (mask >> 1) + (h < 0 ? 1 : 0);
  return (h >> right) + (remainder > threshold ? 1 : 0);
}

/** Float forward of one stage (channel-major), for calibration. */
function floatStage(layer: FloatLayer, x: Float32Array): Float32Array {
  if (layer.kind === "dense") {
    const out = new Float32Array(layer.outputs);
    if (layer.bias) out.set(layer.bias);
    for (let i = 0; i < layer.inputs; i++) {
      const xi = x[i]!;
      if (xi === 0) continue;
      const row = i * layer.outputs;
      for (let j = 0; j < layer.outputs; j++) out[j]! += xi * layer.weights[row + j]!;
    }
    return out;
  }
  const [C, H, W] = layer.inShape;
  const [K, OH, OW] = layer.outShape;
  const [kh, kw] = layer.kernel;
  const [sy, sx] = layer.stride;
  const out = new Float32Array(K * OH * OW);
  if (layer.kind === "pool") {
    for (let c = 0; c < C; c++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          let s = 0;
          for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) s += x[(c * H + oy * sy + ky) * W + ox * sx + kx]!;
          out[(c * OH + oy) * OW + ox] = s * layer.weight;
        }
    return out;
  }
  for (let k = 0; k < K; k++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let s = layer.bias ? layer.bias[k]! : 0;
        for (let c = 0; c < C; c++)
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              s += layer.weights[((k * C + c) * kh + ky) * kw + kx]! * x[(c * H + oy * sy + ky) * W + ox * sx + kx]!;
            }
        out[(k * OH + oy) * OW + ox] = s;
      }
  return out;
}

/**
 * Quantizes the parsed ANN (models/convert.ts parseAnn: dense [in][out], conv [K][C][kh][kw],
 * average pools) for full-integer inference, with activation ranges (min/max, as TFLite's converter
 * takes them from a representative dataset) measured on `count` calibration images.
 */
export function quantizeAnn(ann: ParsedAnn, images: Uint8Array, count: number): Int8Ann {
  const n = ann.inputShape[0] * ann.inputShape[1] * ann.inputShape[2];
  const lo = ann.stages.map(() => 0);
  const hi = ann.stages.map(() => 0);
  for (let s = 0; s < count; s++) {
    let x: Float32Array = Float32Array.from(images.subarray(s * n, (s + 1) * n), (p) => p / 255);
    ann.stages.forEach((st, i) => {
      x = floatStage(st.layer, x);
      if (st.activation === "relu") for (let k = 0; k < x.length; k++) if (x[k]! < 0) x[k] = 0;
      for (const v of x) {
        if (v < lo[i]!) lo[i] = v;
        if (v > hi[i]!) hi[i] = v;
      }
    });
  }
  const layers: Int8Layer[] = [];
  let inScale = 1 / 255;
  let inZp = INPUT_ZERO_POINT;
  let macs = 0;
  ann.stages.forEach((st, i) => {
    const L = st.layer;
    if (L.kind === "pool") {
      if (L.inShape[1] % L.kernel[0] !== 0 && L.stride[0] !== L.kernel[0]) throw new Error(`pool ${L.name}: only non-overlapping pools`);
      layers.push({ kind: "pool", inShape: [...L.inShape], outShape: [...L.outShape], kernel: [...L.kernel], stride: [...L.stride] });
      return; // TFLite's average pool keeps the input's scale and zero point
    }
    // output range: must contain 0 (TFLite nudges it so); ReLU layers are [0, max]
    const rmin = Math.min(0, lo[i]!);
    const rmax = Math.max(hi[i]!, rmin + 1e-6);
    const outScale = (rmax - rmin) / 255;
    const zpOut = Math.max(-128, Math.min(127, Math.round(-128 - rmin / outScale)));
    const actMin = st.activation === "relu" ? zpOut : -128;
    let maxAbs = 0;
    for (const w of L.weights) maxAbs = Math.max(maxAbs, Math.abs(w));
    const wScale = maxAbs / 127 || 1;
    const outputs = L.kind === "dense" ? L.outputs : L.outShape[0];
    const fan = L.kind === "dense" ? L.inputs : L.inShape[0] * L.kernel[0] * L.kernel[1];
    const w = new Int8Array(outputs * fan);
    for (let o = 0; o < outputs; o++) {
      for (let f = 0; f < fan; f++) {
        const real = L.kind === "dense" ? L.weights[f * L.outputs + o]! : L.weights[o * fan + f]!;
        w[o * fan + f] = Math.max(-127, Math.min(127, Math.round(real / wScale)));
      }
    }
    const bias = new Int32Array(outputs);
    const { mult, shift } = quantizeMultiplier((inScale * wScale) / outScale);
    for (let o = 0; o < outputs; o++) {
      let sumW = 0;
      for (let f = 0; f < fan; f++) sumW += w[o * fan + f]!;
      // acc = Σ w (q − zpIn) + b: the −zpIn·Σw term is folded in here (CMSIS-NN's kernel sum)
      bias[o] = Math.round((L.bias ? L.bias[o]! : 0) / (inScale * wScale)) - inZp * sumW;
    }
    const m = new Int32Array(outputs).fill(mult);
    const sh = new Int32Array(outputs).fill(shift);
    if (L.kind === "dense") {
      layers.push({ kind: "dense", inputs: L.inputs, outputs, w, bias, mult: m, shift: sh, zpOut, actMin });
      macs += L.inputs * outputs;
    } else {
      if (L.padding[0] !== 0 || L.padding[1] !== 0) throw new Error(`conv ${L.name}: padded convolutions are not in this peer`);
      layers.push({
        kind: "conv",
        inShape: [...L.inShape],
        outShape: [...L.outShape],
        kernel: [...L.kernel],
        stride: [...L.stride],
        w,
        bias,
        mult: m,
        shift: sh,
        zpOut,
        actMin,
      });
      macs += L.outShape[0] * L.outShape[1] * L.outShape[2] * fan;
    }
    inScale = outScale;
    inZp = zpOut;
  });
  return { layers, macs };
}

const clamp8 = (v: number, lo: number): number => (v < lo ? lo : v > 127 ? 127 : v);

/** Runs the int8 network on one image's pixels; returns the last layer's int8 outputs. */
export function runInt8Ann(net: Int8Ann, pixels: Uint8Array): Int8Array {
  let x = Int8Array.from(pixels, (p) => p + INPUT_ZERO_POINT);
  for (const L of net.layers) {
    if (L.kind === "dense") {
      const out = new Int8Array(L.outputs);
      for (let o = 0; o < L.outputs; o++) {
        let acc = L.bias[o]!;
        const row = o * L.inputs;
        for (let i = 0; i < L.inputs; i++) acc += L.w[row + i]! * x[i]!;
        out[o] = clamp8(requantize(acc, L.mult[o]!, L.shift[o]!) + L.zpOut, L.actMin);
      }
      x = out;
    } else if (L.kind === "conv") {
      const [C, H, W] = L.inShape;
      const [K, OH, OW] = L.outShape;
      const [kh, kw] = L.kernel;
      const [sy, sx] = L.stride;
      const fan = C * kh * kw;
      const out = new Int8Array(K * OH * OW);
      for (let k = 0; k < K; k++)
        for (let oy = 0; oy < OH; oy++)
          for (let ox = 0; ox < OW; ox++) {
            let acc = L.bias[k]!;
            let f = k * fan;
            for (let c = 0; c < C; c++)
              for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) acc += L.w[f++]! * x[(c * H + oy * sy + ky) * W + ox * sx + kx]!;
            out[(k * OH + oy) * OW + ox] = clamp8(requantize(acc, L.mult[k]!, L.shift[k]!) + L.zpOut, L.actMin);
          }
      x = out;
    } else {
      const [C, H, W] = L.inShape;
      const [, OH, OW] = L.outShape;
      const [kh, kw] = L.kernel;
      const [sy, sx] = L.stride;
      const count = kh * kw;
      const out = new Int8Array(C * OH * OW);
      for (let c = 0; c < C; c++)
        for (let oy = 0; oy < OH; oy++)
          for (let ox = 0; ox < OW; ox++) {
            let s = 0;
            for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) s += x[(c * H + oy * sy + ky) * W + ox * sx + kx]!;
            // TFLite's int8 average pool: round half away from zero, then clamp
            const avg = s > 0 ? Math.trunc((s + (count >> 1)) / count) : Math.trunc((s - (count >> 1)) / count);
            out[(c * OH + oy) * OW + ox] = clamp8(avg, -128);
          }
      x = out;
    }
  }
  return x;
}

/** The class of an int8 output vector: argmax, ties to the lowest index. */
export function argmax8(out: Int8Array): number {
  let best = 0;
  for (let i = 1; i < out.length; i++) if (out[i]! > out[best]!) best = i;
  return best;
}
