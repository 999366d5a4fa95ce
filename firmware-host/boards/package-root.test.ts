import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findPackageRoot, packagePath, packageRoot } from "./package-root.js";

describe("packageRoot", () => {
  it("is this checkout from the sources, and holds the firmware and runtime files codegen reads", () => {
    expect(packagePath("firmware/include/ps_fixed.h")).toBe(join(packageRoot(), "firmware/include/ps_fixed.h"));
    expect(findPackageRoot(join(import.meta.dirname))).toBe(packageRoot());
  });

  it("is found from any depth below it (the bundle's dist/ and dist/chunks/, an installed node_modules/picospike), never from another package", () => {
    const root = mkdtempSync(join(tmpdir(), "ps-root-"));
    try {
      const installed = join(root, "app", "node_modules", "picospike");
      mkdirSync(join(installed, "dist", "chunks"), { recursive: true });
      writeFileSync(join(root, "app", "package.json"), JSON.stringify({ name: "someones-app" }));
      writeFileSync(join(installed, "package.json"), JSON.stringify({ name: "picospike" }));
      expect(findPackageRoot(join(installed, "dist", "chunks"))).toBe(installed);
      expect(findPackageRoot(join(installed, "dist"))).toBe(installed);
      expect(findPackageRoot(join(root, "app"))).toBeUndefined();
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
