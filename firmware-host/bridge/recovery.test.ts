/**
 * Recovery in the bridge (spec/protocol.md §4.6) against the mock board behind a FaultyTransport:
 * corrupted and dropped bytes both ways, device resets (a fresh MockBoard: model and state lost) and
 * a port outage; lockstep compare stays bit-exact, learned weights equal the checkpoint plus the
 * replayed log, and every recovery is counted.
 */
import { describe, expect, it } from "vitest";
import type { InputSample } from "../../runtime/events.js";
import { decodeTable, encodeTable } from "../../runtime/format.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable } from "../../runtime/model.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { compareRun } from "../jobs/compare.js";
import { FaultyTransport, makeFaultSpec, type FaultSpec } from "../transports/fault.js";
import { STATE_KIND } from "../wire/messages.js";
import { MockBoard } from "../mock/mock-board.js";
import { LockstepRecovery } from "./recovery.js";
import { ReconnectingTransport } from "../transports/reconnecting.js";
import { BoardSession } from "./session.js";
import { LoopbackPair, type Transport } from "../transports/transport.js";

/** 8 inputs → 6 hidden → 3 output, int8 weights; the hidden layer learns (rstdp) when `plastic`. */
function smallTable(plastic: boolean): EventTable {
  return {
    input: { size: 8, encoding: "spikes", seed: 1 },
    layers: [
      {
        name: "hidden",
        size: 6,
        input: {
          kind: "dense",
          inputs: 8,
          outputs: 6,
          weights: { bits: 8, data: Int8Array.from({ length: 48 }, (_, q) => ((q * 7) % 23) - 4), count: 48, shift: Uint8Array.of(4) },
        },
        neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 3, threshold: 500 },
        ...(plastic
          ? {
              plasticity: {
                rule: "rstdp" as const,
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
            }
          : {}),
      },
      {
        name: "out",
        size: 3,
        input: {
          kind: "dense",
          inputs: 6,
          outputs: 3,
          weights: { bits: 8, data: Int8Array.from({ length: 18 }, (_, q) => ((q * 5) % 17) + 2), count: 18, shift: Uint8Array.of(4) },
        },
        neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 3, threshold: 400 },
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "test", tool: "test", settings: {}, layerScales: [1, 1] },
  };
}

function samples(count: number, steps: number, seed: number): InputSample[] {
  const rng = new Xorshift32(seed);
  return Array.from({ length: count }, () => ({
    steps: Array.from({ length: steps }, () => ({ indices: Uint32Array.from([0, 1, 2, 3, 4, 5, 6, 7].filter(() => rng.next() >>> 24 < 100)) })),
  }));
}

/** A mock board behind faults; a reset replaces it with a freshly booted one (uploaded model lost). */
async function rig(spec: FaultSpec, tableBytes: Uint8Array, wrap?: (t: Transport) => Transport) {
  const pair = new LoopbackPair();
  const faulty = new FaultyTransport(pair.a, spec);
  let board = new MockBoard(pair.b);
  faulty.onDeviceReset(() => {
    board.shutdown();
    board = new MockBoard(pair.b);
  });
  const host = wrap ? wrap(faulty) : faulty;
  const session = await BoardSession.open(host, { timeoutMs: 100, retries: 30, adaptiveTimeoutMinMs: 3, frameLimit: 64, nonce: 7 });
  const recovery = LockstepRecovery.attach(session, { tableBytes, checkpointEverySteps: 40 });
  await recovery.ensureModel();
  return { faulty, session, recovery, board: () => board };
}

describe("recovery in the bridge", () => {
  for (const seed of [3, 11]) {
    it(`compare stays bit-exact at 1% corruption and 1% drops with two device resets (seed ${seed})`, async () => {
      const table = smallTable(false);
      const bytes = encodeTable(table);
      const r = await rig(makeFaultSpec({ seed, both: { corrupt: 0.01, drop: 0.01 }, resetAt: [100, 220] }), bytes);
      const report = await compareRun(r.session, decodeTable(bytes), samples(5, 16, seed), { steps: 16 });
      expect(report.firstDivergence).toBeNull();
      expect(report.bitExact).toBe(true);
      expect(r.faulty.counters.resets).toBe(2);
      expect(r.recovery.counters.resetsDetected).toBeGreaterThanOrEqual(2);
      expect(r.recovery.counters.reuploads).toBeGreaterThanOrEqual(2);
      expect(r.faulty.counters.hostToDevice.framesDamaged + r.faulty.counters.deviceToHost.framesDamaged).toBeGreaterThan(0);
      expect(r.session.link.counters.badCrc + r.session.link.counters.badFrame).toBeGreaterThan(0);
      await r.session.close();
    }, 60_000);
  }

  it("learned weights after resets equal the last checkpoint plus the replayed log", async () => {
    const table = smallTable(true);
    const bytes = encodeTable(table);
    const r = await rig(makeFaultSpec({ seed: 5, both: { corrupt: 0.005, drop: 0.005 }, resetAt: [150, 320] }), bytes);
    const input = samples(10, 20, 9);
    const reference = new Interpreter(table);
    for (const [k, sample] of input.entries()) {
      await r.session.resetState();
      reference.reset();
      for (let t = 0; t < 20; t++) {
        if (t === 10) {
          const reward = k % 2 === 0 ? 400 : -300;
          await r.session.reward(t, reward);
          reference.reward(reward, t);
        }
        await r.session.step(t, sample.steps[t]!, 3);
        reference.step(sample.steps[t]!);
      }
    }
    const device = Int8Array.from(await r.session.readState(STATE_KIND.WEIGHTS, 0), (b) => (b << 24) >> 24);
    expect(Array.from(device)).toEqual(Array.from(reference.weights(0)));
    // Replaying the log on the last checkpoint gives the same weights.
    expect(r.recovery.counters.checkpoints).toBeGreaterThan(0);
    const replay = new Interpreter(decodeTable(r.recovery.checkpoint.tableBytes));
    for (const op of r.recovery.log) {
      if (op.kind === "reset") replay.reset();
      else if (op.kind === "step") replay.step(op.events);
      else if (op.kind === "reward") replay.reward(op.reward, op.targetStep);
    }
    expect(Array.from(replay.weights(0))).toEqual(Array.from(device));
    expect(r.recovery.counters.resetsDetected).toBeGreaterThanOrEqual(2);
    await r.session.close();
  }, 60_000);

  it("waits for an unplugged port and resumes", async () => {
    const table = smallTable(false);
    const bytes = encodeTable(table);
    const r = await rig(makeFaultSpec({ seed: 2, unplug: [{ atFrame: 60, forMs: 300 }] }), bytes);
    const report = await compareRun(r.session, decodeTable(bytes), samples(4, 20, 4), { steps: 20 });
    expect(report.bitExact).toBe(true);
    expect(r.faulty.counters.unplugs).toBe(1);
    expect(r.recovery.counters.recoveries).toBeGreaterThanOrEqual(1);
    await r.session.close();
  }, 30_000);

  it("gives up with DEVICE_DISCONNECTED when the device never answers again", async () => {
    const table = smallTable(false);
    const bytes = encodeTable(table);
    const pair = new LoopbackPair();
    const board = new MockBoard(pair.b);
    const session = await BoardSession.open(pair.a, { timeoutMs: 5, retries: 1, handshakeMs: 20 });
    await session.ensureModel(bytes);
    LockstepRecovery.attach(session, { tableBytes: bytes, reconnectMs: 100 });
    await session.resetState();
    board.shutdown(); // silent from now on
    await expect(session.step(0, { indices: Uint32Array.of(1) }, 3)).rejects.toMatchObject({ code: "DEVICE_DISCONNECTED" });
    await session.close();
  });

  it("ReconnectingTransport reopens a closed port with backoff, and gives up within its bound", async () => {
    let opens = 0;
    let pair = new LoopbackPair();
    const t = new ReconnectingTransport(
      pair.a,
      async () => {
        opens++;
        if (opens < 3) throw new Error("not yet");
        pair = new LoopbackPair();
        return pair.a;
      },
      { maxWaitMs: 2000, sleep: async () => undefined },
    );
    const old = pair;
    await old.b.close(); // the port vanishes
    await t.whenPresent();
    expect(t.present).toBe(true);
    expect(t.counters.failedAttempts).toBe(2);
    const got: number[] = [];
    t.onData((b) => got.push(...b));
    await pair.b.write(Uint8Array.of(9));
    await new Promise((res) => setTimeout(res, 0));
    expect(got).toEqual([9]);
    const never = new ReconnectingTransport(
      new LoopbackPair().a,
      async () => {
        throw new Error("gone");
      },
      { maxWaitMs: 30 },
    );
    await expect(never.replace()).rejects.toMatchObject({ code: "DEVICE_DISCONNECTED" });
    expect(never.isOpen).toBe(false);
    await t.close();
  });
});
