/**
 * The SVG drawing both kinds of picospike plot share (runtime/plot/chart.ts for line charts,
 * runtime/plot/raster.ts for spike rasters): the document and its white background, escaped text,
 * round ticks and their labels, and legend swatches. Pure string building, so every room and the
 * browser may use it; the verbs write the result. Hand-written because the plots are few and small
 * and no charting library renders SVG text without a DOM.
 */

/** Escapes text for SVG content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Round tick values (1, 2 or 5 times a power of ten apart) covering [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(10)));
  return out;
}

/** A tick label: four significant digits, exponent form for very large or very small magnitudes. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

/** The opening of an SVG document `width` × `height` (sans-serif, 12 px) with a white background; close it with `</svg>`. */
export function svgOpen(width: number, height: number): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">\n` +
    `<rect width="${width}" height="${height}" fill="white"/>`
  );
}

/** A tick under a horizontal axis at (x, y): a 4-px mark and its centred label. */
export function xTick(x: number, y: number, label: string, mark = 4): string {
  return `<line x1="${x}" y1="${y}" x2="${x}" y2="${y + mark}" stroke="#333"/><text x="${x}" y="${y + mark + 12}" text-anchor="middle">${escapeXml(label)}</text>`;
}

/** A tick left of a vertical axis at (x, y): a 4-px mark and its right-aligned label. */
export function yTick(x: number, y: number, label: string, mark = 4): string {
  return `<line x1="${x - mark}" y1="${y}" x2="${x}" y2="${y}" stroke="#333"/><text x="${x - mark - 3}" y="${y + 4}" text-anchor="end">${escapeXml(label)}</text>`;
}

/** A legend entry: a filled `w` × 10 swatch at (x, y) and its label to the right. */
export function swatch(x: number, y: number, color: string, label: string, w = 10): string {
  return `<rect x="${x}" y="${y}" width="${w}" height="10" fill="${color}"/><text x="${x + w + 6}" y="${y + 9}">${escapeXml(label)}</text>`;
}
