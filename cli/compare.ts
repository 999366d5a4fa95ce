/**
 * `picospike compare MODEL.cbor --board B|--port P --input SOURCE --steps T [--json]`: the same input
 * through the device (lockstep) and the reference interpreter; a bit-exact verdict and the first
 * divergence (sample, step, layer, neuron, both values). Exit code 0 when bit-exact, 3 when not.
 */
import type { Command } from "commander";
import { fail } from "../runtime/errors.js";
import type { StepEvents } from "../runtime/events.js";
import type { EventTable } from "../runtime/model.js";
import { encodeSpikeFile, sampleFromInput } from "../runtime/spikefile.js";
import { compareRun, type CompareStep, type Divergence } from "../firmware-host/jobs/compare.js";
import { BOARD_HELP, connectDevice, interruptSignal } from "./device.js";
import { openInput, sourceSyntax } from "../firmware-host/sources/registry.js";
import { decodeTableFile, intOption, printJson, readFileOrFail, writeFileAtomic } from "./io.js";
import { renderRaster } from "../runtime/plot/raster.js";
import { addUiOptions, feedMeta, feedStep, linkHealth, openLiveView, stepDivergences } from "./ui.js";

/** One sample's spikes on both sides, per layer (index 0 = the input). */
interface SampleRaster {
  readonly sample: number;
  readonly label?: number;
  readonly input: StepEvents[];
  readonly device: StepEvents[][];
  readonly interpreter: StepEvents[][];
  /** Per layer: the interpreter's membranes after each step (integrator layers only), and the device's read-backs by step. */
  readonly membranes: Array<{ reference: Int32Array[]; device: Map<number, Int32Array> } | null>;
}

function emptyRaster(table: EventTable, sample: number, label: number | undefined): SampleRaster {
  return {
    sample,
    ...(label === undefined ? {} : { label }),
    input: [],
    device: table.layers.map(() => []),
    interpreter: table.layers.map(() => []),
    membranes: table.layers.map((l) => (l.neuron.model === "integrator" ? { reference: [], device: new Map() } : null)),
  };
}

/** The raster SVG of one compared sample: input, every layer, device over interpreter, the divergence marked. */
export function compareRasterSvg(table: EventTable, raster: SampleRaster, steps: number, divergence: Divergence | null, board: string): string {
  // a weight divergence has no neuron to ring on the raster; the title says it diverged
  const d = divergence && divergence.sample === raster.sample && divergence.kind !== "weight" ? divergence : null;
  const diverged = divergence !== null && divergence.sample === raster.sample;
  return renderRaster({
    title: `compare on ${board}: sample ${raster.sample}${raster.label === undefined ? "" : ` (label ${raster.label})`} — ${d ? "diverged" : diverged ? "learned weights diverged" : "bit-exact in spikes"}`,
    steps,
    layers: [
      { name: "input", size: table.input.size, spikes: raster.input },
      ...table.layers.map((l, k) => {
        const m = raster.membranes[k];
        return {
          name: l.name,
          size: l.size,
          spikes: raster.device[k]!,
          reference: raster.interpreter[k]!,
          ...(m ? { membrane: { reference: m.reference, primary: m.device } } : {}),
        };
      }),
    ],
    ...(d
      ? {
          divergence: {
            step: d.step,
            layer: d.layer + 1,
            neuron: d.neuron,
            text: `first divergence: step ${d.step}, ${table.layers[d.layer]!.name} neuron ${d.neuron} (${d.kind})`,
          },
        }
      : {}),
  });
}

/** Registers the `compare` verb. */
export function register(program: Command): void {
  const cmd = program
    .command("compare")
    .description("run the same input on a board and on the interpreter; bit-exact verdict and first divergence")
    .argument("<model>", "event table (.cbor)")
    .option("--board <name>", BOARD_HELP)
    .option("--port <path>", "serial port or pty of a board running picospike firmware")
    .option("--baud <rate>", "baud rate for --port", "115200")
    .requiredOption("--input <source>", `input source: ${sourceSyntax()} (spec/input-formats.md §7; details in \`picospike run --help\`)`)
    .option("--steps <t>", "steps per sample", "32")
    .option("--samples <n>", "samples to take (default: all, or 1 for endless sources)")
    .option("--every-step", "read membranes back after every step, not only at the end of each sample")
    .option("--plot <file.svg>", "raster plot (input, every layer, device over interpreter, first divergence marked, firing rates) of one sample")
    .option("--plot-sample <n>", "sample to plot (default: the first that diverged, else 0)")
    .option("--out <file>", "write the device's output-layer spikes as a spike file (spec/spike-file.md)")
    .option(
      "--inject <spec>",
      "inject link faults both ways, e.g. corrupt=0.01,drop=0.01,reset=at:500,seed=7 (spec/protocol.md §7); lockstep results stay exact",
    )
    .option("--report <file.html>", "write the run as one self-contained interactive HTML page (the live view's page, offline: pick a sample, zoom, hover)")
    .option("--json", "print one JSON object on stdout");
  addUiOptions(cmd).action(async (modelPath: string, opts: Record<string, string | boolean | undefined>) => {
    const steps = intOption("--steps", String(opts["steps"]), 1, 1_000_000);
    const samplesOpt = opts["samples"] === undefined ? undefined : intOption("--samples", String(opts["samples"]), 1, 1_000_000);
    const modelBytes = readFileOrFail(modelPath);
    const table = decodeTableFile(modelPath, modelBytes);
    const input = openInput(String(opts["input"]), table, steps, samplesOpt);
    const boardName = String(opts["board"] ?? opts["port"] ?? "");
    // The live view starts before the device: its URL is printed while a board builds and boots.
    let deviceRef: Parameters<typeof linkHealth>[0] | undefined;
    let lastStepMs: number | null = null;
    const view = await openLiveView(
      opts,
      feedMeta(table, "compare", `compare ${modelPath} on ${boardName}, input ${String(opts["input"])}`, boardName, { reference: true, stepsPerSample: steps }),
      {
        ...(opts["report"] === undefined ? {} : { reportPath: String(opts["report"]) }),
        health: () =>
          deviceRef
            ? linkHealth(deviceRef, () => lastStepMs)()
            : { lagMs: null, framesDropped: 0, crcRejects: 0, badFrames: 0, retransmissions: 0, recoveries: 0 },
      },
    );
    const device = await connectDevice(
      {
        ...(opts["board"] === undefined ? {} : { board: String(opts["board"]) }),
        ...(opts["port"] === undefined ? {} : { port: String(opts["port"]) }),
        baud: intOption("--baud", String(opts["baud"]), 50, 10_000_000),
        ...(opts["inject"] === undefined ? {} : { inject: String(opts["inject"]) }),
      },
      modelBytes,
    ).catch(async (e: unknown) => {
      await view?.close();
      throw e;
    });
    deviceRef = device;
    const interrupt = interruptSignal();
    let finished: Record<string, unknown> | undefined;
    const tty = process.stderr.isTTY === true && !opts["json"];
    const plotPath = opts["plot"] === undefined ? undefined : String(opts["plot"]);
    const plotSample = opts["plotSample"] === undefined ? undefined : intOption("--plot-sample", String(opts["plotSample"]), 0, 10_000_000);
    const outPath = opts["out"] === undefined ? undefined : String(opts["out"]);
    const last = table.layers.length - 1;
    // Rasters: the sample being compared, and the one kept for the plot (requested, first diverging, or 0).
    let current: SampleRaster | undefined;
    let kept: SampleRaster | undefined;
    let current0: SampleRaster | undefined;
    const outputs: Array<{ label?: number; steps: StepEvents[] }> = [];
    const labels: Array<number | undefined> = [];
    let runStep = 0;
    let sampleStart = 0;
    let stepAt = performance.now();
    const onStep = (st: CompareStep): void => {
      if (view) {
        const now = performance.now();
        lastStepMs = now - stepAt;
        stepAt = now;
        if (st.step === 0) sampleStart = runStep;
        const fs = feedStep(runStep++, st.sample, st.step, st.input, st.device, st.interpreter, st.interpreterMembranes, labels[st.sample]);
        view.sink.step(fs);
        for (const d of stepDivergences(fs)) view.sink.divergence(d);
      }
      if (outPath !== undefined) {
        if (st.step === 0) outputs.push(labels[st.sample] === undefined ? { steps: [] } : { label: labels[st.sample]!, steps: [] });
        outputs[outputs.length - 1]!.steps.push({ indices: st.device[last]! });
      }
      if (plotPath === undefined) return;
      if (st.step === 0) current = emptyRaster(table, st.sample, labels[st.sample]);
      current!.input.push(st.input);
      st.device.forEach((d, l) => current!.device[l]!.push({ indices: d }));
      st.interpreter.forEach((d, l) => current!.interpreter[l]!.push({ indices: d }));
      st.interpreterMembranes.forEach((v, l) => v && current!.membranes[l]!.reference.push(v));
    };
    const onMembranes = (read: { sample: number; step: number; device: readonly Int32Array[] }): void => {
      if (current === undefined || current.sample !== read.sample) return;
      read.device.forEach((v, l) => current!.membranes[l]?.device.set(read.step, v));
    };
    const labelled = {
      *[Symbol.iterator]() {
        for (const sample of input.samples) {
          labels.push(sample.label);
          yield sample;
        }
      },
    };
    try {
      const report = await compareRun(device.session, table, labelled, {
        steps,
        maxSamples: input.count,
        membranesEveryStep: opts["everyStep"] === true,
        signal: interrupt.signal,
        onStep,
        onMembranes,
        onSample: (done, r) => {
          const fd = r.firstDivergence;
          if (view && fd && fd.kind === "membrane" && fd.sample === done - 1) view.sink.divergence({ ...fd, kind: fd.kind, i: sampleStart + fd.step });
          if (current && kept === undefined) {
            if (plotSample !== undefined) {
              if (plotSample === done - 1) kept = current;
            } else {
              if (done === 1) current0 = current;
              if (r.firstDivergence !== null && r.firstDivergence.sample === done - 1) kept = current;
            }
          }
          if (tty) process.stderr.write(`\rcompare: ${done} samples, ${r.steps} steps, ${r.firstDivergence ? "DIVERGED" : "bit-exact so far"}   `);
        },
      });
      if (tty) process.stderr.write("\n");
      if (plotPath !== undefined) {
        const chosen = kept ?? (plotSample === undefined ? current0 : undefined);
        if (chosen === undefined) fail("CLI_USAGE", `--plot-sample ${plotSample} is beyond the ${report.samples} samples compared`);
        writeFileAtomic(plotPath, compareRasterSvg(table, chosen, steps, report.firstDivergence, device.description));
      }
      if (outPath !== undefined)
        writeFileAtomic(outPath, encodeSpikeFile({ inputSize: table.layers[last]!.size, samples: outputs.map((o) => sampleFromInput(o)) }));
      const faults = device.faults();
      const summary = { model: modelPath, device: device.description, uploaded: device.uploaded, ...report, ...(faults ? { faults } : {}) };
      if (opts["json"]) printJson(summary);
      else {
        const d = report.firstDivergence;
        process.stdout.write(
          `${report.bitExact ? "bit-exact" : "NOT bit-exact"}: ${report.samples} samples, ${report.steps} steps on ${device.description}; ` +
            `output spikes device ${report.outputSpikes}, interpreter ${report.interpreterOutputSpikes}` +
            (report.deviceAccuracy !== null
              ? `; accuracy device ${(100 * report.deviceAccuracy).toFixed(2)}%, interpreter ${(100 * report.interpreterAccuracy!).toFixed(2)}%`
              : "") +
            "\n" +
            (d
              ? `first divergence: sample ${d.sample}, step ${d.step}, layer ${d.layer}, ${d.kind === "weight" ? "synapse" : "neuron"} ${d.neuron}: ${d.kind} device ${d.device}, interpreter ${d.interpreter}\n`
              : "") +
            (report.interrupted ? "interrupted: the verdict covers the steps run before Ctrl-C\n" : "") +
            (faults
              ? `faults: ${faults.framesRejected} frames rejected, ${faults.retransmissions} retransmissions, ${faults.recoveries} recoveries, ${faults.injected.resets} resets injected\n`
              : ""),
        );
      }
      if (!report.bitExact) process.exitCode = report.interrupted ? 130 : 3;
      finished = summary;
    } finally {
      interrupt.dispose();
      await device.close();
      if (finished === undefined) await view?.close();
    }
    await view?.finish(finished);
  });
}
