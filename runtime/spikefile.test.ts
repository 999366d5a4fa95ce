import { Encoder } from "cbor-x";
import { describe, expect, it } from "vitest";
import { stepEvents } from "./events.js";
import { decodeSpikeFile, encodeSpikeFile, sampleFromInput, sampleToInput, type SpikeFile } from "./spikefile.js";
import { codeOf } from "./testing/error-code.js";

const FILE: SpikeFile = {
  inputSize: 4,
  samples: [
    { label: 3, steps: 3, step: Uint32Array.from([0, 0, 2]), index: Uint32Array.from([1, 3, 0]) },
    { steps: 2, step: Uint32Array.from([1]), index: Uint32Array.from([2]), value: Uint8Array.from([200]) },
  ],
};
const raw = (doc: unknown): Uint8Array => new Encoder({ useRecords: false, mapsAsObjects: true }).encode(doc);
const base = { format: "picospike-spikes", version: 1, inputSize: 4 };

describe("spike files", () => {
  it("round-trips samples, labels and graded values", () => {
    const back = decodeSpikeFile(encodeSpikeFile(FILE));
    expect(back.inputSize).toBe(4);
    expect(back.samples[0]).toEqual(FILE.samples[0]);
    expect(back.samples[1]).toEqual(FILE.samples[1]);
  });

  it("expands a sample into steps, truncating or padding to the requested length", () => {
    const s = sampleToInput(FILE.samples[0]!);
    expect(s.label).toBe(3);
    expect(s.steps.map((e) => Array.from(e.indices))).toEqual([[1, 3], [], [0]]);
    expect(sampleToInput(FILE.samples[0]!, 2).steps.map((e) => Array.from(e.indices))).toEqual([[1, 3], []]);
    expect(sampleToInput(FILE.samples[0]!, 5).steps.length).toBe(5);
    const graded = sampleToInput(FILE.samples[1]!);
    expect(Array.from(graded.steps[1]!.values ?? [])).toEqual([200]);
    // and back
    expect(sampleFromInput(s)).toEqual(FILE.samples[0]);
    expect(sampleFromInput({ steps: [stepEvents([2, 0], [1, 9])] })).toEqual({
      steps: 1,
      step: Uint32Array.from([0, 0]),
      index: Uint32Array.from([0, 2]),
      value: Uint8Array.from([9, 1]),
    });
  });

  it("rejects malformed documents with CLI_BAD_INPUT_FILE", () => {
    const ok = raw({ ...base, samples: [{ steps: 1, step: new Uint32Array(0), index: new Uint32Array(0) }] });
    expect(decodeSpikeFile(ok).samples.length).toBe(1);
    const sample = (s: Record<string, unknown>): Uint8Array =>
      raw({ ...base, samples: [{ steps: 3, step: Uint32Array.from([0]), index: Uint32Array.from([0]), ...s }] });
    const cases: Array<[string, Uint8Array]> = [
      ["truncated", ok.subarray(0, ok.length - 3)],
      ["trailing byte", Uint8Array.from([...ok, 0])],
      ["not CBOR map", raw([1, 2])],
      ["wrong format", raw({ ...base, format: "x", samples: [] })],
      ["wrong version", raw({ ...base, version: 2, samples: [] })],
      ["unknown key", raw({ ...base, samples: [], extra: 1 })],
      ["inputSize 0", raw({ ...base, inputSize: 0, samples: [] })],
      ["inputSize huge", raw({ ...base, inputSize: 2 ** 21, samples: [] })],
      ["step as plain array", sample({ step: [0] })],
      ["index as Uint16Array", sample({ index: Uint16Array.from([0]) })],
      ["length mismatch", sample({ index: Uint32Array.from([0, 1]) })],
      ["step beyond steps", sample({ step: Uint32Array.from([3]) })],
      ["index beyond input", sample({ index: Uint32Array.from([4]) })],
      ["duplicate event", sample({ step: Uint32Array.from([1, 1]), index: Uint32Array.from([2, 2]) })],
      ["unsorted steps", sample({ step: Uint32Array.from([2, 1]), index: Uint32Array.from([0, 0]) })],
      ["value 0", sample({ value: Uint8Array.from([0]) })],
      ["negative label", sample({ label: -1 })],
      ["fractional steps", sample({ steps: 2.5 })],
      ["huge declared array", Uint8Array.from([0x9a, 0xff, 0xff, 0xff, 0xff])],
      ["nesting bomb", new Uint8Array(100000).fill(0x81)],
    ];
    for (const [name, bytes] of cases) expect([name, codeOf(() => decodeSpikeFile(bytes))]).toEqual([name, "CLI_BAD_INPUT_FILE"]);
  });

  it("refuses to write an invalid file", () => {
    expect(codeOf(() => encodeSpikeFile({ inputSize: 2, samples: [{ steps: 1, step: Uint32Array.from([0]), index: Uint32Array.from([5]) }] }))).toBe(
      "CLI_BAD_INPUT_FILE",
    );
  });
});
