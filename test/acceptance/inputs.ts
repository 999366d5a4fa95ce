/**
 * Small input recordings of every file kind the input sources read, written by the tests' own
 * writers (no binary fixtures), for a model with a 28×28 input.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeAedat2, writeEvt2, writeEvt3, writeNmnist, type TestEvent } from "../../runtime/eventfiles/testing/writers.js";
import { encodeSpikeFile } from "../../runtime/spikefile.js";

/** A short moving bar of ON/OFF events inside 28×28, over 8 ms. */
export function barEvents(): TestEvent[] {
  const events: TestEvent[] = [];
  for (let t = 0; t < 8000; t += 250) {
    const x = 4 + Math.floor(t / 400);
    for (let y = 6; y < 22; y += 2) events.push({ x, y, p: (y / 2) % 2, t });
  }
  return events;
}

/** Writes one file of each event-camera kind and a spike file into `dir`; returns source strings by kind. */
export function writeInputs(dir: string): Record<"nmnist" | "aedat" | "evt2" | "evt3" | "spikes" | "ndjsonFile", string> {
  const events = barEvents();
  const files = {
    nmnist: ["bar.bin", writeNmnist(events)],
    aedat: ["bar.aedat", writeAedat2(events)],
    evt2: ["bar.evt2.raw", writeEvt2(events)],
    evt3: ["bar.evt3.raw", writeEvt3(events)],
  } as const;
  for (const [name, bytes] of Object.values(files)) writeFileSync(join(dir, name), bytes);
  const steps = 8;
  const spikeSample = (label: number, offset: number) => {
    const step: number[] = [];
    const index: number[] = [];
    for (let t = 0; t < steps; t++)
      for (let i = offset; i < 784; i += 37) {
        step.push(t);
        index.push(i);
      }
    return { label, steps, step: Uint32Array.from(step), index: Uint32Array.from(index) };
  };
  writeFileSync(join(dir, "in.spikes"), encodeSpikeFile({ inputSize: 784, samples: [spikeSample(1, 0), spikeSample(7, 5)] }));
  writeFileSync(join(dir, "in.ndjson"), ndjsonLines(steps));
  return {
    nmnist: `nmnist:${files.nmnist[0]},dt=1000`,
    aedat: `aedat:${files.aedat[0]},dt=1000,width=28,height=28`,
    evt2: `evt2:${files.evt2[0]},dt=1000`,
    evt3: `evt3:${files.evt3[0]},dt=1000`,
    spikes: "spikes:in.spikes",
    ndjsonFile: "ndjson:in.ndjson",
  };
}

/** NDJSON input lines: `steps` steps of a few events each. */
export function ndjsonLines(steps: number): string {
  return Array.from({ length: steps }, (_, t) => JSON.stringify({ t, events: [t, 100 + t, 400 + t] })).join("\n") + "\n";
}
