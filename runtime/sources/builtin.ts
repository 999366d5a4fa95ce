/**
 * The input sources that need nothing but the runtime (spec/input-formats.md §7): `random:` spikes
 * from one seeded xorshift32 stream, labelled images encoded as the model's input (the decoding
 * behind `mnist:`), and the intensities calibration takes from any source's samples.
 */
import { fail } from "../errors.js";
import type { InputSample } from "../events.js";
import { encodeSample } from "../interpreter.js";
import type { InputDescription } from "../model.js";
import { Xorshift32 } from "../prng.js";
import { image, type ImageSet } from "../datasets.js";
import type { SourceKind } from "./kind.js";

/**
 * Converts a spike probability per step (0..1) into the uint8 intensity of rate encoding
 * (probability intensity/256, spec/ops.md §7.2): round(rate * 256), at most 255.
 */
export function intensityOfRate(rate: number): number {
  return Math.min(255, Math.round(rate * 256));
}

/** `random:RATE:SEED`: every input spikes with probability RATE per step, from one xorshift32 stream seeded with SEED. */
export const randomSource: SourceKind = {
  help: "random:RATE:SEED  every input spikes with probability RATE (0..1, in steps of 1/256, at most 255/256) per step; xorshift32 seeded with SEED (1..4294967295), one stream across samples; endless",
  endless: true,
  open(detail, inputSize, steps) {
    const m = /^([0-9]*\.?[0-9]+(?:e-?[0-9]+)?):([0-9]+)$/i.exec(detail);
    if (!m) fail("CLI_BAD_SOURCE", `random source '${detail}' is not RATE:SEED (e.g. random:0.1:42)`);
    const rate = Number(m[1]);
    const seed = Number(m[2]);
    if (!(rate >= 0 && rate <= 1)) fail("CLI_BAD_SOURCE", `random RATE must be in 0..1, got ${m[1]}`);
    if (!Number.isInteger(seed) || seed < 1 || seed > 0xffffffff) fail("CLI_BAD_SOURCE", `random SEED must be an integer in 1..4294967295, got ${m[2]}`);
    const intensities = new Uint8Array(inputSize).fill(intensityOfRate(rate));
    const description = { size: inputSize, encoding: "rate", seed } as const;
    return {
      *[Symbol.iterator]() {
        const prng = new Xorshift32(seed);
        for (;;) yield { steps: encodeSample(description, intensities, steps, prng) };
      },
    };
  },
};

/**
 * Parses the detail of a dataset source: empty (the whole split) or `START:COUNT`. `source` names
 * the whole source string in the CLI_BAD_SOURCE error.
 */
export function parseDatasetRange(detail: string, source: string): { start: number; count: number | undefined } {
  const m = /^(?:(\d+):(\d+))?$/.exec(detail);
  if (!m) fail("CLI_BAD_SOURCE", `'${source}' is not mnist or mnist:START:COUNT`);
  return m[1] === undefined ? { start: 0, count: undefined } : { start: Number(m[1]), count: Number(m[2]) };
}

/** The images of `set` as labelled samples of `steps` steps, each encoded as `description` says with a fresh encoder (as eval does). */
export function imageSamples(set: ImageSet, description: InputDescription, steps: number): Iterable<InputSample> {
  return {
    *[Symbol.iterator]() {
      for (let i = 0; i < set.count; i++) yield { steps: encodeSample(description, image(set, i), steps), label: set.labels[i]! };
    },
  };
}

/**
 * `count` samples as calibration images for convert and quantize, which normalize and check
 * saturation on intensities (one uint8 per input, as an image is encoded): each input's intensity
 * is its mean drive per step over `steps` steps, an event counting its value when graded and 255
 * when a plain spike (a spike each step is full scale), capped at 255. Fewer samples than asked are
 * used when the source holds fewer; none is CLI_BAD_SOURCE naming `source`.
 */
export function calibrationIntensities(
  samples: Iterable<InputSample>,
  size: number,
  count: number,
  steps: number,
  source: string,
): { images: Uint8Array; count: number } {
  const images: Uint8Array[] = [];
  for (const sample of samples) {
    if (images.length >= count) break;
    const drive = new Float64Array(size);
    for (const step of sample.steps) {
      for (let e = 0; e < step.indices.length; e++) drive[step.indices[e]!]! += step.values === undefined ? 255 : step.values[e]!;
    }
    images.push(Uint8Array.from(drive, (d) => Math.min(255, Math.round(d / steps))));
  }
  if (images.length === 0) fail("CLI_BAD_SOURCE", `calibration input '${source}' holds no samples`);
  const out = new Uint8Array(images.length * size);
  images.forEach((img, i) => out.set(img, i * size));
  return { images: out, count: images.length };
}
