/**
 * ps_net built with a subset of the learning rules (PS_NET_LEARNING, firmware/include/ps_net.h):
 * firmware/test/test_learning_switch.c, built with gcc for several masks, must initialise exactly
 * the plastic layers whose rule was built and refuse the others with DEVICE_LEARNING_NOT_BUILT.
 * Without gcc the suite is skipped with a printed reason.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findTool } from "../firmware-host/boards/toolchain.js";
import { ERROR_CODES } from "../runtime/errors.js";
import { LEARN_BITS } from "../codegen/kernel-select.js";
import { plasticRamBytes } from "../firmware-host/bridge/checkpoint.js";
import { DEFAULT_NEURON, type EventTable, type Plasticity } from "../runtime/model.js";
import { RSTDP } from "../perf/device.bench.js";

const ROOT = resolve(import.meta.dirname, "..");
const FW = join(ROOT, "firmware");
const GCC = findTool("gcc") !== undefined;
if (!GCC) console.log("skip: test/c-learning-switch.test.ts needs gcc (Debian package gcc), which is not installed");
const dir = mkdtempSync(join(tmpdir(), "ps-learn-switch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * ps_net_init's status for: a layer that does not learn, rstdp step timing, rstdp event timing, triplet, rstdp epoch timing, stdp epoch timing
 * (with `bytes`: ps_net_plastic_bytes of a 3 -> 5 layer with each of those).
 */
function statuses(mask: number, bytes = false): number[] {
  const exe = join(dir, `switch${mask}`);
  const sources = [join(FW, "test", "test_learning_switch.c"), join(FW, "src", "ps_net.c"), join(FW, "src", "ps_kernels_generated.c")];
  const flags = [
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-pedantic",
    "-O1",
    `-I${join(FW, "include")}`,
    `-I${join(FW, "kernels")}`,
    `-DPS_NET_LEARNING=${mask}u`,
  ];
  const built = spawnSync("gcc", [...flags, ...sources, "-o", exe], { encoding: "utf8" });
  expect(built.status, built.stderr).toBe(0);
  const ran = spawnSync(exe, bytes ? ["bytes"] : [], { encoding: "utf8" });
  expect(ran.status, ran.stderr).toBe(0);
  return ran.stdout.trim().split(" ").map(Number);
}

describe.skipIf(!GCC)("ps_net with a subset of the learning rules built in (PS_NET_LEARNING)", () => {
  const refused = ERROR_CODES.DEVICE_LEARNING_NOT_BUILT.num;
  it.each([
    [0, [0, refused, refused, refused, refused, refused]],
    [LEARN_BITS.step, [0, 0, refused, refused, refused, refused]],
    [LEARN_BITS.event, [0, refused, 0, refused, refused, refused]],
    [LEARN_BITS.event | LEARN_BITS.triplet, [0, refused, 0, 0, refused, refused]],
    [LEARN_BITS.epoch, [0, refused, refused, refused, 0, 0]],
    [LEARN_BITS.step | LEARN_BITS.epoch, [0, 0, refused, refused, 0, 0]],
    [LEARN_BITS.step | LEARN_BITS.event | LEARN_BITS.triplet, [0, 0, 0, 0, refused, refused]],
    [LEARN_BITS.step | LEARN_BITS.event | LEARN_BITS.triplet | LEARN_BITS.epoch, [0, 0, 0, 0, 0, 0]],
  ])("mask %i: builds warning-free and initialises only the rules it has", (mask, want) => {
    expect(statuses(mask)).toEqual(want);
  });
});

describe.skipIf(!GCC)("the host's estimate of the device's learning RAM", () => {
  it("plasticRamBytes equals ps_net_plastic_bytes for every rule and timing (epoch: markers, reward sum, int8 copy, row bounds)", () => {
    const layer = (plasticity: Plasticity | undefined): EventTable => ({
      input: { size: 3, encoding: "rate", seed: 1 },
      layers: [
        {
          name: "l0",
          size: 5,
          input: {
            kind: "dense",
            inputs: 3,
            outputs: 5,
            weights: { bits: 8, data: Int8Array.from({ length: 15 }, (_, i) => i + 1), count: 15, shift: Uint8Array.of(0) },
          },
          neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 4, threshold: 10 },
          ...(plasticity === undefined ? {} : { plasticity }),
        },
      ],
      readout: { kind: "count" },
      provenance: { source: "test", tool: "test/c-learning-switch.test.ts", settings: {}, layerScales: [1] },
    });
    const rule = RSTDP;
    const host = [
      undefined,
      rule,
      { ...rule, timing: "event" },
      { ...rule, rule: "triplet", timing: "event", tripletShift: 5, a3Plus: 100 },
      { ...rule, timing: "epoch", epochShift: 1 },
      { ...rule, rule: "stdp", timing: "epoch", epochShift: 1 },
    ].map((p) => plasticRamBytes(layer(p as Plasticity | undefined)));
    expect(statuses(15, true)).toEqual(host);
  });
});
