/**
 * The mock board's model: the upload (MODEL_BEGIN/CHUNK/END, spec §3.2 and §5.6) and the
 * compiled-in model it falls back to; the twin of firmware/src/ps_device_model.c.
 */
import { decodeTable, tableHash } from "../../runtime/format.js";
import { bytesEqual, fromHex, sha256 } from "../../runtime/hash.js";
import { Interpreter } from "../../runtime/interpreter.js";
import type { EventTable } from "../../runtime/model.js";
import { MODEL_HASH_SIZE, MODEL_SOURCE, type Message } from "../wire/messages.js";
import { type MockDevice, Nack, nackCode } from "./state.js";

/** Makes `table` the live model (fresh state); drops buffered STEP parts and pending rewards. */
export function loadModel(d: MockDevice, table: EventTable, hash: Uint8Array, source: number): void {
  d.table = table;
  d.interp = new Interpreter(table);
  d.modelHash = hash;
  d.modelSource = source;
  d.partial = undefined;
  d.pendingRewards = [];
}

/** Drops an uploaded model; a compiled-in one (still in flash) becomes the live model again. */
export function unloadModel(d: MockDevice): void {
  if (d.compiledIn) {
    loadModel(d, d.compiledIn.table, d.compiledIn.hash, MODEL_SOURCE.COMPILED_IN);
    return;
  }
  d.table = undefined;
  d.interp = undefined;
  d.modelHash = new Uint8Array(MODEL_HASH_SIZE);
  d.modelSource = MODEL_SOURCE.NONE;
}

/** MODEL_BEGIN: discards an uploaded model or an upload in progress and starts an upload; ACK info 0. */
export function modelBegin(d: MockDevice, msg: Extract<Message, { kind: "MODEL_BEGIN" }>): number {
  if (d.rt) throw new Nack(nackCode("PROTOCOL_BUSY"));
  if (msg.totalLength === 0) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
  if (msg.totalLength > d.uploadRam) throw new Nack(nackCode("DEVICE_OUT_OF_MEMORY"), d.uploadRam);
  if (d.modelSource === MODEL_SOURCE.UPLOADED) unloadModel(d);
  d.upload = { total: msg.totalLength, sha: msg.sha256, bytes: new Uint8Array(msg.totalLength), received: 0 };
  return 0;
}

/** MODEL_CHUNK: appends at the bytes received so far (a retransmitted chunk is re-ACKed); ACK info = bytes held. */
export function modelChunk(d: MockDevice, msg: Extract<Message, { kind: "MODEL_CHUNK" }>): number {
  const up = d.upload;
  if (!up) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
  const end = msg.offset + msg.data.length;
  if (end <= up.received) return up.received; // a retransmission of a chunk already held
  if (msg.offset !== up.received || end > up.total) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"), up.received);
  up.bytes.set(msg.data, msg.offset);
  up.received = end;
  return up.received;
}

/** MODEL_END: checks length and hash, validates and loads the upload; the loaded table's content hash. */
export function modelEnd(d: MockDevice): Uint8Array {
  const up = d.upload;
  if (!up) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
  d.upload = undefined;
  if (up.received !== up.total) throw new Nack(nackCode("FORMAT_TRUNCATED"), up.received);
  if (!bytesEqual(sha256(up.bytes), up.sha)) throw new Nack(nackCode("FORMAT_HASH_MISMATCH"));
  const table = decodeTable(up.bytes); // PicospikeError → NACK with its 1xx/2xx code
  const hash = fromHex(tableHash(up.bytes));
  loadModel(d, table, hash, MODEL_SOURCE.UPLOADED);
  return hash;
}
