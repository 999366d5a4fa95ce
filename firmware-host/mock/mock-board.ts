/**
 * The in-process mock board: the DEVICE side of spec/protocol.md, in TypeScript, backed by the
 * reference interpreter, over any Transport. It is the executable reference for the C firmware's
 * main loop: every device rule of the spec (handshake, duplicate detection with stored answers,
 * upload validation, lockstep parts, real-time steps, state readback, statistics, NACK codes) is
 * implemented here exactly as spec/protocol.md §3–§5 writes it, and the same behavioural suite
 * (session.test.ts) runs against this mock and, later, against real boards.
 *
 * Split by concern like the C device (firmware/src/ps_device*.c): this file receives, dispatches and
 * answers; the handlers live in step.ts, model.ts, realtime.ts and readback.ts over the one state
 * object of state.ts, and test/twin.test.ts checks that mock and C send the same bytes.
 *
 * It receives frames itself (rather than through Link) because a device must answer requests whose
 * payload is malformed with NACK 408 and frames of unknown type with ERROR 404, which a host link drops.
 */
import { isPicospikeError } from "../../runtime/errors.js";
import { decodeTable, tableHash } from "../../runtime/format.js";
import { fromHex, sha256 } from "../../runtime/hash.js";
import type { Transport } from "../transports/transport.js";
import { CobsDecoder, MAX_FRAME } from "../wire/cobs.js";
import { encodeFrame, nextSeq, parseFrame, PROTOCOL_VERSION, seqDistance, type Frame } from "../wire/frame.js";
import {
  CAP,
  COST_UNIT,
  decodePayload,
  DEVICE_STATE,
  encodePayload,
  isRequestKind,
  kindOfType,
  MODEL_HASH_SIZE,
  MODEL_SOURCE,
  MSG,
  RESET_KIND,
  type Message,
  typeOf,
} from "../wire/messages.js";
import { loadModel, modelBegin, modelChunk, modelEnd } from "./model.js";
import { readState } from "./readback.js";
import { rtInput, rtStart, rtStop } from "./realtime.js";
import { type DeviceClock, type DeviceCounters, hasCost, type MockDevice, type MockFaults, Nack, nackCode, nextStep } from "./state.js";
import { lockstep, queueReward } from "./step.js";

export type { DeviceClock, MockFaults } from "./state.js";
export { RT_MAX_CATCH_UP, RT_MAX_PENDING_INPUTS } from "./realtime.js";
export { splitSections } from "./step.js";

/** The wall clock: performance.now() and a 1 ms (or longer) interval timer; late steps are caught up on the next tick. */
export const realClock: DeviceClock = {
  nowUs: () => Math.floor(performance.now() * 1000),
  schedule(periodUs, tick) {
    const timer = setInterval(tick, Math.max(1, Math.floor(periodUs / 1000)));
    return () => clearInterval(timer);
  },
};

/** A clock that moves only when told: `advance(us)` runs every step that falls due. For tests. */
export class FakeClock implements DeviceClock {
  private now = 0;
  private readonly ticks = new Set<() => void>();

  /** Current fake time in µs. */
  nowUs(): number {
    return this.now;
  }

  /** Registers a tick; it runs on every advance(). */
  schedule(_periodUs: number, tick: () => void): () => void {
    this.ticks.add(tick);
    return () => this.ticks.delete(tick);
  }

  /** Moves time forward by `us` and lets the device run the steps that fell due. */
  advance(us: number): void {
    this.now += us;
    for (const tick of [...this.ticks]) tick();
  }
}

/** Options of a MockBoard; every one has a default. */
export interface MockBoardOptions {
  /** Board name in HELLO_ACK. Default "mock". */
  readonly board?: string;
  /** Compiled-in model (.cbor bytes): loaded at boot, like a model in flash. Default none. */
  readonly model?: Uint8Array;
  /** Protocol range the device speaks. Default [1, 1]. */
  readonly protoRange?: readonly [min: number, max: number];
  /** Largest decoded frame, 64..512. Default 512. */
  readonly maxFrame?: number;
  /** Most input events per step. Default 4096. */
  readonly maxInputEvents?: number;
  /** Bytes for an uploaded model (0: no upload). Default 4 MiB. */
  readonly uploadRam?: number;
  /** Clock of real-time mode. Default realClock. */
  readonly clock?: DeviceClock;
  /** Send ERROR DEVICE_RESET after boot (spec §3.2). Default true. */
  readonly announceBoot?: boolean;
  /** Injected faults. */
  readonly faults?: MockFaults;
  /**
   * Unit of the per-step cost (COST_UNIT). Default NONE: no COST capability, and a STEP with COST gets
   * no cost (spec §5.9). Otherwise the mock has COST and measures each step's network update on its
   * clock in µs, as the native C device does (under a FakeClock every step costs 0).
   */
  readonly costUnit?: number;
}

/** Firmware hash the mock reports: SHA-256 prefix of its name, so hosts can tell it apart. */
export const MOCK_FIRMWARE_HASH = sha256(new TextEncoder().encode("picospike mock board v1")).slice(0, 8);

/** The mock device. Construct it on the device end of a transport; it runs until the transport closes. */
export class MockBoard {
  /** Every request type the device executed (not duplicates), in order; for tests. */
  readonly executed: string[] = [];

  /** The device state the concern modules work on (state.ts). */
  private readonly d: MockDevice;
  private readonly board: string;
  private readonly protoMin: number;
  private readonly protoMax: number;
  private readonly decoder: CobsDecoder;
  private readonly unsubscribe: Array<() => void> = [];

  private version = PROTOCOL_VERSION;
  private handshaken = false;
  private txSeq = 0;
  private expectedRx: number | undefined;
  private last: { seq: number; type: number; answer: Uint8Array[] } | undefined;
  private outQueue: Promise<void> = Promise.resolve();

  constructor(
    private readonly transport: Transport,
    options: MockBoardOptions = {},
  ) {
    this.board = options.board ?? "mock";
    [this.protoMin, this.protoMax] = options.protoRange ?? [1, 1];
    const maxFrame = options.maxFrame ?? MAX_FRAME;
    if (maxFrame < 64 || maxFrame > MAX_FRAME) throw new RangeError(`maxFrame ${maxFrame} outside 64..${MAX_FRAME}`);
    this.d = {
      maxFrame,
      maxInputEvents: options.maxInputEvents ?? 4096,
      uploadRam: options.uploadRam ?? 4 * 1024 * 1024,
      clock: options.clock ?? realClock,
      faults: options.faults ?? {},
      costUnit: options.costUnit ?? COST_UNIT.NONE,
      sendNew: (msg) => this.sendNew(msg),
      counters: { steps: 0, framesRx: 0, framesTx: 0, badFrame: 0, badCrc: 0, gaps: 0, late: 0, dropped: 0 },
      lastCost: 0,
      maxCost: 0,
      compiledIn: undefined,
      table: undefined,
      interp: undefined,
      modelHash: new Uint8Array(MODEL_HASH_SIZE),
      modelSource: MODEL_SOURCE.NONE,
      upload: undefined,
      partial: undefined,
      pendingRewards: [],
      rt: undefined,
      rtInputs: [],
      rtPendingEvents: 0,
    };
    this.decoder = new CobsDecoder();
    if (options.model) {
      const table = decodeTable(options.model);
      this.d.compiledIn = { table, hash: fromHex(tableHash(options.model)) };
      loadModel(this.d, table, this.d.compiledIn.hash, MODEL_SOURCE.COMPILED_IN);
    }
    this.unsubscribe.push(transport.onData((bytes) => this.receive(bytes)));
    this.unsubscribe.push(transport.onClose(() => this.shutdown()));
    if (options.announceBoot ?? true) this.sendNew({ kind: "ERROR", code: nackCode("DEVICE_RESET"), detail: 0, text: "boot" });
  }

  /** Device counters (STATS). */
  get counters(): DeviceCounters {
    return this.d.counters;
  }

  /** The device's next step number. */
  get nextStep(): number {
    return nextStep(this.d);
  }

  /** True while real-time mode runs. */
  get realtime(): boolean {
    return this.d.rt !== undefined;
  }

  /** Resolves once every frame sent so far has been written to the transport. */
  flushed(): Promise<void> {
    return this.outQueue;
  }

  /** Stops the clock and detaches from the transport (the transport stays open). */
  shutdown(): void {
    this.d.rt?.stop();
    this.d.rt = undefined;
    for (const u of this.unsubscribe) u();
    this.unsubscribe.length = 0;
  }

  // ---- receive ---------------------------------------------------------------------------------

  private receive(bytes: Uint8Array): void {
    for (const chunk of this.decoder.push(bytes)) {
      if (chunk.kind !== "frame") {
        this.d.counters.badFrame++;
        this.reportRejected("PROTOCOL_BAD_FRAME");
        continue;
      }
      let frame: Frame;
      try {
        // max_frame ≥ 64, so HELLO frames (20 bytes) are always accepted (spec §1.2).
        frame = parseFrame(chunk.bytes, this.d.maxFrame);
      } catch (e) {
        const crc = isPicospikeError(e, "PROTOCOL_BAD_CRC");
        if (crc) this.d.counters.badCrc++;
        else this.d.counters.badFrame++;
        this.reportRejected(crc ? "PROTOCOL_BAD_CRC" : "PROTOCOL_BAD_FRAME");
        continue;
      }
      if (frame.version !== this.version && frame.type !== MSG.HELLO) {
        this.d.counters.badFrame++;
        continue;
      }
      this.d.counters.framesRx++;
      this.trackSequence(frame.seq);
      this.handleFrame(frame);
    }
  }

  /**
   * Damage report (spec §2 "Fast retransmission"): after a handshake, one short ERROR 401/402 per
   * chunk rejected by COBS, size, length or CRC, detail = frames rejected so far, so the host can
   * retransmit its request at once instead of waiting for its timeout. Silent before a handshake:
   * line noise at boot is not worth answering and no request can be outstanding.
   */
  private reportRejected(code: "PROTOCOL_BAD_FRAME" | "PROTOCOL_BAD_CRC"): void {
    if (!this.handshaken) return;
    this.sendNew({ kind: "ERROR", code: nackCode(code), detail: (this.d.counters.badFrame + this.d.counters.badCrc) >>> 0, text: "" });
  }

  private trackSequence(seq: number): void {
    if (this.expectedRx === undefined) {
      this.expectedRx = nextSeq(seq);
      return;
    }
    const d = seqDistance(seq, this.expectedRx);
    if (d === 0) this.expectedRx = nextSeq(seq);
    else if (d < 0x8000) {
      this.d.counters.gaps += d;
      this.expectedRx = nextSeq(seq);
    } else this.d.counters.late++;
  }

  private handleFrame(frame: Frame): void {
    const kind = kindOfType(frame.type);
    if (kind === undefined) {
      this.sendNew({ kind: "ERROR", code: nackCode("PROTOCOL_UNKNOWN_MESSAGE"), detail: frame.type, text: "unknown message type" });
      return;
    }
    const isRequest = isRequestKind(kind);
    let msg: Message;
    try {
      msg = decodePayload(frame.type, frame.payload);
    } catch {
      if (isRequest && kind !== "HELLO") this.answer(frame, [{ kind: "NACK", replyTo: frame.seq, code: nackCode("PROTOCOL_BAD_PAYLOAD"), detail: 0 }]);
      else this.d.counters.dropped++;
      return;
    }
    if (msg.kind === "HELLO") {
      this.hello(msg, frame);
      return;
    }
    if (msg.kind === "RT_INPUT") {
      rtInput(this.d, msg.events, frame.seq, this.handshaken);
      return;
    }
    if (!isRequest) {
      // Answers and fire-and-forget messages a device does not take (ERROR from the host is only counted as received).
      return;
    }
    if (this.last && this.last.seq === frame.seq && this.last.type === frame.type) {
      // A duplicate: resend the stored answer byte for byte, do not execute again (spec §2).
      for (const bytes of this.last.answer) this.write(bytes);
      return;
    }
    if (!this.handshaken) {
      this.answer(frame, [{ kind: "NACK", replyTo: frame.seq, code: nackCode("PROTOCOL_HANDSHAKE_FAILED"), detail: 0 }]);
      return;
    }
    let answers: Message[];
    try {
      answers = this.execute(msg, frame.seq);
    } catch (e) {
      const code = e instanceof Nack ? e.code : isPicospikeError(e) ? e.num : nackCode("PROTOCOL_BAD_PAYLOAD");
      answers = [{ kind: "NACK", replyTo: frame.seq, code, detail: e instanceof Nack ? e.detail >>> 0 : 0 }];
    }
    this.executed.push(msg.kind);
    this.answer(frame, answers);
  }

  /** Sends the answer frames of a request and stores them for duplicates. */
  private answer(frame: Frame, answers: readonly Message[]): void {
    const encoded = answers.map((m) => this.encodeNew(m));
    this.last = { seq: frame.seq, type: frame.type, answer: encoded };
    for (const bytes of encoded) this.write(bytes);
  }

  private encodeNew(msg: Message): Uint8Array {
    const seq = this.txSeq;
    this.txSeq = nextSeq(seq);
    // max_frame bounds what the device receives; what it sends may take up to MAX_FRAME (spec §1.2).
    return encodeFrame({ version: this.version, type: typeOf(msg), seq, payload: encodePayload(msg) }, MAX_FRAME);
  }

  private sendNew(msg: Message): void {
    this.write(this.encodeNew(msg));
  }

  private write(bytes: Uint8Array): void {
    if (!this.transport.isOpen) return;
    this.d.counters.framesTx++;
    // Writes stay in order; a closed transport just ends the device's output.
    this.outQueue = this.outQueue.then(() => this.transport.write(bytes)).catch(() => undefined);
  }

  // ---- requests --------------------------------------------------------------------------------

  private hello(msg: Extract<Message, { kind: "HELLO" }>, frame: Frame): void {
    this.executed.push("HELLO");
    const lo = Math.max(msg.protoMin, this.protoMin);
    const hi = Math.min(msg.protoMax, this.protoMax);
    if (lo > hi) {
      // Readable in any version: sent with the header version of the host's HELLO.
      const nack: Message = { kind: "NACK", replyTo: frame.seq, code: nackCode("PROTOCOL_VERSION_MISMATCH"), detail: this.protoMin | (this.protoMax << 8) };
      const bytes = encodeFrame({ version: frame.version, type: MSG.NACK, seq: 0, payload: encodePayload(nack) }, MAX_FRAME);
      this.txSeq = 1;
      this.last = undefined;
      this.write(bytes);
      return;
    }
    this.version = hi;
    this.handshaken = true;
    this.txSeq = 0;
    this.last = undefined;
    this.expectedRx = undefined; // the next frame starts gap tracking (spec §4)
    const ack: Message = {
      kind: "HELLO_ACK",
      replyTo: frame.seq,
      protoMin: this.protoMin,
      protoMax: this.protoMax,
      protoVersion: hi,
      nonce: msg.nonce,
      capabilities:
        CAP.LOCKSTEP | CAP.REALTIME | (this.d.uploadRam > 0 ? CAP.UPLOAD : 0) | CAP.STATE_READBACK | CAP.PLASTICITY | (hasCost(this.d) ? CAP.COST : 0),
      board: this.board,
      firmwareHash: MOCK_FIRMWARE_HASH,
      modelHash: this.d.modelHash,
      maxFrame: this.d.maxFrame,
      maxInputEvents: this.d.maxInputEvents,
      uploadRam: this.d.uploadRam,
      costUnit: this.d.costUnit,
      state: this.d.rt ? DEVICE_STATE.REALTIME : this.d.interp ? DEVICE_STATE.READY : DEVICE_STATE.NO_MODEL,
      modelSource: this.d.modelSource,
      step: nextStep(this.d) >>> 0,
    };
    this.sendNew(ack);
  }

  private execute(msg: Message, seq: number): Message[] {
    const d = this.d;
    const ack = (info: number): Message[] => [{ kind: "ACK", replyTo: seq, info: info >>> 0 }];
    switch (msg.kind) {
      case "MODEL_BEGIN":
        return ack(modelBegin(d, msg));
      case "MODEL_CHUNK":
        return ack(modelChunk(d, msg));
      case "MODEL_END":
        return [{ kind: "MODEL_LOADED", replyTo: seq, modelHash: modelEnd(d) }];
      case "STEP":
        return lockstep(d, msg, seq);
      case "RT_START":
        return ack(rtStart(d, msg));
      case "RT_STOP":
        return ack(rtStop(d));
      case "REWARD":
        return ack(queueReward(d, msg));
      case "READ_STATE":
        return [readState(d, msg, seq)];
      case "RESET_STATE":
        if (d.rt) throw new Nack(nackCode("PROTOCOL_BUSY"));
        if (!d.interp) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
        // what 1 also puts learned weights back to the model's (spec/ops.md §11.4); a reset keeps them
        d.interp.reset();
        if (msg.what === RESET_KIND.WEIGHTS) d.interp.resetWeights();
        d.partial = undefined;
        d.pendingRewards = [];
        d.rtInputs = [];
        d.rtPendingEvents = 0;
        return ack(0);
      case "GET_STATS": {
        const c = d.counters;
        return [
          {
            kind: "STATS",
            replyTo: seq,
            steps: c.steps >>> 0,
            framesRx: c.framesRx >>> 0,
            framesTx: c.framesTx >>> 0,
            badFrame: c.badFrame >>> 0,
            badCrc: c.badCrc >>> 0,
            gaps: c.gaps >>> 0,
            late: c.late >>> 0,
            dropped: c.dropped >>> 0,
            lastCost: d.lastCost >>> 0,
            maxCost: d.maxCost >>> 0,
          },
        ];
      }
      default:
        throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
    }
  }
}
