import { describe, expect, it } from "vitest";
import type { StepEvents } from "../runtime/events.js";
import { niceTicks, renderRaster } from "./plot.js";

const ev = (...i: number[]): StepEvents => ({ indices: Uint32Array.from(i) });

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
    expect(svg).toContain("integrating; lines: interpreter, rings: device");
    expect(svg.match(/<polyline /g)!.length).toBe(3);
    // three rings at step 2: neurons 0 and 2 equal (dark), neuron 1 differs (red)
    expect(svg.match(/<circle [^>]*stroke="#1a1a1a"/g)!.length).toBe(2);
    expect(svg.match(/<circle [^>]*stroke="#d62728"/g)!.length).toBe(1);
    expect(svg).toContain("1: 30 ◀ max");
    expect(svg).toContain(">membrane</text>");
  });

  it("ticks are round numbers covering the range", () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
  });
});
