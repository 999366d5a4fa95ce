/**
 * Cross-check of the C event-table reader (firmware/src/ps_table.c) against the TS reader
 * (runtime/format.ts decodeTable): both must accept the same files with the same hash and the same
 * decoded model, and reject the same files with the same error code. The C side runs as the host
 * tool firmware/test/table_dump.c (built with gcc, under ASan/UBSan when available) over one
 * batch of inputs: random valid tables, the malformed catalogue, truncation at every byte, seeded
 * byte mutations and seeded schema-level mutations. Also runs the C unit tests
 * (firmware/test/test_table.c) and checks the reader builds warning-free under clang and
 * arm-none-eabi-gcc for Cortex-M0. Without gcc the suite is skipped with a printed reason.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findTool, type ToolName } from "../firmware-host/boards/toolchain.js";
import { encodeTable } from "../runtime/format.js";
import { randomTable } from "../runtime/testing/random-table.js";
import {
  bodyBytes,
  byteMutations,
  envelope,
  everythingTable,
  goldenTable,
  hostileCases,
  rulesTable,
  treeMutations,
  tsVerdict,
  wideSparseTable,
} from "../runtime/testing/table-catalogue.js";

const ROOT = resolve(import.meta.dirname, "..");
const FW = join(ROOT, "firmware");
const SOURCES = ["ps_table.c", "ps_sha256.c"].map((f) => join(FW, "src", f));
const STRICT = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", `-I${join(FW, "include")}`, `-I${join(FW, "kernels")}`];

/** Tool detection is the boards' (firmware-host/boards/toolchain.ts): on PATH and executable. */
const hasTool = (tool: ToolName): boolean => findTool(tool) !== undefined;
const GCC = hasTool("gcc");
if (!GCC) console.log("skip: test/c-table-reader.test.ts needs gcc (Debian package gcc), which is not installed");

function run(cmd: string, args: string[], input?: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { input, encoding: "utf8", maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Length-prefixed records for `table_dump -`. */
function batch(inputs: readonly Uint8Array[]): Uint8Array {
  const total = inputs.reduce((n, b) => n + 4 + b.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const b of inputs) {
    view.setUint32(at, b.length, true);
    out.set(b, at + 4);
    at += 4 + b.length;
  }
  return out;
}

/** Verdict blocks printed by table_dump, one per input. */
function blocks(stdout: string): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  for (const line of stdout.split("\n")) {
    if (line === "end") {
      out.push(current);
      current = [];
    } else if (line !== "") current.push(line);
  }
  return out;
}

describe.skipIf(!GCC)("C event-table reader", () => {
  let dir = "";
  let dump = "";

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ps-table-"));
    dump = join(dir, "table_dump");
    const tool = join(FW, "test", "table_dump.c");
    // Sanitizers catch memory errors the verdicts alone would not; fall back when libasan is absent.
    const sanitized = run("gcc", [...STRICT, "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", ...SOURCES, tool, "-o", dump]);
    if (sanitized.status !== 0) {
      console.log("note: gcc could not build with -fsanitize=address,undefined; cross-checking an unsanitized build");
      const plain = run("gcc", [...STRICT, "-O2", ...SOURCES, tool, "-o", dump]);
      expect(plain.status, plain.stderr).toBe(0);
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs both readers over `inputs` and asserts identical verdicts; returns how many were accepted. */
  function crossCheck(inputs: readonly Uint8Array[], what: string): number {
    const r = run(dump, ["-"], batch(inputs));
    expect(r.status, r.stderr).toBe(0);
    const got = blocks(r.stdout);
    expect(got.length).toBe(inputs.length);
    let accepted = 0;
    inputs.forEach((bytes, i) => {
      const expected = tsVerdict(bytes);
      if (expected[0]!.startsWith("ok")) accepted++;
      expect(got[i], `${what} #${i} (${bytes.length} bytes)`).toEqual(expected);
    });
    return accepted;
  }

  it("passes its C unit tests", () => {
    const exe = join(dir, "test_table");
    const b = run("gcc", [...STRICT, "-O1", "-g", ...SOURCES, join(FW, "test", "test_table.c"), "-o", exe]);
    expect(b.status, b.stderr).toBe(0);
    const r = run(exe, []);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\b0 failed\b/);
  });

  it("accepts random valid tables of every kind with the same hash and the same decoded model", () => {
    const inputs: Uint8Array[] = [encodeTable(everythingTable()), encodeTable(wideSparseTable()), encodeTable(goldenTable()), encodeTable(rulesTable())];
    for (let seed = 0; seed < 120; seed++) {
      inputs.push(encodeTable(randomTable(seed, { layers: 1 + (seed % 7), maxNeurons: 8 + (seed % 5) * 12 })));
    }
    // format version 2 plasticity: event timing and the triplet rule (spec/ops.md §11.5, §11.6)
    for (let seed = 0; seed < 30; seed++) {
      inputs.push(
        encodeTable(
          randomTable(1000 + seed, {
            kinds: ["dense", "dense"],
            maxNeurons: 12,
            plasticityProbability: 1,
            eventTimingProbability: 0.8,
            epochTimingProbability: 0.3,
          }),
        ),
      );
    }
    expect(crossCheck(inputs, "valid table")).toBe(inputs.length);
  });

  it("rejects the malformed catalogue with the TS reader's codes", () => {
    const cases = hostileCases();
    const accepted = crossCheck(
      cases.map(([, b]) => b),
      "hostile case",
    );
    expect(accepted).toBe(0);
  });

  it("rejects every truncation of valid files the same way", () => {
    const files = [encodeTable(goldenTable()), encodeTable(everythingTable()), encodeTable(randomTable(7, { layers: 3, maxNeurons: 10 }))];
    const inputs = files.flatMap((f) => Array.from({ length: f.length }, (_, n) => f.subarray(0, n)));
    expect(crossCheck(inputs, "truncation")).toBe(0);
    // Truncating the body inside a well-formed envelope reaches the body decoder instead.
    const body = bodyBytes(files[1]!);
    expect(
      crossCheck(
        Array.from({ length: body.length }, (_, n) => envelope(body.subarray(0, n))),
        "truncated body",
      ),
    ).toBe(0);
  });

  it("agrees on seeded byte mutations of files and of re-hashed bodies", () => {
    const files = [encodeTable(everythingTable()), encodeTable(randomTable(3, { layers: 4 })), encodeTable(wideSparseTable())];
    const inputs: Uint8Array[] = [];
    files.forEach((f, i) => {
      inputs.push(...byteMutations(f, 300, 100 + i));
      inputs.push(...byteMutations(bodyBytes(f), 500, 200 + i, 3).map((b) => envelope(b)));
    });
    crossCheck(inputs, "byte mutation");
  });

  it("agrees on seeded schema-level mutations (fields replaced, removed, added)", () => {
    const files = [encodeTable(everythingTable()), encodeTable(randomTable(11, { layers: 5 })), encodeTable(wideSparseTable()), encodeTable(goldenTable())];
    const inputs = files.flatMap((f, i) => treeMutations(f, 600, 300 + i));
    const accepted = crossCheck(inputs, "tree mutation");
    // Some mutations keep the table valid (a new bias, another setting): both must accept those alike.
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(inputs.length);
  });

  const targets: Array<[string, ToolName, string[]]> = [
    ["clang", "clang", ["-O2"]],
    ["arm-none-eabi-gcc (Cortex-M0, -Os)", "arm-none-eabi-gcc", ["-mcpu=cortex-m0", "-mthumb", "-Os"]],
  ];
  it.each(targets)("compiles warning-free with %s", (_, cc, flags) => {
    if (!hasTool(cc)) {
      console.log(`skip: ${cc} is not installed`);
      return;
    }
    for (const src of SOURCES) {
      const r = run(cc, [...STRICT, ...flags, "-c", src, "-o", join(dir, `${cc}-${src.split("/").pop()}.o`)]);
      expect(r.status, r.stderr).toBe(0);
    }
  });
});
