/**
 * CI smoke run of the protocol libFuzzer harnesses (firmware/fuzz/fuzz_cobs.c, fuzz_proto.c, and
 * fuzz_device.c for the dispatcher ps_device.c): builds each with clang
 * -fsanitize=fuzzer,address,undefined and fuzzes each for 15 s from the checked-in seeds, side by
 * side; any crash, sanitizer report or harness property failure fails the
 * test. Also checks that the checked-in corpora are exactly what scripts/make-proto-corpus.ts
 * generates. Skips the fuzzing with a printed reason when clang or its libFuzzer runtime (Debian:
 * libclang-rt-14-dev) is missing. The long run is scripts/fuzz-long.sh (docs/RELIABILITY.md).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findTool } from "../firmware-host/boards/toolchain.js";
import { protocolCorpora } from "../scripts/make-proto-corpus.js";

const ROOT = resolve(import.meta.dirname, "..");
const FW = join(ROOT, "firmware");
const CORPUS = join(FW, "fuzz", "corpus");
const FLAGS = [
  "-std=c99",
  "-Wall",
  "-Wextra",
  "-Werror",
  "-pedantic",
  `-I${join(FW, "include")}`,
  `-I${join(FW, "kernels")}`,
  "-g",
  "-O1",
  "-fsanitize=fuzzer,address,undefined",
  "-fno-sanitize-recover=all",
];
/** Each harness: its file, the firmware sources it links, extra clang flags and the fuzzer's -max_len. */
const HARNESSES: Record<string, { source: string; library: readonly string[]; cflags: readonly string[]; maxLen: number }> = {
  cobs: { source: "fuzz_cobs.c", library: ["ps_cobs.c"], cflags: [], maxLen: 1100 },
  proto: { source: "fuzz_proto.c", library: ["ps_crc16.c", "ps_cobs.c", "ps_frame.c", "ps_wire.c", "ps_proto.c"], cflags: [], maxLen: 1100 },
  // the whole dispatcher over a fake port; a 64 KiB model pool keeps ps_device_reset_all cheap, and
  // the generated kernels' doubled parentheses are a clang-only warning
  device: {
    source: "fuzz_device.c",
    library: [
      "ps_crc16.c",
      "ps_cobs.c",
      "ps_frame.c",
      "ps_wire.c",
      "ps_proto.c",
      "ps_device.c",
      "ps_device_step.c",
      "ps_device_model.c",
      "ps_device_realtime.c",
      "ps_device_readback.c",
      "ps_net.c",
      "ps_kernels_generated.c",
      "ps_table.c",
      "ps_sha256.c",
    ],
    cflags: ["-DPS_DEVICE_POOL_BYTES=65536", "-Wno-parentheses-equality"],
    maxLen: 4096,
  },
};
const SECONDS = 15;

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
if (MISSING) console.log(`skip: test/fuzz-proto-smoke.test.ts: ${MISSING}`);

describe("protocol fuzz corpora", () => {
  it("are exactly what scripts/make-proto-corpus.ts generates", () => {
    for (const [name, files] of protocolCorpora()) {
      const dir = join(CORPUS, name);
      expect(readdirSync(dir).sort(), name).toEqual([...files.keys()].sort());
      for (const [file, bytes] of files) expect(new Uint8Array(readFileSync(join(dir, file))), `${name}/${file}`).toEqual(bytes);
    }
  });
});

/** Runs a harness for `seconds` with the checked-in seeds; resolves with its exit status and output. */
function fuzz(
  bin: string,
  work: string,
  seeds: string,
  artifacts: string,
  seconds: number,
  maxLen: number,
): Promise<{ status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(bin, [work, seeds, `-max_total_time=${seconds}`, `-max_len=${maxLen}`, "-print_final_stats=1", `-artifact_prefix=${artifacts}/`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (b: Buffer) => void (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => void (output += b.toString()));
    child.on("close", (status) => done({ status, output }));
  });
}

describe.skipIf(MISSING !== undefined)("libFuzzer smoke run of the protocol decoders", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "ps-fuzz-proto-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`builds every harness and fuzzes each for ${SECONDS} s without a finding`, async () => {
    // Build every harness first: a synchronous build blocks the event loop, so a fuzzer already
    // running would stall on its full output pipe (the dispatcher harness takes ~15 s to build).
    const built = Object.entries(HARNESSES).map(([name, h]) => {
      const bin = join(dir, `fuzz_${name}`);
      const sources = [join(FW, "fuzz", h.source), ...h.library.map((f) => join(FW, "src", f))];
      const build = spawnSync("clang", [...FLAGS, ...h.cflags, ...sources, "-o", bin], { encoding: "utf8" });
      expect(build.status, `${name}: ${build.stderr}`).toBe(0);
      return { name, h, bin };
    });
    const runs = built.map(({ name, h, bin }) => {
      const work = join(dir, `work-${name}`);
      const artifacts = join(dir, `artifacts-${name}`);
      mkdirSync(work);
      mkdirSync(artifacts);
      return fuzz(bin, work, join(CORPUS, name), artifacts, SECONDS, h.maxLen).then((r) => ({ name, artifacts, ...r }));
    });
    for (const r of await Promise.all(runs)) {
      const executed = Number(/stat::number_of_executed_units: *(\d+)/.exec(r.output)?.[1] ?? 0);
      console.log(`${r.name}: ${executed} executions in ${SECONDS} s, exit ${r.status}`);
      expect(readdirSync(r.artifacts), `${r.name} finding:\n${r.output.slice(-4000)}`).toEqual([]);
      expect(r.status, r.output.slice(-4000)).toBe(0);
      // More executions than seeds: the fuzzer got past loading the corpus and mutated.
      expect(executed).toBeGreaterThan(readdirSync(join(CORPUS, r.name)).length);
    }
  }, 120_000);
});
