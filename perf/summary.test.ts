import { describe, expect, it } from "vitest";
import { fitLine } from "./device.bench.js";
import { summarise } from "./summary.js";

describe("bench summary", () => {
  it("fits a line exactly through points on it", () => {
    const fit = fitLine([100, 200, 400], [1000 + 8 * 100, 1000 + 8 * 200, 1000 + 8 * 400]);
    expect(fit.slope).toBeCloseTo(8, 12);
    expect(fit.intercept).toBeCloseTo(1000, 9);
    expect(fit.r2).toBeCloseTo(1, 12);
  });

  it("picks the headline figures from the module rows and leaves missing ones null", () => {
    const s = summarise({
      "Interpreter throughput": [{ name: "dense 784-256-10, interpreter (generated kernels)", figures: { "synaptic events/s": 9e7 }, workload: "" }],
      "Device cost (QEMU -icount, instructions)": [
        { name: "mps2-an386: MNIST MLP 784-256-10 int8", figures: { "instr/synaptic event (fit slope)": 3.5 }, workload: "" },
        { name: "microbit: MNIST MLP 784-256-10 int8", figures: { "instr/synaptic event (fit slope)": 5.25 }, workload: "" },
        {
          name: "microbit: MNIST MLP 784-256-10 int8, ps_table reader (picospike build's path)",
          figures: { "instr/synaptic event (fit slope)": 5.5 },
          workload: "",
        },
      ],
    });
    expect(s.interpreterSynEventsPerSec).toBe(9e7);
    expect(s.m4InstrPerSynEvent).toBe(3.5);
    expect(s.m0InstrPerSynEvent).toBe(5.25);
    expect(s.m0InstrPerSynEventViaReader).toBe(5.5);
    expect(s.interpreterVsNativeC).toBeNull();
    expect(s.bytesPerSynapseInt8).toBeNull();
  });
});
