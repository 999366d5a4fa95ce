/**
 * The live view's hub: a job pushes steps, divergences and trials into it (synchronously, O(1), never
 * waiting), and it feeds each connected page at a bounded rate. Every page gets at most `inFlight`
 * unacknowledged batches of at most `batchSteps` steps. A page that connects late first catches
 * up on the history (contiguous batches); a page that falls behind the live edge is decimated: it
 * gets the newest `batchSteps` steps and every step where a divergence was found, and is told how
 * many it missed. Steps live in a ring of `ringSteps`, so memory is bounded whatever the pages do, and a
 * closed page is simply forgotten: the job never sees it. The recorder beside it keeps a whole run
 * (bounded by events) for a static report.
 */
import type { FeedDivergence, FeedHealth, FeedMeta, FeedStep, FeedTrial, ReportData, ServerMessage } from "./feed.js";
import { parseClientMessage } from "./feed.js";

/** Where a job sends what the view shows. Both the live hub and the report recorder take it. */
export interface FeedSink {
  step(step: FeedStep): void;
  divergence(divergence: FeedDivergence): void;
  trial(trial: FeedTrial): void;
  /** The run ended: its summary (the verb's JSON result). */
  end(summary: Readonly<Record<string, unknown>>): void;
}

/** Sends to several sinks. */
export function teeSink(...sinks: readonly (FeedSink | undefined)[]): FeedSink {
  const list = sinks.filter((s): s is FeedSink => s !== undefined);
  return {
    step: (s) => list.forEach((k) => k.step(s)),
    divergence: (d) => list.forEach((k) => k.divergence(d)),
    trial: (t) => list.forEach((k) => k.trial(t)),
    end: (s) => list.forEach((k) => k.end(s)),
  };
}

/** The link counters a job exposes for the health panel (read on each tick, never waited for). */
export type HealthProvider = () => Omit<FeedHealth, "at" | "steps" | "stepsPerSecond">;

/** One connected page, as the hub sees it (ui/server.ts adapts a WebSocket to this). */
export interface HubClient {
  send(text: string): void;
  /** Bytes queued and not yet written to the socket (the page's TCP is backed up when large). */
  readonly bufferedAmount: number;
}

/** Options of a LiveHub. */
export interface HubOptions {
  /** Steps kept for pages (the newest); older ones are lost to a page that has not received them. Default 4096. */
  readonly ringSteps?: number;
  /** Most steps in one batch. Default 256 (with 20 batches/s: 5,120 steps/s before a page is decimated). */
  readonly batchSteps?: number;
  /** Most batches a page has not acknowledged. Default 2. */
  readonly inFlight?: number;
  /** Batch interval in ms; 0 means no timer (tests call tick()). Default 50 (at most 20 batches/s). */
  readonly tickMs?: number;
  /** Socket backlog above which a page is skipped this tick. Default 1 MiB. */
  readonly maxBuffered?: number;
  readonly health?: HealthProvider;
  /** Clock in ms (injectable for tests). Default performance.now. */
  readonly now?: () => number;
}

interface ClientState {
  readonly client: HubClient;
  next: number;
  seq: number;
  acked: number;
  divCursor: number;
  trialCursor: number;
  endSent: boolean;
  lastHealthAt: number;
  /** Steps this page missed in total (decimation and ring overruns). */
  skippedTotal: number;
  /** Catching up on the history it connected to: steps below this are sent in full. */
  catchUpTo: number;
}

const MAX_DIVERGENCES = 1000;
const MAX_TRIALS = 1_000_000;
const MAX_TRIALS_PER_BATCH = 5000;
const MAX_HEALTH_LOG = 3600;

/** The live hub (see the file comment). */
export class LiveHub implements FeedSink {
  private readonly ring: (FeedStep | undefined)[];
  private pushed = 0;
  private readonly divergences: FeedDivergence[] = [];
  private readonly trials: FeedTrial[] = [];
  private readonly healthLog: FeedHealth[] = [];
  private readonly clients = new Set<ClientState>();
  private summary: Readonly<Record<string, unknown>> | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly t0: number;
  private rateMark = { at: 0, steps: 0, rate: 0 };
  private readonly ringSteps: number;
  private readonly batchSteps: number;
  private readonly inFlight: number;
  private readonly maxBuffered: number;
  private readonly now: () => number;
  private readonly healthOf: HealthProvider | undefined;

  constructor(
    readonly meta: FeedMeta,
    options: HubOptions = {},
  ) {
    this.ringSteps = Math.max(16, options.ringSteps ?? 4096);
    this.batchSteps = Math.max(2, options.batchSteps ?? 256);
    this.inFlight = Math.max(1, options.inFlight ?? 2);
    this.maxBuffered = options.maxBuffered ?? 1 << 20;
    this.now = options.now ?? (() => performance.now());
    this.healthOf = options.health;
    this.ring = new Array<FeedStep | undefined>(this.ringSteps);
    this.t0 = this.now();
    this.rateMark = { at: this.t0, steps: 0, rate: 0 };
    // The timer runs with or without pages: it also keeps the health log the report shows.
    const tickMs = options.tickMs ?? 50;
    if (tickMs > 0) {
      this.timer = setInterval(() => this.tick(), tickMs);
      this.timer.unref?.();
    }
  }

  /** Steps pushed so far. */
  get steps(): number {
    return this.pushed;
  }

  /** Pages connected now. */
  get pages(): number {
    return this.clients.size;
  }

  step(step: FeedStep): void {
    this.ring[this.pushed % this.ringSteps] = step;
    this.pushed++;
  }

  divergence(divergence: FeedDivergence): void {
    if (this.divergences.length < MAX_DIVERGENCES) this.divergences.push(divergence);
  }

  trial(trial: FeedTrial): void {
    if (this.trials.length < MAX_TRIALS) this.trials.push(trial);
  }

  end(summary: Readonly<Record<string, unknown>>): void {
    this.summary = summary;
    this.flushHealth(true);
  }

  /** Adds a page; returns the function that removes it (call it when the page's socket closes). */
  attach(client: HubClient): { receive(text: string): void; detach(): void } {
    const state: ClientState = {
      client,
      next: Math.max(0, this.pushed - this.ringSteps),
      seq: 0,
      acked: 0,
      divCursor: 0,
      trialCursor: 0,
      endSent: false,
      lastHealthAt: -Infinity,
      skippedTotal: 0,
      catchUpTo: this.pushed,
    };
    this.clients.add(state);
    this.safeSend(state, { type: "meta", meta: this.meta, health: [...this.healthLog] });
    return {
      receive: (text) => {
        const msg = parseClientMessage(text);
        if (msg && msg.seq <= state.seq) state.acked = Math.max(state.acked, msg.seq);
      },
      detach: () => {
        this.clients.delete(state);
      },
    };
  }

  /** Stops the timer and forgets every page. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clients.clear();
  }

  /** The current health snapshot (steps/s over the last second or so). */
  health(): FeedHealth {
    const now = this.now();
    if (now - this.rateMark.at >= 500) {
      this.rateMark = { at: now, steps: this.pushed, rate: ((this.pushed - this.rateMark.steps) * 1000) / (now - this.rateMark.at) };
    }
    let link: ReturnType<HealthProvider> = { lagMs: null, framesDropped: 0, crcRejects: 0, badFrames: 0, retransmissions: 0, recoveries: 0 };
    try {
      link = this.healthOf?.() ?? link;
    } catch {
      // A job's counters that cannot be read now (closing) leave the panel at zero; never stop the timer.
    }
    return { at: Math.round(now - this.t0) / 1000, steps: this.pushed, stepsPerSecond: Math.round(this.rateMark.rate * 10) / 10, ...link };
  }

  private flushHealth(force: boolean): FeedHealth {
    const h = this.health();
    const last = this.healthLog[this.healthLog.length - 1];
    if ((force || last === undefined || h.at - last.at >= 1) && this.healthLog.length < MAX_HEALTH_LOG) this.healthLog.push(h);
    return h;
  }

  /** Sends each page what it can take now. The timer calls it; tests call it directly. */
  tick(): void {
    const health = this.flushHealth(false);
    for (const state of this.clients) this.feed(state, health);
  }

  private feed(state: ClientState, health: FeedHealth): void {
    if (state.seq - state.acked >= this.inFlight || state.client.bufferedAmount > this.maxBuffered) return;
    const oldest = Math.max(0, this.pushed - this.ringSteps);
    let skipped = 0;
    if (state.next < oldest) {
      skipped += oldest - state.next;
      state.next = oldest;
    }
    const available = this.pushed - state.next;
    const steps: FeedStep[] = [];
    if (state.next < state.catchUpTo) {
      // Catching up on the history that was there when the page connected: contiguous batches.
      const end = Math.min(state.catchUpTo, state.next + this.batchSteps);
      for (let i = state.next; i < end; i++) steps.push(this.ring[i % this.ringSteps]!);
      state.next = end;
    } else if (available <= this.batchSteps) {
      for (let i = state.next; i < this.pushed; i++) steps.push(this.ring[i % this.ringSteps]!);
      state.next = this.pushed;
    } else {
      // Behind the live edge: the newest steps, and every older step where a divergence was found.
      const from = this.pushed - this.batchSteps;
      for (const d of this.divergences) if (d.i >= state.next && d.i < from && steps[steps.length - 1]?.i !== d.i) steps.push(this.ring[d.i % this.ringSteps]!);
      for (let i = from; i < this.pushed; i++) steps.push(this.ring[i % this.ringSteps]!);
      skipped += available - steps.length;
      state.next = this.pushed;
    }
    const divergences = this.divergences.slice(state.divCursor);
    state.divCursor = this.divergences.length;
    const trials = this.trials.slice(state.trialCursor, state.trialCursor + MAX_TRIALS_PER_BATCH);
    state.trialCursor += trials.length;
    const healthDue = health.at - state.lastHealthAt >= 0.25;
    if (steps.length > 0 || skipped > 0 || divergences.length > 0 || trials.length > 0 || healthDue) {
      state.seq++;
      state.skippedTotal += skipped;
      if (healthDue) state.lastHealthAt = health.at;
      this.safeSend(state, { type: "batch", seq: state.seq, steps, skipped, divergences, trials, ...(healthDue ? { health } : {}) });
      return;
    }
    if (this.summary !== null && !state.endSent && state.trialCursor >= this.trials.length && state.next >= this.pushed) {
      state.endSent = true;
      this.safeSend(state, { type: "end", summary: this.summary });
    }
  }

  private safeSend(state: ClientState, msg: ServerMessage): void {
    try {
      state.client.send(JSON.stringify(msg));
    } catch {
      // A socket that fails to send is closing; its close handler detaches it.
    }
  }

  /** What the hub holds, as report data (the ring's steps: the newest `ringSteps`). */
  snapshot(): ReportData {
    const oldest = Math.max(0, this.pushed - this.ringSteps);
    const steps: FeedStep[] = [];
    for (let i = oldest; i < this.pushed; i++) steps.push(this.ring[i % this.ringSteps]!);
    return {
      meta: this.meta,
      steps,
      divergences: [...this.divergences],
      trials: [...this.trials],
      health: [...this.healthLog],
      summary: this.summary,
      skipped: oldest,
    };
  }
}

/** Keeps a whole run for a static report, up to `maxEvents` spike and input events; later steps are counted as skipped. */
export class FeedRecorder implements FeedSink {
  private readonly steps: FeedStep[] = [];
  private readonly divergences: FeedDivergence[] = [];
  private readonly trials: FeedTrial[] = [];
  private events = 0;
  private skipped = 0;
  private summary: Readonly<Record<string, unknown>> | null = null;

  constructor(
    readonly meta: FeedMeta,
    private readonly maxEvents = 4_000_000,
  ) {}

  step(step: FeedStep): void {
    let n = step.in.length + 1;
    for (const l of step.d) n += l.length;
    for (const l of step.r ?? []) n += l.length;
    for (const l of step.m ?? []) n += l?.length ?? 0;
    if (this.events + n > this.maxEvents) {
      this.skipped++;
      return;
    }
    this.events += n;
    this.steps.push(step);
  }

  divergence(divergence: FeedDivergence): void {
    if (this.divergences.length < MAX_DIVERGENCES) this.divergences.push(divergence);
  }

  trial(trial: FeedTrial): void {
    if (this.trials.length < MAX_TRIALS) this.trials.push(trial);
  }

  end(summary: Readonly<Record<string, unknown>>): void {
    this.summary = summary;
  }

  /** The recorded run. */
  data(health: readonly FeedHealth[] = []): ReportData {
    return { meta: this.meta, steps: this.steps, divergences: this.divergences, trials: this.trials, health, summary: this.summary, skipped: this.skipped };
  }
}
