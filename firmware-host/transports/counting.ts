/** A transport wrapper counting bytes each way, for wire-efficiency figures. */
import { ForwardingTransport, type Transport } from "./transport.js";

/** A transport wrapper counting bytes each way (wire efficiency: bytes per input event). */
export class CountingTransport extends ForwardingTransport {
  /** Bytes written (host → device). */
  txBytes = 0;
  /** Bytes received (device → host). */
  rxBytes = 0;
  constructor(inner: Transport) {
    super(inner);
    inner.onData((b) => {
      this.rxBytes += b.length;
    });
  }
  override write(bytes: Uint8Array): Promise<void> {
    this.txBytes += bytes.length;
    return this.inner.write(bytes);
  }
}
