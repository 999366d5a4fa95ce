/**
 * Accuracy of an event table on the TypeScript interpreter (the reference integer semantics).
 * A run of T steps is the prefix of a longer run (same inputs, same PRNG draws), so one run of
 * max(T) steps per image reads the class out at every requested T. With the `current` encoding
 * (and a layer 0 that does not learn) each image's input is folded once and held (spec/ops.md §7.3):
 * the same integers, and synaptic events counted as a device with held input does them (the fold
 * once, then the spikes of each step).
 */
import { Interpreter, encodeSample } from "../runtime/interpreter.js";
import type { EventTable } from "../runtime/model.js";
import { fail } from "../runtime/errors.js";
import { image, type ImageSet } from "../runtime/datasets.js";
import type { FloatSnn } from "./float-snn.js";
import { FloatSimulator } from "./float-sim.js";

/** Results of evaluating one table on a set of images. */
export interface TableEvaluation {
  readonly samples: number;
  /** Per requested step count: accuracy (fraction), mean spikes and synaptic events per sample up to that step. */
  readonly perSteps: Array<{ steps: number; accuracy: number; meanSpikesPerSample: number; synEventsPerSample: number; neuronUpdatesPerSample: number }>;
}

/**
 * Runs every image of `set` for max(steps) steps on the interpreter and scores the readout after
 * each entry of `steps`. `onImage` is called after each image (progress).
 */
export function evaluateTable(table: EventTable, set: ImageSet, steps: readonly number[], onImage?: (done: number) => void): TableEvaluation {
  if (set.height * set.width !== table.input.size) {
    fail("CLI_USAGE", `the model takes ${table.input.size} inputs but the dataset's images have ${set.height * set.width} pixels`);
  }
  if (steps.length === 0 || steps.some((t) => !Number.isInteger(t) || t < 1)) fail("CLI_USAGE", "steps must be positive integers");
  const sorted = [...new Set(steps)].sort((a, b) => a - b);
  const maxT = sorted[sorted.length - 1]!;
  const interp = new Interpreter(table);
  const heldInput = table.input.encoding === "current" && table.layers[0]!.plasticity === undefined;
  const neurons = table.layers.reduce((n, l) => n + l.size, 0);
  const correct = new Float64Array(sorted.length);
  const spikes = new Float64Array(sorted.length);
  const syn = new Float64Array(sorted.length);
  for (let i = 0; i < set.count; i++) {
    interp.reset();
    // `current` input is the same every step: fold it once and step it held (spec/ops.md §7.3), the
    // same integers as stepping the events, and the synaptic events a device with held input does
    const synStart = interp.synapticEvents;
    const held = heldInput ? interp.holdInput(encodeSample(table.input, image(set, i), 1)[0]!) : undefined;
    const events = held === undefined ? encodeSample(table.input, image(set, i), maxT) : [];
    let k = 0;
    for (let t = 1; t <= maxT; t++) {
      if (held !== undefined) interp.stepHeld(held);
      else interp.step(events[t - 1]!);
      if (t === sorted[k]) {
        if (interp.readoutClass() === set.labels[i]) correct[k]! += 1;
        let s = 0;
        for (let l = 0; l < interp.layerCount; l++) for (const c of interp.spikeCounts(l)) s += c;
        spikes[k]! += s;
        syn[k]! += interp.synapticEvents - synStart;
        k++;
      }
    }
    onImage?.(i + 1);
  }
  return {
    samples: set.count,
    perSteps: sorted.map((t, k) => ({
      steps: t,
      accuracy: correct[k]! / set.count,
      meanSpikesPerSample: spikes[k]! / set.count,
      synEventsPerSample: syn[k]! / set.count,
      neuronUpdatesPerSample: neurons * t,
    })),
  };
}

/**
 * Accuracy of a float SNN (the float simulator, models/float-sim.ts) on a set of images, each
 * encoded as the interpreter would encode it (`rate` spikes from the seeded PRNG, or `current`
 * intensities worth intensity × the SNN's input scale).
 */
export function evaluateFloat(
  snn: FloatSnn,
  set: ImageSet,
  steps: number,
  encoding: "rate" | "current" = snn.input.encoding,
  seed = 1,
): { samples: number; accuracy: number } {
  const size = snn.input.shape[0] * snn.input.shape[1] * snn.input.shape[2];
  if (set.height * set.width !== size) fail("CLI_USAGE", `the model takes ${size} inputs but the dataset's images have ${set.height * set.width} pixels`);
  const sim = new FloatSimulator(encoding === snn.input.encoding ? snn : { ...snn, input: { ...snn.input, encoding } });
  let correct = 0;
  for (let i = 0; i < set.count; i++) {
    const events = encodeSample({ size, encoding, seed }, image(set, i), steps);
    if (sim.runSample({ steps: events }).class === set.labels[i]) correct++;
  }
  return { samples: set.count, accuracy: set.count > 0 ? correct / set.count : 0 };
}
