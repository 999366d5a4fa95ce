/**
 * `picospike adapt --board B|--port P [--task NAME] [--trials N] [--seed S] [--json] [--plot FILE.svg]
 * [--save-weights OUT.cbor]`: a closed-loop task (models/adapt/associative.ts) with the environment
 * on the host and the learner, an R-STDP layer, on the board. Prints a summary (accuracy over the
 * last 200 trials, learning curve) and checks that the device's weights equal the interpreter's
 * replay of the same input and reward log, bit for bit. `--task patterns` is unsupervised instead
 * (models/adapt/patterns.ts): an STDP layer learns streamed spike patterns without labels or
 * rewards, and the report is Diehl & Cook's separation figure for the learned and the untrained layer.
 */
import type { Command } from "commander";
import { encodeTable } from "../runtime/format.js";
import { ADAPT_TASKS, adaptTask, type AdaptTask } from "../models/adapt/associative.js";
import { adaptOnDevice, patternsOnDevice, type AdaptReport, type PatternsReport } from "../models/adapt/on-device.js";
import { PATTERN_TASKS, receptiveFields, type PatternsTask } from "../models/adapt/patterns.js";
import { renderChart } from "../runtime/plot/chart.js";
import { renderHeatmaps } from "../runtime/plot/heatmap.js";
import { fail } from "../runtime/errors.js";
import type { EventTable } from "../runtime/model.js";
import { storedWeights16 } from "../runtime/plasticity.js";
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

/**
 * Runs an unsupervised pattern task on a connected session (its plastic model already loaded): the
 * frozen evaluation tables are uploaded in turn (the session keeps the last one), so the device
 * itself counts the spikes the figure is made of.
 */
export function patternsOnSession(
  session: BoardSession,
  task: PatternsTask,
  presentations: number,
  seed: number,
  options: { signal?: AbortSignal; onProgress?: Parameters<typeof patternsOnDevice>[2]["onProgress"]; label?: number; test?: number } = {},
): Promise<PatternsReport> {
  const learner = sessionLearner(session, 0);
  return patternsOnDevice(
    {
      ...learner,
      load: async (table: EventTable) => {
        await session.ensureModel(encodeTable(table));
        await session.resetState();
      },
    },
    task,
    {
      presentations,
      label: options.label ?? task.labelPresentations,
      test: options.test ?? task.testPresentations,
      seed,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    },
  );
}

/** One line of the text report of a pattern run. */
function patternsSummary(task: PatternsTask, device: string, r: PatternsReport): string {
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  return (
    `adapt ${task.name} on ${device}: ${r.presentations} learning presentations (${r.steps} steps, no labels, no rewards); ` +
    `held-out accuracy ${pct(r.trained.accuracy)} after learning vs ${pct(r.untrained.accuracy)} untrained (chance ${pct(r.chance)}); ` +
    `patterns with a distinct preferred neuron ${r.trained.distinctPatterns}/${r.patterns} (untrained ${r.untrained.distinctPatterns}/${r.patterns}); ` +
    `device weights ${r.weightsBitExact ? "bit-identical to" : "DIFFER from"} the interpreter's replay, ` +
    `evaluation spike counts ${r.evaluationBitExact ? "bit-identical" : "DIFFER"}\n`
  );
}

/** Registers the `adapt` verb. */
export function register(program: Command): void {
  const cmd = program
    .command("adapt")
    .description(
      "learning on a board: closed-loop R-STDP (the host rewards the board's actions) or, with --task patterns, unsupervised STDP with lateral inhibition learning spike patterns",
    )
    .option("--board <name>", BOARD_HELP)
    .option("--port <path>", "serial port or pty of a board running picospike firmware")
    .option("--baud <rate>", "baud rate for --port", "115200")
    .option(
      "--task <name>",
      `task: ${Object.keys(ADAPT_TASKS).join(", ")} (rewarded; report finalAccuracy over the last 200 trials, trialsTo90, the learning curve); ` +
        `${Object.keys(PATTERN_TASKS).join(", ")} (unsupervised; report the held-out accuracy of Diehl & Cook's label-assignment vote and the patterns with a distinct preferred neuron, learned vs untrained). ` +
        "Every task reports weightsBitExact",
      "associative",
    )
    .option(
      "--trials <n>",
      `trials to run (rewarded tasks; default 2000), or learning presentations (pattern tasks; default ${Object.entries(PATTERN_TASKS)
        .map(([name, make]) => `${make(1).presentations} for ${name}`)
        .join(", ")})`,
    )
    .option("--seed <s>", "seed of the task (initial weights; the pattern → action map, or the patterns) and of the environment", "1")
    .option("--plot <file>", "write the learning curve as SVG (pattern tasks: the learned receptive fields, one heatmap per neuron)")
    .option("--save-weights <file>", "write the learned event table (.cbor) with provenance")
    .option("--json", "print one JSON object on stdout");
  addUiOptions(cmd).action(async (opts: Record<string, string | boolean | undefined>) => {
    const seed = intOption("--seed", String(opts["seed"]), 1, 0xffffffff);
    const patternTask = Object.hasOwn(PATTERN_TASKS, String(opts["task"])) ? PATTERN_TASKS[String(opts["task"])] : undefined;
    if (patternTask !== undefined) {
      if (opts["ui"] !== undefined || opts["uiPort"] !== undefined)
        fail("CLI_USAGE", "--ui shows the rewarded tasks; the pattern tasks report on stdout and --plot");
      const task = patternTask(seed);
      const presentations = intOption("--trials", String(opts["trials"] ?? task.presentations), 1, 1_000_000);
      await runPatterns(task, presentations, seed, opts);
      return;
    }
    if (!Object.hasOwn(ADAPT_TASKS, String(opts["task"])))
      fail("CLI_USAGE", `unknown task '${String(opts["task"])}' (known: ${[...Object.keys(ADAPT_TASKS), ...Object.keys(PATTERN_TASKS)].join(", ")})`);
    const trials = intOption("--trials", String(opts["trials"] ?? 2000), 1, 1_000_000);
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

/** `adapt --task patterns`: connect, learn, evaluate, print; progress on stderr (one line rewritten in place on a terminal, else a line per tenth of each phase). */
async function runPatterns(task: PatternsTask, presentations: number, seed: number, opts: Record<string, string | boolean | undefined>): Promise<void> {
  const device = await connectDevice(
    {
      ...(opts["board"] === undefined ? {} : { board: String(opts["board"]) }),
      ...(opts["port"] === undefined ? {} : { port: String(opts["port"]) }),
      baud: intOption("--baud", String(opts["baud"]), 50, 10_000_000),
    },
    encodeTable(task.table),
  );
  const interrupt = interruptSignal();
  interrupt.signal.addEventListener("abort", () =>
    process.stderr.write(`\nadapt ${task.name}: interrupted; evaluating what was learned (Ctrl-C again quits)\n`),
  );
  const tty = process.stderr.isTTY === true;
  let lastTenth = -1;
  let lastPhase = "";
  const onProgress = (phase: string, done: number, total: number): void => {
    if (tty) {
      process.stderr.write(`\radapt ${task.name}: ${phase} ${done}/${total}   `);
      if (done === total) process.stderr.write("\n");
      return;
    }
    const tenth = Math.floor((10 * done) / total);
    if (phase === lastPhase && tenth === lastTenth) return;
    process.stderr.write(`adapt ${task.name}: ${phase} ${done}/${total} presentations\n`);
    lastPhase = phase;
    lastTenth = tenth;
  };
  try {
    const report = await patternsOnSession(device.session, task, presentations, (seed ^ 0x9e3779b9) >>> 0 || 1, { signal: interrupt.signal, onProgress });
    if (opts["plot"] !== undefined) {
      const input = report.learned.layers[0]!.input;
      const weights = input.kind === "dense" ? storedWeights16(input.weights) : new Int16Array(0);
      writeFileAtomic(
        String(opts["plot"]),
        renderHeatmaps(
          receptiveFields(
            task,
            weights,
            report.trained.assignment,
            `adapt ${task.name} on ${String(opts["board"] ?? "a board")}: receptive fields after ${report.presentations} presentations (held-out accuracy ${(100 * report.trained.accuracy).toFixed(0)} %)`,
          ),
        ),
      );
    }
    if (opts["saveWeights"] !== undefined) writeFileAtomic(String(opts["saveWeights"]), encodeTable(report.learned));
    const { learned: _learned, ...numbers } = report;
    if (opts["json"]) printJson({ device: device.description, ...numbers });
    else process.stdout.write(patternsSummary(task, device.description, report));
    if (!report.weightsBitExact || !report.evaluationBitExact) process.exitCode = 1;
  } finally {
    interrupt.dispose();
    await device.close();
  }
}
