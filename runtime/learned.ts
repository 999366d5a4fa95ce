/**
 * Learned tables (spec/ops.md §11.4): which layers learn, and the provenance a learned table carries
 * (the table learning started from, the steps and rewards so far). Pure: shared by the device
 * checkpoints (firmware-host) and the closed-loop runs (models/adapt).
 */
import { hashOfTable } from "./format.js";
import type { EventTable } from "./model.js";

/** Provenance settings keys a learned table carries. */
export const LEARNED_KEYS = { source: "learned.sourceHash", steps: "learned.steps", rewards: "learned.rewards" } as const;

/** What a run learned, for the provenance of its checkpoint. */
export interface LearningRecord {
  /** Steps the device ran (learning) in this run so far. */
  readonly steps: number;
  /** Rewards applied in this run so far. */
  readonly rewards: number;
}

/** Plastic layers whose weights the device learns (dense or sparse input). */
export function plasticLayers(table: EventTable): number[] {
  return table.layers.flatMap((l, i) => (l.plasticity !== undefined && (l.input.kind === "dense" || l.input.kind === "sparse") ? [i] : []));
}

/**
 * `learned` with provenance naming the table learning started from and the steps and rewards so far.
 * When `source` is itself a checkpoint, its source hash is kept and the counts add up.
 */
export function withLearningProvenance(learned: EventTable, source: EventTable, record: LearningRecord): EventTable {
  const settings = source.provenance.settings;
  const previousSteps = typeof settings[LEARNED_KEYS.steps] === "number" ? (settings[LEARNED_KEYS.steps] as number) : 0;
  const previousRewards = typeof settings[LEARNED_KEYS.rewards] === "number" ? (settings[LEARNED_KEYS.rewards] as number) : 0;
  const origin = typeof settings[LEARNED_KEYS.source] === "string" ? (settings[LEARNED_KEYS.source] as string) : hashOfTable(source);
  return {
    ...learned,
    provenance: {
      ...learned.provenance,
      settings: {
        ...learned.provenance.settings,
        [LEARNED_KEYS.source]: origin,
        [LEARNED_KEYS.steps]: previousSteps + record.steps,
        [LEARNED_KEYS.rewards]: previousRewards + record.rewards,
      },
    },
  };
}
