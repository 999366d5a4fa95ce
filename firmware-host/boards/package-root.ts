/**
 * Where the picospike package's own files are (firmware sources, runtime/fixed.ts, bench C): one
 * answer from the TypeScript sources (tsx), from the esbuild bundle in dist/ (this module inlined
 * into dist/picospike.js or a chunk under dist/chunks/), and from an installed package
 * (node_modules/picospike/dist/...). The folder depth of the calling code differs in each case, so
 * it is found by walking up to the package.json that names this package, not by a fixed "../".
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PicospikeError } from "../../runtime/errors.js";

/** The package's name in its package.json (what the walk looks for). */
const PACKAGE_NAME = "picospike";

let cached: string | undefined;

/** The nearest folder at or above `start` whose package.json names this package, if any. */
export function findPackageRoot(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name === PACKAGE_NAME) return dir;
      } catch {
        // an unreadable package.json on the way up is not ours: keep walking
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The picospike package's root folder (holds package.json, firmware/, runtime/fixed.ts, dist/). */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  const found = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  if (found === undefined)
    throw new PicospikeError("CLI_PACKAGE_DAMAGED", `cannot find the picospike package folder above ${fileURLToPath(import.meta.url)} (a damaged install?)`);
  cached = found;
  return found;
}

/** A file or folder of the package, by its path relative to the package root (e.g. "firmware/include"). */
export function packagePath(relative: string): string {
  return join(packageRoot(), relative);
}
