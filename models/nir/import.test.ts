import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FloatSimulator } from "../float-sim.js";
import { fixtureCases, fixtureRoot, readFixtureCase } from "./fixtures.js";
import { importNir, type ImportOptions } from "./import.js";

// The shared fixtures: real exports by snnTorch, Norse, sinabs and Rockpool with each framework's
// own simulation of the same model. They live beside the repository (../shared/nir-fixtures);
// without them these tests are skipped, and say so.
const root = fixtureRoot(join(import.meta.dirname, "../.."));
if (!root) console.log("NIR fixtures not found at ../shared/nir-fixtures (or PICOSPIKE_NIR_FIXTURES): fixture tests skipped");

/** The dialect auto-detection must find, and the one flag a case needs (the file cannot say it). */
const EXPECT: Record<string, { dialect: string; flags?: Partial<ImportOptions> }> = {
  "snntorch-leaky-mlp": { dialect: "snntorch" },
  "snntorch-leaky-zero": { dialect: "snntorch", flags: { reset: "zero" } },
  "snntorch-synaptic": { dialect: "snntorch" },
  "snntorch-conv": { dialect: "snntorch" },
  "snntorch-rleaky": { dialect: "snntorch" },
  "norse-lif-mlp": { dialect: "norse" },
  "norse-cubalif-mlp": { dialect: "norse" },
  "sinabs-iaf-conv": { dialect: "sinabs" },
  "rockpool-lif": { dialect: "rockpool" },
};

describe.skipIf(!root)("NIR import of real framework exports (float)", () => {
  for (const name of root ? fixtureCases(root) : []) {
    it(`${name}: every sample equals the framework's own output`, async () => {
      const fc = readFixtureCase(root!, name);
      const exp = EXPECT[name]!;
      const { snn, report } = await importNir(fc.model, { from: "auto", ...exp.flags });
      expect(report.dialect).toBe(exp.dialect);
      expect(report.dialectSource).toBe("detected");
      expect(report.fingerprints.length).toBeGreaterThan(0);
      expect(report.dt).toBe(fc.dt);
      const sim = new FloatSimulator(snn);
      fc.samples.forEach((s, i) => {
        const r = sim.runSample(s);
        if (fc.outputKind === "membrane") r.outputMembranes!.forEach((v, j) => expect(Math.abs(v - fc.expected[i]![j]!)).toBeLessThan(1e-5));
        else expect(r.outputCounts).toEqual(fc.expected[i]);
      });
    });
  }

  it("every neuron node reports its assumptions with a source", async () => {
    const { report } = await importNir(join(root!, "snntorch-leaky-mlp", "model.nir"), { from: "auto" });
    const neurons = report.nodes.filter((n) => n.type === "LIF");
    expect(neurons.length).toBe(2);
    for (const n of neurons) {
      const what = n.assumptions.map((a) => a.what);
      expect(what).toEqual(expect.arrayContaining(["reset", "threshold test", "initial membrane", "leak"]));
      expect(n.assumptions.find((a) => a.what === "reset")!.source).toBe("dialect");
    }
  });

  it("a flag overrides the dialect and is reported as the source", async () => {
    const { report } = await importNir(join(root!, "snntorch-leaky-zero", "model.nir"), { from: "auto", reset: "zero", compare: "ge" });
    const lif = report.nodes.find((n) => n.type === "LIF")!;
    expect(lif.assumptions.find((a) => a.what === "reset")).toMatchObject({ value: "zero", source: "flag" });
    expect(lif.assumptions.find((a) => a.what === "threshold test")).toMatchObject({ value: "v ≥ θ", source: "flag" });
  });

  it("the literal NIR reading (forward Euler, NIR reset) is what --from nir gives, and differs from snnTorch's", async () => {
    const fc = readFixtureCase(root!, "snntorch-leaky-mlp");
    const { snn } = await importNir(fc.model, { from: "nir", dt: 1e-4 });
    const sim = new FloatSimulator(snn);
    const equal = fc.samples.filter((s, i) => JSON.stringify(sim.runSample(s).outputCounts) === JSON.stringify(fc.expected[i])).length;
    expect(equal).toBe(0); // euler_check.json: plain Euler matches 0/10 samples
  });
});
