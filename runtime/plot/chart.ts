/**
 * Line charts as SVG for the learning experiments' plots and `adapt --plot` (the drawing shared with
 * spike rasters is runtime/plot/svg.ts): line and point series on linear or log-x axes, with ticks,
 * axis labels, a title, reference lines and a legend.
 */
import { escapeXml, formatTick as fmt, niceTicks, svgOpen, swatch, xTick, yTick } from "./svg.js";

/** One series of a chart. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  /** "line" joins points (with markers); "points" draws markers only (rasters, scatter). */
  readonly style?: "line" | "points";
}

/** A chart description. */
export interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly logX?: boolean;
  /** Horizontal reference lines (e.g. y = 0, a target value). */
  readonly hLines?: ReadonlyArray<{ readonly y: number; readonly label: string }>;
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const W = 640;
const H = 400;
const M = { left: 70, right: 20, top: 40, bottom: 55 };

/** Renders a chart to an SVG document string. */
export function renderChart(chart: Chart): string {
  const pts = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!chart.logX || x > 0));
  const ys = [...pts.map(([, y]) => y), ...(chart.hLines ?? []).map((h) => h.y)];
  const xs = pts.map(([x]) => (chart.logX ? Math.log10(x) : x));
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  y0 -= pad;
  y1 += pad;
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number => M.left + (((chart.logX ? Math.log10(x) : x) - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => M.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(svgOpen(W, H));
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`);
  // axes and ticks
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  const xTicks = chart.logX
    ? niceTicks(Math.floor(x0), Math.ceil(x1), Math.ceil(x1) - Math.floor(x0))
        .map((e) => 10 ** e)
        .filter((v) => Math.log10(v) >= x0 - 1e-9 && Math.log10(v) <= x1 + 1e-9)
    : niceTicks(x0, x1, 8);
  for (const t of xTicks) {
    const x = sx(t);
    out.push(xTick(x, M.top + ph, fmt(t), 5));
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#eee"/>`);
  }
  for (const t of niceTicks(y0, y1, 8)) {
    const y = sy(t);
    out.push(yTick(M.left, y, fmt(t), 5));
    out.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#eee"/>`);
  }
  out.push(`<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`);
  for (const h of chart.hLines ?? []) {
    const y = sy(h.y);
    out.push(
      `<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#555" stroke-dasharray="5 4"/><text x="${M.left + pw - 4}" y="${y - 4}" text-anchor="end" fill="#555">${escapeXml(h.label)}</text>`,
    );
  }
  chart.series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length] as string;
    const valid = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!chart.logX || x > 0));
    if ((s.style ?? "line") === "line" && valid.length > 1)
      out.push(
        `<polyline fill="none" stroke="${color}" stroke-width="1.8" points="${valid.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ")}"/>`,
      );
    if (valid.length <= 200 || s.style === "points")
      for (const [x, y] of valid) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="${s.style === "points" ? 3.5 : 3}" fill="${color}"/>`);
    // legend
    const ly = M.top + 10 + k * 16;
    out.push(swatch(M.left + 10, ly - 8, color, s.name, 12));
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
