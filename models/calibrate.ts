/**
 * Post-conversion calibration of a converted SNN for a short run of T steps, without retraining.
 *
 * A converted IF neuron with threshold θ, reset by subtraction and membrane starting at 0 fires
 * floor(T·z/θ) times in T steps for a constant drive z per step: its rate floors the ANN's
 * activation, losing θ/(2T) on average, and it starts firing late. At T = 4–8 that error adds up
 * through the layers (and through the spiking pooling layers of a CNN) and the readout falls apart.
 * Two corrections use only what the event table already carries, a bias added every step:
 *
 * - `shift`: every IF layer's bias grows by θ/(2T) per step, i.e. θ/2 over the T-step run, which
 *   turns the floor into rounding (the φ = 0.5 shift of QCFS, Bu et al. 2022, expressed as a
 *   per-step bias since the table has no initial membrane);
 * - `bias`: `shift`, then layer-wise bias calibration (Li et al. 2021, "A free lunch from ANN"):
 *   layer by layer, from the input, the mean of each channel's SNN rate over T steps on
 *   calibration images is compared with the mean of the ANN's activation (clipped to the one spike
 *   per step the SNN can send, in threshold units) on the same images, and the channel's bias
 *   takes the difference; the integrating readout's bias takes the difference of its mean membrane
 *   per step from the ANN's logits. Later layers are calibrated on the corrected earlier ones.
 *
 * Both are tuned for one T (the run length the table will be used with): the added bias is a
 * constant per step, so at a longer run it overshoots a little. Only converted SNNs qualify: IF
 * hidden layers (leak 1, no refractory period, reset by subtraction) and an integrator readout,
 * which is what `convertAnn` writes.
 */
import { fail } from "../runtime/errors.js";
import { disposePrepared, inputTensor, prepareLayers, usesVersion2, type FloatLayer, type FloatSnn } from "./float-snn.js";
import { tf } from "./tf.js";

/** Calibration methods: none, the φ = 0.5 shift as a bias, or the shift plus layer-wise bias calibration. */
export type CalibrationMethod = "none" | "shift" | "bias";

/** The methods by name, for option parsing. */
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ["none", "shift", "bias"];

/**
 * Defaults of `picospike convert`: the method, the run length it is tuned for (32, the steps `run`,
 * `eval` and `stream` default to: a shift tuned for fewer steps overshoots on longer runs), and the
 * images the bias calibration simulates.
 */
export const CALIBRATE_DEFAULTS: { readonly method: CalibrationMethod; readonly steps: number; readonly images: number } = {
  method: "shift",
  steps: 32,
  images: 256,
};

/** Calibration settings. */
export interface CalibrateOptions {
  readonly method: CalibrationMethod;
  /** The run length T the table will be used with (1..1024). */
  readonly steps: number;
  /** Passes over each layer for `bias` (each re-measures the rate after the previous correction). */
  readonly iterations?: number;
  /** Images simulated at once. */
  readonly batch?: number;
}

/** Per layer: mean |ANN − SNN| over the layer's channels of the per-channel means, before and after (threshold units per step). */
export interface CalibrationReport {
  readonly method: CalibrationMethod;
  readonly steps: number;
  readonly images: number;
  readonly meanErrorBefore: number[];
  readonly meanErrorAfter: number[];
}

/** Number of bias entries of a layer: per neuron for dense, per channel for maps. */
function biasLength(l: FloatLayer): number {
  return l.kind === "dense" ? l.outputs : l.outShape[0];
}

/** Refuses networks whose spiking layers are not the converter's IF neurons (the ANN reading of rates needs them). */
function checkConverted(snn: FloatSnn): void {
  if (usesVersion2(snn)) fail("TOOLCHAIN_CALIBRATION", "calibration takes a converted SNN; this one uses version-2 neuron rules");
  snn.layers.forEach((l, i) => {
    const n = l.neuron;
    const last = i === snn.layers.length - 1;
    if (last ? n.model !== "integrator" : n.model !== "if" || n.reset !== "subtract" || n.refractory !== 0 || n.leak !== 1) {
      fail(
        "TOOLCHAIN_CALIBRATION",
        `layer ${l.name} is ${n.model} with reset ${n.reset}, refractory ${n.refractory}: calibration takes a converted SNN (IF hidden layers with reset by subtraction and no refractory period, an integrator readout)`,
      );
    }
  });
}

/** Mean over every axis but the last (batch and space): one value per bias entry. */
function channelMean(t: tf.Tensor): tf.Tensor {
  return t.rank === 2 ? t.mean(0) : t.mean([0, 1, 2]);
}

/**
 * Per layer, per bias entry, the sum over `images` of the channel means of the ANN's activation in
 * spike units: hidden layers clip(z/θ, 0, 1) (the SNN sends at most one spike per step), the readout
 * its logits z. The ANN is the SNN's own weights read as a ReLU network (what conversion preserves).
 */
function annTargets(snn: FloatSnn, images: Uint8Array, count: number, batch: number): Float64Array[] {
  const prepared = prepareLayers(snn);
  const n = snn.input.shape[0] * snn.input.shape[1] * snn.input.shape[2];
  const sums = snn.layers.map((l) => new Float64Array(biasLength(l)));
  try {
    for (let start = 0; start < count; start += batch) {
      const b = Math.min(batch, count - start);
      tf.tidy(() => {
        let act = inputTensor(snn, images.subarray(start * n, (start + b) * n), b);
        prepared.forEach((p, i) => {
          let z = p.apply(act);
          if (p.bias) z = z.add(p.bias);
          const last = i === prepared.length - 1;
          const a = last ? z : z.div(p.src.neuron.threshold).clipByValue(0, 1);
          const m = channelMean(a).dataSync();
          for (let k = 0; k < m.length; k++) sums[i]![k]! += m[k]! * b;
          act = a;
        });
      });
    }
  } finally {
    disposePrepared(prepared);
  }
  return sums;
}

/**
 * Runs the SNN for `steps` steps on the images (layers 0..upTo only) and returns, per layer, the
 * sum over images of each channel's mean rate (spikes per step; the readout: membrane per step).
 * Same arithmetic as simulateFloat: v ← v + bias + input; spike where v ≥ θ; v ← v − θ.
 */
function snnRates(snn: FloatSnn, images: Uint8Array, count: number, steps: number, batch: number, upTo: number): Float64Array[] {
  const layers = snn.layers.slice(0, upTo + 1);
  const prepared = prepareLayers({ ...snn, layers });
  const n = snn.input.shape[0] * snn.input.shape[1] * snn.input.shape[2];
  const sums = layers.map((l) => new Float64Array(biasLength(l)));
  try {
    for (let start = 0; start < count; start += batch) {
      const b = Math.min(batch, count - start);
      const x = inputTensor(snn, images.subarray(start * n, (start + b) * n), b);
      const rate = encodingRate(snn, x);
      let v = prepared.map((p) => tf.zeros([b, ...p.stateShape]));
      let counts = prepared.map((p) => tf.zeros([b, ...p.stateShape]));
      for (let t = 1; t <= steps; t++) {
        const next = tf.tidy(() => {
          let act: tf.Tensor = rate
            ? tf
                .randomUniform(x.shape, 0, 1, "float32", 100003 + t)
                .less(rate)
                .toFloat()
            : x;
          const nv: tf.Tensor[] = [];
          const nc: tf.Tensor[] = [];
          prepared.forEach((p, i) => {
            let cur = p.apply(act);
            if (p.bias) cur = cur.add(p.bias);
            let vi = v[i]!.add(cur);
            if (p.src.neuron.model === "integrator") {
              nv.push(vi);
              nc.push(counts[i]!.clone());
              return;
            }
            const s = vi.greaterEqual(p.src.neuron.threshold).toFloat();
            vi = vi.sub(s.mul(p.src.neuron.threshold));
            nv.push(vi);
            nc.push(counts[i]!.add(s));
            act = s;
          });
          return { nv, nc };
        });
        tf.dispose([...v, ...counts]);
        v = next.nv;
        counts = next.nc;
      }
      tf.tidy(() => {
        prepared.forEach((p, i) => {
          const total = p.src.neuron.model === "integrator" ? v[i]! : counts[i]!;
          const m = channelMean(total.div(steps)).dataSync();
          for (let k = 0; k < m.length; k++) sums[i]![k]! += m[k]! * b;
        });
      });
      tf.dispose([x, ...v, ...counts]);
      rate?.dispose();
    }
  } finally {
    disposePrepared(prepared);
  }
  return sums;
}

/** Spike probability per input and step under rate encoding (spec/ops.md §7.2), or undefined for current input. */
function encodingRate(snn: FloatSnn, x: tf.Tensor): tf.Tensor | undefined {
  return snn.input.encoding === "rate" ? tf.tidy(() => x.div(snn.input.scale * 256)) : undefined;
}

function meanAbsDiff(a: Float64Array, b: Float64Array, count: number): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += Math.abs(a[k]! - b[k]!) / count;
  return s / a.length;
}

/** A copy of the SNN whose layers own their bias arrays (absent biases become zeros), so calibration never changes its input. */
function withOwnBiases(snn: FloatSnn): FloatSnn {
  return { ...snn, layers: snn.layers.map((l) => ({ ...l, bias: l.bias ? Float32Array.from(l.bias) : new Float32Array(biasLength(l)) })) };
}

/**
 * Calibrates a converted SNN for runs of `opts.steps` steps on `count` calibration images
 * (0..255, flat channel-major, the ones normalization used will do). Returns a new SNN (the input
 * is not changed) and the per-layer error of the channel means before and after.
 */
export function calibrateSnn(snn: FloatSnn, images: Uint8Array, count: number, opts: CalibrateOptions): { snn: FloatSnn; report: CalibrationReport } {
  const { method, steps } = opts;
  if (!CALIBRATION_METHODS.includes(method))
    fail("TOOLCHAIN_CALIBRATION", `calibration method must be ${CALIBRATION_METHODS.join(", ")}, got '${String(method)}'`);
  if (!Number.isInteger(steps) || steps < 1 || steps > 1024) fail("TOOLCHAIN_CALIBRATION", `calibration steps must be an integer in 1..1024, got ${steps}`);
  if (method === "none") return { snn, report: { method, steps, images: 0, meanErrorBefore: [], meanErrorAfter: [] } };
  const iterations = opts.iterations ?? 2;
  const batch = opts.batch ?? 128;
  checkConverted(snn);
  if (method === "bias" && count < 1) fail("TOOLCHAIN_CALIBRATION", "bias calibration needs calibration images");
  const out = withOwnBiases(snn);
  const last = out.layers.length - 1;
  const measure = count > 0;
  const target = measure ? annTargets(snn, images, count, batch) : [];
  const before = measure ? snnRates(out, images, count, steps, batch, last).map((r, i) => meanAbsDiff(target[i]!, r, count)) : [];
  // The φ = 0.5 shift, for both methods: θ/2 over the run, spread over its steps.
  out.layers.forEach((l, i) => {
    if (i === last) return;
    const add = l.neuron.threshold / (2 * steps);
    for (let k = 0; k < l.bias!.length; k++) l.bias![k]! += add;
  });
  if (method === "bias") {
    for (let i = 0; i <= last; i++) {
      const l = out.layers[i]!;
      const theta = l.neuron.model === "integrator" ? 1 : l.neuron.threshold;
      for (let it = 0; it < iterations; it++) {
        const rate = snnRates(out, images, count, steps, batch, i)[i]!;
        for (let k = 0; k < l.bias!.length; k++) l.bias![k]! += (theta * (target[i]![k]! - rate[k]!)) / count;
      }
    }
  }
  // A layer that had no bias and still has none of any size keeps the table free of a zero array.
  out.layers.forEach((l, i) => {
    if (!snn.layers[i]!.bias && l.bias!.every((b) => b === 0)) delete l.bias;
  });
  const after = measure ? snnRates(out, images, count, steps, batch, last).map((r, i) => meanAbsDiff(target[i]!, r, count)) : [];
  const settings = { ...out.provenance.settings };
  settings["calibrate"] = method;
  settings["calibrateSteps"] = steps;
  settings["calibrateImages"] = count;
  return {
    snn: { ...out, provenance: { ...out.provenance, settings } },
    report: { method, steps, images: count, meanErrorBefore: before, meanErrorAfter: after },
  };
}
