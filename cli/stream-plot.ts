/**
 * `stream --plot`: the raster of a streamed run (input as applied, output-layer spikes, firing
 * rates). Real time: the whole run, x in ms; lockstep: the first sample, x in steps.
 */
import type { InputSample, StepEvents } from "../runtime/events.js";
import type { EventTable } from "../runtime/model.js";
import type { StreamSummary } from "../firmware-host/jobs/stream.js";
import { writeFileAtomic } from "./io.js";
import { renderRaster } from "../runtime/plot/raster.js";

/** Wraps a source so the first sample's input is kept for the plot (lockstep records no inputs). */
export function tapFirstSample(
  samples: Iterable<InputSample> | AsyncIterable<InputSample>,
  keepAll = false,
): {
  samples: AsyncIterable<InputSample>;
  first(): InputSample | undefined;
  all(): readonly InputSample[];
} {
  let first: InputSample | undefined;
  const kept: InputSample[] = [];
  return {
    samples: {
      async *[Symbol.asyncIterator]() {
        for await (const s of samples) {
          first ??= s;
          if (keepAll) kept.push(s);
          yield s;
        }
      },
    },
    first: () => first,
    all: () => kept,
  };
}

/** Writes the raster SVG of a stream's summary (and, lockstep, its first sample's input). */
export function writeStreamPlot(
  path: string,
  table: EventTable,
  summary: StreamSummary,
  board: string,
  dtMs: number | undefined,
  firstInput?: InputSample,
): void {
  const last = table.layers.length - 1;
  const outputs = summary.outputs[0]?.steps ?? [];
  const inputs: readonly StepEvents[] = summary.appliedInputs?.steps ?? firstInput?.steps ?? [];
  const steps = Math.max(outputs.length, summary.mode === "realtime" ? inputs.length : 0, 1);
  const label = summary.outputs[0]?.label;
  writeFileAtomic(
    path,
    renderRaster({
      title:
        summary.mode === "realtime"
          ? `stream on ${board}, real time (dt ${dtMs} ms): ${summary.steps} steps, ${summary.framesDropped} dropped`
          : `stream on ${board}, lockstep: sample 0${label === undefined ? "" : ` (label ${label})`} of ${summary.samples}`,
      steps,
      ...(summary.mode === "realtime" && dtMs !== undefined ? { dtMs } : {}),
      primaryName: board,
      layers: [
        { name: summary.mode === "realtime" ? "input (as applied)" : "input", size: table.input.size, spikes: inputs.slice(0, steps) },
        { name: table.layers[last]!.name, size: table.layers[last]!.size, spikes: outputs },
      ],
    }),
  );
}
