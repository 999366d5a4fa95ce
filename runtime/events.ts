/**
 * Spike events as they move between sources, encoders, the interpreter, the bridge and the
 * device. One step's input is a list of (neuron index, value) pairs; value is 1 for a spike and
 * 1..255 for a graded event (the `current` input encoding).
 */

/** The input events of one step, indices strictly ascending. */
export interface StepEvents {
  /** Input neuron indices, strictly ascending, each < the model's input size. */
  readonly indices: Uint32Array;
  /** Event values 1..255, same length as indices; absent means all 1. */
  readonly values?: Uint8Array;
}

/** One sample of an input source: the events of each of its steps, and a label when known. */
export interface InputSample {
  /** Events per step; steps.length is the sample's duration. */
  readonly steps: readonly StepEvents[];
  /** Class label, when the source has one (datasets). */
  readonly label?: number;
}

/** No events. Shared instance; never mutate. */
export const NO_EVENTS: StepEvents = Object.freeze({ indices: new Uint32Array(0) }) as StepEvents;

/** Builds StepEvents from unsorted indices (and values), sorting and rejecting duplicates. */
export function stepEvents(indices: ArrayLike<number>, values?: ArrayLike<number>): StepEvents {
  const order = Array.from({ length: indices.length }, (_, i) => i).sort((a, b) => indices[a]! - indices[b]!);
  const idx = new Uint32Array(order.length);
  const val = values ? new Uint8Array(order.length) : undefined;
  order.forEach((src, k) => {
    idx[k] = indices[src]!;
    if (val && values) val[k] = values[src]!;
  });
  for (let k = 1; k < idx.length; k++) {
    if (idx[k] === idx[k - 1]) throw new RangeError(`duplicate input index ${idx[k]} in one step`);
  }
  return val ? { indices: idx, values: val } : { indices: idx };
}
