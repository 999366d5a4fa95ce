/**
 * Interpreter throughput: synaptic events per second and steps per second of the reference
 * interpreter (runtime/interpreter.ts) on a 784-256-10 dense model and a small conv model
 * (1x28x28 → conv 8x5x5 stride 2 → sum-pool 2x2 → dense 10), with seeded random int8 weights and
 * rate-coded input (encoded before timing, so only stepping is measured).
 */
import type { StepEvents } from "../runtime/events.js";
import { Interpreter, encodeSample } from "../runtime/interpreter.js";
import { ReferenceInterpreter } from "../runtime/testing/reference-interpreter.js";
import { DEFAULT_NEURON, type EventTable, type Layer, type NeuronParams, type Weights } from "../runtime/model.js";
import { Xorshift32 } from "../runtime/prng.js";
import { median, timeRuns, type BenchModule, type BenchRow } from "./harness.js";

const INPUT_SIZE = 28 * 28;

/** int8 weights drawn from `g`, uniform in -100..155 clipped to 127 (a positive mean keeps layers active). */
function randomWeights(g: Xorshift32, count: number): Weights {
  const data = new Int8Array(count);
  for (let q = 0; q < count; q++) data[q] = Math.min(127, (g.next() % 256) - 100);
  return { bits: 8, data, count, shift: Uint8Array.of(0) };
}

function neuron(threshold: number, extra: Partial<NeuronParams> = {}): NeuronParams {
  return { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 4, threshold, ...extra };
}

function table(layers: Layer[]): EventTable {
  return {
    input: { size: INPUT_SIZE, shape: [1, 28, 28], encoding: "rate", seed: 1 },
    layers,
    readout: { kind: "count" },
    provenance: { source: "bench", tool: "perf/interpreter.bench.ts", settings: {}, layerScales: layers.map(() => 1) },
  };
}

/** 784-256-10 dense, LIF with shift leak. */
export function denseModel(seed: number): EventTable {
  const g = new Xorshift32(seed);
  return table([
    {
      name: "hidden",
      size: 256,
      input: { kind: "dense", inputs: INPUT_SIZE, outputs: 256, weights: randomWeights(g, INPUT_SIZE * 256) },
      neuron: neuron(20000),
    },
    { name: "out", size: 10, input: { kind: "dense", inputs: 256, outputs: 10, weights: randomWeights(g, 2560) }, neuron: neuron(2000) },
  ]);
}

/** 1x28x28 → conv 8x5x5 stride 2 padding 2 (8x14x14) → sum-pool 2x2 (8x7x7) → dense 10. */
export function convModel(seed: number): EventTable {
  const g = new Xorshift32(seed);
  return table([
    {
      name: "conv",
      size: 8 * 14 * 14,
      shape: [8, 14, 14],
      input: {
        kind: "conv2d",
        inShape: [1, 28, 28],
        outShape: [8, 14, 14],
        kernel: [5, 5],
        stride: [2, 2],
        padding: [2, 2],
        weights: randomWeights(g, 8 * 25),
      },
      neuron: neuron(600),
    },
    {
      name: "pool",
      size: 8 * 7 * 7,
      shape: [8, 7, 7],
      input: { kind: "pool", inShape: [8, 14, 14], outShape: [8, 7, 7], kernel: [2, 2], stride: [2, 2], weight: 64, shift: 0 },
      neuron: neuron(128),
    },
    { name: "out", size: 10, input: { kind: "dense", inputs: 392, outputs: 10, weights: randomWeights(g, 3920) }, neuron: neuron(2000) },
  ]);
}

/** Rate-coded samples: about a quarter of the pixels lit at random intensities (MNIST-like activity). */
function inputSamples(seed: number, samples: number, steps: number): StepEvents[][] {
  const g = new Xorshift32(seed);
  const prng = new Xorshift32(seed ^ 0x5bd1e995);
  const out: StepEvents[][] = [];
  for (let s = 0; s < samples; s++) {
    const intensities = new Uint8Array(INPUT_SIZE);
    for (let i = 0; i < INPUT_SIZE; i++) if (g.next() % 4 === 0) intensities[i] = 128 + (g.next() % 128);
    out.push(encodeSample({ size: INPUT_SIZE, encoding: "rate", seed: 1 }, intensities, steps, prng));
  }
  return out;
}

/** What the benchmark steps: the interpreter (generated kernels) or the hand-written reference oracle. */
type Stepper = Interpreter | ReferenceInterpreter;

function measure(name: string, model: EventTable, quick: boolean, interp: Stepper): BenchRow {
  const steps = 32;
  const samples = quick ? 4 : 20;
  const inputs = inputSamples(7, samples, steps);
  let eventsPerRun = 0;
  let inputEvents = 0;
  const spikes = new Array<number>(model.layers.length).fill(0);
  const runOnce = (): void => {
    const before = interp.synapticEvents;
    spikes.fill(0);
    inputEvents = 0;
    for (const sample of inputs) {
      interp.reset();
      for (const events of sample) {
        interp.step(events);
        inputEvents += events.indices.length;
      }
      for (let l = 0; l < model.layers.length; l++) for (const c of interp.spikeCounts(l)) spikes[l]! += c;
    }
    eventsPerRun = interp.synapticEvents - before;
  };
  const seconds = median(timeRuns(quick ? 2 : 7, runOnce));
  const totalSteps = samples * steps;
  const perStep = (x: number): string => (x / totalSteps).toFixed(1);
  return {
    name,
    figures: {
      "synaptic events/s": Math.round(eventsPerRun / seconds),
      "steps/s": Math.round(totalSteps / seconds),
      "synaptic events/step": Math.round(eventsPerRun / totalSteps),
    },
    workload:
      `${samples} samples x ${steps} steps, rate-coded; per step ${perStep(inputEvents)} input spikes, ` +
      model.layers.map((l, i) => `${perStep(spikes[i]!)} ${l.name} spikes`).join(", "),
  };
}

/** The interpreter benchmark module. */
export const interpreterBench: BenchModule = {
  title: "Interpreter throughput",
  description:
    "The interpreter (runtime/interpreter.ts: generated kernels, and on steps of spikes the TS-only folds of spec/ops.md §12.3, packed dense rows and per-neuron spike lists) and, side by side in the same run, the hand-written reference oracle " +
    "(runtime/testing/reference-interpreter.ts, precomputed per-synapse contributions) stepping seeded random int8 models on rate-coded input " +
    "(encoded before timing). Synaptic events are contributions folded into a neuron's input; each figure is the median of 7 timed runs (2 with --quick) after a warm-up.",
  run({ quick }) {
    const rows: BenchRow[] = [];
    for (const [name, model] of [
      ["dense 784-256-10", denseModel(1)],
      ["conv 1x28x28 → conv 8x5x5/2 → pool 2x2 → dense 10", convModel(2)],
    ] as const) {
      rows.push(measure(`${name}, interpreter (generated kernels)`, model, quick, new Interpreter(model)));
      rows.push(measure(`${name}, reference oracle (hand-written)`, model, quick, new ReferenceInterpreter(model)));
    }
    return rows;
  },
};
