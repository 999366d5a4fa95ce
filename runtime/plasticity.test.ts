import { describe, expect, it } from "vitest";
import { decayBy, decayFactors, traceDecay } from "./fixed.js";
import { decodeTable, encodeTable } from "./format.js";
import { Interpreter } from "./interpreter.js";
import { DEFAULT_NEURON, type EventTable, type Plasticity } from "./model.js";
import { ReferenceInterpreter } from "./testing/reference-interpreter.js";
import { randomTable, TestRng } from "./testing/random-table.js";

const RULE: Plasticity = {
  rule: "rstdp",
  preTraceShift: 1,
  postTraceShift: 1,
  traceIncrement: 1000,
  aPlus: 16384,
  aMinus: 8192,
  eligibilityShift: 2,
  learningShift: 4,
  baselineShift: 0,
  wMin: -10000,
  wMax: 10000,
};

/** inputs → one IF neuron (reset to 0, threshold `threshold`), dense int16 weights, the rule above with `over`. */
function tinyTable(weights: number[], threshold: number, over: Partial<Plasticity> = {}): EventTable {
  return {
    input: { size: weights.length, encoding: "spikes", seed: 1 },
    layers: [
      {
        name: "post",
        size: 1,
        input: {
          kind: "dense",
          inputs: weights.length,
          outputs: 1,
          weights: { bits: 16, data: Int16Array.from(weights), count: weights.length, shift: Uint8Array.of(0) },
        },
        neuron: { ...DEFAULT_NEURON, threshold, reset: "value", resetValue: 0 },
        plasticity: { ...RULE, ...over },
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "test", tool: "test", settings: {}, layerScales: [1] },
  };
}

const spike = (...i: number[]) => ({ indices: Uint32Array.from(i) });
const none = spike();

describe("trace decay (spec/ops.md §11.1)", () => {
  it("reaches exactly zero from both signs, symmetric", () => {
    expect([7, 5, 3, 2, 1].map((x) => traceDecay(x, 2))).toEqual([5, 3, 2, 1, 0]);
    expect([-7, -5, -3].map((x) => traceDecay(x, 2))).toEqual([-5, -3, -2]);
    expect(traceDecay(32767, 2)).toBe(24575);
    expect(traceDecay(1, 1)).toBe(0);
    expect(traceDecay(3, 1)).toBe(1);
    expect(traceDecay(-32768, 15)).toBe(-32767);
  });
});

describe("R-STDP by hand (spec/ops.md §11.2, §11.3)", () => {
  for (const [name, Sim] of [
    ["generated", Interpreter],
    ["reference", ReferenceInterpreter],
  ] as const) {
    it(`${name}: traces, eligibility and the rewarded weight match hand-derived values`, () => {
      const sim = new Sim(tinyTable([10], 1));
      const st = sim.plasticity(0)!;
      sim.step(spike(0)); // pre and post fire together: x = y = 1000; e = q15Mul(1000, 16384) = 500
      expect([st.preTrace[0], st.postTrace[0], st.eligibility[0]]).toEqual([1000, 1000, 500]);
      sim.step(none); // decay (k=1): 1000 - ceil(500) = 500; e (k=2): 500 - ceil(125) = 375
      expect([st.preTrace[0], st.postTrace[0], st.eligibility[0]]).toEqual([500, 500, 375]);
      // decay: x = y = 250, e = 375 - ceil(93.75) = 281; depression q15Mul(250, 8192) = 62 -> 219;
      // x = y = 1250; potentiation q15Mul(1250, 16384) = 625 -> e = 844
      sim.step(spike(0));
      expect([st.preTrace[0], st.postTrace[0], st.eligibility[0]]).toEqual([1250, 1250, 844]);
      expect(sim.weights(0)[0]).toBe(10); // no reward yet: rstdp weights do not move
      sim.reward(100); // aimed at step 3: w = 10 + floor(100 * 844 / 2^4) = 10 + 5275
      sim.step(none);
      expect(sim.weights(0)[0]).toBe(5285);
      expect(st.eligibility[0]).toBe(633); // not consumed: 844 - ceil(211)
    });

    it(`${name}: the baseline is subtracted, then moves toward the reward`, () => {
      const sim = new Sim(tinyTable([10], 1, { baselineShift: 1 }));
      sim.step(spike(0));
      sim.step(none);
      sim.step(spike(0));
      sim.reward(100, 3); // m = 100 - 0; w = 5285; b = 0 + floor(100 / 2) = 50
      sim.reward(-20, 4); // m = -20 - 50 = -70; e = 633 at the start of step 4: floor(-44310 / 16) = -2770
      sim.step(none);
      expect(sim.plasticity(0)!.baseline[0]).toBe(50);
      sim.step(none);
      expect(sim.weights(0)[0]).toBe(2515);
      expect(sim.plasticity(0)!.baseline[0]).toBe(15); // 50 + floor(-70 / 2)
    });

    it(`${name}: plain stdp changes the weight at each pairing`, () => {
      const sim = new Sim(tinyTable([10], 1, { rule: "stdp" }));
      sim.step(spike(0)); // + floor(500 / 16) = 31
      expect(sim.weights(0)[0]).toBe(41);
      sim.step(none);
      sim.step(spike(0)); // - floor(62 / 16) = 3, then + floor(625 / 16) = 39
      expect(sim.weights(0)[0]).toBe(77);
      sim.reward(1000); // rewards do nothing to stdp layers
      sim.step(none);
      expect(sim.weights(0)[0]).toBe(77);
    });
  }

  it("rejects rewards outside int16, aimed at the past, and keeps learned weights over reset", () => {
    const sim = new Interpreter(tinyTable([10], 1));
    expect(() => sim.reward(40000)).toThrow(expect.objectContaining({ code: "SEMANTICS_BAD_INPUT" }));
    sim.step(spike(0));
    expect(() => sim.reward(1, 0)).toThrow(expect.objectContaining({ code: "SEMANTICS_BAD_INPUT" }));
    sim.reward(100);
    sim.step(none);
    const learned = sim.weights(0)[0];
    expect(learned).not.toBe(10);
    sim.reset();
    expect(sim.weights(0)[0]).toBe(learned);
    expect(sim.plasticity(0)!.eligibility[0]).toBe(0);
    sim.resetWeights();
    expect(sim.weights(0)[0]).toBe(10);
  });
});

/**
 * The classic single-synapse experiment (Izhikevich 2007): synapse 0 is weak (cannot fire the
 * neuron), input 1 is a strong driver. A pairing is pre 0 then, `gap` steps later, the driver (so
 * the neuron fires after pre 0: causal), or the other way round (anti-causal). A reward delayed
 * `delay` steps after the pairing strengthens the synapse only when the pairing was causal.
 */
function pairingExperiment(causal: boolean, rewarded: boolean, delay: number): number {
  const sim = new Interpreter(
    tinyTable([1, 100], 50, { preTraceShift: 3, postTraceShift: 3, eligibilityShift: 5, aPlus: 8192, aMinus: 8192, learningShift: 8, wMin: 0, wMax: 1000 }),
  );
  for (let trial = 0; trial < 20; trial++) {
    const [first, second] = causal ? [0, 1] : [1, 0];
    sim.step(spike(first));
    sim.step(none);
    sim.step(spike(second));
    if (rewarded) sim.reward(1000, sim.t + delay);
    for (let t = 0; t < 150; t++) sim.step(none);
  }
  return sim.weights(0)[0]!;
}

describe("single-synapse R-STDP experiment (Izhikevich 2007)", () => {
  it("a reward delayed after pre-before-post pairings strengthens the synapse", () => {
    expect(pairingExperiment(true, true, 20)).toBeGreaterThan(50);
  });
  it("without reward the synapse does not change", () => {
    expect(pairingExperiment(true, false, 20)).toBe(1);
  });
  it("with anti-causal (post-before-pre) pairings the reward does not strengthen it", () => {
    expect(pairingExperiment(false, true, 20)).toBeLessThanOrEqual(1);
  });
  it("a reward that comes after the eligibility has decayed changes nothing", () => {
    expect(pairingExperiment(true, true, 140)).toBe(1);
  });
});

describe("generated kernels vs the hand-written oracle with learning", () => {
  it("agree on weights, traces and eligibility after every step of random plastic models with random rewards", () => {
    let plastic = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const table = randomTable(seed, { layers: 1 + (seed % 3), plasticityProbability: 0.8, maxNeurons: 24 });
      const rng = new TestRng(seed * 31 + 7);
      const a = new Interpreter(table);
      const b = new ReferenceInterpreter(table);
      const layers = table.layers.map((_, l) => l).filter((l) => a.isPlastic(l));
      plastic += layers.length;
      for (let t = 0; t < 60; t++) {
        const idx: number[] = [];
        for (let i = 0; i < table.input.size; i++) if (rng.chance(0.3)) idx.push(i);
        if (rng.chance(0.2)) {
          const r = rng.int(-32768, 32767);
          const at = t + rng.int(0, 3);
          a.reward(r, at);
          b.reward(r, at);
        }
        a.step(spike(...idx));
        b.step(spike(...idx));
        for (const l of layers) {
          expect(a.weights(l), `seed ${seed} step ${t} layer ${l}`).toEqual(b.weights(l));
          expect(a.plasticity(l)!.eligibility).toEqual(b.plasticity(l)!.eligibility);
          expect(a.plasticity(l)!.postTrace).toEqual(b.plasticity(l)!.postTrace);
        }
      }
    }
    expect(plastic).toBeGreaterThan(20);
  });
});

describe("saved weights (spec/ops.md §11.4)", () => {
  it("a table with the learned weights continues learning bit-identically to an uninterrupted run", () => {
    // the first seed whose model has a plastic dense/sparse layer
    let seed = 11;
    while (!randomTable(seed, { layers: 2, plasticityProbability: 1, maxNeurons: 20 }).layers.some((l) => l.plasticity)) seed++;
    const table = randomTable(seed, { layers: 2, plasticityProbability: 1, maxNeurons: 20 });
    const rng = new TestRng(99);
    const plan = Array.from({ length: 120 }, () => ({
      idx: Array.from({ length: table.input.size }, (_, i) => i).filter(() => rng.chance(0.3)),
      reward: rng.chance(0.3) ? rng.int(-2000, 2000) : 0,
    }));
    const run = (sim: Interpreter, from: number, to: number): void => {
      for (let t = from; t < to; t++) {
        if (plan[t]!.reward !== 0) sim.reward(plan[t]!.reward);
        sim.step(spike(...plan[t]!.idx));
      }
    };
    const whole = new Interpreter(table);
    run(whole, 0, 60);
    const saved = decodeTable(encodeTable(whole.learnedTable()));
    whole.reset();
    run(whole, 60, 120);
    const resumed = new Interpreter(saved);
    run(resumed, 60, 120);
    let compared = 0;
    table.layers.forEach((_, l) => {
      if (!whole.isPlastic(l)) return;
      expect(resumed.weights(l)).toEqual(whole.weights(l));
      compared++;
    });
    expect(compared).toBeGreaterThan(0);
  });
});

describe("event timing (spec/ops.md §11.5)", () => {
  it("decays by the binary schedule: identity at 0 steps, symmetric, 0 from 2^16 steps on", () => {
    const f = decayFactors(1);
    expect([...f.slice(0, 5)]).toEqual([16384, 8192, 2048, 128, 0]);
    expect(decayBy(f, 1000, 0)).toBe(1000);
    expect(decayBy(f, 1000, 1)).toBe(500);
    expect(decayBy(f, 1000, 3)).toBe(125); // ×1/2 then ×1/4
    expect(decayBy(f, -1000, 3)).toBe(-125);
    const g = decayFactors(4);
    expect(g[0]).toBe(30720);
    expect(decayBy(g, 32767, 65535)).toBe(0);
    expect(decayBy(g, 32767, 65536)).toBe(0);
    expect(decayBy(g, 32767, 2)).toBe(Math.floor((32767 * g[1]!) / 32768)); // 2 steps: one factor, g[1] = floor(g[0]^2 / 2^15)
    expect(g[1]).toBe(Math.floor((30720 * 30720) / 32768));
  });

  it("interpreter (generated kernels, stamps) equals the oracle (per-synapse ages counted every step), snapshots included", () => {
    let eventLayers = 0;
    let epochLayers = 0;
    for (let seed = 1; seed <= 32; seed++) {
      const kinds = seed % 2 === 0 ? (["dense", "dense"] as const) : (["dense", "sparse", "dense"] as const);
      const table = randomTable(seed, { kinds, plasticityProbability: 0.9, eventTimingProbability: 0.8, epochTimingProbability: 0.4, maxNeurons: 24 });
      const rng = new TestRng(seed * 17 + 3);
      const a = new Interpreter(table);
      const b = new ReferenceInterpreter(table);
      const layers = table.layers.map((_, l) => l).filter((l) => a.isPlastic(l));
      eventLayers += table.layers.filter((l) => l.plasticity?.timing === "event").length;
      epochLayers += table.layers.filter((l) => l.plasticity?.timing === "epoch").length;
      for (let t = 0; t < 70; t++) {
        const idx: number[] = [];
        for (let i = 0; i < table.input.size; i++) if (rng.chance(0.25)) idx.push(i);
        if (rng.chance(0.2)) {
          const r = rng.int(-32768, 32767);
          const at = t + rng.int(0, 3);
          a.reward(r, at);
          b.reward(r, at);
        }
        if (t === 40) {
          // both restore the other's snapshot: the stamps travel with the learning state
          const sa = a.snapshot();
          expect(b.snapshot()).toEqual(sa);
          b.restore(sa);
          a.restore(sa);
        }
        a.step(spike(...idx));
        b.step(spike(...idx));
        for (const l of layers) {
          const pa = a.plasticity(l)!;
          const pb = b.plasticity(l)!;
          expect(a.weights(l), `seed ${seed} step ${t} layer ${l}`).toEqual(b.weights(l));
          expect(pa.eligibility, `seed ${seed} step ${t} layer ${l}`).toEqual(pb.eligibility);
          expect(pa.preTrace).toEqual(pb.preTrace);
          expect(pa.postTrace).toEqual(pb.postTrace);
          expect(pa.preStamp).toEqual(pb.preStamp);
          expect(pa.postStamp).toEqual(pb.postStamp);
          expect(pa.preMark).toEqual(pb.preMark);
          expect(pa.postMark).toEqual(pb.postMark);
          expect(pa.rewardSum).toEqual(pb.rewardSum);
        }
      }
    }
    expect(eventLayers).toBeGreaterThan(20);
    expect(epochLayers).toBeGreaterThan(5);
  });

  it("touches no synapse of a silent neuron pair: its stored eligibility and weight stay as they are", () => {
    const table = tinyTable([100, 100, 100], 150, { timing: "event", eligibilityShift: 3 });
    const sim = new Interpreter(table);
    sim.step(spike(0, 1)); // post fires: synapses 0, 1 and 2 are touched
    const e = sim.plasticity(0)!.eligibility.slice();
    expect(e[0]).toBeGreaterThan(0);
    for (let t = 0; t < 10; t++) sim.step(none);
    expect(sim.plasticity(0)!.eligibility).toEqual(e); // stored at its last touch; read decayed
    sim.reward(1000);
    sim.step(none);
    expect(sim.weights(0)[0]).toBeGreaterThan(100); // the decayed eligibility still credits the pairing
    expect(sim.plasticity(0)!.eligibility).toEqual(e); // a reward reads it without moving it
  });

  it("is refused in a version-1 file and on a sparse input; a version-2 file carries it", () => {
    const table = tinyTable([100, 100], 150, { timing: "event" });
    const round = decodeTable(encodeTable(table));
    expect(round.layers[0]!.plasticity!.timing).toBe("event");
    const sparse: EventTable = {
      ...table,
      layers: [
        {
          ...table.layers[0]!,
          input: {
            kind: "sparse",
            inputs: 2,
            outputs: 1,
            rowPtr: Uint32Array.of(0, 1, 2),
            cols: Uint16Array.of(0, 0),
            weights: { bits: 16, data: Int16Array.of(100, 100), count: 2, shift: Uint8Array.of(0) },
          },
        },
      ],
    };
    expect(() => encodeTable(sparse)).toThrow(/event timing applies to dense/);
    // without the key the body is the version-1 body: same hash as before format version 2
    const step = tinyTable([100, 100], 150);
    expect(decodeTable(encodeTable(step)).layers[0]!.plasticity!.timing).toBeUndefined();
  });
});

describe("epoch timing (spec/ops.md §11.7)", () => {
  for (const [name, Sim] of [
    ["generated", Interpreter],
    ["reference", ReferenceInterpreter],
  ] as const) {
    it(`${name}: one coarse step per epoch of 4 steps, by hand`, () => {
      // two inputs → one IF neuron that fires on any input; epochs of 2^2 = 4 steps
      const sim = new Sim(tinyTable([10, 10], 1, { timing: "epoch", epochShift: 2 }));
      const st = sim.plasticity(0)!;
      sim.step(spike(0)); // step 0: pre 0 and the post neuron are marked, nothing else moves
      expect([...st.preMark, ...st.postMark]).toEqual([1, 0, 1]);
      expect([...st.preTrace, ...st.postTrace, ...st.eligibility]).toEqual([0, 0, 0, 0, 0]);
      sim.step(none);
      sim.step(none);
      // step 3 ends the epoch: decay (all 0), no depression (y = 0), x0 = y = 1000,
      // potentiation of both synapses (post marked): q15Mul(1000, 16384) = 500 and q15Mul(0, 16384) = 0
      sim.step(none);
      expect([...st.preTrace, ...st.postTrace, ...st.eligibility]).toEqual([1000, 0, 1000, 500, 0]);
      expect([...st.preMark, ...st.postMark]).toEqual([0, 0, 0]);
      sim.step(spike(1)); // step 4: pre 1 and the post neuron marked
      sim.reward(100, 5); // into the epoch's reward sum; acts at its end
      sim.step(none);
      sim.step(none);
      expect([...sim.weights(0)]).toEqual([10, 10]);
      expect(st.rewardSum[0]).toBe(100);
      // step 7: decay x = [500, 0], y = 500; depression of synapse 1 only (pre 1 marked): q15Mul(500, 8192) = 125;
      // x1 = 1000, y = 1500; potentiation q15Mul(500, 16384) = 250 and q15Mul(1000, 16384) = 500;
      // e0 = traceDecay(500, 2) + 250 = 625, e1 = 0 - 125 + 500 = 375;
      // reward m = 100: w0 = 10 + floor(62500 / 16) = 3916, w1 = 10 + floor(37500 / 16) = 2353
      sim.step(none);
      expect([...st.preTrace, ...st.postTrace, ...st.eligibility]).toEqual([500, 1000, 1500, 625, 375]);
      expect([...sim.weights(0)]).toEqual([3916, 2353]);
      expect(st.rewardSum[0]).toBe(0);
      sim.reset(); // markers and the reward sum are learning state: reset clears them, the weights stay
      sim.step(spike(0));
      sim.reward(5, 1);
      sim.reset();
      expect([...st.preMark, ...st.postMark, st.rewardSum[0]]).toEqual([0, 0, 0, 0]);
      expect([...sim.weights(0)]).toEqual([3916, 2353]);
    });

    it(`${name}: stdp per epoch: w - floor(dep / 2^ls) + floor(pot / 2^ls), one clamp`, () => {
      const sim = new Sim(tinyTable([10, 10], 1, { rule: "stdp", timing: "epoch", epochShift: 2 }));
      sim.step(spike(0));
      for (let t = 1; t < 4; t++) sim.step(none);
      expect([...sim.weights(0)]).toEqual([41, 10]); // + floor(500 / 16)
      sim.step(spike(1));
      for (let t = 5; t < 8; t++) sim.step(none);
      expect([...sim.weights(0)]).toEqual([56, 34]); // 41 + floor(250 / 16); 10 - floor(125 / 16) + floor(500 / 16)
    });

    it(`${name}: a rewarded causal pairing raises the weight, a punished one lowers it`, () => {
      for (const [r, up] of [
        [500, true],
        [-500, false],
      ] as const) {
        const sim = new Sim(tinyTable([100, 0], 150, { timing: "epoch", epochShift: 3 }));
        // input 0 twice in a row drives the neuron over threshold: pre before (and with) post
        for (let epoch = 0; epoch < 4; epoch++) {
          sim.reward(r, epoch * 8 + 6);
          for (let t = 0; t < 8; t++) sim.step(t < 2 ? spike(0) : none);
        }
        const w = sim.weights(0)[0]!;
        expect(up ? w > 100 : w < 100, `reward ${r}: weight ${w}`).toBe(true);
        expect(sim.weights(0)[1]).toBe(0); // the silent input never paired
      }
    });
  }

  it("is refused on a sparse input, with triplet, and in a version-1 file; a version-2 file carries epochShift", () => {
    const table = tinyTable([100, 100], 150, { timing: "epoch", epochShift: 4 });
    const round = decodeTable(encodeTable(table));
    expect(round.layers[0]!.plasticity!.timing).toBe("epoch");
    expect(round.layers[0]!.plasticity!.epochShift).toBe(4);
    expect(() => encodeTable(tinyTable([1], 150, { timing: "epoch", epochShift: 9 }))).toThrow(/epochShift/);
    expect(() => encodeTable(tinyTable([1], 150, { timing: "event", epochShift: 3 }))).toThrow(/epochShift belongs/);
    expect(() => encodeTable(tinyTable([1], 150, { rule: "triplet", timing: "epoch", tripletShift: 3, a3Plus: 1 }))).toThrow(
      /triplet rule needs timing 'event'/,
    );
    const layer = table.layers[0]!;
    const sparse: EventTable = {
      ...table,
      layers: [
        {
          ...layer,
          input: {
            kind: "sparse",
            inputs: 2,
            outputs: 1,
            rowPtr: Uint32Array.of(0, 1, 2),
            cols: Uint16Array.of(0, 0),
            weights: { bits: 16, data: Int16Array.of(100, 100), count: 2, shift: Uint8Array.of(0) },
          },
        },
      ],
    };
    expect(() => encodeTable(sparse)).toThrow(/epoch timing applies to dense/);
    expect(() => new Interpreter(sparse)).toThrow(/epoch timing applies to dense/);
  });
});
