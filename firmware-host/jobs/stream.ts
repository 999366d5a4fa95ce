/**
 * Streaming an input source to a board, in lockstep (host drives each step and waits for its
 * output: nothing buffers) or in real time (the device clock drives steps; the host paces RT_INPUT
 * frames by its own clock with a bounded in-flight window, dropping and counting inputs instead of
 * buffering without bound). A live status callback reports steps/s, drops and output spikes;
 * latencies host→device→host are summarised as p50/p99; an abort signal stops cleanly with a summary.
 */
import type { InputSample, StepEvents } from "../../runtime/events.js";
import { NO_EVENTS } from "../../runtime/events.js";
import type { BoardSession } from "../bridge/session.js";
import type { SpikeSection } from "../wire/messages.js";
import { mergeRealtimeInputs } from "../bridge/session.js";
import type { CountingTransport } from "../transports/counting.js";

/** A live status, passed to the status callback. */
export interface StreamStatus {
  readonly steps: number;
  readonly stepsPerSecond: number;
  readonly inputEvents: number;
  readonly outputSpikes: number;
  /** Frames lost or dropped so far (host view: link gaps and host-side input drops). */
  readonly framesDropped: number;
  readonly elapsedMs: number;
}

/** Options of a stream. */
export interface StreamOptions {
  /** Steps per sample. */
  readonly steps: number;
  /** Most samples taken from the source (required for endless sources). */
  readonly maxSamples: number;
  /** Layer whose spikes are the output (default: the last). */
  readonly outputLayer: number;
  /** Real time: step period in µs; absent for lockstep. */
  readonly periodUs?: number;
  /** Real time: most RT_INPUT frames in flight (sent, not yet reported applied). Default 8. */
  readonly window?: number;
  /** Byte counter on the session's transport, for bytesPerEvent. */
  readonly counter?: CountingTransport;
  readonly signal?: AbortSignal;
  readonly onStatus?: (status: StreamStatus) => void;
  /** Status interval in ms. Default 250. */
  readonly statusEveryMs?: number;
  /** Host sleep, injectable for tests. Default setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Layers the device reports each step, a mask (default: the output layer only). Watchers such as the live view ask for all. */
  readonly reportMask?: number;
  /**
   * Called with every step the device reported: lockstep after each step, real time on each
   * RT_OUTPUT. Synchronous and not awaited: a watcher must take what it needs and return.
   */
  readonly onStep?: (step: StreamStep) => void;
  /** Lockstep: awaited after every step with the steps run so far (checkpoints of learned weights, firmware-host/bridge/checkpoint.ts). */
  readonly afterStep?: (steps: number) => Promise<void>;
}

/** One step as a stream's onStep watcher sees it. */
export interface StreamStep {
  /** Lockstep: sample index; real time: 0. */
  readonly sample: number;
  /** Lockstep: step within the sample; real time: device steps since the run's first step. */
  readonly step: number;
  /** Lockstep: the input sent; real time: the input the device applied at this step. */
  readonly input: StepEvents;
  /** The spikes of the reported layers. */
  readonly sections: readonly SpikeSection[];
  /** Lockstep: this step's round trip; real time: send → applied of the latest input applied (ms; null when none yet). */
  readonly latencyMs: number | null;
  /** The sample's label (lockstep, labelled sources). */
  readonly label?: number;
}

/** Recorded events of one sample (or of the whole real-time run): per step, ascending indices. */
export interface RecordedSample {
  readonly label?: number;
  readonly steps: StepEvents[];
}

/** What a stream reports at the end. */
export interface StreamSummary {
  readonly mode: "lockstep" | "realtime";
  /** Steps the device ran for this stream. */
  readonly steps: number;
  readonly samples: number;
  /** Input events sent. */
  readonly inputEvents: number;
  /** Output-layer spikes received. */
  readonly outputSpikes: number;
  /** Frames lost or dropped anywhere: device gaps and drops, host link gaps, host-side input drops. */
  readonly framesDropped: number;
  /** Real time: inputs the host dropped (window full) or that were never reported applied. */
  readonly inputsDropped: number;
  /** Bytes host → device per input event during the stream (null without a counter or events). */
  readonly bytesPerEvent: number | null;
  readonly stepsPerSecond: number;
  readonly seconds: number;
  /** Lockstep: step round trip; real time: RT_INPUT sent → RT_OUTPUT naming it received. */
  readonly latencyP50Ms: number | null;
  readonly latencyP99Ms: number | null;
  readonly interrupted: boolean;
  /** Output spikes per sample (lockstep) or of the whole run (real time, step 0 = first real-time step). */
  readonly outputs: RecordedSample[];
  /** Real time: the input as the device applied it, per device step (replays the run exactly). */
  readonly appliedInputs?: RecordedSample;
  /** Real time: first device step of the run. */
  readonly firstStep?: number;
  /** Real time: median latency of the first and of the last tenth of the applied inputs (a growing lag shows as last > first). */
  readonly lagFirstTenthP50Ms?: number | null;
  readonly lagLastTenthP50Ms?: number | null;
}

/** The q-quantile (0..1) of unsorted values, nearest rank; null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const round3 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1000) / 1000);
const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Streams `samples` to the device and returns the summary; lockstep unless `periodUs` is set. */
export async function streamToBoard(
  session: BoardSession,
  samples: Iterable<InputSample> | AsyncIterable<InputSample>,
  options: StreamOptions,
): Promise<StreamSummary> {
  return options.periodUs === undefined ? streamLockstep(session, samples, options) : streamRealtime(session, samples, options, options.periodUs);
}

async function deviceLosses(session: BoardSession): Promise<number> {
  const s = await session.stats();
  return s.gaps + s.dropped;
}

async function streamLockstep(
  session: BoardSession,
  samples: Iterable<InputSample> | AsyncIterable<InputSample>,
  options: StreamOptions,
): Promise<StreamSummary> {
  const mask = options.reportMask ?? (options.outputLayer < 32 ? (2 ** options.outputLayer) >>> 0 : 0);
  const t0 = performance.now();
  const tx0 = options.counter?.txBytes ?? 0;
  const lossesBefore = await deviceLosses(session);
  const gaps0 = session.link.counters.gaps;
  const latencies: number[] = [];
  const outputs: RecordedSample[] = [];
  let steps = 0;
  let inputEvents = 0;
  let outputSpikes = 0;
  let sampleCount = 0;
  let interrupted = false;
  let lastStatus = t0;
  const status = (): StreamStatus => {
    const elapsedMs = performance.now() - t0;
    return {
      steps,
      stepsPerSecond: steps / Math.max(1e-3, elapsedMs / 1000),
      inputEvents,
      outputSpikes,
      framesDropped: session.link.counters.gaps - gaps0,
      elapsedMs,
    };
  };
  for await (const sample of samples) {
    if (sampleCount >= options.maxSamples) break;
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
    await session.resetState();
    const recorded: StepEvents[] = [];
    for (let t = 0; t < options.steps; t++) {
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      const events = sample.steps[t] ?? NO_EVENTS;
      const sent = performance.now();
      const out = await session.step(t, events, mask);
      const latency = performance.now() - sent;
      latencies.push(latency);
      options.onStep?.({
        sample: sampleCount,
        step: t,
        input: events,
        sections: out.sections,
        latencyMs: latency,
        ...(sample.label === undefined ? {} : { label: sample.label }),
      });
      steps++;
      inputEvents += events.indices.length;
      const spikes = out.sections.find((s) => s.layer === options.outputLayer)?.indices ?? new Uint32Array(0);
      outputSpikes += spikes.length;
      recorded.push({ indices: spikes });
      await options.afterStep?.(steps);
      if (options.onStatus && performance.now() - lastStatus >= (options.statusEveryMs ?? 250)) {
        lastStatus = performance.now();
        options.onStatus(status());
      }
    }
    outputs.push(sample.label === undefined ? { steps: recorded } : { label: sample.label, steps: recorded });
    sampleCount++;
    if (interrupted) break;
  }
  if (options.signal?.aborted) interrupted = true;
  const seconds = (performance.now() - t0) / 1000;
  const framesDropped = (await deviceLosses(session)) - lossesBefore + session.link.counters.gaps - gaps0;
  options.onStatus?.(status());
  return {
    mode: "lockstep",
    steps,
    samples: sampleCount,
    inputEvents,
    outputSpikes,
    framesDropped,
    inputsDropped: 0,
    bytesPerEvent: options.counter && inputEvents > 0 ? round3((options.counter.txBytes - tx0) / inputEvents) : null,
    stepsPerSecond: Math.round(steps / Math.max(1e-3, seconds)),
    seconds: round3(seconds)!,
    latencyP50Ms: round3(quantile(latencies, 0.5)),
    latencyP99Ms: round3(quantile(latencies, 0.99)),
    interrupted,
    outputs,
  };
}

async function streamRealtime(
  session: BoardSession,
  samples: Iterable<InputSample> | AsyncIterable<InputSample>,
  options: StreamOptions,
  periodUs: number,
): Promise<StreamSummary> {
  const sleep = options.sleep ?? defaultSleep;
  const window = options.window ?? 8;
  const mask = options.reportMask ?? (options.outputLayer < 32 ? (2 ** options.outputLayer) >>> 0 : 0);
  const tx0 = options.counter?.txBytes ?? 0;
  const lossesBefore = await deviceLosses(session);
  const gaps0 = session.link.counters.gaps;
  const inFlight = new Map<number, { sentAt: number; events: StepEvents }>();
  const lags: number[] = [];
  const outputsByStep = new Map<number, number[]>();
  const appliedByStep = new Map<number, StepEvents[]>();
  let lastDeviceStep = -1;
  // RT_OUTPUT can arrive before startRealtime resolves: watchers count steps from the first seen until then.
  let firstStepKnown: number | undefined;
  let firstSeen: number | undefined;
  let outputSpikes = 0;
  const earlyApplied = new Map<number, { step: number; at: number }>();
  let lastLag: number | null = null;
  const recordApplied = (step: number, events: StepEvents, lagMs: number): void => {
    lags.push(lagMs);
    lastLag = lagMs;
    const list = appliedByStep.get(step) ?? [];
    list.push(events);
    appliedByStep.set(step, list);
  };
  const unlisten = session.onRealtimeOutput((o) => {
    const now = performance.now();
    lastDeviceStep = Math.max(lastDeviceStep, o.step);
    for (const seq of o.appliedSeqs) {
      const f = inFlight.get(seq);
      if (!f) {
        // The device can apply a frame before the host's send() has returned its seq: keep it
        // (bounded) for the send to pick up, or the input would be lost from the recording.
        earlyApplied.set(seq, { step: o.step, at: now });
        if (earlyApplied.size > 4 * window + 64) earlyApplied.delete(earlyApplied.keys().next().value!);
        continue;
      }
      inFlight.delete(seq);
      recordApplied(o.step, f.events, now - f.sentAt);
    }
    for (const s of o.sections) {
      if (s.layer !== options.outputLayer) continue;
      outputSpikes += s.indices.length;
      const list = outputsByStep.get(o.step) ?? [];
      list.push(...s.indices);
      outputsByStep.set(o.step, list);
    }
    if (options.onStep) {
      firstSeen ??= o.step;
      const applied = appliedByStep.get(o.step);
      options.onStep({
        sample: 0,
        step: o.step - (firstStepKnown ?? firstSeen),
        input: applied ? mergeRealtimeInputs(applied) : NO_EVENTS,
        sections: o.sections,
        latencyMs: lastLag,
      });
    }
  });
  let hostSteps = 0;
  let inputEvents = 0;
  let hostDropped = 0;
  let sampleCount = 0;
  let interrupted = false;
  const periodMs = periodUs / 1000;
  // The run's time counts from RT_START going out: the device's clock starts when it arrives, so
  // the steps it runs before RT_STOP's answer are at most this span over the period (plus one).
  const t0 = performance.now();
  const firstStep = await session.startRealtime(periodUs, mask);
  firstStepKnown = firstStep;
  let anchor = performance.now();
  let lastStatus = t0;
  let stoppedAt: number | undefined;
  const status = (): StreamStatus => {
    const elapsedMs = performance.now() - t0;
    const steps = Math.max(0, (stoppedAt ?? lastDeviceStep + 1) - firstStep);
    return {
      steps,
      stepsPerSecond: steps / Math.max(1e-3, elapsedMs / 1000),
      inputEvents,
      outputSpikes,
      framesDropped: hostDropped + session.link.counters.gaps - gaps0,
      elapsedMs,
    };
  };
  try {
    outer: for await (const sample of samples) {
      if (sampleCount >= options.maxSamples) break;
      for (let t = 0; t < options.steps; t++) {
        if (options.signal?.aborted) {
          interrupted = true;
          break outer;
        }
        // Pace by the host clock: input k goes out during device step k's period. After a stall
        // longer than the window (a live source waiting for data) the schedule restarts from now
        // instead of bursting the backlog into certain drops.
        let due = anchor + hostSteps * periodMs;
        if (performance.now() - due > window * periodMs) {
          anchor = performance.now() - hostSteps * periodMs;
          due = anchor + hostSteps * periodMs;
        }
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        hostSteps++;
        const events = sample.steps[t] ?? NO_EVENTS;
        if (events.indices.length > 0) {
          if (inFlight.size >= window) {
            hostDropped++; // backpressure: never queue more than the window
          } else {
            const sentAt = performance.now();
            const seq = await session.sendRealtimeInput(events);
            const early = earlyApplied.get(seq);
            if (early) {
              earlyApplied.delete(seq);
              recordApplied(early.step, events, early.at - sentAt);
            } else inFlight.set(seq, { sentAt, events });
            inputEvents += events.indices.length;
          }
        }
        if (options.onStatus && performance.now() - lastStatus >= (options.statusEveryMs ?? 250)) {
          lastStatus = performance.now();
          options.onStatus(status());
        }
      }
      sampleCount++;
    }
    // A live source ends its iteration when Ctrl-C fires while it waits for data.
    if (options.signal?.aborted) interrupted = true;
    // Let the device apply what is in flight: a few periods, bounded.
    const drainUntil = performance.now() + Math.max(50, 4 * periodMs);
    while (inFlight.size > 0 && performance.now() < drainUntil) await sleep(Math.max(1, periodMs));
  } finally {
    stoppedAt = await session.stopRealtime().catch(() => undefined);
    unlisten();
  }
  const seconds = (performance.now() - t0) / 1000;
  const notApplied = inFlight.size;
  const framesDropped = hostDropped + notApplied + (await deviceLosses(session)) - lossesBefore + session.link.counters.gaps - gaps0;
  // The device's next step after RT_STOP tells how many steps ran, silent ones included.
  const length = Math.max(0, (stoppedAt ?? lastDeviceStep + 1) - firstStep);
  const outSteps: StepEvents[] = [];
  const inSteps: StepEvents[] = [];
  for (let k = 0; k < length; k++) {
    const spikes = outputsByStep.get(firstStep + k);
    outSteps.push(spikes ? { indices: Uint32Array.from(spikes) } : NO_EVENTS);
    const applied = appliedByStep.get(firstStep + k);
    inSteps.push(applied ? mergeRealtimeInputs(applied) : NO_EVENTS);
  }
  options.onStatus?.(status());
  return {
    mode: "realtime",
    steps: length,
    samples: sampleCount,
    inputEvents,
    outputSpikes,
    framesDropped,
    inputsDropped: hostDropped + notApplied,
    bytesPerEvent: options.counter && inputEvents > 0 ? round3((options.counter.txBytes - tx0) / inputEvents) : null,
    stepsPerSecond: Math.round(length / Math.max(1e-3, seconds)),
    seconds: round3(seconds)!,
    latencyP50Ms: round3(quantile(lags, 0.5)),
    latencyP99Ms: round3(quantile(lags, 0.99)),
    interrupted,
    outputs: [{ steps: outSteps }],
    appliedInputs: { steps: inSteps },
    firstStep,
    lagFirstTenthP50Ms: round3(quantile(lags.slice(0, Math.ceil(lags.length / 10)), 0.5)),
    lagLastTenthP50Ms: round3(quantile(lags.slice(lags.length - Math.ceil(lags.length / 10)), 0.5)),
  };
}
