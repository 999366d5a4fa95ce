/**
 * A small SVG chart writer for the learning experiments' plots (no charting library is installed):
 * line and point series on linear or log-x axes, with ticks, axis labels, a title and a legend.
 */

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

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** "Nice" tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 8): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function fmt(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

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
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`);
  // axes and ticks
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  const xTicks = chart.logX
    ? ticks(Math.floor(x0), Math.ceil(x1), Math.ceil(x1) - Math.floor(x0))
        .map((e) => 10 ** e)
        .filter((v) => Math.log10(v) >= x0 - 1e-9 && Math.log10(v) <= x1 + 1e-9)
    : ticks(x0, x1);
  for (const t of xTicks) {
    const x = sx(t);
    out.push(
      `<line x1="${x}" y1="${M.top + ph}" x2="${x}" y2="${M.top + ph + 5}" stroke="#333"/><text x="${x}" y="${M.top + ph + 18}" text-anchor="middle">${fmt(t)}</text>`,
    );
    out.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${M.top + ph}" stroke="#eee"/>`);
  }
  for (const t of ticks(y0, y1)) {
    const y = sy(t);
    out.push(
      `<line x1="${M.left - 5}" y1="${y}" x2="${M.left}" y2="${y}" stroke="#333"/><text x="${M.left - 8}" y="${y + 4}" text-anchor="end">${fmt(t)}</text>`,
    );
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
    out.push(
      `<rect x="${M.left + 10}" y="${ly - 8}" width="12" height="10" fill="${color}"/><text x="${M.left + 27}" y="${ly + 1}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
