/**
 * BoardSession: the host side of the bridge over a Link (spec/protocol.md §4). It handshakes
 * (readable errors on version or capability mismatch), makes sure the device runs the intended
 * model (uploading it in acknowledged, resumable chunks when the hashes differ), runs lockstep
 * steps, drives real-time mode, sends rewards, reads state back in chunks and fetches statistics.
 * Every wait is bounded by the link's timeouts (PROTOCOL_TIMEOUT, PROTOCOL_HANDSHAKE_FAILED).
 */
import { isPicospikeError, PicospikeError } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import { tableHash } from "../../runtime/format.js";
import { bytesEqual, fromHex, sha256, toHex } from "../../runtime/hash.js";
import { EVENTS_HEADER_MAX } from "../wire/codec.js";
import { CRC_SIZE, HEADER_SIZE } from "../wire/frame.js";
import { HANDSHAKE_TOTAL_MS, Link, PROTOCOL_MAX, PROTOCOL_MIN } from "./link.js";
import {
  CAP,
  type ErrorMsg,
  type HelloAckMsg,
  PREFIX_SIZE,
  RESET_KIND,
  type RtOutputMsg,
  type SpikeSection,
  STATE_KIND,
  type StatsMsg,
} from "../wire/messages.js";
import type { Transport } from "../transports/transport.js";

/** Options of a session; every one has a default from the spec. */
export interface SessionOptions {
  /** Per-attempt request timeout in ms (spec §2: 200). */
  readonly timeoutMs?: number;
  /** Retransmissions per request (spec §2: 5). */
  readonly retries?: number;
  /** Total handshake time in ms (spec §4: 5000). */
  readonly handshakeMs?: number;
  /** HELLO nonce; random by default. */
  readonly nonce?: number;
  /** Floor of the adaptive per-attempt timeout in ms (spec §2); absent: the fixed timeout. */
  readonly adaptiveTimeoutMinMs?: number;
  /**
   * Largest frame (decoded bytes) the host builds for model chunks and STEP parts and asks for in
   * state chunks, ≥ 64; default the device's max_frame. Small frames survive a lossy line (spec §4.6).
   */
  readonly frameLimit?: number;
}

/**
 * Session settings for a line that damages a fraction of its bytes (spec/protocol.md §4.7), used by
 * compare and stream with --inject and by the soak: a 50 ms cap on the adaptive timeout (floor 3 ms),
 * 64-byte frames, and 100 retransmissions per request. A 64-byte STATE_CHUNK survives a line with 1%
 * corruption and 1% drops only about one round trip in six: with 40 retransmissions, the first
 * million-step soak ran 63 requests out of attempts (checkpoint reads, each then a recovery with a
 * replay); with 100 the chance is 0.83^101 ≈ 10^-8 per chunk.
 */
export const LOSSY_LINE_OPTIONS: SessionOptions = { timeoutMs: 50, adaptiveTimeoutMinMs: 3, retries: 100, frameLimit: 64 };

/** One state-changing lockstep operation, as the session's guard sees it (firmware-host/bridge/recovery.ts). */
export type SessionOp =
  | { readonly kind: "reset"; readonly weights: boolean }
  | { readonly kind: "step"; readonly t: number; readonly events: StepEvents; readonly reportMask: number; readonly wantCost: boolean }
  | { readonly kind: "reward"; readonly targetStep: number; readonly reward: number }
  | { readonly kind: "read" };

/** Wraps every lockstep operation of a session: recovery logs and retries them (firmware-host/bridge/recovery.ts). */
export interface SessionGuard {
  run<T>(op: SessionOp, attempt: () => Promise<T>): Promise<T>;
}

/** Output of one lockstep step. */
export interface StepOutput {
  /** The device step that ran. */
  readonly step: number;
  /** Spikes of the reported layers (layers without spikes are absent). */
  readonly sections: readonly SpikeSection[];
  /** Per-step cost in the device's cost unit, when asked for and supported. */
  readonly cost?: number;
}

/** What ensureModel did. */
export interface ModelStatus {
  /** True when the model was uploaded; false when the device already ran it. */
  readonly uploaded: boolean;
  /** Hex content hash of the model now live on the device. */
  readonly hash: string;
  /** Chunks sent (including resent ones). */
  readonly chunks: number;
}

/** Most times an upload resumes after a NACK that names the device's byte count. */
const MAX_UPLOAD_RESUMES = 8;
/** Largest MODEL_CHUNK data (spec §3.2). */
const MAX_CHUNK_DATA = 500;

/** Report mask asking for the spikes of layers 0..n-1 (layers ≥ 32 cannot be reported, spec §3.2 STEP). */
export function allLayersMask(layerCount: number): number {
  const n = Math.min(32, Math.max(0, layerCount));
  return n === 32 ? 0xffffffff : (2 ** n - 1) >>> 0;
}

/** Names of the capability bits set in `caps`. */
export function capabilityNames(caps: number): string[] {
  return Object.entries(CAP)
    .filter(([, bit]) => (caps & bit) !== 0)
    .map(([name]) => name.toLowerCase());
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Splits one step's events into STEP parts that each fit a payload of `budget` bytes, given the
 * part's fixed size (step, flags, report mask, event flags, count). Every part restarts absolute.
 */
export function splitEvents(events: StepEvents, budget: number, fixed: number): StepEvents[] {
  const { indices, values } = events;
  if (indices.length === 0) return [events];
  const parts: StepEvents[] = [];
  let start = 0;
  while (start < indices.length) {
    let size = fixed;
    let end = start;
    while (end < indices.length) {
      const add = varintSize(end === start ? indices[end]! : indices[end]! - indices[end - 1]! - 1) + (values ? 1 : 0);
      if (size + add > budget) break;
      size += add;
      end++;
    }
    if (end === start) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `frame limit ${budget} too small for one input event`);
    const slice = indices.slice(start, end);
    parts.push(values ? { indices: slice, values: values.slice(start, end) } : { indices: slice });
    start = end;
  }
  return parts;
}

/** A handshaken session with one device. */
export class BoardSession {
  /** Device errors (ERROR frames) received, oldest first, at most 64 kept. */
  readonly deviceErrors: ErrorMsg[] = [];
  /** Set when the device reported a reset (ERROR DEVICE_RESET after the handshake). */
  resetDetected = false;
  /** What the device said in its latest HELLO_ACK. */
  info: HelloAckMsg;
  private modelHashBytes: Uint8Array;
  private guard: SessionGuard | undefined;
  private readonly frameLimit: number | undefined;
  private readonly handshakeMs: number;

  private constructor(
    /** The link (its counters are the host's view of the wire). */
    readonly link: Link,
    info: HelloAckMsg,
    options: SessionOptions,
  ) {
    this.info = info;
    this.modelHashBytes = info.modelHash;
    this.frameLimit = options.frameLimit === undefined ? undefined : Math.max(64, options.frameLimit);
    this.handshakeMs = options.handshakeMs ?? HANDSHAKE_TOTAL_MS;
    link.onMessage((msg) => {
      if (msg.kind !== "ERROR") return;
      if (this.deviceErrors.length < 64) this.deviceErrors.push(msg);
      if (msg.code === 507) this.resetDetected = true;
    });
  }

  /**
   * Handshakes over `transport` (spec §4). PROTOCOL_VERSION_MISMATCH names both protocol ranges;
   * PROTOCOL_HANDSHAKE_FAILED says nothing answered within the handshake time.
   */
  static async open(transport: Transport, options: SessionOptions = {}): Promise<BoardSession> {
    const link = new Link(transport, {
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.adaptiveTimeoutMinMs === undefined ? {} : { adaptiveTimeout: { minMs: options.adaptiveTimeoutMinMs } }),
    });
    const nonce = options.nonce ?? Math.floor(Math.random() * 0x100000000) >>> 0;
    let info: HelloAckMsg;
    try {
      info = await link.handshake(nonce, options.handshakeMs ?? HANDSHAKE_TOTAL_MS);
    } catch (e) {
      await link.close().catch(() => undefined);
      if (isPicospikeError(e, "PROTOCOL_VERSION_MISMATCH") && e.detail?.["nack"] === 403) {
        const range = Number(e.detail["detail"] ?? 0);
        const min = range & 0xff;
        const max = (range >>> 8) & 0xff;
        throw new PicospikeError(
          "PROTOCOL_VERSION_MISMATCH",
          `the device speaks protocol versions ${min}..${max}, this host speaks ${PROTOCOL_MIN}..${PROTOCOL_MAX}: rebuild and flash the firmware with this picospike version`,
          { deviceMin: min, deviceMax: max, hostMin: PROTOCOL_MIN, hostMax: PROTOCOL_MAX },
        );
      }
      if (isPicospikeError(e, "PROTOCOL_VERSION_MISMATCH")) {
        throw new PicospikeError(
          "PROTOCOL_VERSION_MISMATCH",
          `${e.message}: rebuild and flash the firmware with this picospike version`,
          e.detail as Record<string, unknown>,
        );
      }
      throw e;
    }
    if (!(info.capabilities & CAP.LOCKSTEP) && !(info.capabilities & CAP.REALTIME)) {
      await link.close().catch(() => undefined);
      throw new PicospikeError(
        "PROTOCOL_HANDSHAKE_FAILED",
        `device ${info.board} announces neither lockstep nor real-time stepping (capabilities: ${capabilityNames(info.capabilities).join(", ") || "none"})`,
      );
    }
    return new BoardSession(link, info, options);
  }

  /**
   * Repeats the handshake on the same link (spec §4.3, §4.6): a fresh nonce, numbering restarts on
   * both sides; `info` and the live model hash follow the new HELLO_ACK and resetDetected is cleared.
   */
  async rehandshake(): Promise<HelloAckMsg> {
    const info = await this.link.handshake(Math.floor(Math.random() * 0x100000000) >>> 0, this.handshakeMs);
    this.info = info;
    this.modelHashBytes = info.modelHash;
    this.resetDetected = false;
    return info;
  }

  /** Installs (or with undefined removes) the guard every lockstep operation runs through. */
  setGuard(guard: SessionGuard | undefined): void {
    this.guard = guard;
  }

  /** The largest frame the host builds or asks for now. */
  private frameCap(): number {
    return Math.min(this.info.maxFrame, this.frameLimit ?? this.info.maxFrame);
  }

  private guarded<T>(op: SessionOp, attempt: () => Promise<T>): Promise<T> {
    return this.guard ? this.guard.run(op, attempt) : attempt();
  }

  /** Hex content hash of the model live on the device ("" when none). */
  get modelHash(): string {
    return this.modelHashBytes.every((b) => b === 0) ? "" : toHex(this.modelHashBytes);
  }

  /** True when the device announced capability `cap` (a CAP bit). */
  has(cap: number): boolean {
    return (this.info.capabilities & cap) !== 0;
  }

  private require(cap: number, what: string): void {
    if (!this.has(cap)) {
      const name = capabilityNames(cap)[0] ?? String(cap);
      throw new PicospikeError(
        "CODEGEN_UNSUPPORTED",
        `device ${this.info.board} cannot ${what} (no ${name} capability; it has: ${capabilityNames(this.info.capabilities).join(", ")})`,
      );
    }
  }

  /**
   * Makes the device run the model in `tableBytes` (.cbor): nothing to do when its hash matches,
   * else an upload (spec §4 step 2). PROTOCOL_MODEL_MISMATCH when the device cannot take uploads or
   * lacks the RAM, saying which model it runs.
   */
  async ensureModel(tableBytes: Uint8Array): Promise<ModelStatus> {
    const wanted = tableHash(tableBytes);
    if (this.modelHash === wanted) return { uploaded: false, hash: wanted, chunks: 0 };
    const running = this.modelHash === "" ? "no model" : `model ${this.modelHash.slice(0, 16)}…`;
    if (!this.has(CAP.UPLOAD)) {
      throw new PicospikeError(
        "PROTOCOL_MODEL_MISMATCH",
        `device ${this.info.board} runs ${running}, not ${wanted.slice(0, 16)}…, and cannot take uploads: build and flash the firmware with this model`,
      );
    }
    if (tableBytes.length > this.info.uploadRam) {
      throw new PicospikeError(
        "DEVICE_OUT_OF_MEMORY",
        `device ${this.info.board} runs ${running}; the model (${tableBytes.length} bytes) exceeds its upload RAM (${this.info.uploadRam} bytes): compile the model into the firmware`,
      );
    }
    const chunks = await this.upload(tableBytes);
    return { uploaded: true, hash: this.modelHash, chunks };
  }

  /** Uploads `tableBytes` (MODEL_BEGIN, CHUNKs, END); resumes at the device's count after a NACK 408. Returns chunks sent. */
  async upload(tableBytes: Uint8Array): Promise<number> {
    const total = tableBytes.length;
    await this.link.request({ kind: "MODEL_BEGIN", totalLength: total, sha256: sha256(tableBytes) });
    const chunkSize = Math.min(MAX_CHUNK_DATA, this.frameCap() - HEADER_SIZE - CRC_SIZE - PREFIX_SIZE.MODEL_CHUNK);
    let offset = 0;
    let resumes = 0;
    let chunks = 0;
    while (offset < total) {
      const data = tableBytes.subarray(offset, Math.min(total, offset + chunkSize));
      chunks++;
      try {
        const ack = await this.link.request({ kind: "MODEL_CHUNK", offset, data });
        if (ack.kind !== "ACK" || ack.info <= offset || ack.info > total) {
          throw new PicospikeError(
            "PROTOCOL_BAD_PAYLOAD",
            `device acknowledged chunk at ${offset} with byte count ${ack.kind === "ACK" ? ack.info : ack.kind}`,
          );
        }
        offset = ack.info;
      } catch (e) {
        const held = isPicospikeError(e, "PROTOCOL_BAD_PAYLOAD") ? e.detail?.["detail"] : undefined;
        if (typeof held !== "number" || held > total || ++resumes > MAX_UPLOAD_RESUMES) throw e;
        offset = held; // the device told us how many bytes it holds: resume there
      }
    }
    const loaded = await this.link.request({ kind: "MODEL_END" });
    if (loaded.kind !== "MODEL_LOADED") throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `device answered MODEL_END with ${loaded.kind}`);
    const wanted = fromHex(tableHash(tableBytes));
    if (!bytesEqual(loaded.modelHash, wanted)) {
      throw new PicospikeError(
        "PROTOCOL_MODEL_MISMATCH",
        `device loaded model ${toHex(loaded.modelHash).slice(0, 16)}…, expected ${toHex(wanted).slice(0, 16)}…`,
      );
    }
    this.modelHashBytes = loaded.modelHash;
    return chunks;
  }

  /**
   * Runs lockstep step `t` with `events` and returns the spikes of the layers in `reportMask`.
   * Events that do not fit one frame go in several STEP parts (spec §3.2).
   */
  step(t: number, events: StepEvents, reportMask: number, wantCost = false): Promise<StepOutput> {
    this.require(CAP.LOCKSTEP, "run lockstep steps");
    return this.guarded({ kind: "step", t, events, reportMask, wantCost }, () => this.stepOnce(t, events, reportMask, wantCost));
  }

  private async stepOnce(t: number, events: StepEvents, reportMask: number, wantCost: boolean): Promise<StepOutput> {
    const budget = this.frameCap() - HEADER_SIZE - CRC_SIZE;
    // step and flags, report_mask varint, event flags and count varint
    const fixed = PREFIX_SIZE.STEP + varintSize(reportMask >>> 0) + EVENTS_HEADER_MAX;
    const parts = splitEvents(events, budget, fixed);
    for (let p = 0; p < parts.length - 1; p++) {
      await this.link.request({ kind: "STEP", step: t, more: true, wantCost, reportMask, events: parts[p]! });
    }
    const result = await this.link.request({ kind: "STEP", step: t, more: false, wantCost, reportMask, events: parts[parts.length - 1]! });
    if (result.kind !== "STEP_RESULT" || result.step !== t) {
      throw new PicospikeError(
        "PROTOCOL_BAD_PAYLOAD",
        `device answered STEP ${t} with ${result.kind}${result.kind === "STEP_RESULT" ? ` for step ${result.step}` : ""}`,
      );
    }
    return result.cost === undefined ? { step: t, sections: result.sections } : { step: t, sections: result.sections, cost: result.cost };
  }

  /** Resets the device's dynamic state (and weights with `weights`); its next step is 0. */
  async resetState(weights = false): Promise<void> {
    await this.guarded({ kind: "reset", weights }, async () => {
      await this.link.request({ kind: "RESET_STATE", what: weights ? RESET_KIND.WEIGHTS : RESET_KIND.DYNAMIC });
    });
  }

  /** Reads a whole state array (STATE_KIND) of `layer` in chunks; its little-endian bytes. */
  readState(what: number, layer: number): Promise<Uint8Array> {
    this.require(CAP.STATE_READBACK, "read its state back");
    return this.guarded({ kind: "read" }, () => this.readStateOnce(what, layer));
  }

  private async readStateOnce(what: number, layer: number): Promise<Uint8Array> {
    const chunkMax = this.frameCap() - HEADER_SIZE - CRC_SIZE - PREFIX_SIZE.STATE_CHUNK;
    let out: Uint8Array | undefined;
    let offset = 0;
    for (;;) {
      const chunk = await this.link.request({ kind: "READ_STATE", what, layer, offset, length: Math.min(0xffff, chunkMax) });
      if (chunk.kind !== "STATE_CHUNK" || chunk.what !== what || chunk.layer !== layer || chunk.offset !== offset) {
        throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `device answered READ_STATE with a mismatched ${chunk.kind}`);
      }
      if (out === undefined) {
        // Bounded: a state array the device reports must fit the 32-bit total; cap at 256 MiB to refuse nonsense.
        if (chunk.total > 256 * 1024 * 1024) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `device reports a state array of ${chunk.total} bytes`);
        out = new Uint8Array(chunk.total);
      } else if (chunk.total !== out.length) {
        throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `state array size changed from ${out.length} to ${chunk.total} while reading`);
      }
      if (offset + chunk.data.length > out.length) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", "state chunk runs past the array");
      out.set(chunk.data, offset);
      offset += chunk.data.length;
      if (offset >= out.length) return out;
      if (chunk.data.length === 0) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `device returned an empty state chunk at ${offset} of ${out.length}`);
    }
  }

  /** Membranes (int32 per neuron) of `layer`, read back from the device. */
  async readMembranes(layer: number): Promise<Int32Array> {
    const bytes = await this.readState(STATE_KIND.MEMBRANE, layer);
    if (bytes.length % 4 !== 0) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `membrane array of ${bytes.length} bytes is not int32s`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Int32Array.from({ length: bytes.length / 4 }, (_, i) => view.getInt32(i * 4, true));
  }

  /** Sends a reward for step `targetStep`; resolves with the step at which the device applies it. */
  reward(targetStep: number, reward: number): Promise<number> {
    return this.guarded({ kind: "reward", targetStep: targetStep >>> 0, reward }, async () => {
      const ack = await this.link.request({ kind: "REWARD", targetStep: targetStep >>> 0, reward });
      if (ack.kind !== "ACK") throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `device answered REWARD with ${ack.kind}`);
      return ack.info;
    });
  }

  /** The device's counters (spec §3.2 STATS). */
  stats(): Promise<StatsMsg> {
    return this.guarded({ kind: "read" }, async () => {
      const stats = await this.link.request({ kind: "GET_STATS" });
      if (stats.kind !== "STATS") throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `device answered GET_STATS with ${stats.kind}`);
      return stats;
    });
  }

  /** Starts real-time mode: the device runs a step every `periodUs`; resolves with the first real-time step. */
  async startRealtime(periodUs: number, reportMask: number, wantCost = false): Promise<number> {
    this.require(CAP.REALTIME, "run in real time");
    const ack = await this.link.request({ kind: "RT_START", periodUs, wantCost, reportMask });
    if (ack.kind !== "ACK") throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `device answered RT_START with ${ack.kind}`);
    return ack.info;
  }

  /** Sends input events for the device's next real-time step (fire-and-forget); resolves with the frame's sequence number. */
  sendRealtimeInput(events: StepEvents): Promise<number> {
    return this.link.send({ kind: "RT_INPUT", events });
  }

  /** Registers a listener for RT_OUTPUT messages; returns a remover. */
  onRealtimeOutput(listener: (output: RtOutputMsg) => void): () => void {
    return this.link.onMessage((msg) => {
      if (msg.kind === "RT_OUTPUT") listener(msg);
    });
  }

  /** Stops real-time mode; resolves with the device's next step. */
  async stopRealtime(): Promise<number> {
    const ack = await this.link.request({ kind: "RT_STOP" });
    if (ack.kind !== "ACK") throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", `device answered RT_STOP with ${ack.kind}`);
    return ack.info;
  }

  /** Closes the link and the transport. */
  async close(): Promise<void> {
    await this.link.close();
  }
}

/**
 * The events of one real-time step from the RT_INPUT frames applied at its start (spec §3.2
 * RT_INPUT): the union of their indices; an index named by several frames gets the sum of its
 * values (a spike counts 1), saturated at 255. Values are sent only when some value is not 1.
 */
export function mergeRealtimeInputs(inputs: readonly StepEvents[]): StepEvents {
  if (inputs.length === 1) return inputs[0]!;
  const sum = new Map<number, number>();
  for (const ev of inputs) {
    ev.indices.forEach((i, k) => sum.set(i, Math.min(255, (sum.get(i) ?? 0) + (ev.values ? ev.values[k]! : 1))));
  }
  const indices = Uint32Array.from([...sum.keys()].sort((a, b) => a - b));
  const values = Uint8Array.from(indices, (i) => sum.get(i)!);
  return values.every((v) => v === 1) ? { indices } : { indices, values };
}
