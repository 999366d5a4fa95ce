/**
 * Child processes of the flash methods (the native firmware, QEMU): started so that none outlives
 * picospike. Each is killed by its handle's stop(), by this process's exit, and (for QEMU, which
 * does not watch its stdin) by a small sh watchdog that kills it when our end of its stdin pipe
 * closes, which also covers picospike being killed with SIGKILL.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { PicospikeError } from "../../../runtime/errors.js";

/** A started board process and the serial port it announced. */
export interface FlashHandle {
  /** How the board was started. */
  readonly method: string;
  /** The serial port (pty) path to open. */
  readonly port: string;
  /** The process that serves the port (the firmware, or the QEMU watchdog shell). */
  readonly process: ChildProcess;
  /** Everything the process printed so far (capped), for error messages. */
  output(): string;
  /** Stops the process (SIGTERM, then SIGKILL after a grace period); idempotent. */
  stop(): Promise<void>;
}

const live = new Map<ChildProcess, boolean>(); // child -> runs in its own process group
let exitHookInstalled = false;

function killNow(child: ChildProcess, group: boolean, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    if (group) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const [child, group] of live) killNow(child, group, "SIGKILL");
  });
}

/** Kills the wrapped command when the watchdog's stdin closes or the watchdog gets a signal. */
const WATCHDOG_SCRIPT =
  'exec 3<&0; "$@" </dev/null & c=$!; (cat <&3 >/dev/null; kill $c 2>/dev/null) & w=$!; ' +
  "trap 'kill $c $w 2>/dev/null' TERM INT HUP; wait $c; s=$?; kill $w 2>/dev/null; exit $s";

/**
 * Starts `command`. `watchdog` wraps it in the sh watchdog in its own process group (for programs
 * that ignore stdin); otherwise the program itself must exit when its stdin closes.
 */
export function spawnManaged(command: string, args: readonly string[], watchdog: boolean): ChildProcess {
  installExitHook();
  const child = watchdog
    ? spawn("sh", ["-c", WATCHDOG_SCRIPT, "sh", command, ...args], { stdio: ["pipe", "pipe", "pipe"], detached: true })
    : spawn(command, [...args], { stdio: ["pipe", "pipe", "pipe"] });
  live.set(child, watchdog);
  child.on("exit", () => live.delete(child));
  child.on("error", () => live.delete(child));
  return child;
}

/** Cap on captured output kept for error messages. */
const MAX_OUTPUT_CHARS = 64 * 1024;

/**
 * Waits for `pattern` in the child's stdout or stderr and returns its first capture group. The
 * child exiting first, failing to start, or `timeoutMs` passing is DEVICE_FLASH_FAILED (and the
 * child is stopped). Returns a handle whose stop() ends the child.
 */
export function awaitPort(child: ChildProcess, method: string, pattern: RegExp, timeoutMs: number): Promise<FlashHandle> {
  let output = "";
  const group = live.get(child) ?? false;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolveStop) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolveStop();
      const force = setTimeout(() => killNow(child, group, "SIGKILL"), 2000);
      child.once("exit", () => {
        clearTimeout(force);
        resolveStop();
      });
      child.stdin?.destroy();
      killNow(child, group, "SIGTERM");
    });
    return stopping;
  };
  return new Promise<FlashHandle>((resolvePort, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void stop().then(() => reject(new PicospikeError("DEVICE_FLASH_FAILED", `${method}: ${why}${output ? `\n${output}` : ""}`, { method })));
    };
    const onText = (chunk: Buffer): void => {
      if (output.length < MAX_OUTPUT_CHARS) output += chunk.toString("utf8");
      const match = pattern.exec(output);
      if (match?.[1] !== undefined && !settled) {
        settled = true;
        clearTimeout(timer);
        resolvePort({ method, port: match[1], process: child, output: () => output, stop });
      }
    };
    const timer = setTimeout(() => fail(`no serial port announced within ${timeoutMs} ms`), timeoutMs);
    child.stdout?.on("data", onText);
    child.stderr?.on("data", onText);
    child.once("error", (err) => fail(`cannot start: ${err.message}`));
    child.once("exit", (code, signal) => fail(`exited (${signal ?? `code ${code}`}) before announcing its port`));
  });
}
