/**
 * What a benchmark module provides to bench/run.ts, and the timing helper they share. A module
 * measures one area (the interpreter, the C kernels, the bridge, ...) and returns rows of named
 * figures; bench/run.ts runs every module of its list and writes results.json and BENCHMARKS.md.
 */
import { packageRoot } from "../firmware-host/boards/package-root.js";

/**
 * The package root (the folder holding firmware/, bench/c, bench/device, and build/ in a checkout):
 * right from source, from the bundled CLI (dist/chunks/) and from an installed package.
 */
export function repoRoot(): string {
  return packageRoot();
}

/** One measured case: a name, its figures, and how they were obtained. */
export interface BenchRow {
  /** What was measured, e.g. "dense 784-256-10". */
  readonly name: string;
  /** Figures by name, e.g. { "synaptic events/s": 1.2e8 }; each the median of several runs. */
  readonly figures: Readonly<Record<string, number>>;
  /** One line on the workload (sizes, steps, activity). */
  readonly workload: string;
}

/** A benchmark module: a title for its section and a function that measures. */
export interface BenchModule {
  /** Section title in BENCHMARKS.md and key in results.json. */
  readonly title: string;
  /** One paragraph on what is measured and how. */
  readonly description: string;
  /**
   * What the measured rows say, written from the rows themselves (printed under the table), so the
   * reading never quotes figures of an older run; omits what a run without some rows cannot say.
   */
  reading?(rows: readonly BenchRow[]): string;
  /** Runs the measurements; `quick` asks for a smoke run with fewer repetitions. */
  run(options: { readonly quick: boolean }): Promise<BenchRow[]> | BenchRow[];
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `work` (after one warm-up) `runs` times and returns each run's wall time in seconds. */
export function timeRuns(runs: number, work: () => void): number[] {
  work();
  const seconds: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    work();
    seconds.push((performance.now() - t0) / 1000);
  }
  return seconds;
}
