/**
 * Event-driven float simulation of a float SNN (spec/float-snn.md §5, both versions), one sample at
 * a time in float64, on the same input events the interpreter takes. It carries every version-2
 * neuron rule (delayed and multi-spike subtraction, `>` or `≥`, reset to a value, a membrane
 * floor, an initial membrane, a current-based synapse, recurrent weights), so a model imported
 * from NIR runs here exactly as its framework ran it, before any quantization.
 */
import type { InputSample } from "../runtime/events.js";
import { layerSize, type FloatLayer, type FloatSnn } from "./float-snn.js";

/** What one sample gave. */
export interface FloatSampleResult {
  /** Spikes per neuron of the last layer over the sample (a multi-spike step counts n). */
  readonly outputCounts: number[];
  /** Final membranes of the last layer, for a non-spiking (integrator) output. */
  readonly outputMembranes?: number[];
  /** Readout class: argmax of the membranes (integrator) or of the counts; ties to the lowest index. */
  readonly class: number;
}

/** Every per-neuron value a layer steps with, scalars broadcast. */
interface Prepared {
  readonly layer: FloatLayer;
  readonly size: number;
  readonly threshold: Float64Array;
  readonly leak: Float64Array;
  readonly bias: Float64Array;
  readonly vReset: Float64Array;
  readonly vInit: Float64Array;
  readonly synDecay: Float64Array | undefined;
  /** Adds this step's input current from the previous layer's activity (spike counts or input values). */
  readonly accumulate: (x: Float64Array, out: Float64Array) => void;
}

function perNeuron(size: number, scalar: number, values: Float32Array | undefined): Float64Array {
  return values ? Float64Array.from(values) : new Float64Array(size).fill(scalar);
}

function prepare(layer: FloatLayer): Prepared {
  const size = layerSize(layer);
  const n = layer.neuron;
  const pn = n.perNeuron ?? {};
  const bias = new Float64Array(size);
  if (pn.bias) bias.set(pn.bias);
  else if (layer.bias) {
    const per = layer.kind === "dense" ? 1 : layer.outShape[1] * layer.outShape[2];
    for (let j = 0; j < size; j++) bias[j] = layer.bias[Math.floor(j / per)]!;
  }
  return {
    layer,
    size,
    threshold: perNeuron(size, n.threshold, pn.threshold),
    leak: perNeuron(size, n.leak, pn.leak),
    bias,
    vReset: perNeuron(size, n.reset === "zero" ? 0 : (n.vReset ?? 0), pn.vReset),
    vInit: perNeuron(size, n.vInit ?? 0, pn.vInit),
    synDecay: n.synDecay !== undefined || pn.synDecay ? perNeuron(size, n.synDecay ?? 0, pn.synDecay) : undefined,
    accumulate: accumulator(layer),
  };
}

/** The layer's synaptic map, driven by the non-zero entries of the previous activity (event-driven). */
function accumulator(l: FloatLayer): (x: Float64Array, out: Float64Array) => void {
  if (l.kind === "dense") {
    const { outputs, weights } = l;
    return (x, out) => {
      for (let i = 0; i < x.length; i++) {
        const xi = x[i]!;
        if (xi === 0) continue;
        const row = i * outputs;
        for (let j = 0; j < outputs; j++) out[j]! += xi * weights[row + j]!;
      }
    };
  }
  const [C, H, W] = l.inShape;
  const [K, OH, OW] = l.outShape;
  const [kh, kw] = l.kernel;
  const [sy, sx] = l.stride;
  const [py, px] = l.kind === "conv2d" ? l.padding : [0, 0];
  return (x, out) => {
    for (let c = 0; c < C; c++)
      for (let y = 0; y < H; y++)
        for (let xx = 0; xx < W; xx++) {
          const xi = x[(c * H + y) * W + xx]!;
          if (xi === 0) continue;
          // every output window that covers input (y, xx): oy·sy − py + ky = y
          for (let ky = 0; ky < kh; ky++) {
            const ty = y + py - ky;
            if (ty < 0 || ty % sy !== 0) continue;
            const oy = ty / sy;
            if (oy >= OH) continue;
            for (let kx = 0; kx < kw; kx++) {
              const tx = xx + px - kx;
              if (tx < 0 || tx % sx !== 0) continue;
              const ox = tx / sx;
              if (ox >= OW) continue;
              if (l.kind === "pool") out[(c * OH + oy) * OW + ox]! += xi * l.weight;
              else for (let k = 0; k < K; k++) out[(k * OH + oy) * OW + ox]! += xi * l.weights[((k * C + c) * kh + ky) * kw + kx]!;
            }
          }
        }
  };
}

/** A float SNN ready to run samples. */
export class FloatSimulator {
  private readonly layers: Prepared[];
  private readonly inputSize: number;

  constructor(private readonly snn: FloatSnn) {
    this.layers = snn.layers.map(prepare);
    this.inputSize = snn.input.shape[0] * snn.input.shape[1] * snn.input.shape[2];
  }

  /** Runs one sample from the initial state (every sample starts afresh). */
  runSample(sample: InputSample): FloatSampleResult {
    const L = this.layers.length;
    const v = this.layers.map((p) => Float64Array.from(p.vInit));
    const syn = this.layers.map((p) => (p.synDecay ? new Float64Array(p.size) : undefined));
    const spikes = this.layers.map((p) => new Float64Array(p.size));
    const prevSpikes = this.layers.map((p) => new Float64Array(p.size));
    const refractory = this.layers.map((p) => new Int32Array(p.size));
    const counts = new Float64Array(this.layers[L - 1]!.size);
    const x0 = new Float64Array(this.inputSize);
    const current = this.layers.map((p) => new Float64Array(p.size));
    const graded = this.snn.input.encoding === "current";
    for (const step of sample.steps) {
      x0.fill(0);
      step.indices.forEach((i, k) => {
        x0[i] = graded ? (step.values?.[k] ?? 1) * this.snn.input.scale : 1;
      });
      let x = x0;
      for (let l = 0; l < L; l++) {
        const p = this.layers[l]!;
        const n = p.layer.neuron;
        const I = current[l]!;
        I.fill(0);
        p.accumulate(x, I);
        prevSpikes[l]!.set(spikes[l]!);
        if (p.layer.kind === "dense" && p.layer.recurrent) {
          const rec = p.layer.recurrent;
          const prev = prevSpikes[l]!;
          for (let i = 0; i < p.size; i++) {
            const s = prev[i]!;
            if (s !== 0) for (let j = 0; j < p.size; j++) I[j]! += s * rec[i * p.size + j]!;
          }
        }
        stepNeurons(p, n, v[l]!, syn[l], I, spikes[l]!, prevSpikes[l]!, refractory[l]!);
        x = spikes[l]!;
      }
      const last = spikes[L - 1]!;
      for (let j = 0; j < counts.length; j++) counts[j]! += last[j]!;
    }
    const lastLayer = this.layers[L - 1]!;
    const integrator = lastLayer.layer.neuron.model === "integrator";
    const outputMembranes = integrator ? Array.from(v[L - 1]!) : undefined;
    const scores = outputMembranes ?? Array.from(counts);
    let cls = 0;
    for (let j = 1; j < scores.length; j++) if (scores[j]! > scores[cls]!) cls = j;
    return { outputCounts: Array.from(counts), ...(outputMembranes ? { outputMembranes } : {}), class: cls };
  }
}

/**
 * One step of one layer's neurons (spec/float-snn.md §5 and §5.1), in this order: refractory
 * count-down; synapse (i ← decay·i + bias + input, when there is one); leak; bias and input (or i); the delayed subtraction of last
 * step's spikes; the spike test (`≥` or `>`, n = floor(v/θ) for multi-spike); reset; floor.
 */
function stepNeurons(
  p: Prepared,
  n: FloatLayer["neuron"],
  v: Float64Array,
  syn: Float64Array | undefined,
  I: Float64Array,
  spikes: Float64Array,
  prev: Float64Array,
  refractory: Int32Array,
): void {
  const gt = n.compare === "gt";
  for (let j = 0; j < p.size; j++) {
    spikes[j] = 0;
    if (refractory[j]! > 0) {
      refractory[j]!--;
      v[j] = p.leak[j]! * v[j]!;
      continue;
    }
    // with a current-based synapse the bias is a current too: it enters i, not v
    let drive = I[j]! + p.bias[j]!;
    if (syn) {
      syn[j] = p.synDecay![j]! * syn[j]! + drive;
      drive = syn[j]!;
    }
    const theta = p.threshold[j]!;
    let vj = n.model === "threshold" ? drive : p.leak[j]! * v[j]! + drive;
    if (n.resetDelay) vj -= theta * prev[j]!;
    if (n.model !== "integrator" && (gt ? vj > theta : vj >= theta)) {
      const count = n.multiSpike ? Math.floor(vj / theta) : 1;
      spikes[j] = count;
      if (!n.resetDelay) {
        if (n.reset === "subtract") vj -= count * theta;
        else vj = p.vReset[j]!;
      }
      if (n.refractory > 0) refractory[j] = n.refractory;
    }
    if (n.vMin !== undefined && vj < n.vMin) vj = n.vMin;
    v[j] = n.model === "threshold" ? 0 : vj;
  }
}

/** What `run` reports for a float SNN. */
export interface FloatRunReport {
  readonly samples: Array<FloatSampleResult & { readonly sample: number; readonly label?: number }>;
  readonly steps: number;
  readonly accuracy?: number;
}

/** Runs up to `maxSamples` samples, each from the initial state. */
export function runFloatSamples(snn: FloatSnn, samples: Iterable<InputSample>, maxSamples: number): FloatRunReport {
  const sim = new FloatSimulator(snn);
  const out: Array<FloatSampleResult & { sample: number; label?: number }> = [];
  let steps = 0;
  let labelled = 0;
  let correct = 0;
  for (const s of samples) {
    if (out.length >= maxSamples) break;
    const r = sim.runSample(s);
    steps += s.steps.length;
    if (s.label !== undefined) {
      labelled++;
      if (r.class === s.label) correct++;
    }
    out.push({ sample: out.length, ...(s.label === undefined ? {} : { label: s.label }), ...r });
  }
  return { samples: out, steps, ...(labelled > 0 ? { accuracy: correct / labelled } : {}) };
}
