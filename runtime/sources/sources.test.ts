import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DeltaEncoder } from "../encoders.js";
import { isPicospikeError, PicospikeError } from "../errors.js";
import { LineSplitter, MAX_LINE_BYTES, NdjsonDecoder } from "./ndjson.js";
import { splitDetail } from "./options.js";
import { detectSerial, parseNumberLine } from "./serial-lines.js";

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isPicospikeError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "no error";
}

describe("source details", () => {
  it("keeps a comma not followed by key= in the path", () => {
    expect(code(() => splitDetail("nmnist", "a,b.bin,dt=x", ["dt"]))).toBe("no error");
    expect(splitDetail("nmnist", "a,b.bin,dt=5", ["dt"]).path).toBe("a,b.bin");
  });
});

describe("ndjson decoding", () => {
  const analog = { encoder: "delta", scale: 1, threshold: 2, graded: false, fullScale: 256, bipolar: true, seed: 1, window: 4 } as const;

  it("event lines: t optional, skipped steps empty, indices sorted", () => {
    const d = new NdjsonDecoder("ndjson test", 8, analog);
    expect(d.line('{"events":[3,1]}').map((e) => Array.from(e.indices))).toEqual([[1, 3]]);
    expect(d.line("").length).toBe(0);
    expect(d.line('{"t":3,"events":[7]}').map((e) => Array.from(e.indices))).toEqual([[], [], [7]]);
    expect(d.line('{"events":[]}').map((e) => e.indices.length)).toEqual([0]);
  });

  it("malformed lines are CLI_BAD_INPUT_FILE naming the line", () => {
    const cases: Array<[string, RegExp]> = [
      ["{not json", /line 1: not JSON/],
      ['{"events":[9]}', /line 1: event 9 is not an input index in 0..7/],
      ['{"events":[1,1]}', /line 1: input 1 twice/],
      ['{"events":[1],"values":[2]}', /exactly one of/],
      ['{"events":[1],"x":1}', /unknown field "x"/],
      ["[1,2]", /expected a JSON object/],
    ];
    for (const [text, re] of cases) {
      const msg = code(() => new NdjsonDecoder("ndjson test", 8, analog).line(text));
      expect(msg).toMatch(/^CLI_BAD_INPUT_FILE: ndjson test: /);
      expect(msg).toMatch(re);
    }
    const d = new NdjsonDecoder("ndjson test", 8, analog);
    d.line('{"t":5,"events":[1]}');
    expect(code(() => d.line('{"t":5,"events":[2]}'))).toMatch(/line 2: "t" 5 is not after the previous step 5/);
    const m = new NdjsonDecoder("ndjson test", 8, analog);
    m.line('{"values":[1,2,3,4]}');
    expect(code(() => m.line('{"events":[2]}'))).toMatch(/line 2: "events" line in an input of "values" lines/);
    expect(code(() => m.line('{"values":[1,2]}'))).toMatch(/line 3: 2 values, earlier samples had 4/);
  });

  it("values lines go through the chosen encoder, exactly as the runtime encoder does", () => {
    const d = new NdjsonDecoder("ndjson test", 4, analog);
    const enc = new DeltaEncoder(2, { threshold: 2 });
    for (const row of [
      [0, 0],
      [3, 0],
      [3, -5],
      [0, -5],
    ]) {
      expect(d.line(JSON.stringify({ values: row })).map((e) => Array.from(e.indices))).toEqual([Array.from(enc.step(row).indices)]);
    }
    expect(code(() => new NdjsonDecoder("ndjson test", 5, analog).line('{"values":[1,2]}'))).toMatch(
      /^SEMANTICS_BAD_INPUT: .*2 channels give 4 inputs with the delta encoder, the model has 5/,
    );
  });
});

describe("serial data-forwarder lines", () => {
  it("parses numbers separated by commas, tabs or spaces; rejects anything else", () => {
    expect(parseNumberLine("1, -2.5\t3e2")).toEqual([1, -2.5, 300]);
    expect(parseNumberLine("temp=3")).toBeUndefined();
    expect(parseNumberLine("  ")).toBeUndefined();
  });

  it("detects channels and rate, and rejects disagreeing lines", () => {
    const lines = Array.from({ length: 10 }, (_, k) => ({ text: `${k},${2 * k},${3 * k}`, atMs: 1000 + 10 * k }));
    expect(detectSerial("serial t", lines)).toEqual({ channels: 3, rateHz: 100 });
    const bad = [...lines.slice(0, 4), { text: "1,2", atMs: 1050 }];
    expect(code(() => detectSerial("serial t", bad))).toMatch(/^CLI_BAD_INPUT_FILE: serial t: line 6 has 2 values, line 2 had 3/);
  });

  it("splits lines across chunks and bounds their length", () => {
    const s = new LineSplitter("t");
    expect(s.push(new TextEncoder().encode("ab"))).toEqual([]);
    expect(s.push(new TextEncoder().encode("c\r\nd\n"))).toEqual(["abc", "d"]);
    expect(s.end()).toEqual([]);
  });
});

describe("fuzz: NDJSON lines and byte streams", () => {
  const analog = { encoder: "rate", scale: 1, threshold: 1, graded: false, fullScale: 256, bipolar: true, seed: 1, window: 4 } as const;
  it("any line gives steps of valid indices or one CLI_BAD_INPUT_FILE / SEMANTICS_BAD_INPUT, never another exception", () => {
    const line = fc.oneof(
      fc.string(),
      fc
        .record({ t: fc.oneof(fc.integer({ min: -2, max: 3_000_000 }), fc.string()), events: fc.array(fc.integer({ min: -2, max: 10 }), { maxLength: 12 }) })
        .map((o) => JSON.stringify(o)),
      fc.record({ values: fc.array(fc.double(), { maxLength: 6 }) }).map((o) => JSON.stringify(o)),
      fc.json(),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const d = new NdjsonDecoder("fuzz", 8, analog);
        try {
          for (const text of lines) for (const step of d.line(text)) for (const i of step.indices) expect(i).toBeLessThan(8);
        } catch (e) {
          expect(e).toBeInstanceOf(PicospikeError);
          expect(["CLI_BAD_INPUT_FILE", "SEMANTICS_BAD_INPUT"]).toContain((e as PicospikeError).code);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("splitting bytes into lines does not depend on where the chunks break, and no line exceeds the bound", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 5 }), (bytes, cuts) => {
        const whole = new LineSplitter("w");
        const expected = [...whole.push(bytes), ...whole.end()];
        const parts = new LineSplitter("p");
        const got: string[] = [];
        let at = 0;
        for (const c of [...cuts].sort((a, b) => a - b)) {
          const end = Math.min(c, bytes.length);
          if (end > at) got.push(...parts.push(bytes.subarray(at, end)));
          at = Math.max(at, end);
        }
        got.push(...parts.push(bytes.subarray(at)), ...parts.end());
        expect(got).toEqual(expected);
      }),
      { numRuns: 300 },
    );
    const long = new LineSplitter("long");
    expect(code(() => long.push(new Uint8Array(MAX_LINE_BYTES + 1)))).toMatch(/^CLI_BAD_INPUT_FILE: long: line 1 is longer than/);
  });
});
