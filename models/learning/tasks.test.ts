import { describe, expect, it } from "vitest";
import { isPicospikeError } from "../../runtime/errors.js";
import { TASKS, findTask } from "./tasks.js";

describe("learning task registry", () => {
  it("every cheap task passes its published-behaviour check and draws its plots", () => {
    for (const t of TASKS.filter((x) => !x.needsDigits && !(x.rule === "tempotron" && x.task === "capacity"))) {
      const r = t.run({ seed: 1, quick: true });
      expect(r.passed, `${t.rule}/${t.task}`).toBe(true);
      expect(Number.isFinite(r.figure.value)).toBe(true);
      for (const svg of Object.values(r.plots)) {
        expect(svg.startsWith("<svg")).toBe(true);
        expect(svg).toContain("</svg>");
        expect(svg).not.toContain("NaN");
      }
    }
  });

  it("names unknown rules and tasks with CLI_USAGE", () => {
    expect(findTask("spikeprop", undefined).task).toBe("xor");
    for (const [rule, task] of [
      ["nope", undefined],
      ["tempotron", undefined],
      ["tempotron", "nope"],
    ] as const) {
      try {
        findTask(rule, task);
        expect.unreachable();
      } catch (e) {
        expect(isPicospikeError(e, "CLI_USAGE")).toBe(true);
      }
    }
  });
});
