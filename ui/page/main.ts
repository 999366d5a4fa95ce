/// <reference lib="dom" />
/**
 * The live view's page (bundled by scripts/build.mjs into dist/ui/app.js and app.css). Live: it
 * connects to the server it came from over a WebSocket, stores what arrives, draws on animation
 * frames and acknowledges each batch once drawn (the server's flow control). Static: a report
 * embeds the run as JSON (#picospike-data) and the same code draws it, with a sample picker and
 * zoom. window.picospikeView exposes the state the browser tests check.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import "./style.css";
import {
  decide,
  readoutLayer,
  reportHtml,
  type FeedDivergence,
  type FeedHealth,
  type FeedMeta,
  type FeedStep,
  type FeedTrial,
  type ReportData,
  type ServerMessage,
} from "../feed.js";
import { COLORS, Raster, type Marker } from "./raster.js";

/** Steps a live page keeps (older ones leave the history and the downloaded report). */
const HISTORY = 20_000;
/** Run steps a live raster shows. */
const LIVE_WINDOW = 320;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(x: number | null | undefined, digits = 0): string {
  return x === null || x === undefined || !Number.isFinite(x)
    ? "–"
    : x.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Binary search: first index in `steps` with i >= x. */
function lowerBound(steps: readonly FeedStep[], x: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]!.i < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

class View {
  meta: FeedMeta | null = null;
  steps: FeedStep[] = [];
  divergences: FeedDivergence[] = [];
  trials: FeedTrial[] = [];
  health: FeedHealth[] = [];
  summary: Readonly<Record<string, unknown>> | null = null;
  skipped = 0;
  received = 0;
  batches = 0;
  connected = false;
  paused = false;
  /** Zoomed range of run steps, or null to follow the live edge (or the picked sample). */
  zoom: [number, number] | null = null;
  sample = 0;
  private rasters: Raster[] = [];
  private dirty = true;
  private readonly root: HTMLElement;
  private statusEl!: HTMLElement;
  private readoutEl!: HTMLElement;
  private healthEl!: HTMLElement;
  private divEl!: HTMLElement;
  private tooltip!: HTMLElement;
  private frameCanvas: HTMLCanvasElement | null = null;
  private rateChart: uPlot | null = null;
  private speedChart: uPlot | null = null;
  private curveChart: uPlot | null = null;
  private rewardChart: uPlot | null = null;
  private sampleSelect: HTMLSelectElement | null = null;
  private pauseButton: HTMLButtonElement | null = null;
  private pendingAck = 0;
  private socket: WebSocket | null = null;
  private lastRangeText = "";
  /** While paused: how many steps and divergences the display shows (what had arrived when paused). */
  private frozen = { steps: 0, divergences: 0 };

  constructor(readonly mode: "live" | "report") {
    this.root = document.getElementById("app")!;
  }

  // ---- data in --------------------------------------------------------------------------------

  setMeta(meta: FeedMeta): void {
    this.meta = meta;
    this.build();
  }

  addSteps(steps: readonly FeedStep[]): void {
    // While paused, arrivals change only the status line (the history trim below waits for resume).
    for (const s of steps) {
      const last = this.steps[this.steps.length - 1];
      if (last !== undefined && s.i <= last.i) continue;
      this.steps.push(s);
    }
    this.received += steps.length;
    if (this.mode === "live" && !this.paused && this.steps.length > HISTORY + 2000) {
      this.skipped += this.steps.length - HISTORY;
      this.steps.splice(0, this.steps.length - HISTORY);
    }
    this.dirty = true;
  }

  onMessage(msg: ServerMessage): void {
    if (msg.type === "meta") {
      this.health = [...msg.health];
      this.setMeta(msg.meta);
    } else if (msg.type === "batch") {
      this.batches++;
      this.addSteps(msg.steps);
      this.skipped += msg.skipped;
      this.divergences.push(...msg.divergences);
      this.trials.push(...msg.trials);
      if (msg.health) this.health.push(msg.health);
      if (this.health.length > 4000) this.health.splice(0, 1000);
      this.pendingAck = msg.seq;
      this.dirty = true;
    } else if (msg.type === "end") {
      this.summary = msg.summary;
      this.dirty = true;
    }
  }

  connect(): void {
    const ws = new WebSocket(`ws://${location.host}/live`);
    this.socket = ws;
    ws.onopen = () => {
      this.connected = true;
      this.dirty = true;
    };
    ws.onclose = () => {
      this.connected = false;
      this.dirty = true;
    };
    ws.onmessage = (e) => this.onMessage(JSON.parse(String(e.data)) as ServerMessage);
  }

  // ---- layout -------------------------------------------------------------------------------

  private build(): void {
    const meta = this.meta!;
    this.root.replaceChildren();
    const header = el("header");
    header.append(el("h1", {}, `picospike ${meta.kind}`), el("div", { class: "title" }, meta.title));
    const controls = el("div", { class: "controls" });
    if (this.mode === "live") {
      this.pauseButton = el("button", { id: "pause", type: "button", title: "freeze the display; the board keeps running" }, "Pause display");
      this.pauseButton.onclick = () => this.setPaused(!this.paused);
      controls.append(this.pauseButton);
    }
    if (meta.stepsPerSample !== undefined) {
      this.sampleSelect = el("select", { id: "sample", title: "pick a sample" });
      this.sampleSelect.onchange = () => {
        this.sample = Number(this.sampleSelect!.value);
        this.zoom = null;
        if (this.mode === "live") this.setPaused(true);
        this.dirty = true;
      };
      controls.append(el("label", { for: "sample" }, "sample"), this.sampleSelect);
    }
    const reset = el("button", { id: "reset-zoom", type: "button", title: "show the whole range again (or double-click a raster)" }, "Reset zoom");
    reset.onclick = () => this.resetZoom();
    const download = el("button", { id: "download", type: "button", title: "save what is shown as one self-contained HTML file" }, "Download report");
    download.onclick = () => void this.download();
    controls.append(reset, download);
    header.append(controls);
    this.statusEl = el("div", { class: "status", id: "status" });
    header.append(this.statusEl);
    this.root.append(header);

    const main = el("main");
    const left = el("section", { class: "rasters" });
    const right = el("section", { class: "side" });
    main.append(left, right);
    this.root.append(main);

    const legend = el("div", { class: "legend" });
    if (meta.reference) {
      legend.innerHTML =
        `<span><i style="background:${COLORS.both}"></i>device and interpreter</span>` +
        `<span><i style="background:${COLORS.deviceOnly}"></i>device only</span>` +
        `<span><i style="background:${COLORS.referenceOnly}"></i>interpreter only</span>` +
        `<span><i class="ring"></i>divergence</span>`;
    } else
      legend.innerHTML = `<span><i style="background:${COLORS.device}"></i>device spikes</span><span><i style="background:${COLORS.both}"></i>input events</span>`;
    left.append(legend);
    this.rasters = [];
    const panel = (name: string, size: number, layer: number, integrator: boolean): void => {
      const box = el("div", { class: "layer" });
      box.append(el("h3", {}, `${name} `), el("span", { class: "dim" }, integrator ? `${size} neurons, membranes (interpreter)` : `${size} neurons`));
      const r = new Raster(layer, size, integrator, box);
      this.hookRaster(r);
      this.rasters.push(r);
      left.append(box);
    };
    panel("input", meta.input.size, -1, false);
    meta.layers.forEach((l, k) => panel(l.name, l.size, k, l.integrator));
    left.append(el("div", { class: "axis dim", id: "range" }));

    this.readoutEl = el("div", { class: "readout", id: "readout" });
    right.append(el("h2", {}, "Readout"), this.readoutEl);
    const frameSize = meta.input.shape ?? squareShape(meta.input.size);
    if (frameSize) {
      right.append(el("h2", {}, "Input frame"));
      this.frameCanvas = el("canvas", { class: "frame", id: "frame" });
      right.append(this.frameCanvas);
    }
    right.append(el("h2", {}, "Firing rates (spikes per neuron per step)"));
    const rates = el("div", { class: "chart", id: "rates" });
    right.append(rates);
    this.rateChart = new uPlot(
      {
        width: 420,
        height: 170,
        legend: { show: true },
        scales: { x: { time: false } },
        axes: [{ label: "run step" }, { size: 50 }],
        series: [
          { label: "step" },
          { label: "input", stroke: "#555", width: 1.5 },
          ...meta.layers.map((l, k) => ({ label: l.name, stroke: PALETTE[k % PALETTE.length]!, width: 1.5 })),
        ],
      },
      [[], [], ...meta.layers.map(() => [])] as unknown as uPlot.AlignedData,
      rates,
    );
    right.append(el("h2", {}, "Link health"));
    this.healthEl = el("div", { class: "health", id: "health" });
    right.append(this.healthEl);
    const speed = el("div", { class: "chart", id: "speed" });
    right.append(speed, el("div", { class: "dim" }, "steps/s against seconds since the view started"));
    this.speedChart = new uPlot(
      {
        width: 420,
        height: 150,
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [{}, { label: "steps/s", size: 60, space: 20 }],
        series: [{}, { label: "steps/s", stroke: "#1f4e9c", width: 1.5 }],
      },
      [[], []],
      speed,
    );
    if (meta.kind === "adapt") {
      right.append(el("h2", {}, "Learning curve (fraction right, last 100 trials)"));
      const curve = el("div", { class: "chart", id: "curve" });
      right.append(curve);
      this.curveChart = new uPlot(
        {
          width: 420,
          height: 150,
          legend: { show: false },
          scales: { x: { time: false }, y: { range: [0, 1] } },
          axes: [{ label: "trial" }, { size: 40 }],
          series: [{}, { label: "accuracy", stroke: "#2ca02c", width: 2 }],
        },
        [[], []],
        curve,
      );
      right.append(el("h2", {}, "Rewards"));
      const rewards = el("div", { class: "chart", id: "rewards" });
      right.append(rewards);
      this.rewardChart = new uPlot(
        {
          width: 420,
          height: 110,
          legend: { show: false },
          scales: { x: { time: false } },
          axes: [{ label: "trial" }, { size: 40 }],
          series: [{}, { label: "reward", stroke: "#9467bd", width: 0, points: { show: true, size: 3, fill: "#9467bd" } }],
        },
        [[], []],
        rewards,
      );
    }
    right.append(el("h2", {}, "Divergences"));
    this.divEl = el("div", { class: "divergences", id: "divergences" });
    right.append(this.divEl);
    this.tooltip = el("div", { class: "tooltip", id: "tooltip" });
    this.tooltip.style.display = "none";
    document.body.append(this.tooltip);
    this.dirty = true;
  }

  private hookRaster(r: Raster): void {
    let dragFrom: number | null = null;
    r.canvas.addEventListener("mousemove", (e) => {
      const hit = r.hit(e.offsetX, e.offsetY);
      this.showTooltip(r, hit.i, hit.neuron, e.clientX, e.clientY);
    });
    r.canvas.addEventListener("mouseleave", () => {
      this.tooltip.style.display = "none";
    });
    r.canvas.addEventListener("mousedown", (e) => {
      dragFrom = r.hit(e.offsetX, e.offsetY).i;
    });
    r.canvas.addEventListener("mouseup", (e) => {
      if (dragFrom === null) return;
      const to = r.hit(e.offsetX, e.offsetY).i;
      if (Math.abs(to - dragFrom) >= 2) {
        this.zoom = [Math.min(dragFrom, to), Math.max(dragFrom, to) + 1];
        if (this.mode === "live") this.setPaused(true);
        this.dirty = true;
      }
      dragFrom = null;
    });
    r.canvas.addEventListener("dblclick", () => this.resetZoom());
  }

  private showTooltip(r: Raster, i: number, neuron: number, cx: number, cy: number): void {
    const k = lowerBound(this.steps, i);
    const s = this.steps[k];
    if (!s || s.i !== i) {
      this.tooltip.style.display = "none";
      return;
    }
    const name = r.layer < 0 ? "input" : this.meta!.layers[r.layer]!.name;
    let value: string;
    if (r.integrator) value = `membrane ${fmt(s.m?.[r.layer]?.[neuron] ?? null)}`;
    else if (r.layer < 0) value = s.in.includes(neuron) ? "event" : "no event";
    else {
      const dev = (s.d[r.layer] ?? []).includes(neuron) ? 1 : 0;
      value = this.meta!.reference && s.r ? `device ${dev}, interpreter ${(s.r[r.layer] ?? []).includes(neuron) ? 1 : 0}` : `device ${dev}`;
    }
    this.tooltip.textContent = `${name} neuron ${neuron} · step ${s.t}${this.meta!.stepsPerSample !== undefined ? ` of sample ${s.s}` : ""} (run step ${s.i}) · ${value}`;
    this.tooltip.style.display = "block";
    this.tooltip.style.left = `${cx + 12}px`;
    this.tooltip.style.top = `${cy + 12}px`;
  }

  setPaused(paused: boolean): void {
    if (paused && !this.paused) this.frozen = { steps: this.steps.length, divergences: this.divergences.length };
    this.paused = paused;
    if (!paused) this.zoom = null;
    if (this.pauseButton) this.pauseButton.textContent = paused ? "Resume display" : "Pause display";
    this.dirty = true;
  }

  private resetZoom(): void {
    this.zoom = null;
    if (this.mode === "live" && this.sampleSelect) this.sampleSelect.value = "";
    this.dirty = true;
  }

  // ---- drawing -------------------------------------------------------------------------------

  /** The steps the display shows: all held, or while paused those that had arrived. */
  private shownSteps(): FeedStep[] {
    return this.paused && this.mode === "live" ? this.steps.slice(0, this.frozen.steps) : this.steps;
  }

  private shownDivergenceList(): FeedDivergence[] {
    return this.paused && this.mode === "live" ? this.divergences.slice(0, this.frozen.divergences) : this.divergences;
  }

  /** The run-step range the rasters show now. */
  range(): [number, number] {
    if (this.zoom) return this.zoom;
    const meta = this.meta!;
    const steps = this.shownSteps();
    const last = steps[steps.length - 1];
    if (meta.stepsPerSample !== undefined && (this.mode === "report" || this.paused) && this.sampleSelect?.value) {
      const s = steps.find((x) => x.s === this.sample);
      if (s) return [s.i - s.t, s.i - s.t + meta.stepsPerSample];
    }
    if (this.mode === "report") {
      const first = steps[0];
      if (meta.stepsPerSample !== undefined && first) {
        const s = steps.find((x) => x.s === this.sample) ?? first;
        return [s.i - s.t, s.i - s.t + meta.stepsPerSample];
      }
      return [first?.i ?? 0, (last?.i ?? 0) + 1];
    }
    const end = (last?.i ?? 0) + 1;
    return [Math.max(0, end - LIVE_WINDOW), Math.max(end, LIVE_WINDOW)];
  }

  frame(): void {
    if (this.meta && this.dirty) {
      this.dirty = false;
      this.render();
    }
    if (this.pendingAck > 0 && this.socket?.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "ack", seq: this.pendingAck }));
      this.pendingAck = 0;
    }
  }

  private render(): void {
    const meta = this.meta!;
    const [x0, x1] = this.range();
    const all = this.shownSteps();
    const lo = lowerBound(all, x0);
    const hi = lowerBound(all, x1);
    const shown = all.slice(lo, hi);
    for (const r of this.rasters) r.draw(shown, x0, x1, this.shownDivergenceList(), meta.reference, meta.stepsPerSample);
    const rangeText = `run steps ${x0}–${x1 - 1}${meta.stepsPerSample !== undefined && shown[0] ? ` · sample ${shown[0].s}${shown[0].label !== undefined ? ` (label ${shown[0].label})` : ""}` : ""} · drag on a raster to zoom, double-click to reset, hover for values`;
    if (rangeText !== this.lastRangeText) {
      document.getElementById("range")!.textContent = rangeText;
      this.lastRangeText = rangeText;
    }
    this.renderSamples();
    this.renderReadout(shown);
    this.renderFrame(shown);
    this.renderRates();
    this.renderHealth();
    this.renderTrials();
    this.renderDivergences();
    this.renderStatus();
  }

  private renderStatus(): void {
    const parts: string[] = [];
    if (this.mode === "live") parts.push(this.connected ? "connected" : this.summary ? "run ended; server gone" : "not connected");
    else parts.push("report (static)");
    if (this.summary) parts.push("run finished");
    if (this.paused) parts.push("display paused; the board keeps running");
    parts.push(`${fmt(this.steps.length)} steps held`);
    if (this.skipped > 0) parts.push(`${fmt(this.skipped)} steps not drawn (page behind: decimated)`);
    this.statusEl.textContent = parts.join(" · ");
    this.statusEl.className = `status ${this.divergences.length > 0 ? "bad" : ""}`;
  }

  private knownSamples = 0;
  private renderSamples(): void {
    if (!this.sampleSelect) return;
    const last = this.steps[this.steps.length - 1];
    const count = last ? last.s + 1 : 0;
    if (count === this.knownSamples) return;
    const first = this.steps[0]?.s ?? 0;
    const frag = document.createDocumentFragment();
    if (this.mode === "live") frag.append(el("option", { value: "" }, "live"));
    const diverged = new Set(this.divergences.map((d) => d.sample));
    for (let s = first; s < count; s++) frag.append(el("option", { value: String(s) }, `${s}${diverged.has(s) ? " (diverged)" : ""}`));
    const keep = this.sampleSelect.value;
    this.sampleSelect.replaceChildren(frag);
    this.sampleSelect.value = keep;
    if (this.mode === "report" && this.knownSamples === 0) {
      const d = this.divergences[0];
      this.sample = d ? d.sample : first;
      this.sampleSelect.value = String(this.sample);
    }
    this.knownSamples = count;
  }

  private renderReadout(shown: readonly FeedStep[]): void {
    const meta = this.meta!;
    const L = readoutLayer(meta);
    const size = meta.layers[L]!.size;
    const last = shown[shown.length - 1];
    if (!last) {
      this.readoutEl.textContent = "no steps yet";
      return;
    }
    const inSample = shown.filter((s) => s.s === last.s);
    const rows: Array<{ name: string; values: number[] }> = [];
    if (meta.readout === "membrane" && last.m?.[L]) rows.push({ name: "membrane (interpreter)", values: [...last.m[L]!] });
    else {
      const dev = new Array<number>(size).fill(0);
      const ref = new Array<number>(size).fill(0);
      for (const s of inSample) {
        for (const j of s.d[L] ?? []) dev[j] = (dev[j] ?? 0) + 1;
        for (const j of s.r?.[L] ?? []) ref[j] = (ref[j] ?? 0) + 1;
      }
      rows.push({ name: "device spike counts", values: dev });
      if (meta.reference) rows.push({ name: "interpreter spike counts", values: ref });
    }
    const label = last.label;
    const frag = document.createDocumentFragment();
    const scope = meta.stepsPerSample !== undefined ? `sample ${last.s}, steps 0–${last.t}` : `run steps ${inSample[0]!.i}–${last.i}`;
    frag.append(el("div", { class: "dim" }, scope + (label !== undefined ? ` · label ${label}` : "")));
    for (const row of rows) {
      const decision = decide(row.values);
      const max = Math.max(1, ...row.values.map((v) => Math.abs(v)));
      const box = el("div", { class: "bars" });
      box.append(el("div", { class: "bars-title" }, `${row.name}: decision ${decision}${label !== undefined ? (decision === label ? " ✓" : " ✗") : ""}`));
      row.values.forEach((v, j) => {
        const line = el("div", { class: `bar${j === decision ? " chosen" : ""}` });
        const fill = el("span", { class: "fill" });
        fill.style.width = `${Math.max(0, (Math.abs(v) / max) * 100)}%`;
        line.append(el("span", { class: "k" }, String(j)), el("span", { class: "track" }), el("span", { class: "v" }, fmt(v)));
        line.children[1]!.append(fill);
        box.append(line);
      });
      frag.append(box);
    }
    this.readoutEl.replaceChildren(frag);
  }

  private renderFrame(shown: readonly FeedStep[]): void {
    if (!this.frameCanvas) return;
    const shape = this.meta!.input.shape ?? squareShape(this.meta!.input.size)!;
    const [c, h, w] = shape;
    const scale = Math.max(2, Math.floor(168 / Math.max(h, w)));
    this.frameCanvas.width = w * scale;
    this.frameCanvas.height = h * scale;
    const ctx = this.frameCanvas.getContext("2d")!;
    ctx.fillStyle = "#10141c";
    ctx.fillRect(0, 0, w * scale, h * scale);
    // The input of the latest step shown, and fading, the few before it.
    const recent = shown.slice(-4);
    recent.forEach((s, k) => {
      const alpha = (k + 1) / recent.length;
      for (const idx of s.in) {
        const ch = Math.floor(idx / (h * w));
        const rem = idx % (h * w);
        ctx.fillStyle = c === 2 ? (ch === 0 ? `rgba(255,120,90,${alpha})` : `rgba(90,170,255,${alpha})`) : `rgba(255,255,255,${alpha})`;
        ctx.fillRect((rem % w) * scale, Math.floor(rem / w) * scale, scale, scale);
      }
    });
  }

  private rateCache = { upto: -1, x: [] as number[], ys: [] as number[][] };
  private renderRates(): void {
    const meta = this.meta!;
    const bucket = meta.stepsPerSample ?? 32;
    const sizes = [meta.input.size, ...meta.layers.map((l) => l.size)];
    const c = this.rateCache;
    if (c.ys.length === 0) c.ys = sizes.map(() => []);
    // Buckets of `bucket` run steps, over every step held (recomputed when new buckets complete).
    const last = this.steps[this.steps.length - 1];
    if (!last) return;
    const complete = Math.floor((last.i + 1) / bucket) - 1;
    if (complete <= c.upto && this.mode === "live") return;
    c.x = [];
    c.ys = sizes.map(() => []);
    let k = 0;
    const first = this.steps[0]!.i;
    for (let b = Math.floor(first / bucket); b <= complete; b++) {
      const sums = sizes.map(() => 0);
      let n = 0;
      while (k < this.steps.length && this.steps[k]!.i < (b + 1) * bucket) {
        const s = this.steps[k]!;
        sums[0]! += s.in.length;
        s.d.forEach((l, j) => (sums[j + 1]! += l.length));
        n++;
        k++;
      }
      if (n === 0) continue;
      c.x.push(b * bucket);
      sums.forEach((v, j) => c.ys[j]!.push(v / (n * Math.max(1, sizes[j]!))));
    }
    c.upto = complete;
    this.rateChart?.setData([c.x, ...c.ys] as unknown as uPlot.AlignedData);
  }

  private renderHealth(): void {
    const h = this.health[this.health.length - 1];
    const rows: Array<[string, string]> = h
      ? [
          ["steps", fmt(h.steps)],
          ["steps/s", fmt(h.stepsPerSecond, 1)],
          ["lag", h.lagMs === null ? "–" : `${fmt(h.lagMs, 2)} ms`],
          ["frames dropped", fmt(h.framesDropped)],
          ["CRC rejects", fmt(h.crcRejects)],
          ["bad frames", fmt(h.badFrames)],
          ["retransmissions", fmt(h.retransmissions)],
          ["recoveries", fmt(h.recoveries)],
          ["steps not drawn", fmt(this.skipped)],
        ]
      : [["link", "no report yet"]];
    const table = el("table");
    for (const [k, v] of rows) {
      const tr = el("tr");
      const bad = (k === "CRC rejects" || k === "frames dropped" || k === "recoveries" || k === "retransmissions") && v !== "0";
      tr.append(el("th", {}, k), el("td", { class: bad ? "warn" : "" }, v));
      table.append(tr);
    }
    this.healthEl.replaceChildren(table);
    this.speedChart?.setData([this.health.map((x) => x.at), this.health.map((x) => x.stepsPerSecond)]);
  }

  private renderTrials(): void {
    if (!this.curveChart || this.trials.length === 0) return;
    const x: number[] = [];
    const y: number[] = [];
    let sum = 0;
    const every = Math.max(1, Math.floor(this.trials.length / 400));
    this.trials.forEach((t, k) => {
      sum += t.correct ? 1 : 0;
      if (k >= 100) sum -= this.trials[k - 100]!.correct ? 1 : 0;
      if (k % every === 0 || k === this.trials.length - 1) {
        x.push(t.trial);
        y.push(sum / Math.min(k + 1, 100));
      }
    });
    this.curveChart.setData([x, y]);
    const tail = this.trials.slice(-2000);
    this.rewardChart?.setData([tail.map((t) => t.trial), tail.map((t) => t.reward)]);
  }

  private shownDivergences = -1;
  private renderDivergences(): void {
    const meta = this.meta!;
    // Rebuilt only when the list changes: a link being clicked must not be replaced under the pointer.
    const key = this.divergences.length * 2 + (this.summary ? 1 : 0);
    if (key === this.shownDivergences) return;
    this.shownDivergences = key;
    if (this.divergences.length === 0) {
      this.divEl.textContent = meta.reference
        ? this.summary
          ? "none: device and interpreter bit-exact"
          : "none so far"
        : "not compared: this run shows the device only";
      this.divEl.className = "divergences";
      return;
    }
    const list = el("ol");
    const head = el(
      "div",
      { class: "dim" },
      `${this.divergences.length}${this.divergences.length >= 1000 ? "+" : ""} steps where a layer differs; click one to show it`,
    );
    for (const d of this.divergences.slice(0, 200)) {
      const li = el("li");
      const a = el(
        "a",
        { href: "#" },
        `sample ${d.sample}, step ${d.step}, ${meta.layers[d.layer]?.name ?? `layer ${d.layer}`} neuron ${d.neuron}: ${d.kind} device ${d.device}, interpreter ${d.interpreter}`,
      );
      a.onclick = (e) => {
        e.preventDefault();
        this.zoom = [Math.max(0, d.i - 16), d.i + 16];
        if (this.mode === "live") this.setPaused(true);
        this.dirty = true;
      };
      li.append(a);
      list.append(li);
    }
    this.divEl.replaceChildren(head, list);
    this.divEl.className = "divergences bad";
  }

  // ---- report -------------------------------------------------------------------------------

  /** What is shown, as report data. */
  data(): ReportData {
    return {
      meta: this.meta!,
      steps: this.steps,
      divergences: this.divergences,
      trials: this.trials,
      health: this.health,
      summary: this.summary,
      skipped: this.skipped,
    };
  }

  /** The self-contained HTML of what is shown. */
  async reportHtml(): Promise<string> {
    let script: string;
    let style: string;
    if (this.mode === "live") {
      [script, style] = await Promise.all([fetch("/app.js").then((r) => r.text()), fetch("/app.css").then((r) => r.text())]);
    } else {
      script = document.getElementById("picospike-app")!.textContent ?? "";
      style = document.querySelector("style")!.textContent ?? "";
    }
    return reportHtml(script, style, this.data());
  }

  private async download(): Promise<void> {
    const html = await this.reportHtml();
    const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    const a = el("a", { href: url, download: `picospike-${this.meta!.kind}-report.html` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** State for tests. */
  stats(): {
    received: number;
    held: number;
    skipped: number;
    batches: number;
    connected: boolean;
    ended: boolean;
    paused: boolean;
    lastStep: number;
    drawn: number[];
    markers: Marker[];
  } {
    return {
      received: this.received,
      held: this.steps.length,
      skipped: this.skipped,
      batches: this.batches,
      connected: this.connected,
      ended: this.summary !== null,
      paused: this.paused,
      lastStep: this.steps[this.steps.length - 1]?.i ?? -1,
      drawn: this.rasters.map((r) => r.drawnEvents),
      markers: this.rasters.flatMap((r) => r.markers),
    };
  }

  /** A raster's canvas box in page CSS pixels (tests sample pixels there). */
  rasterBox(layer: number): { x: number; y: number; width: number; height: number } | null {
    const r = this.rasters.find((x) => x.layer === layer);
    if (!r) return null;
    const b = r.canvas.getBoundingClientRect();
    return { x: b.left + window.scrollX, y: b.top + window.scrollY, width: b.width, height: b.height };
  }
}

const PALETTE = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"];

/** A square single-channel frame for a square input (a 28×28 digit), else null. */
function squareShape(size: number): [number, number, number] | null {
  const side = Math.round(Math.sqrt(size));
  return side >= 4 && side * side === size ? [1, side, side] : null;
}

function start(): void {
  const embedded = document.getElementById("picospike-data");
  const view = new View(embedded ? "report" : "live");
  (window as unknown as { picospikeView: View }).picospikeView = view;
  if (embedded) {
    const data = JSON.parse(embedded.textContent ?? "null") as ReportData;
    view.setMeta(data.meta);
    view.addSteps(data.steps);
    view.divergences = [...data.divergences];
    view.trials = [...data.trials];
    view.health = [...data.health];
    view.summary = data.summary;
    view.skipped = data.skipped;
  } else view.connect();
  const loop = (): void => {
    view.frame();
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  window.addEventListener("resize", () => {
    view.setPaused(view.paused);
  });
}

start();
