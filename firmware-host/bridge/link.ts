/**
 * A protocol endpoint over a Transport (spec/protocol.md §2, §4): numbers and sends frames,
 * splits and checks received ones, counts every loss and corruption, dispatches messages, and runs
 * stop-and-wait requests with a bounded timeout and retries. Used by the host bridge and, on the
 * other end of a loopback, by the in-process mock board.
 */
import { ERROR_CODES, PicospikeError, errorCodeFromNum } from "../../runtime/errors.js";
import { CobsDecoder, MAX_FRAME } from "../wire/cobs.js";
import { encodeFrame, type Frame, nextSeq, parseFrame, PROTOCOL_VERSION, seqDistance } from "../wire/frame.js";
import {
  type AnswerMessage,
  decodePayload,
  encodePayload,
  type HelloAckMsg,
  isAnswer,
  isRequestKind,
  type Message,
  MSG,
  type SpikeSection,
  type StepResultMsg,
  typeOf,
} from "../wire/messages.js";
import type { Transport } from "../transports/transport.js";
import { PROTOCOL, TIMING } from "../wire/schema.js";

/** Per-attempt answer timeout (spec §2). */
export const REQUEST_TIMEOUT_MS: number = TIMING.REQUEST_TIMEOUT_MS;
/** Retransmissions after the first attempt (spec §2). */
export const REQUEST_RETRIES: number = TIMING.REQUEST_RETRIES;
/** MODEL_END timeout: the device hashes and validates the model (spec §2). */
export const MODEL_END_TIMEOUT_MS: number = TIMING.MODEL_END_TIMEOUT_MS;
/** Total time the host keeps sending HELLO before giving up (spec §4). */
export const HANDSHAKE_TOTAL_MS = 5000;
/** Lowest protocol version this build speaks. */
export const PROTOCOL_MIN: number = PROTOCOL.MIN;
/** Highest protocol version this build speaks. */
export const PROTOCOL_MAX = PROTOCOL_VERSION;

/** Counters of everything the link saw go wrong or right. */
export interface LinkCounters {
  framesRx: number;
  framesTx: number;
  /** Chunks that failed COBS, size or length checks (including oversize chunks), or carried the wrong version. */
  badFrame: number;
  badCrc: number;
  /** Frames lost according to sequence numbers (spec §2). */
  gaps: number;
  /** Frames that arrived behind the expected sequence number (retransmissions, reordering). */
  late: number;
  /** Valid frames with a type this version does not know. */
  unknownType: number;
  /** Valid frames whose payload did not match its type's layout. */
  badPayload: number;
  /** Retransmitted requests (after a timeout or, fast, after damage; spec §2). */
  retransmissions: number;
  /** Of those, fast retransmissions: sent at once on a rejected chunk or a device's ERROR 401/402 (spec §2). */
  fastRetransmissions: number;
  /** Answers that matched no outstanding request (late answers to earlier attempts). */
  staleAnswers: number;
}

/** Options of a Link. */
export interface LinkOptions {
  /** Per-attempt timeout in ms; default REQUEST_TIMEOUT_MS. */
  readonly timeoutMs?: number;
  /** Retransmissions; default REQUEST_RETRIES. */
  readonly retries?: number;
  /** Largest decoded frame accepted and sent; default MAX_FRAME. */
  readonly maxFrame?: number;
  /**
   * Adaptive per-attempt timeout (spec §2): clamp(2·srtt + 4·rttvar, minMs, timeoutMs), from the
   * round trips of requests answered at their first attempt. Absent: always timeoutMs.
   */
  readonly adaptiveTimeout?: { readonly minMs: number };
  /**
   * Fast retransmission (spec §2): while a request other than HELLO is outstanding, retransmit it
   * at once when a received chunk fails COBS, length or CRC checks or the device reports one it
   * rejected (ERROR 401/402), within the same retry budget. Default true.
   */
  readonly fastRetransmit?: boolean;
}

/** Options of one request. */
export interface RequestOptions {
  readonly timeoutMs?: number;
  readonly retries?: number;
  /** Extra check on a matching answer; answers it rejects are ignored (e.g. HELLO nonce). */
  readonly accept?: (answer: AnswerMessage) => boolean;
}

/** Listener for messages that are not answers to this side's requests. */
export type MessageListener = (msg: Message, frame: Frame) => void;

interface Pending {
  readonly seq: number;
  readonly kind: Message["kind"];
  readonly accept: ((answer: AnswerMessage) => boolean) | undefined;
  readonly parts: Map<number, StepResultMsg>;
  lastPart: number | undefined;
  /** Sends the next attempt now (fast retransmission); undefined for requests that are not retransmitted early. */
  readonly retransmitNow: (() => void) | undefined;
  resolve(answer: AnswerMessage): void;
  reject(error: PicospikeError): void;
}

/** One protocol endpoint over a transport. */
export class Link {
  /** Live counters (read them; the link updates them). */
  readonly counters: LinkCounters = {
    framesRx: 0,
    framesTx: 0,
    badFrame: 0,
    badCrc: 0,
    gaps: 0,
    late: 0,
    unknownType: 0,
    badPayload: 0,
    retransmissions: 0,
    fastRetransmissions: 0,
    staleAnswers: 0,
  };
  /** Protocol version of the session (set by the handshake). */
  version: number = PROTOCOL_VERSION;

  private readonly decoder: CobsDecoder;
  private readonly maxFrame: number;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly listeners = new Set<MessageListener>();
  private readonly unsubscribe: Array<() => void> = [];
  private txSeq = 0;
  private expectedRx: number | undefined;
  private lastRequestSeq: number | undefined;
  private pending: Pending | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly adaptiveMinMs: number | undefined;
  private readonly fastRetransmit: boolean;
  private srtt: number | undefined;
  private rttvar = 0;

  constructor(
    private readonly transport: Transport,
    options: LinkOptions = {},
  ) {
    this.maxFrame = options.maxFrame ?? MAX_FRAME;
    this.timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    this.retries = options.retries ?? REQUEST_RETRIES;
    this.adaptiveMinMs = options.adaptiveTimeout?.minMs;
    this.fastRetransmit = options.fastRetransmit ?? true;
    this.decoder = new CobsDecoder();
    this.unsubscribe.push(transport.onData((bytes) => this.receive(bytes)));
    this.unsubscribe.push(transport.onClose(() => this.shutdown("transport closed")));
  }

  /** Registers a listener for every received message that is not the answer to an outstanding request. */
  onMessage(listener: MessageListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Restarts sequence numbering and gap tracking (spec §4: both sides do so at a handshake). */
  resetSession(): void {
    this.txSeq = 0;
    this.expectedRx = undefined;
    this.lastRequestSeq = undefined;
    this.decoder.reset();
  }

  /** Sends a message in a new frame without waiting (fire-and-forget, or an answer); returns its sequence number. */
  async send(msg: Message): Promise<number> {
    const seq = this.allocateSeq();
    await this.writeFrame(msg, seq);
    return seq;
  }

  /** Sends a message with a given sequence number (device side: resending a cached answer is done this way too). */
  async sendWithSeq(msg: Message, seq: number): Promise<void> {
    await this.writeFrame(msg, seq & 0xffff);
  }

  /** Writes a lone 0x00: flushes a partial frame in the peer's decoder (spec §1.3). */
  async flush(): Promise<void> {
    await this.transport.write(new Uint8Array(1));
  }

  /**
   * Sends a request and resolves with its answer (a multi-part STEP_RESULT is merged into one).
   * Retransmits the same frame after each timeout; fails with PROTOCOL_TIMEOUT after all retries, with
   * the NACK's code on a NACK, with DEVICE_DISCONNECTED when the link closes. Requests are serialised.
   */
  request(msg: Message, options: RequestOptions = {}): Promise<AnswerMessage> {
    if (!isRequestKind(msg.kind)) return Promise.reject(new PicospikeError("PROTOCOL_BAD_PAYLOAD", `${msg.kind} is not a request`));
    const run = this.queue.then(() => this.runRequest(msg, options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Host handshake (spec §4): flush, then HELLO with a fresh nonce every attempt timeout until a
   * matching HELLO_ACK, for at most `totalMs`. Checks the version ranges overlap, adopts the chosen
   * version and restarts sequence numbering. Fails with PROTOCOL_HANDSHAKE_FAILED or PROTOCOL_VERSION_MISMATCH.
   */
  async handshake(nonce: number, totalMs: number = HANDSHAKE_TOTAL_MS): Promise<HelloAckMsg> {
    await this.flush();
    this.resetSession();
    const attempts = Math.max(1, Math.ceil(totalMs / this.timeoutMs));
    let answer: AnswerMessage;
    try {
      answer = await this.request(
        { kind: "HELLO", protoMin: PROTOCOL_MIN, protoMax: PROTOCOL_MAX, nonce: nonce >>> 0 },
        { retries: attempts - 1, accept: (a) => a.kind !== "HELLO_ACK" || a.nonce === nonce >>> 0 },
      );
    } catch (e) {
      if (e instanceof PicospikeError && e.code === "PROTOCOL_TIMEOUT") {
        throw new PicospikeError("PROTOCOL_HANDSHAKE_FAILED", `no HELLO_ACK within ${totalMs} ms`, { attempts });
      }
      throw e;
    }
    if (answer.kind !== "HELLO_ACK") throw new PicospikeError("PROTOCOL_HANDSHAKE_FAILED", `device answered HELLO with ${answer.kind}`);
    const chosen = answer.protoVersion;
    if (chosen < PROTOCOL_MIN || chosen > PROTOCOL_MAX || chosen < answer.protoMin || chosen > answer.protoMax) {
      throw new PicospikeError(
        "PROTOCOL_VERSION_MISMATCH",
        `device speaks protocol ${answer.protoMin}..${answer.protoMax}, host ${PROTOCOL_MIN}..${PROTOCOL_MAX}`,
        {
          deviceMin: answer.protoMin,
          deviceMax: answer.protoMax,
        },
      );
    }
    this.version = chosen;
    // The device restarted its numbering when it answered; the host restarts now (spec §4).
    this.txSeq = 0;
    this.lastRequestSeq = undefined;
    return answer;
  }

  /** True once the link or its transport closed for good. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Closes the link and its transport; an outstanding request fails with DEVICE_DISCONNECTED. */
  async close(): Promise<void> {
    this.shutdown("link closed");
    await this.transport.close();
  }

  /** The per-attempt timeout a new request gets (adaptive when enabled). */
  attemptTimeout(): number {
    if (this.adaptiveMinMs === undefined || this.srtt === undefined) return this.timeoutMs;
    return Math.min(this.timeoutMs, Math.max(this.adaptiveMinMs, Math.ceil(2 * this.srtt + 4 * this.rttvar)));
  }

  // ---- internals ------------------------------------------------------------------------------

  private observeRtt(ms: number): void {
    if (this.srtt === undefined) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
  }

  private allocateSeq(): number {
    const seq = this.txSeq;
    this.txSeq = nextSeq(seq);
    return seq;
  }

  private async writeFrame(msg: Message, seq: number): Promise<void> {
    if (this.closed) throw new PicospikeError("DEVICE_DISCONNECTED", "the link is closed");
    const bytes = encodeFrame({ version: this.version, type: typeOf(msg), seq, payload: encodePayload(msg) }, this.maxFrame);
    await this.transport.write(bytes);
    this.counters.framesTx++;
  }

  private async runRequest(msg: Message, options: RequestOptions): Promise<AnswerMessage> {
    let seq = this.allocateSeq();
    // Never reuse the previous request's number: the device would take it for a duplicate (spec §2).
    if (seq === this.lastRequestSeq) seq = this.allocateSeq();
    this.lastRequestSeq = seq;
    const timeoutMs = options.timeoutMs ?? (msg.kind === "MODEL_END" ? MODEL_END_TIMEOUT_MS : this.attemptTimeout());
    const retries = options.retries ?? this.retries;
    const sentAt = performance.now();
    return new Promise<AnswerMessage>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let attempt = 0;
      const finish = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.pending = undefined;
      };
      const pending: Pending = {
        seq,
        kind: msg.kind,
        accept: options.accept,
        parts: new Map(),
        lastPart: undefined,
        // HELLO keeps its paced attempts: noise from a booting board must not use up the handshake.
        retransmitNow:
          this.fastRetransmit && msg.kind !== "HELLO"
            ? () => {
                if (timer !== undefined) clearTimeout(timer);
                if (attempt <= retries) this.counters.fastRetransmissions++;
                attemptOnce();
              }
            : undefined,
        resolve: (answer) => {
          // Karn: only answers to a first attempt measure the round trip.
          if (attempt === 1) this.observeRtt(performance.now() - sentAt);
          finish();
          resolve(answer);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
      };
      const attemptOnce = (): void => {
        if (this.pending !== pending) return;
        if (attempt > retries) {
          pending.reject(
            new PicospikeError("PROTOCOL_TIMEOUT", `no answer to ${msg.kind} (seq ${seq}) after ${attempt} attempts of ${timeoutMs} ms`, {
              seq,
              kind: msg.kind,
              attempts: attempt,
            }),
          );
          return;
        }
        if (attempt > 0) this.counters.retransmissions++;
        attempt++;
        pending.parts.clear();
        pending.lastPart = undefined;
        timer = setTimeout(attemptOnce, timeoutMs);
        this.writeFrame(msg, seq).catch((e: unknown) => {
          if (this.pending === pending) pending.reject(e instanceof PicospikeError ? e : new PicospikeError("DEVICE_DISCONNECTED", String(e)));
        });
      };
      this.pending = pending;
      attemptOnce();
    });
  }

  private receive(bytes: Uint8Array): void {
    for (const chunk of this.decoder.push(bytes)) {
      if (chunk.kind !== "frame") {
        this.counters.badFrame++;
        this.damageSeen();
        continue;
      }
      let frame: Frame;
      try {
        frame = parseFrame(chunk.bytes, this.maxFrame);
      } catch (e) {
        if (e instanceof PicospikeError && e.code === "PROTOCOL_BAD_CRC") this.counters.badCrc++;
        else this.counters.badFrame++;
        this.damageSeen();
        continue;
      }
      // HELLO, HELLO_ACK and NACK are readable across versions (spec §1.4).
      if (frame.version !== this.version && frame.type !== MSG.HELLO && frame.type !== MSG.HELLO_ACK && frame.type !== MSG.NACK) {
        this.counters.badFrame++;
        continue;
      }
      this.counters.framesRx++;
      this.trackSequence(frame.seq, frame.type);
      let msg: Message;
      try {
        msg = decodePayload(frame.type, frame.payload);
      } catch (e) {
        if (e instanceof PicospikeError && e.code === "PROTOCOL_UNKNOWN_MESSAGE") this.counters.unknownType++;
        else this.counters.badPayload++;
        continue;
      }
      this.dispatch(msg, frame);
    }
  }

  /**
   * A chunk failed its checks here, or the device reported one it rejected: the outstanding
   * request or its answer was most likely damaged, so retransmit now (spec §2). A spurious
   * retransmission is harmless: the device answers a duplicate from its stored answer.
   */
  private damageSeen(): void {
    this.pending?.retransmitNow?.();
  }

  private trackSequence(seq: number, type: number): void {
    // A HELLO_ACK starts the device's numbering afresh (spec §4).
    if (this.expectedRx === undefined || type === MSG.HELLO_ACK || type === MSG.HELLO) {
      this.expectedRx = nextSeq(seq);
      return;
    }
    const d = seqDistance(seq, this.expectedRx);
    if (d === 0) {
      this.expectedRx = nextSeq(seq);
    } else if (d < 0x8000) {
      this.counters.gaps += d;
      this.expectedRx = nextSeq(seq);
    } else {
      this.counters.late++;
    }
  }

  private dispatch(msg: Message, frame: Frame): void {
    const pending = this.pending;
    if (msg.kind === "ERROR" && (msg.code === ERROR_CODES.PROTOCOL_BAD_FRAME.num || msg.code === ERROR_CODES.PROTOCOL_BAD_CRC.num)) this.damageSeen();
    if (isAnswer(msg)) {
      if (pending && msg.replyTo === pending.seq && answerFits(pending.kind, msg) && (pending.accept === undefined || pending.accept(msg))) {
        this.settle(pending, msg);
      } else {
        this.counters.staleAnswers++;
      }
      return;
    }
    for (const listener of [...this.listeners]) listener(msg, frame);
  }

  private settle(pending: Pending, answer: AnswerMessage): void {
    if (answer.kind === "NACK") {
      const code = errorCodeFromNum(answer.code);
      const text = code ? ERROR_CODES[code].cause : `unknown error number ${answer.code}`;
      pending.reject(
        new PicospikeError(code ?? "PROTOCOL_BAD_PAYLOAD", `device refused ${pending.kind}: ${text}`, {
          nack: answer.code,
          detail: answer.detail,
          seq: pending.seq,
        }),
      );
      return;
    }
    if (answer.kind !== "STEP_RESULT") {
      pending.resolve(answer);
      return;
    }
    // Multi-part STEP_RESULT: complete when the last part and every part before it are held.
    pending.parts.set(answer.part, answer);
    if (!answer.more) pending.lastPart = answer.part;
    const last = pending.lastPart;
    if (last === undefined) return;
    for (let p = 0; p <= last; p++) if (!pending.parts.has(p)) return; // a retransmission brings them again
    pending.resolve(mergeStepResult([...Array(last + 1).keys()].map((p) => pending.parts.get(p)!)));
  }

  private shutdown(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    for (const u of this.unsubscribe) u();
    this.pending?.reject(new PicospikeError("DEVICE_DISCONNECTED", `${reason} while waiting for an answer`));
  }
}

/** Merges STEP_RESULT parts 0..n into one message: sections of the same layer are concatenated in part order. */
export function mergeStepResult(parts: readonly StepResultMsg[]): StepResultMsg {
  const first = parts[0];
  if (!first) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", "no STEP_RESULT parts");
  if (parts.length === 1) return { ...first, more: false, part: 0 };
  const byLayer = new Map<number, number[]>();
  let cost: number | undefined;
  for (const part of parts) {
    if (part.step !== first.step) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `STEP_RESULT parts disagree on the step (${first.step} vs ${part.step})`);
    if (part.cost !== undefined) cost = part.cost;
    for (const s of part.sections) {
      const list = byLayer.get(s.layer) ?? [];
      const prev = list.length > 0 ? list[list.length - 1]! : -1;
      if (s.indices.length > 0 && s.indices[0]! <= prev)
        throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `STEP_RESULT parts repeat spikes of layer ${s.layer}`);
      for (const i of s.indices) list.push(i);
      byLayer.set(s.layer, list);
    }
  }
  const sections: SpikeSection[] = [...byLayer.entries()].sort((x, y) => x[0] - y[0]).map(([layer, list]) => ({ layer, indices: Uint32Array.from(list) }));
  const base = { kind: "STEP_RESULT" as const, replyTo: first.replyTo, step: first.step, more: false, part: 0, sections };
  return cost === undefined ? base : { ...base, cost };
}

/**
 * Whether `answer` can be the answer to a request of kind `request`. Sequence numbers restart at
 * every handshake, so an answer left in a port by an earlier session (a HELLO_ACK to a retransmitted
 * HELLO, read by the next program to open a QEMU pty) can carry the reply_to of the request now
 * outstanding; its kind tells it apart, and it is then counted as stale like any late answer.
 */
export function answerFits(request: string, answer: AnswerMessage): boolean {
  if (answer.kind === "NACK") return true;
  const only: Readonly<Record<string, string>> = { HELLO: "HELLO_ACK", GET_STATS: "STATS", MODEL_END: "MODEL_LOADED", READ_STATE: "STATE_CHUNK" };
  if (Object.hasOwn(only, request)) return answer.kind === only[request];
  // every other request is answered by ACK or STEP_RESULT, never by these
  return answer.kind !== "HELLO_ACK" && answer.kind !== "STATS" && answer.kind !== "MODEL_LOADED" && answer.kind !== "STATE_CHUNK";
}
