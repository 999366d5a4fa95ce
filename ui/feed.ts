/**
 * The live view's data: what the host sends the page over the WebSocket, and what a static report
 * embeds. Pure TypeScript with no Node or DOM API, imported by the server (ui/hub.ts, ui/server.ts)
 * and bundled into the page (ui/page/). Spike lists are plain number arrays so JSON carries them.
 */

/** One layer as the page draws it. */
export interface FeedLayer {
  readonly name: string;
  readonly size: number;
  /** A non-spiking integrating layer: the page draws its membranes, not a raster. */
  readonly integrator: boolean;
}

/** What the run is: sent once when a page connects, embedded in a report. */
export interface FeedMeta {
  readonly kind: "stream" | "compare" | "adapt" | "monitor";
  /** One line naming the run, e.g. "compare model.cbor on native on /dev/pts/3". */
  readonly title: string;
  readonly board: string;
  /** The input layer; `shape` [c, h, w] when the model declares one (the page then draws the input frame). */
  readonly input: { readonly size: number; readonly shape?: readonly [number, number, number] };
  readonly layers: readonly FeedLayer[];
  /** True when steps carry the interpreter's spikes beside the device's (compare, lockstep stream). */
  readonly reference: boolean;
  /** Steps per sample (lockstep), absent for one continuous run (real time, monitor, adapt). */
  readonly stepsPerSample?: number;
  /** Real time: milliseconds per step. */
  readonly dtMs?: number;
  /** How the readout decides: argmax of output spike counts or of the integrating layer's membranes. */
  readonly readout: "counts" | "membrane";
}

/** One step of the run. Keys are short: a live page receives thousands of these. */
export interface FeedStep {
  /** Step number over the whole run (0, 1, 2, ...): the x position in a live raster. */
  readonly i: number;
  /** Sample index (lockstep; 0 for a continuous run). */
  readonly s: number;
  /** Step within the sample. */
  readonly t: number;
  /** Input events (indices) applied at this step. */
  readonly in: readonly number[];
  /** Device spikes per layer (index = layer). */
  readonly d: readonly (readonly number[])[];
  /** Interpreter spikes per layer, when the run has a reference. */
  readonly r?: readonly (readonly number[])[];
  /** Membranes of the integrating layers after the step (interpreter's, else device read-backs), per layer; null for spiking layers. */
  readonly m?: readonly (readonly number[] | null)[];
  /** The sample's label when the source has one. */
  readonly label?: number;
}

/** Where device and interpreter disagreed (as firmware-host compare reports it, plus the run step). */
export interface FeedDivergence {
  /** Run step (FeedStep.i) of the divergence. */
  readonly i: number;
  readonly sample: number;
  readonly step: number;
  /** Layer index into FeedMeta.layers (the input is not a layer). */
  readonly layer: number;
  readonly neuron: number;
  readonly kind: "spike" | "membrane";
  readonly device: number;
  readonly interpreter: number;
}

/** One closed-loop trial (adapt): its reward and whether the action was right. */
export interface FeedTrial {
  readonly trial: number;
  readonly correct: boolean;
  readonly reward: number;
  /** The step at whose start the reward acts. */
  readonly step: number;
}

/** Link health, from the link and session counters (a snapshot; the page draws the rates). */
export interface FeedHealth {
  /** Seconds since the run started. */
  readonly at: number;
  readonly steps: number;
  readonly stepsPerSecond: number;
  /** Lockstep: the last step's round trip; real time: input sent → applied. Milliseconds; null when unknown. */
  readonly lagMs: number | null;
  readonly framesDropped: number;
  readonly crcRejects: number;
  readonly badFrames: number;
  readonly retransmissions: number;
  readonly recoveries: number;
}

/** Server → page messages. */
export type ServerMessage =
  | {
      readonly type: "meta";
      readonly meta: FeedMeta;
      /** Health snapshots so far (a page that connects late sees the run's rate). */ readonly health: readonly FeedHealth[];
    }
  | {
      readonly type: "batch";
      /** Batch number, echoed by the page's ack (flow control). */
      readonly seq: number;
      readonly steps: readonly FeedStep[];
      /** Run steps not sent to this page since its previous batch (it fell behind: decimated). */
      readonly skipped: number;
      readonly divergences: readonly FeedDivergence[];
      readonly trials: readonly FeedTrial[];
      readonly health?: FeedHealth;
    }
  | { readonly type: "end"; readonly summary: Readonly<Record<string, unknown>> };

/** Page → server messages: an ack of a drawn batch. */
export type ClientMessage = { readonly type: "ack"; readonly seq: number };

/** Largest page → server message accepted (bytes): an ack is a few dozen. */
export const MAX_CLIENT_MESSAGE = 256;

/**
 * Parses a page → server message; null for anything that is not a well-formed ack (bounded: longer
 * input is refused before it is parsed).
 */
export function parseClientMessage(text: string): ClientMessage | null {
  if (text.length > MAX_CLIENT_MESSAGE) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v["type"] !== "ack" || typeof v["seq"] !== "number" || !Number.isSafeInteger(v["seq"]) || v["seq"] < 0) return null;
  return { type: "ack", seq: v["seq"] };
}

/** Everything a static report holds: the run as far as it was recorded or shown. */
export interface ReportData {
  readonly meta: FeedMeta;
  readonly steps: readonly FeedStep[];
  readonly divergences: readonly FeedDivergence[];
  readonly trials: readonly FeedTrial[];
  readonly health: readonly FeedHealth[];
  readonly summary: Readonly<Record<string, unknown>> | null;
  /** Run steps that were not recorded (a page that fell behind, or a run longer than the report keeps). */
  readonly skipped: number;
}

/** Index of the layer whose decision the page shows: the last. */
export function readoutLayer(meta: FeedMeta): number {
  return meta.layers.length - 1;
}

/** The readout decision from counts or membranes: the first maximum (the runtime's tie-break), -1 when empty. */
export function decide(values: ArrayLike<number>): number {
  if (values.length === 0) return -1;
  let best = 0;
  for (let j = 1; j < values.length; j++) if (values[j]! > values[best]!) best = j;
  return best;
}

/**
 * A self-contained HTML page: the page's script and style inlined and the data embedded as JSON,
 * so it opens from disk with no server and no network. Used by `compare --report` and by the
 * live page's download button (one builder, so both give the same file).
 */
export function reportHtml(script: string, style: string, data: ReportData): string {
  // "</script" inside inline content would end the element early; "<!--" starts script-data escaping.
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const js = script.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--");
  const title = data.meta.title.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>picospike report: ${title}</title><style>${style.replace(/<\/(style)/gi, "<\\/$1")}</style></head>` +
    `<body><div id="app"></div><script type="application/json" id="picospike-data">${json}</script>` +
    `<script id="picospike-app">${js}</script></body></html>\n`
  );
}
