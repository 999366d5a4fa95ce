/**
 * The board factory on the mock board (the registry boards are opened through it by the e2e tests
 * and the soak): the stack it assembles, its errors, and that injected device resets reach the
 * board and are recovered from.
 */
import { describe, expect, it } from "vitest";
import type { InputSample } from "../../runtime/events.js";
import { encodeTable } from "../../runtime/format.js";
import { DEFAULT_NEURON, type EventTable } from "../../runtime/model.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { compareRun } from "../jobs/compare.js";
import { boardNames } from "./boards.js";
import { BOARD_DRIVERS, openableBoards, openBoard } from "./open-board.js";
import { errorOfAsync as codeOf } from "../../runtime/testing/error-code.js";

const table: EventTable = {
  input: { size: 8, encoding: "spikes", seed: 1 },
  layers: [
    {
      name: "out",
      size: 4,
      input: {
        kind: "dense",
        inputs: 8,
        outputs: 4,
        weights: { bits: 8, data: Int8Array.from({ length: 32 }, (_, q) => ((q * 29) % 61) - 20), count: 32, shift: Uint8Array.of(3) },
      },
      neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 3, threshold: 300 },
    },
  ],
  readout: { kind: "count" },
  provenance: { source: "test", tool: "test", settings: {}, layerScales: [1] },
};
const bytes = encodeTable(table);

function samples(count: number, steps: number, seed: number): InputSample[] {
  const rng = new Xorshift32(seed);
  return Array.from({ length: count }, () => ({
    steps: Array.from({ length: steps }, () => ({ indices: Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7].filter(() => rng.next() >>> 24 < 100)) })),
  }));
}

describe("openBoard", () => {
  it("lists mock as a board beside every registry board", () => {
    expect(openableBoards()).toEqual(["mock", ...boardNames()]);
    for (const name of openableBoards()) expect(BOARD_DRIVERS[name]!.description.length).toBeGreaterThan(0);
  });

  it("opens the mock, uploads the model once, counts bytes and closes", async () => {
    const board = await openBoard({ board: "mock", model: bytes });
    try {
      expect(board.description).toBe("mock");
      expect(board.uploaded).toBe(true);
      expect(board.session.info.board).toBe("mock");
      expect(board.counter.txBytes).toBeGreaterThan(bytes.length);
      expect(board.recovery).toBeDefined();
      expect(board.faults()).toBeUndefined();
      expect((await board.session.ensureModel(bytes)).uploaded).toBe(false);
    } finally {
      await board.close();
    }
  });

  it("refuses an unknown board naming every known one, and a call with neither board nor port", async () => {
    const [code, message] = await codeOf(openBoard({ board: "vax11", model: bytes }));
    expect(code).toBe("DEVICE_UNKNOWN_BOARD");
    for (const name of openableBoards()) expect(message).toContain(name);
    expect((await codeOf(openBoard({ model: bytes })))[0]).toBe("CLI_USAGE");
  });

  it("stops the board when the handshake fails", async () => {
    const [code] = await codeOf(openBoard({ board: "mock", model: bytes, mock: { protoRange: [2, 3] }, session: { handshakeMs: 200 } }));
    expect(code).toBe("PROTOCOL_VERSION_MISMATCH");
  });

  it("routes injected device resets to the board, and recovery keeps compare bit-exact", async () => {
    const board = await openBoard({
      board: "mock",
      model: bytes,
      inject: "corrupt=0.01,drop=0.01,reset=at:100,seed=5",
      session: { timeoutMs: 100, adaptiveTimeoutMinMs: 3 },
    });
    try {
      const first = board.link.mock!();
      const report = await compareRun(board.session, table, samples(6, 40, 9), { steps: 40 });
      expect(report.firstDivergence).toBeNull();
      expect(board.link.mock!()).not.toBe(first);
      const faults = board.faults()!;
      expect(faults.injected.resets).toBeGreaterThanOrEqual(1);
      expect(faults.recoveries).toBeGreaterThanOrEqual(1);
    } finally {
      await board.close();
    }
  });
});
