/**
 * `picospike flash MODEL.cbor|--image FILE --board B [--method M] [--upload] [--port P] [--detach]`:
 * puts picospike firmware on a board and prints `port: <path>`. With MODEL.cbor the firmware is built
 * first (model compiled in; `--upload`: the generic firmware, then the model uploaded over serial).
 * `--port P` uploads MODEL.cbor over serial to a board that already runs the generic firmware there.
 * Native and QEMU boards keep running until Ctrl-C, or with `--detach` in the background (pid printed).
 */
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { fail } from "../runtime/errors.js";
import { boardNames, getBoard, type FlashMethodName } from "../firmware-host/boards/boards.js";
import { NATIVE_PORT_LINE } from "../firmware-host/boards/flash/native.js";
import { qemuArgs, qemuPortLine, qemuTool, type EmulatedClock } from "../firmware-host/boards/qemu.js";
import { buildDevice, startImage } from "../firmware-host/boards/launch.js";
import { openBoard } from "../firmware-host/boards/open-board.js";
import { flashRealBoard } from "../firmware-host/boards/flash/real-board.js";
import { requireTool } from "../firmware-host/boards/toolchain.js";
import { decodeTableFile, readFileOrFail } from "./io.js";

const METHODS = ["native", "qemu", "gdb", "openocd", "stlink", "copy"] as const;

/** Quotes an argv for printing as a shell line the user can paste. */
function shellLine(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(" ");
}

/** Uploads `modelBytes` to the picospike firmware at `port` (skipped when it already runs that model). */
async function uploadOver(port: string, modelBytes: Uint8Array): Promise<boolean> {
  const board = await openBoard({ port, model: modelBytes, recovery: false, session: { handshakeMs: 8000 } });
  await board.close();
  return board.uploaded;
}

/**
 * Starts `image` in the background, detached from this process; resolves with its port, pid and log.
 * The native board is told it is detached (PS_NATIVE_DETACHED=1): it otherwise stops when the process
 * that started it exits (parent-death signal, stdin at end of file), which left a port that vanished
 * as soon as `flash --detach` returned. Its output goes to a log file, not to pipes whose reading end
 * closes with this process.
 */
function startDetached(boardName: string, method: FlashMethodName, image: string, clock: EmulatedClock): Promise<{ port: string; pid: number; log: string }> {
  const board = getBoard(boardName);
  let command: string;
  let args: string[];
  let pattern: RegExp;
  if (method === "native") {
    [command, args, pattern] = [image, [], NATIVE_PORT_LINE];
  } else if (method === "qemu") {
    [command, args, pattern] = [qemuTool(board), qemuArgs(board, image, { icount: clock !== "host" }), qemuPortLine(board)];
  } else {
    fail("CLI_USAGE", `--detach works with the native and qemu methods, not ${method}`);
  }
  const log = join(tmpdir(), `picospike-${boardName}-${process.pid}-${Date.now()}.log`);
  const fd = openSync(log, "w");
  const child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd], env: { ...process.env, PS_NATIVE_DETACHED: "1" } });
  closeSync(fd);
  return new Promise<{ port: string; pid: number; log: string }>((resolvePort, reject) => {
    const output = (): string => {
      try {
        return readFileSync(log, "utf8");
      } catch {
        return "";
      }
    };
    const timer = setTimeout(() => done(new Error(`no serial port announced within 10 s:\n${output()}`)), 10_000);
    const poll = setInterval(() => {
      const m = pattern.exec(output());
      if (m?.[1] !== undefined) done(undefined, m[1]);
    }, 20);
    const done = (err?: Error, port?: string): void => {
      clearTimeout(timer);
      clearInterval(poll);
      child.removeAllListeners("exit");
      child.unref();
      if (err !== undefined || port === undefined || child.pid === undefined) {
        if (child.pid !== undefined) child.kill("SIGKILL");
        reject(err ?? new Error("no port"));
      } else resolvePort({ port, pid: child.pid, log });
    };
    child.once("error", (e) => done(e));
    child.once("exit", (code) => done(new Error(`exited (code ${code}) before announcing its port:\n${output()}`)));
  }).catch((e: Error) => fail("DEVICE_FLASH_FAILED", `${method}: ${e.message}`));
}

/** Registers the `flash` verb. */
export function register(program: Command): void {
  program
    .command("flash")
    .description("put picospike firmware on a board (building it from a model first) and print its serial port")
    .argument("[model]", "event table (.cbor) to build the firmware for, or to upload with --upload / --port")
    .requiredOption("--board <name>", `board: ${boardNames().join(", ")}`)
    .option("--image <file>", "an already built firmware image (picospike build) instead of a model")
    .option("--method <m>", `flash method: ${METHODS.join(", ")} (default: the board's first)`)
    .option("--upload", "build the generic firmware and upload the model over serial")
    .option("--port <path>", "upload the model over serial to a board already running the generic picospike firmware at this port")
    .option("--out <dir>", "build folder (default: a temporary one)")
    .option(
      "--clock <kind>",
      "what an emulated (QEMU) board's clock follows: instructions (1 ns per instruction: deterministic step costs; the default) or host (the wall clock: for stream --realtime or monitor over --port)",
      "instructions",
    )
    .option("--detach", "leave the board running in the background and exit (native and qemu methods)")
    .option("--print-only", "real boards (openocd, stlink): write .bin/.hex and print the flash command without running it")
    .action(async (modelPath: string | undefined, opts: Record<string, string | boolean | undefined>) => {
      const board = getBoard(String(opts["board"]));
      const image = opts["image"] === undefined ? undefined : resolve(String(opts["image"]));
      if ((modelPath === undefined) === (image === undefined) && opts["port"] === undefined)
        fail("CLI_USAGE", "give a model (.cbor) or --image FILE, not both");
      const modelBytes = modelPath === undefined ? undefined : readFileOrFail(modelPath);
      if (modelBytes !== undefined) decodeTableFile(modelPath!, modelBytes); // a bad table fails here, before any build
      if (opts["port"] !== undefined) {
        if (modelBytes === undefined) fail("CLI_USAGE", "--port needs the model to upload");
        const uploaded = await uploadOver(String(opts["port"]), modelBytes);
        process.stdout.write(`port: ${String(opts["port"])}\n${uploaded ? "model uploaded" : "the board already runs this model"}\n`);
        return;
      }
      const methodName = opts["method"] === undefined ? undefined : String(opts["method"]);
      if (methodName !== undefined && !(METHODS as readonly string[]).includes(methodName)) fail("CLI_USAGE", `--method must be one of ${METHODS.join(", ")}`);
      const method: FlashMethodName = methodName === undefined ? board.flashMethods[0]! : methodName === "copy" ? "uf2" : (methodName as FlashMethodName);
      const upload = opts["upload"] === true;
      const clockName = String(opts["clock"]);
      if (clockName !== "instructions" && clockName !== "host") fail("CLI_USAGE", `--clock must be instructions or host, got '${clockName}'`);
      const clock: EmulatedClock = clockName;
      let imagePath = image;
      if (imagePath === undefined) {
        const build = await buildDevice(board.name, {
          ...(upload ? {} : { model: modelBytes! }),
          ...(opts["out"] === undefined ? {} : { outDir: resolve(String(opts["out"])) }),
        });
        imagePath = build.image;
        process.stderr.write(`built ${build.image} (flash ${build.size.flash} bytes, static RAM ${build.size.ram} bytes)\n`);
      }
      if (method === "openocd" || method === "stlink") {
        // A real board: the probe writes its flash; its serial port is the probe's (ST-Link VCP, FTDI) one.
        const done = await flashRealBoard(board, method, imagePath, opts["print-only"] !== true && opts["printOnly"] !== true);
        process.stdout.write(`image: ${imagePath}\nbin: ${done.bin}\nhex: ${done.hex}\ncommand: ${shellLine(done.command)}\n`);
        process.stdout.write(done.ran ? "flashed; reach the board with --port <its serial port, e.g. /dev/ttyACM0>\n" : "not run (--print-only)\n");
        return;
      }
      if (opts["detach"]) {
        const started = await startDetached(board.name, method, imagePath, clock);
        if (upload && modelBytes !== undefined) await uploadOver(started.port, modelBytes);
        process.stdout.write(`port: ${started.port}\npid: ${started.pid}\nlog: ${started.log}\n`);
        return;
      }
      const handle = await startImage(board.name, imagePath, method, clock);
      try {
        if (upload && modelBytes !== undefined) await uploadOver(handle.port, modelBytes);
        process.stdout.write(`port: ${handle.port}\n`);
        process.stderr.write("running; Ctrl-C stops the board\n");
        await new Promise<void>((resolveStop) => {
          process.once("SIGINT", () => resolveStop());
          process.once("SIGTERM", () => resolveStop());
          handle.process.once("exit", () => resolveStop());
        });
      } finally {
        await handle.stop();
      }
    });
}
