/**
 * build, flash, stream, compare, adapt: the verbs that put models on boards. The native board (gcc)
 * runs with `define`; `defineCross` builds for every other registered board and runs stream and
 * compare on a Cortex-M board under QEMU (the `boards` tier). Missing tools skip with a printed reason.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BOARDS, type BoardSpec } from "../../../firmware-host/boards/boards.js";
import { missing, STEPS, type Acceptance, type VerbCase } from "../context.js";
import { expectError } from "../expect.js";
import { ndjsonLines } from "../inputs.js";

/** Tools a board needs to build (compiler, size) and to run (QEMU). */
function toolsOf(board: BoardSpec, running: boolean): string[] {
  return [board.compiler, board.sizeTool, ...(running && board.qemu !== undefined ? [board.qemu.binary] : [])];
}

/** The emulated board stream and compare run on in the cross cases: a Cortex-M4 under QEMU. */
const QEMU_BOARD = "mps2-an386";

/** The boards other than native: cross compilers, and QEMU for the emulated ones. */
const CROSS_BOARDS = Object.values(BOARDS).filter((b) => b.name !== "native");

interface CompareJson {
  readonly bitExact: boolean;
  readonly samples: number;
}

/** `build` for one board: the int4 model, with a size report. */
function buildCase(ctx: Acceptance, board: BoardSpec): void {
  it(`builds the int4 model for ${board.name} with a size report`, async () => {
    if (missing(`build --board ${board.name}`, toolsOf(board, false))) return;
    const r = await ctx.user.jsonAsync<{ board: string; image: string }>(["build", ctx.model(4), "--board", board.name, "--out", `fw-${board.name}`, "--json"]);
    expect(r.board).toBe(board.name);
    expect(existsSync(r.image)).toBe(true);
  }, 300_000);
}

export const build: VerbCase = {
  verb: "build",
  define(ctx: Acceptance) {
    describe("build", () => {
      buildCase(ctx, BOARDS["native"]!);

      it("mistake: a float SNN JSON says what it is and which verb takes it", () => {
        const message = expectError(ctx.user.run(["build", ctx.snn(), "--board", "native", "--out", "b-snn"]), "FORMAT_NOT_EVENT_TABLE");
        expect(message).toMatch(/quantize/);
      }, 300_000);

      it("mistake: an unknown board lists the boards", () => {
        expect(expectError(ctx.user.run(["build", ctx.model(8), "--board", "esp32", "--out", "b-esp32"]), "DEVICE_UNKNOWN_BOARD")).toMatch(/native/);
      }, 300_000);
    });
  },
  defineCross(ctx: Acceptance) {
    describe("build", () => {
      for (const board of CROSS_BOARDS) buildCase(ctx, board);
    });
  },
};

export const flash: VerbCase = {
  verb: "flash",
  define(ctx: Acceptance) {
    describe("flash", () => {
      it("--detach leaves the native board running at the port it prints, and compare reaches it there", () => {
        if (missing("flash --board native --detach", ["gcc", "size"])) return;
        ctx.user.ok(["build", ctx.model(8), "--board", "native", "--out", "fw-flash"]);
        const r = ctx.user.ok(["flash", "--image", "fw-flash/firmware", "--board", "native", "--detach"]);
        const port = /^port: (.+)$/m.exec(r.stdout)?.[1];
        const pid = Number(/^pid: (\d+)$/m.exec(r.stdout)?.[1]);
        expect(port).toBeDefined();
        try {
          expect(existsSync(port!)).toBe(true);
          expect(readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2]).not.toBe("Z");
          const c = ctx.user.json<CompareJson>(["compare", ctx.model(8), "--port", port!, "--input", "mnist:0:2", "--steps", String(STEPS), "--json"]);
          expect(c.bitExact).toBe(true);
        } finally {
          if (pid > 0) process.kill(pid, "SIGTERM");
        }
      }, 300_000);

      it("mistake: a model and --image together is a usage error (exit 2, like every usage error)", () => {
        expectError(ctx.user.run(["flash", ctx.model(8), "--image", "x", "--board", "native"]), "CLI_USAGE", 2);
      }, 300_000);
    });
  },
};

/** `stream` on one board: lockstep with recorded inputs, and real time paced by the device clock. */
function streamCases(ctx: Acceptance, board: string): void {
  it(`lockstep on ${board}: mnist digits in, output spikes out, recorded inputs replayable`, async () => {
    if (missing(`stream --board ${board}`, toolsOf(BOARDS[board]!, true))) return;
    const r = await ctx.user.jsonAsync<{ samples: number }>([
      "stream",
      "--board",
      board,
      "--model",
      ctx.model(8),
      "--input",
      "mnist:0:2",
      "--steps",
      String(STEPS),
      "--out",
      `stream-out-${board}.spikes`,
      "--out-inputs",
      `stream-${board}.spikes`,
      "--json",
    ]);
    expect(r.samples).toBe(2);
    ctx.user.ok(["run", ctx.model(8), "--input", `spikes:stream-${board}.spikes`, "--steps", String(STEPS)]);
  }, 300_000);

  it(`real time on ${board}: the device clock drives at least the ${STEPS * 3} steps sent and no more than the wall clock allows`, async () => {
    if (missing(`stream --board ${board} --realtime`, toolsOf(BOARDS[board]!, true))) return;
    const dtMs = 5;
    const r = await ctx.user.jsonAsync<{ steps: number; seconds: number }>([
      "stream",
      "--board",
      board,
      "--model",
      ctx.model(8),
      "--input",
      "mnist:0:3",
      "--steps",
      String(STEPS),
      "--realtime",
      "--dt",
      String(dtMs),
      "--out-inputs",
      `rt-${board}.spikes`,
      "--json",
    ]);
    // The device clock runs from RT_START to RT_STOP (spec/protocol.md §5.4): at least the steps the
    // host paced out, at most one per period of the time between sending RT_START and RT_STOP's
    // answer (QEMU boards run on the host's clock here). The defect was counts far off both ways
    // (10019 or 20 for 24 sent on mps2-an386).
    expect(r.steps).toBeGreaterThanOrEqual(STEPS * 3);
    expect(r.steps).toBeLessThanOrEqual(Math.ceil((r.seconds * 1000) / dtMs) + 1);
    ctx.user.ok(["run", ctx.model(8), "--input", `spikes:rt-${board}.spikes`]);
  }, 300_000);
}

export const stream: VerbCase = {
  verb: "stream",
  define(ctx: Acceptance) {
    describe("stream", () => {
      streamCases(ctx, "native");

      it("live NDJSON from stdin to the native board", () => {
        if (missing("stream ndjson:- --board native", ["gcc", "size"])) return;
        const r = ctx.user.json<{ samples: number }>(
          ["stream", "--board", "native", "--model", ctx.model(8), "--input", "ndjson:-", "--steps", String(STEPS), "--json"],
          { input: ndjsonLines(STEPS * 2) },
        );
        expect(r.samples).toBeGreaterThan(0);
      }, 300_000);

      it("mistake: neither --board nor --port is a usage error", () => {
        expectError(ctx.user.run(["stream", "--model", ctx.model(8), "--input", "mnist:0:1"]), "CLI_USAGE", 2);
      }, 300_000);
    });
  },
  defineCross(ctx: Acceptance) {
    describe("stream", () => streamCases(ctx, QEMU_BOARD));
  },
};

/** `compare` on one board: bit-exact through injected faults, with a plot. */
function compareCase(ctx: Acceptance, board: string): void {
  it(`bit-exact on ${board}, with --plot, --json and --inject`, async () => {
    if (missing(`compare --board ${board}`, toolsOf(BOARDS[board]!, true))) return;
    const r = await ctx.user.jsonAsync<CompareJson>([
      "compare",
      ctx.model(8),
      "--board",
      board,
      "--input",
      "mnist:0:2",
      "--steps",
      String(STEPS),
      "--plot",
      `cmp-${board}.svg`,
      "--inject",
      // a tenth of the native rate on QEMU: each retransmission crosses the emulated UART, and at
      // 1 % of bytes most upload chunks are damaged (2 minutes for the upload alone); a few hundred
      // damaged frames still exercise every recovery path
      BOARDS[board]!.qemu === undefined ? "corrupt=0.01,drop=0.01,seed=5" : "corrupt=0.001,drop=0.001,seed=5",
      "--json",
    ]);
    expect(r.bitExact).toBe(true);
    expect(readFileSync(ctx.user.path(`cmp-${board}.svg`), "utf8")).toMatch(/^<svg|<\?xml/);
  }, 300_000);
}

export const compare: VerbCase = {
  verb: "compare",
  define(ctx: Acceptance) {
    describe("compare", () => {
      compareCase(ctx, "native");

      it("on the in-process mock board, from a spike file", () => {
        const r = ctx.user.json<CompareJson>([
          "compare",
          ctx.model(4),
          "--board",
          "mock",
          "--input",
          "random:0.05:3",
          "--samples",
          "2",
          "--steps",
          String(STEPS),
          "--json",
        ]);
        expect(r.bitExact).toBe(true);
      }, 300_000);

      it("a model that learns on the native board: its learned weights are compared too", async () => {
        if (missing("compare --board native (plastic model)", ["gcc", "size"])) return;
        // an STDP layer with lateral inhibition, its weights learned once (adapt on the mock board)
        ctx.user.ok(["adapt", "--task", "patterns", "--board", "mock", "--save-weights", "cmp-learner.cbor"]);
        const r = await ctx.user.jsonAsync<CompareJson & { weightChecks: number }>([
          "compare",
          "cmp-learner.cbor",
          "--board",
          "native",
          "--input",
          "random:0.25:3",
          "--samples",
          "2",
          "--steps",
          "100",
          "--json",
        ]);
        expect(r).toMatchObject({ bitExact: true, weightChecks: 2 });
      }, 300_000);
    });
  },
  defineCross(ctx: Acceptance) {
    describe("compare", () => compareCase(ctx, QEMU_BOARD));
  },
};

export const adapt: VerbCase = {
  verb: "adapt",
  define(ctx: Acceptance) {
    describe("adapt", () => {
      it("closed-loop R-STDP on the native board: learning curve, device weights equal the replay", async () => {
        if (missing("adapt --board native", ["gcc", "size"])) return;
        const r = await ctx.user.jsonAsync<Record<string, unknown>>(["adapt", "--board", "native", "--trials", "200", "--plot", "adapt.svg", "--json"]);
        expect(JSON.stringify(r)).toMatch(/true/);
        expect(existsSync(ctx.user.path("adapt.svg"))).toBe(true);
      }, 300_000);

      it("unsupervised pattern task on the native board: learned vs untrained figure, weights and evaluation bit-exact, receptive fields", async () => {
        if (missing("adapt --task patterns --board native", ["gcc", "size"])) return;
        const r = await ctx.user.runAsync([
          "adapt",
          "--task",
          "patterns",
          "--board",
          "native",
          "--plot",
          "fields.svg",
          "--save-weights",
          "learned.cbor",
          "--json",
        ]);
        expect(r.status, r.stderr).toBe(0);
        const report = JSON.parse(r.stdout) as {
          weightsBitExact: boolean;
          evaluationBitExact: boolean;
          presentations: number;
          chance: number;
          trained: { accuracy: number; distinctPatterns: number };
          untrained: { accuracy: number };
        };
        expect(report).toMatchObject({ weightsBitExact: true, evaluationBitExact: true, presentations: 800, chance: 0.25 });
        // measured (every board alike, bit-exact): 0.97 and 4/4 learned, 0.21 untrained
        expect(report.trained.accuracy).toBeGreaterThanOrEqual(0.9);
        expect(report.trained.distinctPatterns).toBe(4);
        expect(report.untrained.accuracy).toBeLessThanOrEqual(0.5);
        // progress goes to stderr, the JSON alone to stdout
        expect(r.stderr).toMatch(/adapt patterns: learning 800\/800 presentations/);
        expect(readFileSync(ctx.user.path("fields.svg"), "utf8")).toMatch(/receptive fields/);
        expect(existsSync(ctx.user.path("learned.cbor"))).toBe(true);
        const help = ctx.user.run(["adapt", "--help"]);
        expect(help.stdout).toMatch(/patterns,\s+patterns-triplet,\s+patterns-8x16\s+\(unsupervised/);
      }, 300_000);

      it("mistake: an unknown task names the rewarded and the unsupervised ones", () => {
        const message = expectError(ctx.user.run(["adapt", "--board", "mock", "--task", "pattern"]), "CLI_USAGE");
        expect(message).toMatch(/associative.*patterns-8x16/);
      });

      it("mistake: a port that does not exist is named once", () => {
        const message = expectError(ctx.user.run(["adapt", "--port", "/dev/pts/99", "--trials", "10"]), "DEVICE_PORT_UNAVAILABLE");
        expect(message.split("/dev/pts/99").length - 1).toBe(1);
      }, 300_000);
    });
  },
};
