/**
 * The byte-stream seam of the bridge: real serial ports, ptys, the mock board and fault injectors
 * all implement `Transport`, so the same protocol code and the same tests run over each of them.
 */
import { PicospikeError } from "../../runtime/errors.js";

/** A bidirectional byte stream. */
export interface Transport {
  /** Sends bytes; rejects with DEVICE_DISCONNECTED once closed. */
  write(bytes: Uint8Array): Promise<void>;
  /** Registers a listener for received bytes; returns a function that removes it. */
  onData(listener: (bytes: Uint8Array) => void): () => void;
  /** Registers a listener called once when the stream closes (either end); returns a remover. */
  onClose(listener: () => void): () => void;
  /** Closes the stream; idempotent. */
  close(): Promise<void>;
  /** False after close. */
  readonly isOpen: boolean;
}

/**
 * A transport that passes everything through to `inner`: the base of wrappers that watch or alter
 * one direction (byte counters, taps and corrupters in tests) and override only that method.
 */
export class ForwardingTransport implements Transport {
  constructor(protected readonly inner: Transport) {}
  get isOpen(): boolean {
    return this.inner.isOpen;
  }
  write(bytes: Uint8Array): Promise<void> {
    return this.inner.write(bytes);
  }
  onData(listener: (bytes: Uint8Array) => void): () => void {
    return this.inner.onData(listener);
  }
  onClose(listener: () => void): () => void {
    return this.inner.onClose(listener);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** One end of a LoopbackPair. */
class LoopbackEnd implements Transport {
  private readonly dataListeners = new Set<(bytes: Uint8Array) => void>();
  private readonly closeListeners = new Set<() => void>();
  private open = true;
  /** The other end; set by LoopbackPair. */
  peer: LoopbackEnd | undefined;

  get isOpen(): boolean {
    return this.open;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.open) throw new PicospikeError("DEVICE_DISCONNECTED", "write on a closed loopback transport");
    const copy = bytes.slice(); // the writer may reuse its buffer
    const peer = this.peer;
    // Delivered asynchronously, as a real stream would, so senders never re-enter receivers.
    queueMicrotask(() => peer?.deliver(copy));
  }

  /** Hands bytes to this end's listeners. */
  deliver(bytes: Uint8Array): void {
    if (!this.open) return;
    for (const listener of [...this.dataListeners]) listener(bytes);
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    this.dataListeners.add(listener);
    return () => this.dataListeners.delete(listener);
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Marks this end closed and tells its listeners (without touching the peer). */
  shut(): void {
    if (!this.open) return;
    this.open = false;
    for (const listener of [...this.closeListeners]) listener();
    this.dataListeners.clear();
    this.closeListeners.clear();
  }

  async close(): Promise<void> {
    this.shut();
    this.peer?.shut();
  }
}

/** Two connected in-memory transports: bytes written to `a` arrive at `b` and vice versa. Closing either closes both. */
export class LoopbackPair {
  /** One end (by convention the host). */
  readonly a: Transport;
  /** The other end (by convention the device). */
  readonly b: Transport;

  constructor() {
    const a = new LoopbackEnd();
    const b = new LoopbackEnd();
    a.peer = b;
    b.peer = a;
    this.a = a;
    this.b = b;
  }
}
