/**
 * What the device-facing verbs share: connecting to a board (`--board mock` in-process, `--port
 * PATH`, or `--board NAME` built and started through firmware-host/boards/launch.ts), opening the input
 * source (cli/sources.ts), and Ctrl-C as an abort signal.
 */
import { fail } from "../runtime/errors.js";
import type { InputSample } from "../runtime/events.js";
import type { EventTable } from "../runtime/model.js";
import { boardNames } from "../firmware-host/boards/boards.js";
import { FaultyTransport, parseInjectSpec } from "../firmware-host/transports/fault.js";
import { launchBoard, startImage } from "../firmware-host/boards/launch.js";
import { MockBoard } from "../firmware-host/mock/mock-board.js";
import { SerialTransport } from "../firmware-host/transports/serial-transport.js";
import { LockstepRecovery } from "../firmware-host/bridge/recovery.js";
import { ReconnectingTransport } from "../firmware-host/transports/reconnecting.js";
import { BoardSession, LOSSY_LINE_OPTIONS } from "../firmware-host/bridge/session.js";
import { CountingTransport } from "../firmware-host/transports/counting.js";
import { LoopbackPair, type Transport } from "../firmware-host/transports/transport.js";
import { openInput, openLiveSource, sourceIsLive, type SourceContext } from "./sources.js";

export { openInput } from "./sources.js";

/** A connected, model-ready device. */
export interface Device {
  readonly session: BoardSession;
  readonly counter: CountingTransport;
  /** What was connected, for messages ("mock", "/dev/pts/3", "native on /dev/pts/4"). */
  readonly description: string;
  /** True when the model was uploaded for this run. */
  readonly uploaded: boolean;
  /** The bridge's recovery (spec/protocol.md §4.6): its counters, checkpoint and log. */
  readonly recovery: LockstepRecovery;
  /** With --inject: what was injected and what the link detected and recovered (for JSON reports). */
  faults(): FaultReport | undefined;
  close(): Promise<void>;
}

/** Injected faults set against what the bridge detected and recovered. */
export interface FaultReport {
  readonly spec: string;
  /** Everything the injector did, per direction, plus resets and outages. */
  readonly injected: ReturnType<FaultyTransport["snapshot"]>;
  /** Frames the host rejected: CRC failures and COBS/size/length/version failures. */
  readonly framesRejected: number;
  readonly badCrc: number;
  readonly badFrame: number;
  /** Frames the host missed according to the device's sequence numbers. */
  readonly gaps: number;
  /** Requests the host sent again after a timeout. */
  readonly retransmissions: number;
  /** Recoveries run (handshake, model, replay) and what they did. */
  readonly recoveries: number;
  readonly recovery: LockstepRecovery["counters"];
}


/** The --board / --port help text. */
export const BOARD_HELP = `board: mock (in-process, backed by the interpreter) or ${boardNames().join(", ")} (built and started)`;

/** Connects to the device named by --board/--port and makes it run `modelBytes`. */
export async function connectDevice(opts: { board?: string; port?: string; baud?: number; inject?: string }, modelBytes: Uint8Array): Promise<Device> {
  if (opts.board === undefined && opts.port === undefined) fail("CLI_USAGE", "give --board NAME or --port PATH");
  const spec = opts.inject === undefined ? undefined : parseInjectSpec(opts.inject);
  let transport: Transport;
  let description: string;
  let stop: () => Promise<void> = async () => undefined;
  let reconnecting: ReconnectingTransport | undefined;
  // What an injected device reset does: the mock reboots (state and upload lost), a built board restarts.
  let resetDevice: () => void = () => undefined;
  if (opts.port !== undefined) {
    const path = opts.port;
    reconnecting = new ReconnectingTransport(await SerialTransport.open(path, opts.baud), () => SerialTransport.open(path, opts.baud));
    transport = reconnecting;
    description = opts.board ? `${opts.board} on ${opts.port}` : opts.port;
  } else if (opts.board === "mock") {
    const pair = new LoopbackPair();
    let board = new MockBoard(pair.b);
    stop = async () => board.shutdown();
    resetDevice = () => {
      board.shutdown();
      board = new MockBoard(pair.b);
    };
    transport = pair.a;
    description = "mock";
  } else {
    // The model is compiled in when it is too large to upload to this board (launchBoard "auto").
    const launched = await launchBoard(opts.board!, { model: modelBytes });
    let handle = launched.handle;
    let serial: SerialTransport;
    try {
      serial = await SerialTransport.open(launched.port, opts.baud);
    } catch (e) {
      await handle.stop();
      throw e;
    }
    const live = new ReconnectingTransport(serial, () => SerialTransport.open(handle.port, opts.baud));
    reconnecting = live;
    resetDevice = () => {
      // Power-cycle: the process ends (its pty with it) and starts again on a new pty.
      void live.replace(async () => {
        await handle.stop();
        handle = await startImage(launched.board, launched.image);
        return SerialTransport.open(handle.port, opts.baud);
      }).catch(() => undefined);
    };
    stop = () => handle.stop();
    transport = live;
    description = `${launched.board} on ${launched.port}`;
  }
  const faulty = spec === undefined ? undefined : new FaultyTransport(transport, spec);
  faulty?.onDeviceReset(() => resetDevice());
  const counter = new CountingTransport(faulty ?? transport);
  let session: BoardSession;
  try {
    session = await BoardSession.open(counter, faulty ? LOSSY_LINE_OPTIONS : {});
  } catch (e) {
    await (faulty ?? transport).close().catch(() => undefined);
    await stop();
    throw e;
  }
  const close = async (): Promise<void> => {
    await session.close().catch(() => undefined);
    await stop();
  };
  const live = reconnecting;
  const recovery = LockstepRecovery.attach(session, { tableBytes: modelBytes, ...(live ? { reconnect: () => live.whenPresent() } : {}) });
  const faults = (): FaultReport | undefined => {
    if (faulty === undefined || opts.inject === undefined) return undefined;
    const c = session.link.counters;
    return {
      spec: opts.inject, injected: faulty.snapshot(), framesRejected: c.badCrc + c.badFrame, badCrc: c.badCrc, badFrame: c.badFrame, gaps: c.gaps,
      retransmissions: c.retransmissions, recoveries: recovery.counters.recoveries, recovery: { ...recovery.counters },
    };
  };
  try {
    const uploaded = await recovery.ensureModel();
    return { session, counter, description, uploaded, recovery, faults, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Opens the input of `stream`: live sources (ndjson:, serial:) as they arrive, in samples of one
 * step in real time (each step goes out as soon as it is read and due, and the run is one
 * continuous session) or of `steps` steps in lockstep (each a sample, reset before it); any other
 * source as openInput does. Returns the samples, how many to take and the steps per sample.
 */
export function openStreamInput(
  spec: string, table: EventTable, steps: number, samples: number | undefined, context: SourceContext & { realtime: boolean },
): { samples: Iterable<InputSample> | AsyncIterable<InputSample>; count: number; steps: number } {
  if (!sourceIsLive(spec)) return { ...openInput(spec, table, steps, samples, context), steps };
  const chunk = context.realtime ? 1 : steps;
  const full = { ...(table.input.shape ? { shape: table.input.shape } : {}), ...context };
  // --samples bounds a live run in units of --steps steps, in both modes.
  const count = samples === undefined ? Number.MAX_SAFE_INTEGER : context.realtime ? samples * steps : samples;
  return { samples: openLiveSource(spec, table.input.size, chunk, full), count, steps: chunk };
}

/** An AbortSignal fired by the first Ctrl-C (SIGINT); a second one exits at once. Call dispose() when done. */
export function interruptSignal(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onInt = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", onInt);
  return { signal: controller.signal, dispose: () => process.off("SIGINT", onInt) };
}
