/**
 * The `serial:` source (spec/input-formats.md §7.3): a sensor printing text lines of numbers on a
 * serial port, opened with node-serialport; channels and rate detected from the first lines, the
 * lines queued (oldest dropped and counted) while the streamer is busy. Live only: `stream` reads it.
 */
import { fail } from "../../runtime/errors.js";
import type { StepEvents } from "../../runtime/events.js";
import type { SourceKind } from "../../runtime/sources/kind.js";
import { ANALOG_OPTION_KEYS, AnalogStepper, LineSplitter, analogOptions, chunked } from "../../runtime/sources/ndjson.js";
import { splitDetail } from "../../runtime/sources/options.js";
import { SERIAL_DETECT_LINES, SERIAL_QUEUE_LINES, detectSerial, parseNumberLine } from "../../runtime/sources/serial-lines.js";

/** `serial:PORT@BAUD[,options]`: a data-forwarder sensor on a serial port; endless and live. */
export const serialSource: SourceKind = {
  help: "serial:PORT@BAUD[,encoder=delta|sigma-delta|rate|latency,scale=S,threshold=N,full-scale=F]  a sensor printing lines of numbers (data-forwarder style); channels and rate detected from the first lines; live, for stream",
  endless: true,
  live: true,
  open() {
    fail("CLI_BAD_SOURCE", "serial: sources are live: use them with `picospike stream`");
  },
  openLive(detail, inputSize, chunkSteps, context = {}) {
    const { path: portSpec, options } = splitDetail("serial", detail, ANALOG_OPTION_KEYS);
    const m = /^(.+?)(?:@(\d+))?$/.exec(portSpec)!;
    const port = m[1]!;
    const baud = m[2] === undefined ? 115200 : Number(m[2]);
    if (!(baud >= 50 && baud <= 10_000_000)) fail("CLI_BAD_SOURCE", `serial: baud must be in 50..10000000, got ${m[2]}`);
    const analog = analogOptions("serial", options, "delta");
    const where = `serial ${port}`;
    async function* steps(): AsyncGenerator<StepEvents> {
      const { SerialTransport } = await import("../transports/serial-transport.js");
      const transport = await SerialTransport.open(port, baud);
      const splitter = new LineSplitter(where);
      const queue: Array<{ text: string; atMs: number }> = [];
      let dropped = 0;
      let failure: unknown;
      let wake: (() => void) | undefined;
      const notify = (): void => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      const offData = transport.onData((bytes) => {
        const atMs = performance.now();
        try {
          for (const text of splitter.push(bytes)) {
            queue.push({ text, atMs });
            if (queue.length > SERIAL_QUEUE_LINES + SERIAL_DETECT_LINES + 1) {
              queue.shift();
              dropped++;
            }
          }
        } catch (e) {
          failure = e;
        }
        notify();
      });
      const offClose = transport.onClose(notify);
      const onAbort = (): void => notify();
      context.signal?.addEventListener("abort", onAbort);
      const next = async (count: number): Promise<boolean> => {
        while (queue.length < count && failure === undefined && transport.isOpen && !context.signal?.aborted) await new Promise<void>((r) => (wake = r));
        if (failure !== undefined) throw failure;
        return queue.length >= count;
      };
      try {
        if (!(await next(SERIAL_DETECT_LINES + 1))) return;
        queue.shift(); // the first line may have been cut when the port opened
        const detection = detectSerial(where, queue.slice(0, SERIAL_DETECT_LINES));
        context.log?.(`${where}: ${detection.channels} channels at ${detection.rateHz} Hz (detected from ${SERIAL_DETECT_LINES} lines)`);
        const stepper = new AnalogStepper(where, inputSize, analog);
        let lineNo = 1;
        while (await next(1)) {
          const { text } = queue.shift()!;
          lineNo++;
          const row = parseNumberLine(text);
          if (!row) fail("CLI_BAD_INPUT_FILE", `${where}: line ${lineNo} is not numbers: ${JSON.stringify(text.slice(0, 80))}`, { line: lineNo });
          yield* stepper.row(row, `line ${lineNo}`);
        }
      } finally {
        offData();
        offClose();
        context.signal?.removeEventListener("abort", onAbort);
        if (dropped > 0) context.log?.(`${where}: ${dropped} lines dropped while the stream was behind`);
        await transport.close().catch(() => undefined);
      }
    }
    return chunked(steps(), chunkSteps);
  },
};
