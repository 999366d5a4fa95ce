/**
 * Small heatmaps side by side as SVG: the receptive fields of a learned layer, one panel per neuron
 * (each input's weight as the darkness of a cell), as Diehl & Cook show theirs. Panels share one
 * value range so their shades compare; each has a caption. Pure string building (runtime/plot/svg.ts).
 */
import { escapeXml, svgOpen } from "./svg.js";

/** One panel: `rows` × `cols` values in row-major order and a caption (0 rows: an empty slot in the grid). */
export interface HeatmapPanel {
  readonly label: string;
  readonly rows: number;
  readonly cols: number;
  readonly values: ArrayLike<number>;
}

/** A grid of panels under a title; values map linearly from `min` (white) to `max` (darkest). */
export interface Heatmaps {
  readonly title: string;
  readonly panels: readonly HeatmapPanel[];
  /** Panels per row of the picture. */
  readonly columns: number;
  readonly min: number;
  readonly max: number;
  /** Optional caption under the picture (what the shades mean). */
  readonly note?: string;
}

const CELL = 9;
const GAP = 16;
const CAPTION = 16;
const TOP = 40;
const SIDE = 20;

/** Renders the panels to an SVG document string. */
export function renderHeatmaps(h: Heatmaps): string {
  const columns = Math.max(1, Math.min(h.columns, h.panels.length));
  const cellsW = Math.max(1, ...h.panels.map((p) => p.cols));
  const cellsH = Math.max(1, ...h.panels.map((p) => p.rows));
  const pw = cellsW * CELL;
  const ph = cellsH * CELL + CAPTION;
  const gridRows = Math.ceil(h.panels.length / columns);
  const width = Math.max(2 * SIDE + columns * pw + (columns - 1) * GAP, 360);
  const height = TOP + gridRows * (ph + GAP) + (h.note === undefined ? 0 : 20);
  const span = h.max > h.min ? h.max - h.min : 1;
  const shade = (v: number): string => {
    const f = Math.min(1, Math.max(0, (v - h.min) / span));
    const c = Math.round(255 - 225 * f);
    return `rgb(${c},${c},${Math.min(255, c + 30)})`;
  };
  const out: string[] = [svgOpen(width, height)];
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="14">${escapeXml(h.title)}</text>`);
  h.panels.forEach((p, k) => {
    const x0 = SIDE + (k % columns) * (pw + GAP);
    const y0 = TOP + Math.floor(k / columns) * (ph + GAP);
    if (p.rows === 0 || p.cols === 0) return;
    for (let r = 0; r < p.rows; r++)
      for (let c = 0; c < p.cols; c++) {
        const v = p.values[r * p.cols + c];
        if (v === undefined) continue;
        out.push(`<rect x="${x0 + c * CELL}" y="${y0 + r * CELL}" width="${CELL}" height="${CELL}" fill="${shade(v)}"/>`);
      }
    out.push(`<rect x="${x0}" y="${y0}" width="${p.cols * CELL}" height="${p.rows * CELL}" fill="none" stroke="#333"/>`);
    out.push(`<text x="${x0 + (p.cols * CELL) / 2}" y="${y0 + p.rows * CELL + 12}" text-anchor="middle" font-size="10">${escapeXml(p.label)}</text>`);
  });
  if (h.note !== undefined) out.push(`<text x="${width / 2}" y="${height - 8}" text-anchor="middle" font-size="11" fill="#555">${escapeXml(h.note)}</text>`);
  out.push("</svg>\n");
  return out.join("\n");
}
