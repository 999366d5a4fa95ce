/**
 * Exports trained learning-rule networks to the float SNN form (spec/float-snn.md) so that
 * `picospike quantize` takes them. The float SNN is feed-forward only, with one threshold per
 * layer, zero or subtractive reset and no recurrent connections; what a network needs beyond that
 * is mapped as closely as the form allows, and each export says what it dropped in its provenance.
 */
import type { FloatSnn } from "../float-snn.js";
import type { DiehlCookNet, DiehlCookReadout } from "./diehl-cook.js";

/**
 * Diehl & Cook: layer 1 is the excitatory layer (784 -> nExc LIF, 1 ms steps). Each neuron's
 * adaptive threshold is folded into its weights (potentials are divided by that neuron's
 * threshold distance theta + v_th - v_rest, so every neuron's threshold becomes 1); the rate of the
 * float form's `rate` input (intensity/256 per step) is higher than the learned net's (up to
 * maxRateHz), so weights are scaled to keep the mean drive. Layer 2 is the label readout, a
 * 10-neuron integrator read out by membrane: for the "mean" readout it averages the spike counts of
 * each class's neurons (the paper's classifier), for "proportion" every neuron feeds every class
 * with its class proportion (exactly the learned classifier's score). Dropped: the lateral inhibition (recurrent, not expressible)
 * and the reset to v_reset above rest (the form resets to zero, i.e. to rest).
 */
export function exportDiehlCook(net: DiehlCookNet, readout: DiehlCookReadout = "mean"): FloatSnn {
  const p = net.params;
  const rateMatch = p.maxRateHz / 1000 / (255 / 256);
  const w1 = new Float32Array(p.nInputs * p.nExc);
  for (let e = 0; e < p.nExc; e++) {
    const distance = p.vThreshold + (net.theta[e] as number) - p.vRest;
    for (let j = 0; j < p.nInputs; j++) w1[j * p.nExc + e] = ((net.weights[j * p.nExc + e] as number) * p.inputGain * rateMatch) / distance;
  }
  const perClass = new Float64Array(10);
  for (const l of net.labels) if (l >= 0) perClass[l] = (perClass[l] as number) + 1;
  const w2 = new Float32Array(p.nExc * 10);
  if (readout === "proportion") {
    for (let e = 0; e < p.nExc; e++) for (let c = 0; c < 10; c++) w2[e * 10 + c] = net.classProportions[c * p.nExc + e] as number;
  } else
    net.labels.forEach((l, e) => {
      if (l >= 0) w2[e * 10 + l] = 1 / (perClass[l] as number);
    });
  const side = Math.round(Math.sqrt(p.nInputs));
  return {
    input: { shape: side * side === p.nInputs ? [1, side, side] : [1, 1, p.nInputs], encoding: "rate", scale: 1 / 255 },
    layers: [
      {
        kind: "dense",
        name: "excitatory",
        inputs: p.nInputs,
        outputs: p.nExc,
        weights: w1,
        neuron: { model: "lif", threshold: 1, leak: Math.exp(-1 / p.tauMs), reset: "zero", refractory: p.refractoryMs },
      },
      {
        kind: "dense",
        name: "labels",
        inputs: p.nExc,
        outputs: 10,
        weights: w2,
        neuron: { model: "integrator", threshold: 1, leak: 1, reset: "subtract", refractory: 0 },
      },
    ],
    readout: "membrane",
    provenance: {
      source: "diehl-cook",
      tool: "picospike learn",
      settings: {
        nExc: p.nExc,
        thetaPlus: p.thetaPlus,
        inhibition: p.inhibition,
        readout,
        maxRateHz: p.maxRateHz,
        droppedLateralInhibition: true,
        droppedResetAboveRest: true,
      },
    },
  };
}
