/**
 * The network and input of the peer comparison: the MNIST MLP 784-256-10 and one rate-coded digit,
 * encoded once by picospike (runtime/interpreter encodeSample, the xorshift32 of spec/ops.md §8).
 *
 * The model is the toolchain's MNIST MLP when bench/accuracy.ts has trained and converted it
 * (build/accuracy/mlp/snn.json, the float SNN), quantized here to int8 for rate-coded input by
 * models/quantize (IF hidden layer with bias, integrator readout); else seeded random int8 weights
 * of the same shape (IF, reset by subtraction, both layers spiking).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../harness.js";
import { embeddedMnist } from "../../firmware-host/sources/datasets.js";
import { image } from "../../runtime/datasets.js";
import { readFloatSnn } from "../../models/float-snn.js";
import { quantizeSnn } from "../../models/quantize.js";
import type { StepEvents } from "../../runtime/events.js";
import { encodeSample } from "../../runtime/interpreter.js";
import type { EventTable, Layer, NeuronParams } from "../../runtime/model.js";
import { denseModel } from "../interpreter.bench.js";

/** Where bench/accuracy.ts writes the converted float SNN of the MNIST MLP (build/ is not committed). */
export const TOOLCHAIN_MLP_PATH = join(repoRoot(), "build/accuracy/mlp/snn.json");

/** Leak shift of the LIF variant: the membrane loses 1/16 of itself per step (spec/ops.md §4.2). */
export const LIF_LEAK_SHIFT = 4;

/** The network of the comparison and where it came from. */
export interface PeerNetwork {
  /** The event table picospike runs (input encoding `rate`). */
  readonly table: EventTable;
  /** One line on the model's origin, for the report. */
  readonly origin: string;
}

/** A network plus the input spikes of one run. */
export interface PeerWorkload extends PeerNetwork {
  /** Short name of the case, e.g. "MNIST MLP 784-256-10, IF". */
  readonly name: string;
  /** Input events per step, encoded once by picospike. */
  readonly input: readonly StepEvents[];
}

function isMlp784(table: EventTable): boolean {
  const [hidden, out] = table.layers;
  return (
    table.layers.length === 2 &&
    table.input.size === 784 &&
    hidden?.input.kind === "dense" &&
    hidden.size === 256 &&
    out?.input.kind === "dense" &&
    out.size === 10
  );
}

/**
 * The MNIST MLP 784-256-10 for rate-coded input: the toolchain's float SNN quantized to int8 when
 * it exists and has that shape, else seeded random int8 weights (perf/interpreter.bench.ts
 * denseModel) as IF neurons with thresholds that keep both layers active.
 */
export function mnistMlp(path: string = TOOLCHAIN_MLP_PATH): PeerNetwork {
  if (existsSync(path)) {
    const { table, findings } = quantizeSnn(readFloatSnn(path), { weightBits: 8, perChannel: false, encoding: "rate", seed: 1, source: path });
    if (isMlp784(table)) {
      const warnings = findings.length === 0 ? "" : `, ${findings.length} quantizer findings`;
      return { table, origin: `toolchain MNIST MLP (${path.replace(/^.*\/build\//, "build/")}) quantized to int8 for rate input${warnings}` };
    }
  }
  const random = denseModel(1);
  const neuron = (p: NeuronParams): NeuronParams => ({ ...p, model: "if", leakShift: 0 });
  return {
    table: { ...random, layers: random.layers.map((l): Layer => ({ ...l, neuron: neuron(l.neuron) })) },
    origin: "seeded random int8 weights (no trained MLP in build/accuracy/mlp; run bench/accuracy.ts to use it)",
  };
}

/** The same network with shift leak (`lif-shift`, `leakShift`) on every IF layer; integrators stay. */
export function withShiftLeak(network: PeerNetwork, leakShift: number = LIF_LEAK_SHIFT): PeerNetwork {
  const layers = network.table.layers.map((l): Layer => (l.neuron.model === "if" ? { ...l, neuron: { ...l.neuron, model: "lif-shift", leakShift } } : l));
  return { table: { ...network.table, layers }, origin: network.origin };
}

/** Intensities of the first digit of the embedded MNIST test split (uint8 per pixel). */
export function mnistDigit(): Uint8Array {
  return image(embeddedMnist().test, 0);
}

/** Rate-codes `intensities` for `steps` steps with the table's own seed (spec/ops.md §7.2). */
export function encodeInput(table: EventTable, intensities: Uint8Array, steps: number): StepEvents[] {
  return encodeSample(table.input, intensities, steps);
}
