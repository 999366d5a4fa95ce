/**
 * A fault-injecting Transport (spec/protocol.md "Fault injection (testing)"): wraps any Transport
 * and damages the byte stream in each direction the way real serial links do — dropped bytes,
 * flipped bits, duplicated, reordered, truncated and delayed frames — and can reset the device
 * (through a hook the test or mock supplies) and make the port vanish and come back. Every
 * decision comes from a seeded xorshift32 per direction, so a given seed and the same writes give
 * the same faults; every injected fault is counted.
 */
import { PicospikeError } from "../../runtime/errors.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { MAX_ENCODED } from "../wire/cobs.js";
import type { Transport } from "./transport.js";

/** Fault rates and timing of one direction of the link. */
export interface DirectionFaults {
  /** Probability per byte of flipping one of its bits (the delimiter included). */
  readonly corrupt: number;
  /** Probability per byte of losing it (the delimiter included: two frames then merge). */
  readonly drop: number;
  /** Probability per frame of delivering it twice. */
  readonly dup: number;
  /** Probability per frame of holding it back until after the next frame. */
  readonly reorder: number;
  /** Probability per frame of cutting it short at a random byte (its delimiter is kept). */
  readonly truncate: number;
  /** Largest extra latency per frame in ms: each frame waits a uniform 0..delayMs; order is kept. */
  readonly delayMs: number;
}

/** A port outage: after `atFrame` host→device frames the port is gone for `forMs` ms. */
export interface UnplugEvent {
  readonly atFrame: number;
  readonly forMs: number;
}

/** Everything a FaultyTransport injects. */
export interface FaultSpec {
  /** Seed of the fault PRNGs, 1..2^32−1. */
  readonly seed: number;
  /** Faults on bytes the host writes (host → device). */
  readonly hostToDevice: DirectionFaults;
  /** Faults on bytes the host receives (device → host). */
  readonly deviceToHost: DirectionFaults;
  /** Device resets after these host→device frame counts (ascending). */
  readonly resetAt: readonly number[];
  /** A device reset every this many host→device frames; 0: none. */
  readonly resetEvery: number;
  /** Port outages, by host→device frame count (ascending). */
  readonly unplug: readonly UnplugEvent[];
}

/** A direction without faults. */
export const NO_DIRECTION_FAULTS: DirectionFaults = { corrupt: 0, drop: 0, dup: 0, reorder: 0, truncate: 0, delayMs: 0 };

/** Seed used when a spec gives none. */
export const DEFAULT_FAULT_SEED = 1;

/** Longest a reordered frame is held when no next frame comes, in ms (then it is released alone). */
export const DEFAULT_REORDER_HOLD_MS = 20;

/** Longest delay a spec may ask for, in ms. */
export const MAX_FAULT_DELAY_MS = 60_000;

/** Builds a full FaultSpec: `both` applies to each direction, then the per-direction fields override it. */
export function makeFaultSpec(
  parts: {
    readonly seed?: number;
    readonly both?: Partial<DirectionFaults>;
    readonly hostToDevice?: Partial<DirectionFaults>;
    readonly deviceToHost?: Partial<DirectionFaults>;
    readonly resetAt?: readonly number[];
    readonly resetEvery?: number;
    readonly unplug?: readonly UnplugEvent[];
  } = {},
): FaultSpec {
  const spec: FaultSpec = {
    seed: parts.seed ?? DEFAULT_FAULT_SEED,
    hostToDevice: { ...NO_DIRECTION_FAULTS, ...parts.both, ...parts.hostToDevice },
    deviceToHost: { ...NO_DIRECTION_FAULTS, ...parts.both, ...parts.deviceToHost },
    resetAt: [...(parts.resetAt ?? [])].sort((a, b) => a - b),
    resetEvery: parts.resetEvery ?? 0,
    unplug: [...(parts.unplug ?? [])].sort((a, b) => a.atFrame - b.atFrame),
  };
  const problem = faultSpecProblem(spec);
  if (problem !== undefined) throw new PicospikeError("SEMANTICS_BAD_INPUT", `fault spec: ${problem}`);
  return spec;
}

/** What is wrong with a spec, or undefined. */
function faultSpecProblem(spec: FaultSpec): string | undefined {
  if (!Number.isInteger(spec.seed) || spec.seed < 1 || spec.seed > 0xffffffff) return `seed must be an integer in 1..4294967295, got ${spec.seed}`;
  for (const [dir, f] of [
    ["h2d", spec.hostToDevice],
    ["d2h", spec.deviceToHost],
  ] as const) {
    for (const key of ["corrupt", "drop", "dup", "reorder", "truncate"] as const) {
      const p = f[key];
      if (!Number.isFinite(p) || p < 0 || p > 1) return `${dir}.${key} must be a probability in 0..1, got ${p}`;
    }
    if (!Number.isInteger(f.delayMs) || f.delayMs < 0 || f.delayMs > MAX_FAULT_DELAY_MS)
      return `${dir}.delay must be 0..${MAX_FAULT_DELAY_MS} ms, got ${f.delayMs}`;
  }
  for (const n of spec.resetAt) if (!Number.isInteger(n) || n < 1) return `reset frame counts must be integers ≥ 1, got ${n}`;
  if (!Number.isInteger(spec.resetEvery) || spec.resetEvery < 0) return `reset=every needs an integer ≥ 1, got ${spec.resetEvery}`;
  for (const u of spec.unplug) {
    if (!Number.isInteger(u.atFrame) || u.atFrame < 1) return `unplug frame counts must be integers ≥ 1, got ${u.atFrame}`;
    if (!Number.isInteger(u.forMs) || u.forMs < 1 || u.forMs > MAX_FAULT_DELAY_MS)
      return `unplug durations must be 1..${MAX_FAULT_DELAY_MS} ms, got ${u.forMs}`;
  }
  return undefined;
}

// ---- the CLI form ----------------------------------------------------------------------------

const INJECT_EXAMPLE = "corrupt=0.01,drop=0.01,dup=0.001,reorder=0.001,delay=5ms,reset=at:5000,seed=7";
const RATE_KEYS = ["corrupt", "drop", "dup", "reorder", "truncate"] as const;

function usage(item: string, problem: string): PicospikeError {
  return new PicospikeError("CLI_USAGE", `--inject: ${problem} in "${item}" (expected e.g. ${INJECT_EXAMPLE})`, { item });
}

/** A probability: a decimal in 0..1, or a percentage such as 1%. */
function parseRate(item: string, text: string): number {
  const percent = text.endsWith("%");
  const body = percent ? text.slice(0, -1) : text;
  if (!/^(\d+(\.\d*)?|\.\d+)(e-?\d+)?$/i.test(body)) throw usage(item, `"${text}" is not a probability`);
  const value = Number(body) / (percent ? 100 : 1);
  if (!(value >= 0 && value <= 1)) throw usage(item, `probability ${text} is outside 0..1`);
  return value;
}

/** A duration in whole ms: `5ms`, `2s`, or a bare number of ms. */
function parseDuration(item: string, text: string): number {
  const m = /^(\d+)(ms|s)?$/.exec(text);
  if (!m) throw usage(item, `"${text}" is not a duration (use e.g. 5ms or 2s)`);
  const ms = Number(m[1]) * (m[2] === "s" ? 1000 : 1);
  if (ms > MAX_FAULT_DELAY_MS) throw usage(item, `duration ${text} is over ${MAX_FAULT_DELAY_MS / 1000} s`);
  return ms;
}

/** A frame count ≥ 1. */
function parseCount(item: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > Number.MAX_SAFE_INTEGER) throw usage(item, `"${text}" is not a frame count ≥ 1`);
  return Number(text);
}

/**
 * Parses the CLI form of a fault spec (spec/protocol.md "Fault injection (testing)"):
 * comma-separated `key=value` items — `corrupt`, `drop`, `dup`, `reorder`, `truncate` (probabilities,
 * `0.01` or `1%`), `delay` (`5ms`), each for both directions or prefixed `h2d.` / `d2h.` for one;
 * `reset=at:N` (repeatable) or `reset=every:N`; `unplug=at:N:DURATION` (repeatable); `seed=S`.
 * Throws CLI_USAGE with the offending item.
 */
export function parseInjectSpec(text: string): FaultSpec {
  const both: Partial<Record<keyof DirectionFaults, number>> = {};
  const perDir = { h2d: {} as Partial<Record<keyof DirectionFaults, number>>, d2h: {} as Partial<Record<keyof DirectionFaults, number>> };
  const seen = new Set<string>();
  const resetAt: number[] = [];
  const unplug: UnplugEvent[] = [];
  let resetEvery = 0;
  let seed = DEFAULT_FAULT_SEED;
  const items = text.split(",").map((s) => s.trim());
  if (text.trim() === "") throw usage(text, "empty fault spec");
  for (const item of items) {
    if (item === "") throw usage(text, "empty item (two commas in a row, or a trailing comma)");
    const eq = item.indexOf("=");
    if (eq <= 0) throw usage(item, "expected key=value");
    const key = item.slice(0, eq).trim().toLowerCase();
    const value = item.slice(eq + 1).trim();
    if (value === "") throw usage(item, `no value for ${key}`);
    const repeatable = key === "reset" || key === "unplug";
    if (!repeatable) {
      if (seen.has(key)) throw usage(item, `${key} is given twice`);
      seen.add(key);
    }
    const dot = key.indexOf(".");
    const dirName = dot > 0 ? key.slice(0, dot) : undefined;
    const field = dot > 0 ? key.slice(dot + 1) : key;
    if (dirName !== undefined && dirName !== "h2d" && dirName !== "d2h") throw usage(item, `unknown direction "${dirName}" (use h2d or d2h)`);
    const target = dirName === undefined ? both : perDir[dirName];
    if ((RATE_KEYS as readonly string[]).includes(field)) {
      target[field as (typeof RATE_KEYS)[number]] = parseRate(item, value);
    } else if (field === "delay") {
      target.delayMs = parseDuration(item, value);
    } else if (dirName !== undefined) {
      throw usage(item, `${field} cannot be given per direction`);
    } else if (key === "seed") {
      const n = /^0x[0-9a-f]+$/i.test(value) ? parseInt(value.slice(2), 16) : /^\d+$/.test(value) ? Number(value) : NaN;
      if (!(n >= 1 && n <= 0xffffffff)) throw usage(item, `seed must be an integer in 1..4294967295`);
      seed = n;
    } else if (key === "reset") {
      const m = /^(at|every):(.+)$/.exec(value);
      if (!m) throw usage(item, "reset takes at:N or every:N (N = host→device frames)");
      if (m[1] === "at") resetAt.push(parseCount(item, m[2]!));
      else if (resetEvery !== 0) throw usage(item, "reset=every is given twice");
      else resetEvery = parseCount(item, m[2]!);
    } else if (key === "unplug") {
      const m = /^at:(\d+):(.+)$/.exec(value);
      if (!m) throw usage(item, "unplug takes at:N:DURATION, e.g. unplug=at:3000:500ms");
      const forMs = parseDuration(item, m[2]!);
      if (forMs < 1) throw usage(item, "an unplug lasts at least 1 ms");
      unplug.push({ atFrame: parseCount(item, m[1]!), forMs });
    } else {
      throw usage(item, `unknown key "${key}" (known: ${[...RATE_KEYS, "delay", "reset", "unplug", "seed"].join(", ")})`);
    }
  }
  return makeFaultSpec({ seed, both, hostToDevice: perDir.h2d, deviceToHost: perDir.d2h, resetAt, resetEvery, unplug });
}

// ---- counters --------------------------------------------------------------------------------

/** What the injector did to one direction. */
export interface DirectionFaultCounters {
  /** Frames (non-empty 0x00-terminated units) that entered the injector. */
  frames: number;
  bytes: number;
  bytesDropped: number;
  bitsFlipped: number;
  /** Frames with at least one byte dropped or flipped, or truncated: the ones the receiver must reject. */
  framesDamaged: number;
  framesTruncated: number;
  /** Extra copies delivered. */
  framesDuplicated: number;
  framesReordered: number;
  /** Frames given a non-zero delay. */
  framesDelayed: number;
  /** Bytes discarded because the port was unplugged (in flight, or arriving while it was gone). */
  bytesLostUnplugged: number;
}

/** Every counter of a FaultyTransport. */
export interface FaultCounters {
  readonly hostToDevice: DirectionFaultCounters;
  readonly deviceToHost: DirectionFaultCounters;
  /** Device resets requested through the hook. */
  resets: number;
  /** Port outages begun. */
  unplugs: number;
  /** Writes refused with DEVICE_DISCONNECTED while the port was gone. */
  writesRefused: number;
}

const zeroDirectionCounters = (): DirectionFaultCounters => ({
  frames: 0,
  bytes: 0,
  bytesDropped: 0,
  bitsFlipped: 0,
  framesDamaged: 0,
  framesTruncated: 0,
  framesDuplicated: 0,
  framesReordered: 0,
  framesDelayed: 0,
  bytesLostUnplugged: 0,
});

// ---- one direction ---------------------------------------------------------------------------

/** Longest unit (bytes up to a 0x00) the lane buffers before passing it on undelimited. */
const UNIT_CAP = MAX_ENCODED + 1;

/** Probability → threshold on a uint32 draw (p = 1 always fires, p = 0 never). */
const threshold = (p: number): number => (p >= 1 ? 0x1_0000_0000 : Math.floor(p * 0x1_0000_0000));

/** One direction: splits the stream into frames, damages them, and delivers them in order with delays. */
class FaultLane {
  readonly counters = zeroDirectionCounters();
  enabled = true;
  private readonly rng: Xorshift32;
  private readonly corruptAt: number;
  private readonly dropAt: number;
  private readonly dupAt: number;
  private readonly reorderAt: number;
  private readonly truncateAt: number;
  private partial: number[] = [];
  private held: Uint8Array[] | undefined;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly queue: Array<{ due: number; bytes: Uint8Array }> = [];
  private queueTimer: ReturnType<typeof setTimeout> | undefined;
  private lastDue = 0;

  constructor(
    private readonly faults: DirectionFaults,
    seed: number,
    private readonly holdMs: number,
    private readonly deliver: (bytes: Uint8Array) => void,
    private readonly onFrame: () => void,
  ) {
    this.rng = new Xorshift32(seed);
    this.corruptAt = threshold(faults.corrupt);
    this.dropAt = threshold(faults.drop);
    this.dupAt = threshold(faults.dup);
    this.reorderAt = threshold(faults.reorder);
    this.truncateAt = threshold(faults.truncate);
  }

  push(bytes: Uint8Array): void {
    for (const b of bytes) {
      this.partial.push(b);
      if (b === 0 || this.partial.length >= UNIT_CAP) {
        const unit = Uint8Array.from(this.partial);
        this.partial = [];
        this.unit(unit);
      }
    }
  }

  /** Delivers everything held or delayed now, in order (tests; the end of a run). */
  release(): void {
    this.releaseHeld();
    if (this.queueTimer !== undefined) clearTimeout(this.queueTimer);
    this.queueTimer = undefined;
    for (const item of this.queue.splice(0)) this.deliver(item.bytes);
  }

  /** The port vanished: whatever is buffered, held or in flight is lost. */
  discard(): void {
    let lost = this.partial.length;
    this.partial = [];
    for (const unit of this.held ?? []) lost += unit.length;
    this.held = undefined;
    for (const item of this.queue.splice(0)) lost += item.bytes.length;
    this.counters.bytesLostUnplugged += lost;
    this.stopTimers();
  }

  stopTimers(): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    if (this.queueTimer !== undefined) clearTimeout(this.queueTimer);
    this.holdTimer = undefined;
    this.queueTimer = undefined;
  }

  private fires(at: number): boolean {
    return at > 0 && this.rng.next() < at;
  }

  private unit(unit: Uint8Array): void {
    const isFrame = unit.length > 1 || unit[0] !== 0;
    if (isFrame) this.counters.frames++;
    this.counters.bytes += unit.length;
    if (!this.enabled) {
      this.schedule(unit);
      this.releaseHeld(); // a frame held before faults were switched off still comes after this one
    } else {
      const out = this.damage(unit, isFrame);
      const copies = isFrame && this.fires(this.dupAt) ? 2 : 1;
      if (copies === 2) this.counters.framesDuplicated++;
      const units = copies === 2 ? [out, out] : [out];
      if (isFrame && this.held === undefined && this.fires(this.reorderAt)) {
        this.counters.framesReordered++;
        this.held = units;
        this.holdTimer = setTimeout(() => this.releaseHeld(), this.holdMs);
      } else {
        for (const u of units) this.schedule(u);
        this.releaseHeld();
      }
    }
    if (isFrame) this.onFrame();
  }

  /** Truncation, then per-byte drops and bit flips. */
  private damage(unit: Uint8Array, isFrame: boolean): Uint8Array {
    let bytes = unit;
    let damaged = false;
    if (isFrame && unit.length > 2 && this.fires(this.truncateAt)) {
      // Keep 1..len−2 content bytes and the delimiter (or the cut-off end of an undelimited unit).
      const keep = 1 + (this.rng.next() % (unit.length - 2));
      const last = unit[unit.length - 1]!;
      bytes = Uint8Array.from([...unit.subarray(0, keep), last]);
      this.counters.framesTruncated++;
      damaged = true;
    }
    if (this.dropAt > 0 || this.corruptAt > 0) {
      const out: number[] = [];
      for (const b of bytes) {
        if (this.fires(this.dropAt)) {
          this.counters.bytesDropped++;
          damaged = true;
          continue;
        }
        if (this.fires(this.corruptAt)) {
          out.push(b ^ (1 << (this.rng.next() & 7)));
          this.counters.bitsFlipped++;
          damaged = true;
          continue;
        }
        out.push(b);
      }
      if (damaged) bytes = Uint8Array.from(out);
    }
    if (damaged && isFrame) this.counters.framesDamaged++;
    return bytes;
  }

  private releaseHeld(): void {
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    const held = this.held;
    this.held = undefined;
    for (const u of held ?? []) this.schedule(u);
  }

  /** Hands a unit on after its delay, never before a unit scheduled earlier. */
  private schedule(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const delay = this.enabled && this.faults.delayMs > 0 ? this.rng.next() % (this.faults.delayMs + 1) : 0;
    if (delay > 0) this.counters.framesDelayed++;
    if (delay === 0 && this.queue.length === 0) {
      this.deliver(bytes);
      return;
    }
    const due = Math.max(Date.now() + delay, this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, bytes });
    this.arm();
  }

  private arm(): void {
    if (this.queueTimer !== undefined) return;
    const head = this.queue[0];
    if (head === undefined) return;
    this.queueTimer = setTimeout(
      () => {
        this.queueTimer = undefined;
        const now = Date.now();
        while (this.queue.length > 0 && this.queue[0]!.due <= now) this.deliver(this.queue.shift()!.bytes);
        this.arm();
      },
      Math.max(0, head.due - Date.now()),
    );
  }
}

// ---- the transport ---------------------------------------------------------------------------

/** Options of a FaultyTransport besides its spec. */
export interface FaultyTransportOptions {
  /** Longest a reordered frame waits for a next frame, in ms. Default DEFAULT_REORDER_HOLD_MS. */
  readonly reorderHoldMs?: number;
}

/** Derives the device→host seed from the spec seed (a different, nonzero stream). */
function otherSeed(seed: number): number {
  return (seed ^ 0x9e3779b9) >>> 0 || 0x9e3779b9;
}

/**
 * Wraps the host's end of a link. Bytes written go through the host→device faults, bytes received
 * through the device→host ones. Frames are the units between 0x00 delimiters (a partial frame is held
 * until its delimiter). Reset and unplug triggers count frames the host writes, whether or not faults
 * damage them.
 */
export class FaultyTransport implements Transport {
  /** Live counters of every injected fault. */
  readonly counters: FaultCounters;
  private readonly h2d: FaultLane;
  private readonly d2h: FaultLane;
  private readonly dataListeners = new Set<(bytes: Uint8Array) => void>();
  private readonly resetListeners = new Set<(atFrame: number) => void>();
  private readonly portListeners = new Set<(present: boolean) => void>();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly unplugs: UnplugEvent[];
  private readonly resets: number[];
  private present = true;
  private replugTimer: ReturnType<typeof setTimeout> | undefined;
  private writes: Array<Promise<void>> = [];
  private faultsOn = true;

  constructor(
    private readonly inner: Transport,
    readonly spec: FaultSpec,
    options: FaultyTransportOptions = {},
  ) {
    const problem = faultSpecProblem(spec);
    if (problem !== undefined) throw new PicospikeError("SEMANTICS_BAD_INPUT", `fault spec: ${problem}`);
    const holdMs = options.reorderHoldMs ?? DEFAULT_REORDER_HOLD_MS;
    this.h2d = new FaultLane(
      spec.hostToDevice,
      spec.seed,
      holdMs,
      (bytes) => this.writeInner(bytes),
      () => this.hostFrame(),
    );
    this.d2h = new FaultLane(
      spec.deviceToHost,
      otherSeed(spec.seed),
      holdMs,
      (bytes) => this.emit(bytes),
      () => undefined,
    );
    this.counters = { hostToDevice: this.h2d.counters, deviceToHost: this.d2h.counters, resets: 0, unplugs: 0, writesRefused: 0 };
    this.unplugs = [...spec.unplug];
    this.resets = [...spec.resetAt];
    this.unsubscribe.push(inner.onData((bytes) => this.receive(bytes)));
    this.unsubscribe.push(inner.onClose(() => this.stop()));
  }

  /** False after close. (While unplugged the transport stays open: see `portPresent`.) */
  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  /** False while an injected outage lasts. */
  get portPresent(): boolean {
    return this.present;
  }

  /** Whether faults are injected; when false bytes pass unchanged and no trigger fires (frames are still counted). */
  get faultsEnabled(): boolean {
    return this.faultsOn;
  }

  set faultsEnabled(on: boolean) {
    this.faultsOn = on;
    this.h2d.enabled = on;
    this.d2h.enabled = on;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.inner.isOpen) throw new PicospikeError("DEVICE_DISCONNECTED", "write on a closed transport");
    if (!this.present) {
      this.counters.writesRefused++;
      throw new PicospikeError("DEVICE_DISCONNECTED", "the port is gone (injected unplug)");
    }
    const writes: Array<Promise<void>> = [];
    this.writes = writes;
    this.h2d.push(bytes);
    this.writes = [];
    await Promise.all(writes);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    return this.inner.onClose(listener);
  }

  /** Registers the device-reset hook: called with the host→device frame count when a reset is due. */
  onDeviceReset(listener: (atFrame: number) => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  /** Registers a listener for the port vanishing (false) and coming back (true). */
  onPortChange(listener: (present: boolean) => void): () => void {
    this.portListeners.add(listener);
    return () => this.portListeners.delete(listener);
  }

  /** Makes the port vanish for `forMs` ms now: writes fail, received bytes and bytes in flight are lost. */
  unplug(forMs: number): void {
    if (this.replugTimer !== undefined) clearTimeout(this.replugTimer);
    if (this.present) {
      this.present = false;
      this.counters.unplugs++;
      this.h2d.discard();
      this.d2h.discard();
      for (const l of [...this.portListeners]) l(false);
    }
    this.replugTimer = setTimeout(() => this.replug(), forMs);
  }

  /** Brings the port back now (ends an outage early). */
  replug(): void {
    if (this.replugTimer !== undefined) clearTimeout(this.replugTimer);
    this.replugTimer = undefined;
    if (this.present) return;
    this.present = true;
    for (const l of [...this.portListeners]) l(true);
  }

  /** Delivers every held or delayed frame now, in order, in both directions. */
  release(): void {
    this.h2d.release();
    this.d2h.release();
  }

  /** A plain copy of the counters (for JSON reports). */
  snapshot(): { hostToDevice: DirectionFaultCounters; deviceToHost: DirectionFaultCounters; resets: number; unplugs: number; writesRefused: number } {
    return {
      hostToDevice: { ...this.counters.hostToDevice },
      deviceToHost: { ...this.counters.deviceToHost },
      resets: this.counters.resets,
      unplugs: this.counters.unplugs,
      writesRefused: this.counters.writesRefused,
    };
  }

  async close(): Promise<void> {
    this.stop();
    await this.inner.close();
  }

  // ---- internals ------------------------------------------------------------------------------

  private stop(): void {
    this.h2d.stopTimers();
    this.d2h.stopTimers();
    if (this.replugTimer !== undefined) clearTimeout(this.replugTimer);
    this.replugTimer = undefined;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private receive(bytes: Uint8Array): void {
    if (!this.present) {
      this.counters.deviceToHost.bytesLostUnplugged += bytes.length;
      return;
    }
    this.d2h.push(bytes);
  }

  private emit(bytes: Uint8Array): void {
    for (const l of [...this.dataListeners]) l(bytes);
  }

  private writeInner(bytes: Uint8Array): void {
    if (!this.present || !this.inner.isOpen) {
      this.counters.hostToDevice.bytesLostUnplugged += bytes.length;
      return;
    }
    const p = this.inner.write(bytes);
    // A delayed frame has no writer waiting for it: its failure only means it was lost.
    p.catch(() => undefined);
    this.writes.push(p);
  }

  /** Counts a host→device frame and fires the reset and unplug triggers it reaches. */
  private hostFrame(): void {
    const n = this.h2d.counters.frames;
    if (!this.faultsOn) {
      while (this.resets.length > 0 && this.resets[0]! <= n) this.resets.shift();
      while (this.unplugs.length > 0 && this.unplugs[0]!.atFrame <= n) this.unplugs.shift();
      return;
    }
    let reset = false;
    while (this.resets.length > 0 && this.resets[0]! <= n) {
      this.resets.shift();
      reset = true;
    }
    if (this.spec.resetEvery > 0 && n % this.spec.resetEvery === 0) reset = true;
    if (reset) {
      this.counters.resets++;
      for (const l of [...this.resetListeners]) l(n);
    }
    while (this.unplugs.length > 0 && this.unplugs[0]!.atFrame <= n) this.unplug(this.unplugs.shift()!.forMs);
  }
}
