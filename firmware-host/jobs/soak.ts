/**
 * The reliability soak (docs/RELIABILITY.md): lockstep steps streamed to a board through
 * the fault injector (1% byte corruption and 1% byte drops both ways) with two device resets, the
 * bridge's recovery on. Every step's spikes are checked against the reference interpreter (a
 * corrupted frame that slipped through would show as a divergence); with a learning model and a
 * device that learns, rewards go out every sample and the final learned weights are checked
 * against the last checkpoint plus the replayed log. Bounded by steps and by wall time.
 */
import { decodeTable, encodeTable } from "../../runtime/format.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable } from "../../runtime/model.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { openBoard } from "../boards/open-board.js";
import type { LockstepRecovery } from "../bridge/recovery.js";
import { allLayersMask, LOSSY_LINE_OPTIONS } from "../bridge/session.js";
import { makeFaultSpec } from "../transports/fault.js";
import { CAP, STATE_KIND } from "../wire/messages.js";

/** The soak's model: 64 inputs → 32 (R-STDP) → 8. */
export function soakTable(): EventTable {
  return {
    input: { size: 64, encoding: "spikes", seed: 1 },
    layers: [
      {
        name: "hidden",
        size: 32,
        input: {
          kind: "dense",
          inputs: 64,
          outputs: 32,
          weights: { bits: 8, data: Int8Array.from({ length: 2048 }, (_, q) => ((q * 37) % 41) - 12), count: 2048, shift: Uint8Array.of(4) },
        },
        neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 3, threshold: 900 },
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
      {
        name: "out",
        size: 8,
        input: {
          kind: "dense",
          inputs: 32,
          outputs: 8,
          weights: { bits: 8, data: Int8Array.from({ length: 256 }, (_, q) => ((q * 11) % 23) - 4), count: 256, shift: Uint8Array.of(4) },
        },
        neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 3, threshold: 500 },
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "soak", tool: "soak", settings: {}, layerScales: [1, 1] },
  };
}

/** Retransmissions per request of the soak: those of a lossy line (LOSSY_LINE_OPTIONS, spec/protocol.md §4.7). */
export const SOAK_RETRIES = LOSSY_LINE_OPTIONS.retries!;

/** Options of a soak. */
export interface SoakOptions {
  readonly board: "native" | "mock";
  /** Most steps. */
  readonly steps: number;
  /** Wall-time bound in seconds (the soak stops at the next sample boundary). */
  readonly seconds: number;
  readonly seed?: number;
  /** Steps per sample (a RESET_STATE before each, a reward in its middle). */
  readonly sampleSteps?: number;
  /** Retransmissions per request; default SOAK_RETRIES. */
  readonly retries?: number;
  /** Called at every sample boundary with the steps run so far (progress output of long runs). */
  readonly onProgress?: (steps: number) => void;
}

/** What a soak measured. */
export interface SoakReport {
  readonly board: string;
  readonly steps: number;
  readonly seconds: number;
  readonly learning: boolean;
  /** Steps whose spikes differed from the interpreter (must be 0: no corrupted frame accepted). */
  readonly divergentSteps: number;
  /** Learned weights equal to the reference run and to the last checkpoint plus the replayed log (null without learning). */
  readonly weightsExact: boolean | null;
  readonly injected: {
    framesHostToDevice: number;
    framesDeviceToHost: number;
    framesDamagedHostToDevice: number;
    framesDamagedDeviceToHost: number;
    bytesDropped: number;
    bitsFlipped: number;
    resets: number;
  };
  /**
   * What the host detected: frames rejected (bad CRC, bad COBS/length), sequence gaps (frames lost,
   * mostly the device's damage reports), retransmissions and, of them, fast ones (spec §2), and
   * ERROR 401/402 damage reports received from the device.
   */
  readonly detected: { badCrc: number; badFrame: number; gaps: number; retransmissions: number; fastRetransmissions: number; damageReports: number };
  readonly recovery: LockstepRecovery["counters"];
  /** Requests that completed (every control message delivered; a failure would have ended the soak with its error). */
  readonly requestsCompleted: number;
  /** Lockstep steps per second of wall time (setup and the final readback included). */
  readonly stepsPerSecond: number;
}

/** Runs the soak; resets the device at 1/3 and 2/3 of its planned steps or of its time. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const table = soakTable();
  const tableBytes = encodeTable(table);
  const seed = options.seed ?? 1;
  const sampleSteps = options.sampleSteps ?? 50;
  // Uploaded below, once the damage-report counter listens: the upload crosses the lossy line too.
  const board = await openBoard({
    board: options.board,
    model: tableBytes,
    compiledIn: false,
    upload: false,
    inject: makeFaultSpec({ seed, both: { corrupt: 0.01, drop: 0.01 } }),
    session: { ...LOSSY_LINE_OPTIONS, retries: options.retries ?? SOAK_RETRIES },
    recovery: { checkpointEverySteps: 500 },
  });
  const { session } = board;
  const faulty = board.faulty!;
  const recovery = board.recovery!;
  let damageReports = 0;
  session.link.onMessage((msg) => {
    if (msg.kind === "ERROR" && (msg.code === 401 || msg.code === 402)) damageReports++;
  });
  const t0 = performance.now();
  let requests = 0;
  let steps = 0;
  let divergent = 0;
  let resets = 0;
  let learning = false;
  let weightsExact: boolean | null = null;
  try {
    await recovery.ensureModel();
    learning = session.has(CAP.PLASTICITY);
    const reference = new Interpreter(table);
    const rng = new Xorshift32(seed);
    const mask = allLayersMask(table.layers.length);
    const deadline = t0 + options.seconds * 1000;
    const resetPoints = [1 / 3, 2 / 3];
    while (steps < options.steps && performance.now() < deadline) {
      const progress = Math.max(steps / options.steps, (performance.now() - t0) / (options.seconds * 1000));
      if (resetPoints.length > 0 && progress >= resetPoints[0]!) {
        resetPoints.shift();
        resets++;
        board.link.resetDevice();
      }
      options.onProgress?.(steps);
      await session.resetState();
      requests++;
      reference.reset();
      for (let t = 0; t < sampleSteps && steps < options.steps; t++) {
        if (learning && t === sampleSteps >> 1) {
          const reward = (rng.next() & 1) === 1 ? 400 : -300;
          await session.reward(t, reward);
          requests++;
          reference.reward(reward, t);
        }
        const events = { indices: Uint32Array.from({ length: 64 }, (_, i) => i).filter(() => rng.next() >>> 24 < 40) };
        const out = await session.step(t, events, mask);
        requests++;
        reference.step(events);
        steps++;
        for (let l = 0; l < table.layers.length; l++) {
          const device = out.sections.find((s) => s.layer === l)?.indices ?? new Uint32Array(0);
          const expected = reference.lastSpikes(l);
          if (device.length !== expected.length || device.some((v, k) => v !== expected[k])) {
            divergent++;
            break;
          }
        }
      }
    }
    if (learning) {
      const device = Int8Array.from(await session.readState(STATE_KIND.WEIGHTS, 0), (b) => (b << 24) >> 24);
      requests++;
      const replay = new Interpreter(decodeTable(recovery.checkpoint.tableBytes));
      for (const op of recovery.log) {
        if (op.kind === "reset") replay.reset();
        else if (op.kind === "step") replay.step(op.events);
        else if (op.kind === "reward") replay.reward(op.reward, op.targetStep);
      }
      const same = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((v, k) => v === b[k]);
      weightsExact = same(device, reference.weights(0)) && same(device, replay.weights(0));
    }
  } finally {
    await board.close();
  }
  const f = faulty.counters;
  const c = session.link.counters;
  const elapsed = (performance.now() - t0) / 1000;
  return {
    board: options.board,
    steps,
    seconds: Math.round(elapsed * 10) / 10,
    learning,
    divergentSteps: divergent,
    weightsExact,
    injected: {
      framesHostToDevice: f.hostToDevice.frames,
      framesDeviceToHost: f.deviceToHost.frames,
      framesDamagedHostToDevice: f.hostToDevice.framesDamaged,
      framesDamagedDeviceToHost: f.deviceToHost.framesDamaged,
      bytesDropped: f.hostToDevice.bytesDropped + f.deviceToHost.bytesDropped,
      bitsFlipped: f.hostToDevice.bitsFlipped + f.deviceToHost.bitsFlipped,
      resets,
    },
    detected: {
      badCrc: c.badCrc,
      badFrame: c.badFrame,
      gaps: c.gaps,
      retransmissions: c.retransmissions,
      fastRetransmissions: c.fastRetransmissions,
      damageReports,
    },
    recovery: { ...recovery.counters },
    requestsCompleted: requests,
    stepsPerSecond: Math.round(steps / elapsed),
  };
}
