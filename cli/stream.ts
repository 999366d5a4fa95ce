/**
 * `picospike stream --board B|--port P --model MODEL.cbor --input SOURCE --steps T [--realtime --dt D]
 * [--json] [--out FILE] [--out-inputs FILE]`: streams input events to a board and reads its output
 * spikes, with a live status line on stderr (steps/s, drops, output spikes). Lockstep by default;
 * `--realtime` lets the device clock run a step every D ms. Ctrl-C stops cleanly: the summary is
 * printed and the --out files are complete spike files (runtime/spikefile.ts), written atomically.
 */
import type { Command } from "commander";
import { fail } from "../runtime/errors.js";
import { encodeSpikeFile, sampleFromInput } from "../runtime/spikefile.js";
import { streamToBoard, type RecordedSample, type StreamStatus } from "../firmware-host/jobs/stream.js";
import { Checkpointer } from "../firmware-host/bridge/checkpoint.js";
import { BOARD_HELP, connectDevice, interruptSignal } from "./device.js";
import { openStreamInput, sourceSyntax } from "../firmware-host/sources/registry.js";
import { tapFirstSample, writeStreamPlot } from "./stream-plot.js";
import { decodeTableFile, intOption, printJson, readFileOrFail, writeFileAtomic } from "./io.js";
import { Interpreter } from "../runtime/interpreter.js";
import { allLayersMask } from "../firmware-host/bridge/session.js";
import type { StreamStep } from "../firmware-host/jobs/stream.js";
import { addUiOptions, feedMeta, feedStep, linkHealth, openLiveView, stepDivergences, type LiveView } from "./ui.js";
import type { EventTable } from "../runtime/model.js";

/**
 * The live view's watcher of a stream: every reported layer of the device and, in lockstep, the
 * interpreter run beside it on the same input (reset with each sample), so the page overlays both.
 */
function streamWatcher(table: EventTable, view: LiveView, lockstep: boolean): { onStep: (st: StreamStep) => void; lagMs: () => number | null } {
  const interp = lockstep ? new Interpreter(table) : undefined;
  let i = 0;
  let lag: number | null = null;
  return {
    lagMs: () => lag,
    onStep: (st) => {
      lag = st.latencyMs;
      const device = table.layers.map((_, l) => st.sections.find((s) => s.layer === l)?.indices ?? new Uint32Array(0));
      let reference: Uint32Array[] | undefined;
      let membranes: (Int32Array | null)[] | undefined;
      if (interp) {
        if (st.step === 0) interp.reset();
        interp.step(st.input);
        reference = table.layers.map((_, l) => (l < 32 ? interp.lastSpikes(l) : new Uint32Array(0)));
        membranes = table.layers.map((layer, l) => (layer.neuron.model === "integrator" ? interp.membrane(l) : null));
      }
      // Real time: x is the device's step, so steps the device ran silently (no RT_OUTPUT) stay blank.
      const fs = feedStep(lockstep ? i++ : st.step, st.sample, st.step, st.input, device, reference, membranes, st.label);
      view.sink.step(fs);
      for (const d of stepDivergences(fs)) view.sink.divergence(d);
    },
  };
}

function writeRecording(path: string, inputSize: number, samples: readonly RecordedSample[]): void {
  const file = encodeSpikeFile({
    inputSize,
    samples: samples.map((s) => sampleFromInput(s.label === undefined ? { steps: s.steps } : { steps: s.steps, label: s.label })),
  });
  writeFileAtomic(path, file);
}

/** Registers the `stream` verb. */
export function register(program: Command): void {
  const cmd = program
    .command("stream")
    .description("stream an input source to a board (--board or --port) and read its output spikes")
    .requiredOption("--model <file>", "event table (.cbor) the board runs (uploaded when the board runs another)")
    .option("--board <name>", BOARD_HELP)
    .option("--port <path>", "serial port or pty of a board running picospike firmware")
    .option("--baud <rate>", "baud rate for --port", "115200")
    .requiredOption("--input <source>", `input source: ${sourceSyntax()} (spec/input-formats.md §7; details in \`picospike run --help\`)`)
    .option("--steps <t>", "steps per sample", "32")
    .option("--samples <n>", "samples to take (default: all, or 1 for endless sources)")
    .option("--realtime", "real-time mode: the device clock drives steps")
    .option("--dt <ms>", "real-time step period in ms (fractions allowed, ≥ 0.001)", "1")
    .option("--window <n>", "real-time: most input frames in flight before inputs are dropped", "8")
    .option("--out <file>", "write the output-layer spikes as a spike file")
    .option(
      "--out-inputs <file>",
      "write the input as a spike file, replayable with --input spikes:FILE (real time: as the device applied it, per device step; lockstep: each sample streamed)",
    )
    .option(
      "--plot <file.svg>",
      "raster plot of the input and output spikes (real time: the whole run as applied; lockstep: the first sample) with firing rates",
    )
    .option(
      "--inject <spec>",
      "inject link faults both ways, e.g. corrupt=0.01,drop=0.01,reset=at:500,seed=7 (spec/protocol.md §7); lockstep results stay exact",
    )
    .option("--save-weights <file>", "write the event table with the learned weights and provenance (atomically) at the end; a later run can start from it")
    .option("--checkpoint-every <n>", "lockstep: also write --save-weights every N steps, so a disconnect keeps what was learned")
    .option("--json", "print one JSON object on stdout");
  addUiOptions(cmd).action(async (opts: Record<string, string | boolean | undefined>) => {
    const steps = intOption("--steps", String(opts["steps"]), 1, 1_000_000);
    const samplesOpt = opts["samples"] === undefined ? undefined : intOption("--samples", String(opts["samples"]), 1, 1_000_000);
    const realtime = opts["realtime"] === true;
    const dtMs = Number(opts["dt"]);
    if (!(dtMs >= 0.001 && dtMs <= 4_000_000)) fail("CLI_USAGE", `--dt must be a number of ms in 0.001..4000000, got '${String(opts["dt"])}'`);
    const modelPath = String(opts["model"]);
    const modelBytes = readFileOrFail(modelPath);
    const table = decodeTableFile(modelPath, modelBytes);
    const outputLayer = table.layers.length - 1;
    const interrupt = interruptSignal();
    const input = openStreamInput(String(opts["input"]), table, steps, samplesOpt, {
      realtime,
      dtUs: Math.max(1, Math.round(dtMs * 1000)),
      signal: interrupt.signal,
      log: (l) => process.stderr.write(l + "\n"),
    });
    let droppedSoFar = 0;
    const boardName = String(opts["board"] ?? opts["port"] ?? "");
    let deviceRef: Parameters<typeof linkHealth>[0] | undefined;
    let lagOf: () => number | null = () => null;
    const view = await openLiveView(
      opts,
      feedMeta(
        table,
        "stream",
        `stream ${modelPath} to ${boardName}, input ${String(opts["input"])}${realtime ? `, real time (dt ${dtMs} ms)` : ", lockstep"}`,
        boardName,
        {
          reference: !realtime,
          ...(realtime ? { dtMs } : { stepsPerSample: input.steps }),
        },
      ),
      {
        health: () =>
          deviceRef
            ? linkHealth(
                deviceRef,
                () => lagOf(),
                () => droppedSoFar,
              )()
            : { lagMs: null, framesDropped: 0, crcRejects: 0, badFrames: 0, retransmissions: 0, recoveries: 0 },
      },
    );
    const device = await connectDevice(
      {
        ...(opts["board"] === undefined ? {} : { board: String(opts["board"]) }),
        ...(opts["port"] === undefined ? {} : { port: String(opts["port"]) }),
        baud: intOption("--baud", String(opts["baud"]), 50, 10_000_000),
        ...(opts["inject"] === undefined ? {} : { inject: String(opts["inject"]) }),
        // an emulated board's clock must follow the wall clock the host paces real-time inputs by
        ...(realtime ? { clock: "host" as const } : {}),
      },
      modelBytes,
    ).catch(async (e: unknown) => {
      await view?.close();
      throw e;
    });
    deviceRef = device;
    const watcher = view ? streamWatcher(table, view, !realtime) : undefined;
    if (watcher) lagOf = watcher.lagMs;
    let finished: Record<string, unknown> | undefined;
    const savePath = opts["saveWeights"] === undefined ? undefined : String(opts["saveWeights"]);
    const every = opts["checkpointEvery"] === undefined ? undefined : intOption("--checkpoint-every", String(opts["checkpointEvery"]), 1, 1_000_000_000);
    if (every !== undefined && (savePath === undefined || realtime)) {
      await device.close();
      await view?.close();
      fail("CLI_USAGE", "--checkpoint-every needs --save-weights and lockstep mode");
    }
    const checkpoints = savePath === undefined ? undefined : new Checkpointer(device.session, table, (bytes) => writeFileAtomic(savePath, bytes), every);
    const showStatus = process.stderr.isTTY === true || !opts["json"];
    const line = (s: StreamStatus): void => {
      droppedSoFar = s.framesDropped;
      if (!showStatus) return;
      const text = `stream: ${s.steps} steps, ${s.stepsPerSecond.toFixed(0)} steps/s, ${s.inputEvents} input events, ${s.outputSpikes} output spikes, ${s.framesDropped} dropped`;
      process.stderr.write(process.stderr.isTTY ? `\r${text}   ` : `${text}\n`);
    };
    try {
      const tap = tapFirstSample(input.samples, opts["outInputs"] !== undefined && !realtime);
      const summary = await streamToBoard(device.session, tap.samples, {
        steps: input.steps,
        maxSamples: input.count,
        outputLayer,
        counter: device.counter,
        signal: interrupt.signal,
        onStatus: line,
        statusEveryMs: process.stderr.isTTY ? 250 : 2000,
        ...(checkpoints ? { afterStep: (n: number) => checkpoints.afterStep({ steps: n, rewards: 0 }) } : {}),
        window: intOption("--window", String(opts["window"]), 1, 255),
        ...(realtime ? { periodUs: Math.max(1, Math.round(dtMs * 1000)) } : {}),
        ...(watcher ? { onStep: watcher.onStep, reportMask: allLayersMask(table.layers.length) } : {}),
      });
      if (showStatus && process.stderr.isTTY) process.stderr.write("\n");
      if (opts["out"] !== undefined) writeRecording(String(opts["out"]), table.layers[outputLayer]!.size, summary.outputs);
      if (opts["outInputs"] !== undefined && summary.appliedInputs) writeRecording(String(opts["outInputs"]), table.input.size, [summary.appliedInputs]);
      else if (opts["outInputs"] !== undefined)
        writeRecording(
          String(opts["outInputs"]),
          table.input.size,
          tap
            .all()
            .slice(0, summary.samples)
            .map((s) => (s.label === undefined ? { steps: [...s.steps] } : { steps: [...s.steps], label: s.label })),
        );
      if (opts["plot"] !== undefined) writeStreamPlot(String(opts["plot"]), table, summary, device.description, realtime ? dtMs : undefined, tap.first());
      await checkpoints?.save({ steps: summary.steps, rewards: 0 });
      const stats = await device.session.stats().catch(() => undefined);
      const { outputs: _outputs, appliedInputs: _applied, ...numbers } = summary;
      const result = {
        model: modelPath,
        device: device.description,
        uploaded: device.uploaded,
        ...numbers,
        ...(realtime ? { lagP50Ms: summary.latencyP50Ms, lagP99Ms: summary.latencyP99Ms, dtMs } : {}),
        ...(device.faults() ? { faults: device.faults() } : {}),
        ...(stats ? { deviceStats: { steps: stats.steps, gaps: stats.gaps, dropped: stats.dropped, badFrame: stats.badFrame, badCrc: stats.badCrc } } : {}),
      };
      if (opts["json"]) printJson(result);
      else {
        process.stdout.write(
          `${summary.mode}: ${summary.steps} steps, ${summary.samples} samples, ${summary.inputEvents} input events, ${summary.outputSpikes} output spikes, ` +
            `${summary.framesDropped} frames dropped, ${summary.bytesPerEvent ?? "-"} bytes/event, ${summary.stepsPerSecond} steps/s; ` +
            `latency p50 ${summary.latencyP50Ms ?? "-"} ms, p99 ${summary.latencyP99Ms ?? "-"} ms${summary.interrupted ? " (interrupted)" : ""}\n`,
        );
      }
      if (realtime && summary.inputsDropped > 0)
        process.stderr.write(
          `warning: ${summary.inputsDropped} input frames were not applied in real time: the line or the board carries less than one input frame ` +
            `every ${dtMs} ms (at most --window ${String(opts["window"])} frames may be in flight); a larger --dt or --window, or a sparser input, keeps up\n`,
        );
      if (summary.interrupted) process.exitCode = 130;
      finished = result;
    } finally {
      interrupt.dispose();
      await device.close();
      if (finished === undefined) await view?.close();
    }
    await view?.finish(finished);
  });
}
