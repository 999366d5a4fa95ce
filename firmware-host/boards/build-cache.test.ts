/**
 * The firmware build cache: device builds leave nothing in $TMPDIR, the same inputs build once,
 * concurrent builds of one key agree on one complete entry, and a failed build caches nothing.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { cachedEntry, cacheRoot } from "./build-cache.js";
import { buildDevice } from "./launch.js";
import { missingTools } from "./toolchain.js";

const outer = mkdtempSync(join(tmpdir(), "picospike-cache-test-"));
afterAll(() => rmSync(outer, { recursive: true, force: true }));

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(outer, "root-"));
});

describe("cachedEntry", () => {
  it("fills a key once and reuses it", async () => {
    let fills = 0;
    const fill = async (dir: string): Promise<void> => {
      fills++;
      writeFileSync(join(dir, "out"), "x");
    };
    const a = await cachedEntry("k", "abc", fill, root);
    const b = await cachedEntry("k", "abc", fill, root);
    expect([a.hit, b.hit, fills]).toEqual([false, true, 1]);
    expect(b.dir).toBe(a.dir);
    expect(existsSync(join(a.dir, "out"))).toBe(true);
    expect(readdirSync(join(root, "k"))).toEqual(["abc"]);
  });

  it("concurrent fills of one key end with one complete entry and no temporary folders", async () => {
    const fill = async (dir: string): Promise<void> => {
      await new Promise((r) => setTimeout(r, 20));
      writeFileSync(join(dir, "out"), dir);
    };
    const results = await Promise.all([1, 2, 3, 4].map(() => cachedEntry("k", "same", fill, root)));
    expect(new Set(results.map((r) => r.dir)).size).toBe(1);
    expect(readdirSync(join(root, "k"))).toEqual(["same"]);
    expect(existsSync(join(results[0]!.dir, "out"))).toBe(true);
  });

  it("a failed fill caches nothing and leaves no temporary folder", async () => {
    await expect(
      cachedEntry(
        "k",
        "bad",
        async () => {
          throw new Error("compiler exploded");
        },
        root,
      ),
    ).rejects.toThrow("compiler exploded");
    expect(readdirSync(join(root, "k"))).toEqual([]);
  });

  it("lives under $PICOSPIKE_CACHE_DIR, else $XDG_CACHE_HOME/picospike, else ~/.cache/picospike", () => {
    expect(cacheRoot({ PICOSPIKE_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x" })).toBe("/c");
    expect(cacheRoot({ XDG_CACHE_HOME: "/x" })).toBe("/x/picospike");
    expect(cacheRoot({})).toMatch(/\.cache\/picospike$/);
  });
});

describe("buildDevice without --out", () => {
  const missing = missingTools(["gcc", "size"]);
  if (missing.length > 0) console.log(`skip: the device build cache test needs ${missing.join(", ")}`);
  const saved = { TMPDIR: process.env["TMPDIR"], PICOSPIKE_CACHE_DIR: process.env["PICOSPIKE_CACHE_DIR"] };
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(outer, "tmp-"));
    process.env["TMPDIR"] = tmp;
    process.env["PICOSPIKE_CACHE_DIR"] = root;
  });
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it.skipIf(missing.length > 0)(
    "leaves nothing in $TMPDIR and builds the same firmware once, even when asked twice at once",
    async () => {
      const model = Uint8Array.of(1, 2, 3);
      const [a, b] = await Promise.all([buildDevice("native", { model }), buildDevice("native", { model })]);
      const c = await buildDevice("native", { model });
      expect(readdirSync(tmp)).toEqual([]);
      expect(b.image).toBe(a.image);
      expect(c.image).toBe(a.image);
      expect(c.firmwareHash).toBe(a.firmwareHash);
      expect(c.size).toEqual(a.size);
      expect(existsSync(a.image)).toBe(true);
      expect(a.image.startsWith(join(root, "firmware"))).toBe(true);
      expect(readdirSync(join(root, "firmware"))).toHaveLength(1);
      // the generic firmware is another entry
      const generic = await buildDevice("native");
      expect(generic.image).not.toBe(a.image);
      expect(readdirSync(join(root, "firmware"))).toHaveLength(2);
    },
    120_000,
  );
});
