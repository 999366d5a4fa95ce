/**
 * The state snapshot byte layout of spec/ops.md §10, written and read in one place for the
 * interpreter and the hand-written reference oracle (both keep their layer state in the shape
 * below). The step arithmetic of the two stays independent; only the serialization is shared.
 */
import { fail } from "./errors.js";
import { plasticSnapshotLength, readPlasticSnapshot, writePlasticSnapshot, type PlasticityState } from "./plasticity.js";

/** "PSS1", little-endian: the first word of every snapshot. */
export const SNAPSHOT_MAGIC = 0x31535350;

/** Neuron-model code of the integrator, which never spikes (its spike list must be empty). */
const INTEGRATOR_CODE = 4;

/** The per-layer state a snapshot holds. */
export interface SnapshotLayer {
  readonly size: number;
  /** Neuron-model code (NEURON_MODEL_CODE in runtime/interpreter.ts). */
  readonly model: number;
  /** Refractory period: counters above it are rejected on restore. */
  readonly refractory: number;
  readonly v: Int32Array;
  /** cuba synaptic current, length 0 for other models. */
  readonly current: Int32Array;
  readonly refractoryLeft: Uint8Array;
  readonly counts: Uint32Array;
  spikes: Uint32Array;
  spikeCount: number;
  readonly plastic: PlasticityState | undefined;
}

/** All state of `layers` after `steps` steps, as bytes. */
export function writeSnapshot(layers: readonly SnapshotLayer[], steps: number): Uint8Array {
  let length = 16;
  for (const L of layers) length += 12 + L.size * 4 + L.current.length * 4 + L.size + L.size * 4 + L.spikeCount * 4;
  length += plasticSnapshotLength(layers.map((L) => L.plastic));
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  let o = 0;
  const u32 = (x: number): void => {
    view.setUint32(o, x, true);
    o += 4;
  };
  const i32 = (x: number): void => {
    view.setInt32(o, x, true);
    o += 4;
  };
  u32(SNAPSHOT_MAGIC);
  u32(layers.length);
  u32(steps % 2 ** 32);
  u32(Math.floor(steps / 2 ** 32));
  for (const L of layers) {
    u32(L.size);
    u32(L.model);
    u32(L.spikeCount);
    for (let j = 0; j < L.size; j++) i32(L.v[j]!);
    for (let j = 0; j < L.current.length; j++) i32(L.current[j]!);
    bytes.set(L.refractoryLeft, o);
    o += L.size;
    for (let j = 0; j < L.size; j++) u32(L.counts[j]!);
    for (let s = 0; s < L.spikeCount; s++) u32(L.spikes[s]!);
  }
  writePlasticSnapshot(
    view,
    o,
    layers.map((L) => L.plastic),
  );
  return bytes;
}

/**
 * Parses and checks a snapshot against `layers` without touching them; `apply()` then writes the
 * state in. Throws SEMANTICS_STATE_MISMATCH when the bytes do not fit, so a bad snapshot leaves
 * the state unchanged.
 */
export function readSnapshot(bytes: Uint8Array, layers: readonly SnapshotLayer[]): { steps: number; apply: () => void } {
  const mismatch = (why: string): never => fail("SEMANTICS_STATE_MISMATCH", `snapshot does not fit this model: ${why}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  const u32 = (): number => {
    if (o + 4 > bytes.length) mismatch("it is truncated");
    const x = view.getUint32(o, true);
    o += 4;
    return x;
  };
  if (u32() !== SNAPSHOT_MAGIC) mismatch("bad magic");
  if (u32() !== layers.length) mismatch("layer count differs");
  const steps = u32() + u32() * 2 ** 32;
  if (!Number.isSafeInteger(steps)) mismatch("step counter out of range");
  const parsed = layers.map((L, l) => {
    if (u32() !== L.size) mismatch(`layer ${l} size differs`);
    if (u32() !== L.model) mismatch(`layer ${l} neuron model differs`);
    const spikeCount = u32();
    if (spikeCount > L.size || (L.model === INTEGRATOR_CODE && spikeCount > 0)) mismatch(`layer ${l} spike count out of range`);
    const need = L.size * 4 + L.current.length * 4 + L.size + L.size * 4 + spikeCount * 4;
    if (o + need > bytes.length) mismatch("it is truncated");
    const v = new Int32Array(L.size);
    for (let j = 0; j < L.size; j++, o += 4) v[j] = view.getInt32(o, true);
    const current = new Int32Array(L.current.length);
    for (let j = 0; j < current.length; j++, o += 4) current[j] = view.getInt32(o, true);
    const refractoryLeft = bytes.slice(o, o + L.size);
    o += L.size;
    for (const r of refractoryLeft) if (r > L.refractory) mismatch(`layer ${l} refractory counter above the period`);
    const counts = new Uint32Array(L.size);
    for (let j = 0; j < L.size; j++) counts[j] = u32();
    const spikes = new Uint32Array(L.size);
    let last = -1;
    for (let s = 0; s < spikeCount; s++) {
      const j = u32();
      if (j >= L.size || j <= last) mismatch(`layer ${l} spike list is not ascending within the layer`);
      spikes[s] = j;
      last = j;
    }
    return { v, current, refractoryLeft, counts, spikes, spikeCount };
  });
  const plastic = readPlasticSnapshot(
    view,
    o,
    layers.map((L) => L.plastic),
    mismatch,
  );
  if (plastic.end !== bytes.length) mismatch("trailing bytes");
  return {
    steps,
    apply: () => {
      parsed.forEach((p, l) => {
        const L = layers[l]!;
        L.v.set(p.v);
        L.current.set(p.current);
        L.refractoryLeft.set(p.refractoryLeft);
        L.counts.set(p.counts);
        L.spikes.set(p.spikes);
        L.spikeCount = p.spikeCount;
      });
      plastic.apply();
    },
  };
}
