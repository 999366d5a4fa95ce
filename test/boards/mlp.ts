/** The test MLP shared by the board end-to-end tests and the library test. */
import { DEFAULT_NEURON, type EventTable, type Weights } from "../../runtime/model.js";
import { Xorshift32 } from "../../runtime/prng.js";

/** A 784-hidden-10 dense int8 MLP with seeded random weights and rate-coded input (MNIST-shaped). */
export function mlpTable(hidden: number, seed: number): EventTable {
  const g = new Xorshift32(seed);
  const weights = (count: number): Weights => {
    const data = new Int8Array(count);
    for (let q = 0; q < count; q++) data[q] = Math.min(127, (g.next() % 256) - 100);
    return { bits: 8, data, count, shift: Uint8Array.of(0) };
  };
  const neuron = (threshold: number) => ({ ...DEFAULT_NEURON, model: "lif-shift" as const, leakShift: 4, threshold });
  return {
    input: { size: 784, shape: [1, 28, 28], encoding: "rate", seed: 1 },
    layers: [
      { name: "hidden", size: hidden, input: { kind: "dense", inputs: 784, outputs: hidden, weights: weights(784 * hidden) }, neuron: neuron(3000) },
      { name: "out", size: 10, input: { kind: "dense", inputs: hidden, outputs: 10, weights: weights(hidden * 10) }, neuron: neuron(800) },
    ],
    readout: { kind: "count" },
    provenance: { source: "test", tool: "test/boards/e2e.test.ts", settings: {}, layerScales: [1, 1] },
  };
}
