/**
 * Smoke test of the peer comparison (bench/peers): a small network with every dynamic the peers
 * implement (IF and shift-leak LIF with reset by subtraction, per-layer and per-neuron weight
 * shifts, biases, an integrator readout) runs a few steps of rate-coded input in picospike, Brian2
 * (numpy target: no compilation) and the PyTorch loop; counts and membranes must agree exactly.
 * A peer that is not installed (scripts/install-bench-deps.sh) is skipped with its reason printed.
 */
import { describe, expect, it } from "vitest";
import { PEERS, compareRuns, runPeer, runPicospike, withWorkloadFile, workloadJson, type PeerSpec } from "./driver.js";
import { isPicospikeError } from "../../runtime/errors.js";
import { encodeSample } from "../../runtime/interpreter.js";
import { DEFAULT_NEURON, type EventTable, type Layer } from "../../runtime/model.js";
import { Xorshift32 } from "../../runtime/prng.js";

const INPUTS = 96;
const STEPS = 40;

function dense(g: Xorshift32, inputs: number, outputs: number, shift: Uint8Array): Layer["input"] {
  const data = new Int8Array(inputs * outputs);
  for (let q = 0; q < data.length; q++) data[q] = (g.next() % 256) - 96; // positive mean keeps layers firing
  return { kind: "dense", inputs, outputs, weights: { bits: 8, data, count: data.length, shift } };
}

function biases(g: Xorshift32, n: number): Int32Array {
  return Int32Array.from({ length: n }, () => (g.next() % 401) - 200);
}

/** input 96 → lif-shift 48 (leak 3, bias) → if 24 (per-neuron shifts) → integrator 10 (bias). */
function smallNetwork(): EventTable {
  const g = new Xorshift32(12345);
  const perNeuronShift = Uint8Array.from({ length: 24 }, (_, j) => j % 3);
  const layers: Layer[] = [
    {
      name: "lif",
      size: 48,
      input: dense(g, INPUTS, 48, Uint8Array.of(2)),
      bias: biases(g, 48),
      neuron: { ...DEFAULT_NEURON, model: "lif-shift", leakShift: 3, threshold: 3000 },
    },
    { name: "if", size: 24, input: dense(g, 48, 24, perNeuronShift), neuron: { ...DEFAULT_NEURON, model: "if", threshold: 900 } },
    { name: "out", size: 10, input: dense(g, 24, 10, Uint8Array.of(1)), bias: biases(g, 10), neuron: { ...DEFAULT_NEURON, model: "integrator" } },
  ];
  return {
    input: { size: INPUTS, encoding: "rate", seed: 7 },
    layers,
    readout: { kind: "membrane" },
    provenance: { source: "test", tool: "bench/peers/driver.test.ts", settings: {}, layerScales: [1, 1, 1] },
  };
}

const table = smallNetwork();
const intensities = Uint8Array.from({ length: INPUTS }, (_, i) => (i * 37) % 256);
const input = encodeSample(table.input, intensities, STEPS);
const ours = runPicospike(table, input, 1);

describe("peer comparison smoke test", () => {
  it("the network is active in every spiking layer", () => {
    expect(ours.counts[0]!.reduce((s, x) => s + x, 0)).toBeGreaterThan(STEPS);
    expect(ours.counts[1]!.reduce((s, x) => s + x, 0)).toBeGreaterThan(STEPS);
  });

  const quickPeers: PeerSpec[] = PEERS.filter((p) => p.id === "brian2-numpy" || p.id === "torch-1thread");
  for (const peer of quickPeers) {
    it(`${peer.label} computes picospike's network exactly`, (ctx) => {
      const outcome = withWorkloadFile(table, input, (path) => runPeer(peer, path, 1, 120_000));
      if (outcome.status === "missing") {
        console.warn(`skipping ${peer.label}: ${outcome.reason}`);
        ctx.skip();
        return;
      }
      if (outcome.status === "failed") throw new Error(outcome.reason);
      const agreement = compareRuns(table, ours, outcome.run);
      expect(outcome.run.counts).toEqual(ours.counts);
      expect(outcome.run.membranes).toEqual(ours.membranes);
      expect(agreement).toMatchObject({ exact: true, hiddenCountsIdentical: 1, outputIdentical: 1, outputCompared: "membranes" });
      expect(agreement.peerHiddenSpikes).toBe(agreement.hiddenSpikes);
    });
  }

  it("refuses what the peers do not implement, with a specific error", () => {
    const refractory: EventTable = { ...table, layers: table.layers.map((l, i) => (i === 1 ? { ...l, neuron: { ...l.neuron, refractory: 2 } } : l)) };
    const q15: EventTable = { ...table, layers: table.layers.map((l, i) => (i === 0 ? { ...l, neuron: { ...l.neuron, model: "lif-q15" as const } } : l)) };
    for (const bad of [refractory, q15]) {
      let caught: unknown;
      try {
        workloadJson(bad, input);
      } catch (e) {
        caught = e;
      }
      expect(isPicospikeError(caught, "CODEGEN_UNSUPPORTED")).toBe(true);
    }
  });
});
