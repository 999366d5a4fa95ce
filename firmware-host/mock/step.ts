/**
 * The mock board's lockstep steps: STEP parts, rewards, running a step and the spike sections of
 * STEP_RESULT and RT_OUTPUT split into frames; the twin of firmware/src/ps_device_step.c.
 */
import { PicospikeError } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import { SECTION_COUNT_SIZE } from "../wire/codec.js";
import { CRC_SIZE, HEADER_SIZE } from "../wire/frame.js";
import { MAX_PENDING_REWARDS, PREFIX_SIZE, type Message, type SpikeSection } from "../wire/messages.js";
import { hasCost, type MockDevice, Nack, nackCode, nextStep } from "./state.js";

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Splits spike sections into STEP_RESULT / RT_OUTPUT parts so each fits `budget` payload bytes after
 * a fixed header of `fixed` bytes (section_count included). A layer that does not fit continues in
 * the next part with its indices restarting absolute (spec §3.2 STEP_RESULT).
 */
export function splitSections(sections: readonly SpikeSection[], fixed: number, budget: number): SpikeSection[][] {
  const parts: SpikeSection[][] = [];
  let current: SpikeSection[] = [];
  let used = fixed;
  const close = (): void => {
    parts.push(current);
    current = [];
    used = fixed;
  };
  for (const s of sections) {
    let k = 0;
    do {
      // section header: layer u8 + count varint (at most 3 bytes for counts < 2^21)
      if (used + 1 + 3 + (s.indices.length > k ? varintSize(s.indices[k]!) : 0) > budget && current.length > 0) close();
      let size = used + 1 + 3;
      let end = k;
      let prev = -1;
      while (end < s.indices.length) {
        const idx = s.indices[end]!;
        const add = varintSize(end === k ? idx : idx - prev - 1);
        if (size + add > budget) break;
        size += add;
        prev = idx;
        end++;
      }
      if (end === k && s.indices.length > 0) {
        if (current.length === 0) throw new PicospikeError("PROTOCOL_BAD_PAYLOAD", "frame too small for one spike");
        close();
        continue;
      }
      current.push({ layer: s.layer, indices: s.indices.slice(k, end) });
      used = size;
      k = end;
      if (k < s.indices.length) close();
    } while (k < s.indices.length);
  }
  if (current.length > 0 || parts.length === 0) parts.push(current);
  return parts;
}

/** STEP: buffers a part with MORE (ACK), or runs the step and answers its STEP_RESULT parts (spec §3.2, §5.2). */
export function lockstep(d: MockDevice, msg: Extract<Message, { kind: "STEP" }>, seq: number): Message[] {
  const interp = d.interp;
  const table = d.table;
  if (!interp || !table) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
  if (d.rt) throw new Nack(nackCode("PROTOCOL_BUSY"));
  if (msg.step !== interp.t) throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"), interp.t);
  const part = d.partial && d.partial.step === msg.step ? d.partial : { step: msg.step, indices: [], values: undefined };
  const { indices, values } = msg.events;
  if (part.indices.length + indices.length > d.maxInputEvents) {
    d.partial = undefined;
    throw new Nack(nackCode("PROTOCOL_BUSY"), d.maxInputEvents);
  }
  const lastIndex = part.indices.length > 0 ? part.indices[part.indices.length - 1]! : -1;
  if (indices.length > 0 && indices[0]! <= lastIndex) {
    d.partial = undefined;
    throw new Nack(nackCode("PROTOCOL_BAD_PAYLOAD"));
  }
  for (let k = 0; k < indices.length; k++) {
    if (indices[k]! >= table.input.size) {
      d.partial = undefined;
      throw new Nack(nackCode("SEMANTICS_BAD_INPUT"), indices[k]!);
    }
  }
  // Values: a part without values carries 1s; once any part has values every event gets one.
  if (values !== undefined && part.values === undefined) part.values = part.indices.map(() => 1);
  for (let k = 0; k < indices.length; k++) {
    part.indices.push(indices[k]!);
    if (part.values) part.values.push(values ? values[k]! : 1);
  }
  if (msg.more) {
    d.partial = part;
    return [{ kind: "ACK", replyTo: seq, info: part.indices.length }];
  }
  d.partial = undefined;
  const events: StepEvents = part.values
    ? { indices: Uint32Array.from(part.indices), values: Uint8Array.from(part.values) }
    : { indices: Uint32Array.from(part.indices) };
  const step = interp.t;
  runStep(d, events);
  const sections = reported(d, msg.reportMask);
  // A device without COST runs a STEP with COST and omits the cost (spec §5.9); with it, every part carries it.
  const cost = msg.wantCost && hasCost(d) ? { cost: d.lastCost } : {};
  // STEP_RESULT fixed part: reply_to, step, flags, part, [cost u32], section_count.
  const fixed = PREFIX_SIZE.STEP_RESULT + (msg.wantCost && hasCost(d) ? 4 : 0) + SECTION_COUNT_SIZE;
  const parts = splitSections(sections, fixed, d.maxFrame - HEADER_SIZE - CRC_SIZE);
  return parts.map((s, p) => ({ kind: "STEP_RESULT", replyTo: seq, step, more: p < parts.length - 1, part: p, ...cost, sections: s }));
}

/** Applies due rewards, runs one step (measuring its cost with COST), applies injected faults; returns the rewards applied. */
export function runStep(d: MockDevice, events: StepEvents): number {
  const interp = d.interp!;
  const step = interp.t;
  // Rewards due at this step act at its start (spec/ops.md §11.3): aimed at this step, they add (sat16)
  const due = d.pendingRewards.filter((r) => r.step <= step);
  d.pendingRewards = d.pendingRewards.filter((r) => r.step > step);
  for (const r of due) interp.reward(r.reward, step);
  const start = d.clock.nowUs();
  interp.step(events);
  if (hasCost(d)) {
    d.lastCost = Math.max(0, d.clock.nowUs() - start);
    d.maxCost = Math.max(d.maxCost, d.lastCost);
  }
  d.counters.steps++;
  const flip = d.faults.flipMembraneBit;
  if (flip && flip.afterStep === step) {
    const v = interp.membrane(flip.layer);
    v[flip.neuron] = v[flip.neuron]! ^ (1 << flip.bit);
  }
  const flipWeight = d.faults.flipWeightBit;
  if (flipWeight && flipWeight.afterStep === step) {
    const w = interp.weights(flipWeight.layer);
    w[flipWeight.synapse] = w[flipWeight.synapse]! ^ (1 << flipWeight.bit);
  }
  return due.length;
}

/** The last step's spikes of the layers in `mask` (layers ≥ 32 cannot be reported), non-empty sections only. */
export function reported(d: MockDevice, mask: number): SpikeSection[] {
  const interp = d.interp!;
  const sections: SpikeSection[] = [];
  for (let l = 0; l < Math.min(32, interp.layerCount); l++) {
    if (!((mask >>> l) & 1)) continue;
    const spikes = interp.lastSpikes(l);
    if (spikes.length > 0) sections.push({ layer: l, indices: spikes.slice() });
  }
  return sections;
}

/** REWARD: queued for the start of its step, or of the next step if it has passed (spec §5.7); ACK info = that step. */
export function queueReward(d: MockDevice, msg: Extract<Message, { kind: "REWARD" }>): number {
  if (!d.interp) throw new Nack(nackCode("PROTOCOL_MODEL_MISMATCH"));
  if (d.pendingRewards.length >= MAX_PENDING_REWARDS) throw new Nack(nackCode("PROTOCOL_BUSY"), d.pendingRewards.length);
  const at = Math.max(msg.targetStep, nextStep(d));
  d.pendingRewards.push({ step: at, reward: msg.reward });
  return at;
}
