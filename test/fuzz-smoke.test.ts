/**
 * CI smoke run of the C event-table reader's libFuzzer harness (firmware/fuzz/fuzz_table.c): builds
 * it with clang -fsanitize=fuzzer,address,undefined in both modes (whole files, and bodies wrapped
 * in a correctly hashed envelope) and fuzzes each for 10 s from the checked-in seeds; any crash,
 * sanitizer report or harness invariant failure fails the test. Also checks that the checked-in
 * corpus and dictionary are exactly what scripts/make-fuzz-corpus.ts generates. Skips with a
 * printed reason when clang or its libFuzzer runtime (Debian: libclang-rt-14-dev, listed in
 * scripts/install-system-deps.sh) is missing. The long run is documented in firmware/fuzz/README.md.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findTool } from "../firmware-host/boards/toolchain.js";
import { BODY_CORPUS_DIR, bodyCorpusFiles, CORPUS_DIR, corpusFiles, DICT_PATH, dictionary } from "../scripts/make-fuzz-corpus.js";

const ROOT = resolve(import.meta.dirname, "..");
const FW = join(ROOT, "firmware");
const HARNESS = join(FW, "fuzz", "fuzz_table.c");
const LIBRARY = [join(FW, "src", "ps_table.c"), join(FW, "src", "ps_sha256.c")];
const COMMON = [
  "-std=c99",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-pedantic",
  `-I${join(FW, "include")}`,
  `-I${join(FW, "kernels")}`,
  "-g",
  "-O1",
  "-fno-sanitize-recover=all",
];
const SECONDS_PER_MODE = 10;

/** Why libFuzzer cannot be used here, or undefined when it can. */
function fuzzerMissing(): string | undefined {
  if (findTool("clang") === undefined) return "clang (Debian package clang) is not installed";
  const dir = mkdtempSync(join(tmpdir(), "ps-fuzzprobe-"));
  try {
    const src = join(dir, "probe.c");
    writeFileSync(src, "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n");
    const r = spawnSync("clang", ["-fsanitize=fuzzer,address,undefined", src, "-o", join(dir, "probe")], { encoding: "utf8" });
    return r.status === 0
      ? undefined
      : `clang cannot link -fsanitize=fuzzer (libFuzzer runtime missing; Debian package libclang-rt-14-dev): ${r.stderr.split("\n")[0]}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MISSING = fuzzerMissing();
if (MISSING) console.log(`skip: test/fuzz-smoke.test.ts: ${MISSING}`);

describe("fuzz corpus", () => {
  it("is exactly what scripts/make-fuzz-corpus.ts generates", () => {
    for (const [dir, files] of [
      [CORPUS_DIR, corpusFiles()],
      [BODY_CORPUS_DIR, bodyCorpusFiles()],
    ] as const) {
      expect(
        readdirSync(dir)
          .filter((f) => f.endsWith(".cbor"))
          .sort(),
      ).toEqual([...files.keys()].sort());
      for (const [name, bytes] of files) expect(new Uint8Array(readFileSync(join(dir, name))), name).toEqual(bytes);
    }
    expect(readFileSync(DICT_PATH, "utf8")).toBe(dictionary());
  });
});

describe.skipIf(MISSING !== undefined)("libFuzzer smoke run of the C table reader", () => {
  let dir = "";
  let objects: string[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ps-fuzz-"));
    // The reader is compiled once (instrumented, not linked to libFuzzer) and linked into both builds.
    objects = LIBRARY.map((src) => {
      const obj = join(dir, `${src.split("/").pop()}.o`);
      const r = spawnSync("clang", [...COMMON, "-fsanitize=fuzzer-no-link,address,undefined", "-c", src, "-o", obj], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      return obj;
    });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const modes: Array<[string, string[], string]> = [
    ["whole files", [], CORPUS_DIR],
    ["hashed bodies", ["-DPS_FUZZ_BODY"], BODY_CORPUS_DIR],
  ];
  it.each(modes)("finds nothing in %s", (mode, defines, seeds) => {
    const exe = join(dir, `fuzz-${defines.length}`);
    const build = spawnSync("clang", [...COMMON, "-fsanitize=fuzzer,address,undefined", ...defines, HARNESS, ...objects, "-o", exe], { encoding: "utf8" });
    expect(build.status, build.stderr).toBe(0);
    // New inputs go to a scratch corpus (first folder); the checked-in seeds stay untouched.
    const scratch = join(dir, `corpus-${defines.length}`);
    const artifacts = join(dir, `artifacts-${defines.length}`);
    mkdirSync(scratch);
    mkdirSync(artifacts);
    const r = spawnSync(
      exe,
      [`-max_total_time=${SECONDS_PER_MODE}`, "-seed=1", `-dict=${DICT_PATH}`, `-artifact_prefix=${artifacts}/`, "-print_final_stats=1", scratch, seeds],
      {
        encoding: "utf8",
        maxBuffer: 1 << 26,
        timeout: (SECONDS_PER_MODE + 60) * 1000,
      },
    );
    const tail = r.stderr.split("\n").slice(-25).join("\n");
    expect(r.status, `${mode}: libFuzzer reported a finding\n${tail}`).toBe(0);
    expect(r.stderr).toMatch(/Done \d+ runs/);
    expect(readdirSync(artifacts)).toEqual([]);
  });
});
