/**
 * `picospike adapt --board B|--port P [--task NAME] [--trials N] [--seed S] [--json] [--plot FILE.svg]
 * [--save-weights OUT.cbor]`: a closed-loop task (models/adapt/associative.ts) with the environment
 * on the host and the learner, an R-STDP layer, on the board. Prints a summary (accuracy over the
 * last 200 trials, learning curve) and checks that the device's weights equal the interpreter's
 * replay of the same input and reward log, bit for bit.
 */
import type { Command } from "commander";
import { encodeTable } from "../runtime/format.js";
import { ADAPT_TASKS, adaptTask, type AdaptTask } from "../models/adapt/associative.js";
import { adaptOnDevice, type AdaptReport } from "../models/adapt/on-device.js";
import { renderChart } from "../runtime/plot/chart.js";
import type { BoardSession } from "../firmware-host/bridge/session.js";
import { sessionLearner, type StepWatcher } from "../firmware-host/jobs/adapt.js";
import { allLayersMask } from "../firmware-host/bridge/session.js";
import type { FeedSink } from "../ui/hub.js";
import { addUiOptions, feedMeta, feedStep, linkHealth, openLiveView } from "./ui.js";
import { BOARD_HELP, connectDevice, interruptSignal } from "./device.js";
import { intOption, printJson, writeFileAtomic } from "./io.js";

/**
 * Runs `task` on a connected session (model already loaded): the action layer is the last one. With
 * `sink` (the live view), every layer of every step and every trial's reward go to it.
 */
export function adaptOnSession(
  session: BoardSession,
  task: AdaptTask,
  trials: number,
  seed: number,
  signal?: AbortSignal,
  sink?: FeedSink,
  onLag?: (ms: number) => void,
): Promise<AdaptReport> {
  const layers = task.table.layers;
  let i = 0;
  let at = performance.now();
  const watcher: StepWatcher | undefined = sink && {
    reportMask: allLayersMask(layers.length),
    onStep: (t, input, sections) => {
      const now = performance.now();
      onLag?.(now - at);
      at = now;
      sink.step(
        feedStep(
          i++,
          0,
          t,
          input,
          layers.map((_, l) => sections.find((s) => s.layer === l)?.indices ?? []),
        ),
      );
    },
  };
  const learner = sessionLearner(session, layers.length - 1, watcher);
  if (!sink) return adaptOnDevice(learner, task, trials, seed, signal);
  // The reward of each trial (value and target step) as the environment sent it, for the reward stream.
  let last = { step: 0, value: 0 };
  const watched = {
    ...learner,
    reward: async (step: number, value: number) => {
      last = { step, value };
      await learner.reward(step, value);
    },
  };
  return adaptOnDevice(watched, task, trials, seed, signal, (trial, correct) => sink.trial({ trial, correct, reward: last.value, step: last.step }));
}

/** Registers the `adapt` verb. */
export function register(program: Command): void {
  const cmd = program
    .command("adapt")
    .description("closed-loop learning on a board: the host rewards the board's actions, an R-STDP layer learns on the device")
    .option("--board <name>", BOARD_HELP)
    .option("--port <path>", "serial port or pty of a board running picospike firmware")
    .option("--baud <rate>", "baud rate for --port", "115200")
    .option("--task <name>", `task: ${Object.keys(ADAPT_TASKS).join(", ")}`, "associative")
    .option("--trials <n>", "trials to run", "2000")
    .option("--seed <s>", "seed of the task (initial weights, pattern → action map) and of the environment", "1")
    .option("--plot <file>", "write the learning curve as SVG")
    .option("--save-weights <file>", "write the learned event table (.cbor) with provenance")
    .option("--json", "print one JSON object on stdout");
  addUiOptions(cmd).action(async (opts: Record<string, string | boolean | undefined>) => {
    const trials = intOption("--trials", String(opts["trials"]), 1, 1_000_000);
    const seed = intOption("--seed", String(opts["seed"]), 1, 0xffffffff);
    const task = adaptTask(String(opts["task"]), seed);
    const boardName = String(opts["board"] ?? opts["port"] ?? "");
    let deviceRef: Parameters<typeof linkHealth>[0] | undefined;
    let lag: number | null = null;
    const view = await openLiveView(
      opts,
      feedMeta(task.table, "adapt", `adapt ${task.name} on ${boardName}: ${task.description}`, boardName, { reference: false }),
      {
        health: () =>
          deviceRef ? linkHealth(deviceRef, () => lag)() : { lagMs: null, framesDropped: 0, crcRejects: 0, badFrames: 0, retransmissions: 0, recoveries: 0 },
      },
    );
    const device = await connectDevice(
      {
        ...(opts["board"] === undefined ? {} : { board: String(opts["board"]) }),
        ...(opts["port"] === undefined ? {} : { port: String(opts["port"]) }),
        baud: intOption("--baud", String(opts["baud"]), 50, 10_000_000),
      },
      encodeTable(task.table),
    ).catch(async (e: unknown) => {
      await view?.close();
      throw e;
    });
    deviceRef = device;
    const interrupt = interruptSignal();
    let finished: Record<string, unknown> | undefined;
    try {
      const report = await adaptOnSession(device.session, task, trials, (seed ^ 0x9e3779b9) >>> 0 || 1, interrupt.signal, view?.sink, (ms) => (lag = ms));
      if (opts["plot"] !== undefined) {
        writeFileAtomic(
          String(opts["plot"]),
          renderChart({
            title: `picospike adapt: ${task.description} on ${device.description}`,
            xLabel: "trial",
            yLabel: "fraction correct (last 200 trials)",
            series: [{ name: "accuracy", points: report.curve }],
            hLines: [
              { y: 0.9, label: "target 90 %" },
              { y: 1 / task.actions, label: "chance" },
            ],
          }),
        );
      }
      if (opts["saveWeights"] !== undefined) writeFileAtomic(String(opts["saveWeights"]), encodeTable(report.learned));
      const { learned: _learned, curve, ...numbers } = report;
      finished = { device: device.description, ...numbers };
      if (opts["json"]) printJson({ device: device.description, ...numbers, curve });
      else {
        process.stdout.write(
          `adapt ${task.name} on ${device.description}: ${report.trials} trials (${report.steps} steps, ${report.rewards} rewards); ` +
            `accuracy over the last 200 trials ${(100 * report.finalAccuracy).toFixed(1)} %; ` +
            `90 % reached ${report.trialsTo90 === null ? "never" : `after trial ${report.trialsTo90}`}; ` +
            `device weights ${report.weightsBitExact ? "bit-identical to" : "DIFFER from"} the interpreter's replay\n`,
        );
      }
      if (!report.weightsBitExact) process.exitCode = 1;
    } finally {
      interrupt.dispose();
      await device.close();
      if (finished === undefined) await view?.close();
    }
    await view?.finish(finished);
  });
}
