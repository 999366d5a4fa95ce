/** train, convert, quantize, inspect: the verbs that make and read models. */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Acceptance, VerbCase } from "../context.js";
import { expectError, expectOk } from "../expect.js";

export const train: VerbCase = {
  verb: "train",
  define(ctx: Acceptance) {
    describe("train", () => {
      it("trains a small MLP and writes a tfjs-layers model", () => {
        const ann = ctx.ann();
        expect(existsSync(join(ann, "model.json"))).toBe(true);
        expect(existsSync(join(ann, "weights.bin"))).toBe(true);
      }, 300_000);

      it("mistake: an unknown --arch is a usage error", () => {
        expectError(ctx.user.run(["train", "--arch", "rnn", "--out", "nope"]), "CLI_USAGE", 2);
      });
    });
  },
};

export const convert: VerbCase = {
  verb: "convert",
  define(ctx: Acceptance) {
    describe("convert", () => {
      it("converts the ANN folder to a float SNN", () => {
        expect(statSync(ctx.snn()).size).toBeGreaterThan(0);
      }, 300_000);

      it("writes a folder when --out has no .json, which quantize then accepts", () => {
        ctx.user.ok(["convert", ctx.ann(), "--out", "snndir", "--calibration", "50"]);
        expect(existsSync(ctx.user.path("snndir/snn.json"))).toBe(true);
        ctx.user.ok(["quantize", "snndir", "--calibration", "0", "--out", "from-dir.cbor"]);
        expect(existsSync(ctx.user.path("from-dir.cbor"))).toBe(true);
      }, 300_000);

      it("calibrates on any input source (--calibration-input)", () => {
        const r = ctx.user.json<{ out: string }>([
          "convert",
          ctx.ann(),
          "--out",
          "snn-cal.json",
          "--calibration-input",
          "random:0.2:3",
          "--calibration",
          "20",
          "--json",
        ]);
        expect(r.out).toBe("snn-cal.json");
        ctx.user.ok(["quantize", "snn-cal.json", "--calibration-input", "random:0.2:3", "--calibration", "4", "--out", "cal.cbor"]);
      }, 300_000);

      it("mistake: an event table given to convert says so", () => {
        const message = expectError(ctx.user.run(["convert", ctx.model(8)]), "TOOLCHAIN_BAD_MODEL");
        expect(message).toMatch(/event table/);
        expect(message).not.toMatch(/ENOTDIR/);
      }, 300_000);
    });
  },
};

export const quantize: VerbCase = {
  verb: "quantize",
  define(ctx: Acceptance) {
    describe("quantize", () => {
      it("quantizes to int8 and int4 event tables", () => {
        const int8 = statSync(ctx.model(8)).size;
        const int4 = statSync(ctx.model(4)).size;
        expect(int4).toBeLessThan(int8);
      }, 300_000);

      it("mistake: a missing file is CLI_FILE_NOT_FOUND", () => {
        expectError(ctx.user.run(["quantize", "no-such.json"]), "CLI_FILE_NOT_FOUND");
      });
    });
  },
};

export const inspect: VerbCase = {
  verb: "inspect",
  define(ctx: Acceptance) {
    describe("inspect", () => {
      it("summarises an event table, as text and as JSON", () => {
        const r = ctx.user.json<{ layers: unknown[]; hash: string }>(["inspect", ctx.model(8), "--json"]);
        expect(r.layers.length).toBe(2);
        expect(r.hash).toMatch(/^[0-9a-f]{64}$/);
        expect(ctx.user.ok(["inspect", ctx.model(4)]).stdout).toMatch(/bytes/);
      }, 300_000);

      it("mistake: a float SNN JSON says what it is and which verb takes it", () => {
        const message = expectError(ctx.user.run(["inspect", ctx.snn()]), "FORMAT_NOT_EVENT_TABLE");
        expect(message).toMatch(/float SNN/);
        expect(message).toMatch(/quantize/);
      }, 300_000);

      it("mistake: a closed pipe ends quietly (no EPIPE stack trace)", () => {
        const r = ctx.user.shell(`"${ctx.pkg.bin}" inspect "${ctx.model(8)}" --json | head -1`);
        expect(r.stdout.trim()).toBe("{");
        expect(r.stderr).toBe("");
      }, 300_000);
    });
  },
};

/** A tiny helper so a case can write a file into the user's folder. */
export function userFile(ctx: Acceptance, name: string, contents: string | Uint8Array): string {
  const path = ctx.user.path(name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, contents);
  return path;
}

/** Reads a file of the user's folder as text. */
export function userText(ctx: Acceptance, name: string): string {
  return readFileSync(ctx.user.path(name), "utf8");
}

export { expectOk };
