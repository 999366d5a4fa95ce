import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeSample } from "../../runtime/interpreter.js";
import { Xorshift32 } from "../../runtime/prng.js";
import { intensityOfRate } from "../../runtime/sources/builtin.js";
import { encodeSpikeFile } from "../../runtime/spikefile.js";
import { codeOf } from "../../runtime/testing/error-code.js";
import { parseSource, sourceIsEndless, SOURCE_KINDS, sourceSyntax } from "./registry.js";

const root = join(import.meta.dirname, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "picospike-sources-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function* take<T>(it: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return;
  for (const x of it) {
    yield x;
    if (--n <= 0) return;
  }
}

describe("input sources", () => {
  it("random: one xorshift32 stream across samples, rate turned into an intensity", () => {
    expect([0, 0.1, 0.5, 1].map(intensityOfRate)).toEqual([0, 26, 128, 255]); // round(rate*256), max 255
    const [a, b] = [...take(parseSource("random:0.5:42", 5, 3), 2)];
    const prng = new Xorshift32(42);
    const desc = { size: 5, encoding: "rate", seed: 42 } as const;
    const first = encodeSample(desc, new Uint8Array(5).fill(128), 3, prng);
    const second = encodeSample(desc, new Uint8Array(5).fill(128), 3, prng);
    expect(a!.steps.map((s) => Array.from(s.indices))).toEqual(first.map((s) => Array.from(s.indices)));
    expect(b!.steps.map((s) => Array.from(s.indices))).toEqual(second.map((s) => Array.from(s.indices)));
    expect(sourceIsEndless("random:0.5:42")).toBe(true);
    expect(sourceIsEndless("spikes:x")).toBe(false);
  });

  it("rejects unknown kinds and malformed details", () => {
    for (const bad of ["bogus:1", "random", "random:2:1", "random:0.5:0", "random:0.5", "random:x:1", "spikes:"]) {
      expect([bad, codeOf(() => parseSource(bad, 4, 2))]).toEqual([bad, "CLI_BAD_SOURCE"]);
    }
    expect(codeOf(() => parseSource(`spikes:${join(root, "no-such-file.spk")}`, 4, 2))).toBe("CLI_FILE_NOT_FOUND");
  });

  it("spikes: reads a spike file and checks its input size", () => {
    const file = join(dir, "in.spk");
    writeFileSync(file, encodeSpikeFile({ inputSize: 3, samples: [{ label: 1, steps: 2, step: Uint32Array.from([0, 1]), index: Uint32Array.from([2, 0]) }] }));
    const samples = [...parseSource(`spikes:${file}`, 3, 4)];
    expect(samples.length).toBe(1);
    expect(samples[0]!.label).toBe(1);
    expect(samples[0]!.steps.map((s) => Array.from(s.indices))).toEqual([[2], [0], [], []]);
    expect(codeOf(() => parseSource(`spikes:${file}`, 4, 4))).toBe("SEMANTICS_BAD_INPUT");
  });
});

describe("the registry", () => {
  it("holds every kind of spec/input-formats.md §7 once, and names each in the brief syntax", () => {
    expect(Object.keys(SOURCE_KINDS).sort()).toEqual(["aedat", "evt2", "evt3", "mnist", "ndjson", "nmnist", "random", "serial", "spikes"]);
    for (const kind of Object.keys(SOURCE_KINDS)) expect(sourceSyntax()).toContain(kind);
  });

  it("mnist: labelled test digits, range checked", () => {
    const [first] = [...take(parseSource("mnist:0:2", 784, 4), 1)];
    expect(first!.label).toBeTypeOf("number");
    expect(first!.steps.length).toBe(4);
    expect(codeOf(() => parseSource("mnist:1999:5", 784, 4))).toBe("CLI_BAD_SOURCE");
    expect(codeOf(() => parseSource("mnist:x", 784, 4))).toBe("CLI_BAD_SOURCE");
    expect(codeOf(() => parseSource("mnist", 10, 4))).toBe("SEMANTICS_BAD_INPUT");
  });
});
