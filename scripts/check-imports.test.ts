import { describe, expect, it } from "vitest";
import { checkFile, checkRepository, importSpecifiers } from "./check-imports.js";

describe("import-boundary check", () => {
  it("reads static, re-export, side-effect and dynamic imports", () => {
    const src =
      'import a from "./a.js";\nimport type { B } from "../b.js";\nexport { c } from "./c.js";\nimport "./d.js";\nconst e = await imp' + 'ort("../e.js");\n';
    expect(importSpecifiers(src).sort()).toEqual(["../b.js", "../e.js", "./a.js", "./c.js", "./d.js"]);
  });

  it("flags each rule's violation and lets the allowed edges through", () => {
    const rules = (file: string, src: string): string[] => checkFile(file, src).map((v) => v.rule);
    expect(rules("runtime/x.ts", 'import { y } from "../codegen/y.js";')).toEqual(["runtime/ imports nothing of ours"]);
    expect(rules("runtime/x.ts", 'import { readFileSync } from "node:fs";')).toHaveLength(1);
    expect(rules("runtime/x.ts", 'import { join } from "path";')).toHaveLength(1);
    expect(rules("runtime/x.test.ts", 'import { readFileSync } from "node:fs";')).toEqual([]);
    expect(rules("models/x.ts", 'import { y } from "../firmware-host/wire/y.js";')).toHaveLength(1);
    expect(rules("firmware-host/jobs/x.ts", 'import { y } from "../../codegen/y.js";')).toHaveLength(1);
    expect(rules("cli/x.ts", 'import { y } from "../test/y.js";')).toHaveLength(1);
    expect(rules("scripts/x.ts", 'import { y } from "../bench/y.js";')).toHaveLength(1);
    expect(rules("firmware-host/jobs/x.ts", 'import { y } from "../../cli/y.js";')).toHaveLength(1);
    expect(rules("cli/x.ts", 'import { a } from "../models/a.js";\nimport { b } from "../firmware-host/b.js";\nimport { c } from "../runtime/c.js";')).toEqual(
      [],
    );
    expect(rules("firmware-host/jobs/x.ts", 'import { y } from "../../runtime/y.js";\nimport { z } from "../bridge/z.js";')).toEqual([]);
    // (split so this file's own text holds no dynamic import for the repository scan to find)
    expect(rules("cli/bench.ts", "const m = await imp" + 'ort("../bench/summary.js");')).toHaveLength(1);
    expect(rules("cli/bench.ts", "const m = await imp" + 'ort("../perf/summary.js");')).toEqual([]);
    expect(rules("bench/run.ts", 'import { h } from "../perf/harness.js";')).toEqual([]);
    expect(
      rules("perf/x.bench.ts", 'import { a } from "../models/a.js";\nimport { b } from "../firmware-host/b.js";\nimport { c } from "../codegen/c.js";'),
    ).toEqual([]);
    expect(rules("perf/x.bench.ts", 'import { y } from "../cli/y.js";')).toHaveLength(1);
    expect(rules("perf/x.bench.ts", 'import { y } from "../bench/y.js";')).toHaveLength(1);
    expect(rules("models/x.ts", 'import { y } from "../perf/y.js";')).toHaveLength(1);
    expect(rules("scripts/x.ts", 'import { y } from "../perf/y.js";')).toHaveLength(1);
  });

  it("finds no violation in this repository", () => {
    expect(checkRepository(`${import.meta.dirname}/..`)).toEqual([]);
  });
});
