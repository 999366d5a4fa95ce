/**
 * Link cost: device→host bytes per reported spike and end-to-end latency per lockstep step
 * between the host (firmware-host/bridge/session.ts over node-serialport) and the native board's pty
 * (the real C device runtime, ps_main.c + ps_device.c, as a host process). The MNIST MLP runs one
 * rate-coded digit; a counting transport wraps the pty and records every byte each way (frames,
 * COBS, CRC included). Two report masks: every layer's spikes, and the output layer's only. The
 * interpreter steps the same input so the device's reported spikes are checked. Host→device bytes
 * per input event are the wire-efficiency module's subject (bench/wire.bench.ts); they are shown
 * here only for the step total. Latency is wall
 * time from the STEP request to its STEP_RESULT: noisy on a loaded machine (median and p90 shown).
 */
import { join } from "node:path";
import { openBoard } from "../firmware-host/boards/open-board.js";
import { allLayersMask } from "../firmware-host/bridge/session.js";
import { encodeTable } from "../runtime/format.js";
import { Interpreter } from "../runtime/interpreter.js";
import { median, repoRoot, type BenchModule, type BenchRow } from "./harness.js";
import { TOOLCHAIN_MLP_RELATIVE } from "./device.bench.js";
import { encodeInput, mnistDigit, mnistMlp } from "./peers/workload.js";

const round = (x: number, d: number): number => Number(x.toFixed(d));

/** The link benchmark module (native board). */
export const linkBench: BenchModule = {
  title: "Link: answer bytes per spike and step latency (native pty)",
  description:
    "Lockstep STEP/STEP_RESULT between the host session and the native board (the C device runtime as a host process on a pty), the MNIST MLP compiled in, one digit rate-coded. " +
    "Bytes are counted at the transport (frame header, payload, CRC, COBS and delimiters included); 'per input event' divides the host→device bytes by the input spike events (the wire-efficiency section measures that in depth), " +
    "'per reported spike' the device→host bytes by the spikes the device reported. Latency is the wall time of one step request (median and 90th percentile over the steps): " +
    "it includes the pty, node-serialport and the device's step; it is noisy on the loaded 2-core machine, unlike the byte counts, which are exact.",
  async run({ quick }) {
    const mlp = mnistMlp(join(repoRoot(), TOOLCHAIN_MLP_RELATIVE));
    const table = mlp.table;
    const bytes = encodeTable(table);
    const steps = encodeInput(table, mnistDigit(), quick ? 30 : 100);
    // The bare link (no recovery guard); the model is uploaded below, outside the counted sections.
    const board = await openBoard({ board: "native", model: bytes, recovery: false, upload: false });
    const rows: BenchRow[] = [];
    try {
      const transport = board.counter;
      const session = board.session;
      await session.ensureModel(bytes);
      const last = table.layers.length - 1;
      for (const [label, mask] of [
        ["every layer reported", allLayersMask(table.layers.length)],
        ["output layer reported", 1 << last],
      ] as const) {
        await session.resetState();
        const reference = new Interpreter(table);
        const sent0 = transport.txBytes;
        const received0 = transport.rxBytes;
        const latencies: number[] = [];
        let inputEvents = 0;
        let reported = 0;
        for (let t = 0; t < steps.length; t++) {
          const events = steps[t]!;
          const t0 = performance.now();
          const out = await session.step(t, events, mask);
          latencies.push((performance.now() - t0) * 1000);
          reference.step(events);
          inputEvents += events.indices.length;
          for (const s of out.sections) {
            reported += s.indices.length;
            const expected = reference.lastSpikes(s.layer);
            if (expected.length !== s.indices.length || expected.some((x, i) => x !== s.indices[i]))
              throw new Error(`link bench: step ${t} layer ${s.layer}: device spikes differ from the interpreter`);
          }
        }
        const sent = transport.txBytes - sent0;
        const received = transport.rxBytes - received0;
        const sorted = [...latencies].sort((a, b) => a - b);
        rows.push({
          name: `MNIST MLP 784-256-10, ${label}`,
          figures: {
            "host→device B/step": round(sent / steps.length, 1),
            "host→device B/input event": round(sent / Math.max(1, inputEvents), 3),
            "device→host B/step": round(received / steps.length, 1),
            // the MLP's integrator readout never spikes: no per-spike figure when nothing was reported
            ...(reported === 0 ? {} : { "device→host B/reported spike": round(received / reported, 3) }),
            "input events/step": round(inputEvents / steps.length, 1),
            "reported spikes/step": round(reported / steps.length, 1),
            "latency µs/step (median)": Math.round(median(latencies)),
            "latency µs/step (p90)": Math.round(sorted[Math.floor(0.9 * (sorted.length - 1))]!),
          },
          workload: `${steps.length} lockstep steps, one MNIST digit rate-coded; ${mlp.origin}; device spikes checked against the interpreter every step`,
        });
      }
    } finally {
      await board.close();
    }
    return rows;
  },
};
