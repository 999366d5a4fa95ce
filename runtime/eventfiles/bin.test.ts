import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../errors.js";
import type { InputSample } from "../events.js";
import { binEvents, binLayout, filterEvents, splitSample } from "./bin.js";
import type { EventStream } from "./stream.js";

function stream(width: number, height: number, events: readonly [x: number, y: number, p: number, t: number][]): EventStream {
  return {
    x: Uint16Array.from(events, (e) => e[0]),
    y: Uint16Array.from(events, (e) => e[1]),
    p: Uint8Array.from(events, (e) => e[2]),
    t: Float64Array.from(events, (e) => e[3]),
    width,
    height,
  };
}

/** Steps as plain arrays of [index, value] for readable expectations. */
const plain = (s: InputSample): [number, number][][] =>
  s.steps.map((st) => Array.from(st.indices, (i, k) => [i, st.values ? st.values[k]! : 1] as [number, number]));

describe("binEvents", () => {
  const events = stream(4, 3, [
    [0, 0, 1, 1000],
    [3, 2, 0, 1000],
    [3, 2, 1, 1999],
    [1, 0, 1, 2000],
    [1, 0, 1, 2500],
    [2, 1, 0, 4999],
  ]);

  it("bins by dt from the first event, merges polarities, and dedupes within a step", () => {
    const s = binEvents(events, { dtUs: 1000 });
    expect(binLayout(events, { dtUs: 1000 }).shape).toEqual([1, 3, 4]);
    expect(plain(s)).toEqual([
      [
        [0, 1],
        [11, 1],
      ],
      [[1, 1]],
      [],
      [[6, 1]],
    ]);
  });

  it("counts events per neuron with accumulate=count and splits polarity into OFF/ON channels", () => {
    expect(plain(binEvents(events, { dtUs: 1000, accumulate: "count" }))[0]).toEqual([
      [0, 1],
      [11, 2],
    ]);
    const split = binEvents(events, { dtUs: 1000, polarity: "split" });
    // channel c of (x, y) is index (c * 3 + y) * 4 + x
    expect(plain(split)).toEqual([
      [
        [11, 1],
        [12, 1],
        [23, 1],
      ],
      [[13, 1]],
      [],
      [[6, 1]],
    ]);
    expect(plain(binEvents(events, { dtUs: 1000, polarity: "on" }))).toEqual([
      [
        [0, 1],
        [11, 1],
      ],
      [[1, 1]],
      [],
      [],
    ]);
    expect(plain(binEvents(events, { dtUs: 1000, polarity: "off" }))[0]).toEqual([[11, 1]]);
  });

  it("crops, downsamples with ceil-sized output, and honours start and steps", () => {
    const opts = { dtUs: 2000, crop: { x: 1, y: 0, width: 3, height: 3 }, downsample: 2, startUs: 0 };
    expect(binLayout(events, opts).shape).toEqual([1, 2, 2]);
    // (3,2) -> (1,1) -> 3 ; (1,0) -> (0,0) -> 0 ; (2,1) -> (0,0) ; (0,0) is cropped away
    expect(plain(binEvents(events, opts))).toEqual([[[3, 1]], [[0, 1]], [[0, 1]]]);
    expect(plain(binEvents(events, { ...opts, startUs: 2000, steps: 1 }))).toEqual([[[0, 1]]]);
    expect(binEvents(events, { ...opts, steps: 5 }).steps.length).toBe(5);
    expect(binLayout(events, { dtUs: 1, downsample: [3, 2] }).shape).toEqual([1, 2, 2]);
  });

  it("refuses bad parameters and recordings longer than maxSteps with CLI_USAGE", () => {
    for (const bad of [
      { dtUs: 0 },
      { dtUs: 1.5 },
      { dtUs: 10, downsample: 0 },
      { dtUs: 10, crop: { x: 3, y: 0, width: 2, height: 1 } },
      { dtUs: 1, maxSteps: 100 },
    ]) {
      let err: unknown;
      try {
        binEvents(events, bad);
      } catch (e) {
        err = e;
      }
      expect(isPicospikeError(err, "CLI_USAGE"), JSON.stringify(bad)).toBe(true);
    }
  });

  it("gives an empty sample for an empty stream and splits samples", () => {
    expect(binEvents(stream(2, 2, []), { dtUs: 10 }).steps).toEqual([]);
    const s = binEvents(events, { dtUs: 1000 });
    expect(splitSample(s, 3).map((x) => x.steps.length)).toEqual([3, 1]);
  });
});

describe("filterEvents", () => {
  it("drops events of a pixel that fired (a kept event) less than R µs before", () => {
    const s = stream(2, 1, [
      [0, 0, 1, 0],
      [0, 0, 0, 50], // within 100 of the kept 0: dropped (either polarity)
      [1, 0, 1, 60], // other pixel: kept
      [0, 0, 1, 100], // exactly R after the kept one: kept
      [0, 0, 1, 150], // dropped
      [0, 0, 1, 199], // still within R of 100 (dropped events do not extend the period)
      [0, 0, 1, 200], // kept
    ]);
    expect(Array.from(filterEvents(s, { refractoryUs: 100 }).t)).toEqual([0, 60, 100, 200]);
  });

  it("keeps only events with a neighbour event within T µs (background-activity filter)", () => {
    const s = stream(5, 5, [
      [0, 0, 1, 0], // no neighbour yet: dropped (but still recorded)
      [1, 1, 1, 10], // diagonal neighbour (0,0) at 0: kept
      [4, 4, 1, 20], // isolated: dropped
      [2, 2, 0, 200], // neighbour (1,1) at 10 is 190 µs old, > T: dropped
      [2, 3, 1, 250], // neighbour (2,2) at 200 (a dropped event) counts: kept
      [2, 3, 1, 260], // its own pixel's 250 does not count, but (2,2) at 200 does: kept
    ]);
    expect(Array.from(filterEvents(s, { denoiseUs: 100 }).t)).toEqual([10, 250, 260]);
    expect(Array.from(filterEvents(s, { denoiseUs: 100, refractoryUs: 20 }).t)).toEqual([10, 250]);
    expect(filterEvents(s, {})).toBe(s);
  });
});
