/// <reference lib="dom" />
/**
 * One layer's raster on a canvas: run steps on x, neurons on y. Device and interpreter are
 * overlaid: a spike both have is dark, a spike only the device has red, only the interpreter
 * orange (the colours of the SVG plots). An integrating layer draws its membranes as lines.
 * Divergences are ringed at their step and neuron with a dashed line down the step.
 */
import type { FeedDivergence, FeedStep } from "../feed.js";

/** Colours shared with the SVG rasters of runtime/plot/raster.ts. */
export const COLORS = { both: "#1a1a1a", deviceOnly: "#d62728", referenceOnly: "#ff9f1c", device: "#1f4e9c", mark: "#d62728" } as const;

function rgba(hex: string): number {
  const n = parseInt(hex.slice(1), 16);
  // ImageData is RGBA in memory; a Uint32 view is little-endian on every browser platform: ABGR.
  return (0xff << 24) | ((n & 0xff) << 16) | (n & 0xff00) | ((n >> 16) & 0xff);
}
const PX = { both: rgba(COLORS.both), deviceOnly: rgba(COLORS.deviceOnly), referenceOnly: rgba(COLORS.referenceOnly), device: rgba(COLORS.device) };

/** Which run's spikes a layer shows: the input (-1) or a layer index. */
export type LayerRef = number;

/** A drawn divergence marker, in CSS pixels of its canvas (tests read these). */
export interface Marker {
  readonly layer: number;
  readonly i: number;
  readonly step: number;
  readonly neuron: number;
  readonly x: number;
  readonly y: number;
}

/** Where a CSS pixel of the canvas falls: the run step and neuron under it. */
export interface RasterHit {
  readonly i: number;
  readonly neuron: number;
}

/** The canvas of one layer. */
export class Raster {
  readonly canvas: HTMLCanvasElement;
  /** CSS height of the canvas. */
  readonly height: number;
  /** Events drawn in the last draw (tests check the raster is not empty). */
  drawnEvents = 0;
  markers: Marker[] = [];
  private x0 = 0;
  private x1 = 1;

  constructor(
    readonly layer: LayerRef,
    readonly size: number,
    readonly integrator: boolean,
    parent: HTMLElement,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.className = "raster";
    this.canvas.dataset["layer"] = String(layer);
    this.height = integrator ? 120 : Math.max(48, Math.min(180, size * (size <= 16 ? 6 : size <= 64 ? 2 : 1)));
    this.canvas.style.height = `${this.height}px`;
    parent.appendChild(this.canvas);
  }

  /** The step and neuron under CSS point (x, y). */
  hit(x: number, y: number): RasterHit {
    const w = this.canvas.clientWidth || 1;
    const i = Math.floor(this.x0 + (x / w) * (this.x1 - this.x0));
    const neuron = Math.min(this.size - 1, Math.max(0, Math.floor((y / this.height) * this.size)));
    return { i, neuron };
  }

  /** CSS x of the left edge of run step i, in the last drawn range. */
  xOf(i: number): number {
    return ((i - this.x0) / (this.x1 - this.x0)) * (this.canvas.clientWidth || 1);
  }

  /**
   * Draws steps with run index in [x0, x1) (`steps` ascending by i), sample boundaries as faint
   * lines, and the divergences of this layer.
   */
  draw(
    steps: readonly FeedStep[],
    x0: number,
    x1: number,
    divergences: readonly FeedDivergence[],
    reference: boolean,
    stepsPerSample: number | undefined,
  ): void {
    this.x0 = x0;
    this.x1 = Math.max(x0 + 1, x1);
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    const cssW = Math.max(50, this.canvas.clientWidth);
    const W = Math.round(cssW * dpr);
    const H = Math.round(this.height * dpr);
    if (this.canvas.width !== W || this.canvas.height !== H) {
      this.canvas.width = W;
      this.canvas.height = H;
    }
    const ctx = this.canvas.getContext("2d")!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const span = this.x1 - this.x0;
    const colX = (i: number): number => Math.floor(((i - this.x0) * W) / span);
    // Cells tile the canvas: step i covers [colX(i), colX(i + 1)), at least one pixel.
    const cw = Math.max(1, Math.floor(W / span));
    this.drawnEvents = 0;
    // Pixels: white, sample boundaries in light grey, then the spikes.
    const image = ctx.createImageData(W, H);
    const px = new Uint32Array(image.data.buffer);
    px.fill(0xffffffff);
    if (stepsPerSample !== undefined && span / stepsPerSample <= 200) {
      const grey = rgba("#dde2ea");
      for (const s of steps) {
        if (s.t !== 0 || s.i < this.x0 || s.i >= this.x1) continue;
        const x = colX(s.i);
        for (let y = 0; y < H; y++) px[y * W + x] = grey;
      }
    }
    if (!this.integrator) this.drawSpikes(px, steps, colX, cw, W, H, reference);
    ctx.putImageData(image, 0, 0);
    if (this.integrator) this.drawMembranes(ctx, steps, colX, cw, W, H, dpr);
    // Divergences of this layer.
    this.markers = [];
    for (const d of divergences) {
      if (d.layer !== this.layer || d.i < this.x0 || d.i >= this.x1) continue;
      const x = Math.floor(((d.i - this.x0 + 0.5) * W) / span);
      const y = Math.floor(((d.neuron + 0.5) * H) / this.size);
      ctx.save();
      ctx.strokeStyle = COLORS.mark;
      ctx.lineWidth = 1.5 * dpr;
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      // The dashed line stops short of the ring, so the spike under it stays visible.
      const gap = 9 * dpr;
      ctx.beginPath();
      ctx.moveTo(x + 0.5, 0);
      ctx.lineTo(x + 0.5, Math.max(0, y - gap));
      ctx.moveTo(x + 0.5, Math.min(H, y + gap));
      ctx.lineTo(x + 0.5, H);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.lineWidth = 2 * dpr;
      ctx.beginPath();
      ctx.arc(x + 0.5, y + 0.5, 6 * dpr, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.restore();
      this.markers.push({ layer: this.layer, i: d.i, step: d.step, neuron: d.neuron, x: x / dpr, y: y / dpr });
    }
  }

  private drawSpikes(px: Uint32Array, steps: readonly FeedStep[], colX: (i: number) => number, cw: number, W: number, H: number, reference: boolean): void {
    const put = (x: number, x1: number, neuron: number, color: number): void => {
      const y = Math.floor((neuron * H) / this.size);
      const y1 = Math.min(H, Math.max(y + 1, Math.floor(((neuron + 1) * H) / this.size)));
      for (let yy = y; yy < y1; yy++) {
        const row = yy * W;
        for (let xx = x; xx < x1; xx++) px[row + xx] = color;
      }
      this.drawnEvents++;
    };
    for (const s of steps) {
      if (s.i < this.x0 || s.i >= this.x1) continue;
      const x0 = colX(s.i);
      const xe = Math.min(W, Math.max(x0 + 1, colX(s.i + 1)));
      const x = x0;
      const dev = this.layer < 0 ? s.in : (s.d[this.layer] ?? []);
      const ref = this.layer < 0 ? undefined : s.r?.[this.layer];
      if (!reference || ref === undefined) {
        for (const n of dev) put(x, xe, n, this.layer < 0 ? PX.both : PX.device);
        continue;
      }
      let a = 0;
      let b = 0;
      while (a < dev.length || b < ref.length) {
        const d = a < dev.length ? dev[a]! : Infinity;
        const r = b < ref.length ? ref[b]! : Infinity;
        if (d === r) {
          put(x, xe, d, PX.both);
          a++;
          b++;
        } else if (d < r) {
          put(x, xe, d, PX.deviceOnly);
          a++;
        } else {
          put(x, xe, r, PX.referenceOnly);
          b++;
        }
      }
    }
  }

  private drawMembranes(
    ctx: CanvasRenderingContext2D,
    steps: readonly FeedStep[],
    colX: (i: number) => number,
    cw: number,
    _W: number,
    H: number,
    dpr: number,
  ): void {
    let lo = Infinity;
    let hi = -Infinity;
    const shown = steps.filter((s) => s.i >= this.x0 && s.i < this.x1 && s.m?.[this.layer]);
    for (const s of shown)
      for (const v of s.m![this.layer]!) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    if (shown.length === 0) return;
    if (hi === lo) hi = lo + 1;
    const pad = 6 * dpr;
    const yOf = (v: number): number => pad + ((hi - v) / (hi - lo)) * (H - 2 * pad);
    const palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
    for (let n = 0; n < this.size; n++) {
      ctx.strokeStyle = palette[n % palette.length]!;
      ctx.lineWidth = dpr;
      ctx.beginPath();
      let prevSample = -1;
      for (const s of shown) {
        const x = colX(s.i) + cw / 2;
        const y = yOf(s.m![this.layer]![n] ?? 0);
        if (s.s !== prevSample) ctx.moveTo(x, y);
        else ctx.lineTo(x, y);
        prevSample = s.s;
        this.drawnEvents++;
      }
      ctx.stroke();
    }
  }
}
