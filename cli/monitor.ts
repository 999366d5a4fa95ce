/**
 * `picospike monitor --port P --model MODEL.cbor [--dt MS] [--input SOURCE] [--steps N] [--ui-port N]
 * [--json]`: attaches the live view to a board that is already running picospike firmware with
 * MODEL (it is never uploaded or changed: the model is needed only to name and size the layers), runs
 * it in real time on its own clock with every layer reported, and serves the view until Ctrl-C.
 * Without --input the board runs on its own (bias currents, recurrent activity); with one, the input
 * is streamed as `stream --realtime` does.
 */
import type { Command } from "commander";
import { fail } from "../runtime/errors.js";
import { decodeTable, tableHash } from "../runtime/format.js";
import { NO_EVENTS, type InputSample } from "../runtime/events.js";
import { allLayersMask } from "../firmware-host/bridge/session.js";
import { streamToBoard } from "../firmware-host/jobs/stream.js";
import { CAP } from "../firmware-host/wire/messages.js";
import { openBoard } from "../firmware-host/boards/open-board.js";
import { interruptSignal } from "./device.js";
import { openStreamInput } from "../firmware-host/sources/registry.js";
import { intOption, printJson, readFileOrFail } from "./io.js";
import { feedMeta, feedStep, linkHealth, openLiveView, type LiveView } from "./ui.js";

/** Silence for ever (the board runs on its own): one empty step per sample. */
function* silence(): Generator<InputSample> {
  for (;;) yield { steps: [NO_EVENTS] };
}

/** Registers the `monitor` verb. */
export function register(program: Command): void {
  program
    .command("monitor")
    .description("attach the live view to a board running picospike firmware: real time on its clock, every layer shown in the browser")
    .option("--port <path>", "serial port or pty of the running board")
    .option("--board <name>", "instead of --port: start this board (mock or a built one) with the model, then attach")
    .option("--baud <rate>", "baud rate for --port", "115200")
    .requiredOption("--model <file>", "the event table (.cbor) the board runs: names and sizes the layers (checked by hash, never uploaded)")
    .option("--dt <ms>", "real-time step period in ms (≥ 0.001)", "1")
    .option("--input <source>", "also stream this input source, as stream --realtime does (default: none, the board runs on its own)")
    .option("--steps <n>", "stop after this many steps (default: until Ctrl-C)")
    .option("--ui-port <port>", "port of the live view (default: one the system picks)")
    .option("--json", "print one JSON object on stdout at the end")
    .action(async (opts: Record<string, string | boolean | undefined>) => {
      if (opts["port"] === undefined && opts["board"] === undefined) fail("CLI_USAGE", "give --port PATH of the running board (or --board NAME to start one)");
      const dtMs = Number(opts["dt"]);
      if (!(dtMs >= 0.001 && dtMs <= 4_000_000)) fail("CLI_USAGE", `--dt must be a number of ms in 0.001..4000000, got '${String(opts["dt"])}'`);
      const maxSteps = opts["steps"] === undefined ? Number.MAX_SAFE_INTEGER : intOption("--steps", String(opts["steps"]), 1, 1_000_000_000);
      const modelPath = String(opts["model"]);
      const modelBytes = readFileOrFail(modelPath);
      const table = decodeTable(modelBytes);
      const interrupt = interruptSignal();
      const periodUs = Math.max(1, Math.round(dtMs * 1000));
      const input =
        opts["input"] === undefined
          ? { samples: silence(), count: maxSteps, steps: 1 }
          : openStreamInput(String(opts["input"]), table, 32, Math.min(1_000_000, Math.ceil(maxSteps / 32)), {
              realtime: true,
              dtUs: periodUs,
              signal: interrupt.signal,
              log: (l) => process.stderr.write(l + "\n"),
            });
      const where = String(opts["port"] ?? opts["board"]);
      let deviceRef: Parameters<typeof linkHealth>[0] | undefined;
      let lag: number | null = null;
      let dropped = 0;
      // Attaching to --port never changes what the board runs (no upload); a board started by --board gets the model.
      const attach = opts["port"] !== undefined;
      const device = await openBoard({
        ...(opts["board"] === undefined ? {} : { board: String(opts["board"]) }),
        ...(opts["port"] === undefined ? {} : { port: String(opts["port"]) }),
        baud: intOption("--baud", String(opts["baud"]), 50, 10_000_000),
        model: modelBytes,
        upload: !attach,
        clock: "host", // monitoring is real time: an emulated board's clock follows the wall clock
      }).catch((e: unknown) => {
        interrupt.dispose();
        throw e;
      });
      deviceRef = device;
      let view: LiveView | undefined;
      let finished: Record<string, unknown> | undefined;
      try {
        const wanted = tableHash(modelBytes);
        if (attach && device.session.modelHash !== wanted) {
          const running = device.session.modelHash === "" ? "no model" : `model ${device.session.modelHash.slice(0, 16)}…`;
          fail(
            "DEVICE_CANNOT_MONITOR",
            `${device.description} runs ${running}, not ${wanted.slice(0, 16)}… (--model): pass the model it runs, or flash this one first`,
          );
        }
        if (!device.session.has(CAP.REALTIME))
          fail("DEVICE_CANNOT_MONITOR", `${device.description} cannot step in real time (its firmware lacks the REALTIME capability)`);
        // The view starts once the board is attached: a board that cannot be monitored fails before any URL.
        view = (await openLiveView(
          { ui: true, ...(opts["uiPort"] === undefined ? {} : { uiPort: opts["uiPort"] }) },
          feedMeta(
            table,
            "monitor",
            `monitor ${where} running ${modelPath}, real time (dt ${dtMs} ms)${opts["input"] === undefined ? "" : `, input ${String(opts["input"])}`}`,
            where,
            { reference: false, dtMs },
          ),
          {
            health: () =>
              deviceRef
                ? linkHealth(
                    deviceRef,
                    () => lag,
                    () => dropped,
                  )()
                : { lagMs: null, framesDropped: 0, crcRejects: 0, badFrames: 0, retransmissions: 0, recoveries: 0 },
          },
        ))!;
        const sink = view.sink;
        process.stderr.write(`monitor: ${device.description}, real time every ${dtMs} ms; Ctrl-C stops\n`);
        const summary = await streamToBoard(device.session, input.samples, {
          steps: input.steps,
          maxSamples: input.count,
          outputLayer: table.layers.length - 1,
          periodUs,
          signal: interrupt.signal,
          counter: device.counter,
          reportMask: allLayersMask(table.layers.length),
          onStatus: (s) => {
            dropped = s.framesDropped;
          },
          onStep: (st) => {
            lag = st.latencyMs;
            // x is the device's step: steps it ran silently (no RT_OUTPUT) stay blank.
            sink.step(
              feedStep(
                st.step,
                0,
                st.step,
                st.input,
                table.layers.map((_, l) => st.sections.find((s) => s.layer === l)?.indices ?? []),
              ),
            );
          },
        });
        const { outputs: _o, appliedInputs: _a, ...numbers } = summary;
        finished = { model: modelPath, device: device.description, ...numbers };
        if (opts["json"]) printJson(finished);
        else {
          process.stdout.write(
            `monitor: ${summary.steps} steps on ${device.description}, ${summary.outputSpikes} output spikes, ${summary.inputEvents} input events, ` +
              `${summary.framesDropped} frames dropped${summary.interrupted ? " (stopped by Ctrl-C)" : ""}\n`,
          );
        }
      } finally {
        interrupt.dispose();
        await device.close();
        if (finished === undefined) await view?.close();
      }
      await view!.finish(finished);
    });
}
