/**
 * The mock board's state, in one object, and what its concern modules share: the twin of the C
 * device's ps_device_state_t (firmware/include/ps_device_internal.h). mock-board.ts receives,
 * dispatches and answers; step.ts, model.ts, realtime.ts and readback.ts hold the handlers, as
 * ps_device_{step,model,realtime,readback}.c do on the C side.
 */
import { ERROR_CODES, type ErrorCode } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import type { Interpreter } from "../../runtime/interpreter.js";
import type { EventTable } from "../../runtime/model.js";
import { COST_UNIT, type Message } from "../wire/messages.js";

/** A device clock for real-time mode: the mock's steps follow it. Injectable so tests control time. */
export interface DeviceClock {
  /** Current time in microseconds (monotonic). */
  nowUs(): number;
  /** Calls `tick` whenever time may have advanced by a step period; returns a function that stops it. */
  schedule(periodUs: number, tick: () => void): () => void;
}

/** Faults the mock can inject, so tests see what a broken device looks like. */
export interface MockFaults {
  /** After running step `afterStep` (device step number), flip bit `bit` of neuron `neuron`'s membrane in `layer`. */
  readonly flipMembraneBit?: { readonly layer: number; readonly neuron: number; readonly bit: number; readonly afterStep: number };
  /** After running step `afterStep`, flip bit `bit` (within the stored width) of a plastic layer's working weight `synapse` (stored order): a device that learned wrong. */
  readonly flipWeightBit?: { readonly layer: number; readonly synapse: number; readonly bit: number; readonly afterStep: number };
}

/** Device counters reported by STATS (spec §3.2). */
export interface DeviceCounters {
  steps: number;
  framesRx: number;
  framesTx: number;
  badFrame: number;
  badCrc: number;
  gaps: number;
  late: number;
  dropped: number;
}

/** Everything the mock device holds: its fixed facts, then its mutable state. */
export interface MockDevice {
  readonly maxFrame: number;
  readonly maxInputEvents: number;
  readonly uploadRam: number;
  readonly clock: DeviceClock;
  readonly faults: MockFaults;
  /** COST_UNIT; NONE: no COST capability. */
  readonly costUnit: number;
  /** Sends an unsolicited frame (real-time outputs) with a new sequence number. */
  readonly sendNew: (msg: Message) => void;

  readonly counters: DeviceCounters;
  lastCost: number;
  maxCost: number;

  compiledIn: { table: EventTable; hash: Uint8Array } | undefined;
  table: EventTable | undefined;
  interp: Interpreter | undefined;
  modelHash: Uint8Array;
  modelSource: number;
  upload: { total: number; sha: Uint8Array; bytes: Uint8Array; received: number } | undefined;

  /** Input events buffered by STEP parts with MORE. */
  partial: { step: number; indices: number[]; values: number[] | undefined } | undefined;
  pendingRewards: Array<{ step: number; reward: number }>;

  rt: { periodUs: number; reportMask: number; wantCost: boolean; nextDueUs: number; stop: () => void } | undefined;
  rtInputs: Array<{ seq: number; events: StepEvents }>;
  rtPendingEvents: number;
}

/** A NACK-able failure inside a request handler. */
export class Nack extends Error {
  constructor(
    readonly code: number,
    readonly detail = 0,
  ) {
    super(`NACK ${code}`);
  }
}

/** The number of an error code (NACK and ERROR carry numbers). */
export const nackCode = (code: ErrorCode): number => ERROR_CODES[code].num;

/** True when the device measures step costs (the COST capability). */
export function hasCost(d: MockDevice): boolean {
  return d.costUnit !== COST_UNIT.NONE;
}

/** The device's next step number (0 without a model). */
export function nextStep(d: MockDevice): number {
  return d.interp?.t ?? 0;
}
