/**
 * `--ui`, `--ui-port` and `--report` for the device verbs: what the verbs share to feed the live view
 * (ui/): the page's description of a model, a compared step as the page sees it, the link health
 * read from the session's counters, and the server's life (started before the device is
 * connected, kept up after the run until Ctrl-C so the finished run can still be looked at).
 */
import type { Command } from "commander";
import type { EventTable } from "../runtime/model.js";
import type { StepEvents } from "../runtime/events.js";
import type { FeedDivergence, FeedMeta, FeedStep } from "../ui/feed.js";
import { reportHtml } from "../ui/feed.js";
import { FeedRecorder, LiveHub, teeSink, type FeedSink, type HealthProvider } from "../ui/hub.js";
import { loadPageAssets, startUiServer, type UiServer } from "../ui/server.js";
import { intOption, writeFileAtomic } from "./io.js";

/** Adds `--ui` and `--ui-port` to a verb. */
export function addUiOptions(cmd: Command): Command {
  return cmd
    .option("--ui", "open a live view in the browser: serves it on 127.0.0.1 and prints its URL; the view stays up after the run until Ctrl-C")
    .option("--ui-port <port>", "port of the live view (default: one the system picks)");
}

/** The page's description of `table`. */
export function feedMeta(
  table: EventTable,
  kind: FeedMeta["kind"],
  title: string,
  board: string,
  options: { reference: boolean; stepsPerSample?: number; dtMs?: number },
): FeedMeta {
  return {
    kind,
    title,
    board,
    reference: options.reference,
    input: { size: table.input.size, ...(table.input.shape ? { shape: [...table.input.shape] as [number, number, number] } : {}) },
    layers: table.layers.map((l) => ({ name: l.name, size: l.size, integrator: l.neuron.model === "integrator" })),
    readout: table.readout.kind === "membrane" ? "membrane" : "counts",
    ...(options.stepsPerSample === undefined ? {} : { stepsPerSample: options.stepsPerSample }),
    ...(options.dtMs === undefined ? {} : { dtMs: options.dtMs }),
  };
}

/** The link's health from a connected device's counters; `lagMs` gives the job's latest latency, `dropped` its frames dropped so far. */
export function linkHealth(
  device: {
    session: { link: { counters: { gaps: number; badCrc: number; badFrame: number; retransmissions: number } } };
    recovery: { counters: { recoveries: number } } | undefined;
  },
  lagMs: () => number | null,
  dropped?: () => number,
): HealthProvider {
  return () => {
    const c = device.session.link.counters;
    return {
      // The job's own count when it has one (real time: inputs the host dropped, plus link gaps), else the link's gaps.
      lagMs: lagMs(),
      framesDropped: dropped ? Math.max(dropped(), c.gaps) : c.gaps,
      crcRejects: c.badCrc,
      badFrames: c.badFrame,
      retransmissions: c.retransmissions,
      recoveries: device.recovery?.counters.recoveries ?? 0,
    };
  };
}

const list = (a: ArrayLike<number>): number[] => Array.from(a);

/** One step for the page: device spikes per layer, optionally the interpreter's and its integrator membranes. */
export function feedStep(
  i: number,
  sample: number,
  t: number,
  input: StepEvents,
  device: readonly ArrayLike<number>[],
  reference?: readonly ArrayLike<number>[],
  membranes?: readonly (ArrayLike<number> | null)[],
  label?: number,
): FeedStep {
  return {
    i,
    s: sample,
    t,
    in: list(input.indices),
    d: device.map(list),
    ...(reference ? { r: reference.map(list) } : {}),
    ...(membranes && membranes.some((m) => m !== null) ? { m: membranes.map((m) => (m === null ? null : list(m))) } : {}),
    ...(label === undefined ? {} : { label }),
  };
}

/** Every layer where device and interpreter spikes differ at this step: the first differing neuron of each. */
export function stepDivergences(step: FeedStep): FeedDivergence[] {
  const out: FeedDivergence[] = [];
  if (!step.r) return out;
  step.d.forEach((dev, layer) => {
    const ref = step.r![layer] ?? [];
    let a = 0;
    let b = 0;
    while (a < dev.length || b < ref.length) {
      const d = a < dev.length ? dev[a]! : Infinity;
      const r = b < ref.length ? ref[b]! : Infinity;
      if (d === r) {
        a++;
        b++;
        continue;
      }
      const neuron = Math.min(d, r);
      out.push({ i: step.i, sample: step.s, step: step.t, layer, neuron, kind: "spike", device: d < r ? 1 : 0, interpreter: d < r ? 0 : 1 });
      return;
    }
  });
  return out;
}

/** A started live view (or report recorder): where the verb sends its steps. */
export interface LiveView {
  readonly sink: FeedSink;
  /** Ends the run: the summary goes to the page and the report is written; then, with --ui, waits for Ctrl-C. */
  finish(summary: Readonly<Record<string, unknown>>): Promise<void>;
  /** Closes the server without waiting (after an error). */
  close(): Promise<void>;
}

/**
 * Starts what the options ask for: with `--ui`, a hub and the server (the URL printed on stderr);
 * with `reportPath`, a recorder written as a self-contained HTML file at the end. Undefined when
 * neither was asked. The page's assets are checked first so a missing build fails before the run.
 */
export async function openLiveView(
  opts: Record<string, string | boolean | undefined>,
  meta: FeedMeta,
  options: { reportPath?: string; health?: HealthProvider } = {},
): Promise<LiveView | undefined> {
  const wantUi = opts["ui"] === true || opts["uiPort"] !== undefined;
  if (!wantUi && options.reportPath === undefined) return undefined;
  const assets = loadPageAssets();
  let hub: LiveHub | undefined;
  let server: UiServer | undefined;
  if (wantUi) {
    hub = new LiveHub(meta, options.health ? { health: options.health } : {});
    const port = opts["uiPort"] === undefined ? 0 : intOption("--ui-port", String(opts["uiPort"]), 1, 65535);
    server = await startUiServer(hub, { port, assets });
    process.stderr.write(`ui: ${server.url}\n`);
  }
  const recorder = options.reportPath === undefined ? undefined : new FeedRecorder(meta);
  return {
    sink: teeSink(hub, recorder),
    async finish(summary) {
      hub?.end(summary);
      recorder?.end(summary);
      if (recorder && options.reportPath !== undefined)
        writeFileAtomic(options.reportPath, reportHtml(assets.script, assets.style, recorder.data(hub?.snapshot().health ?? [])));
      if (server) {
        process.stderr.write(`ui: run finished; the view stays at ${server.url} until Ctrl-C\n`);
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            resolve();
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
        });
        await server.close();
      }
    },
    async close() {
      await server?.close();
    },
  };
}
