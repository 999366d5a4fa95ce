/**
 * The behavioural suite of the bridge: one list of boards, every behaviour run against each: the
 * in-process mock over a LoopbackPair, and the C firmware on the native board (built once with gcc,
 * one process per test, over its pty with SerialTransport). Fault injection on the device side (bit
 * flips, a fake clock) runs only on the mock; corrupted bytes on the wire run on both.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { InputSample, StepEvents } from "../../runtime/events.js";
import { encodeTable, hashOfTable } from "../../runtime/format.js";
import { Interpreter } from "../../runtime/interpreter.js";
import type { EventTable } from "../../runtime/model.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { randomTable } from "../../runtime/testing/random-table.js";
import { plasticLayers } from "../../runtime/learned.js";
import { storedWeights16 } from "../../runtime/plasticity.js";
import { CobsDecoder, cobsDecode } from "../wire/cobs.js";
import { compareRun } from "../jobs/compare.js";
import { decodePayload, MSG, STATE_KIND, type RtOutputMsg } from "../wire/messages.js";
import { parseFrame } from "../wire/frame.js";
import { FakeClock, MockBoard, type MockBoardOptions } from "../mock/mock-board.js";
import { allLayersMask, BoardSession, mergeRealtimeInputs, type SessionOptions } from "./session.js";
import { ForwardingTransport, LoopbackPair, type Transport } from "../transports/transport.js";
import { buildDevice, startImage, type DeviceBuild } from "../boards/launch.js";
import { SerialTransport } from "../transports/serial-transport.js";
import { missingTools } from "../boards/toolchain.js";
import { errorOfAsync as codeOf } from "../../runtime/testing/error-code.js";

/** A transport wrapper that corrupts one byte of selected frames on their way out. */
class CorruptingTransport extends ForwardingTransport {
  corrupted = 0;
  constructor(
    inner: Transport,
    private readonly shouldCorrupt: (type: number, count: number) => boolean,
  ) {
    super(inner);
  }
  private seen = new Map<number, number>();
  override write(bytes: Uint8Array): Promise<void> {
    if (bytes.length > 2) {
      const frame = cobsDecode(bytes.subarray(0, bytes.length - 1));
      const type = frame?.[1];
      if (type !== undefined) {
        const n = (this.seen.get(type) ?? 0) + 1;
        this.seen.set(type, n);
        if (this.shouldCorrupt(type, n)) {
          const copy = bytes.slice();
          const at = Math.floor(copy.length / 2);
          copy[at] = copy[at] === 0x55 ? 0x56 : 0x55; // stays non-zero: the frame arrives with a bad CRC
          this.corrupted++;
          return this.inner.write(copy);
        }
      }
    }
    return this.inner.write(bytes);
  }
}

/**
 * A transport wrapper that writes a damaged chunk (bad COBS) before the host's first bytes, i.e.
 * before any handshake, and records the code and detail of every ERROR frame the device sends.
 */
class NoisyBootTransport extends ForwardingTransport {
  readonly errors: Array<{ code: number; detail: number }> = [];
  private noiseSent = false;
  private readonly decoder = new CobsDecoder();
  constructor(inner: Transport) {
    super(inner);
    inner.onData((bytes) => {
      for (const chunk of this.decoder.push(bytes)) {
        if (chunk.kind !== "frame") continue;
        try {
          const frame = parseFrame(chunk.bytes);
          if (frame.type !== MSG.ERROR) continue;
          const msg = decodePayload(frame.type, frame.payload);
          if (msg.kind === "ERROR") this.errors.push({ code: msg.code, detail: msg.detail });
        } catch {
          // not this wrapper's business: the link counts it
        }
      }
    });
  }
  override async write(bytes: Uint8Array): Promise<void> {
    if (!this.noiseSent) {
      this.noiseSent = true;
      await this.inner.write(Uint8Array.of(0x01, 0x02, 0x00)); // a code running past its chunk
    }
    return this.inner.write(bytes);
  }
}

/** What a board factory hands the suite. */
interface Connected {
  readonly session: BoardSession;
  /** The device object when the board is in-process (fault injection); undefined for real boards. */
  readonly mock: MockBoard | undefined;
  readonly close: () => Promise<void>;
}

interface BoardFactory {
  readonly name: string;
  /** Connects a host session; `wrap` may interpose on the host's transport. */
  connect(options: { mock?: MockBoardOptions; session?: SessionOptions; wrap?: (t: Transport) => Transport }): Promise<Connected>;
}

const FAST: SessionOptions = { timeoutMs: 20, retries: 5, handshakeMs: 400 };

const nativeDir = mkdtempSync(join(tmpdir(), "picospike-session-native-"));
afterAll(() => rmSync(nativeDir, { recursive: true, force: true }));
let nativeBuild: Promise<DeviceBuild> | undefined;
const nativeMissing = missingTools(["gcc", "size"]);
if (nativeMissing.length > 0) console.log(`skipping the native board in the bridge suite: ${nativeMissing.join(", ")} not installed`);

const BOARDS: BoardFactory[] = [
  {
    name: "mock over loopback",
    async connect({ mock, session, wrap }) {
      const pair = new LoopbackPair();
      const board = new MockBoard(pair.b, mock);
      const s = await BoardSession.open(wrap ? wrap(pair.a) : pair.a, { ...FAST, ...session });
      return { session: s, mock: board, close: () => s.close() };
    },
  },
  ...(nativeMissing.length > 0
    ? []
    : [
        {
          name: "native firmware over its pty",
          // Mock options (frame size, faults, clock) do not apply: the firmware has its own fixed limits.
          async connect({ session, wrap }: { session?: SessionOptions; wrap?: (t: Transport) => Transport }): Promise<Connected> {
            nativeBuild ??= buildDevice("native", { outDir: nativeDir });
            const handle = await startImage("native", (await nativeBuild).image);
            const transport = await SerialTransport.open(handle.port);
            const s = await BoardSession.open(wrap ? wrap(transport) : transport, { timeoutMs: 250, retries: 5, handshakeMs: 3000, ...session });
            return {
              session: s,
              mock: undefined,
              close: async () => {
                await s.close();
                await handle.stop();
              },
            };
          },
        },
      ]),
];

const table: EventTable = randomTable(7, { kinds: ["dense", "sparse", "dense"], encoding: "spikes", readout: "count", maxNeurons: 40 });
const modelBytes = encodeTable(table);
/** A model whose every dense/sparse spiking layer learns (pair and reward rules, step/event/epoch timing). */
const plasticTable: EventTable = randomTable(12, {
  kinds: ["dense", "dense"],
  encoding: "spikes",
  readout: "count",
  maxNeurons: 24,
  weightBits: [8],
  plasticityProbability: 1,
});
const plasticBytes = encodeTable(plasticTable);

function randomSamples(count: number, steps: number, seed: number, inputSize: number): InputSample[] {
  const g = new Xorshift32(seed);
  return Array.from({ length: count }, (_, s) => ({
    label: s % 3,
    steps: Array.from({ length: steps }, (): StepEvents => {
      const idx: number[] = [];
      for (let i = 0; i < inputSize; i++) if (g.next() >>> 24 < 60) idx.push(i);
      return { indices: Uint32Array.from(idx) };
    }),
  }));
}

describe.each(BOARDS)("bridge on $name", (factory) => {
  it("handshakes and reports board, capabilities and no model", async () => {
    const c = await factory.connect({});
    expect(c.session.info.protoVersion).toBe(1);
    expect(c.session.info.board.length).toBeGreaterThan(0);
    expect(c.session.modelHash).toBe("");
    await c.close();
  });

  it("fails a version mismatch with a readable error naming both ranges", async () => {
    const pair = new LoopbackPair();
    new MockBoard(pair.b, { protoRange: [2, 3] });
    const [code, message] = await codeOf(BoardSession.open(pair.a, FAST));
    expect(code).toBe("PROTOCOL_VERSION_MISMATCH");
    expect(message).toContain("2..3");
    expect(message).toContain("1..1");
    expect(message).toContain("rebuild and flash");
  });

  it("fails a silent port with PROTOCOL_HANDSHAKE_FAILED, not a hang", async () => {
    const pair = new LoopbackPair();
    const [code] = await codeOf(BoardSession.open(pair.a, { ...FAST, handshakeMs: 100 }));
    expect(code).toBe("PROTOCOL_HANDSHAKE_FAILED");
  });

  it("uploads the model, retrying a corrupted chunk, and skips the upload when the hash matches", async () => {
    let wrapped: CorruptingTransport | undefined;
    const c = await factory.connect({
      mock: { maxFrame: 128 },
      wrap: (t) => (wrapped = new CorruptingTransport(t, (type, n) => type === 0x11 && n === 3)),
    });
    const status = await c.session.ensureModel(modelBytes);
    expect(status.uploaded).toBe(true);
    expect(status.hash).toBe(hashOfTable(table));
    expect(wrapped!.corrupted).toBe(1);
    expect(c.session.link.counters.retransmissions).toBeGreaterThanOrEqual(1);
    const stats = await c.session.stats();
    expect(stats.badCrc).toBe(1);
    if (c.mock) expect(c.mock.executed.filter((k) => k === "MODEL_CHUNK").length).toBe(Math.ceil(modelBytes.length / (128 - 12)));
    expect((await c.session.ensureModel(modelBytes)).uploaded).toBe(false);
    await c.close();
  });

  it("refuses a corrupted model upload with the table reader's code", async () => {
    const c = await factory.connect({});
    const bad = modelBytes.slice();
    bad[bad.length - 3] = bad[bad.length - 3]! ^ 0xff;
    const [code] = await codeOf(c.session.upload(bad));
    expect(code).toMatch(/^FORMAT_/);
    await c.close();
  });

  it("runs lockstep steps equal to the interpreter, with events split over STEP parts", async () => {
    const c = await factory.connect({ mock: { maxFrame: 64 } });
    await c.session.ensureModel(modelBytes);
    const interp = new Interpreter(table);
    const mask = allLayersMask(table.layers.length);
    const [sample] = randomSamples(1, 12, 99, table.input.size);
    for (let t = 0; t < 12; t++) {
      const events = sample!.steps[t]!;
      const out = await c.session.step(t, events, mask);
      interp.step(events);
      for (let l = 0; l < table.layers.length; l++) {
        const device = out.sections.find((s) => s.layer === l)?.indices ?? new Uint32Array(0);
        expect(Array.from(device)).toEqual(Array.from(interp.lastSpikes(l)));
      }
    }
    for (let l = 0; l < table.layers.length; l++) expect(Array.from(await c.session.readMembranes(l))).toEqual(Array.from(interp.membrane(l)));
    await c.close();
  });

  it("answers a retransmitted STEP from its stored answer without running the step twice", async () => {
    let drop = true;
    const c = await factory.connect({ mock: {}, wrap: (t) => new CorruptingTransport(t, (type) => type === 0x20 && drop && !(drop = false)) });
    await c.session.ensureModel(modelBytes);
    // The first STEP frame is corrupted, so the device never saw it; the retransmission runs it once.
    await c.session.step(0, { indices: Uint32Array.of(1, 2) }, 1);
    await c.session.step(1, { indices: Uint32Array.of(3) }, 1);
    if (c.mock) expect(c.mock.executed.filter((k) => k === "STEP").length).toBe(2);
    else expect((await c.session.stats()).steps).toBe(2); // the device counts steps it ran
    const [code] = await codeOf(c.session.step(5, { indices: new Uint32Array(0) }, 1));
    expect(code).toBe("PROTOCOL_BAD_PAYLOAD"); // step out of order: NACK 408, detail = the device's next step
    const [badInput] = await codeOf(c.session.step(2, { indices: Uint32Array.of(table.input.size) }, 1));
    expect(badInput).toBe("SEMANTICS_BAD_INPUT");
    await c.close();
  });

  it("reports a damaged frame at once after the handshake (ERROR 401/402), never before, and the host retransmits without waiting", async () => {
    let noisy: NoisyBootTransport | undefined;
    const c = await factory.connect({
      wrap: (t) => new CorruptingTransport((noisy = new NoisyBootTransport(t)), (type, n) => type === 0x20 && n === 1),
    });
    await c.session.ensureModel(modelBytes);
    const before = c.session.link.counters.retransmissions;
    await c.session.step(0, { indices: Uint32Array.of(1, 2) }, 1);
    // Noise before the handshake is counted but not answered; the damaged STEP is reported (detail:
    // the device's rejected frames so far, the noise included) and retransmitted on that report.
    const reports = noisy!.errors.filter((e) => e.code === 401 || e.code === 402);
    expect(reports.map((e) => e.detail)).toEqual([2]);
    expect(c.session.link.counters.retransmissions - before).toBe(1);
    expect(c.session.link.counters.fastRetransmissions).toBe(1);
    const stats = await c.session.stats();
    expect([stats.badFrame + stats.badCrc, stats.steps]).toEqual([2, 1]);
    await c.close();
  });

  it("reads state back in chunks: membranes and stored weights", async () => {
    const c = await factory.connect({ mock: { maxFrame: 64 } });
    await c.session.ensureModel(modelBytes);
    const weights = await c.session.readState(STATE_KIND.WEIGHTS, 0);
    const stored = table.layers[0]!.input;
    if (stored.kind !== "pool") expect(weights.length).toBe(stored.weights.data.byteLength);
    expect(Array.from(await c.session.readMembranes(1))).toEqual(new Array(table.layers[1]!.size).fill(0));
    const [code] = await codeOf(c.session.readState(STATE_KIND.ELIGIBILITY, 0));
    expect(code).toBe("PROTOCOL_BAD_PAYLOAD");
    await c.close();
  });

  it("compare: bit-exact against a faithful device", async () => {
    const c = await factory.connect({});
    await c.session.ensureModel(modelBytes);
    const report = await compareRun(c.session, table, randomSamples(3, 10, 5, table.input.size), { steps: 10 });
    expect(report.bitExact).toBe(true);
    expect(report.firstDivergence).toBeNull();
    expect(report.samples).toBe(3);
    expect(report.steps).toBe(30);
    expect(report.outputSpikes).toBe(report.interpreterOutputSpikes);
    expect(report.deviceAccuracy).toBe(report.interpreterAccuracy);
    await c.close();
  });

  it("compare: a model that learns on the device has its learned weights compared at the end of every sample", async () => {
    const c = await factory.connect({});
    await c.session.ensureModel(plasticBytes);
    const report = await compareRun(c.session, plasticTable, randomSamples(3, 30, 9, plasticTable.input.size), { steps: 30 });
    expect(report).toMatchObject({ bitExact: true, firstDivergence: null, samples: 3, weightChecks: 3 * plasticLayers(plasticTable).length });
    // and the weights did move: the check compares learned weights, not the stored ones
    const interp = new Interpreter(plasticTable);
    for (const sample of randomSamples(3, 30, 9, plasticTable.input.size)) {
      interp.reset();
      for (const events of sample.steps) interp.step(events);
    }
    const l = plasticLayers(plasticTable)[0]!;
    const stored = plasticTable.layers[l]!.input;
    expect(Array.from(interp.weights(l))).not.toEqual(Array.from(stored.kind === "pool" ? [] : storedWeights16(stored.weights)));
    await c.close();
  });

  it.runIf(factory.name.startsWith("mock"))(
    "compare: a device that learned one weight wrong is caught by the weight check, located to its layer and synapse",
    async () => {
      const l = plasticLayers(plasticTable)[0]!;
      const flip = { layer: l, synapse: 5, bit: 0, afterStep: 29 };
      const c = await factory.connect({ mock: { faults: { flipWeightBit: flip } } });
      await c.session.ensureModel(plasticBytes);
      const samples = randomSamples(1, 30, 9, plasticTable.input.size);
      const interp = new Interpreter(plasticTable);
      for (const events of samples[0]!.steps) interp.step(events);
      const expected = interp.weights(l)[flip.synapse]!;
      const report = await compareRun(c.session, plasticTable, samples, { steps: 30 });
      expect(report.bitExact).toBe(false);
      expect(report.firstDivergence).toEqual({
        sample: 0,
        step: 29,
        layer: l,
        neuron: flip.synapse,
        kind: "weight",
        device: expected ^ 1,
        interpreter: expected,
      });
      await c.close();
    },
  );

  it.runIf(factory.name.startsWith("mock"))("compare: a flipped membrane bit is located to its step, layer and neuron", async () => {
    const flip = { layer: 1, neuron: 3, bit: 20, afterStep: 4 };
    const c = await factory.connect({ mock: { faults: { flipMembraneBit: flip } } });
    await c.session.ensureModel(modelBytes);
    const samples = randomSamples(1, 10, 5, table.input.size);
    const interp = new Interpreter(table);
    for (let t = 0; t <= flip.afterStep; t++) interp.step(samples[0]!.steps[t]!);
    const expected = interp.membrane(flip.layer)[flip.neuron]!;
    const report = await compareRun(c.session, table, samples, { steps: 10, membranesEveryStep: true });
    expect(report.bitExact).toBe(false);
    expect(report.firstDivergence).toEqual({
      sample: 0,
      step: flip.afterStep,
      layer: flip.layer,
      neuron: flip.neuron,
      kind: "membrane",
      device: expected ^ (1 << flip.bit),
      interpreter: expected,
    });
    await c.close();
  });

  it.runIf(factory.name.startsWith("mock"))("real-time mode: the device clock drives steps and reports where each input was applied", async () => {
    const clock = new FakeClock();
    const c = await factory.connect({ mock: { clock } });
    await c.session.ensureModel(modelBytes);
    const outputs: RtOutputMsg[] = [];
    c.session.onRealtimeOutput((o) => outputs.push(o));
    const mask = allLayersMask(table.layers.length);
    const firstStep = await c.session.startRealtime(1000, mask);
    expect(firstStep).toBe(0);
    const samples = randomSamples(1, 6, 11, table.input.size)[0]!.steps;
    const flush = () => new Promise((r) => setTimeout(r, 0));
    const sent: number[] = [];
    // Two inputs before the first step (merged there), then one per step, two steps with nothing.
    sent.push(await c.session.sendRealtimeInput(samples[0]!));
    sent.push(await c.session.sendRealtimeInput(samples[1]!));
    await flush();
    clock.advance(1000);
    for (let k = 2; k < 6; k++) {
      sent.push(await c.session.sendRealtimeInput(samples[k]!));
      await flush();
      clock.advance(1000);
    }
    clock.advance(2000);
    await flush();
    const next = await c.session.stopRealtime();
    expect(next).toBe(7);
    const applied = new Map<number, number[]>();
    for (const o of outputs) if (o.appliedSeqs.length > 0) applied.set(o.step, [...o.appliedSeqs]);
    expect([...applied.entries()]).toEqual([
      [0, [sent[0], sent[1]]],
      [1, [sent[2]]],
      [2, [sent[3]]],
      [3, [sent[4]]],
      [4, [sent[5]]],
    ]);
    // Replaying the applied inputs step by step through the interpreter gives the same output spikes.
    const interp = new Interpreter(table);
    const bySeq = new Map(sent.map((s, k) => [s, samples[k]!]));
    const last = table.layers.length - 1;
    for (let step = 0; step < 7; step++) {
      interp.step(mergeRealtimeInputs((applied.get(step) ?? []).map((s) => bySeq.get(s)!)));
      const device = outputs.filter((o) => o.step === step).flatMap((o) => o.sections.filter((s) => s.layer === last).flatMap((s) => [...s.indices]));
      expect(device).toEqual(Array.from(interp.lastSpikes(last)));
    }
    await c.close();
  });

  it("acknowledges rewards with the step they apply at, and refuses a fifth pending one", async () => {
    const c = await factory.connect({});
    await c.session.ensureModel(modelBytes);
    await c.session.step(0, { indices: new Uint32Array(0) }, 0);
    expect(await c.session.reward(0, 5)).toBe(1); // target passed: the next step
    for (const t of [10, 11, 12]) expect(await c.session.reward(t, -3)).toBe(t);
    const [code] = await codeOf(c.session.reward(13, 1));
    expect(code).toBe("PROTOCOL_BUSY");
    await c.close();
  });
});
