import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeTable, encodeTable, hashOfTable } from "../runtime/format.js";
import { Interpreter } from "../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable } from "../runtime/model.js";
import { Xorshift32 } from "../runtime/prng.js";
import { LEARNED_KEYS } from "../runtime/learned.js";
import { storedWeights16 } from "../runtime/plasticity.js";
import { Checkpointer } from "../firmware-host/bridge/checkpoint.js";
import { openBoard } from "../firmware-host/boards/open-board.js";
import { streamToBoard } from "../firmware-host/jobs/stream.js";
import { writeFileAtomic } from "./io.js";

/** 12 inputs → 3 pair-based STDP neurons, int4 weights (packed readback). */
const table: EventTable = {
  input: { size: 12, encoding: "spikes", seed: 1 },
  layers: [
    {
      name: "stdp",
      size: 3,
      input: {
        kind: "dense",
        inputs: 12,
        outputs: 3,
        weights: { bits: 4, data: Uint8Array.from({ length: 18 }, (_, i) => (i * 37) & 0x77), count: 36, shift: Uint8Array.of(8) },
      },
      neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 2, threshold: 2000 },
      plasticity: {
        rule: "stdp",
        preTraceShift: 2,
        postTraceShift: 2,
        traceIncrement: 8000,
        aPlus: 16384,
        aMinus: 12000,
        eligibilityShift: 3,
        learningShift: 11,
        baselineShift: 0,
        wMin: -8,
        wMax: 7,
      },
    },
  ],
  readout: { kind: "count" },
  provenance: { source: "test", tool: "test", settings: {}, layerScales: [1] },
};

const dir = mkdtempSync(join(tmpdir(), "picospike-ckpt-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkpoints of learned weights", () => {
  it("every N steps the file holds the learned table; a failing write leaves the previous checkpoint intact", async () => {
    const board = await openBoard({ board: "mock", model: encodeTable(table), recovery: false, session: { timeoutMs: 1000, retries: 2 } });
    const session = board.session;
    const path = join(dir, "learned.cbor");
    let failFrom = Infinity;
    const checkpoints = new Checkpointer(session, table, (bytes) => writeFileAtomic(path, bytes), 40);
    const g = new Xorshift32(3);
    const sample = {
      steps: Array.from({ length: 100 }, () => ({ indices: Uint32Array.from(Array.from({ length: 12 }, (_, i) => i).filter(() => g.next() >>> 24 < 80)) })),
    };
    const replay = new Interpreter(table);
    let atCheckpoint: number[] = [];
    const run = streamToBoard(session, [sample], {
      steps: 100,
      maxSamples: 1,
      outputLayer: 0,
      afterStep: async (n) => {
        replay.step(sample.steps[n - 1]!);
        if (n === 80) {
          atCheckpoint = Array.from(replay.weights(0));
          // from now on the checkpoint file cannot be replaced: its temporary sibling is a directory
          mkdirSync(join(dir, `.learned.cbor.${process.pid}.tmp`));
          failFrom = n;
        }
        await checkpoints.afterStep({ steps: n, rewards: 0 });
      },
    });
    // the checkpoint due at step 80 fails (the blocker went in first) and stops the run
    await expect(run).rejects.toMatchObject({ code: "CLI_WRITE_FAILED" });
    expect(failFrom).toBe(80);
    expect(checkpoints.saved).toBe(1); // the checkpoint of step 40
    const saved = decodeTable(readFileSync(path));
    expect(saved.provenance.settings[LEARNED_KEYS.steps]).toBe(40);
    expect(saved.provenance.settings[LEARNED_KEYS.source]).toBe(hashOfTable(table));
    const input = saved.layers[0]!.input;
    if (input.kind !== "dense") throw new Error("dense expected");
    // the step-40 weights: rerun the first 40 steps
    const at40 = new Interpreter(table);
    for (let t = 0; t < 40; t++) at40.step(sample.steps[t]!);
    expect(Array.from(storedWeights16(input.weights))).toEqual(Array.from(at40.weights(0)));
    expect(Array.from(at40.weights(0))).not.toEqual(atCheckpoint); // it kept learning after the checkpoint
    expect(Array.from(storedWeights16(input.weights))).not.toEqual(Array.from(new Interpreter(table).weights(0))); // and learned before it
    await board.close();
  });
});
