/**
 * The acceptance suite: what ships, run as a user runs it. The tarball of this checkout is installed
 * into a temporary prefix and every verb of the README's command reference runs from an empty
 * folder outside the repository, on its success path and on the natural mistakes. Add a verb by
 * writing its VerbCase (verbs/) and listing it in VERB_CASES (verb-cases.ts); the README test below fails until
 * the README's command reference and this list agree.
 *
 * Cases that need a tool (gcc, clang) that is not on PATH skip with a printed reason, so the suite
 * also runs on a machine with only Node and gcc. The cases on the cross-compiled boards (a VerbCase's
 * defineCross) are in acceptance-boards.test.ts, in the `boards` tier.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { Acceptance } from "./context.js";
import { REPO } from "./installed.js";
import { VERB_CASES } from "./verb-cases.js";

/** The verbs of README.md's command-reference table (first word of each row's first cell). */
export function readmeVerbs(readme: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Command reference"));
  if (section === undefined) throw new Error("README.md has no '## Command reference' section");
  const verbs: string[] = [];
  for (const line of section.split("\n")) {
    const m = /^\|\s*`([a-z][a-z-]*)[^|]*\|/.exec(line);
    if (m !== null) {
      for (const cell of line.split("|")[1]!.split("/")) {
        const v = /`([a-z][a-z-]*)/.exec(cell)?.[1];
        if (v !== undefined && !verbs.includes(v)) verbs.push(v);
      }
    }
  }
  return verbs;
}

describe("the README's command reference", () => {
  it("names exactly the verbs the acceptance suite runs", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    expect([...VERB_CASES.map((v) => v.verb)].sort()).toEqual(readmeVerbs(readme).sort());
  });
});

describe("acceptance: the installed package", () => {
  const ctx = new Acceptance();
  beforeAll(() => ctx.setup(), 600_000);

  describe("the package", () => {
    it("carries dist/, bin/, the firmware sources and the run-time assets, and no tests or fuzz corpora", () => {
      const files = ctx.pkg.files;
      expect(files).toContain("dist/picospike.js");
      expect(files).toContain("bin/picospike.js");
      expect(files).toContain("firmware/src/ps_net.c");
      expect(files).toContain("runtime/fixed.ts");
      expect(files.filter((f) => /(^|\/)(test|fuzz)\/|\.test\.ts$|\.map$/.test(f))).toEqual([]);
    });

    it("starts: --help lists every verb", () => {
      const help = ctx.user.ok(["--help"]).stdout;
      for (const v of VERB_CASES) expect(help).toMatch(new RegExp(`^\\s+${v.verb}\\b`, "m"));
    });
  });

  for (const verb of VERB_CASES) verb.define(ctx);
});
