/**
 * The live view in a real headless browser (Debian's chromium through puppeteer-core; never a
 * downloaded browser): the page loads, connects and draws non-empty rasters for a native-board
 * stream; a closed page leaves the stream's results unchanged; a divergence (device running a
 * deliberately altered model) is marked at its step and neuron; the page keeps up with a stated
 * event rate; `compare --report` is an interactive static file; the live page's download is one
 * too. Screenshots go to build/ui-artifacts/. Skips with a printed reason without chromium.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "puppeteer-core";
import { encodeTable } from "../../runtime/format.js";
import type { EventTable } from "../../runtime/model.js";
import { randomTable } from "../../runtime/testing/random-table.js";
import { BoardSession } from "../../firmware-host/bridge/session.js";
import { compareRun } from "../../firmware-host/jobs/compare.js";
import { MockBoard } from "../../firmware-host/mock/mock-board.js";
import { LoopbackPair } from "../../firmware-host/transports/transport.js";
import { missingTools } from "../../firmware-host/boards/toolchain.js";
import { parseSource } from "../../firmware-host/sources/registry.js";
import { feedMeta, feedStep, stepDivergences } from "../../cli/ui.js";
import { buildCli, PACKAGE_ROOT, runCli } from "../../cli/testing/run-cli.js";
import { LiveHub } from "../../ui/hub.js";
import { startUiServer, loadPageAssets } from "../../ui/server.js";
import { chromiumMissing, launchChromium } from "../../ui/testing/chromium.js";

const ARTIFACTS = join(PACKAGE_ROOT, "build", "ui-artifacts");
const noBrowser = chromiumMissing();
if (noBrowser) console.log(`skipping the browser tests: ${noBrowser}`);
const noGcc = missingTools(["gcc"]).length > 0 ? "gcc is not installed (the native board needs it)" : undefined;
if (noGcc && !noBrowser) console.log(`skipping the native-board browser test: ${noGcc}`);

let dir = "";
let chromium: Awaited<ReturnType<typeof launchChromium>> | undefined;
const table: EventTable = randomTable(11, {
  kinds: ["dense", "dense", "dense"],
  encoding: "spikes",
  readout: "count",
  maxNeurons: 48,
  models: ["if", "lif-shift"],
  recurrentProbability: 0,
  plasticityProbability: 0,
});

beforeAll(async () => {
  if (noBrowser) return;
  buildCli();
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), "picospike-ui-"));
  writeFileSync(join(dir, "model.cbor"), encodeTable(table));
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The built CLI run in the background: its output so far, a wait for a line, Ctrl-C, its exit. */
function background(args: string[]): {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  waitFor: (re: RegExp, ms: number) => Promise<RegExpExecArray>;
  exit: Promise<number | null>;
} {
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, "bin/picospike.js"), ...args], { cwd: PACKAGE_ROOT });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const waitFor = async (re: RegExp, ms: number): Promise<RegExpExecArray> => {
    const until = Date.now() + ms;
    for (;;) {
      const m = re.exec(err);
      if (m) return m;
      if (Date.now() > until || child.exitCode !== null) throw new Error(`no ${re} on stderr; stderr so far:\n${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, stderr: () => err, stdout: () => out, waitFor, exit };
}

interface Stats {
  received: number;
  held: number;
  skipped: number;
  connected: boolean;
  ended: boolean;
  lastStep: number;
  drawn: number[];
  markers: Array<{ layer: number; i: number; step: number; neuron: number; x: number; y: number }>;
}
const stats = (page: Page): Promise<Stats> => page.evaluate(() => (window as unknown as { picospikeView: { stats(): Stats } }).picospikeView.stats());

async function newPage(): Promise<Page> {
  const page = await chromium!.browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("favicon")) errors.push(m.text());
  });
  (page as unknown as { errors: string[] }).errors = errors;
  return page;
}
const pageErrors = (page: Page): string[] => (page as unknown as { errors: string[] }).errors;

describe.skipIf(noBrowser !== undefined)("the live view in chromium", () => {
  it.skipIf(noGcc !== undefined)(
    "stream --board native --ui: the page connects and draws non-empty rasters; closing it mid-run leaves the stream's results unchanged",
    async () => {
      const common = ["stream", "--board", "native", "--model", join(dir, "model.cbor"), "--input", "random:0.15:5", "--steps", "32", "--samples", "150"];
      const base = runCli([...common, "--out", join(dir, "base.spk"), "--json"], 300_000);
      expect(base.status, base.stderr).toBe(0);
      const run = background([...common, "--out", join(dir, "ui.spk"), "--json", "--ui"]);
      try {
        const url = (await run.waitFor(/ui: (http:\/\/127\.0\.0\.1:\d+\/)/, 60_000))[1]!;
        const page = await newPage();
        await page.goto(url);
        await page.waitForFunction(() => (window as unknown as { picospikeView: { stats(): { received: number } } }).picospikeView.stats().received > 64, {
          timeout: 120_000,
          polling: 50,
        });
        await new Promise((r) => setTimeout(r, 300)); // a few animation frames
        const s = await stats(page);
        expect(s.connected).toBe(true);
        expect(s.drawn[0]).toBeGreaterThan(0); // input events
        expect(s.drawn.slice(1).some((n) => n > 0)).toBe(true); // device spikes in some layer
        await page.screenshot({ path: join(ARTIFACTS, "stream-native-live.png"), fullPage: true });
        expect(pageErrors(page)).toEqual([]);
        const endedBeforeClose = s.ended;
        await page.close();
        expect(endedBeforeClose).toBe(false); // the page went away mid-run
        await run.waitFor(/ui: run finished/, 300_000);
        run.child.kill("SIGINT");
        expect(await run.exit).toBe(0);
      } finally {
        if (run.child.exitCode === null) run.child.kill("SIGKILL");
      }
      const a = JSON.parse(base.stdout);
      const b = JSON.parse(run.stdout());
      for (const k of ["steps", "samples", "inputEvents", "outputSpikes", "framesDropped", "mode"]) expect(b[k], k).toEqual(a[k]);
      expect(readFileSync(join(dir, "ui.spk")).equals(readFileSync(join(dir, "base.spk")))).toBe(true);
    },
    600_000,
  );

  it("monitor --board mock: real time on the board's clock, every layer drawn, the summary printed and the view kept until Ctrl-C", async () => {
    const run = background([
      "monitor",
      "--board",
      "mock",
      "--model",
      join(dir, "model.cbor"),
      "--input",
      "random:0.2:8",
      "--dt",
      "2",
      "--steps",
      "1500",
      "--json",
    ]);
    try {
      const url = (await run.waitFor(/ui: (http:\/\/127\.0\.0\.1:\d+\/)/, 60_000))[1]!;
      const page = await newPage();
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { picospikeView: { stats(): { received: number } } }).picospikeView.stats().received > 32, {
        timeout: 60_000,
        polling: 50,
      });
      await new Promise((r) => setTimeout(r, 300));
      const s = await stats(page);
      expect(s.connected).toBe(true);
      expect(s.drawn[0]).toBeGreaterThan(0);
      expect(await page.$eval("h1", (e) => e.textContent)).toBe("picospike monitor");
      await page.screenshot({ path: join(ARTIFACTS, "monitor-mock.png"), fullPage: true });
      expect(pageErrors(page)).toEqual([]);
      await page.close();
      await run.waitFor(/ui: run finished/, 120_000);
      run.child.kill("SIGINT");
      expect(await run.exit).toBe(0);
      const summary = JSON.parse(run.stdout());
      expect(summary).toMatchObject({ mode: "realtime", device: "mock", interrupted: false });
      expect(summary.steps).toBeGreaterThan(0);
    } finally {
      if (run.child.exitCode === null) run.child.kill("SIGKILL");
    }
  }, 180_000);

  it("marks a divergence (the board runs a deliberately altered model) at its step and neuron", async () => {
    // The device gets a bias on one neuron of layer 0 that the interpreter's table lacks.
    const neuron = 3;
    const layer0 = table.layers[0]!;
    const bias = layer0.bias ? Int32Array.from(layer0.bias) : new Int32Array(layer0.size);
    expect(bias.length).toBe(layer0.size);
    bias[neuron] = bias[neuron]! + Math.ceil(layer0.neuron.threshold / 5);
    const altered: EventTable = { ...table, layers: [{ ...layer0, bias }, ...table.layers.slice(1)] };
    const pair = new LoopbackPair();
    const board = new MockBoard(pair.b);
    const session = await BoardSession.open(pair.a);
    await session.ensureModel(encodeTable(altered));
    const hub = new LiveHub(feedMeta(table, "compare", "altered model on the mock", "mock", { reference: true, stepsPerSample: 24 }));
    const server = await startUiServer(hub, { assets: loadPageAssets() });
    const page = await newPage();
    try {
      await page.goto(server.url);
      await page.waitForFunction(() => (window as unknown as { picospikeView: { stats(): { connected: boolean } } }).picospikeView.stats().connected, {
        timeout: 20_000,
      });
      let i = 0;
      const report = await compareRun(session, table, parseSource("random:0.1:9", table.input.size, 24), {
        steps: 24,
        maxSamples: 12,
        onStep: (st) => {
          const fs = feedStep(i++, st.sample, st.step, st.input, st.device, st.interpreter, st.interpreterMembranes);
          hub.step(fs);
          for (const d of stepDivergences(fs)) hub.divergence(d);
        },
      });
      hub.end({ bitExact: report.bitExact });
      const fd = report.firstDivergence!;
      expect(fd).toMatchObject({ kind: "spike", layer: 0, neuron, device: 1, interpreter: 0 });
      await page.waitForFunction(() => (window as unknown as { picospikeView: { stats(): { ended: boolean } } }).picospikeView.stats().ended, {
        timeout: 20_000,
      });
      // The list names it; clicking it brings its step into view, ringed.
      const first = await page.$("#divergences li a");
      expect(await first!.evaluate((a) => a.textContent)).toContain(`sample ${fd.sample}, step ${fd.step}, ${table.layers[0]!.name} neuron ${neuron}`);
      await first!.click();
      await new Promise((r) => setTimeout(r, 200));
      const s = await stats(page);
      const runStep = fd.sample * 24 + fd.step;
      const mark = s.markers.find((m) => m.layer === 0 && m.i === runStep);
      expect(mark).toMatchObject({ step: fd.step, neuron });
      // Under the ring's centre the raster drew that spike as the device's only (red).
      const pixel = await page.evaluate((m) => {
        const c = document.querySelector('canvas.raster[data-layer="0"]') as HTMLCanvasElement;
        const k = c.width / c.clientWidth;
        const d = c.getContext("2d")!.getImageData(Math.floor(m.x * k), Math.floor(m.y * k), 1, 1).data;
        return [d[0], d[1], d[2]];
      }, mark!);
      expect(pixel).toEqual([0xd6, 0x27, 0x28]);
      await page.screenshot({ path: join(ARTIFACTS, "compare-divergence.png"), fullPage: true });
      // The download is a self-contained report of what was shown, that draws the same divergence.
      const html = await page.evaluate(() => (window as unknown as { picospikeView: { reportHtml(): Promise<string> } }).picospikeView.reportHtml());
      expect(html).not.toMatch(/<script src=|<link /);
      const file = join(ARTIFACTS, "compare-divergence-download.html");
      writeFileSync(file, html);
      const offline = await newPage();
      await offline.goto(`file://${file}`);
      await new Promise((r) => setTimeout(r, 300));
      const o = await stats(offline);
      expect(o.ended).toBe(true);
      expect(o.markers.some((m) => m.layer === 0 && m.i === runStep && m.neuron === neuron)).toBe(true);
      expect(pageErrors(offline)).toEqual([]);
      await offline.close();
      expect(pageErrors(page)).toEqual([]);
    } finally {
      await page.close();
      await server.close();
      await session.close();
      board.shutdown();
    }
  }, 120_000);

  it("keeps up at a stated event rate: 1,000 steps/s of 150 events, the newest step always arrives, every step drawn or counted as skipped", async () => {
    const meta = {
      kind: "stream" as const,
      title: "synthetic 150,000 events/s",
      board: "synthetic",
      input: { size: 1024 },
      layers: [
        { name: "hidden", size: 256, integrator: false },
        { name: "out", size: 10, integrator: false },
      ],
      reference: false,
      readout: "counts" as const,
    };
    const hub = new LiveHub(meta);
    const server = await startUiServer(hub, { assets: loadPageAssets() });
    const page = await newPage();
    try {
      await page.goto(server.url);
      await page.waitForFunction(() => (window as unknown as { picospikeView: { stats(): { connected: boolean } } }).picospikeView.stats().connected, {
        timeout: 20_000,
      });
      const total = 3000;
      const seconds = 3;
      let pushed = 0;
      let x = 1;
      const rand = (n: number): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n;
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000 / seconds) * total));
          for (; pushed < due; pushed++) {
            const input = Array.from(new Set(Array.from({ length: 100 }, () => rand(1024)))).sort((a, b) => a - b);
            const hidden = Array.from(new Set(Array.from({ length: 48 }, () => rand(256)))).sort((a, b) => a - b);
            hub.step({ i: pushed, s: 0, t: pushed, in: input, d: [hidden, [rand(10)]] });
          }
          if (pushed >= total) {
            clearInterval(timer);
            resolve();
          }
        }, 5);
      });
      const rate = (total * 150) / ((performance.now() - t0) / 1000);
      hub.end({ steps: total });
      await page.waitForFunction(() => (window as unknown as { picospikeView: { stats(): { ended: boolean } } }).picospikeView.stats().ended, {
        timeout: 30_000,
      });
      const s = await stats(page);
      console.log(
        `live view at ${Math.round(rate).toLocaleString("en-US")} events/s: the page received ${s.received} of ${total} steps (${((100 * s.received) / total).toFixed(1)} %), ${s.skipped} decimated`,
      );
      expect(s.lastStep).toBe(total - 1);
      expect(s.received + s.skipped).toBe(total);
      expect(s.drawn[0]).toBeGreaterThan(0);
      await page.screenshot({ path: join(ARTIFACTS, "rate.png"), fullPage: true });
      expect(pageErrors(page)).toEqual([]);
    } finally {
      await page.close();
      await server.close();
    }
  }, 120_000);

  it("compare --report: one static file that draws offline, with a sample picker, hover values and drag-zoom", async () => {
    const file = join(dir, "report.html");
    const r = runCli(
      ["compare", join(dir, "model.cbor"), "--board", "mock", "--input", "random:0.15:3", "--steps", "20", "--samples", "5", "--report", file],
      120_000,
    );
    expect(r.status, r.stderr).toBe(0);
    const html = readFileSync(file, "utf8");
    expect(html).not.toMatch(/<script src=|<link /);
    const page = await newPage();
    try {
      await page.goto(`file://${file}`);
      await new Promise((res) => setTimeout(res, 300));
      const s = await stats(page);
      expect(s.ended).toBe(true);
      expect(s.held).toBe(100);
      expect(s.drawn[0]).toBeGreaterThan(0);
      const options = await page.$$eval("#sample option", (o) => o.map((x) => (x as HTMLOptionElement).value));
      expect(options).toEqual(["0", "1", "2", "3", "4"]);
      await page.select("#sample", "3");
      await new Promise((res) => setTimeout(res, 100));
      expect(await page.$eval("#range", (e) => e.textContent)).toContain("sample 3");
      // Hover: a tooltip naming layer, neuron, step and value.
      const box = (await page.$('canvas.raster[data-layer="-1"]'))!;
      const b = (await box.boundingBox())!;
      await page.mouse.move(b.x + b.width * 0.5, b.y + b.height * 0.5);
      await new Promise((res) => setTimeout(res, 100));
      const tip = await page.$eval("#tooltip", (e) => ({ text: e.textContent, shown: (e as HTMLElement).style.display }));
      expect(tip.shown).toBe("block");
      expect(tip.text).toMatch(/^input neuron \d+ · step \d+ of sample 3 \(run step \d+\) · (event|no event)$/);
      // Drag to zoom on steps 5..10 of the sample.
      await page.mouse.move(b.x + b.width * (5.5 / 20), b.y + 10);
      await page.mouse.down();
      await page.mouse.move(b.x + b.width * (10.5 / 20), b.y + 10);
      await page.mouse.up();
      await new Promise((res) => setTimeout(res, 100));
      expect(await page.$eval("#range", (e) => e.textContent)).toMatch(/^run steps 65–70 /);
      await page.screenshot({ path: join(ARTIFACTS, "compare-report.png"), fullPage: true });
      expect(pageErrors(page)).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);
});
