import { describe, expect, it } from "vitest";
import { encodeTable } from "../../runtime/format.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable } from "../../runtime/model.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { STATE_KIND } from "../wire/messages.js";
import { MockBoard } from "./mock-board.js";
import { BoardSession } from "../bridge/session.js";
import { LoopbackPair } from "../transports/transport.js";

/** 8 inputs → 4 rstdp LIF neurons, int8 weights. */
const table: EventTable = {
  input: { size: 8, encoding: "spikes", seed: 1 },
  layers: [
    {
      name: "act",
      size: 4,
      input: {
        kind: "dense",
        inputs: 8,
        outputs: 4,
        weights: { bits: 8, data: Int8Array.from({ length: 32 }, (_, q) => (q * 7) % 20), count: 32, shift: Uint8Array.of(4) },
      },
      neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 3, threshold: 600 },
      plasticity: {
        rule: "rstdp",
        preTraceShift: 2,
        postTraceShift: 2,
        traceIncrement: 4000,
        aPlus: 16384,
        aMinus: 8192,
        eligibilityShift: 4,
        learningShift: 12,
        baselineShift: 2,
        wMin: -60,
        wMax: 60,
      },
    },
  ],
  readout: { kind: "count" },
  provenance: { source: "test", tool: "test", settings: {}, layerScales: [1] },
};

describe("mock board learning (spec/protocol.md REWARD, READ_STATE)", () => {
  it("applies rewards at their target step and reads back weights bit-identical to the interpreter replaying the log", async () => {
    const pair = new LoopbackPair();
    new MockBoard(pair.b, {});
    const session = await BoardSession.open(pair.a, { timeoutMs: 500, retries: 2 });
    await session.ensureModel(encodeTable(table));
    const replay = new Interpreter(table);
    const rng = new Xorshift32(5);
    for (let t = 0; t < 200; t++) {
      const indices = Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7].filter(() => rng.next() >>> 24 < 90));
      if (t % 10 === 9) {
        const r = (rng.next() & 1) === 1 ? 500 : -500;
        expect(await session.reward(t, r)).toBe(t);
        replay.reward(r, t);
      }
      await session.step(t, { indices }, 1);
      replay.step({ indices });
    }
    const bytes = await session.readState(STATE_KIND.WEIGHTS, 0);
    const device = Int8Array.from(bytes, (b) => (b << 24) >> 24);
    expect(Array.from(device)).toEqual(Array.from(replay.weights(0)));
    expect(Array.from(device)).not.toEqual(Array.from(table.layers[0]!.input.kind === "dense" ? table.layers[0]!.input.weights.data : [])); // it learned
    const elig = await session.readState(STATE_KIND.ELIGIBILITY, 0);
    expect(elig.length).toBe(64);
    await session.resetState(true);
    const reset = await session.readState(STATE_KIND.WEIGHTS, 0);
    expect(Array.from(Int8Array.from(reset, (b) => (b << 24) >> 24))).toEqual(
      Array.from(table.layers[0]!.input.kind === "dense" ? table.layers[0]!.input.weights.data : []),
    );
    await session.close();
  });
});
