/**
 * What the installed package can load: the CLI bundle's external imports are Node built-ins or
 * packages under `dependencies`. An installed package has no devDependencies (esbuild, vitest,
 * tsx, typescript, fast-check), so a run-time import of one fails only for users, never in a
 * development checkout: this reads the bundle's imports from esbuild's metafile to catch it here.
 */
import { readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { BUILD_OPTIONS } from "../../scripts/build.mjs";

const ROOT = join(import.meta.dirname, "../..");
const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** Packages the bundle may import that are not dependencies: loaded only when the user installed them, in a try. */
const OPTIONAL = new Set(["@tensorflow/tfjs-node"]); // models/tf.ts: the native tfjs backend, when present

/** The package a bare import names ("@scope/name/sub" → "@scope/name", "name/sub" → "name"). */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

describe("the CLI bundle", () => {
  it("imports only Node built-ins and `dependencies` (no devDependency at run time)", async () => {
    const result = await build({ ...BUILD_OPTIONS, absWorkingDir: ROOT, write: false, metafile: true, sourcemap: false, logLevel: "silent" });
    const external = new Map<string, string>();
    for (const [file, output] of Object.entries(result.metafile!.outputs)) {
      for (const imp of output.imports) if (imp.external) external.set(imp.path, file);
    }
    expect(external.size).toBeGreaterThan(0);
    const builtins = new Set(builtinModules);
    const wrong = [...external]
      .filter(
        ([spec]) =>
          !spec.startsWith("node:") && !builtins.has(spec) && !Object.hasOwn(manifest.dependencies, packageOf(spec)) && !OPTIONAL.has(packageOf(spec)),
      )
      .map(([spec, file]) => `${spec} (imported by ${file})`);
    expect(wrong).toEqual([]);
    for (const optional of OPTIONAL) expect(Object.hasOwn(manifest.devDependencies, optional), `${optional} is a devDependency`).toBe(false);
  }, 60_000);
});
