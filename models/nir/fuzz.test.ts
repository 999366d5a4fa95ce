import fc from "fast-check";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { writeNirFile } from "./build-nir.js";
import { importNir } from "./import.js";
import { EDGES, GOOD } from "./testing/hostile.js";

// Fuzz of the whole import path (HDF5 library, bounded reader, graph, mapping): a valid NIR file
// with bytes overwritten, cut or inserted either imports or is refused with a PicospikeError of
// the interchange band (or a missing file); never another exception, never a hang.
// PICOSPIKE_NIR_FUZZ_RUNS sets the number of runs (docs/NIR.md records a long run).

const RUNS = Number(process.env["PICOSPIKE_NIR_FUZZ_RUNS"] ?? 300);
const dir = mkdtempSync(join(tmpdir(), "nir-fuzz-"));
let good: Uint8Array;

beforeAll(async () => {
  await writeNirFile(join(dir, "good.nir"), GOOD, EDGES);
  good = readFileSync(join(dir, "good.nir"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), bytes: fc.constant(new Uint8Array(0)) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

function mutate(base: Uint8Array, muts: Array<{ kind: "set" | "cut" | "insert"; at: number; bytes: Uint8Array }>): Uint8Array {
  let b = Uint8Array.from(base);
  for (const m of muts) {
    const at = m.at % Math.max(1, b.length);
    if (m.kind === "set") b.set(m.bytes.subarray(0, b.length - at), at);
    else if (m.kind === "cut") b = b.subarray(0, at);
    else b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
  }
  return b;
}

describe("NIR import fuzz", () => {
  it(
    `damaged files import or are refused with an interchange code (${RUNS} runs)`,
    async () => {
      const seen = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (muts) => {
          const path = join(dir, "case.nir");
          writeFileSync(path, mutate(good, muts));
          let code = "accepted";
          try {
            await importNir(path, { from: "auto" });
          } catch (e) {
            if (!isPicospikeError(e)) throw e;
            code = e.code;
            expect(code.startsWith("INTERCHANGE_") || code === "TOOLCHAIN_BAD_MODEL", `${code}: ${e.message}`).toBe(true);
          }
          seen.set(code, (seen.get(code) ?? 0) + 1);
        }),
        { numRuns: RUNS },
      );
      console.log(`NIR fuzz: ${RUNS} runs, outcomes ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
    },
    60_000 + RUNS * 500,
  ); // a run opens the file through HDF5 (WebAssembly): tens of ms each on a loaded machine
});
