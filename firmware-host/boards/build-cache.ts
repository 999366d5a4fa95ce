/**
 * The firmware build cache: a build whose inputs hash the same is built once and reused, instead of
 * a fresh temporary folder per compare/stream/flash that nothing removed. Entries live in
 * `$PICOSPIKE_CACHE_DIR`, else `$XDG_CACHE_HOME/picospike`, else `~/.cache/picospike` (under
 * `firmware/<key>/`); deleting the folder is always safe. A build runs in a temporary sibling
 * folder and is renamed into place once complete, so concurrent builds of the same key never see
 * half an entry (the loser of the rename drops its copy and uses the winner's). Temporary folders
 * left by a killed process are swept by the next build; the oldest entries beyond MAX_ENTRIES are
 * evicted.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

/** Entries kept per kind; the least recently used beyond this are removed after a new build. */
export const MAX_ENTRIES = 64;

/** A temporary build folder older than this is a leftover of a killed process (builds take seconds). */
const STALE_TMP_MS = 60 * 60 * 1000;

/** The file whose presence marks a complete entry (written last, before the rename). */
const COMPLETE = ".complete";

/** The cache folder: $PICOSPIKE_CACHE_DIR, else $XDG_CACHE_HOME/picospike, else ~/.cache/picospike (a per-user temp folder when there is no home). */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env["PICOSPIKE_CACHE_DIR"]) return env["PICOSPIKE_CACHE_DIR"];
  if (env["XDG_CACHE_HOME"]) return join(env["XDG_CACHE_HOME"], "picospike");
  const home = homedir();
  return home ? join(home, ".cache", "picospike") : join(tmpdir(), `picospike-cache-${process.getuid?.() ?? "user"}`);
}

/** A cache entry: its folder, and whether it was already there. */
export interface CacheEntry {
  readonly dir: string;
  readonly hit: boolean;
}

/**
 * The folder of entry `key` under `kind`, filled by `fill(dir)` when it is not cached yet. `fill`
 * writes into a temporary folder that becomes the entry once it returns; when it throws, the
 * temporary folder is removed and nothing is cached. `key` must be a file-name-safe hash.
 */
export async function cachedEntry(kind: string, key: string, fill: (dir: string) => Promise<void>, root: string = cacheRoot()): Promise<CacheEntry> {
  const base = join(root, kind);
  const final = join(base, key);
  if (existsSync(join(final, COMPLETE))) {
    touch(final);
    return { dir: final, hit: true };
  }
  mkdirSync(base, { recursive: true });
  sweepStale(base);
  const tmp = mkdtempSync(join(base, `.tmp-${key.slice(0, 16)}-`));
  // process.exit() (a second Ctrl-C) skips finally blocks but runs exit listeners.
  const onExit = (): void => rmSync(tmp, { recursive: true, force: true });
  process.on("exit", onExit);
  try {
    await fill(tmp);
    writeFileSync(join(tmp, COMPLETE), "");
    try {
      renameSync(tmp, final);
    } catch (e) {
      // Another build of the same key won the race (or an incomplete entry is in the way).
      if (!existsSync(join(final, COMPLETE))) {
        rmSync(final, { recursive: true, force: true });
        try {
          renameSync(tmp, final);
        } catch {
          if (!existsSync(join(final, COMPLETE))) throw e;
        }
      }
    }
    // Paths inside the entry name the temporary folder until here; callers use `final`.
    evictOldest(base);
    return { dir: final, hit: false };
  } finally {
    process.off("exit", onExit);
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Marks an entry as just used (eviction removes the least recently used). */
function touch(dir: string): void {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
  } catch {
    // read-only cache: still usable
  }
}

/** Removes temporary folders that no running build can own any more. */
function sweepStale(base: string): void {
  const now = Date.now();
  for (const name of readdirSync(base)) {
    if (!name.startsWith(".tmp-")) continue;
    const path = join(base, name);
    try {
      if (now - statSync(path).mtimeMs > STALE_TMP_MS) rmSync(path, { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
}

/** Keeps the MAX_ENTRIES most recently used entries. */
function evictOldest(base: string): void {
  const entries = readdirSync(base).filter((name) => !name.startsWith("."));
  if (entries.length <= MAX_ENTRIES) return;
  const aged = entries
    .map((name) => {
      try {
        return { name, at: statSync(join(base, name)).mtimeMs };
      } catch {
        return { name, at: 0 };
      }
    })
    .sort((a, b) => a.at - b.at);
  for (const { name } of aged.slice(0, aged.length - MAX_ENTRIES)) rmSync(join(base, name), { recursive: true, force: true });
}
