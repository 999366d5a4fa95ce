/**
 * compare: the same input through a device (a BoardSession, lockstep) and the reference
 * interpreter, step by step. Spikes of every reportable layer (< 32) are compared after each step,
 * membranes of every layer are read back and compared at the end of each sample (or after every
 * step on request), and so are the learned weights of every layer that learns on the device (a
 * plastic model's weights change as it runs, and the device must learn what the interpreter
 * learns); the verdict is bit-exact or not, with the first divergence located to its sample, step,
 * layer and neuron (or synapse) and both values.
 */
import type { InputSample, StepEvents } from "../../runtime/events.js";
import { NO_EVENTS } from "../../runtime/events.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { plasticLayers } from "../../runtime/learned.js";
import type { EventTable } from "../../runtime/model.js";
import { storedWeights16 } from "../../runtime/plasticity.js";
import { weightsFromBytes } from "../bridge/checkpoint.js";
import { allLayersMask, type BoardSession } from "../bridge/session.js";
import { CAP, STATE_KIND, type SpikeSection } from "../wire/messages.js";

/** Names of the HELLO_ACK cost units (spec/protocol.md §3, cost_unit). */
const COST_UNITS = ["none", "cycles", "instructions", "µs"] as const;

/** Per-step cost the device measured (its own counter), over every compared step. */
export interface StepCost {
  /** What one unit is: cycles, instructions (QEMU -icount) or µs (native wall time). */
  readonly unit: (typeof COST_UNITS)[number];
  readonly mean: number;
  readonly median: number;
  readonly max: number;
}

/** Where device and interpreter first disagreed. */
export interface Divergence {
  /** Sample index (0-based) in the input source. */
  readonly sample: number;
  /** Step within the sample (the device's step number after its reset). */
  readonly step: number;
  readonly layer: number;
  /** The neuron; for `weight`, the synapse's index in the layer's stored order (spec/table-format.md). */
  readonly neuron: number;
  /** `spike`: values are 1 (fired) or 0; `membrane`: the int32 membranes after `step`; `weight`: a learned weight at the end of the sample. */
  readonly kind: "spike" | "membrane" | "weight";
  readonly device: number;
  readonly interpreter: number;
}

/** Options of compareRun. */
export interface CompareOptions {
  /** Steps per sample (shorter samples are padded with empty steps). */
  readonly steps: number;
  /** Most samples taken from the source. Default: all (the source must then end). */
  readonly maxSamples?: number;
  /** Read membranes back after every step, not only at the end of each sample (slower; pins a divergence to its step). */
  readonly membranesEveryStep?: boolean;
  /** Stops cleanly between steps when aborted. */
  readonly signal?: AbortSignal;
  /** Called after each sample. */
  readonly onSample?: (done: number, report: CompareReport) => void;
  /** Called after each step with both sides' spikes (for rasters and recordings; arrays are the callee's to keep). */
  readonly onStep?: (step: CompareStep) => void;
  /** Called with the device's membranes of every layer each time they are read back (end of sample, or every step); arrays are the callee's to keep. */
  readonly onMembranes?: (read: { readonly sample: number; readonly step: number; readonly device: readonly Int32Array[] }) => void;
}

/** One compared step, as onStep sees it. */
export interface CompareStep {
  readonly sample: number;
  readonly step: number;
  /** The input events applied. */
  readonly input: StepEvents;
  /** Spikes per layer (layers ≥ 32 are not reported by the device: empty there). */
  readonly device: readonly Uint32Array[];
  readonly interpreter: readonly Uint32Array[];
  /** The interpreter's membranes after the step for layers that never spike (integrators), null for the others. */
  readonly interpreterMembranes: readonly (Int32Array | null)[];
}

/** The result of a comparison. */
export interface CompareReport {
  /** True when every compared spike and membrane matched (and nothing was interrupted). */
  readonly bitExact: boolean;
  readonly samples: number;
  /** Steps run on both sides in total. */
  readonly steps: number;
  /** Output-layer spikes the device produced (output layer ≥ 32: counted from the interpreter). */
  readonly outputSpikes: number;
  /** Output-layer spikes of the interpreter. */
  readonly interpreterOutputSpikes: number;
  readonly firstDivergence: Divergence | null;
  /** Layers whose spikes were compared every step. */
  readonly spikeLayersCompared: number;
  /** Membrane arrays read back and compared. */
  readonly membraneChecks: number;
  /** Learned weight arrays of plastic layers read back and compared (one per plastic layer and sample; 0 for a model that does not learn). */
  readonly weightChecks: number;
  /** Accuracy of the device's and the interpreter's readout class on labelled samples (null without labels). */
  readonly deviceAccuracy: number | null;
  readonly interpreterAccuracy: number | null;
  /** Per-step cost reported by the device, when it has the COST capability (else null). */
  readonly costPerStep: StepCost | null;
  /** True when stopped by the abort signal before the source ended. */
  readonly interrupted: boolean;
}

/** First neuron at which two ascending spike lists differ: [neuron, device value, interpreter value], or undefined. */
export function firstSpikeDifference(device: Uint32Array, interp: Uint32Array): [number, number, number] | undefined {
  let i = 0;
  let j = 0;
  while (i < device.length || j < interp.length) {
    const d = i < device.length ? device[i]! : Infinity;
    const s = j < interp.length ? interp[j]! : Infinity;
    if (d === s) {
      i++;
      j++;
    } else return d < s ? [d, 1, 0] : [s, 0, 1];
  }
  return undefined;
}

function spikesOf(sections: readonly SpikeSection[], layer: number): Uint32Array {
  return sections.find((s) => s.layer === layer)?.indices ?? new Uint32Array(0);
}

function argmax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let j = 1; j < scores.length; j++) if (scores[j]! > scores[best]!) best = j;
  return best;
}

/** Runs `samples` through the device and the interpreter in lockstep and compares them. */
export async function compareRun(session: BoardSession, table: EventTable, samples: Iterable<InputSample>, options: CompareOptions): Promise<CompareReport> {
  const interp = new Interpreter(table);
  const layerCount = table.layers.length;
  const last = layerCount - 1;
  const spikeLayers = Math.min(32, layerCount);
  const mask = allLayersMask(layerCount);
  const maxSamples = options.maxSamples ?? Infinity;
  let first: Divergence | null = null;
  let sampleCount = 0;
  let totalSteps = 0;
  let outputSpikes = 0;
  let interpOutputSpikes = 0;
  let membraneChecks = 0;
  let weightChecks = 0;
  let labelled = 0;
  let deviceCorrect = 0;
  let interpCorrect = 0;
  let interrupted = false;

  const checkMembranes = async (sample: number, step: number): Promise<Int32Array[]> => {
    const arrays: Int32Array[] = [];
    for (let l = 0; l < layerCount; l++) {
      const device = await session.readMembranes(l);
      const reference = interp.membrane(l);
      membraneChecks++;
      arrays.push(device);
      if (first !== null) continue;
      if (device.length !== reference.length) {
        first = {
          sample,
          step,
          layer: l,
          neuron: Math.min(device.length, reference.length),
          kind: "membrane",
          device: device.length,
          interpreter: reference.length,
        };
        continue;
      }
      for (let j = 0; j < device.length; j++) {
        if (device[j] !== reference[j]) {
          first = { sample, step, layer: l, neuron: j, kind: "membrane", device: device[j]!, interpreter: reference[j]! };
          break;
        }
      }
    }
    options.onMembranes?.({ sample, step, device: arrays });
    return arrays;
  };

  // The layers whose weights the device learns (spec/ops.md §11; the reader refuses other plastic kinds).
  const learners = plasticLayers(table).filter((l) => table.layers[l]!.input.kind === "dense" || table.layers[l]!.input.kind === "sparse");
  const checkWeights = async (sample: number, step: number): Promise<void> => {
    for (const l of learners) {
      const input = table.layers[l]!.input;
      if (input.kind !== "dense" && input.kind !== "sparse") continue;
      const device = storedWeights16(weightsFromBytes(await session.readState(STATE_KIND.WEIGHTS, l), input.weights));
      const reference = interp.weights(l);
      weightChecks++;
      if (first !== null) continue;
      const q = device.findIndex((w, i) => w !== reference[i]);
      if (q >= 0) first = { sample, step, layer: l, neuron: q, kind: "weight", device: device[q]!, interpreter: reference[q]! };
    }
  };

  const wantCost = session.has(CAP.COST);
  const costs: number[] = [];
  const report = (): CompareReport => ({
    bitExact: first === null && !interrupted && sampleCount > 0,
    samples: sampleCount,
    steps: totalSteps,
    outputSpikes,
    interpreterOutputSpikes: interpOutputSpikes,
    firstDivergence: first,
    spikeLayersCompared: spikeLayers,
    membraneChecks,
    weightChecks,
    deviceAccuracy: labelled > 0 ? deviceCorrect / labelled : null,
    interpreterAccuracy: labelled > 0 ? interpCorrect / labelled : null,
    costPerStep: summarizeCost(costs, session.info.costUnit),
    interrupted,
  });

  for (const sample of samples) {
    if (sampleCount >= maxSamples) break;
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
    await session.resetState();
    interp.reset();
    const deviceCounts = new Uint32Array(table.layers[last]!.size);
    for (let t = 0; t < options.steps; t++) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const events: StepEvents = sample.steps[t] ?? NO_EVENTS;
      const out = await session.step(t, events, mask, wantCost);
      if (out.cost !== undefined) costs.push(out.cost);
      interp.step(events);
      totalSteps++;
      for (let l = 0; l < spikeLayers; l++) {
        const device = spikesOf(out.sections, l);
        if (l === last) {
          outputSpikes += device.length;
          for (const j of device) if (j < deviceCounts.length) deviceCounts[j]!++;
        }
        if (first === null) {
          const diff = firstSpikeDifference(device, interp.lastSpikes(l));
          if (diff) first = { sample: sampleCount, step: t, layer: l, neuron: diff[0], kind: "spike", device: diff[1], interpreter: diff[2] };
        }
      }
      if (options.onStep) {
        const device: Uint32Array[] = [];
        const reference: Uint32Array[] = [];
        for (let l = 0; l < layerCount; l++) {
          device.push(l < spikeLayers ? spikesOf(out.sections, l).slice() : new Uint32Array(0));
          reference.push(interp.lastSpikes(l).slice());
        }
        const membranes = table.layers.map((layer, l) => (layer.neuron.model === "integrator" ? interp.membrane(l).slice() : null));
        options.onStep({ sample: sampleCount, step: t, input: events, device, interpreter: reference, interpreterMembranes: membranes });
      }
      interpOutputSpikes += interp.lastSpikes(last).length;
      if (last >= 32) outputSpikes += interp.lastSpikes(last).length;
      if (options.membranesEveryStep && first === null) await checkMembranes(sampleCount, t);
    }
    if (interrupted) break;
    const membranes = await checkMembranes(sampleCount, options.steps - 1);
    await checkWeights(sampleCount, options.steps - 1);
    if (sample.label !== undefined) {
      labelled++;
      const deviceClass = table.readout.kind === "membrane" ? argmax(membranes[last]!) : argmax(last < 32 ? deviceCounts : interp.spikeCounts(last));
      if (deviceClass === sample.label) deviceCorrect++;
      if (interp.readoutClass() === sample.label) interpCorrect++;
    }
    sampleCount++;
    options.onSample?.(sampleCount, report());
  }
  return report();
}

/** Mean, median and max of the per-step costs, or null when the device reported none. */
function summarizeCost(costs: readonly number[], unit: number): StepCost | null {
  if (costs.length === 0) return null;
  const sorted = [...costs].sort((a, b) => a - b);
  const mean = costs.reduce((a, b) => a + b, 0) / costs.length;
  return { unit: COST_UNITS[unit] ?? "none", mean: Math.round(mean * 10) / 10, median: sorted[sorted.length >> 1]!, max: sorted[sorted.length - 1]! };
}
