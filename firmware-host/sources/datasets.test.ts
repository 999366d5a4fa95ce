import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { seededPermutation, slice } from "../../runtime/datasets.js";
import { embeddedMnist, readIdxDataset } from "./datasets.js";

function idx(dims: number[], data: number[], type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = type;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function writeSet(dir: string, prefix: string, count: number, gz = false, labels?: number[]): void {
  const pix = Array.from({ length: count * 4 }, (_, i) => (i * 37) & 255);
  const img = idx([count, 2, 2], pix);
  const lab = idx([count], labels ?? Array.from({ length: count }, (_, i) => i % 10));
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${gz ? ".gz" : ""}`), gz ? gzipSync(img) : img);
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${gz ? ".gz" : ""}`), gz ? gzipSync(lab) : lab);
}

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isPicospikeError(e) ? e.code : `non-picospike: ${String(e)}`;
  }
  return undefined;
}

describe("embedded MNIST split", () => {
  it("is 8000/2000, deterministic, disjoint and balanced enough", () => {
    const a = embeddedMnist();
    expect(a.train.count).toBe(8000);
    expect(a.test.count).toBe(2000);
    expect(a.test.pixels.length).toBe(2000 * 784);
    // Same seed → same permutation; a different seed differs.
    expect(Array.from(seededPermutation(100, 7))).toEqual(Array.from(seededPermutation(100, 7)));
    expect(Array.from(seededPermutation(100, 7))).not.toEqual(Array.from(seededPermutation(100, 8)));
    // Every class is present in the test split.
    const perClass = new Array(10).fill(0);
    for (const l of a.test.labels) perClass[l]++;
    for (const n of perClass) expect(n).toBeGreaterThan(120);
    // Intensities are real uint8 images, not 0/1.
    expect(Math.max(...a.test.pixels.subarray(0, 784))).toBe(255);
    expect(slice(a.test, 10, 5).labels).toEqual(a.test.labels.subarray(10, 15));
    expect(code(() => slice(a.test, 1999, 2))).toBe("CLI_BAD_SOURCE");
  });
});

describe("IDX reader", () => {
  it("reads raw and gzipped files", () => {
    const dir = mkdtempSync(join(tmpdir(), "idx-"));
    writeSet(dir, "train", 3);
    writeSet(dir, "t10k", 2, true);
    const d = readIdxDataset(dir);
    expect(d.train.count).toBe(3);
    expect(d.train.height).toBe(2);
    expect(Array.from(d.train.pixels.subarray(0, 4))).toEqual([0, 37, 74, 111]);
    expect(Array.from(d.test.labels)).toEqual([0, 1]);
  });

  it("rejects malformed files with TOOLCHAIN_DATASET", () => {
    const cases: Array<(dir: string) => void> = [
      () => undefined, // missing files
      (dir) => {
        writeSet(dir, "train", 3);
        writeSet(dir, "t10k", 2);
        writeFileSync(join(dir, "t10k-images-idx3-ubyte"), idx([2, 2, 2], [1, 2, 3]));
      }, // truncated
      (dir) => {
        writeSet(dir, "train", 3);
        writeSet(dir, "t10k", 2);
        writeFileSync(join(dir, "t10k-images-idx3-ubyte"), new Uint8Array([1, 2, 8, 3]));
      }, // bad magic
      (dir) => {
        writeSet(dir, "train", 3);
        writeSet(dir, "t10k", 2);
        writeFileSync(join(dir, "t10k-images-idx3-ubyte"), idx([2, 2, 2], new Array(8).fill(0), 0x0d));
      }, // float type
      (dir) => {
        writeSet(dir, "train", 3);
        writeSet(dir, "t10k", 2, false, [1, 12]);
      }, // label > 9
      (dir) => {
        writeSet(dir, "train", 3);
        writeSet(dir, "t10k", 2);
        writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), idx([3], [1, 2, 3]));
      }, // count mismatch
      (dir) => {
        writeSet(dir, "train", 3);
        writeFileSync(join(dir, "t10k-images-idx3-ubyte.gz"), new Uint8Array([31, 139, 8, 0, 1, 2]));
        writeFileSync(join(dir, "t10k-labels-idx1-ubyte"), idx([2], [1, 2]));
      }, // bad gzip
      (dir) => {
        writeSet(dir, "train", 3);
        writeSet(dir, "t10k", 2);
        writeFileSync(join(dir, "t10k-images-idx3-ubyte"), idx([2, 2], [1, 2, 3, 4]));
      }, // wrong rank
    ];
    for (const make of cases) {
      const dir = mkdtempSync(join(tmpdir(), "idxbad-"));
      make(dir);
      expect(code(() => readIdxDataset(dir))).toBe("TOOLCHAIN_DATASET");
    }
    expect(code(() => readIdxDataset("/nonexistent/dir"))).toBe("TOOLCHAIN_DATASET");
  });
});
