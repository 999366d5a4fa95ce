/**
 * The installed package, as a user gets it: `npm pack` of this checkout once, `npm install` of the
 * tarball into a temporary prefix, and the `picospike` it installs run from an empty folder outside
 * the repository. The install is offline: the production dependencies are hard-linked from this
 * checkout's node_modules into the prefix first (only `dependencies`, never devDependencies, so a
 * run-time import of a development package fails here as it would for a user), and npm then finds
 * them satisfied and installs the tarball without the network.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, relative, sep } from "node:path";

/** This checkout (holds package.json). */
export const REPO = join(import.meta.dirname, "../..");

/** What packing and installing produced. */
export interface InstalledPackage {
  /** The tarball `npm pack` wrote. */
  readonly tarball: string;
  /** Its size in bytes and its number of files. */
  readonly tarballBytes: number;
  readonly tarballFiles: number;
  /** Every path in the tarball, relative to package/. */
  readonly files: readonly string[];
  /** The install prefix (node_modules/picospike, node_modules/.bin/picospike). */
  readonly prefix: string;
  /** The `picospike` executable npm linked into the prefix. */
  readonly bin: string;
  /** Seconds `npm pack` and `npm install` took. */
  readonly packSeconds: number;
  readonly installSeconds: number;
}

/** What one CLI run left. */
export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of one run: stdin text, timeout, extra environment, working folder. */
export interface RunOptions {
  readonly input?: string;
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
}

/** Where npm keeps its cache for these runs (the user's own, read only through --offline). */
function npm(args: readonly string[], cwd: string): string {
  return execFileSync("npm", [...args], {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
}

/** Production dependency folders of this checkout, relative to node_modules (top level only: nested ones come along). */
function productionDependencyFolders(): string[] {
  const out = npm(["ls", "--omit=dev", "--parseable", "--all"], REPO);
  const top = join(REPO, "node_modules") + sep;
  const folders = new Set<string>();
  for (const line of out.split("\n")) {
    if (!line.startsWith(top)) continue;
    const rel = line.slice(top.length);
    if (rel.includes(`${sep}node_modules${sep}`)) continue;
    folders.add(rel);
  }
  return [...folders];
}

/** Copies a folder tree by hard links (same file system), else by plain copy. */
function linkTree(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  try {
    execFileSync("cp", ["-al", from, to], { stdio: "ignore" });
  } catch {
    rmSync(to, { recursive: true, force: true });
    execFileSync("cp", ["-r", from, to], { stdio: "ignore" });
  }
}

/** Packs this checkout and installs the tarball into a fresh temporary prefix (about half a minute). */
export function packAndInstall(): InstalledPackage {
  const root = mkdtempSync(join(tmpdir(), "picospike-pkg-"));
  const t0 = performance.now();
  const packed = JSON.parse(npm(["pack", "--json", "--pack-destination", root], REPO)) as Array<{
    filename: string;
    size: number;
    files: Array<{ path: string }>;
  }>;
  const packSeconds = (performance.now() - t0) / 1000;
  const info = packed[0]!;
  const tarball = join(root, info.filename);
  const prefix = join(root, "prefix");
  for (const folder of productionDependencyFolders()) linkTree(join(REPO, "node_modules", folder), join(prefix, "node_modules", folder));
  const t1 = performance.now();
  npm(["install", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", "--no-save", tarball], root);
  const installSeconds = (performance.now() - t1) / 1000;
  const bin = join(prefix, "node_modules", ".bin", "picospike");
  if (!existsSync(bin)) throw new Error(`npm install left no ${bin}`);
  return {
    tarball,
    tarballBytes: statSync(tarball).size,
    tarballFiles: info.files.length,
    files: info.files.map((f) => f.path),
    prefix,
    bin,
    packSeconds,
    installSeconds,
  };
}

/** An empty folder outside the repository, where the user types the commands. */
export function emptyFolder(prefix = "picospike-user-"): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  if (!relative(realpathSync(REPO), dir).startsWith("..")) throw new Error(`${dir} is inside the repository`);
  return dir;
}

/** The installed `picospike`, run in one user folder. */
export class User {
  constructor(
    readonly pkg: InstalledPackage,
    readonly dir: string,
  ) {}

  /** A path in the user's folder. */
  path(name: string): string {
    return join(this.dir, name);
  }

  /** Runs `picospike ARGS` to the end. */
  run(args: readonly string[], options: RunOptions = {}): Run {
    const r = spawnSync(this.pkg.bin, args, {
      cwd: options.cwd ?? this.dir,
      encoding: "utf8",
      input: options.input,
      timeout: options.timeoutMs ?? 180_000,
      env: { ...process.env, ...options.env },
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** Runs a shell command line in the user's folder (pipes, as a user types them). */
  shell(command: string, options: RunOptions = {}): Run {
    const r = spawnSync("sh", ["-c", command], {
      cwd: options.cwd ?? this.dir,
      encoding: "utf8",
      timeout: options.timeoutMs ?? 180_000,
      env: { ...process.env, ...options.env },
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** Starts `picospike ARGS` without waiting (for live input and for boards left running). */
  start(args: readonly string[], options: RunOptions = {}): ChildProcess {
    return spawn(this.pkg.bin, args, { cwd: options.cwd ?? this.dir, env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
  }

  /** Runs ARGS, expects success, and returns its stdout parsed as JSON (the run is in the error when not). */
  json<T = Record<string, unknown>>(args: readonly string[], options: RunOptions = {}): T {
    const r = this.run(args, options);
    if (r.status !== 0) throw new Error(`picospike ${args.join(" ")} exited ${r.status}\n${r.stderr}`);
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      throw new Error(`picospike ${args.join(" ")} printed no JSON:\n${r.stdout}`);
    }
  }

  /**
   * Runs `picospike ARGS` to the end without blocking the test worker. A run that may take longer
   * than vitest's 60 s worker RPC timeout (QEMU boards, bench, demo) uses this: spawnSync would
   * freeze the worker's event loop and vitest would report its own RPC as timed out.
   */
  runAsync(args: readonly string[], options: RunOptions = {}): Promise<Run> {
    return new Promise((resolvePromise) => {
      const child = spawn(this.pkg.bin, args, { cwd: options.cwd ?? this.dir, env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 180_000);
      child.on("close", (status) => {
        clearTimeout(timer);
        resolvePromise({ status, stdout, stderr });
      });
      child.stdin.end(options.input ?? "");
    });
  }

  /** runAsync, expecting success, with stdout parsed as JSON (as json). */
  async jsonAsync<T = Record<string, unknown>>(args: readonly string[], options: RunOptions = {}): Promise<T> {
    const r = await this.runAsync(args, options);
    if (r.status !== 0) throw new Error(`picospike ${args.join(" ")} exited ${r.status}\n${r.stderr}`);
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      throw new Error(`picospike ${args.join(" ")} printed no JSON:\n${r.stdout}`);
    }
  }

  /** Runs ARGS and expects success; returns the run. */
  ok(args: readonly string[], options: RunOptions = {}): Run {
    const r = this.run(args, options);
    if (r.status !== 0) throw new Error(`picospike ${args.join(" ")} exited ${r.status}\n${r.stderr}`);
    return r;
  }
}

/** One line in the test log saying why a case does not run here (the suite's printed skips). */
export function skipReason(what: string, why: string): void {
  process.stderr.write(`acceptance: skipped ${what}: ${why}\n`);
}

/** True when an executable `tool` is on PATH (the PATH the installed CLI runs with). */
export function onPath(tool: string): boolean {
  return (process.env["PATH"] ?? "").split(delimiter).some((dir) => {
    if (dir === "") return false;
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}
