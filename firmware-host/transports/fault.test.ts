import { afterEach, describe, expect, it, vi } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { encodeFrame } from "../wire/frame.js";
import { FaultyTransport, makeFaultSpec, NO_DIRECTION_FAULTS, parseInjectSpec, type FaultSpec } from "./fault.js";
import { LoopbackPair } from "./transport.js";
import { codeOf } from "../../runtime/testing/error-code.js";

/** Wire frames with distinct payloads (sizes 0..29). */
const frames = (n: number): Uint8Array[] =>
  Array.from({ length: n }, (_, i) =>
    encodeFrame({ version: 1, type: 0x24, seq: i, payload: Uint8Array.from({ length: i % 30 }, (_, k) => (i * 13 + k) & 0xff) }),
  );

/** A host-side FaultyTransport on a loopback pair, collecting what reaches each end. */
function rig(spec: FaultSpec) {
  const pair = new LoopbackPair();
  const faulty = new FaultyTransport(pair.a, spec);
  const atDevice: number[] = [];
  const atHost: number[] = [];
  pair.b.onData((b) => atDevice.push(...b));
  faulty.onData((b) => atHost.push(...b));
  return { pair, faulty, atDevice, atHost };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const flat = (list: Uint8Array[]): number[] => list.flatMap((f) => [...f]);
afterEach(() => {
  vi.useRealTimers();
});

describe("parseInjectSpec", () => {
  it("reads the documented CLI form", () => {
    const spec = parseInjectSpec("corrupt=0.01,drop=0.01,dup=0.001,reorder=0.001,delay=5ms,reset=at:5000,seed=42");
    const both = { corrupt: 0.01, drop: 0.01, dup: 0.001, reorder: 0.001, truncate: 0, delayMs: 5 };
    expect(spec).toEqual({ seed: 42, hostToDevice: both, deviceToHost: both, resetAt: [5000], resetEvery: 0, unplug: [] });
  });

  it("takes percentages, per-direction overrides, repeated resets, unplugs and hex seeds", () => {
    const spec = parseInjectSpec(" drop=1% , d2h.drop=0.05,h2d.truncate=0.5,reset=at:20,reset=at:10,unplug=at:300:2s,seed=0xDEADBEEF,delay=7");
    expect(spec.hostToDevice).toEqual({ ...NO_DIRECTION_FAULTS, drop: 0.01, truncate: 0.5, delayMs: 7 });
    expect(spec.deviceToHost).toEqual({ ...NO_DIRECTION_FAULTS, drop: 0.05, delayMs: 7 });
    expect(spec.resetAt).toEqual([10, 20]);
    expect(spec.unplug).toEqual([{ atFrame: 300, forMs: 2000 }]);
    expect(spec.seed).toBe(0xdeadbeef);
    expect(parseInjectSpec("reset=every:100").resetEvery).toBe(100);
    expect(parseInjectSpec("corrupt=0").seed).toBe(1);
  });

  it.each([
    ["", "empty"],
    ["corrupt=0.01,", "empty item"],
    ["corrupt", "key=value"],
    ["corrupt=", "no value"],
    ["corrupt=1.5", "outside 0..1"],
    ["corrupt=lots", "not a probability"],
    ["corrupt=0.1,corrupt=0.2", "given twice"],
    ["flip=0.1", 'unknown key "flip"'],
    ["up.drop=0.1", 'unknown direction "up"'],
    ["h2d.seed=3", "cannot be given per direction"],
    ["seed=0", "seed must be"],
    ["seed=4294967296", "seed must be"],
    ["delay=5min", "not a duration"],
    ["delay=61s", "over 60 s"],
    ["reset=5000", "at:N or every:N"],
    ["reset=at:0", "frame count"],
    ["reset=every:5,reset=every:6", "every is given twice"],
    ["unplug=at:100", "at:N:DURATION"],
    ["unplug=at:100:0ms", "at least 1 ms"],
  ])("rejects %j with CLI_USAGE (%s)", (text, fragment) => {
    let error: unknown;
    try {
      parseInjectSpec(text);
    } catch (e) {
      error = e;
    }
    expect(isPicospikeError(error) && error.code).toBe("CLI_USAGE");
    expect((error as Error).message).toContain(fragment);
    expect((error as Error).message).toContain("--inject");
  });

  it("validates specs built in code", () => {
    expect(codeOf(() => makeFaultSpec({ both: { drop: -0.1 } }))).toBe("SEMANTICS_BAD_INPUT");
    expect(codeOf(() => makeFaultSpec({ seed: 0 }))).toBe("SEMANTICS_BAD_INPUT");
    expect(codeOf(() => new FaultyTransport(new LoopbackPair().a, { ...makeFaultSpec(), resetEvery: -1 }))).toBe("SEMANTICS_BAD_INPUT");
  });
});

describe("FaultyTransport", () => {
  it("passes bytes unchanged in both directions without faults, however they are sliced", async () => {
    const { pair, faulty, atDevice, atHost } = rig(makeFaultSpec());
    const wire = flat(frames(20));
    for (let i = 0; i < wire.length; i += 7) await faulty.write(Uint8Array.from(wire.slice(i, i + 7)));
    await pair.b.write(Uint8Array.from(wire));
    await settle();
    expect(atDevice).toEqual(wire);
    expect(atHost).toEqual(wire);
    expect(faulty.counters.hostToDevice.frames).toBe(20);
    expect(faulty.counters.deviceToHost.frames).toBe(20);
    expect(faulty.counters.hostToDevice.framesDamaged).toBe(0);
  });

  it("drops every byte at drop=1 and flips exactly one bit per byte at corrupt=1", async () => {
    const dropped = rig(makeFaultSpec({ hostToDevice: { drop: 1 } }));
    const wire = flat(frames(10));
    await dropped.faulty.write(Uint8Array.from(wire));
    await settle();
    expect(dropped.atDevice).toEqual([]);
    expect(dropped.faulty.counters.hostToDevice.bytesDropped).toBe(wire.length);

    const flipped = rig(makeFaultSpec({ deviceToHost: { corrupt: 1 } }));
    await flipped.pair.b.write(Uint8Array.from(wire));
    await settle();
    expect(flipped.atHost.length).toBe(wire.length);
    flipped.atHost.forEach((b, i) => {
      const diff = b ^ wire[i]!;
      expect(diff !== 0 && (diff & (diff - 1)) === 0).toBe(true);
    });
    expect(flipped.faulty.counters.deviceToHost.bitsFlipped).toBe(wire.length);
    expect(flipped.faulty.counters.deviceToHost.framesDamaged).toBe(10);
  });

  it("duplicates, reorders and truncates whole frames", async () => {
    const list = frames(6);
    const dup = rig(makeFaultSpec({ hostToDevice: { dup: 1 } }));
    for (const f of list) await dup.faulty.write(f);
    await settle();
    expect(dup.atDevice).toEqual(flat(list.flatMap((f) => [f, f])));
    expect(dup.faulty.counters.hostToDevice.framesDuplicated).toBe(6);

    // reorder=1: each held frame is released right after the next one, so pairs swap.
    const swap = rig(makeFaultSpec({ hostToDevice: { reorder: 1 } }));
    for (const f of list) await swap.faulty.write(f);
    await settle();
    expect(swap.atDevice).toEqual(flat([list[1]!, list[0]!, list[3]!, list[2]!, list[5]!, list[4]!]));
    expect(swap.faulty.counters.hostToDevice.framesReordered).toBe(3);

    const cut = rig(makeFaultSpec({ hostToDevice: { truncate: 1 } }));
    for (const f of list) await cut.faulty.write(f);
    await settle();
    const chunks: number[][] = [[]];
    for (const b of cut.atDevice)
      if (b === 0) chunks.push([]);
      else chunks[chunks.length - 1]!.push(b);
    chunks.pop();
    expect(chunks.length).toBe(6);
    chunks.forEach((c, i) => {
      const original = [...list[i]!.subarray(0, -1)];
      expect(c.length).toBeGreaterThan(0);
      expect(c.length).toBeLessThan(original.length);
      expect(c).toEqual(original.slice(0, c.length));
    });
  });

  it("releases a lone reordered frame after the hold time", async () => {
    vi.useFakeTimers();
    const { faulty, atDevice } = rig(makeFaultSpec({ hostToDevice: { reorder: 1 } }));
    const [f] = frames(1);
    await faulty.write(f!);
    await vi.advanceTimersByTimeAsync(5);
    expect(atDevice).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(atDevice).toEqual([...f!]);
  });

  it("delays frames by up to the configured time and never reorders them", async () => {
    vi.useFakeTimers();
    const { faulty, atDevice } = rig(makeFaultSpec({ hostToDevice: { delayMs: 30 }, seed: 9 }));
    const list = frames(40);
    for (const f of list) await faulty.write(f);
    await vi.advanceTimersByTimeAsync(0);
    expect(atDevice.length).toBeLessThan(flat(list).length);
    await vi.advanceTimersByTimeAsync(31);
    expect(atDevice).toEqual(flat(list));
    expect(faulty.counters.hostToDevice.framesDelayed).toBeGreaterThan(30);
  });

  it("calls the device-reset hook at the scheduled host→device frames", async () => {
    const { faulty } = rig(makeFaultSpec({ resetAt: [3, 7], resetEvery: 5 }));
    const calls: number[] = [];
    faulty.onDeviceReset((n) => calls.push(n));
    for (const f of frames(12)) await faulty.write(f);
    await faulty.write(Uint8Array.of(0)); // a lone flush is not a frame
    expect(calls).toEqual([3, 5, 7, 10]);
    expect(faulty.counters.resets).toBe(4);
  });

  it("unplugs the port: writes fail, received bytes are lost, then everything resumes", async () => {
    vi.useFakeTimers();
    const { pair, faulty, atDevice, atHost } = rig(makeFaultSpec({ unplug: [{ atFrame: 2, forMs: 100 }] }));
    const changes: boolean[] = [];
    faulty.onPortChange((present) => changes.push(present));
    const list = frames(4);
    await faulty.write(list[0]!);
    await faulty.write(list[1]!);
    expect(faulty.portPresent).toBe(false);
    const refused = await faulty.write(list[2]!).catch((e: unknown) => e);
    expect(isPicospikeError(refused) && refused.code).toBe("DEVICE_DISCONNECTED");
    await pair.b.write(list[3]!);
    await vi.advanceTimersByTimeAsync(50);
    expect(atHost).toEqual([]);
    expect(faulty.counters.deviceToHost.bytesLostUnplugged).toBe(list[3]!.length);
    await vi.advanceTimersByTimeAsync(60);
    expect(faulty.portPresent).toBe(true);
    expect(changes).toEqual([false, true]);
    await faulty.write(list[2]!);
    await pair.b.write(list[3]!);
    await vi.advanceTimersByTimeAsync(0);
    expect(atDevice).toEqual(flat([list[0]!, list[1]!, list[2]!]));
    expect(atHost).toEqual([...list[3]!]);
    expect(faulty.counters).toMatchObject({ unplugs: 1, writesRefused: 1 });
  });

  it("injects the same faults for the same seed and writes, and others for another seed", async () => {
    const run = async (seed: number) => {
      const { pair, faulty, atDevice, atHost } = rig(makeFaultSpec({ seed, both: { corrupt: 0.02, drop: 0.02, dup: 0.05, truncate: 0.05 } }));
      for (const f of frames(200)) {
        await faulty.write(f);
        await pair.b.write(f);
      }
      await settle();
      return { atDevice, atHost, counters: faulty.snapshot() };
    };
    const a = await run(77);
    expect(await run(77)).toEqual(a);
    expect((await run(78)).atDevice).not.toEqual(a.atDevice);
    expect(a.counters.hostToDevice.framesDamaged).toBeGreaterThan(0);
    // The two directions draw from different streams.
    expect(a.atDevice).not.toEqual(a.atHost);
  });

  it("releases a frame held for reordering right after the next frame once faults are switched off", async () => {
    const { faulty, atDevice } = rig(makeFaultSpec({ hostToDevice: { reorder: 1 } }));
    const list = frames(2);
    await faulty.write(list[0]!);
    faulty.faultsEnabled = false;
    await faulty.write(list[1]!);
    await settle();
    expect(atDevice).toEqual(flat([list[1]!, list[0]!]));
  });

  it("stops faulting when disabled and passes later frames intact", async () => {
    const { faulty, atDevice } = rig(makeFaultSpec({ hostToDevice: { drop: 1 }, resetAt: [1] }));
    const resets: number[] = [];
    faulty.onDeviceReset((n) => resets.push(n));
    faulty.faultsEnabled = false;
    const [f] = frames(1);
    await faulty.write(f!);
    await settle();
    expect(atDevice).toEqual([...f!]);
    expect(resets).toEqual([]);
  });
});
