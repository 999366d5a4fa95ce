/**
 * The mock board's READ_STATE: membranes, weights (the learned ones of plastic layers), traces and
 * eligibility as little-endian bytes (spec §3.2, §5.8); the twin of firmware/src/ps_device_readback.c.
 */
import { packWeights } from "../../runtime/plasticity.js";
import type { Connection } from "../../runtime/model.js";
import { CRC_SIZE, HEADER_SIZE } from "../wire/frame.js";
import { PREFIX_SIZE, STATE_KIND, type Message } from "../wire/messages.js";
import { type MockDevice, Nack, nackCode } from "./state.js";

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

/** READ_STATE: a STATE_CHUNK of the array, or NACK 408 for state the layer lacks (spec §5.8). */
export function readState(d: MockDevice, msg: Extract<Message, { kind: "READ_STATE" }>, seq: number): Message {
  const interp = d.interp;
  const table = d.table;
  if (!interp || !table) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
  const layer = table.layers[msg.layer];
  if (!layer) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"), table.layers.length);
  let array: Uint8Array | undefined;
  if (msg.what === STATE_KIND.MEMBRANE) array = int32Bytes(interp.membrane(msg.layer));
  else if (msg.what === STATE_KIND.WEIGHTS) {
    // a plastic layer's weights are the learned ones, in the stored width (spec/ops.md §11.4)
    array =
      interp.isPlastic(msg.layer) && layer.input.kind !== "pool" && layer.input.kind !== "conv2d"
        ? weightBytes({ ...layer.input, weights: packWeights(interp.weights(msg.layer), layer.input.weights) })
        : weightBytes(layer.input);
  } else if (msg.what === STATE_KIND.RECURRENT_WEIGHTS) array = layer.recurrent ? weightBytes(layer.recurrent) : undefined;
  else {
    // traces and eligibility: only plastic layers have them (eligibility only rstdp ones)
    const st = interp.plasticity(msg.layer);
    const trace =
      st === undefined ? undefined : msg.what === STATE_KIND.PRE_TRACE ? st.preTrace : msg.what === STATE_KIND.POST_TRACE ? st.postTrace : st.eligibility;
    array = trace === undefined || (msg.what === STATE_KIND.ELIGIBILITY && st?.params.rule !== "rstdp") ? undefined : int16Bytes(trace);
  }
  if (array === undefined) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
  if (msg.offset > array.length) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"), array.length);
  const n = Math.min(msg.length, array.length - msg.offset, d.maxFrame - HEADER_SIZE - CRC_SIZE - PREFIX_SIZE.STATE_CHUNK);
  return {
    kind: "STATE_CHUNK",
    replyTo: seq,
    what: msg.what,
    layer: msg.layer,
    offset: msg.offset,
    total: array.length,
    data: array.slice(msg.offset, msg.offset + n),
  };
}
