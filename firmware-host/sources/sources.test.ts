import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import type { InputSample } from "../../runtime/events.js";
import { type TestEvent, writeAedat2, writeAedat31, writeAedat4, writeEvt2, writeEvt3, writeNmnist } from "../../runtime/eventfiles/testing/writers.js";
import { openLiveSource, parseSource } from "./registry.js";

const dir = mkdtempSync(join(tmpdir(), "picospike-live-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isPicospikeError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "no error";
}

const steps = (s: InputSample): number[][] => s.steps.map((e) => Array.from(e.indices));

// Four events on a 4x4 corner of the sensor, 1 ms apart, then two in the same 1 ms step.
const events: TestEvent[] = [
  { x: 0, y: 0, p: 1, t: 100 },
  { x: 3, y: 0, p: 0, t: 1100 },
  { x: 0, y: 3, p: 1, t: 2100 },
  { x: 3, y: 3, p: 1, t: 3100 },
  { x: 1, y: 1, p: 0, t: 3200 },
];

describe("event-file sources", () => {
  const writers: Array<[string, string, Uint8Array, string]> = [
    ["nmnist", "n.bin", writeNmnist(events), ""],
    ["aedat", "a2.aedat", writeAedat2(events), ""],
    ["aedat", "a31.aedat", writeAedat31(events), ""],
    ["aedat", "a4.aedat4", writeAedat4(events, { width: 4, height: 4 }), ""],
    ["evt2", "e2.raw", writeEvt2(events, { width: 4, height: 4 }), ""],
    ["evt3", "e3.raw", writeEvt3(events, { width: 4, height: 4 }), ""],
  ];
  for (const [kind, name, bytes] of writers) {
    it(`${kind}: ${name} bins 1 ms steps onto a 4x4 crop, options after the path`, () => {
      const p = file(name, bytes);
      const [sample] = [...parseSource(`${kind}:${p},dt=1000,crop=0:0:4:4,polarity=merge`, 16, 5)];
      expect(steps(sample!)).toEqual([[0], [3], [12], [5, 15], []]);
      const [split] = [...parseSource(`${kind}:${p},dt=2000,crop=0:0:4:4,downsample=2,polarity=split,label=7`, 8, 2)];
      // OFF channel first: (3,0) OFF → 1; (1,1) OFF → 0; ON (0,0) → 4, (0,3) → 6, (3,3) → 7.
      expect(steps(split!)).toEqual([
        [1, 4],
        [0, 6, 7],
      ]);
      expect(split!.label).toBe(7);
    });
    it(`${kind}: a truncated ${name} is CLI_BAD_INPUT_FILE with a byte offset`, () => {
      const p = file(`cut-${name}`, bytes.subarray(0, bytes.length - 3));
      const msg = code(() => [...parseSource(`${kind}:${p},crop=0:0:4:4`, 16, 5)]);
      expect(msg).toMatch(/^CLI_BAD_INPUT_FILE: .* at byte \d+$/);
    });
  }

  it("maps an N-MNIST 34x34 recording onto a 28x28 model by a centred crop", () => {
    const p = file(
      "center.bin",
      writeNmnist([
        { x: 3, y: 3, p: 1, t: 0 },
        { x: 30, y: 30, p: 0, t: 500 },
        { x: 0, y: 0, p: 1, t: 600 },
      ]),
    );
    const [s] = [...parseSource(`nmnist:${p}`, 784, 2, { shape: [1, 28, 28] })];
    expect(steps(s!)).toEqual([[0, 783], []]);
    expect(code(() => parseSource(`nmnist:${p}`, 100, 2))).toMatch(/^SEMANTICS_BAD_INPUT: .*34x34 sensor maps to 1x34x34 = 1156 inputs, the model has 100/);
  });

  it("takes the binning step from the stream's --dt unless dt= is given", () => {
    const p = file("dt.bin", writeNmnist(events));
    expect(parseSource(`nmnist:${p},crop=0:0:4:4`, 16, 10, { dtUs: 2000 })).toSatisfy(
      (it: Iterable<InputSample>) => [...it][0]!.steps.filter((e) => e.indices.length).length === 2,
    );
  });

  it("denoise and refractory filters drop isolated and repeated events", () => {
    const p = file(
      "noise.bin",
      writeNmnist([
        { x: 1, y: 1, p: 1, t: 0 },
        { x: 1, y: 1, p: 1, t: 10 },
        { x: 2, y: 1, p: 1, t: 20 },
        { x: 3, y: 3, p: 1, t: 5000 },
      ]),
    );
    const [raw] = [...parseSource(`nmnist:${p},crop=0:0:4:4,dt=100`, 16, 60)];
    const [kept] = [...parseSource(`nmnist:${p},crop=0:0:4:4,dt=100,denoise=1000,refractory=1000`, 16, 60)];
    expect(raw!.steps.flatMap((e) => Array.from(e.indices))).toEqual([5, 6, 15]);
    // Denoise: (1,1)@0 and @10 have no neighbour event yet, (2,1)@20 has (1,1)@10, (3,3)@5000 is isolated.
    expect(kept!.steps.flatMap((e) => Array.from(e.indices))).toEqual([6]);
    const [refr] = [...parseSource(`nmnist:${p},crop=0:0:4:4,dt=5,refractory=1000`, 16, 1200)];
    // Refractory alone: the second (1,1) event 10 µs after the first is dropped.
    expect(refr!.steps.flatMap((e) => Array.from(e.indices))).toEqual([5, 6, 15]);
    expect(refr!.steps.filter((e) => e.indices.length > 0).length).toBe(3);
  });

  it("rejects unknown options and bad option values with CLI_BAD_SOURCE", () => {
    expect(code(() => parseSource("nmnist:x.bin,colour=red", 16, 1))).toMatch(/^CLI_BAD_SOURCE: .*unknown option 'colour=red'/);
  });
});

describe("ndjson", () => {
  it("ndjson:PATH read whole (run/compare) and live in one-step chunks give the same steps", async () => {
    const lines = ['{"t":0,"events":[1]}', '{"t":2,"events":[0,2]}', '{"events":[3]}'].join("\n");
    const p = file("e.ndjson", lines);
    const whole = [...parseSource(`ndjson:${p}`, 4, 2)];
    expect(whole.map(steps)).toEqual([
      [[1], []],
      [[0, 2], [3]],
    ]);
    const live: number[][] = [];
    for await (const s of openLiveSource(`ndjson:${p}`, 4, 1)) {
      expect(s.steps.length).toBe(1);
      live.push(...steps(s));
    }
    expect(live).toEqual([[1], [], [0, 2], [3]]);
  });

  it("rate-encoded values use the seeded PRNG: same seed, same spikes", () => {
    const p = file("v.ndjson", Array.from({ length: 20 }, () => JSON.stringify({ values: [0.5, 0.1, 0.9] })).join("\n"));
    const a = [...parseSource(`ndjson:${p},encoder=rate,seed=5`, 3, 20)].map(steps);
    const b = [...parseSource(`ndjson:${p},encoder=rate,seed=5`, 3, 20)].map(steps);
    expect(a).toEqual(b);
    const total = a[0]!.flat().length;
    expect(total).toBeGreaterThan(15);
    expect(total).toBeLessThan(45);
  });
});

describe("bounds", () => {
  it("an NDJSON input whose t jumps past the step limit is refused, not allocated", () => {
    const p = file("jump.ndjson", Array.from({ length: 20 }, (_, k) => JSON.stringify({ t: (k + 1) * 1_000_000, events: [0] })).join("\n"));
    expect(code(() => parseSource(`ndjson:${p}`, 4, 10))).toMatch(/^CLI_BAD_INPUT_FILE: ndjson .*: line 17: more than 16777216 steps/);
  });
});
