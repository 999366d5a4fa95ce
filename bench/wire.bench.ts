/**
 * Wire efficiency of the serial bridge: bytes host → device per input event, for rate-coded MNIST
 * digits streamed to the native board (firmware built for the host, its serial port a pty), in
 * lockstep (STEP frames) and in real time (RT_INPUT frames at 1 ms). Counted on the transport, so
 * every byte is included: COBS, delimiters, headers, CRCs, requests and their retries.
 * Target: at most 2.5 bytes per event.
 */
import { encodeTable } from "../runtime/format.js";
import { encodeSample } from "../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable, type Weights } from "../runtime/model.js";
import { Xorshift32 } from "../runtime/prng.js";
import type { InputSample } from "../runtime/events.js";
import { loadDataset } from "../firmware-host/sources/datasets.js";
import { image, slice } from "../runtime/datasets.js";
import { openBoard } from "../firmware-host/boards/open-board.js";
import { streamToBoard } from "../firmware-host/jobs/stream.js";
import type { BenchModule, BenchRow } from "../perf/harness.js";

const STEPS = 32;

/** A 784-64-10 int8 network with rate-coded input (the wire cost does not depend on the weights). */
function mnistTable(): EventTable {
  const g = new Xorshift32(17);
  const weights = (count: number): Weights => {
    const data = new Int8Array(count);
    for (let q = 0; q < count; q++) data[q] = (g.next() % 256) - 120;
    return { bits: 8, data, count, shift: Uint8Array.of(0) };
  };
  const neuron = { ...DEFAULT_NEURON, model: "lif-shift" as const, leakShift: 4, threshold: 2000 };
  return {
    input: { size: 784, shape: [1, 28, 28], encoding: "rate", seed: 1 },
    layers: [
      { name: "hidden", size: 64, input: { kind: "dense", inputs: 784, outputs: 64, weights: weights(784 * 64) }, neuron },
      { name: "out", size: 10, input: { kind: "dense", inputs: 64, outputs: 10, weights: weights(640) }, neuron },
    ],
    readout: { kind: "count" },
    provenance: { source: "bench", tool: "bench/wire.bench.ts", settings: {}, layerScales: [1, 1] },
  };
}

/** Wire bytes per input event, lockstep and real time, on the native board. */
export const wireBench: BenchModule = {
  title: "Bridge wire efficiency (native board)",
  description:
    "Bytes written host → device per input event while streaming rate-coded MNIST test digits (T = 32 steps each) to the native board through `streamToBoard`, counted on the transport (COBS, delimiters, headers, CRCs, requests). Lockstep sends one STEP per step; real time sends one RT_INPUT per non-empty step at dt = 1 ms. Target: ≤ 2.5 bytes/event.",
  async run({ quick }) {
    const table = mnistTable();
    const bytes = encodeTable(table);
    const digits = quick ? 5 : 40;
    const test = slice(loadDataset().test, 0, digits);
    const samples: InputSample[] = Array.from({ length: digits }, (_, i) => ({ steps: encodeSample(table.input, image(test, i), STEPS) }));
    // The bare link (no recovery guard), as the figures have always been measured.
    const board = await openBoard({ board: "native", model: bytes, recovery: false, upload: false });
    const rows: BenchRow[] = [];
    try {
      const { counter, session } = board;
      await session.ensureModel(bytes);
      const lock = await streamToBoard(session, samples, { steps: STEPS, maxSamples: digits, outputLayer: 1, counter });
      rows.push({
        name: "lockstep, rate-coded MNIST",
        figures: {
          "bytes/event": lock.bytesPerEvent ?? 0,
          "events/step": Math.round((10 * lock.inputEvents) / lock.steps) / 10,
          "steps/s": lock.stepsPerSecond,
        },
        workload: `${digits} digits × ${STEPS} steps, ${lock.inputEvents} events`,
      });
      const rt = await streamToBoard(session, samples, { steps: STEPS, maxSamples: digits, outputLayer: 1, counter, periodUs: 1000, window: 16 });
      rows.push({
        name: "real time dt = 1 ms, rate-coded MNIST",
        figures: {
          "bytes/event": rt.bytesPerEvent ?? 0,
          "events/step": Math.round((10 * rt.inputEvents) / Math.max(1, rt.steps)) / 10,
          "frames dropped": rt.framesDropped,
          "lag p50 ms": rt.latencyP50Ms ?? 0,
        },
        workload: `${digits} digits × ${STEPS} steps, ${rt.inputEvents} events sent`,
      });
    } finally {
      await board.close();
    }
    return rows;
  },
};
