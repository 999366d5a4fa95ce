/**
 * Float SNN → integer event table (runtime/model.ts), with design-rule checks.
 *
 * Scales. Each layer l gets one membrane unit s_l (float value of one integer membrane step;
 * recorded as provenance.layerScales[l]). A stored weight q on output channel c contributes
 * q·2^shift[c] membrane units per event unit, so its float value is q·2^shift[c]·s_l divided by
 * the float value of one input event unit (input.scale for `current` input of layer 0, else 1).
 * Scales are symmetric: q = round(w_e / (s_l·2^shift[c])) clamped to ±(2^(bits−1) − 1).
 * s_l is chosen so the threshold is about 2^16 units (fine resolution for bias and leak) and every
 * channel's largest |w_e| lands in the top half of the integer range (per-channel: one shift per
 * channel; per-layer: one shift), then coarsened while a single synaptic contribution
 * (qmax · largest event value · 2^shift) could saturate or a shift exceeds 23.
 * Thresholds and biases are rounded in the same unit.
 */
import { fail } from "../runtime/errors.js";
import { packInt4 } from "../runtime/format.js";
import { DEFAULT_NEURON, type Connection, type EventTable, type Layer, type NeuronParams, type WeightBits, type Weights } from "../runtime/model.js";
import { layerInputs, layerSize, prepareLayers, simulateFloat, disposePrepared, usesVersion2, type FloatLayer, type FloatSnn } from "./float-snn.js";

const INT32_MAX = 2147483647;
const INT32_MIN = -2147483648;
/** Membrane units per threshold the quantizer aims for. */
const TARGET_THRESHOLD_UNITS = 1 << 16;

/** Quantization settings. */
export interface QuantizeOptions {
  readonly weightBits: WeightBits;
  readonly perChannel: boolean;
  /** Input encoding of the table (default: the float SNN's). */
  readonly encoding?: "current" | "rate";
  /** Seed of the rate encoder's PRNG (nonzero). */
  readonly seed: number;
  /** Source name for provenance. */
  readonly source: string;
}

/** One design-rule finding. Errors stop quantization; warnings are reported. */
export interface RuleFinding {
  readonly level: "warning" | "error";
  readonly layer: string;
  readonly rule: "leak-no-leak" | "leak-full-wipe" | "leak-ineffective" | "fan-in-overflow" | "saturation" | "threshold-range" | "bias-range" | "weight-zero";
  readonly message: string;
}

/** Calibration statistics from a float simulation: per layer, max |membrane| and max |step input| (float). */
export interface CalibrationStats {
  readonly maxMembrane: readonly number[];
  readonly maxStepInput: readonly number[];
  readonly images: number;
  readonly steps: number;
}

/** Result of quantization. */
export interface QuantizeResult {
  readonly table: EventTable;
  readonly findings: RuleFinding[];
  /** Membrane unit of each layer. */
  readonly scales: number[];
}

/** Integer form of a float leak factor (spec/ops.md §4.2–4.3) and the rule findings it raises. */
export function integerLeak(
  leak: number,
  thresholdUnits: number,
  layer: string,
): { params: Pick<NeuronParams, "model" | "leakShift" | "leakQ15">; findings: RuleFinding[] } {
  const findings: RuleFinding[] = [];
  if (leak >= 1) return { params: { model: "if", leakShift: 0, leakQ15: 32767 }, findings };
  // Shift form when β is (within 1% of its decay) 1 − 2^−k: cheaper on the device.
  const k = Math.round(-Math.log2(1 - leak));
  if (k >= 1 && k <= 31 && Math.abs(1 - 2 ** -k - leak) <= 0.01 * (1 - leak)) {
    if (2 ** k > thresholdUnits) {
      findings.push({
        level: "warning",
        layer,
        rule: "leak-ineffective",
        message: `layer ${layer}: leak shift ${k} removes nothing from membranes below 2^${k} units, above the threshold (${thresholdUnits}); the layer behaves as IF below threshold`,
      });
    }
    return { params: { model: "lif-shift", leakShift: k, leakQ15: 32767 }, findings };
  }
  const q = Math.round(leak * 32768);
  if (q >= 32768) {
    findings.push({
      level: "warning",
      layer,
      rule: "leak-no-leak",
      message: `layer ${layer}: leak factor ${leak} (τ = ${(-1 / Math.log(leak)).toFixed(0)} steps) rounds to no leak in Q15; quantized as IF`,
    });
    return { params: { model: "if", leakShift: 0, leakQ15: 32767 }, findings };
  }
  if (q <= 0) {
    findings.push({
      level: "error",
      layer,
      rule: "leak-full-wipe",
      message: `layer ${layer}: leak factor ${leak} (τ = ${(-1 / Math.log(leak)).toFixed(3)} steps) rounds to 0 in Q15: the membrane would be wiped every step; use a longer time constant`,
    });
    return { params: { model: "lif-q15", leakShift: 0, leakQ15: 0 }, findings };
  }
  return { params: { model: "lif-q15", leakShift: 0, leakQ15: q }, findings };
}

/** Channel of weight index i of a layer (dense: output neuron; conv: output map). */
function channelOf(l: FloatLayer, i: number): number {
  if (l.kind === "dense") return i % l.outputs;
  if (l.kind === "conv2d") return Math.floor(i / (l.inShape[0] * l.kernel[0] * l.kernel[1]));
  return 0;
}

function channelCount(l: FloatLayer): number {
  return l.kind === "dense" ? l.outputs : l.outShape[0];
}

/** Synapses one post neuron can receive from (worst case). */
function fanIn(l: FloatLayer): number {
  if (l.kind === "dense") return l.inputs;
  if (l.kind === "conv2d") return l.inShape[0] * l.kernel[0] * l.kernel[1];
  return l.kernel[0] * l.kernel[1];
}

/** Chooses the membrane unit and the shifts of one weighted layer (see the module comment). */
export function chooseScale(channelMax: ArrayLike<number>, threshold: number, qmax: number, maxEventValue: number): { scale: number; shifts: number[] } {
  const nonzero = Array.from(channelMax).filter((m) => m > 0);
  let scale = threshold / TARGET_THRESHOLD_UNITS;
  // Finer unit until the weakest channel reaches the top half of the range with shift 0.
  if (nonzero.length > 0) scale = Math.min(scale, Math.min(...nonzero) / qmax);
  // Snap to a power of two times the threshold so repeated runs give identical tables.
  scale = threshold / 2 ** Math.ceil(Math.log2(threshold / scale));
  const shiftsFor = (s: number) => Array.from(channelMax, (m) => (m > 0 ? Math.max(0, Math.ceil(Math.log2(m / (qmax * s)) - 1e-12)) : 0));
  let shifts = shiftsFor(scale);
  // Coarsen while a shift is out of range or one contribution could saturate.
  while (Math.max(...shifts) > 23 || qmax * maxEventValue * 2 ** Math.max(...shifts) > INT32_MAX) {
    scale *= 2;
    shifts = shiftsFor(scale);
  }
  return { scale, shifts };
}

function packWeights(values: Int32Array, bits: WeightBits, shifts: number[]): Weights {
  const shift = Uint8Array.from(shifts);
  if (bits === 4) return { bits, data: packInt4(values), count: values.length, shift };
  if (bits === 8) return { bits, data: Int8Array.from(values), count: values.length, shift };
  return { bits, data: Int16Array.from(values), count: values.length, shift };
}

/**
 * Quantizes a float SNN into an event table. `calibration` (from a float simulation on training
 * images) enables the saturation rule. Error findings throw TOOLCHAIN_QUANTIZE_RULE listing them.
 */
export function quantizeSnn(snn: FloatSnn, opts: QuantizeOptions, calibration?: CalibrationStats): QuantizeResult {
  const bits = opts.weightBits;
  if (bits !== 4 && bits !== 8 && bits !== 16) fail("TOOLCHAIN_QUANTIZE_RULE", `weight bits must be 4, 8 or 16, got ${String(bits)}`);
  if (!Number.isInteger(opts.seed) || opts.seed < 1 || opts.seed > 0xffffffff)
    fail("TOOLCHAIN_QUANTIZE_RULE", `rate seed must be a nonzero uint32, got ${opts.seed}`);
  if (usesVersion2(snn)) {
    // Version-2 rules map to the integer rules of spec/ops.md §4.9; what the event table cannot carry
    // yet is refused by name rather than quantized into a different network than the one imported.
    const used = snn.layers.flatMap((l) => {
      const n = l.neuron;
      const pn = n.perNeuron ?? {};
      const f: string[] = [];
      if (n.multiSpike && l.kind === "dense" && l.recurrent) f.push("multiSpike with recurrent weights (recurrent events are single spikes)");
      for (const k of ["threshold", "vReset", "vInit"] as const) {
        const a = pn[k];
        if (a && a.some((x) => x !== a[0])) f.push(`perNeuron.${k} (one value per layer in the event table)`);
      }
      if (n.synDecay !== undefined || pn.synDecay) {
        if (n.model === "integrator" || n.model === "threshold") f.push(`a synapse on model ${n.model}`);
      }
      return f.length ? [`${l.name}: ${f.join(", ")}`] : [];
    });
    if (used.length)
      fail(
        "TOOLCHAIN_QUANTIZE_RULE",
        `this float SNN uses version-2 neuron rules the event table cannot carry yet (${used.join("; ")}); run it in float with \`picospike run SNN.json\``,
      );
  }
  const encoding = opts.encoding ?? snn.input.encoding;
  const qmax = 2 ** (bits - 1) - 1;
  const findings: RuleFinding[] = [];
  const scales: number[] = [];
  const layers: Layer[] = snn.layers.map((l, li) => {
    const inUnit = li === 0 && encoding === "current" ? snn.input.scale : 1;
    // a multi-spike layer's events carry up to 255 spikes (spec/ops.md §4.9)
    const maxEvent = (li === 0 && encoding === "current") || (li > 0 && snn.layers[li - 1]!.neuron.multiSpike === true) ? 255 : 1;
    const theta = l.neuron.threshold;
    let connection: Connection;
    let recurrent: Connection | undefined;
    let scale: number;
    let maxContribution: number;
    if (l.kind === "pool") {
      scale = theta / TARGET_THRESHOLD_UNITS;
      const m = (l.weight * inUnit) / scale;
      const shift = Math.max(0, Math.ceil(Math.log2(Math.abs(m) / 32767)));
      const weight = Math.round(m / 2 ** shift);
      if (weight === 0)
        findings.push({ level: "error", layer: l.name, rule: "weight-zero", message: `layer ${l.name}: pooling weight ${l.weight} rounds to 0` });
      connection = { kind: "pool", inShape: l.inShape, outShape: l.outShape, kernel: l.kernel, stride: l.stride, weight, shift };
      maxContribution = Math.abs(weight) * 2 ** shift * maxEvent;
    } else {
      const channels = channelCount(l);
      const chMax = new Float64Array(opts.perChannel ? channels : 1);
      for (let i = 0; i < l.weights.length; i++) {
        const c = opts.perChannel ? channelOf(l, i) : 0;
        chMax[c] = Math.max(chMax[c]!, Math.abs(l.weights[i]! * inUnit));
      }
      const chosen = chooseScale(chMax, theta, qmax, maxEvent);
      scale = chosen.scale;
      const q = new Int32Array(l.weights.length);
      for (let i = 0; i < q.length; i++) {
        const c = opts.perChannel ? channelOf(l, i) : 0;
        const step = scale * 2 ** chosen.shifts[c]!;
        q[i] = Math.max(-qmax, Math.min(qmax, Math.round((l.weights[i]! * inUnit) / step)));
      }
      const weights = packWeights(q, bits, chosen.shifts);
      connection =
        l.kind === "dense"
          ? { kind: "dense", inputs: l.inputs, outputs: l.outputs, weights }
          : { kind: "conv2d", inShape: l.inShape, outShape: l.outShape, kernel: l.kernel, stride: l.stride, padding: l.padding, weights };
      maxContribution = qmax * maxEvent * 2 ** Math.max(...chosen.shifts);
      if (l.kind === "dense" && l.recurrent) {
        // the layer's own spikes of the previous step (spec/ops.md §5.6), in the same membrane unit
        recurrent = quantizeRecurrent(l.recurrent, l.outputs, scale, bits, qmax, opts.perChannel, l.name, findings);
      }
    }
    scales.push(scale);
    const thresholdUnits = Math.round(theta / scale);
    if (thresholdUnits < 1 || thresholdUnits > INT32_MAX) {
      findings.push({
        level: "error",
        layer: l.name,
        rule: "threshold-range",
        message: `layer ${l.name}: threshold ${theta} is ${thresholdUnits} membrane units, outside 1..2^31−1`,
      });
    }
    let bias: Int32Array | undefined;
    let maxBias = 0;
    if (l.bias) {
      bias = new Int32Array(l.bias.length);
      let clipped = 0;
      for (let i = 0; i < bias.length; i++) {
        const b = Math.round(l.bias[i]! / scale);
        if (b > INT32_MAX || b < INT32_MIN) clipped++;
        bias[i] = Math.max(INT32_MIN, Math.min(INT32_MAX, b));
        maxBias = Math.max(maxBias, Math.abs(bias[i]!));
      }
      if (clipped > 0)
        findings.push({ level: "error", layer: l.name, rule: "bias-range", message: `layer ${l.name}: ${clipped} biases exceed int32 in the layer's unit` });
    }
    const worst = fanIn(l) * maxContribution + maxBias;
    if (worst > INT32_MAX) {
      findings.push({
        level: "warning",
        layer: l.name,
        rule: "fan-in-overflow",
        message: `layer ${l.name}: worst-case input of one step (fan-in ${fanIn(l)} × largest contribution) is ${worst.toExponential(2)} > 2^31−1; sums saturate instead of wrapping`,
      });
    }
    if (calibration) {
      const vMax = (calibration.maxMembrane[li] ?? 0) / scale;
      const inMax = (calibration.maxStepInput[li] ?? 0) / scale;
      if (vMax > INT32_MAX || inMax > INT32_MAX) {
        findings.push({
          level: "warning",
          layer: l.name,
          rule: "saturation",
          message: `layer ${l.name}: on ${calibration.images} calibration images over ${calibration.steps} steps the membrane reached ${vMax.toExponential(2)} units (input ${inMax.toExponential(2)}), beyond int32: it saturates`,
        });
      }
    }
    const threshold = Math.max(1, Math.min(INT32_MAX, thresholdUnits));
    let neuron: NeuronParams;
    if (usesRules(l)) {
      const rules = ruleNeuron(l, scale, threshold, findings);
      neuron = rules.neuron;
      if (rules.bias) bias = rules.bias;
    } else {
      const leak =
        l.neuron.model === "lif"
          ? integerLeak(l.neuron.leak, thresholdUnits, l.name)
          : { params: { model: l.neuron.model === "integrator" ? ("integrator" as const) : ("if" as const), leakShift: 0, leakQ15: 32767 }, findings: [] };
      findings.push(...leak.findings);
      neuron = {
        ...DEFAULT_NEURON,
        ...leak.params,
        threshold,
        reset: l.neuron.reset === "zero" ? "value" : "subtract",
        resetValue: 0,
        refractory: l.neuron.refractory,
      };
    }
    const name = truncateUtf8(l.name, 64);
    const extra = { ...(bias ? { bias } : {}), ...(recurrent ? { recurrent } : {}) };
    const layer: Layer =
      l.kind === "dense"
        ? { name, size: layerSize(l), input: connection, neuron, ...extra }
        : { name, size: layerSize(l), shape: l.outShape, input: connection, neuron, ...extra };
    return layer;
  });
  const errors = findings.filter((f) => f.level === "error");
  if (errors.length > 0) fail("TOOLCHAIN_QUANTIZE_RULE", errors.map((e) => e.message).join("; "), { findings: errors });
  const convertSettings = Object.fromEntries(
    Object.entries(snn.provenance.settings)
      .slice(0, 40)
      .map(([k, v]) => [`convert.${k}`.slice(0, 64), v]),
  );
  const table: EventTable = {
    input: { size: layerInputs(snn.layers[0]!), shape: snn.input.shape, encoding, seed: opts.seed >>> 0 },
    layers,
    readout: { kind: snn.readout === "membrane" ? "membrane" : "count" },
    provenance: {
      source: truncateUtf8(opts.source, 200),
      tool: "picospike quantize 0.1.0",
      settings: { ...convertSettings, weightBits: bits, perChannel: opts.perChannel, encoding, inputScale: snn.input.scale, warnings: findings.length },
      layerScales: scales,
    },
  };
  return { table, findings, scales };
}

/** Whether a float layer uses a version-2 rule (spec/float-snn.md §5.1), which quantizes to spec/ops.md §4.9. */
function usesRules(l: FloatLayer): boolean {
  const n = l.neuron;
  return (
    (n.compare !== undefined && n.compare !== "ge") ||
    n.resetDelay === true ||
    n.multiSpike === true ||
    n.reset === "value" ||
    n.vMin !== undefined ||
    n.vInit !== undefined ||
    n.synDecay !== undefined ||
    n.perNeuron !== undefined ||
    n.model === "threshold" ||
    (n.model === "integrator" && n.leak !== 1)
  );
}

/**
 * A float retention β as Q15 (spec/ops.md §4.9: round(β·32768), applied with a floor). Euler
 * (1 − dt/τ) and exact-exponential (e^(−dt/τ)) decays are both just β here. β = 1 keeps 32767 (the
 * slowest leak Q15 has) with a warning; β that rounds to 0 wipes the state every step.
 */
function q15Retention(beta: number, what: string, layer: string, findings: RuleFinding[]): number {
  const q = Math.round(beta * 32768);
  if (q >= 32768) {
    findings.push({
      level: "warning",
      layer,
      rule: "leak-no-leak",
      message: `layer ${layer}: ${what} ${beta} is 32767/32768 in Q15 (the slowest leak the rule has)`,
    });
    return 32767;
  }
  if (q <= 0 && beta > 0) {
    findings.push({
      level: "warning",
      layer,
      rule: "leak-full-wipe",
      message: `layer ${layer}: ${what} ${beta} rounds to 0 in Q15: the state is wiped every step`,
    });
  }
  return Math.max(0, q);
}

/** A per-neuron or per-layer retention: a per-neuron array only when the values differ. */
function retentions(scalar: number, per: Float32Array | undefined, what: string, layer: string, findings: RuleFinding[]): { one: number; each?: Uint16Array } {
  if (!per) return { one: q15Retention(scalar, what, layer, findings) };
  const each = Uint16Array.from(per, (b) => q15Retention(b, what, layer, findings));
  return each.every((x) => x === each[0]) ? { one: each[0]! } : { one: 32767, each };
}

/** Membrane units of a float value in the layer's unit, saturated to int32. */
function units(x: number, scale: number): number {
  return Math.max(INT32_MIN, Math.min(INT32_MAX, Math.round(x / scale)));
}

/**
 * The integer neuron of a layer with version-2 rules (spec/ops.md §4.9): Q15 retentions (per neuron
 * where the float SNN has them), `>` or `≥`, the delayed subtraction, reset to a value, the floor,
 * the initial membrane, the Q15 current-based synapse, the leaking readout. Per-neuron biases
 * replace the layer's bias.
 */
function ruleNeuron(l: FloatLayer, scale: number, threshold: number, findings: RuleFinding[]): { neuron: NeuronParams; bias?: Int32Array } {
  const n = l.neuron;
  const pn = n.perNeuron ?? {};
  const vMin = n.vMin === undefined ? INT32_MIN : Math.min(threshold - 1, units(n.vMin, scale));
  const vInit = units(pn.vInit ? pn.vInit[0]! : (n.vInit ?? 0), scale);
  const vReset = units(pn.vReset ? pn.vReset[0]! : n.reset === "value" ? (n.vReset ?? 0) : 0, scale);
  const bias = pn.bias ? Int32Array.from(pn.bias, (b) => units(b, scale)) : undefined;
  const common = { threshold, vMin, refractory: n.refractory, ...(vInit !== 0 ? { vInit: Math.min(threshold - 1, vInit) } : {}) };
  if (n.model === "integrator") {
    const leak = retentions(n.leak, pn.leak, "leak", l.name, findings);
    const size = layerSize(l);
    return {
      neuron: { ...DEFAULT_NEURON, model: "integrator", vMin, ...(vInit !== 0 ? { vInit } : {}), leakQ15s: leak.each ?? new Uint16Array(size).fill(leak.one) },
      ...(bias ? { bias } : {}),
    };
  }
  const reset =
    n.reset === "subtract"
      ? { reset: "subtract" as const, resetValue: 0, ...(n.resetDelay ? { resetDelay: true } : {}), ...(n.multiSpike ? { multiSpike: true } : {}) }
      : { reset: "value" as const, resetValue: Math.max(vMin, Math.min(threshold - 1, vReset)) };
  const compare = n.compare === "gt" ? { compare: "gt" as const } : {};
  const stateless = n.model === "threshold";
  const leak = stateless ? { one: 0 } : n.model === "if" ? { one: 32767 } : retentions(n.leak, pn.leak, "leak", l.name, findings);
  if (n.synDecay !== undefined || pn.synDecay) {
    const syn = retentions(n.synDecay ?? 0, pn.synDecay, "synDecay", l.name, findings);
    return {
      neuron: {
        ...DEFAULT_NEURON,
        ...common,
        ...reset,
        ...compare,
        model: "cuba",
        synapse: "q15",
        leakQ15: leak.one,
        ...(leak.each ? { leakQ15s: leak.each } : {}),
        ...(syn.each ? { currentQ15s: syn.each } : syn.one !== 0 ? { currentQ15: syn.one } : {}),
      },
      ...(bias ? { bias } : {}),
    };
  }
  const model = n.model === "if" ? ("if" as const) : ("lif-q15" as const);
  return {
    neuron: {
      ...DEFAULT_NEURON,
      ...common,
      ...reset,
      ...compare,
      model,
      leakQ15: model === "if" ? 32767 : leak.one,
      ...(model !== "if" && leak.each ? { leakQ15s: leak.each } : {}),
    },
    ...(bias ? { bias } : {}),
  };
}

/** Quantizes recurrent weights (outputs × outputs) in the layer's membrane unit, per channel or per layer like the feed-forward ones. */
function quantizeRecurrent(
  w: Float32Array,
  outputs: number,
  scale: number,
  bits: WeightBits,
  qmax: number,
  perChannel: boolean,
  layer: string,
  findings: RuleFinding[],
): Connection {
  const chMax = new Float64Array(perChannel ? outputs : 1);
  for (let i = 0; i < w.length; i++) {
    const c = perChannel ? i % outputs : 0;
    chMax[c] = Math.max(chMax[c]!, Math.abs(w[i]!));
  }
  const shifts = Array.from(chMax, (m) => (m > 0 ? Math.max(0, Math.ceil(Math.log2(m / (qmax * scale)) - 1e-12)) : 0));
  if (Math.max(...shifts) > 23) {
    findings.push({ level: "error", layer, rule: "saturation", message: `layer ${layer}: recurrent weights need a shift above 23 in the layer's unit` });
  }
  const q = new Int32Array(w.length);
  for (let i = 0; i < q.length; i++) {
    const step = scale * 2 ** Math.min(23, shifts[perChannel ? i % outputs : 0]!);
    q[i] = Math.max(-qmax, Math.min(qmax, Math.round(w[i]! / step)));
  }
  return {
    kind: "dense",
    inputs: outputs,
    outputs,
    weights: packWeights(
      q,
      bits,
      shifts.map((x) => Math.min(23, x)),
    ),
  };
}

function truncateUtf8(s: string, maxBytes: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= maxBytes) return s;
  let out = s;
  while (enc.encode(out).length > maxBytes) out = out.slice(0, -1);
  return out;
}

/**
 * Float simulation statistics for the saturation rule: runs the float SNN on `count` images for
 * `steps` steps with the given encoding and records per-layer extremes.
 */
export function calibrationStats(snn: FloatSnn, images: Uint8Array, count: number, steps: number, encoding: "current" | "rate"): CalibrationStats {
  const prepared = prepareLayers(snn);
  try {
    const r = simulateFloat(snn, prepared, images, count, [steps], encoding);
    return { maxMembrane: r.maxMembrane, maxStepInput: r.maxStepInput, images: count, steps };
  } finally {
    disposePrepared(prepared);
  }
}
