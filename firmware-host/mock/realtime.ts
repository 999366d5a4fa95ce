/**
 * The mock board's real-time mode: RT_START/RT_STOP, pending RT_INPUT frames and the steps that fall
 * due on its clock (spec §5.3–§5.5); the twin of firmware/src/ps_device_realtime.c.
 */
import type { StepEvents } from "../../runtime/events.js";
import { mergeRealtimeInputs } from "../bridge/session.js";
import { SECTION_COUNT_SIZE } from "../wire/codec.js";
import { CRC_SIZE, HEADER_SIZE } from "../wire/frame.js";
import { PREFIX_SIZE, type Message } from "../wire/messages.js";
import { hasCost, type MockDevice, Nack, nackCode, nextStep } from "./state.js";
import { reported, runStep, splitSections } from "./step.js";

/** Most RT_INPUT frames pending for one step (applied_count is a u8; spec §3.2 RT_INPUT). */
export const RT_MAX_PENDING_INPUTS = 32;
/** Most real-time steps the device catches up on in one clock tick before resynchronising. */
export const RT_MAX_CATCH_UP = 10_000;

/** RT_START: real-time steps from the device clock every periodUs; ACK info = the first real-time step. */
export function rtStart(d: MockDevice, msg: Extract<Message, { kind: "RT_START" }>): number {
  if (!d.interp) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
  if (d.rt || d.partial) throw new Nack(nackCode("PROTOCOL_BUSY"));
  const stop = d.clock.schedule(msg.periodUs, () => rtTick(d));
  d.rt = { periodUs: msg.periodUs, reportMask: msg.reportMask, wantCost: msg.wantCost && hasCost(d), nextDueUs: d.clock.nowUs() + msg.periodUs, stop };
  return nextStep(d);
}

/** RT_STOP: ends real-time mode; inputs still pending are discarded (never applied). ACK info = the next step. */
export function rtStop(d: MockDevice): number {
  if (d.rt) {
    d.rt.stop();
    d.rt = undefined;
  }
  d.rtInputs = [];
  d.rtPendingEvents = 0;
  return nextStep(d);
}

/** RT_INPUT: kept for the next real-time step, or dropped and counted (spec §5.3). */
export function rtInput(d: MockDevice, events: StepEvents, seq: number, handshaken: boolean): void {
  const table = d.table;
  if (!handshaken || !table || !d.rt) {
    d.counters.dropped++;
    return;
  }
  const n = events.indices.length;
  const last = n > 0 ? events.indices[n - 1]! : -1;
  if (last >= table.input.size || d.rtInputs.length >= RT_MAX_PENDING_INPUTS || d.rtPendingEvents + n > d.maxInputEvents) {
    d.counters.dropped++;
    return;
  }
  d.rtInputs.push({ seq, events });
  d.rtPendingEvents += n;
}

/** Runs the real-time steps that fell due on the clock (spec §5.5). */
export function rtTick(d: MockDevice): void {
  const rt = d.rt;
  if (!rt) return;
  const now = d.clock.nowUs();
  let ran = 0;
  while (d.rt === rt && rt.nextDueUs <= now) {
    rtStep(d, rt.reportMask);
    rt.nextDueUs += rt.periodUs;
    if (++ran >= RT_MAX_CATCH_UP) {
      rt.nextDueUs = now + rt.periodUs; // too far behind: resynchronise instead of spinning
      break;
    }
  }
}

/** One real-time step: merged pending inputs, due rewards, and an RT_OUTPUT when there is something to say. */
function rtStep(d: MockDevice, reportMask: number): void {
  const inputs = d.rtInputs;
  d.rtInputs = [];
  d.rtPendingEvents = 0;
  const events = mergeRealtimeInputs(inputs.map((i) => i.events));
  const step = d.interp!.t;
  const rewards = runStep(d, events);
  const sections = reported(d, reportMask);
  if (inputs.length === 0 && rewards === 0 && sections.length === 0) return;
  const appliedSeqs = inputs.map((i) => i.seq);
  // RT_OUTPUT fixed part: step, flags, [cost u32], applied_count u8, applied_seq u16 each, section_count.
  const budget = d.maxFrame - HEADER_SIZE - CRC_SIZE;
  const cost = d.rt?.wantCost ? { cost: d.lastCost } : {};
  const fixed = PREFIX_SIZE.RT_OUTPUT + (d.rt?.wantCost ? 4 : 0) + 1 + 2 * appliedSeqs.length + SECTION_COUNT_SIZE;
  const parts = splitSections(sections, fixed, budget);
  parts.forEach((s, p) => d.sendNew({ kind: "RT_OUTPUT", step, ...cost, appliedSeqs: p === 0 ? appliedSeqs : [], sections: s }));
}
