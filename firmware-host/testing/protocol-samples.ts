/**
 * One sample of every protocol message, with non-trivial field values, shared by the TS round-trip
 * tests and the C cross-language test (which must produce the same bytes for the same fields).
 */
import type { Message } from "../wire/messages.js";

const seqBytes = (n: number, start: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i * 7) & 0xff);

/** Every message type once (STEP_RESULT and RT_OUTPUT with and without cost, events with and without values). */
export const SAMPLE_MESSAGES: readonly Message[] = [
  { kind: "HELLO", protoMin: 1, protoMax: 1, nonce: 0xdeadbeef },
  {
    kind: "HELLO_ACK", replyTo: 0xfffe, protoMin: 1, protoMax: 2, protoVersion: 1, nonce: 0x01020304, capabilities: 0x3f, board: "mps2-an386",
    firmwareHash: seqBytes(8, 1), modelHash: seqBytes(32, 100), maxFrame: 512, maxInputEvents: 1024, uploadRam: 196608, costUnit: 2, state: 1, modelSource: 2, step: 123456,
  },
  { kind: "ACK", replyTo: 7, info: 0xffffffff },
  { kind: "NACK", replyTo: 65535, code: 408, detail: 42 },
  { kind: "ERROR", code: 507, detail: 3, text: "device reset" },
  { kind: "MODEL_BEGIN", totalLength: 54321, sha256: seqBytes(32, 9) },
  { kind: "MODEL_CHUNK", offset: 4096, data: seqBytes(300, 0) },
  { kind: "MODEL_END" },
  { kind: "MODEL_LOADED", replyTo: 12, modelHash: seqBytes(32, 200) },
  { kind: "STEP", step: 31, more: false, wantCost: true, reportMask: 0b101, events: { indices: Uint32Array.from([0, 1, 5, 130, 783, 20000]) } },
  { kind: "STEP", step: 0x12345678, more: true, wantCost: false, reportMask: 1, events: { indices: Uint32Array.from([3, 4, 300]), values: Uint8Array.from([1, 255, 17]) } },
  { kind: "STEP", step: 0, more: false, wantCost: false, reportMask: 0, events: { indices: new Uint32Array(0) } },
  { kind: "STEP_RESULT", replyTo: 99, step: 31, more: false, part: 0, cost: 98765, sections: [{ layer: 0, indices: Uint32Array.from([2, 9, 511]) }, { layer: 2, indices: Uint32Array.from([7]) }] },
  { kind: "STEP_RESULT", replyTo: 100, step: 32, more: true, part: 3, sections: [] },
  { kind: "RT_START", periodUs: 1000, wantCost: true, reportMask: 0xffffffff },
  { kind: "RT_STOP" },
  { kind: "RT_INPUT", events: { indices: Uint32Array.from([10, 11, 700]) } },
  { kind: "RT_OUTPUT", step: 77, cost: 1234, appliedSeqs: [5, 65535], sections: [{ layer: 1, indices: Uint32Array.from([0, 127, 128, 16384]) }] },
  { kind: "RT_OUTPUT", step: 78, appliedSeqs: [], sections: [] },
  { kind: "REWARD", targetStep: 500, reward: -32768 },
  { kind: "REWARD", targetStep: 0xffffffff, reward: 32767 },
  { kind: "READ_STATE", what: 0, layer: 1, offset: 1024, length: 492 },
  { kind: "STATE_CHUNK", replyTo: 1, what: 1, layer: 0, offset: 0, total: 100352, data: seqBytes(200, 3) },
  { kind: "RESET_STATE", what: 1 },
  { kind: "GET_STATS" },
  { kind: "STATS", replyTo: 8, steps: 1000000, framesRx: 2, framesTx: 3, badFrame: 4, badCrc: 5, gaps: 6, late: 7, dropped: 8, lastCost: 9, maxCost: 0x80000000 },
];
