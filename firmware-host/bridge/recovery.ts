/**
 * Recovery in the bridge (spec/protocol.md §4.6): a SessionGuard that keeps a replay log of the
 * lockstep operations since the last restore point and, when the device resets, the link stays
 * silent past its retries or the port goes away, waits for the port (bounded backoff), repeats the
 * handshake, re-uploads the model the run needs if the device lost it, restores the learned weights
 * of the last checkpoint and replays the log, then retries the failed operation. Lockstep results
 * stay bit-exact: the device is deterministic and its state after the replay is the state it had.
 *
 * Restore points. Without plasticity a RESET_STATE is one (the state after it depends on the model
 * only), so the log never holds more than the current sample. With plasticity the learned weights
 * outlive a reset, so the guard takes a checkpoint: before a RESET_STATE 0, once
 * `checkpointEverySteps` steps ran since the last one, it reads the learned weights back and keeps
 * the learned table (spec/ops.md §11.4); a run from that table after a reset is bit-identical to
 * the original run after that reset. Recovery uploads the checkpoint table when the device lacks
 * it, puts its weights back with RESET_STATE 1, and replays the log since.
 */
import { isPicospikeError, PicospikeError } from "../../runtime/errors.js";
import { decodeTable, encodeTable, tableHash } from "../../runtime/format.js";
import type { EventTable, Layer, Weights } from "../../runtime/model.js";
import { CAP, STATE_KIND } from "../wire/messages.js";
import type { BoardSession, SessionGuard, SessionOp } from "./session.js";
import { RECONNECT_FIRST_DELAY_MS, RECONNECT_MAX_DELAY_MS, RECONNECT_TOTAL_MS } from "../transports/reconnecting.js";

/** A learned-weights checkpoint: the table to restore and how many steps the run had made then. */
export interface Checkpoint {
  /** The learned table's `.cbor` bytes (the original table until the first checkpoint). */
  readonly tableBytes: Uint8Array;
  /** Its content hash (hex). */
  readonly hash: string;
  /** Lockstep steps run through the guard before the checkpoint. */
  readonly atStep: number;
}

/** What recovery did. */
export interface RecoveryCounters {
  /** Recoveries run (each: wait for the port, handshake, restore, replay). */
  recoveries: number;
  /** Of those, the ones where the device had reset (NACK 406, ERROR 507, its step or model gone). */
  resetsDetected: number;
  /** Handshakes that failed while waiting for the device or port to come back. */
  handshakeRetries: number;
  /** Model uploads made by recovery (the original or a checkpoint table). */
  reuploads: number;
  /** Operations and, of them, steps replayed. */
  replayedOps: number;
  replayedSteps: number;
  /** Learned-weights checkpoints taken. */
  checkpoints: number;
  /** Recoveries by cause: the error code, and for a timeout the request that ran out of attempts (e.g. "PROTOCOL_TIMEOUT READ_STATE"). */
  causes: Record<string, number>;
}

/** Options of LockstepRecovery. */
export interface RecoveryOptions {
  /** The model the run needs (`.cbor` bytes). */
  readonly tableBytes: Uint8Array;
  /** Called before each handshake attempt: waits until the port is back (e.g. ReconnectingTransport.whenPresent). */
  readonly reconnect?: () => Promise<void>;
  /** Longest wait for the device to answer a handshake again, in ms. Default RECONNECT_TOTAL_MS. */
  readonly reconnectMs?: number;
  /** Failed recoveries in a row on one operation before its error is passed on. Default 6. */
  readonly maxConsecutive?: number;
  /** Plastic models: steps between learned-weights checkpoints (taken at the next RESET_STATE 0). Default 1000. */
  readonly checkpointEverySteps?: number;
  /** Called with every new checkpoint (to persist it). */
  readonly onCheckpoint?: (checkpoint: Checkpoint) => void;
  /** Sleep, injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Errors after which the device may still be there: recovery applies (spec §4.6). */
function recoverable(e: unknown): boolean {
  if (!(e instanceof PicospikeError) || e.detail?.["final"] === true) return false;
  switch (e.code) {
    case "PROTOCOL_TIMEOUT":
    case "PROTOCOL_HANDSHAKE_FAILED":
    case "DEVICE_DISCONNECTED":
    case "DEVICE_RESET":
      return true;
    case "PROTOCOL_BAD_PAYLOAD":
    case "PROTOCOL_MODEL_MISMATCH":
      // A NACK 408 to a STEP (step number the device does not expect) or 407 (model gone): state lost.
      return typeof e.detail?.["nack"] === "number";
    default:
      return false;
  }
}

/** True when the error says the device rebooted. */
function saysReset(e: unknown): boolean {
  return isPicospikeError(e, "DEVICE_RESET") || (isPicospikeError(e, "PROTOCOL_HANDSHAKE_FAILED") && e.detail?.["nack"] === 406);
}

/** Weights of `like`'s width from READ_STATE WEIGHTS bytes (little-endian, int4 packed as stored). */
function weightsFromBytes(bytes: Uint8Array, like: Weights): Weights {
  const copy = bytes.slice();
  if (like.bits === 8) return { ...like, data: new Int8Array(copy.buffer) };
  if (like.bits === 4) return { ...like, data: copy };
  const view = new DataView(copy.buffer);
  return { ...like, data: Int16Array.from({ length: copy.length >> 1 }, (_, i) => view.getInt16(i * 2, true)) };
}

/** The guard: logs, checkpoints and recovers a session's lockstep operations. */
export class LockstepRecovery implements SessionGuard {
  /** What recovery did so far. */
  readonly counters: RecoveryCounters = {
    recoveries: 0,
    resetsDetected: 0,
    handshakeRetries: 0,
    reuploads: 0,
    replayedOps: 0,
    replayedSteps: 0,
    checkpoints: 0,
    causes: {},
  };
  private readonly table: EventTable;
  private readonly original: Checkpoint;
  private restore: Checkpoint;
  private readonly ops: SessionOp[] = [];
  private readonly plastic: boolean;
  private steps = 0;
  private stepsAtRestore = 0;
  private inside = false;
  private readonly sleep: (ms: number) => Promise<void>;

  private constructor(
    private readonly session: BoardSession,
    private readonly options: RecoveryOptions,
  ) {
    this.table = decodeTable(options.tableBytes);
    this.original = { tableBytes: options.tableBytes, hash: tableHash(options.tableBytes), atStep: 0 };
    this.restore = this.original;
    this.plastic = session.has(CAP.PLASTICITY) && this.table.layers.some((l) => l.plasticity !== undefined);
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Installs recovery on `session` (its lockstep operations go through it from now on). */
  static attach(session: BoardSession, options: RecoveryOptions): LockstepRecovery {
    const guard = new LockstepRecovery(session, options);
    session.setGuard(guard);
    return guard;
  }

  /** The restore point: the last checkpoint (the original table before the first). */
  get checkpoint(): Checkpoint {
    return this.restore;
  }

  /** The operations since the restore point, oldest first (a copy): replaying them on the checkpoint gives the device's state. */
  get log(): SessionOp[] {
    return [...this.ops];
  }

  /** Makes the device run the model, with recovery (a reset during the first upload starts it again); true when uploaded. */
  async ensureModel(): Promise<boolean> {
    return this.run({ kind: "read" }, async () => (await this.session.ensureModel(this.restore.tableBytes)).uploaded);
  }

  /** Runs one operation; on a recoverable failure recovers and retries it (bounded). */
  async run<T>(op: SessionOp, attempt: () => Promise<T>): Promise<T> {
    if (this.inside) return attempt();
    let failures = 0;
    for (;;) {
      try {
        if (this.session.resetDetected) throw new PicospikeError("DEVICE_RESET", "the device announced a reset (ERROR 507)");
        await this.before(op);
        const result = await attempt();
        this.record(op);
        return result;
      } catch (e) {
        let cause = e;
        // A recovery may itself be cut short (another reset during the re-upload): start it again.
        for (;;) {
          if (!recoverable(cause) || this.session.link.isClosed || ++failures > (this.options.maxConsecutive ?? 6)) throw cause;
          try {
            await this.recover(cause);
            break;
          } catch (again) {
            cause = again;
          }
        }
      }
    }
  }

  /** Checkpoint before a reset, and the original model back before a weight reset. */
  private async before(op: SessionOp): Promise<void> {
    if (!this.plastic || op.kind !== "reset") return;
    if (op.weights) {
      // RESET_STATE 1 means the model's own weights: the original table must be the one loaded.
      if (this.restore !== this.original) {
        await this.inner(async () => {
          if ((await this.session.ensureModel(this.original.tableBytes)).uploaded) this.counters.reuploads++;
        });
        this.restore = this.original;
      }
      this.ops.length = 0;
      this.stepsAtRestore = this.steps;
      return;
    }
    if (this.steps - this.stepsAtRestore >= (this.options.checkpointEverySteps ?? 1000)) await this.takeCheckpoint();
  }

  /** Reads the learned weights back and keeps the learned table as the restore point. */
  private async takeCheckpoint(): Promise<void> {
    const layers = await this.inner(async () => {
      const out: Layer[] = [];
      for (const [l, layer] of this.table.layers.entries()) {
        if (layer.plasticity === undefined || (layer.input.kind !== "dense" && layer.input.kind !== "sparse")) {
          out.push(layer);
          continue;
        }
        const bytes = await this.session.readState(STATE_KIND.WEIGHTS, l);
        out.push({ ...layer, input: { ...layer.input, weights: weightsFromBytes(bytes, layer.input.weights) } });
      }
      return out;
    });
    const tableBytes = encodeTable({ ...this.table, layers });
    this.restore = { tableBytes, hash: tableHash(tableBytes), atStep: this.steps };
    this.ops.length = 0;
    this.stepsAtRestore = this.steps;
    this.counters.checkpoints++;
    this.options.onCheckpoint?.(this.restore);
  }

  private record(op: SessionOp): void {
    if (op.kind === "read") return;
    if (op.kind === "step") this.steps++;
    // Without plasticity a reset is a restore point: nothing before it matters.
    if (op.kind === "reset" && !this.plastic) this.ops.length = 0;
    this.ops.push(op);
  }

  private async inner<T>(work: () => Promise<T>): Promise<T> {
    const was = this.inside;
    this.inside = true;
    try {
      return await work();
    } finally {
      this.inside = was;
    }
  }

  /** Port back, handshake, model and weights restored, log replayed (spec §4.6). */
  private async recover(cause: unknown): Promise<void> {
    this.counters.recoveries++;
    const kind = cause instanceof PicospikeError ? cause.detail?.["kind"] : undefined;
    const why = cause instanceof PicospikeError ? `${cause.code}${typeof kind === "string" ? ` ${kind}` : ""}` : "other";
    this.counters.causes[why] = (this.counters.causes[why] ?? 0) + 1;
    let reset = saysReset(cause) || this.session.resetDetected;
    const limit = this.options.reconnectMs ?? RECONNECT_TOTAL_MS;
    const deadline = performance.now() + limit;
    let delay = RECONNECT_FIRST_DELAY_MS;
    for (;;) {
      try {
        await this.options.reconnect?.();
        await this.session.rehandshake();
        break;
      } catch (e) {
        if (this.session.link.isClosed) throw e;
        this.counters.handshakeRetries++;
        if (performance.now() + delay > deadline) {
          const why = cause instanceof Error ? cause.message : String(cause);
          throw new PicospikeError("DEVICE_DISCONNECTED", `the device did not answer a new handshake within ${limit} ms (after: ${why})`, {
            recoveries: this.counters.recoveries,
            final: true,
          });
        }
        await this.sleep(delay);
        delay = Math.min(RECONNECT_MAX_DELAY_MS, delay * 2);
      }
    }
    if (this.session.modelHash !== this.restore.hash) reset = true;
    if (reset) this.counters.resetsDetected++;
    await this.inner(async () => {
      if ((await this.session.ensureModel(this.restore.tableBytes)).uploaded) this.counters.reuploads++;
      // The restore point's state: weights of the loaded (checkpoint) table, dynamic state zero.
      await this.session.resetState(this.plastic);
      for (const op of this.ops) {
        this.counters.replayedOps++;
        if (op.kind === "reset") await this.session.resetState(op.weights);
        else if (op.kind === "step") {
          await this.session.step(op.t, op.events, op.reportMask, op.wantCost);
          this.counters.replayedSteps++;
        } else if (op.kind === "reward") await this.session.reward(op.targetStep, op.reward);
      }
    });
  }
}
