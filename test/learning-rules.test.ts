/**
 * The device's integer, event- and epoch-timed pair and triplet STDP (spec/ops.md §11.5-§11.7) against the
 * float reference rules of models/learning/stdp.ts: the pair window and the pairing-frequency
 * curve of Pfister & Gerstner's minimal visual-cortex triplet model (Sjöström 2001 protocol).
 *
 * Time step 1 ms. A decay shift k gives the per-step factor 1 − 2^−k, i.e. tau = −1/ln(1 − 2^−k)
 * steps; the float rule runs with those taus, so what is compared is the integer arithmetic
 * (Q15 traces, the binary decay schedule, floored weight steps), not the rounding of tau to a
 * shift (tau+ 16.8 → 15.5 ms at k = 4, tau− 33.7 → 31.5 ms at k = 5, tau_y 114 → 127.5 ms at k = 7).
 *
 * Scales: traces jump by 4096 (= 1/8 in Q15, so all-to-all sums up to 8 fit int16); amplitudes
 * are A·2^19 in the table; a weight unit is then 2^(learningShift + 3 − 19) of the float rule's
 * fractional weight.
 */
import { describe, expect, it } from "vitest";
import { Interpreter } from "../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable, type Plasticity } from "../runtime/model.js";
import { PFISTER_MINIMAL, pairingProtocol, pairWeightChange, SJOSTROM_2001, type PairParams, type TripletParams } from "../models/learning/stdp.js";

const SCALE = 2 ** 19;
const INCREMENT = 4096;
const LEARNING_SHIFT = 3;
/** What the integer rules below share: the trace increment and learning shift, the full int16 clamp, no reward baseline. */
const INTEGER_RULE = {
  traceIncrement: INCREMENT,
  eligibilityShift: 1,
  learningShift: LEARNING_SHIFT,
  baselineShift: 0,
  wMin: -32768,
  wMax: 32767,
} as const;
/** One weight unit in the float rule's fractional weight. */
const UNIT = 2 ** (LEARNING_SHIFT + 3) / SCALE;
const tauOf = (k: number): number => -1 / Math.log(1 - 2 ** -k);

/** Input 0 → the plastic synapse under test (weight 0); input 1 forces the post spike (weight 32767 × 4 over threshold). */
function pairNet(rule: Plasticity): EventTable {
  return {
    input: { size: 2, encoding: "spikes", seed: 1 },
    layers: [
      {
        name: "post",
        size: 1,
        input: { kind: "dense", inputs: 2, outputs: 1, weights: { bits: 16, data: Int16Array.of(0, 32767), count: 2, shift: Uint8Array.of(2) } },
        neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 1, threshold: 100000, reset: "value", resetValue: 0 },
        plasticity: rule,
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "test", tool: "test/learning-rules.test.ts", settings: {}, layerScales: [1] },
  };
}

/** Runs pre spikes on input 0 and forced post spikes (input 1) at the given steps (to past the last epoch end for an epoch-timed rule of `epoch` steps); returns synapse 0's weight change in float units. */
function integerChange(table: EventTable, pre: readonly number[], post: readonly number[], epoch = 1): number {
  const sim = new Interpreter(table);
  // an epoch-timed rule learns at its epochs' ends: run to the end of the epoch after the last spike
  const end = epoch === 1 ? Math.max(...pre, ...post) + 2 : (Math.floor(Math.max(...pre, ...post) / epoch) + 2) * epoch;
  const preSet = new Set(pre);
  const postSet = new Set(post);
  let fired = 0;
  for (let t = 0; t < end; t++) {
    const idx = [...(preSet.has(t) ? [0] : []), ...(postSet.has(t) ? [1] : [])];
    sim.step({ indices: Uint32Array.from(idx) });
    if (sim.lastSpikes(0).length > 0) {
      expect(postSet.has(t), `post spike at step ${t} only where forced`).toBe(true);
      fired++;
    }
  }
  expect(fired).toBe(post.length);
  return sim.weights(0)[0]! * UNIT;
}

describe("integer pair STDP (event timing) vs the float pair rule", () => {
  const k = { plus: 4, minus: 4 };
  const float: PairParams = { aPlus: 0.005, aMinus: 0.00525, tauPlusMs: tauOf(k.plus), tauMinusMs: tauOf(k.minus), interaction: "all-to-all" };
  const rule: Plasticity = {
    rule: "stdp",
    timing: "event",
    preTraceShift: k.plus,
    postTraceShift: k.minus,
    aPlus: Math.round(float.aPlus * SCALE),
    aMinus: Math.round(float.aMinus * SCALE),
    ...INTEGER_RULE,
  };
  it("reproduces the window of one pairing within 4 % of A+ at every Δt in −60..60 ms", () => {
    const table = pairNet(rule);
    for (let dt = -60; dt <= 60; dt += 5) {
      if (dt === 0) continue;
      const [pre, post] = dt > 0 ? [[100], [100 + dt]] : [[100 - dt], [100]];
      const got = integerChange(table, pre, post);
      const want = pairWeightChange(pre, post, float);
      expect(Math.abs(got - want), `Δt ${dt}: integer ${got}, float ${want}`).toBeLessThanOrEqual(0.04 * float.aPlus);
    }
  });
});

describe("integer pair STDP (epoch timing, spec/ops.md §11.7) vs the float pair rule on the epoch grid", () => {
  // epochs of E = 4 steps with decay shift 2 per epoch: a factor 3/4 per epoch, tau = 4 · tauOf(2) ≈ 13.9 ms
  const E = 4;
  const k = 2;
  const float: PairParams = { aPlus: 0.005, aMinus: 0.00525, tauPlusMs: E * tauOf(k), tauMinusMs: E * tauOf(k), interaction: "all-to-all" };
  const rule: Plasticity = {
    rule: "stdp",
    timing: "epoch",
    epochShift: 2,
    preTraceShift: k,
    postTraceShift: k,
    aPlus: Math.round(float.aPlus * SCALE),
    aMinus: Math.round(float.aMinus * SCALE),
    ...INTEGER_RULE,
  };
  it("reproduces the window of one pairing within 4 % of A+ at every Δt in −60..60 ms that is a whole number of epochs", () => {
    const table = pairNet(rule);
    for (let dt = -60; dt <= 60; dt += E) {
      if (dt === 0) continue;
      // spikes at epoch starts, and the run ends on an epoch end (integerChange runs 2 steps past the last spike)
      const [pre, post] = dt > 0 ? [[100], [100 + dt]] : [[100 - dt], [100]];
      const got = integerChange(table, pre, post, E);
      const want = pairWeightChange(pre, post, float);
      expect(Math.abs(got - want), `Δt ${dt}: integer ${got}, float ${want}`).toBeLessThanOrEqual(0.04 * float.aPlus);
    }
  });

  it("takes a pre and a post spike in the same epoch as causal, whatever their order within it", () => {
    const table = pairNet(rule);
    const causal = integerChange(table, [100], [102], E);
    const anti = integerChange(table, [102], [100], E);
    expect(anti).toBe(causal);
    expect(causal).toBeGreaterThan(0);
  });
});

describe("integer triplet STDP (event timing) vs Pfister & Gerstner's minimal visual-cortex model", () => {
  const ref = PFISTER_MINIMAL.visual;
  const k = { plus: 4, minus: 5, y: 7 };
  const float: TripletParams = { ...ref, tauPlusMs: tauOf(k.plus), tauMinusMs: tauOf(k.minus), tauYMs: tauOf(k.y) };
  const rule: Plasticity = {
    rule: "triplet",
    timing: "event",
    preTraceShift: k.plus,
    postTraceShift: k.minus,
    tripletShift: k.y,
    aPlus: Math.round(ref.a2Plus * SCALE),
    a3Plus: Math.round(ref.a3Plus * SCALE * (32768 / INCREMENT)),
    aMinus: Math.round(ref.a2Minus * SCALE),
    ...INTEGER_RULE,
  };
  it("reproduces the pairing-frequency curve (60 pairs, Δt = ±10 ms, 0.1-50 Hz) within 5 % + 0.01", () => {
    const table = pairNet(rule);
    const curve: Array<[number, number, number, number]> = [];
    for (const hz of SJOSTROM_2001.frequenciesHz) {
      for (const dt of [10, -10]) {
        const period = 1000 / hz;
        const offset = Math.max(0, -dt) + 5;
        const pre = Array.from({ length: 60 }, (_, i) => Math.round(offset + i * period));
        const post = pre.map((t) => t + dt);
        const got = integerChange(table, pre, post);
        const want = pairingProtocol(float, hz, dt, 60);
        curve.push([hz, dt, got, want]);
        expect(Math.abs(got - want), `${hz} Hz, Δt ${dt}: integer ${got.toFixed(4)}, float ${want.toFixed(4)}`).toBeLessThanOrEqual(
          0.05 * Math.abs(want) + 0.01,
        );
      }
    }
    // the triplet rule's signature: post-pre pairing turns from depression at low rates to potentiation at 40-50 Hz
    const at = (hz: number, dt: number): number => curve.find((c) => c[0] === hz && c[1] === dt)![2];
    expect(at(10, -10)).toBeLessThan(0);
    expect(at(50, -10)).toBeGreaterThan(0);
    expect(at(50, 10)).toBeGreaterThan(at(10, 10));
  });
});
