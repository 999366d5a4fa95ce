/**
 * Reads a NIR fixture case as the shared fixture set lays it out (its README): `model.nir`,
 * `input.ndjson` (one `{"t", "events"}` line per step, samples back to back) and `expected.json`
 * (the framework's own outputs). Used by the fidelity report and the tests.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { stepEvents, type InputSample } from "../../runtime/events.js";

/** One case: its input samples and what the framework computed. */
export interface FixtureCase {
  readonly name: string;
  readonly model: string;
  readonly samples: InputSample[];
  readonly framework: string;
  readonly dt: number;
  /** `spikes`: outputCounts are spike counts; `membrane`: final membranes. */
  readonly outputKind: "spikes" | "membrane";
  readonly expected: number[][];
}

/** The fixture folder: `../shared/nir-fixtures` beside the repository, or PICOSPIKE_NIR_FIXTURES. */
export function fixtureRoot(repoRoot: string): string | undefined {
  const env = process.env["PICOSPIKE_NIR_FIXTURES"];
  const dir = env && env !== "" ? env : join(repoRoot, "..", "shared", "nir-fixtures");
  return existsSync(join(dir, "README.md")) ? dir : undefined;
}

/** Reads case `name` under `root`. */
export function readFixtureCase(root: string, name: string): FixtureCase {
  const dir = join(root, name);
  const exp = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as Record<string, unknown>;
  const T = exp["steps_per_sample"] as number;
  const count = exp["samples"] as number;
  const lines = readFileSync(join(dir, "input.ndjson"), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  const steps = lines.map((l) => {
    const o = JSON.parse(l) as { t: number; events: number[] };
    return { t: o.t, events: stepEvents(o.events) };
  });
  const samples: InputSample[] = [];
  for (let s = 0; s < count; s++) samples.push({ steps: steps.slice(s * T, (s + 1) * T).map((x) => x.events) });
  const kind = exp["output_kind"] === "membrane" ? "membrane" : "spikes";
  const raw = exp["output_counts"] as unknown[];
  const expected = raw.map((r) => (Array.isArray(r) ? (r as number[]) : [r as number]));
  return { name, model: join(dir, "model.nir"), samples, framework: String(exp["framework"]), dt: exp["dt"] as number, outputKind: kind, expected };
}

/** Every case folder under the root (those holding a model.nir). */
export function fixtureCases(root: string): string[] {
  return [
    "snntorch-leaky-mlp",
    "snntorch-leaky-zero",
    "snntorch-synaptic",
    "snntorch-conv",
    "snntorch-rleaky",
    "norse-lif-mlp",
    "norse-cubalif-mlp",
    "sinabs-iaf-conv",
    "rockpool-lif",
  ].filter((c) => existsSync(join(root, c, "model.nir")));
}
