/**
 * TS interpreter (generated kernels) against the host C build (-O2) of the same generated kernels
 * and ps_net, on the same 784-256-10 int8 model (perf/interpreter.bench.ts denseModel) and the
 * same rate-coded input, measured side by side in one run. Both count the same spikes, which
 * checks that they did the same work.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { emitTsModel } from "../codegen/emit-ts-model.js";
import type { StepEvents } from "../runtime/events.js";
import { encodeTable } from "../runtime/format.js";
import { Interpreter, encodeSample } from "../runtime/interpreter.js";
import { Xorshift32 } from "../runtime/prng.js";
import { median, repoRoot, timeRuns, type BenchModule, type BenchRow } from "./harness.js";
import { denseModel } from "./interpreter.bench.js";

const STEPS = 100;
const ROOT = repoRoot();
const STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic"];

/** Input events in the EVENTS layout bench/c/bench_step.c reads: u32 steps; per step u32 n, u8 0, n x u32. */
function eventsBytes(steps: readonly StepEvents[]): Uint8Array {
  const bytes = new Uint8Array(4 + steps.reduce((n, s) => n + 5 + 4 * s.indices.length, 0));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, steps.length, true);
  let o = 4;
  for (const s of steps) {
    view.setUint32(o, s.indices.length, true);
    o += 5;
    for (const i of s.indices) {
      view.setUint32(o, i, true);
      o += 4;
    }
  }
  return bytes;
}

/** Turns TypeScript source into JavaScript (esbuild's transform in a development checkout). */
export type Transpile = (typescript: string) => string;

/** What `picospike codegen --target ts` emits for `table`, transpiled and imported from `dir`. */
async function specialisedTs(
  table: ReturnType<typeof denseModel>,
  dir: string,
  transpile: Transpile,
): Promise<{ step(s: StepEvents): void; reset(): void; lastSpikes(l: number): Uint32Array }> {
  // Without "type": "module", a .js file outside the package is CommonJS to Node's loader (and to tsx,
  // which then rewrites its ESM imports into getter calls): every fixed.js primitive in the inner loop
  // became a non-inlined getter call, which made the module measure about 0.1x the interpreter here.
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  for (const [name, text] of emitTsModel(table, "bench", ROOT)) writeFileSync(join(dir, name.replace(/\.ts$/, ".js")), transpile(text));
  const mod = (await import(pathToFileURL(join(dir, "model.js")).href)) as {
    createModel(): { step(s: StepEvents): void; reset(): void; lastSpikes(l: number): Uint32Array };
  };
  return mod.createModel();
}

/** Wall time of one run of `work`, in seconds. */
function timeOnce(work: () => void): number {
  const t0 = performance.now();
  work();
  return (performance.now() - t0) / 1000;
}

async function measure(quick: boolean, transpile: Transpile | undefined): Promise<BenchRow> {
  const table = denseModel(1);
  const g = new Xorshift32(5);
  const steps = encodeSample(
    table.input,
    Uint8Array.from({ length: table.input.size }, () => g.next() & 255),
    STEPS,
  );
  const reps = quick ? 3 : 9;
  // the interpreter as it runs (with the §12.3 spike fold) and with the generated IR kernels only
  const sim = new Interpreter(table);
  const irOnly = new Interpreter(table, { folds: false });
  /** A timed run: every step of the input through `interp` from reset; returns the spikes of all layers. */
  const runAll = (interp: Interpreter): number => {
    interp.reset();
    let spikes = 0;
    for (const s of steps) {
      interp.step(s);
      for (let l = 0; l < table.layers.length; l++) spikes += interp.lastSpikes(l).length;
    }
    return spikes;
  };
  const runTs = (): number => runAll(sim);
  const runIr = (): number => runAll(irOnly);
  const tsSpikes = runTs(); // warm-up, and the spike count the others must match
  const irSpikes = runIr();
  if (irSpikes !== tsSpikes) throw new Error(`the IR kernels counted ${irSpikes} spikes, the fold ${tsSpikes}: not the same work`);
  const work = mkdtempSync(join(tmpdir(), "ps-bench-c-"));
  try {
    // The specialised module is TypeScript: measured only where a transpiler is at hand (npm run bench
    // passes esbuild's; the installed `picospike bench` has no development dependencies).
    let specSeconds: number | undefined;
    if (transpile !== undefined) {
      const spec = await specialisedTs(table, work, transpile);
      let specSpikes = 0;
      specSeconds = median(
        timeRuns(reps, () => {
          spec.reset();
          specSpikes = 0;
          for (const s of steps) {
            spec.step(s);
            for (let l = 0; l < table.layers.length; l++) specSpikes += spec.lastSpikes(l).length;
          }
        }),
      );
      if (specSpikes !== tsSpikes) throw new Error(`specialised TS counted ${specSpikes} spikes, the interpreter ${tsSpikes}: not the same work`);
    }
    const exe = join(work, "bench_step");
    execFileSync("gcc", [
      ...STRICT,
      "-D_POSIX_C_SOURCE=199309L",
      "-O2",
      "-I",
      join(ROOT, "firmware/include"),
      "-I",
      join(ROOT, "firmware/kernels"),
      "-o",
      exe,
      join(ROOT, "bench/c/bench_step.c"),
      ...["ps_net.c", "ps_kernels_generated.c", "ps_table.c", "ps_sha256.c"].map((f) => join(ROOT, "firmware/src", f)),
    ]);
    writeFileSync(join(work, "m.cbor"), encodeTable(table));
    writeFileSync(join(work, "m.events"), eventsBytes(steps));
    // interleaved, so all see the same load: one TS run of each, then the C program (median of 3 in-process runs), `reps` times
    const tsRuns: number[] = [];
    const irRuns: number[] = [];
    const cRuns: number[] = [];
    for (let r = 0; r < reps; r++) {
      tsRuns.push(timeOnce(runTs));
      irRuns.push(timeOnce(runIr));
      const [cSecondsText, cSpikesText] = execFileSync(exe, [join(work, "m.cbor"), join(work, "m.events"), "3"], { encoding: "utf8" })
        .trim()
        .split(" ");
      if (Number(cSpikesText) !== tsSpikes) throw new Error(`C counted ${cSpikesText} spikes, TS ${tsSpikes}: not the same work`);
      cRuns.push(Number(cSecondsText));
    }
    const tsSeconds = median(tsRuns);
    const irSeconds = median(irRuns);
    const cSeconds = median(cRuns);
    const events = steps.reduce((n, s) => n + s.indices.length, 0);
    return {
      name: "dense 784-256-10 int8: TS interpreter, specialised TS (codegen --target ts), host C (-O2)",
      figures: {
        "TS interpreter steps/s": Math.round(STEPS / tsSeconds),
        "TS interpreter, IR kernels only steps/s": Math.round(STEPS / irSeconds),
        ...(specSeconds === undefined ? {} : { "TS specialised steps/s": Math.round(STEPS / specSeconds) }),
        "C steps/s": Math.round(STEPS / cSeconds),
        "TS interpreter / C speed": Math.round((cSeconds / tsSeconds) * 100) / 100,
        "TS IR kernels only / C speed": Math.round((cSeconds / irSeconds) * 100) / 100,
        ...(specSeconds === undefined ? {} : { "TS specialised / interpreter speed": Math.round((tsSeconds / specSeconds) * 100) / 100 }),
      },
      workload: `${STEPS} steps of rate-coded input (${events} input events, ${tsSpikes} spikes), TS and C runs interleaved, median of ${reps} each (C: each the median of 3 in-process runs), same generated kernels`,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The codegen benchmark module; with `transpile` (npm run bench passes esbuild's) it also times the
 * model-specialised TypeScript module, which must be turned into JavaScript before Node imports it.
 */
export function codegenBenchWith(transpile?: Transpile): BenchModule {
  return {
    title: "Generated kernels: TS interpreter vs host C",
    description:
      "The same kernels emitted from the IR (codegen/kernels.ts) run as TypeScript in the interpreter, as the model-specialised TypeScript module of `picospike codegen --target ts` (timed by `npm run bench`, which transpiles it with esbuild, a development dependency), " +
      "and as C (gcc -O2, ps_net over ps_table; the plain scalar loop: gcc 12 at -O2 vectorises none of the kernel loops, as -fopt-info-vec shows; an -O3 or SIMD build of C would be faster) on the same model and input, in one run; ratios are speeds (higher is faster for the first named). " +
      "The interpreter and the specialised module fold dense int8 spikes with the TS-only packed fold of spec/ops.md §12.3 (three synapses per double addition, scaled once per output; " +
      "the same integers as the IR order under the §12.1 bound); 'IR kernels only' is the interpreter with that fold off (`new Interpreter(table, { folds: false })`), " +
      "i.e. the generated loop itself, which V8 compiles with a map check and backing-store reload per typed array per iteration. The issue 9 target is TS interpreter / C ≥ 0.5. " +
      "The specialised module is written to a temporary folder with a package.json of type module: without it Node and tsx load its .js files as CommonJS and every imported primitive becomes a getter call (that was the earlier unexplained 0.1×).",
    run: async ({ quick }) => [await measure(quick, transpile)],
  };
}

/** The codegen benchmark without the specialised TypeScript module (what the installed `picospike bench` runs). */
export const codegenBench: BenchModule = codegenBenchWith();
