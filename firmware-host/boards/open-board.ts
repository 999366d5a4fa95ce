/**
 * The board factory: every caller that talks to a board (CLI verbs, the soak, benches, end-to-end
 * tests) opens it here. A board is reached through a driver, as node-serialport reaches a port
 * through a binding and Brian2 runs a network on a device chosen by name: `mock` (the in-process
 * reference board on a loopback pair), each board of the registry (built, started with its flash
 * method, reached over the pty it announces), or a serial port where picospike firmware already
 * runs. On top of the driver's transport the factory stacks, always in this order: the fault
 * injector (when asked), a byte counter, the session (handshake), and the bridge's recovery; then
 * it makes the board run the model.
 */
import { fail, PicospikeError } from "../../runtime/errors.js";
import { LockstepRecovery, type RecoveryCounters, type RecoveryOptions } from "../bridge/recovery.js";
import { BoardSession, LOSSY_LINE_OPTIONS, type SessionOptions } from "../bridge/session.js";
import { MockBoard, type MockBoardOptions } from "../mock/mock-board.js";
import { CountingTransport } from "../transports/counting.js";
import { FaultyTransport, parseInjectSpec, type FaultSpec } from "../transports/fault.js";
import { ReconnectingTransport } from "../transports/reconnecting.js";
import { SerialTransport } from "../transports/serial-transport.js";
import { LoopbackPair, type Transport } from "../transports/transport.js";
import { BOARDS, type FlashMethodName } from "./boards.js";
import type { FlashHandle } from "./flash/index.js";
import { launchBoard, startImage, type LaunchedBoard } from "./launch.js";
import type { EmulatedClock } from "./qemu.js";

/** What a driver hands the factory: a transport to the board and how to restart and stop it. */
export interface BoardLink {
  /** The host's end of the board's serial line. */
  readonly transport: Transport;
  /** What was connected, for messages ("mock", "/dev/pts/3", "native on /dev/pts/4"). */
  readonly description: string;
  /** Power-cycles the board (an injected device reset): the mock reboots, a started board restarts. */
  resetDevice(): void;
  /** Resolves when the port is back after an outage (recovery waits on it); absent when the line cannot go away. */
  readonly whenPresent?: () => Promise<void>;
  /** Stops what the driver started (the process, QEMU, the mock). */
  stop(): Promise<void>;
  /** The in-process board, for the mock driver (tests poke at its faults and state). */
  readonly mock?: () => MockBoard;
  /** The started build, for registry boards. */
  readonly launched?: LaunchedBoard;
}

/** What a driver is asked to connect. */
export interface ConnectRequest {
  /** The model the run needs (its `.cbor` bytes): a registry board compiles it in when it is too large to upload. */
  readonly model?: Uint8Array;
  /** Compile the model in (true), upload it to the generic firmware (false), or decide by size ("auto", the default). */
  readonly compiledIn?: boolean | "auto";
  /** Start this already built image instead of building one (registry boards). */
  readonly image?: string;
  /** Flash method; the board's default when absent (registry boards). */
  readonly method?: FlashMethodName;
  /** Serial baud rate (ports and registry boards). */
  readonly baud?: number;
  /** Keep the line through outages (reopen the port with backoff). Default true. */
  readonly reconnect?: boolean;
  /** Options of the mock board. */
  readonly mock?: MockBoardOptions;
  /** What an emulated (QEMU) board's clock follows: `host` for real-time work; default `instructions`. */
  readonly clock?: EmulatedClock;
}

/** A kind of board the factory can open by name. */
export interface BoardDriver {
  /** The name given to `--board`. */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** Brings the board up and returns its link. */
  connect(request: ConnectRequest): Promise<BoardLink>;
}

/** The in-process reference board: a MockBoard (the interpreter behind the protocol) on a loopback pair. */
const MOCK_DRIVER: BoardDriver = {
  name: "mock",
  description: "in-process, backed by the interpreter",
  async connect(request) {
    const pair = new LoopbackPair();
    let board = new MockBoard(pair.b, request.mock);
    return {
      transport: pair.a,
      description: "mock",
      resetDevice: () => {
        // A reboot: the upload, the model and the state are lost.
        board.shutdown();
        board = new MockBoard(pair.b, request.mock);
      },
      stop: async () => board.shutdown(),
      mock: () => board,
    };
  },
};

/** A registry board: built (or `request.image`), started with its flash method, reached over its pty. */
function registryDriver(name: string): BoardDriver {
  return {
    name,
    description: BOARDS[name]!.description,
    async connect(request) {
      let launched: LaunchedBoard | undefined;
      let image: string;
      let handle: FlashHandle;
      if (request.image === undefined) {
        launched = await launchBoard(name, {
          ...(request.model === undefined ? {} : { model: request.model }),
          ...(request.compiledIn === undefined ? {} : { compiledIn: request.compiledIn }),
          ...(request.method === undefined ? {} : { method: request.method }),
          ...(request.clock === undefined ? {} : { clock: request.clock }),
        });
        image = launched.image;
        handle = launched.handle;
      } else {
        image = request.image;
        handle = await startImage(name, image, request.method, request.clock);
      }
      const port = handle.port;
      let serial: SerialTransport;
      try {
        serial = await SerialTransport.open(port, request.baud);
      } catch (e) {
        await handle.stop();
        throw e;
      }
      const description = `${name} on ${port}`;
      if (request.reconnect === false) {
        const h = handle;
        return { transport: serial, description, resetDevice: () => undefined, stop: () => h.stop(), ...(launched ? { launched } : {}) };
      }
      const live = new ReconnectingTransport(serial, () => SerialTransport.open(handle.port, request.baud));
      return {
        transport: live,
        description,
        resetDevice: () => {
          // Power-cycle: the process ends (its pty with it) and starts again on a new pty.
          void live
            .replace(async () => {
              await handle.stop();
              handle = await startImage(name, image, request.method, request.clock);
              return SerialTransport.open(handle.port, request.baud);
            })
            .catch(() => undefined);
        },
        whenPresent: () => live.whenPresent(),
        stop: () => handle.stop(),
        ...(launched ? { launched } : {}),
      };
    },
  };
}

/** The boards the factory opens by name: `mock`, then every board of the registry. */
export const BOARD_DRIVERS: Readonly<Record<string, BoardDriver>> = {
  mock: MOCK_DRIVER,
  ...Object.fromEntries(Object.keys(BOARDS).map((name) => [name, registryDriver(name)])),
};

/** The names `openBoard` accepts as `board`. */
export function openableBoards(): string[] {
  return Object.keys(BOARD_DRIVERS);
}

/** Looks a driver up; DEVICE_UNKNOWN_BOARD (listing the known ones) when there is none. */
export function boardDriver(name: string): BoardDriver {
  const driver = Object.hasOwn(BOARD_DRIVERS, name) ? BOARD_DRIVERS[name] : undefined;
  if (driver === undefined) {
    throw new PicospikeError("DEVICE_UNKNOWN_BOARD", `no board named "${name}" (boards: ${openableBoards().join(", ")})`, { board: name });
  }
  return driver;
}

/** A board already running picospike firmware at a serial port (a real board, or one started elsewhere). */
export async function connectPort(path: string, request: Pick<ConnectRequest, "baud" | "reconnect"> = {}, name?: string): Promise<BoardLink> {
  const description = name ? `${name} on ${path}` : path;
  if (request.reconnect === false) {
    const serial = await SerialTransport.open(path, request.baud);
    return { transport: serial, description, resetDevice: () => undefined, stop: async () => undefined };
  }
  const live = new ReconnectingTransport(await SerialTransport.open(path, request.baud), () => SerialTransport.open(path, request.baud));
  return { transport: live, description, resetDevice: () => undefined, whenPresent: () => live.whenPresent(), stop: async () => undefined };
}

/** Options of openBoard. */
export interface OpenBoardOptions extends ConnectRequest {
  /** A board by name (`mock` or a registry board); with `port`, only names the board in messages. */
  readonly board?: string;
  /** The serial port of a board that already runs picospike firmware. */
  readonly port?: string;
  /** Inject faults on the host's side of the line: a `--inject` spec or a built one. */
  readonly inject?: string | FaultSpec;
  /** Session options, over the defaults (those of a lossy line when faults are injected). */
  readonly session?: SessionOptions;
  /**
   * The bridge's recovery (spec/protocol.md §4.6): its options, or false for a bare session (no
   * replay log, no reconnecting line; benches and tests that measure or probe the bare link).
   */
  readonly recovery?: Omit<RecoveryOptions, "tableBytes" | "reconnect"> | false;
  /** Make the board run `model` before returning (upload unless it already runs it). Default true when `model` is given. */
  readonly upload?: boolean;
}

/** Injected faults set against what the bridge detected and recovered. */
export interface FaultReport {
  /** The `--inject` spec, as given (or "custom" for a built one). */
  readonly spec: string;
  /** Everything the injector did, per direction, plus resets and outages. */
  readonly injected: ReturnType<FaultyTransport["snapshot"]>;
  /** Frames the host rejected: CRC failures and COBS/size/length/version failures. */
  readonly framesRejected: number;
  /** Of those, CRC failures. */
  readonly badCrc: number;
  /** Of those, COBS/size/length/version failures. */
  readonly badFrame: number;
  /** Frames the host missed according to the device's sequence numbers. */
  readonly gaps: number;
  /** Requests the host sent again after a timeout. */
  readonly retransmissions: number;
  /** Recoveries run (handshake, model, replay). */
  readonly recoveries: number;
  /** What they did; absent when the board was opened without recovery. */
  readonly recovery?: RecoveryCounters;
}

/** An open, handshaken board. */
export interface OpenedBoard {
  /** The session over the whole transport stack. */
  readonly session: BoardSession;
  /** Bytes each way on the line (below the session, above the fault injector). */
  readonly counter: CountingTransport;
  /** What was connected, for messages. */
  readonly description: string;
  /** True when the model was uploaded for this run (false: the board already ran it, or no upload was asked). */
  readonly uploaded: boolean;
  /** The bridge's recovery; undefined with `recovery: false`. */
  readonly recovery: LockstepRecovery | undefined;
  /** The fault injector, when faults are injected. */
  readonly faulty: FaultyTransport | undefined;
  /** The driver's link (the mock board, the started build, device resets). */
  readonly link: BoardLink;
  /** With `inject`: what was injected and what the link detected and recovered (for JSON reports). */
  faults(): FaultReport | undefined;
  /** Closes the session and stops the board; never throws. */
  close(): Promise<void>;
}

/**
 * Opens the board named by `board` or reached at `port`, handshakes, attaches recovery and (unless
 * `upload` is false) makes it run `model`. On any failure what was started is stopped again.
 */
export async function openBoard(options: OpenBoardOptions): Promise<OpenedBoard> {
  if (options.board === undefined && options.port === undefined) fail("CLI_USAGE", "give --board NAME or --port PATH");
  const spec = options.inject === undefined ? undefined : typeof options.inject === "string" ? parseInjectSpec(options.inject) : options.inject;
  const request: ConnectRequest = { ...options, reconnect: options.reconnect ?? options.recovery !== false };
  const link = options.port !== undefined ? await connectPort(options.port, request, options.board) : await boardDriver(options.board!).connect(request);
  const faulty = spec === undefined ? undefined : new FaultyTransport(link.transport, spec);
  faulty?.onDeviceReset(() => link.resetDevice());
  const counter = new CountingTransport(faulty ?? link.transport);
  let session: BoardSession;
  try {
    session = await BoardSession.open(counter, { ...(faulty ? LOSSY_LINE_OPTIONS : {}), ...options.session });
  } catch (e) {
    await (faulty ?? link.transport).close().catch(() => undefined);
    await link.stop().catch(() => undefined);
    throw e;
  }
  const close = async (): Promise<void> => {
    await session.close().catch(() => undefined);
    await link.stop().catch(() => undefined);
  };
  const model = options.model;
  const recovery =
    options.recovery === false || model === undefined
      ? undefined
      : LockstepRecovery.attach(session, {
          ...options.recovery,
          tableBytes: model,
          ...(link.whenPresent ? { reconnect: link.whenPresent } : {}),
        });
  const faults = (): FaultReport | undefined => {
    if (faulty === undefined || options.inject === undefined) return undefined;
    const c = session.link.counters;
    return {
      spec: typeof options.inject === "string" ? options.inject : "custom",
      injected: faulty.snapshot(),
      framesRejected: c.badCrc + c.badFrame,
      badCrc: c.badCrc,
      badFrame: c.badFrame,
      gaps: c.gaps,
      retransmissions: c.retransmissions,
      recoveries: recovery?.counters.recoveries ?? 0,
      ...(recovery ? { recovery: { ...recovery.counters } } : {}),
    };
  };
  try {
    let uploaded = false;
    if (model !== undefined && options.upload !== false) uploaded = recovery ? await recovery.ensureModel() : (await session.ensureModel(model)).uploaded;
    return { session, counter, description: link.description, uploaded, recovery, faulty, link, faults, close };
  } catch (e) {
    await close();
    throw e;
  }
}
