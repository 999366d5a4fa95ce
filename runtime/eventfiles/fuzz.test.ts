import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PicospikeError } from "../errors.js";
import { readAedat } from "./aedat.js";
import { binEvents } from "./bin.js";
import { readNmnist } from "./nmnist.js";
import { readEvt2, readEvt3 } from "./prophesee.js";
import type { EventStream } from "./stream.js";
import { type TestEvent, writeAedat2, writeAedat31, writeAedat4, writeEvt2, writeEvt3, writeNmnist } from "./testing/writers.js";

type Reader = (bytes: Uint8Array) => EventStream;

/** A valid stream: equal column lengths, coordinates inside the geometry, exact non-negative times. */
function checkStream(s: EventStream, bytes: Uint8Array): void {
  const n = s.t.length;
  expect(s.x.length).toBe(n);
  expect(s.y.length).toBe(n);
  expect(s.p.length).toBe(n);
  expect(Number.isInteger(s.width) && s.width >= 1).toBe(true);
  expect(Number.isInteger(s.height) && s.height >= 1).toBe(true);
  // Bounded output: never more than 6 events per input byte (EVT 3.0's VECT_12 is the densest).
  expect(n).toBeLessThanOrEqual(6 * bytes.length + 16);
  for (let k = 0; k < n; k++) {
    expect(s.x[k]! < s.width && s.y[k]! < s.height && s.p[k]! <= 1).toBe(true);
    expect(Number.isSafeInteger(s.t[k]!) && s.t[k]! >= 0).toBe(true);
  }
}

/** Either a valid stream or CLI_BAD_INPUT_FILE with an offset inside the file; nothing else. */
function readsOrRejects(read: Reader, bytes: Uint8Array): void {
  let s: EventStream;
  try {
    s = read(bytes);
  } catch (e) {
    if (!(e instanceof PicospikeError)) throw e;
    expect(e.code).toBe("CLI_BAD_INPUT_FILE");
    const offset = e.detail?.offset as number;
    expect(Number.isInteger(offset) && offset >= 0 && offset <= bytes.length, e.message).toBe(true);
    return;
  }
  checkStream(s, bytes);
  if (s.t.length > 0 && s.width * s.height <= 1 << 16) {
    const sample = binEvents(s, { dtUs: 1000, maxSteps: 1 << 22, polarity: "split", denoiseUs: 500, refractoryUs: 100 });
    for (const st of sample.steps) for (let k = 1; k < st.indices.length; k++) expect(st.indices[k]! > st.indices[k - 1]!).toBe(true);
  }
}

const event = (w: number, h: number): fc.Arbitrary<TestEvent> => fc.record({ x: fc.nat(w - 1), y: fc.nat(h - 1), p: fc.nat(1), t: fc.nat(5_000_000) });
const sortedEvents = (w: number, h: number): fc.Arbitrary<TestEvent[]> => fc.array(event(w, h), { maxLength: 30 }).map((es) => es.sort((a, b) => a.t - b.t));

const formats: [string, Reader, (es: TestEvent[]) => Uint8Array, number, number][] = [
  ["N-MNIST", (b) => readNmnist(b), writeNmnist, 34, 34],
  ["AEDAT 2.0", (b) => readAedat(b), (es) => writeAedat2(es), 128, 128],
  ["AEDAT 3.1", (b) => readAedat(b), (es) => writeAedat31(es, { packetSize: 3, invalidEvents: true }), 128, 128],
  ["AEDAT 4.0", (b) => readAedat(b), (es) => writeAedat4(es, { imuStream: true, dataTable: true }), 346, 260],
  ["EVT 2.0", (b) => readEvt2(b), (es) => writeEvt2(es), 640, 480],
  ["EVT 3.0", (b) => readEvt3(b), (es) => writeEvt3(es, { vectorize: true }), 640, 480],
];

/** Byte mutations of a valid file: overwrite, truncate, insert. */
const mutated = (base: Uint8Array): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    fc.array(fc.tuple(fc.nat(Math.max(0, base.length - 1)), fc.nat(255)), { minLength: 1, maxLength: 6 }).map((edits) => {
      const b = base.slice();
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      return b;
    }),
    fc.nat(base.length).map((n) => base.slice(0, n)),
    fc.tuple(fc.nat(base.length), fc.uint8Array({ minLength: 1, maxLength: 9 })).map(([at, ins]) => {
      const b = new Uint8Array(base.length + ins.length);
      b.set(base.subarray(0, at));
      b.set(ins, at);
      b.set(base.subarray(at), at + ins.length);
      return b;
    }),
  );

describe("event-file readers on hostile bytes", () => {
  for (const [name, read, write, w, h] of formats) {
    it(`${name}: round-trips random events`, () => {
      fc.assert(
        fc.property(sortedEvents(w, h), (es) => {
          const s = read(write(es));
          expect(Array.from(s.t)).toEqual(es.map((e) => e.t));
          expect(Array.from(s.x)).toEqual(es.map((e) => e.x));
          expect(Array.from(s.y)).toEqual(es.map((e) => e.y));
          expect(Array.from(s.p)).toEqual(es.map((e) => e.p));
        }),
        { numRuns: 60 },
      );
    });

    it(`${name}: mutated files give a valid stream or CLI_BAD_INPUT_FILE with an in-file offset`, () => {
      fc.assert(
        fc.property(
          sortedEvents(w, h).chain((es) => mutated(write(es))),
          (bytes) => readsOrRejects(read, bytes),
        ),
        { numRuns: 150 },
      );
    });
  }

  it("random bytes (with and without a plausible header) never crash a reader", () => {
    const prefixes = ["", "#!AER-DAT2.0\r\n", "#!AER-DAT3.1\r\n#!END-HEADER\r\n", "#!AER-DAT4.0\r\n", "% evt 2.0\n% end\n", "% evt 3.0\n% end\n"].map((p) =>
      new TextEncoder().encode(p),
    );
    fc.assert(
      fc.property(fc.nat(prefixes.length - 1), fc.uint8Array({ maxLength: 300 }), (which, tail) => {
        const prefix = prefixes[which]!;
        const bytes = new Uint8Array(prefix.length + tail.length);
        bytes.set(prefix);
        bytes.set(tail, prefix.length);
        for (const [, read] of formats) readsOrRejects(read, bytes);
      }),
      { numRuns: 300 },
    );
  });
});
