/**
 * Runs input samples through the reference interpreter (spec/ops.md) and reports what `run` and
 * `eval` print: per sample the readout class and the output layer's spike counts (and membranes for
 * an integrating readout), and totals: spikes per layer, synaptic events, accuracy on labelled
 * samples, speed.
 */
import type { InputSample } from "./events.js";
import { Interpreter } from "./interpreter.js";
import type { EventTable } from "./model.js";

/** Result of one sample. */
export interface RunSampleResult {
  readonly sample: number;
  readonly label?: number;
  /** Readout class (spec/ops.md §9). */
  readonly class: number;
  /** Spikes per neuron of the last layer over the sample. */
  readonly outputCounts: number[];
  /** Final membranes of the last layer, for `membrane` readouts. */
  readonly outputMembrane?: number[];
  /** The same values under the name the float run uses (both are written). */
  readonly outputMembranes?: number[];
}

/** What `run` reports. */
export interface RunReport {
  readonly samples: RunSampleResult[];
  readonly steps: number;
  /** Spikes per layer summed over all samples. */
  readonly spikesPerLayer: number[];
  readonly synapticEvents: number;
  /** Fraction of labelled samples whose class equals the label (absent without labels). */
  readonly accuracy?: number;
  readonly seconds: number;
  readonly stepsPerSecond: number;
  readonly synapticEventsPerSecond: number;
}

/** Runs up to `maxSamples` samples of `samples` through a fresh interpreter, resetting it before each. */
export function runSamples(table: EventTable, samples: Iterable<InputSample>, maxSamples: number): RunReport {
  const interp = new Interpreter(table);
  const last = table.layers.length - 1;
  const spikesPerLayer = new Array<number>(table.layers.length).fill(0);
  const results: RunSampleResult[] = [];
  let totalSteps = 0;
  let labelled = 0;
  let correct = 0;
  const t0 = performance.now();
  for (const sample of samples) {
    if (results.length >= maxSamples) break;
    interp.reset();
    for (const events of sample.steps) interp.step(events);
    totalSteps += sample.steps.length;
    for (let l = 0; l <= last; l++) for (const c of interp.spikeCounts(l)) spikesPerLayer[l]! += c;
    const cls = interp.readoutClass();
    if (sample.label !== undefined) {
      labelled++;
      if (cls === sample.label) correct++;
    }
    results.push({
      sample: results.length,
      ...(sample.label === undefined ? {} : { label: sample.label }),
      class: cls,
      outputCounts: Array.from(interp.spikeCounts(last)),
      ...(table.readout.kind === "membrane" ? { outputMembrane: Array.from(interp.membrane(last)), outputMembranes: Array.from(interp.membrane(last)) } : {}),
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  const perSecond = (x: number): number => (seconds > 0 ? Math.round(x / seconds) : 0);
  return {
    samples: results,
    steps: totalSteps,
    spikesPerLayer,
    synapticEvents: interp.synapticEvents,
    ...(labelled > 0 ? { accuracy: correct / labelled } : {}),
    seconds: Math.round(seconds * 1000) / 1000,
    stepsPerSecond: perSecond(totalSteps),
    synapticEventsPerSecond: perSecond(interp.synapticEvents),
  };
}
