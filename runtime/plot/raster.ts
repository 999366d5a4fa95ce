/**
 * Raster plots as SVG (the drawing shared with line charts is runtime/plot/svg.ts): one panel per
 * layer (input, hidden, output), time on x, neuron on y, and beside each panel the firing rate of
 * every neuron. A second run (the interpreter) can be overlaid on the first (the device): spikes
 * both have are drawn dark, spikes only one has in their own colour, and the first divergence is
 * marked with a dashed line and a ring. Pure string building: the verbs write the result.
 */
import type { StepEvents } from "../events.js";
import { escapeXml as esc, formatTick as fmt, niceTicks, svgOpen, swatch, xTick, yTick } from "./svg.js";

/**
 * Membranes of a non-spiking (integrating readout) layer, drawn as lines instead of a raster: the
 * reference run after every step, and the primary run's values where they were read back.
 */
export interface MembraneTrace {
  /** The reference run's membranes after each step (index = step). */
  readonly reference: readonly Int32Array[];
  /** The primary run's membranes where it was read back: step → values. */
  readonly primary: ReadonlyMap<number, Int32Array>;
}

/** One layer's spikes: per step, the indices that fired (ascending). */
export interface RasterLayer {
  /** Panel title, e.g. "input", "hidden", "out". */
  readonly name: string;
  /** Neurons in the layer (the y range). */
  readonly size: number;
  /** Spikes of the primary run (the device, or the only run). */
  readonly spikes: readonly StepEvents[];
  /** Spikes of the reference run (the interpreter), overlaid; absent for a single run. */
  readonly reference?: readonly StepEvents[];
  /** For a layer that never spikes (an integrator): its membranes, drawn as lines instead of an empty raster. */
  readonly membrane?: MembraneTrace;
}

/** Where two runs first differ (as firmware-host/jobs/compare.ts reports it). */
export interface PlotDivergence {
  readonly step: number;
  readonly layer: number;
  readonly neuron: number;
  readonly text: string;
}

/** A raster plot. */
export interface RasterPlot {
  readonly title: string;
  readonly layers: readonly RasterLayer[];
  /** Steps on the x axis. */
  readonly steps: number;
  /** Milliseconds per step: x is in ms and rates in Hz when given; else x is steps and rates are spikes/step. */
  readonly dtMs?: number;
  /** Names of the primary and reference runs for the legend (default "device", "interpreter"). */
  readonly primaryName?: string;
  readonly referenceName?: string;
  /** Layer index in `layers` and position of the first divergence, marked on the plot. */
  readonly divergence?: PlotDivergence;
}

const WIDTH = 960;
const LEFT = 110;
const RASTER_W = 590;
const GAP = 40;
const RATE_W = 150;
const TOP = 92;
const PANEL_GAP = 46;
const BOTTOM = 60;
/** Most columns a raster draws: longer runs bin several steps into one column. */
const MAX_COLUMNS = RASTER_W;

const BOTH = "#1a1a1a";
const PRIMARY_ONLY = "#d62728";
const REFERENCE_ONLY = "#ff9f1c";
const PRIMARY = "#1f4e9c";
const REFERENCE_RATE = "#ff7f0e";

function panelHeight(layer: RasterLayer): number {
  return layer.membrane ? MEMBRANE_H : Math.max(70, Math.min(240, layer.size * 4));
}

/** Height of a membrane panel, and the most neurons it draws a line for. */
const MEMBRANE_H = 170;
const MEMBRANE_LINES = 16;
/** Line colours of a membrane panel (one per neuron, cycling). */
const LINE_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/**
 * Draws a membrane panel at y0: one line per neuron (the reference run), rings where the primary
 * run was read back (dark when equal to the reference, red when not), and the final values beside it.
 */
function membranePanel(out: string[], layer: RasterLayer, trace: MembraneTrace, y0: number, steps: number, primaryName: string, referenceName: string): void {
  const lines = Math.min(layer.size, MEMBRANE_LINES);
  let lo = 0;
  let hi = 0;
  for (const v of trace.reference) for (let j = 0; j < lines; j++) ((lo = Math.min(lo, v[j]!)), (hi = Math.max(hi, v[j]!)));
  for (const v of trace.primary.values()) for (let j = 0; j < lines; j++) ((lo = Math.min(lo, v[j]!)), (hi = Math.max(hi, v[j]!)));
  if (hi === lo) hi = lo + 1;
  const ticks = niceTicks(lo, hi, 4);
  const yLo = Math.min(lo, ticks[0]!);
  const yHi = Math.max(hi, ticks.at(-1)!);
  const sy = (v: number): number => y0 + MEMBRANE_H - ((v - yLo) / (yHi - yLo)) * MEMBRANE_H;
  const sx = (step: number): number => LEFT + ((step + 1) / steps) * RASTER_W; // a membrane is the state after its step
  out.push(`<rect x="${LEFT}" y="${y0}" width="${RASTER_W}" height="${MEMBRANE_H}" fill="#fafafa" stroke="#333"/>`);
  for (const t of ticks) {
    const y = sy(t);
    out.push(yTick(LEFT, Number(y.toFixed(1)), fmt(t)));
  }
  if (yLo < 0 && yHi > 0)
    out.push(`<line x1="${LEFT}" y1="${sy(0).toFixed(1)}" x2="${LEFT + RASTER_W}" y2="${sy(0).toFixed(1)}" stroke="#999" stroke-dasharray="2 2"/>`);
  out.push(
    `<text x="${LEFT}" y="${y0 - 6}" font-size="13"><tspan font-weight="bold">${esc(layer.name)}</tspan> (${layer.size} neurons, integrating; lines: ${esc(referenceName)}, rings: ${esc(primaryName)}${layer.size > lines ? `; first ${lines} drawn` : ""})</text>`,
  );
  out.push(`<text transform="translate(${LEFT - 62} ${y0 + MEMBRANE_H / 2}) rotate(-90)" text-anchor="middle">membrane</text>`);
  const n = Math.min(steps, trace.reference.length);
  for (let j = 0; j < lines; j++) {
    const color = LINE_COLORS[j % LINE_COLORS.length]!;
    const pts: string[] = [`${LEFT},${sy(0).toFixed(1)}`];
    for (let t = 0; t < n; t++) pts.push(`${sx(t).toFixed(1)},${sy(trace.reference[t]![j]!).toFixed(1)}`);
    out.push(`<polyline points="${pts.join(" ")}" fill="none" stroke="${color}" stroke-width="1.4"/>`);
    for (const [t, v] of trace.primary) {
      if (t >= steps) continue;
      const same = trace.reference[t] !== undefined && trace.reference[t]![j] === v[j];
      out.push(`<circle cx="${sx(t).toFixed(1)}" cy="${sy(v[j]!).toFixed(1)}" r="3.5" fill="none" stroke="${same ? BOTH : PRIMARY_ONLY}" stroke-width="1.5"/>`);
    }
  }
  // Beside the panel: the final values, one coloured line per neuron.
  const rx = LEFT + RASTER_W + GAP;
  const last = trace.reference[n - 1];
  out.push(`<text x="${rx + RATE_W / 2}" y="${y0 - 6}" text-anchor="middle">final membrane</text>`);
  const rowH = Math.min(14, MEMBRANE_H / lines);
  // The class an integrating readout picks: the highest final membrane, ties to the lowest index.
  let winner = 0;
  if (last) for (let j = 1; j < lines; j++) if (last[j]! > last[winner]!) winner = j;
  for (let j = 0; j < lines; j++) {
    const y = y0 + (j + 0.8) * rowH;
    const text = `${j}: ${last === undefined ? "–" : last[j]}${last && j === winner ? " ◀ max" : ""}`;
    out.push(
      `<line x1="${rx}" y1="${(y - 4).toFixed(1)}" x2="${rx + 14}" y2="${(y - 4).toFixed(1)}" stroke="${LINE_COLORS[j % LINE_COLORS.length]}" stroke-width="2"/><text x="${rx + 18}" y="${y.toFixed(1)}" font-size="${Math.min(12, rowH)}"${last && j === winner ? ' font-weight="bold"' : ""}>${esc(text)}</text>`,
    );
  }
}

/** Set of "column,neuron" keys of a run's spikes. */
function cells(spikes: readonly StepEvents[], steps: number, columns: number): Set<number> {
  const out = new Set<number>();
  const n = Math.min(steps, spikes.length);
  for (let t = 0; t < n; t++) {
    const col = Math.floor((t * columns) / steps);
    for (const i of spikes[t]!.indices) out.add(i * columns + col);
  }
  return out;
}

function counts(spikes: readonly StepEvents[], size: number, steps: number): Float64Array {
  const c = new Float64Array(size);
  for (let t = 0; t < Math.min(steps, spikes.length); t++) for (const i of spikes[t]!.indices) if (i < size) c[i]!++;
  return c;
}

/** Renders a raster plot (with firing-rate panels) as an SVG document. */
export function renderRaster(plot: RasterPlot): string {
  const steps = Math.max(1, plot.steps);
  const columns = Math.min(MAX_COLUMNS, steps);
  const overlay = plot.layers.some((l) => l.reference !== undefined);
  const primaryName = plot.primaryName ?? "device";
  const referenceName = plot.referenceName ?? "interpreter";
  const heights = plot.layers.map((l) => panelHeight(l));
  const height = TOP + heights.reduce((a, b) => a + b, 0) + PANEL_GAP * Math.max(0, plot.layers.length - 1) + BOTTOM;
  const xUnit = plot.dtMs === undefined ? "step" : "time (ms)";
  const xMax = plot.dtMs === undefined ? steps : steps * plot.dtMs;
  const sx = (step: number): number => LEFT + (step / steps) * RASTER_W;
  const colW = RASTER_W / columns;
  const rateUnit = plot.dtMs === undefined ? "spikes/step" : "Hz";
  const toRate = (count: number): number => (plot.dtMs === undefined ? count / steps : count / ((steps * plot.dtMs) / 1000));
  const out: string[] = [];
  out.push(svgOpen(WIDTH, height));
  out.push(`<text x="${LEFT + RASTER_W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(plot.title)}</text>`);
  // Legend.
  const legend: Array<[string, string]> = overlay
    ? [
        [BOTH, `spike in both ${primaryName} and ${referenceName}`],
        [PRIMARY_ONLY, `${primaryName} only`],
        [REFERENCE_ONLY, `${referenceName} only`],
      ]
    : [[BOTH, "spike"]];
  let lx = LEFT;
  for (const [color, label] of legend) {
    out.push(swatch(lx, 39, color, label));
    lx += 26 + label.length * 6.3;
  }
  if (plot.divergence) {
    out.push(`<line x1="${LEFT}" y1="62" x2="${LEFT + 12}" y2="62" stroke="${PRIMARY_ONLY}" stroke-width="2" stroke-dasharray="4 2"/>`);
    out.push(
      `<circle cx="${LEFT + 24}" cy="62" r="5" fill="none" stroke="${PRIMARY_ONLY}" stroke-width="2"/><text x="${LEFT + 34}" y="66" fill="${PRIMARY_ONLY}" font-weight="bold">${esc(plot.divergence.text)}</text>`,
    );
  }
  if (overlay) {
    const rx = LEFT + RASTER_W + GAP;
    out.push(`<rect x="${rx}" y="39" width="10" height="10" fill="${PRIMARY}" opacity="0.6"/><text x="${rx + 14}" y="48">${esc(primaryName)} rate</text>`);
    out.push(
      `<line x1="${rx}" y1="62" x2="${rx + 10}" y2="62" stroke="${REFERENCE_RATE}" stroke-width="2"/><text x="${rx + 14}" y="66">${esc(referenceName)} rate (where different)</text>`,
    );
  }
  // X ticks under every panel; the axis label under the last one.
  const timeAxis = (yAxis: number, labelled: boolean): void => {
    for (const t of niceTicks(0, xMax, 8)) {
      const x = LEFT + (t / xMax) * RASTER_W;
      out.push(xTick(x, yAxis, fmt(t)));
    }
    if (labelled)
      out.push(
        `<text x="${LEFT + RASTER_W / 2}" y="${yAxis + 36}" text-anchor="middle">${xUnit}${columns < steps ? ` (${steps} steps, ${(steps / columns).toFixed(1)} per column)` : ""}</text>`,
      );
  };
  let y0 = TOP;
  plot.layers.forEach((layer, li) => {
    const ph = heights[li]!;
    if (layer.membrane) {
      membranePanel(out, layer, layer.membrane, y0, steps, primaryName, referenceName);
      timeAxis(y0 + ph, li === plot.layers.length - 1);
      y0 += ph + PANEL_GAP;
      return;
    }
    const size = Math.max(1, layer.size);
    const sy = (neuron: number): number => y0 + ph - ((neuron + 0.5) / size) * ph;
    const rowH = Math.max(0.6, ph / size);
    // Frame, y ticks and label.
    out.push(`<rect x="${LEFT}" y="${y0}" width="${RASTER_W}" height="${ph}" fill="#fafafa" stroke="#333"/>`);
    for (const t of niceTicks(0, size - 1, Math.min(5, size - 1 || 1)).filter((v) => Number.isInteger(v) && v < size)) {
      const y = sy(t);
      out.push(yTick(LEFT, y, String(t)));
    }
    out.push(`<text x="${LEFT}" y="${y0 - 6}" font-size="13"><tspan font-weight="bold">${esc(layer.name)}</tspan> (${layer.size} neurons)</text>`);
    out.push(`<text transform="translate(${LEFT - 48} ${y0 + ph / 2}) rotate(-90)" text-anchor="middle">neuron</text>`);
    // Spikes, binned into columns.
    const a = cells(layer.spikes, steps, columns);
    const b = layer.reference ? cells(layer.reference, steps, columns) : a;
    const draw = (key: number, color: string): void => {
      const neuron = Math.floor(key / columns);
      const col = key % columns;
      out.push(
        `<rect x="${(LEFT + col * colW).toFixed(2)}" y="${(sy(neuron) - rowH / 2).toFixed(2)}" width="${Math.max(0.8, colW * 0.85).toFixed(2)}" height="${rowH.toFixed(2)}" fill="${color}"/>`,
      );
    };
    for (const k of a) draw(k, b.has(k) ? BOTH : PRIMARY_ONLY);
    for (const k of b) if (!a.has(k)) draw(k, REFERENCE_ONLY);
    timeAxis(y0 + ph, li === plot.layers.length - 1);
    // Firing rates per neuron.
    const rx = LEFT + RASTER_W + GAP;
    const ca = counts(layer.spikes, size, steps);
    const cb = layer.reference ? counts(layer.reference, size, steps) : undefined;
    let maxRate = 0;
    for (let i = 0; i < size; i++) maxRate = Math.max(maxRate, toRate(ca[i]!), cb ? toRate(cb[i]!) : 0);
    const rTicks = maxRate > 0 ? niceTicks(0, maxRate, 3) : [0, 1];
    const rStep = rTicks.length > 1 ? rTicks[1]! - rTicks[0]! : 1;
    const rMax = rTicks.at(-1)! >= maxRate ? rTicks.at(-1)! : rTicks.at(-1)! + rStep;
    out.push(`<rect x="${rx}" y="${y0}" width="${RATE_W}" height="${ph}" fill="#fafafa" stroke="#333"/>`);
    for (let i = 0; i < size; i++) {
      const w = (toRate(ca[i]!) / rMax) * RATE_W;
      if (w > 0)
        out.push(`<rect x="${rx}" y="${(sy(i) - rowH / 2).toFixed(2)}" width="${w.toFixed(2)}" height="${rowH.toFixed(2)}" fill="${PRIMARY}" opacity="0.6"/>`);
      if (cb && cb[i]! !== ca[i]!) {
        const xb = rx + (toRate(cb[i]!) / rMax) * RATE_W;
        out.push(
          `<line x1="${xb.toFixed(2)}" y1="${(sy(i) - rowH / 2).toFixed(2)}" x2="${xb.toFixed(2)}" y2="${(sy(i) + rowH / 2).toFixed(2)}" stroke="${REFERENCE_RATE}" stroke-width="2"/>`,
        );
      }
    }
    for (let k = 0; k * rStep <= rMax * (1 + 1e-9); k++) {
      const t = Number((k * rStep).toPrecision(10));
      const x = rx + (t / rMax) * RATE_W;
      out.push(xTick(x, y0 + ph, fmt(t)));
    }
    out.push(`<text x="${rx + RATE_W / 2}" y="${y0 - 6}" text-anchor="middle">firing rate (${rateUnit})</text>`);
    // The first divergence: a ring on its neuron.
    const d = plot.divergence;
    if (d && d.layer === li) {
      const cx = sx(d.step + 0.5);
      out.push(`<circle cx="${cx.toFixed(1)}" cy="${sy(d.neuron).toFixed(1)}" r="7" fill="none" stroke="${PRIMARY_ONLY}" stroke-width="2"/>`);
    }
    y0 += ph + PANEL_GAP;
  });
  if (plot.divergence) {
    const x = sx(plot.divergence.step + 0.5);
    out.push(
      `<line x1="${x.toFixed(1)}" y1="${TOP}" x2="${x.toFixed(1)}" y2="${y0 - PANEL_GAP}" stroke="${PRIMARY_ONLY}" stroke-width="1.5" stroke-dasharray="6 3"/>`,
    );
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
