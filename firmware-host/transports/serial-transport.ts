/**
 * Transport over node-serialport: real serial ports and ptys (the native board's and QEMU's).
 * Opening a path needs no udevadm; only SerialPort.list() does.
 */
import { SerialPort } from "serialport";
import { PicospikeError } from "../../runtime/errors.js";
import type { Transport } from "./transport.js";

/** A serial port or pty as a Transport. */
export class SerialTransport implements Transport {
  private readonly port: SerialPort;
  private closed = false;
  private readonly closeListeners = new Set<() => void>();

  private constructor(port: SerialPort) {
    this.port = port;
    port.on("close", () => this.markClosed());
    port.on("error", () => this.markClosed());
  }

  /** Opens `path` (raw, 8N1); DEVICE_PORT_UNAVAILABLE when it cannot be opened. */
  static open(path: string, baudRate = 115_200): Promise<SerialTransport> {
    return new Promise((resolveOpen, reject) => {
      const port = new SerialPort({ path, baudRate, autoOpen: false });
      port.open((err) => {
        if (err) {
          reject(new PicospikeError("DEVICE_PORT_UNAVAILABLE", `cannot open ${path}: ${openFailure(err.message, path)}`, { port: path }));
        } else {
          resolveOpen(new SerialTransport(port));
        }
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  write(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new PicospikeError("DEVICE_DISCONNECTED", `write on closed port ${this.port.path}`));
    return new Promise((resolveWrite, reject) => {
      this.port.write(Buffer.from(bytes), (err) => {
        if (err) reject(new PicospikeError("DEVICE_DISCONNECTED", `write to ${this.port.path} failed: ${err.message}`));
        else this.port.drain(() => resolveWrite());
      });
    });
  }

  onData(listener: (bytes: Uint8Array) => void): () => void {
    const handler = (chunk: Buffer): void => listener(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    this.port.on("data", handler);
    return () => {
      this.port.off("data", handler);
    };
  }

  onClose(listener: () => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolveClose) => {
      this.port.close(() => {
        this.markClosed();
        resolveClose();
      });
    });
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of [...this.closeListeners]) listener();
    this.closeListeners.clear();
  }
}

/**
 * node-serialport's reason for a failed open without what the message already says: it reads
 * "Error: No such file or directory, cannot open /dev/pts/99", which named the path twice.
 */
export function openFailure(message: string, path: string): string {
  const reason = message.replace(/^Error:\s*/, "");
  const suffix = `, cannot open ${path}`;
  return reason.endsWith(suffix) ? reason.slice(0, -suffix.length) : reason;
}
