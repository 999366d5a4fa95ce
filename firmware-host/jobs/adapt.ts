/**
 * A board session as a closed-loop learner (the surface models/adapt/on-device.ts runs a task on):
 * lockstep steps reporting the action layer, rewards by REWARD, RESET_STATE 1 between runs, and the
 * learned weights read back with READ_STATE WEIGHTS.
 */
import type { StepEvents } from "../../runtime/events.js";
import type { EventTable } from "../../runtime/model.js";
import { readLearnedTable } from "../bridge/checkpoint.js";
import type { BoardSession } from "../bridge/session.js";
import type { SpikeSection } from "../wire/messages.js";

/** Someone watching the run (the live view): the layers it wants reported, and every step as the device answered it. */
export interface StepWatcher {
  /** Layers the device reports each step besides the action layer (a mask). */
  readonly reportMask: number;
  /** Called after each step; synchronous, never awaited. */
  onStep(t: number, input: StepEvents, sections: readonly SpikeSection[]): void;
}

/** The learner surface of a session whose action neurons are layer `layer`. */
export interface SessionLearner {
  /** Runs step `t` with `events`; resolves to the indices of the action neurons that fired in it. */
  step(t: number, events: StepEvents): Promise<Uint32Array>;
  /** Aims `value` at step `targetStep`. */
  reward(targetStep: number, value: number): Promise<void>;
  /** Zeroes the dynamic state and keeps the learned weights. */
  resetKeepingWeights(): Promise<void>;
  /** `table` with the device's learned weights. */
  learnedTable(table: EventTable): Promise<EventTable>;
}

/** A board session as a learner: lockstep steps reporting `layer`, rewards by REWARD, learned weights read back. */
export function sessionLearner(session: BoardSession, layer: number, watcher?: StepWatcher): SessionLearner {
  const mask = ((layer < 32 ? (2 ** layer) >>> 0 : 0) | (watcher?.reportMask ?? 0)) >>> 0;
  const none = new Uint32Array(0);
  return {
    async step(t, events) {
      const out = await session.step(t, events, mask);
      watcher?.onStep(t, events, out.sections);
      return out.sections.find((s) => s.layer === layer)?.indices ?? none;
    },
    async reward(targetStep, value) {
      await session.reward(targetStep, value);
    },
    async resetKeepingWeights() {
      await session.resetState(true);
    },
    learnedTable: (table) => readLearnedTable(session, table),
  };
}
