import { describe, expect, it } from "vitest";
import type { StepEvents } from "../events.js";
import { renderChart } from "./chart.js";
import { renderRaster } from "./raster.js";
import { renderHeatmaps } from "./heatmap.js";
import { formatTick, niceTicks } from "./svg.js";

const ev = (...i: number[]): StepEvents => ({ indices: Uint32Array.from(i) });

/**
 * Checks that `svg` is one well-formed SVG document: every element closed in order, attributes
 * quoted, text free of raw `<` and of `&` outside entities. Returns the element names in order.
 */
function wellFormed(svg: string): string[] {
  const names: string[] = [];
  const open: string[] = [];
  const token = /<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = token.exec(svg)) !== null) {
    at = token.lastIndex;
    if (m[5] !== undefined) {
      expect(m[5]).not.toMatch(/&(?!(amp|lt|gt|quot|#\d+);)/);
      if (open.length === 0) expect(m[5].trim()).toBe("");
      continue;
    }
    const [, close, name, , selfClose] = m;
    if (close) expect(open.pop()).toBe(name);
    else {
      names.push(name!);
      if (!selfClose) open.push(name!);
    }
  }
  expect(at).toBe(svg.length);
  expect(open).toEqual([]);
  expect(names[0]).toBe("svg");
  return names;
}

describe("raster plots", () => {
  it("draws every layer with axes, labels, a legend, rates and the divergence", () => {
    const svg = renderRaster({
      title: "t <1>",
      steps: 4,
      layers: [
        { name: "input", size: 3, spikes: [ev(0), ev(), ev(2), ev()] },
        { name: "out", size: 2, spikes: [ev(), ev(1), ev(0), ev()], reference: [ev(), ev(1), ev(), ev(1)] },
      ],
      divergence: { step: 2, layer: 1, neuron: 0, text: "first divergence: step 2" },
    });
    expect(svg.startsWith("<svg")).toBe(true);
    wellFormed(svg);
    expect(svg).toContain("t &lt;1&gt;");
    for (const text of [
      '<tspan font-weight="bold">input</tspan>',
      '<tspan font-weight="bold">out</tspan>',
      ">step</text>",
      "firing rate (spikes/step)",
      "spike in both device and interpreter",
      "device only",
      "interpreter only",
      "first divergence: step 2",
    ])
      expect(svg).toContain(text);
    // One spike in both, one device-only (red), one interpreter-only (orange) in the output layer; two inputs.
    expect(svg.match(/fill="#1a1a1a"\/>/g)!.length).toBe(1 + 2 + 1); // legend swatch + 2 inputs + 1 shared
    expect(svg.match(/fill="#d62728"\/>/g)!.length).toBe(2); // legend + the device-only spike
    expect(svg.match(/fill="#ff9f1c"\/>/g)!.length).toBe(2);
    expect(svg).toContain('stroke-dasharray="6 3"');
  });

  it("bins long runs into at most one column per pixel and labels time in ms with rates in Hz", () => {
    const spikes = Array.from({ length: 100_000 }, (_, t) => ev(t % 2));
    const svg = renderRaster({ title: "long", steps: 100_000, dtMs: 1, layers: [{ name: "out", size: 2, spikes }] });
    expect(svg).toContain("time (ms) (100000 steps");
    expect(svg).toContain("firing rate (Hz)");
    expect(svg.length).toBeLessThan(200_000);
  });

  it("draws an integrating layer's membranes as lines, rings the device read-backs (red where they differ) and marks the highest final membrane", () => {
    const reference = [Int32Array.of(0, 5, -3), Int32Array.of(10, 5, -6), Int32Array.of(20, 30, -9)];
    const svg = renderRaster({
      title: "membranes",
      steps: 3,
      layers: [
        {
          name: "readout",
          size: 3,
          spikes: [ev(), ev(), ev()],
          reference: [ev(), ev(), ev()],
          membrane: { reference, primary: new Map([[2, Int32Array.of(20, 31, -9)]]) },
        },
      ],
    });
    wellFormed(svg);
    expect(svg).toContain("integrating; lines: interpreter, rings: device");
    expect(svg.match(/<polyline /g)!.length).toBe(3);
    // three rings at step 2: neurons 0 and 2 equal (dark), neuron 1 differs (red)
    expect(svg.match(/<circle [^>]*stroke="#1a1a1a"/g)!.length).toBe(2);
    expect(svg.match(/<circle [^>]*stroke="#d62728"/g)!.length).toBe(1);
    expect(svg).toContain("1: 30 ◀ max");
    expect(svg).toContain(">membrane</text>");
  });
});

describe("line charts", () => {
  it("draw every series with its legend, both axes with labels and ticks, and reference lines", () => {
    const svg = renderChart({
      title: "accuracy & loss <per epoch>",
      xLabel: "epoch",
      yLabel: "fraction",
      series: [
        {
          name: "train",
          points: [
            [1, 0.5],
            [2, 0.7],
            [3, 0.9],
          ],
        },
        {
          name: "test",
          points: [
            [1, 0.4],
            [2, 0.6],
            [3, NaN],
          ],
          style: "points",
        },
      ],
      hLines: [{ y: 0.1, label: "chance" }],
    });
    const names = wellFormed(svg);
    expect(svg).toContain("accuracy &amp; loss &lt;per epoch&gt;");
    expect(svg).toContain(">epoch</text>");
    expect(svg).toMatch(/rotate\(-90\)[^>]*>fraction<\/text>/);
    expect(svg).toContain(">train</text>");
    expect(svg).toContain(">test</text>");
    expect(svg).toContain(">chance</text>");
    // one polyline for the line series; markers: 3 for the line, 2 finite points for the point series
    expect(names.filter((n) => n === "polyline").length).toBe(1);
    expect(names.filter((n) => n === "circle").length).toBe(5);
    // x ticks 1, 1.5, ..., 3 under the axis
    for (const t of ["1", "2", "3"]) expect(svg).toContain(`text-anchor="middle">${t}</text>`);
  });

  it("log-x axes tick at powers of ten", () => {
    const svg = renderChart({
      title: "log",
      xLabel: "x",
      yLabel: "y",
      logX: true,
      series: [
        {
          name: "s",
          points: [
            [1, 1],
            [1000, 2],
          ],
        },
      ],
    });
    wellFormed(svg);
    for (const t of ["1", "10", "100", "1000"]) expect(svg).toContain(`text-anchor="middle">${t}</text>`);
  });
});

describe("ticks", () => {
  it("are round numbers covering the range, zero exact", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(-0.3, 0.3, 6)).toContain(0);
    expect([0, 0.5, 1234.5678, 250000, 0.0001].map(formatTick)).toEqual(["0", "0.5", "1235", "2.5e+5", "1.0e-4"]);
  });
});

describe("heatmaps", () => {
  it("draws one cell per value on a shared scale, skips empty slots, escapes captions", () => {
    const svg = renderHeatmaps({
      title: "fields <&>",
      columns: 3,
      min: 0,
      max: 10,
      panels: [
        { label: "a", rows: 2, cols: 2, values: [0, 10, 5, 20] },
        { label: "", rows: 0, cols: 0, values: [] },
        { label: "b & c", rows: 1, cols: 2, values: [0, 10] },
      ],
    });
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain("fields &lt;&amp;&gt;");
    expect(svg).toContain("b &amp; c");
    // white at min, the darkest shade at max and above (clamped)
    expect((svg.match(/fill="rgb\(255,255,255\)"/g) ?? []).length).toBe(2);
    expect((svg.match(/fill="rgb\(30,30,60\)"/g) ?? []).length).toBe(3);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(wellFormed(svg).filter((n) => n === "rect").length).toBe(1 + 4 + 1 + 2 + 1);
  });
});
