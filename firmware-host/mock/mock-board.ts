/**
 * The in-process mock board: the DEVICE side of spec/protocol.md, in TypeScript, backed by the
 * reference interpreter, over any Transport. It is the executable reference for the C firmware's
 * main loop: every device rule of the spec (handshake, duplicate detection with stored answers,
 * upload validation, lockstep parts, real-time steps, state readback, statistics, NACK codes) is
 * implemented here exactly as spec/protocol.md §3–§5 writes it, and the same behavioural suite
 * (session.test.ts) runs against this mock and, later, against real boards.
 *
 * It receives frames itself (rather than through Link) because a device must answer requests whose
 * payload is malformed with NACK 408 and frames of unknown type with ERROR 404, which a host link drops.
 */
import { ERROR_CODES, isPicospikeError, PicospikeError, type ErrorCode } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import { decodeTable, tableHash } from "../../runtime/format.js";
import { bytesEqual, fromHex, sha256 } from "../../runtime/hash.js";
import { Interpreter } from "../../runtime/interpreter.js";
import { packWeights } from "../../runtime/plasticity.js";
import type { Connection, EventTable } from "../../runtime/model.js";
import { CobsDecoder, MAX_FRAME } from "../wire/cobs.js";
import { encodeFrame, HEADER_SIZE, CRC_SIZE, nextSeq, parseFrame, PROTOCOL_VERSION, seqDistance, type Frame } from "../wire/frame.js";
import {
  CAP, COST_UNIT, decodePayload, DEVICE_STATE, encodePayload, isRequestKind, kindOfType, MAX_PENDING_REWARDS, MODEL_HASH_SIZE, MODEL_SOURCE,
  MSG, RESET_KIND, STATE_KIND, type Message, type SpikeSection, typeOf,
} from "../wire/messages.js";
import { mergeRealtimeInputs } from "../bridge/session.js";
import type { Transport } from "../transports/transport.js";

/** A device clock for real-time mode: the mock's steps follow it. Injectable so tests control time. */
export interface DeviceClock {
  /** Current time in microseconds (monotonic). */
  nowUs(): number;
  /** Calls `tick` whenever time may have advanced by a step period; returns a function that stops it. */
  schedule(periodUs: number, tick: () => void): () => void;
}

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

/** Faults the mock can inject, so tests see what a broken device looks like. */
export interface MockFaults {
  /** After running step `afterStep` (device step number), flip bit `bit` of neuron `neuron`'s membrane in `layer`. */
  readonly flipMembraneBit?: { readonly layer: number; readonly neuron: number; readonly bit: number; readonly afterStep: number };
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
}

/** Firmware hash the mock reports: SHA-256 prefix of its name, so hosts can tell it apart. */
const MOCK_FIRMWARE_HASH = sha256(new TextEncoder().encode("picospike mock board v1")).slice(0, 8);
/** Most RT_INPUT frames pending for one step (applied_count is a u8; spec §3.2 RT_INPUT). */
export const RT_MAX_PENDING_INPUTS = 32;
/** Most real-time steps the device catches up on in one clock tick before resynchronising. */
export const RT_MAX_CATCH_UP = 10_000;

/** Device counters reported by STATS (spec §3.2). */
interface DeviceCounters {
  steps: number; framesRx: number; framesTx: number; badFrame: number; badCrc: number; gaps: number; late: number; dropped: number;
}

/** A NACK-able failure inside a request handler. */
class Nack extends Error {
  constructor(readonly code: number, readonly detail = 0) {
    super(`NACK ${code}`);
  }
}

const nackCode = (code: ErrorCode): number => ERROR_CODES[code].num;

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Little-endian bytes of an int32 array (what READ_STATE MEMBRANE returns). */
function int32Bytes(values: Int32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(i * 4, values[i]!, true);
  return out;
}

/** Little-endian bytes of an int16 array (traces and eligibility, spec/ops.md §11). */
function int16Bytes(values: Int16Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt16(i * 2, values[i]!, true);
  return out;
}

/** Stored weight bytes of a connection, little-endian (spec/table-format.md layout); undefined for pool (no weight array). */
function weightBytes(c: Connection): Uint8Array | undefined {
  if (c.kind === "pool") return undefined;
  const data = c.weights.data;
  if (data instanceof Int16Array) {
    const out = new Uint8Array(data.length * 2);
    const view = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) view.setInt16(i * 2, data[i]!, true);
    return out;
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

/**
 * Splits spike sections into STEP_RESULT / RT_OUTPUT parts so each fits `budget` payload bytes after
 * a fixed header of `fixed` bytes (section_count included). A layer that does not fit continues in
 * the next part with its indices restarting absolute (spec §3.2 STEP_RESULT).
 */
export function splitSections(sections: readonly SpikeSection[], fixed: number, budget: number): SpikeSection[][] {
  const parts: SpikeSection[][] = [];
  let current: SpikeSection[] = [];
  let used = fixed;
  const close = (): void => {
    parts.push(current);
    current = [];
    used = fixed;
  };
  for (const s of sections) {
    let k = 0;
    do {
      // section header: layer u8 + count varint (at most 3 bytes for counts < 2^21)
      if (used + 1 + 3 + (s.indices.length > k ? varintSize(s.indices[k]!) : 0) > budget && current.length > 0) close();
      let size = used + 1 + 3;
      let end = k;
      let prev = -1;
      while (end < s.indices.length) {
        const idx = s.indices[end]!;
        const add = varintSize(end === k ? idx : idx - prev - 1);
        if (size + add > budget) break;
        size += add;
        prev = idx;
        end++;
      }
      if (end === k && s.indices.length > 0) {
        if (current.length === 0) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", "frame too small for one spike");
        close();
        continue;
      }
      current.push({ layer: s.layer, indices: s.indices.slice(k, end) });
      used = size;
      k = end;
      if (k < s.indices.length) close();
    } while (k < s.indices.length);
  }
  if (current.length > 0 || parts.length === 0) parts.push(current);
  return parts;
}

/** The mock device. Construct it on the device end of a transport; it runs until the transport closes. */
export class MockBoard {
  /** Device counters (STATS). */
  readonly counters: DeviceCounters = { steps: 0, framesRx: 0, framesTx: 0, badFrame: 0, badCrc: 0, gaps: 0, late: 0, dropped: 0 };
  /** Every request type the device executed (not duplicates), in order; for tests. */
  readonly executed: string[] = [];

  private readonly board: string;
  private readonly protoMin: number;
  private readonly protoMax: number;
  private readonly maxFrame: number;
  private readonly maxInputEvents: number;
  private readonly uploadRam: number;
  private readonly clock: DeviceClock;
  private readonly faults: MockFaults;
  private readonly decoder: CobsDecoder;
  private readonly unsubscribe: Array<() => void> = [];

  private version = PROTOCOL_VERSION;
  private handshaken = false;
  private txSeq = 0;
  private expectedRx: number | undefined;
  private last: { seq: number; type: number; answer: Uint8Array[] } | undefined;

  private compiledIn: { table: EventTable; hash: Uint8Array } | undefined;
  private table: EventTable | undefined;
  private interp: Interpreter | undefined;
  private modelHash: Uint8Array = new Uint8Array(MODEL_HASH_SIZE);
  private modelSource: number = MODEL_SOURCE.NONE;
  private upload: { total: number; sha: Uint8Array; bytes: Uint8Array; received: number } | undefined;

  /** Input events buffered by STEP parts with MORE. */
  private partial: { step: number; indices: number[]; values: number[] | undefined } | undefined;
  private pendingRewards: Array<{ step: number; reward: number }> = [];

  private rt: { periodUs: number; reportMask: number; nextDueUs: number; stop: () => void } | undefined;
  private rtInputs: Array<{ seq: number; events: StepEvents }> = [];
  private rtPendingEvents = 0;
  private outQueue: Promise<void> = Promise.resolve();

  constructor(private readonly transport: Transport, options: MockBoardOptions = {}) {
    this.board = options.board ?? "mock";
    [this.protoMin, this.protoMax] = options.protoRange ?? [1, 1];
    this.maxFrame = options.maxFrame ?? MAX_FRAME;
    if (this.maxFrame < 64 || this.maxFrame > MAX_FRAME) throw new RangeError(`maxFrame ${this.maxFrame} outside 64..${MAX_FRAME}`);
    this.maxInputEvents = options.maxInputEvents ?? 4096;
    this.uploadRam = options.uploadRam ?? 4 * 1024 * 1024;
    this.clock = options.clock ?? realClock;
    this.faults = options.faults ?? {};
    this.decoder = new CobsDecoder();
    if (options.model) {
      const table = decodeTable(options.model);
      this.compiledIn = { table, hash: fromHex(tableHash(options.model)) };
      this.load(table, this.compiledIn.hash, MODEL_SOURCE.COMPILED_IN);
    }
    this.unsubscribe.push(transport.onData((bytes) => this.receive(bytes)));
    this.unsubscribe.push(transport.onClose(() => this.shutdown()));
    if (options.announceBoot ?? true) this.sendNew({ kind: "ERROR", code: nackCode("DEVICE_RESET"), detail: 0, text: "boot" });
  }

  /** The device's next step number. */
  get nextStep(): number {
    return this.interp?.t ?? 0;
  }

  /** True while real-time mode runs. */
  get realtime(): boolean {
    return this.rt !== undefined;
  }

  /** Stops the clock and detaches from the transport (the transport stays open). */
  shutdown(): void {
    this.rt?.stop();
    this.rt = undefined;
    for (const u of this.unsubscribe) u();
    this.unsubscribe.length = 0;
  }

  // ---- receive ---------------------------------------------------------------------------------

  private receive(bytes: Uint8Array): void {
    for (const chunk of this.decoder.push(bytes)) {
      if (chunk.kind !== "frame") {
        this.counters.badFrame++;
        this.reportRejected("PROTOCOL_BAD_FRAME");
        continue;
      }
      let frame: Frame;
      try {
        // max_frame ≥ 64, so HELLO frames (20 bytes) are always accepted (spec §1.2).
        frame = parseFrame(chunk.bytes, this.maxFrame);
      } catch (e) {
        const crc = isPicospikeError(e, "PROTOCOL_BAD_CRC");
        if (crc) this.counters.badCrc++;
        else this.counters.badFrame++;
        this.reportRejected(crc ? "PROTOCOL_BAD_CRC" : "PROTOCOL_BAD_FRAME");
        continue;
      }
      if (frame.version !== this.version && frame.type !== MSG.HELLO) {
        this.counters.badFrame++;
        continue;
      }
      this.counters.framesRx++;
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
    this.sendNew({ kind: "ERROR", code: nackCode(code), detail: (this.counters.badFrame + this.counters.badCrc) >>> 0, text: "" });
  }

  private trackSequence(seq: number): void {
    if (this.expectedRx === undefined) {
      this.expectedRx = nextSeq(seq);
      return;
    }
    const d = seqDistance(seq, this.expectedRx);
    if (d === 0) this.expectedRx = nextSeq(seq);
    else if (d < 0x8000) {
      this.counters.gaps += d;
      this.expectedRx = nextSeq(seq);
    } else this.counters.late++;
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
      else this.counters.dropped++;
      return;
    }
    if (msg.kind === "HELLO") {
      this.hello(msg, frame);
      return;
    }
    if (msg.kind === "RT_INPUT") {
      this.rtInput(msg.events, frame.seq);
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
    this.counters.framesTx++;
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
      kind: "HELLO_ACK", replyTo: frame.seq, protoMin: this.protoMin, protoMax: this.protoMax, protoVersion: hi, nonce: msg.nonce,
      capabilities: CAP.LOCKSTEP | CAP.REALTIME | (this.uploadRam > 0 ? CAP.UPLOAD : 0) | CAP.STATE_READBACK | CAP.PLASTICITY,
      board: this.board, firmwareHash: MOCK_FIRMWARE_HASH, modelHash: this.modelHash, maxFrame: this.maxFrame,
      maxInputEvents: this.maxInputEvents, uploadRam: this.uploadRam, costUnit: COST_UNIT.NONE,
      state: this.rt ? DEVICE_STATE.REALTIME : this.interp ? DEVICE_STATE.READY : DEVICE_STATE.NO_MODEL,
      modelSource: this.modelSource, step: this.nextStep >>> 0,
    };
    this.sendNew(ack);
  }

  private execute(msg: Message, seq: number): Message[] {
    const ack = (info: number): Message[] => [{ kind: "ACK", replyTo: seq, info: info >>> 0 }];
    switch (msg.kind) {
      case "MODEL_BEGIN": {
        if (this.rt) throw new Nack(nackCode("PROTOCOL_BUSY"));
        if (msg.totalLength === 0) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
        if (msg.totalLength > this.uploadRam) throw new Nack(nackCode("DEVICE_OUT_OF_MEMORY"), this.uploadRam);
        if (this.modelSource === MODEL_SOURCE.UPLOADED) this.unload();
        this.upload = { total: msg.totalLength, sha: msg.sha256, bytes: new Uint8Array(msg.totalLength), received: 0 };
        return ack(0);
      }
      case "MODEL_CHUNK": {
        const up = this.upload;
        if (!up) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
        const end = msg.offset + msg.data.length;
        if (end <= up.received) return ack(up.received); // a retransmission of a chunk already held
        if (msg.offset !== up.received || end > up.total) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"), up.received);
        up.bytes.set(msg.data, msg.offset);
        up.received = end;
        return ack(up.received);
      }
      case "MODEL_END": {
        const up = this.upload;
        if (!up) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
        this.upload = undefined;
        if (up.received !== up.total) throw new Nack(nackCode("FORMAT_TRUNCATED"), up.received);
        if (!bytesEqual(sha256(up.bytes), up.sha)) throw new Nack(nackCode("FORMAT_HASH_MISMATCH"));
        const table = decodeTable(up.bytes); // PicospikeError → NACK with its 1xx/2xx code
        const hash = fromHex(tableHash(up.bytes));
        this.load(table, hash, MODEL_SOURCE.UPLOADED);
        return [{ kind: "MODEL_LOADED", replyTo: seq, modelHash: hash }];
      }
      case "STEP":
        return this.step(msg, seq);
      case "RT_START": {
        if (!this.interp) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
        if (this.rt || this.partial) throw new Nack(nackCode("PROTOCOL_BUSY"));
        const stop = this.clock.schedule(msg.periodUs, () => this.rtTick());
        this.rt = { periodUs: msg.periodUs, reportMask: msg.reportMask, nextDueUs: this.clock.nowUs() + msg.periodUs, stop };
        return ack(this.nextStep);
      }
      case "RT_STOP":
        if (this.rt) {
          this.rt.stop();
          this.rt = undefined;
        }
        // Inputs that arrived after the last real-time step are discarded (they were never applied).
        this.rtInputs = [];
        this.rtPendingEvents = 0;
        return ack(this.nextStep);
      case "REWARD": {
        if (!this.interp) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
        if (this.pendingRewards.length >= MAX_PENDING_REWARDS) throw new Nack(nackCode("PROTOCOL_BUSY"), this.pendingRewards.length);
        const at = Math.max(msg.targetStep, this.nextStep);
        this.pendingRewards.push({ step: at, reward: msg.reward });
        return ack(at);
      }
      case "READ_STATE":
        return [this.readState(msg, seq)];
      case "RESET_STATE":
        if (this.rt) throw new Nack(nackCode("PROTOCOL_BUSY"));
        if (!this.interp) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
        // what 1 also puts learned weights back to the model's (spec/ops.md §11.4); a reset keeps them
        this.interp.reset();
        if (msg.what === RESET_KIND.WEIGHTS) this.interp.resetWeights();
        this.partial = undefined;
        this.pendingRewards = [];
        this.rtInputs = [];
        this.rtPendingEvents = 0;
        return ack(0);
      case "GET_STATS": {
        const c = this.counters;
        return [{
          kind: "STATS", replyTo: seq, steps: c.steps >>> 0, framesRx: c.framesRx >>> 0, framesTx: c.framesTx >>> 0, badFrame: c.badFrame >>> 0,
          badCrc: c.badCrc >>> 0, gaps: c.gaps >>> 0, late: c.late >>> 0, dropped: c.dropped >>> 0, lastCost: 0, maxCost: 0,
        }];
      }
      default:
        throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
    }
  }

  private load(table: EventTable, hash: Uint8Array, source: number): void {
    this.table = table;
    this.interp = new Interpreter(table);
    this.modelHash = hash;
    this.modelSource = source;
    this.partial = undefined;
    this.pendingRewards = [];
  }

  /** Drops an uploaded model; a compiled-in one (still in flash) becomes the live model again. */
  private unload(): void {
    if (this.compiledIn) {
      this.load(this.compiledIn.table, this.compiledIn.hash, MODEL_SOURCE.COMPILED_IN);
      return;
    }
    this.table = undefined;
    this.interp = undefined;
    this.modelHash = new Uint8Array(MODEL_HASH_SIZE);
    this.modelSource = MODEL_SOURCE.NONE;
  }

  private step(msg: Extract<Message, { kind: "STEP" }>, seq: number): Message[] {
    const interp = this.interp;
    const table = this.table;
    if (!interp || !table) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
    if (this.rt) throw new Nack(nackCode("PROTOCOL_BUSY"));
    if (msg.step !== interp.t) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"), interp.t);
    const part = this.partial && this.partial.step === msg.step ? this.partial : { step: msg.step, indices: [], values: undefined };
    const { indices, values } = msg.events;
    if (part.indices.length + indices.length > this.maxInputEvents) {
      this.partial = undefined;
      throw new Nack(nackCode("PROTOCOL_BUSY"), this.maxInputEvents);
    }
    const lastIndex = part.indices.length > 0 ? part.indices[part.indices.length - 1]! : -1;
    if (indices.length > 0 && indices[0]! <= lastIndex) {
      this.partial = undefined;
      throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
    }
    for (let k = 0; k < indices.length; k++) {
      if (indices[k]! >= table.input.size) {
        this.partial = undefined;
        throw new Nack(nackCode("SEMANTICS_BAD_INPUT"), indices[k]!);
      }
    }
    // Values: a part without values carries 1s; once any part has values every event gets one.
    if (values !== undefined && part.values === undefined) part.values = part.indices.map(() => 1);
    for (let k = 0; k < indices.length; k++) {
      part.indices.push(indices[k]!);
      if (part.values) part.values.push(values ? values[k]! : 1);
    }
    if (msg.more) {
      this.partial = part;
      return [{ kind: "ACK", replyTo: seq, info: part.indices.length }];
    }
    this.partial = undefined;
    const events: StepEvents = part.values
      ? { indices: Uint32Array.from(part.indices), values: Uint8Array.from(part.values) }
      : { indices: Uint32Array.from(part.indices) };
    const step = interp.t;
    this.runStep(events);
    const sections = this.reported(msg.reportMask);
    // STEP_RESULT fixed part: reply_to 2, step 4, flags 1, part 1, section_count 1.
    const parts = splitSections(sections, 9, this.maxFrame - HEADER_SIZE - CRC_SIZE);
    return parts.map((s, p) => ({ kind: "STEP_RESULT", replyTo: seq, step, more: p < parts.length - 1, part: p, sections: s }));
  }

  /** Applies due rewards, runs one step, applies injected faults. */
  private runStep(events: StepEvents): number {
    const interp = this.interp!;
    const step = interp.t;
    // Rewards due at this step act at its start (spec/ops.md §11.3): aimed at this step, they add (sat16)
    const due = this.pendingRewards.filter((r) => r.step <= step);
    this.pendingRewards = this.pendingRewards.filter((r) => r.step > step);
    for (const r of due) interp.reward(r.reward, step);
    interp.step(events);
    this.counters.steps++;
    const flip = this.faults.flipMembraneBit;
    if (flip && flip.afterStep === step) {
      const v = interp.membrane(flip.layer);
      v[flip.neuron] = v[flip.neuron]! ^ (1 << flip.bit);
    }
    return due.length;
  }

  private reported(mask: number): SpikeSection[] {
    const interp = this.interp!;
    const sections: SpikeSection[] = [];
    for (let l = 0; l < Math.min(32, interp.layerCount); l++) {
      if (!((mask >>> l) & 1)) continue;
      const spikes = interp.lastSpikes(l);
      if (spikes.length > 0) sections.push({ layer: l, indices: spikes.slice() });
    }
    return sections;
  }

  private readState(msg: Extract<Message, { kind: "READ_STATE" }>, seq: number): Message {
    const interp = this.interp;
    const table = this.table;
    if (!interp || !table) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
    const layer = table.layers[msg.layer];
    if (!layer) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"), table.layers.length);
    let array: Uint8Array | undefined;
    if (msg.what === STATE_KIND.MEMBRANE) array = int32Bytes(interp.membrane(msg.layer));
    else if (msg.what === STATE_KIND.WEIGHTS) {
      // a plastic layer's weights are the learned ones, in the stored width (spec/ops.md §11.4)
      array = interp.isPlastic(msg.layer) && layer.input.kind !== "pool" && layer.input.kind !== "conv2d"
        ? weightBytes({ ...layer.input, weights: packWeights(interp.weights(msg.layer), layer.input.weights) })
        : weightBytes(layer.input);
    } else if (msg.what === STATE_KIND.RECURRENT_WEIGHTS) array = layer.recurrent ? weightBytes(layer.recurrent) : undefined;
    else {
      // traces and eligibility: only plastic layers have them (eligibility only rstdp ones)
      const st = interp.plasticity(msg.layer);
      const trace = st === undefined ? undefined : msg.what === STATE_KIND.PRE_TRACE ? st.preTrace : msg.what === STATE_KIND.POST_TRACE ? st.postTrace : st.eligibility;
      array = trace === undefined || (msg.what === STATE_KIND.ELIGIBILITY && st?.params.rule !== "rstdp") ? undefined : int16Bytes(trace);
    }
    if (array === undefined) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
    if (msg.offset > array.length) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"), array.length);
    const n = Math.min(msg.length, array.length - msg.offset, this.maxFrame - 20);
    return { kind: "STATE_CHUNK", replyTo: seq, what: msg.what, layer: msg.layer, offset: msg.offset, total: array.length, data: array.slice(msg.offset, msg.offset + n) };
  }

  // ---- real time -------------------------------------------------------------------------------

  private rtInput(events: StepEvents, seq: number): void {
    const table = this.table;
    if (!this.handshaken || !table || !this.rt) {
      this.counters.dropped++;
      return;
    }
    const n = events.indices.length;
    const last = n > 0 ? events.indices[n - 1]! : -1;
    if (last >= table.input.size || this.rtInputs.length >= RT_MAX_PENDING_INPUTS || this.rtPendingEvents + n > this.maxInputEvents) {
      this.counters.dropped++;
      return;
    }
    this.rtInputs.push({ seq, events });
    this.rtPendingEvents += n;
  }

  private rtTick(): void {
    const rt = this.rt;
    if (!rt) return;
    const now = this.clock.nowUs();
    let ran = 0;
    while (this.rt === rt && rt.nextDueUs <= now) {
      this.rtStep(rt.reportMask);
      rt.nextDueUs += rt.periodUs;
      if (++ran >= RT_MAX_CATCH_UP) {
        rt.nextDueUs = now + rt.periodUs; // too far behind: resynchronise instead of spinning
        break;
      }
    }
  }

  private rtStep(reportMask: number): void {
    const inputs = this.rtInputs;
    this.rtInputs = [];
    this.rtPendingEvents = 0;
    const events = mergeRealtimeInputs(inputs.map((i) => i.events));
    const step = this.interp!.t;
    const rewards = this.runStep(events);
    const sections = this.reported(reportMask);
    if (inputs.length === 0 && rewards === 0 && sections.length === 0) return;
    const appliedSeqs = inputs.map((i) => i.seq);
    // RT_OUTPUT fixed part: step 4, flags 1, applied_count 1, applied_seq 2 each, section_count 1.
    const budget = this.maxFrame - HEADER_SIZE - CRC_SIZE;
    const parts = splitSections(sections, 7 + 2 * appliedSeqs.length, budget);
    parts.forEach((s, p) => this.sendNew({ kind: "RT_OUTPUT", step, appliedSeqs: p === 0 ? appliedSeqs : [], sections: s }));
  }
}
