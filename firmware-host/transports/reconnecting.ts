/**
 * A transport that reopens its port when it goes away (cable pulled, board restarted), with the
 * bounded backoff of spec/protocol.md §4.6; the bridge's recovery waits on it through whenPresent.
 */
import { isPicospikeError, PicospikeError } from "../../runtime/errors.js";
import type { Transport } from "./transport.js";

/** Longest a recovery waits for the port or device to come back (spec §4.6). */
export const RECONNECT_TOTAL_MS = 10_000;
/** Backoff between attempts to reopen the port or repeat the handshake: the first delay, in ms (it doubles). */
export const RECONNECT_FIRST_DELAY_MS = 10;
/** The largest delay between two such attempts, in ms. */
export const RECONNECT_MAX_DELAY_MS = 1000;

/** Options of ReconnectingTransport. */
export interface ReconnectOptions {
  /** Longest time to keep trying to reopen, in ms. Default RECONNECT_TOTAL_MS. */
  readonly maxWaitMs?: number;
  /** Sleep, injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * A transport that survives its port going away: when the inner transport closes (cable pulled,
 * board restarted) it reopens it with `open` under exponential backoff (10 ms doubling to 1 s),
 * for at most `maxWaitMs`; writes meanwhile fail with DEVICE_DISCONNECTED (the link retries, then
 * recovery waits through whenPresent). Only when reopening gives up does it close for good.
 */
export class ReconnectingTransport implements Transport {
  /** Outages seen and reopen attempts that failed. */
  readonly counters = { outages: 0, reopened: 0, failedAttempts: 0 };
  private inner: Transport | undefined;
  private detach: Array<() => void> = [];
  private readonly dataListeners = new Set<(bytes: Uint8Array) => void>();
  private readonly closeListeners = new Set<() => void>();
  private closed = false;
  private reopening: Promise<void> | undefined;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    first: Transport,
    private open: () => Promise<Transport>,
    private readonly options: ReconnectOptions = {},
  ) {
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.attach(first);
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** True while a port is attached. */
  get present(): boolean {
    return this.inner !== undefined;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.closed) throw new PicospikeError("DEVICE_DISCONNECTED", "write on a closed transport");
    if (this.inner === undefined) throw new PicospikeError("DEVICE_DISCONNECTED", "the port is gone (reconnecting)");
    await this.inner.write(bytes);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Resolves when a port is attached; rejects with DEVICE_DISCONNECTED once reopening gave up. */
  async whenPresent(): Promise<void> {
    if (this.closed) throw new PicospikeError("DEVICE_DISCONNECTED", "the port did not come back");
    if (this.inner === undefined) await (this.reopening ?? this.startReopen());
  }

  /** Drops the current port (closing it) and reopens with `open` (e.g. after restarting the board). */
  replace(open?: () => Promise<Transport>): Promise<void> {
    if (open) this.open = open;
    const old = this.inner;
    this.release();
    const done = this.startReopen();
    void old?.close().catch(() => undefined);
    return done;
  }

  async close(): Promise<void> {
    this.closed = true;
    const old = this.inner;
    this.release();
    await old?.close().catch(() => undefined);
    this.fireClose();
  }

  private attach(t: Transport): void {
    this.inner = t;
    this.detach.push(
      t.onData((bytes) => {
        for (const l of [...this.dataListeners]) l(bytes);
      }),
    );
    this.detach.push(
      t.onClose(() => {
        if (this.inner !== t) return;
        this.release();
        if (!this.closed) void this.startReopen().catch(() => undefined);
      }),
    );
  }

  private release(): void {
    if (this.inner !== undefined) this.counters.outages++;
    for (const d of this.detach.splice(0)) d();
    this.inner = undefined;
  }

  private startReopen(): Promise<void> {
    if (this.reopening) return this.reopening;
    const run = async (): Promise<void> => {
      const limit = this.options.maxWaitMs ?? RECONNECT_TOTAL_MS;
      const deadline = performance.now() + limit;
      let delay = RECONNECT_FIRST_DELAY_MS;
      for (;;) {
        if (this.closed) throw new PicospikeError("DEVICE_DISCONNECTED", "transport closed while reconnecting");
        try {
          const t = await this.open();
          if (this.closed) {
            await t.close();
            throw new PicospikeError("DEVICE_DISCONNECTED", "transport closed while reconnecting");
          }
          this.attach(t);
          this.counters.reopened++;
          return;
        } catch (e) {
          if (isPicospikeError(e, "DEVICE_DISCONNECTED") && this.closed) throw e;
          this.counters.failedAttempts++;
          if (performance.now() + delay > deadline) {
            this.closed = true;
            this.fireClose();
            throw new PicospikeError("DEVICE_DISCONNECTED", `the port did not come back within ${limit} ms: ${e instanceof Error ? e.message : String(e)}`);
          }
          await this.sleep(delay);
          delay = Math.min(RECONNECT_MAX_DELAY_MS, delay * 2);
        }
      }
    };
    this.reopening = run().finally(() => {
      this.reopening = undefined;
    });
    return this.reopening;
  }

  private fireClose(): void {
    for (const l of [...this.closeListeners]) l();
    this.closeListeners.clear();
  }
}
