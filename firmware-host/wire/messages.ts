/**
 * Typed encode/decode of every message of spec/protocol.md §3. Payloads are little-endian;
 * event lists and spike sections are delta-coded LEB128. Decoding never trusts a count: every
 * length is checked against the bytes present, so hostile payloads cannot cause large allocations.
 */
import { PicospikeError } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import { MAX_PAYLOAD } from "./frame.js";

/** Message type numbers (spec §3). */
export const MSG = {
  HELLO: 0x01,
  HELLO_ACK: 0x02,
  ACK: 0x03,
  NACK: 0x04,
  ERROR: 0x05,
  MODEL_BEGIN: 0x10,
  MODEL_CHUNK: 0x11,
  MODEL_END: 0x12,
  MODEL_LOADED: 0x13,
  STEP: 0x20,
  STEP_RESULT: 0x21,
  RT_START: 0x22,
  RT_STOP: 0x23,
  RT_INPUT: 0x24,
  RT_OUTPUT: 0x25,
  REWARD: 0x30,
  READ_STATE: 0x40,
  STATE_CHUNK: 0x41,
  RESET_STATE: 0x42,
  GET_STATS: 0x50,
  STATS: 0x51,
} as const;

/** Name of a message type. */
export type MessageKind = keyof typeof MSG;

/** HELLO_ACK capability bits (spec §3.2). */
export const CAP = { LOCKSTEP: 1, REALTIME: 2, UPLOAD: 4, PLASTICITY: 8, STATE_READBACK: 16, COST: 32 } as const;
/** Units of per-step cost. */
export const COST_UNIT = { NONE: 0, CYCLES: 1, INSTRUCTIONS: 2, MICROSECONDS: 3 } as const;
/** Device states in HELLO_ACK. */
export const DEVICE_STATE = { NO_MODEL: 0, READY: 1, REALTIME: 2 } as const;
/** Where the device's model came from. */
export const MODEL_SOURCE = { NONE: 0, COMPILED_IN: 1, UPLOADED: 2 } as const;
/** READ_STATE `what` values. */
export const STATE_KIND = { MEMBRANE: 0, WEIGHTS: 1, RECURRENT_WEIGHTS: 2, PRE_TRACE: 3, POST_TRACE: 4, ELIGIBILITY: 5 } as const;
/** RESET_STATE `what` values. */
export const RESET_KIND = { DYNAMIC: 0, WEIGHTS: 1 } as const;

/** Bytes of a firmware hash (SHA-256 prefix). */
export const FIRMWARE_HASH_SIZE = 8;
/** Bytes of a model hash (full SHA-256). */
export const MODEL_HASH_SIZE = 32;
/** Longest board name. */
export const MAX_BOARD_NAME = 32;
/** Longest ERROR text. */
export const MAX_ERROR_TEXT = 64;
/** Most pending rewards a device holds. */
export const MAX_PENDING_REWARDS = 4;

/** Output spikes of one layer in one step, indices strictly ascending. */
export interface SpikeSection {
  readonly layer: number;
  readonly indices: Uint32Array;
}

/** HELLO: host's protocol range and a nonce echoed by the answer. */
export interface HelloMsg { readonly kind: "HELLO"; readonly protoMin: number; readonly protoMax: number; readonly nonce: number }
/** HELLO_ACK: what the device is, speaks and runs. */
export interface HelloAckMsg {
  readonly kind: "HELLO_ACK";
  readonly replyTo: number;
  readonly protoMin: number;
  readonly protoMax: number;
  readonly protoVersion: number;
  readonly nonce: number;
  /** Bitmask of CAP. */
  readonly capabilities: number;
  /** ASCII board name, 1..32 bytes. */
  readonly board: string;
  readonly firmwareHash: Uint8Array;
  /** Full SHA-256 content hash of the loaded model; all zero when none. */
  readonly modelHash: Uint8Array;
  readonly maxFrame: number;
  readonly maxInputEvents: number;
  readonly uploadRam: number;
  readonly costUnit: number;
  readonly state: number;
  readonly modelSource: number;
  /** The device's next step number. */
  readonly step: number;
}
/** ACK: a request succeeded; `info` is request-specific (spec §3.2). */
export interface AckMsg { readonly kind: "ACK"; readonly replyTo: number; readonly info: number }
/** NACK: a request failed with a code from the shared error list. */
export interface NackMsg { readonly kind: "NACK"; readonly replyTo: number; readonly code: number; readonly detail: number }
/** ERROR: unsolicited error report, either direction. */
export interface ErrorMsg { readonly kind: "ERROR"; readonly code: number; readonly detail: number; readonly text: string }
/** MODEL_BEGIN: start an upload of `totalLength` bytes whose SHA-256 is `sha256`. */
export interface ModelBeginMsg { readonly kind: "MODEL_BEGIN"; readonly totalLength: number; readonly sha256: Uint8Array }
/** MODEL_CHUNK: upload bytes at `offset`. */
export interface ModelChunkMsg { readonly kind: "MODEL_CHUNK"; readonly offset: number; readonly data: Uint8Array }
/** MODEL_END: validate and load the uploaded model. */
export interface ModelEndMsg { readonly kind: "MODEL_END" }
/** MODEL_LOADED: the uploaded model is live; its content hash. */
export interface ModelLoadedMsg { readonly kind: "MODEL_LOADED"; readonly replyTo: number; readonly modelHash: Uint8Array }
/** STEP: lockstep step `step` with (a part of) its input events. */
export interface StepMsg {
  readonly kind: "STEP";
  readonly step: number;
  /** More events for this step follow in further STEP frames. */
  readonly more: boolean;
  /** Ask for the step's cost. */
  readonly wantCost: boolean;
  /** Bit L: report the spikes of layer L. */
  readonly reportMask: number;
  readonly events: StepEvents;
}
/** STEP_RESULT: (a part of) the output spikes of a lockstep step. */
export interface StepResultMsg {
  readonly kind: "STEP_RESULT";
  readonly replyTo: number;
  readonly step: number;
  readonly more: boolean;
  readonly part: number;
  readonly cost?: number;
  readonly sections: readonly SpikeSection[];
}
/** RT_START: run steps from the device clock every `periodUs`. */
export interface RtStartMsg { readonly kind: "RT_START"; readonly periodUs: number; readonly wantCost: boolean; readonly reportMask: number }
/** RT_STOP: stop real-time mode. */
export interface RtStopMsg { readonly kind: "RT_STOP" }
/** RT_INPUT: events applied at the device's next step. */
export interface RtInputMsg { readonly kind: "RT_INPUT"; readonly events: StepEvents }
/** RT_OUTPUT: what happened at a real-time step. */
export interface RtOutputMsg {
  readonly kind: "RT_OUTPUT";
  readonly step: number;
  readonly cost?: number;
  /** Sequence numbers of the RT_INPUT frames applied at the start of `step`. */
  readonly appliedSeqs: readonly number[];
  readonly sections: readonly SpikeSection[];
}
/** REWARD: a reward for R-STDP, applied at the start of `targetStep`. */
export interface RewardMsg { readonly kind: "REWARD"; readonly targetStep: number; readonly reward: number }
/** READ_STATE: read `length` bytes at `offset` of a state array of `layer`. */
export interface ReadStateMsg { readonly kind: "READ_STATE"; readonly what: number; readonly layer: number; readonly offset: number; readonly length: number }
/** STATE_CHUNK: bytes of a state array. */
export interface StateChunkMsg {
  readonly kind: "STATE_CHUNK";
  readonly replyTo: number;
  readonly what: number;
  readonly layer: number;
  readonly offset: number;
  /** Size of the whole array in bytes. */
  readonly total: number;
  readonly data: Uint8Array;
}
/** RESET_STATE: reset dynamic state (and weights with RESET_KIND.WEIGHTS). */
export interface ResetStateMsg { readonly kind: "RESET_STATE"; readonly what: number }
/** GET_STATS: ask for the device counters. */
export interface GetStatsMsg { readonly kind: "GET_STATS" }
/** STATS: the device counters (spec §3.2). */
export interface StatsMsg {
  readonly kind: "STATS";
  readonly replyTo: number;
  readonly steps: number;
  readonly framesRx: number;
  readonly framesTx: number;
  readonly badFrame: number;
  readonly badCrc: number;
  readonly gaps: number;
  readonly late: number;
  readonly dropped: number;
  readonly lastCost: number;
  readonly maxCost: number;
}

/** Every message of protocol version 1. */
export type Message =
  | HelloMsg | HelloAckMsg | AckMsg | NackMsg | ErrorMsg
  | ModelBeginMsg | ModelChunkMsg | ModelEndMsg | ModelLoadedMsg
  | StepMsg | StepResultMsg | RtStartMsg | RtStopMsg | RtInputMsg | RtOutputMsg
  | RewardMsg | ReadStateMsg | StateChunkMsg | ResetStateMsg | GetStatsMsg | StatsMsg;

/** Messages that are answers (their payload starts with `reply_to`). */
export type AnswerMessage = HelloAckMsg | AckMsg | NackMsg | ModelLoadedMsg | StepResultMsg | StateChunkMsg | StatsMsg;

const ANSWER_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>(["HELLO_ACK", "ACK", "NACK", "MODEL_LOADED", "STEP_RESULT", "STATE_CHUNK", "STATS"]);
const REQUEST_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>([
  "HELLO", "MODEL_BEGIN", "MODEL_CHUNK", "MODEL_END", "STEP", "RT_START", "RT_STOP", "REWARD", "READ_STATE", "RESET_STATE", "GET_STATS",
]);

/** True when `msg` answers a request (carries `replyTo`). */
export function isAnswer(msg: Message): msg is AnswerMessage {
  return ANSWER_KINDS.has(msg.kind);
}

/** True when `kind` is a request: acknowledged, timed out and retried (spec §2). */
export function isRequestKind(kind: MessageKind): boolean {
  return REQUEST_KINDS.has(kind);
}

const KIND_BY_TYPE = new Map<number, MessageKind>(Object.entries(MSG).map(([k, v]) => [v, k as MessageKind]));

/** The kind of a type number, or undefined for a type this version does not know. */
export function kindOfType(type: number): MessageKind | undefined {
  return KIND_BY_TYPE.get(type);
}

// ---- byte writer / reader -------------------------------------------------------------------

function badPayload(message: string, detail?: Record<string, unknown>): never {
  throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", message, detail);
}

class Writer {
  private bytes = new Uint8Array(64);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n > MAX_PAYLOAD) badPayload(`payload exceeds ${MAX_PAYLOAD} bytes`);
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.min(MAX_PAYLOAD, Math.max(this.bytes.length * 2, this.length + n)));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  u8(v: number): void {
    checkU(v, 8, "field");
    this.ensure(1);
    this.bytes[this.length++] = v & 0xff;
  }
  u16(v: number): void {
    checkU(v, 16, "field");
    this.ensure(2);
    this.bytes[this.length++] = v & 0xff;
    this.bytes[this.length++] = (v >>> 8) & 0xff;
  }
  u32(v: number): void {
    checkU(v, 32, "field");
    this.ensure(4);
    for (let i = 0; i < 4; i++) this.bytes[this.length++] = (v >>> (8 * i)) & 0xff;
  }
  varint(v: number): void {
    checkU(v, 32, "varint");
    let x = v >>> 0;
    while (x >= 0x80) {
      this.u8((x & 0x7f) | 0x80);
      x >>>= 7;
    }
    this.u8(x);
  }
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  done(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

class Reader {
  private pos = 0;
  constructor(private readonly bytes: Uint8Array, private readonly what: string) {}
  get remaining(): number {
    return this.bytes.length - this.pos;
  }
  private need(n: number): void {
    if (this.remaining < n) badPayload(`${this.what} payload ends early at byte ${this.pos}`, { offset: this.pos });
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.bytes[this.pos]! | (this.bytes[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }
  i16(): number {
    return (this.u16() << 16) >> 16;
  }
  u32(): number {
    this.need(4);
    const b = this.bytes;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }
  varint(): number {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && b > 0x0f) badPayload(`${this.what}: varint exceeds 32 bits at byte ${this.pos - 1}`);
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) badPayload(`${this.what}: non-canonical varint at byte ${this.pos - 1}`);
        return value;
      }
    }
    return badPayload(`${this.what}: varint longer than 5 bytes`);
  }
  raw(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  rest(): Uint8Array {
    return this.raw(this.remaining);
  }
  end(): void {
    if (this.remaining !== 0) badPayload(`${this.what} payload has ${this.remaining} trailing bytes`);
  }
}

// ---- shared encodings ---------------------------------------------------------------------------

const EVENTS_VALUES = 1;

function checkU(value: number, bits: 8 | 16 | 32, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 2 ** bits - 1) badPayload(`${field} = ${value} is not a u${bits}`);
}

function writeIndices(w: Writer, indices: Uint32Array, field: string): void {
  w.varint(indices.length);
  let prev = -1;
  for (let k = 0; k < indices.length; k++) {
    const idx = indices[k]!;
    if (idx <= prev) throw new PicospikeError("SEMANTICS_BAD_INPUT", `${field}: indices not strictly ascending at position ${k}`, { position: k });
    w.varint(k === 0 ? idx : idx - prev - 1);
    prev = idx;
  }
}

function readIndices(r: Reader, field: string): Uint32Array {
  const count = r.varint();
  // Every index takes at least one byte: bounds the allocation by the payload size.
  if (count > r.remaining) badPayload(`${field}: count ${count} exceeds the ${r.remaining} bytes left`);
  const out = new Uint32Array(count);
  let prev = -1;
  for (let k = 0; k < count; k++) {
    const v = r.varint();
    const idx = k === 0 ? v : prev + 1 + v;
    if (idx > 0xffffffff) badPayload(`${field}: index exceeds 32 bits at position ${k}`);
    out[k] = idx;
    prev = idx;
  }
  return out;
}

function writeEvents(w: Writer, events: StepEvents): void {
  const values = events.values;
  if (values && values.length !== events.indices.length) throw new PicospikeError("SEMANTICS_BAD_INPUT", "event values and indices differ in length");
  w.u8(values ? EVENTS_VALUES : 0);
  writeIndices(w, events.indices, "events");
  if (values) {
    for (let k = 0; k < values.length; k++) {
      if (values[k] === 0) throw new PicospikeError("SEMANTICS_BAD_INPUT", `event value 0 at position ${k} (values are 1..255)`);
    }
    w.raw(values);
  }
}

function readEvents(r: Reader): StepEvents {
  const flags = r.u8();
  if (flags & ~EVENTS_VALUES) badPayload(`events: unknown flags 0x${flags.toString(16)}`);
  const indices = readIndices(r, "events");
  if (!(flags & EVENTS_VALUES)) return { indices };
  const values = r.raw(indices.length);
  if (values.includes(0)) badPayload("events: value 0 (values are 1..255)");
  return { indices, values };
}

function writeSections(w: Writer, sections: readonly SpikeSection[]): void {
  checkU(sections.length, 8, "section count");
  let prevLayer = -1;
  w.u8(sections.length);
  for (const s of sections) {
    checkU(s.layer, 8, "section layer");
    if (s.layer <= prevLayer) badPayload("sections: layers not strictly ascending");
    prevLayer = s.layer;
    w.u8(s.layer);
    writeIndices(w, s.indices, `layer ${s.layer} spikes`);
  }
}

function readSections(r: Reader): SpikeSection[] {
  const count = r.u8();
  const sections: SpikeSection[] = [];
  let prevLayer = -1;
  for (let i = 0; i < count; i++) {
    const layer = r.u8();
    if (layer <= prevLayer) badPayload("sections: layers not strictly ascending");
    prevLayer = layer;
    sections.push({ layer, indices: readIndices(r, `layer ${layer} spikes`) });
  }
  return sections;
}

function fixedBytes(data: Uint8Array, size: number, field: string): Uint8Array {
  if (data.length !== size) badPayload(`${field} must be ${size} bytes, got ${data.length}`);
  return data;
}

const STEP_MORE = 1;
const STEP_COST = 2;

function flagsOf(more: boolean, cost: boolean): number {
  return (more ? STEP_MORE : 0) | (cost ? STEP_COST : 0);
}

function checkFlags(flags: number, allowed: number, what: string): void {
  if (flags & ~allowed) badPayload(`${what}: unknown flags 0x${flags.toString(16)}`);
}

// ---- encode -------------------------------------------------------------------------------------

/** Encodes a message's payload (the frame type is MSG[msg.kind]). Throws PROTOCOL_BAD_PAYLOAD for out-of-range fields. */
export function encodePayload(msg: Message): Uint8Array {
  const w = new Writer();
  switch (msg.kind) {
    case "HELLO":
      w.u8(msg.protoMin); w.u8(msg.protoMax); w.u32(msg.nonce);
      break;
    case "HELLO_ACK": {
      w.u16(msg.replyTo); w.u8(msg.protoMin); w.u8(msg.protoMax); w.u8(msg.protoVersion); w.u32(msg.nonce); w.u16(msg.capabilities);
      const board = new TextEncoder().encode(msg.board);
      if (board.length < 1 || board.length > MAX_BOARD_NAME || !/^[\x20-\x7e]+$/.test(msg.board)) badPayload(`board name must be 1..${MAX_BOARD_NAME} printable ASCII bytes`);
      w.u8(board.length); w.raw(board);
      w.raw(fixedBytes(msg.firmwareHash, FIRMWARE_HASH_SIZE, "firmware hash"));
      w.raw(fixedBytes(msg.modelHash, MODEL_HASH_SIZE, "model hash"));
      w.u16(msg.maxFrame); w.u16(msg.maxInputEvents); w.u32(msg.uploadRam); w.u8(msg.costUnit); w.u8(msg.state); w.u8(msg.modelSource); w.u32(msg.step);
      break;
    }
    case "ACK":
      w.u16(msg.replyTo); w.u32(msg.info);
      break;
    case "NACK":
      w.u16(msg.replyTo); w.u16(msg.code); w.u32(msg.detail);
      break;
    case "ERROR": {
      w.u16(msg.code); w.u32(msg.detail);
      if (msg.text.length > MAX_ERROR_TEXT || !/^[\x20-\x7e]*$/.test(msg.text)) badPayload(`error text must be at most ${MAX_ERROR_TEXT} printable ASCII bytes`);
      w.raw(new TextEncoder().encode(msg.text));
      break;
    }
    case "MODEL_BEGIN":
      w.u32(msg.totalLength); w.raw(fixedBytes(msg.sha256, MODEL_HASH_SIZE, "model sha256"));
      break;
    case "MODEL_CHUNK":
      if (msg.data.length === 0) badPayload("model chunk is empty");
      w.u32(msg.offset); w.raw(msg.data);
      break;
    case "MODEL_END":
    case "RT_STOP":
    case "GET_STATS":
      break;
    case "MODEL_LOADED":
      w.u16(msg.replyTo); w.raw(fixedBytes(msg.modelHash, MODEL_HASH_SIZE, "model hash"));
      break;
    case "STEP":
      w.u32(msg.step); w.u8(flagsOf(msg.more, msg.wantCost)); w.varint(msg.reportMask); writeEvents(w, msg.events);
      break;
    case "STEP_RESULT":
      w.u16(msg.replyTo); w.u32(msg.step); w.u8(flagsOf(msg.more, msg.cost !== undefined)); w.u8(msg.part);
      if (msg.cost !== undefined) w.u32(msg.cost);
      writeSections(w, msg.sections);
      break;
    case "RT_START":
      if (msg.periodUs < 1) badPayload("real-time period must be at least 1 us");
      w.u32(msg.periodUs); w.u8(flagsOf(false, msg.wantCost)); w.varint(msg.reportMask);
      break;
    case "RT_INPUT":
      writeEvents(w, msg.events);
      break;
    case "RT_OUTPUT":
      w.u32(msg.step); w.u8(flagsOf(false, msg.cost !== undefined));
      if (msg.cost !== undefined) w.u32(msg.cost);
      checkU(msg.appliedSeqs.length, 8, "applied count");
      w.u8(msg.appliedSeqs.length);
      for (const s of msg.appliedSeqs) w.u16(s);
      writeSections(w, msg.sections);
      break;
    case "REWARD":
      if (!Number.isInteger(msg.reward) || msg.reward < -32768 || msg.reward > 32767) badPayload(`reward ${msg.reward} is not an i16`);
      w.u32(msg.targetStep); w.u16(msg.reward & 0xffff);
      break;
    case "READ_STATE":
      w.u8(msg.what); w.u8(msg.layer); w.u32(msg.offset); w.u16(msg.length);
      break;
    case "STATE_CHUNK":
      w.u16(msg.replyTo); w.u8(msg.what); w.u8(msg.layer); w.u32(msg.offset); w.u32(msg.total); w.raw(msg.data);
      break;
    case "RESET_STATE":
      w.u8(msg.what);
      break;
    case "STATS":
      w.u16(msg.replyTo);
      for (const v of [msg.steps, msg.framesRx, msg.framesTx, msg.badFrame, msg.badCrc, msg.gaps, msg.late, msg.dropped, msg.lastCost, msg.maxCost]) w.u32(v);
      break;
  }
  return w.done();
}

// ---- decode -------------------------------------------------------------------------------------

/**
 * Decodes a payload of frame type `type`. Throws PROTOCOL_UNKNOWN_MESSAGE for a type this version
 * does not know and PROTOCOL_BAD_PAYLOAD for a payload that does not match its layout exactly.
 */
export function decodePayload(type: number, payload: Uint8Array): Message {
  const kind = kindOfType(type);
  if (kind === undefined) throw new PicospikeError("PROTOCOL_UNKNOWN_MESSAGE", `unknown message type 0x${type.toString(16)}`, { type });
  const r = new Reader(payload, kind);
  let msg: Message;
  switch (kind) {
    case "HELLO":
      msg = { kind, protoMin: r.u8(), protoMax: r.u8(), nonce: r.u32() };
      break;
    case "HELLO_ACK": {
      const replyTo = r.u16(), protoMin = r.u8(), protoMax = r.u8(), protoVersion = r.u8(), nonce = r.u32(), capabilities = r.u16();
      const boardLen = r.u8();
      if (boardLen < 1 || boardLen > MAX_BOARD_NAME) badPayload(`board name length ${boardLen} outside 1..${MAX_BOARD_NAME}`);
      const boardBytes = r.raw(boardLen);
      if (boardBytes.some((b) => b < 0x20 || b > 0x7e)) badPayload("board name is not printable ASCII");
      const board = String.fromCharCode(...boardBytes);
      msg = {
        kind, replyTo, protoMin, protoMax, protoVersion, nonce, capabilities, board,
        firmwareHash: r.raw(FIRMWARE_HASH_SIZE), modelHash: r.raw(MODEL_HASH_SIZE),
        maxFrame: r.u16(), maxInputEvents: r.u16(), uploadRam: r.u32(), costUnit: r.u8(), state: r.u8(), modelSource: r.u8(), step: r.u32(),
      };
      break;
    }
    case "ACK":
      msg = { kind, replyTo: r.u16(), info: r.u32() };
      break;
    case "NACK":
      msg = { kind, replyTo: r.u16(), code: r.u16(), detail: r.u32() };
      break;
    case "ERROR": {
      const code = r.u16(), detail = r.u32();
      const text = r.rest();
      if (text.length > MAX_ERROR_TEXT || text.some((b) => b < 0x20 || b > 0x7e)) badPayload("error text is not printable ASCII of at most 64 bytes");
      msg = { kind, code, detail, text: String.fromCharCode(...text) };
      break;
    }
    case "MODEL_BEGIN":
      msg = { kind, totalLength: r.u32(), sha256: r.raw(MODEL_HASH_SIZE) };
      break;
    case "MODEL_CHUNK": {
      const offset = r.u32();
      if (r.remaining === 0) badPayload("model chunk is empty");
      msg = { kind, offset, data: r.rest() };
      break;
    }
    case "MODEL_END":
    case "RT_STOP":
    case "GET_STATS":
      msg = { kind };
      break;
    case "MODEL_LOADED":
      msg = { kind, replyTo: r.u16(), modelHash: r.raw(MODEL_HASH_SIZE) };
      break;
    case "STEP": {
      const step = r.u32(), flags = r.u8();
      checkFlags(flags, STEP_MORE | STEP_COST, "STEP");
      msg = { kind, step, more: (flags & STEP_MORE) !== 0, wantCost: (flags & STEP_COST) !== 0, reportMask: r.varint(), events: readEvents(r) };
      break;
    }
    case "STEP_RESULT": {
      const replyTo = r.u16(), step = r.u32(), flags = r.u8(), part = r.u8();
      checkFlags(flags, STEP_MORE | STEP_COST, "STEP_RESULT");
      const more = (flags & STEP_MORE) !== 0;
      msg = flags & STEP_COST
        ? { kind, replyTo, step, more, part, cost: r.u32(), sections: readSections(r) }
        : { kind, replyTo, step, more, part, sections: readSections(r) };
      break;
    }
    case "RT_START": {
      const periodUs = r.u32(), flags = r.u8();
      checkFlags(flags, STEP_COST, "RT_START");
      if (periodUs < 1) badPayload("real-time period is 0");
      msg = { kind, periodUs, wantCost: (flags & STEP_COST) !== 0, reportMask: r.varint() };
      break;
    }
    case "RT_INPUT":
      msg = { kind, events: readEvents(r) };
      break;
    case "RT_OUTPUT": {
      const step = r.u32(), flags = r.u8();
      checkFlags(flags, STEP_COST, "RT_OUTPUT");
      const cost = flags & STEP_COST ? r.u32() : undefined;
      const appliedCount = r.u8();
      const appliedSeqs: number[] = [];
      for (let i = 0; i < appliedCount; i++) appliedSeqs.push(r.u16());
      const sections = readSections(r);
      msg = cost === undefined ? { kind, step, appliedSeqs, sections } : { kind, step, cost, appliedSeqs, sections };
      break;
    }
    case "REWARD":
      msg = { kind, targetStep: r.u32(), reward: r.i16() };
      break;
    case "READ_STATE": {
      const what = r.u8();
      if (what > STATE_KIND.ELIGIBILITY) badPayload(`READ_STATE: unknown state kind ${what}`);
      msg = { kind, what, layer: r.u8(), offset: r.u32(), length: r.u16() };
      break;
    }
    case "STATE_CHUNK":
      msg = { kind, replyTo: r.u16(), what: r.u8(), layer: r.u8(), offset: r.u32(), total: r.u32(), data: r.rest() };
      break;
    case "RESET_STATE": {
      const what = r.u8();
      if (what > RESET_KIND.WEIGHTS) badPayload(`RESET_STATE: unknown reset kind ${what}`);
      msg = { kind, what };
      break;
    }
    case "STATS":
      msg = {
        kind, replyTo: r.u16(), steps: r.u32(), framesRx: r.u32(), framesTx: r.u32(), badFrame: r.u32(), badCrc: r.u32(),
        gaps: r.u32(), late: r.u32(), dropped: r.u32(), lastCost: r.u32(), maxCost: r.u32(),
      };
      break;
  }
  r.end();
  return msg;
}

/** The frame type of a message. */
export function typeOf(msg: Message): number {
  return MSG[msg.kind];
}
