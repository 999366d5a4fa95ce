/**
 * The import-boundary check (docs/ARCHITECTURE.md, "What each room may import"), run by `npm test`
 * and CI: reads every TypeScript file's static imports, re-exports and dynamic imports and fails,
 * listing each offending edge, when
 *   - a runtime/ file imports anything of ours outside runtime/, or (outside its tests) a Node API;
 *   - codegen/, models/ and firmware-host/ import one another;
 *   - ui/ (the live view, bundled for the browser too) imports anything of ours but runtime/;
 *   - perf/ (the benchmark modules `picospike bench` runs) imports cli/, ui/, bench/ or test/, or
 *     anything but cli/, bench/ and test/ imports perf/;
 *   - anything outside bench/ imports bench/, or anything outside test/ imports test/.
 * cli/ may import every room; scripts/ may import the rooms (not perf/, bench/ or test/). No
 * exceptions are listed today; EXCEPTIONS is the one place to add one, with its reason.
 * Usage: `tsx scripts/check-imports.ts [ROOT]`; exits 1 on a violation.
 */
import { builtinModules } from "node:module";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";

/** Top-level folders whose TypeScript is checked. */
const ROOMS = ["runtime", "codegen", "models", "firmware-host", "ui", "cli", "perf", "bench", "test", "scripts"] as const;

/** Rooms that must not import each other. */
const SIBLINGS = new Set(["codegen", "models", "firmware-host"]);

/** Node's own modules, with and without the `node:` prefix. */
const NODE_MODULES = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

/** Edges allowed despite the rules, with the reason (file → imported room). */
const EXCEPTIONS: ReadonlyArray<{ file: string; room: string; why: string }> = [];

/** One import edge that breaks a rule. */
export interface Violation {
  readonly file: string;
  readonly specifier: string;
  readonly rule: string;
}

/** Import specifiers of a source text: `import … from`, `export … from`, side-effect imports and `import(…)`. */
export function importSpecifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [/^\s*(?:import|export)\s[^;'"]*?\bfrom\s*["']([^"']+)["']/gm, /^\s*import\s*["']([^"']+)["']/gm, /\bimport\(\s*["']([^"']+)["']\s*\)/g];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

/** The room (top-level folder) of a repository-relative path. */
function roomOf(path: string): string {
  return path.split("/")[0]!;
}

/** The violations of the file at repository-relative `file` with `source`. */
export function checkFile(file: string, source: string): Violation[] {
  const from = roomOf(file);
  const isTest = file.endsWith(".test.ts");
  const found: Violation[] = [];
  for (const specifier of importSpecifiers(source)) {
    if (specifier.startsWith(".")) {
      const target = join(dirname(file), specifier).split(sep).join("/");
      const to = roomOf(target);
      if (to === from || EXCEPTIONS.some((x) => x.file === file && x.room === to)) continue;
      if (from === "runtime") found.push({ file, specifier, rule: "runtime/ imports nothing of ours" });
      else if (to === "bench" && from !== "bench") found.push({ file, specifier, rule: "nothing outside bench/ imports bench/" });
      else if (to === "test" && from !== "test") found.push({ file, specifier, rule: "nothing outside test/ imports test/" });
      else if (from === "perf" && (to === "cli" || to === "ui")) found.push({ file, specifier, rule: "perf/ imports only the rooms below the CLI" });
      else if (to === "perf" && from !== "cli" && from !== "bench" && from !== "test")
        found.push({ file, specifier, rule: "only cli/ (the bench verb), bench/ and tests import perf/" });
      else if (from === "ui" && to !== "runtime") found.push({ file, specifier, rule: "ui/ imports only runtime/ of ours" });
      else if (SIBLINGS.has(from) && SIBLINGS.has(to)) found.push({ file, specifier, rule: "codegen/, models/ and firmware-host/ do not import each other" });
      else if (to === "cli" && from !== "cli" && from !== "test" && from !== "bench")
        found.push({ file, specifier, rule: "only cli/ (and tests and benches) import cli/" });
    } else if (from === "runtime" && !isTest && NODE_MODULES.has(specifier.split("/")[0]!)) {
      found.push({ file, specifier, rule: "runtime/ uses no Node API (it runs in a browser too)" });
    }
  }
  return found;
}

/** Every .ts file under the rooms of `root`, as repository-relative paths. */
function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    let entries;
    try {
      entries = readdirSync(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== "node_modules") walk(path);
      } else if (e.name.endsWith(".ts")) out.push(path);
    }
  };
  for (const room of ROOMS) walk(room);
  return out.sort();
}

/** Checks the repository at `root`; returns the violations. */
export function checkRepository(root: string): Violation[] {
  return sourceFiles(root).flatMap((file) => checkFile(file, readFileSync(join(root, file), "utf8")));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const root = resolve(process.argv[2] ?? join(import.meta.dirname, ".."));
  const violations = checkRepository(root);
  for (const v of violations) process.stderr.write(`${v.file}: imports ${v.specifier}: ${v.rule}\n`);
  if (violations.length > 0) {
    process.stderr.write(`import boundaries: ${violations.length} violation(s) (docs/ARCHITECTURE.md)\n`);
    process.exit(1);
  }
  process.stdout.write(`import boundaries: ${sourceFiles(root).length} files, no violations\n`);
}
