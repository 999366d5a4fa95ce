/**
 * The wire protocol of spec/protocol.md, written once: the frame header, every message (number,
 * direction, kind, typed fields in wire order, fixed sizes), the capability bits and the enums.
 * `npm run gen` emits from it the C header and codecs (firmware/include/ps_proto.h,
 * firmware/src/ps_proto.c), the TypeScript codecs (firmware-host/wire/messages.ts) and the tables of
 * spec/protocol.md between generated markers; `npm run gen:check` fails when any of them drifts.
 * The byte-level primitives the codecs call (little-endian writer/reader, LEB128, event lists and
 * spike sections of spec §3.1) stay hand-written: firmware/src/ps_wire.c and firmware-host/wire/codec.ts.
 *
 * Pure data: no imports, so the frame layer and the generator can both read it.
 */

/** Fixed-width and LEB128 integers; all little-endian. */
export type ScalarType = "u8" | "u16" | "u32" | "i16" | "varint";

/** One bit of a flags byte: a boolean field (`ts`), or the presence of an optional field (`presence`). */
export interface FlagBit {
  /** Constant name of the bit in the FLAG table (e.g. "MORE"). */
  readonly bit: keyof typeof FLAG;
  /** TypeScript boolean field carrying the bit. */
  readonly ts?: string;
  /** The optional field present exactly when the bit is set. */
  readonly presence?: string;
}

/** A field of a message payload, in wire order. `c` is its C member name; `ts` its TypeScript name. */
export type Field =
  /** An integer; `max` names a constant of `ENUMS`/`SIZES` (or a number) it may not exceed; `min` its least value. */
  | {
      readonly kind: "scalar";
      readonly c: string;
      readonly ts: string;
      readonly type: ScalarType;
      readonly doc: string;
      readonly min?: number;
      readonly max?: number;
    }
  /** A u8 of flag bits; any other bit set is a bad payload. */
  | { readonly kind: "flags"; readonly c: string; readonly doc: string; readonly bits: readonly FlagBit[] }
  /** A scalar present only when flag bit `when` is set (C: 0 when absent; TS: the key is absent). */
  | { readonly kind: "optional"; readonly c: string; readonly ts: string; readonly type: ScalarType; readonly when: keyof typeof FLAG; readonly doc: string }
  /** Exactly `size` raw bytes (a constant of SIZES). */
  | { readonly kind: "bytes"; readonly c: string; readonly ts: string; readonly size: keyof typeof SIZES; readonly doc: string }
  /** u8 length, then that many printable ASCII bytes, length min..max. */
  | {
      readonly kind: "string";
      readonly c: string;
      readonly ts: string;
      readonly lenC: string;
      readonly min: number;
      readonly max: keyof typeof SIZES;
      readonly doc: string;
    }
  /** The rest of the payload: printable ASCII text (TS string) or data (TS Uint8Array), min..max bytes. */
  | {
      readonly kind: "rest";
      readonly c: string;
      readonly ts: string;
      readonly lenC: string;
      readonly lenType: "u8" | "u16";
      readonly text: boolean;
      readonly min: number;
      readonly max?: keyof typeof SIZES;
      readonly doc: string;
    }
  /** An event list (spec §3.1). */
  | { readonly kind: "events"; readonly c: string; readonly ts: string; readonly doc: string }
  /** Spike sections (spec §3.1). */
  | { readonly kind: "sections"; readonly c: string; readonly ts: string; readonly doc: string }
  /** u8 count, then count u16 (C: `countC`, `c` to encode from, `c`_raw decoded). */
  | { readonly kind: "u16list"; readonly c: string; readonly ts: string; readonly countC: string; readonly doc: string };

/** Who sends a message. */
export type Direction = "H→D" | "D→H" | "both";
/** What a message is in the exchange rules of spec §2. */
export type MessageRole = "request" | "answer" | "fire-and-forget";

/** One message of the protocol. */
export interface MessageSpec {
  /** Upper-case name: MSG key, TypeScript `kind`, C PS_MSG_ suffix. */
  readonly name: string;
  readonly type: number;
  readonly dir: Direction;
  readonly role: MessageRole;
  /** A remark after the role in the type table (e.g. "lockstep"). */
  readonly note?: string;
  /** For a request: its possible answers, as spec §2's table writes them. */
  readonly answers?: string;
  /** One line: what the message does (TS doc comment). */
  readonly doc: string;
  /** C struct type name without `ps_` and `_t` (default: the lower-case name). */
  readonly cStruct?: string;
  /** C union member (default: the lower-case name). */
  readonly cMember?: string;
  readonly fields: readonly Field[];
}

/** The protocol version this schema describes, and the range a peer speaking it accepts. */
export const PROTOCOL = { VERSION: 1, MIN: 1, MAX: 1 } as const;

/** The frame header (spec §1.4), frozen across versions; then `len` payload bytes and a CRC-16 of `CRC_SIZE` bytes. */
export const HEADER: readonly { readonly name: string; readonly type: "u8" | "u16"; readonly doc: string }[] = [
  { name: "version", type: "u8", doc: "protocol version the sender speaks in this frame (1)" },
  { name: "type", type: "u8", doc: "message type (§3)" },
  { name: "seq", type: "u16", doc: "sender's sequence number" },
  { name: "len", type: "u16", doc: "payload length in bytes" },
];

/** Bytes of the frame header. */
export const HEADER_SIZE = HEADER.reduce((n, h) => n + (h.type === "u8" ? 1 : 2), 0);
/** Bytes of the CRC that ends every frame. */
export const CRC_SIZE = 2;
/** Largest decoded frame (header, payload, CRC). */
export const MAX_FRAME = 512;

/** Bits of the flags byte of STEP, STEP_RESULT, RT_START and RT_OUTPUT. */
export const FLAG = { MORE: 0x01, COST: 0x02 } as const;

/** HELLO_ACK capability bits (spec §3.2), with what each promises. */
export const CAPABILITIES = {
  LOCKSTEP: { bit: 0x01, doc: "runs lockstep STEP requests" },
  REALTIME: { bit: 0x02, doc: "runs real-time steps from its clock (RT_START)" },
  UPLOAD: { bit: 0x04, doc: "accepts an uploaded model (MODEL_BEGIN/CHUNK/END)" },
  PLASTICITY: { bit: 0x08, doc: "applies learning rules and REWARD" },
  STATE_READBACK: { bit: 0x10, doc: "answers READ_STATE" },
  COST: { bit: 0x20, doc: "measures a per-step cost counter" },
} as const;

/**
 * Enumerations carried in fields. `c` is the C macro prefix (two enums share PS_STATE_: device states
 * and state kinds, as the firmware has always named them).
 */
export const ENUMS = {
  COST_UNIT: { c: "PS_COST_", doc: "Units of per-step cost.", values: { NONE: 0, CYCLES: 1, INSTRUCTIONS: 2, MICROSECONDS: 3 } },
  DEVICE_STATE: { c: "PS_STATE_", doc: "Device states in HELLO_ACK.", values: { NO_MODEL: 0, READY: 1, REALTIME: 2 } },
  MODEL_SOURCE: { c: "PS_MODEL_", doc: "Where the device's model came from.", values: { NONE: 0, COMPILED_IN: 1, UPLOADED: 2 } },
  STATE_KIND: {
    c: "PS_STATE_",
    doc: "READ_STATE `what` values.",
    values: { MEMBRANE: 0, WEIGHTS: 1, RECURRENT_WEIGHTS: 2, PRE_TRACE: 3, POST_TRACE: 4, ELIGIBILITY: 5 },
  },
  RESET_KIND: { c: "PS_RESET_", doc: "RESET_STATE `what` values.", values: { DYNAMIC: 0, WEIGHTS: 1 } },
} as const;

/** Sizes and limits named in the layouts. */
export const SIZES = {
  FIRMWARE_HASH_SIZE: { value: 8, doc: "Bytes of a firmware hash (SHA-256 prefix)." },
  MODEL_HASH_SIZE: { value: 32, doc: "Bytes of a model hash (full SHA-256)." },
  MAX_BOARD_NAME: { value: 32, doc: "Longest board name." },
  MAX_ERROR_TEXT: { value: 64, doc: "Longest ERROR text." },
  MAX_PENDING_REWARDS: { value: 4, doc: "Most pending rewards a device holds." },
} as const;

/** Host timing of spec §2 (ms and counts), for host tools in either language. */
export const TIMING = {
  REQUEST_TIMEOUT_MS: 200,
  REQUEST_RETRIES: 5,
  MODEL_END_TIMEOUT_MS: 2000,
} as const;

const u8 = (c: string, doc: string, ts = camel(c), extra: { min?: number; max?: number } = {}): Field => ({ kind: "scalar", c, ts, type: "u8", doc, ...extra });
const u16 = (c: string, doc: string, ts = camel(c)): Field => ({ kind: "scalar", c, ts, type: "u16", doc });
const u32 = (c: string, doc: string, ts = camel(c), extra: { min?: number } = {}): Field => ({ kind: "scalar", c, ts, type: "u32", doc, ...extra });
const replyTo = u16("reply_to", "sequence number of the request answered");

/** snake_case → camelCase. */
function camel(snake: string): string {
  return snake.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
}

/** Every message of protocol version 1, by type number. */
export const MESSAGES: readonly MessageSpec[] = [
  {
    name: "HELLO",
    type: 0x01,
    dir: "H→D",
    role: "request",
    answers: "HELLO_ACK, or NACK",
    doc: "HELLO: host's protocol range and a nonce echoed by the answer.",
    fields: [u8("proto_min", "lowest version the host speaks"), u8("proto_max", "highest version the host speaks"), u32("nonce", "echoed by HELLO_ACK")],
  },
  {
    name: "HELLO_ACK",
    type: 0x02,
    dir: "D→H",
    role: "answer",
    doc: "HELLO_ACK: what the device is, speaks and runs.",
    fields: [
      replyTo,
      u8("proto_min", "device's lowest version (frozen)"),
      u8("proto_max", "device's highest version (frozen)"),
      u8("proto_version", "chosen: the highest version in both ranges"),
      u32("nonce", "echoed from HELLO"),
      u16("capabilities", "bitmask of CAP"),
      { kind: "string", c: "board", ts: "board", lenC: "board_len", min: 1, max: "MAX_BOARD_NAME", doc: "ASCII board name, 1..32 bytes" },
      { kind: "bytes", c: "firmware_hash", ts: "firmwareHash", size: "FIRMWARE_HASH_SIZE", doc: "first 8 bytes of the firmware hash" },
      { kind: "bytes", c: "model_hash", ts: "modelHash", size: "MODEL_HASH_SIZE", doc: "full SHA-256 content hash of the loaded model; all zero when none" },
      u16("max_frame", "largest decoded frame accepted"),
      u16("max_input_events", "most input events one step may carry"),
      u32("upload_ram", "bytes available for an uploaded model"),
      u8("cost_unit", "COST_UNIT"),
      u8("state", "DEVICE_STATE"),
      u8("model_source", "MODEL_SOURCE"),
      u32("step", "the device's next step number"),
    ],
  },
  {
    name: "ACK",
    type: 0x03,
    dir: "D→H",
    role: "answer",
    doc: "ACK: a request succeeded; `info` is request-specific (spec §3.2).",
    fields: [replyTo, u32("info", "request-specific")],
  },
  {
    name: "NACK",
    type: 0x04,
    dir: "D→H",
    role: "answer",
    doc: "NACK: a request failed with a code from the shared error list.",
    fields: [replyTo, u16("code", "error number"), u32("detail", "code-specific")],
  },
  {
    name: "ERROR",
    type: 0x05,
    dir: "both",
    role: "fire-and-forget",
    doc: "ERROR: unsolicited error report, either direction.",
    cStruct: "error_msg",
    fields: [
      u16("code", "error number"),
      u32("detail", "code-specific"),
      {
        kind: "rest",
        c: "text",
        ts: "text",
        lenC: "text_len",
        lenType: "u8",
        text: true,
        min: 0,
        max: "MAX_ERROR_TEXT",
        doc: "printable ASCII, the rest of the payload",
      },
    ],
  },
  {
    name: "MODEL_BEGIN",
    type: 0x10,
    dir: "H→D",
    role: "request",
    answers: "ACK, or NACK",
    doc: "MODEL_BEGIN: start an upload of `totalLength` bytes whose SHA-256 is `sha256`.",
    fields: [
      u32("total_len", "bytes to be uploaded", "totalLength"),
      { kind: "bytes", c: "sha256", ts: "sha256", size: "MODEL_HASH_SIZE", doc: "SHA-256 of the bytes to be uploaded" },
    ],
  },
  {
    name: "MODEL_CHUNK",
    type: 0x11,
    dir: "H→D",
    role: "request",
    answers: "ACK, or NACK",
    doc: "MODEL_CHUNK: upload bytes at `offset`.",
    fields: [
      u32("offset", "bytes received so far"),
      { kind: "rest", c: "data", ts: "data", lenC: "len", lenType: "u16", text: false, min: 1, doc: "the bytes, the rest of the payload" },
    ],
  },
  {
    name: "MODEL_END",
    type: 0x12,
    dir: "H→D",
    role: "request",
    answers: "MODEL_LOADED, or NACK",
    doc: "MODEL_END: validate and load the uploaded model.",
    fields: [],
  },
  {
    name: "MODEL_LOADED",
    type: 0x13,
    dir: "D→H",
    role: "answer",
    doc: "MODEL_LOADED: the uploaded model is live; its content hash.",
    fields: [replyTo, { kind: "bytes", c: "model_hash", ts: "modelHash", size: "MODEL_HASH_SIZE", doc: "the table's content hash" }],
  },
  {
    name: "STEP",
    type: 0x20,
    dir: "H→D",
    role: "request",
    note: "lockstep",
    answers: "STEP_RESULT (one or more parts), or ACK (for a STEP with the MORE flag), or NACK",
    doc: "STEP: lockstep step `step` with (a part of) its input events.",
    fields: [
      u32("step", "must equal the device's next step"),
      {
        kind: "flags",
        c: "flags",
        doc: "MORE: more events for this step follow; COST: report the step's cost",
        bits: [
          { bit: "MORE", ts: "more" },
          { bit: "COST", ts: "wantCost" },
        ],
      },
      { kind: "scalar", c: "report_mask", ts: "reportMask", type: "varint", doc: "bit L: report the spikes of layer L" },
      { kind: "events", c: "events", ts: "events", doc: "input events" },
    ],
  },
  {
    name: "STEP_RESULT",
    type: 0x21,
    dir: "D→H",
    role: "answer",
    doc: "STEP_RESULT: (a part of) the output spikes of a lockstep step.",
    fields: [
      replyTo,
      u32("step", "the step run"),
      {
        kind: "flags",
        c: "flags",
        doc: "MORE: further parts follow; COST: `cost` present",
        bits: [
          { bit: "MORE", ts: "more" },
          { bit: "COST", presence: "cost" },
        ],
      },
      u8("part", "part number, from 0"),
      { kind: "optional", c: "cost", ts: "cost", type: "u32", when: "COST", doc: "the step's cost in cost_unit" },
      { kind: "sections", c: "sections", ts: "sections", doc: "output spikes" },
    ],
  },
  {
    name: "RT_START",
    type: 0x22,
    dir: "H→D",
    role: "request",
    answers: "ACK, or NACK",
    doc: "RT_START: run steps from the device clock every `periodUs`.",
    fields: [
      u32("period_us", "step period in µs, at least 1", "periodUs", { min: 1 }),
      { kind: "flags", c: "flags", doc: "COST: report each step's cost", bits: [{ bit: "COST", ts: "wantCost" }] },
      { kind: "scalar", c: "report_mask", ts: "reportMask", type: "varint", doc: "bit L: report the spikes of layer L" },
    ],
  },
  { name: "RT_STOP", type: 0x23, dir: "H→D", role: "request", answers: "ACK, or NACK", doc: "RT_STOP: stop real-time mode.", fields: [] },
  {
    name: "RT_INPUT",
    type: 0x24,
    dir: "H→D",
    role: "fire-and-forget",
    doc: "RT_INPUT: events applied at the device's next step.",
    fields: [{ kind: "events", c: "events", ts: "events", doc: "input events" }],
  },
  {
    name: "RT_OUTPUT",
    type: 0x25,
    dir: "D→H",
    role: "fire-and-forget",
    doc: "RT_OUTPUT: what happened at a real-time step.",
    fields: [
      u32("step", "the real-time step"),
      { kind: "flags", c: "flags", doc: "COST: `cost` present", bits: [{ bit: "COST", presence: "cost" }] },
      { kind: "optional", c: "cost", ts: "cost", type: "u32", when: "COST", doc: "the step's cost in cost_unit" },
      {
        kind: "u16list",
        c: "applied",
        ts: "appliedSeqs",
        countC: "applied_count",
        doc: "sequence numbers of the RT_INPUT frames applied at the start of `step`",
      },
      { kind: "sections", c: "sections", ts: "sections", doc: "output spikes" },
    ],
  },
  {
    name: "REWARD",
    type: 0x30,
    dir: "H→D",
    role: "request",
    answers: "ACK, or NACK",
    doc: "REWARD: a reward for R-STDP, applied at the start of `targetStep`.",
    fields: [u32("target_step", "step at whose start it applies"), { kind: "scalar", c: "reward", ts: "reward", type: "i16", doc: "the reward" }],
  },
  {
    name: "READ_STATE",
    type: 0x40,
    dir: "H→D",
    role: "request",
    answers: "STATE_CHUNK, or NACK",
    doc: "READ_STATE: read `length` bytes at `offset` of a state array of `layer`.",
    fields: [
      u8("what", "STATE_KIND", "what", { max: ENUMS.STATE_KIND.values.ELIGIBILITY }),
      u8("layer", "layer index"),
      u32("offset", "byte offset"),
      u16("length", "bytes wanted"),
    ],
  },
  {
    name: "STATE_CHUNK",
    type: 0x41,
    dir: "D→H",
    role: "answer",
    doc: "STATE_CHUNK: bytes of a state array.",
    fields: [
      replyTo,
      u8("what", "STATE_KIND"),
      u8("layer", "layer index"),
      u32("offset", "byte offset"),
      u32("total", "size of the whole array in bytes"),
      { kind: "rest", c: "data", ts: "data", lenC: "data_len", lenType: "u16", text: false, min: 0, doc: "the bytes, the rest of the payload" },
    ],
  },
  {
    name: "RESET_STATE",
    type: 0x42,
    dir: "H→D",
    role: "request",
    answers: "ACK, or NACK",
    doc: "RESET_STATE: reset dynamic state (and weights with RESET_KIND.WEIGHTS).",
    fields: [u8("what", "RESET_KIND", "what", { max: ENUMS.RESET_KIND.values.WEIGHTS })],
  },
  { name: "GET_STATS", type: 0x50, dir: "H→D", role: "request", answers: "STATS", doc: "GET_STATS: ask for the device counters.", fields: [] },
  {
    name: "STATS",
    type: 0x51,
    dir: "D→H",
    role: "answer",
    doc: "STATS: the device counters (spec §3.2).",
    fields: [
      replyTo,
      u32("steps", "steps run since boot"),
      u32("frames_rx", "valid frames received"),
      u32("frames_tx", "frames sent"),
      u32("bad_frame", "COBS/size/length failures"),
      u32("bad_crc", "CRC failures"),
      u32("gaps", "frames lost (§2)"),
      u32("late", "late frames (§2)"),
      u32("dropped", "valid frames dropped"),
      u32("last_cost", "cost of the last step"),
      u32("max_cost", "largest step cost"),
    ],
  },
];
