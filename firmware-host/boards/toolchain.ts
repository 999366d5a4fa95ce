/**
 * Finding and running the external tools the boards need (compilers, size, QEMU, gdb). A missing
 * tool is a DEVICE_TOOL_MISSING error that names the Debian package to install.
 */
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { PicospikeError } from "../../runtime/errors.js";

/** Debian package that provides each tool picospike runs. */
export const TOOL_PACKAGES = {
  gcc: "gcc",
  clang: "clang",
  size: "binutils",
  "arm-none-eabi-gcc": "gcc-arm-none-eabi libnewlib-arm-none-eabi",
  "arm-none-eabi-size": "binutils-arm-none-eabi",
  "arm-none-eabi-objcopy": "binutils-arm-none-eabi",
  "qemu-system-arm": "qemu-system-arm",
  "gdb-multiarch": "gdb-multiarch",
  openocd: "openocd",
  "st-flash": "stlink-tools",
  "riscv64-unknown-elf-gcc": "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
  "riscv64-unknown-elf-size": "binutils-riscv64-unknown-elf",
  "riscv64-unknown-elf-objcopy": "binutils-riscv64-unknown-elf",
  "qemu-system-riscv32": "qemu-system-misc",
} as const;

/** A tool picospike knows how to find. */
export type ToolName = keyof typeof TOOL_PACKAGES;

/** The absolute path of `tool` on PATH, or undefined when it is not installed. */
export function findTool(tool: ToolName, searchPath: string = process.env["PATH"] ?? ""): string | undefined {
  for (const dir of searchPath.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, tool);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** The path of `tool`; throws DEVICE_TOOL_MISSING naming its Debian package when absent. */
export function requireTool(tool: ToolName, searchPath?: string): string {
  const found = findTool(tool, searchPath);
  if (found !== undefined) return found;
  const pkg = TOOL_PACKAGES[tool];
  throw new PicospikeError("DEVICE_TOOL_MISSING", `${tool} is not installed (Debian: apt-get install ${pkg})`, {
    tool,
    package: pkg,
  });
}

/** The tools of `tools` that are not installed, for test skips and `--help` hints. */
export function missingTools(tools: readonly ToolName[]): ToolName[] {
  return tools.filter((tool) => findTool(tool) === undefined);
}

/** What a finished tool run produced. */
export interface ToolRun {
  /** Exit code (null when killed by a signal, e.g. on timeout). */
  readonly code: number | null;
  /** Everything it wrote to stdout. */
  readonly stdout: string;
  /** Everything it wrote to stderr. */
  readonly stderr: string;
  /** True when it was killed for running past the timeout. */
  readonly timedOut: boolean;
}

/** Caps on captured output so a runaway tool cannot fill memory. */
const MAX_CAPTURE_CHARS = 1 << 20;

/** Runs a tool to completion (no shell), capturing its output; kills it after `timeoutMs`. */
export function runTool(path: string, args: readonly string[], options: { timeoutMs?: number; cwd?: string } = {}): Promise<ToolRun> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      if (stdout.length < MAX_CAPTURE_CHARS) stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < MAX_CAPTURE_CHARS) stderr += chunk;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new PicospikeError("DEVICE_TOOL_MISSING", `cannot run ${path}: ${err.message}`, { tool: path }));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}
