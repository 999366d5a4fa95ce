/**
 * Checkpoints of on-device learning (spec/ops.md §11.4, spec/protocol.md §5.8): the learned
 * table is the original table with each plastic layer's stored weights replaced by the device's
 * working weights, read back with READ_STATE WEIGHTS in the stored width; its provenance records
 * where the learning started (source table hash), how many steps learned and how many rewards were
 * applied, summed over every run that continued from a saved table. Writing the bytes is the
 * caller's (the CLI writes them atomically); `Checkpointer` decides when. An epoch-timed layer
 * (spec/ops.md §11.7) changes its weights only at epoch ends: a checkpoint holds the weights of the
 * last epoch end, not the open epoch's markers and reward sum (learning state that a reset drops, as
 * it drops traces and eligibility), so a run from it after a reset is a run after a reset.
 */
import { fail } from "../../runtime/errors.js";
import { encodeTable } from "../../runtime/format.js";
import { plasticLayers, withLearningProvenance, type LearningRecord } from "../../runtime/learned.js";
import type { EventTable, Layer, Weights } from "../../runtime/model.js";
import { STATE_KIND } from "../wire/messages.js";
import type { BoardSession } from "./session.js";

/** Stored weights of width `like.bits` from little-endian bytes (READ_STATE WEIGHTS layout). */
export function weightsFromBytes(bytes: Uint8Array, like: Weights): Weights {
  const expected = like.bits === 16 ? like.count * 2 : like.bits === 8 ? like.count : Math.ceil(like.count / 2);
  if (bytes.length !== expected) fail("PROTOCOL_BAD_PAYLOAD", `device sent ${bytes.length} weight bytes, the layer stores ${expected}`);
  if (like.bits === 16) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { ...like, data: Int16Array.from({ length: like.count }, (_, q) => view.getInt16(2 * q, true)) };
  }
  if (like.bits === 8) return { ...like, data: Int8Array.from(bytes, (b) => (b << 24) >> 24) };
  return { ...like, data: Uint8Array.from(bytes) };
}

/** Reads every plastic layer's learned weights from the device and returns `table` with them (spec/ops.md §11.4). */
export async function readLearnedTable(session: BoardSession, table: EventTable): Promise<EventTable> {
  const layers: Layer[] = [...table.layers];
  for (const l of plasticLayers(table)) {
    const layer = layers[l]!;
    if (layer.input.kind !== "dense" && layer.input.kind !== "sparse") continue;
    const bytes = await session.readState(STATE_KIND.WEIGHTS, l);
    layers[l] = { ...layer, input: { ...layer.input, weights: weightsFromBytes(bytes, layer.input.weights) } };
  }
  return { ...table, layers };
}

/** The encoded checkpoint table: the device's learned weights with provenance. */
export async function checkpointBytes(session: BoardSession, source: EventTable, record: LearningRecord): Promise<Uint8Array> {
  return encodeTable(withLearningProvenance(await readLearnedTable(session, source), source, record));
}

/**
 * Saves a checkpoint every `every` steps (and on `finish`) through `write`, which must replace the
 * file atomically (cli/io.ts writeFileAtomic): a disconnect mid-run leaves the last checkpoint whole.
 */
export class Checkpointer {
  private lastSavedAt = 0;
  /** Checkpoints written so far. */
  saved = 0;

  constructor(
    private readonly session: BoardSession,
    private readonly source: EventTable,
    private readonly write: (bytes: Uint8Array) => void,
    private readonly every: number | undefined,
  ) {
    if (every !== undefined && !(Number.isInteger(every) && every >= 1)) fail("CLI_USAGE", `checkpoint interval must be a positive integer, got ${every}`);
  }

  /** Call after every step with the run's learning so far; writes a checkpoint when one is due. */
  async afterStep(record: LearningRecord): Promise<void> {
    if (this.every === undefined || record.steps - this.lastSavedAt < this.every) return;
    await this.save(record);
  }

  /** Writes a checkpoint now. */
  async save(record: LearningRecord): Promise<void> {
    this.write(await checkpointBytes(this.session, this.source, record));
    this.lastSavedAt = record.steps;
    this.saved++;
  }
}

/**
 * Bytes of device RAM the learning state of `table` takes: the C runtime's ps_net_plastic_bytes
 * (firmware/src/ps_net.c) computed on the host for `build`'s size report. Per plastic layer, in
 * 32-bit words each rounded up: int16 working weights, pre traces, post traces, eligibility (rstdp),
 * then one flag byte per neuron, then what event or epoch timing adds.
 */
export function plasticRamBytes(table: EventTable): number {
  let words = 0;
  table.layers.forEach((layer, l) => {
    if (layer.plasticity === undefined || (layer.input.kind !== "dense" && layer.input.kind !== "sparse")) return;
    const synapses = layer.input.weights.count;
    const pre = l === 0 ? table.input.size : table.layers[l - 1]!.size;
    words +=
      Math.ceil(synapses / 2) +
      Math.ceil(pre / 2) +
      Math.ceil(layer.size / 2) +
      (layer.plasticity.rule === "rstdp" ? Math.ceil(synapses / 2) : 0) +
      Math.ceil(layer.size / 4);
    // event timing (spec/ops.md §11.5): stamps, trace scratch, four 16-entry decay schedules, a gain per neuron; triplet: slow trace and stamps
    if (layer.plasticity.timing === "event") {
      words += pre + layer.size + Math.ceil(pre / 2) + Math.ceil(layer.size / 2) + 32 + layer.size;
      if (layer.plasticity.rule === "triplet") words += Math.ceil(layer.size / 2) + layer.size;
    }
    // epoch timing (spec/ops.md §11.7): the reward sum, the markers (bytes), the int8 weight copy when the clamp fits int8, the row bounds (rstdp)
    if (layer.plasticity.timing === "epoch") {
      const int8 = layer.input.kind === "dense" && layer.plasticity.wMin >= -128 && layer.plasticity.wMax <= 127;
      words +=
        1 +
        Math.ceil(pre / 4) +
        Math.ceil(layer.size / 4) +
        (int8 ? Math.ceil(synapses / 4) : 0) +
        (layer.plasticity.rule === "rstdp" ? Math.ceil(pre / 2) : 0);
    }
  });
  return words * 4;
}
