/**
 * Kernel selection for model-specialised C (the budget: runtime code ≤ 8 KB on a Cortex-M0). ps_net.c
 * dispatches on the model at run time, so a generic build links every kernel (≈ 12 KB at -Os on a
 * Cortex-M0). When the model is compiled in as codegen's const tables, only the kernels its
 * connection kinds, weight widths, index widths and neuron models reach can ever run; the others
 * are emitted as stubs (codegen/emit-c.ts emitCSource) so ps_net.c links unchanged.
 */
import { usesNeuronRules, type Connection, type EventTable } from "../runtime/model.js";
import { snake, type Kernel } from "./ir.js";

/** The scatter/bound family name of a connection, as in the kernel names (`dense_w8`, `sparse_w8_c16`, `conv2d_w4`, `pool`). */
function family(c: Connection): string {
  if (c.kind === "pool") return "pool";
  return c.kind === "sparse" ? `sparse_w${c.weights.bits}_c${c.outputs > 65536 ? 32 : 16}` : `${c.kind}_w${c.weights.bits}`;
}

/** The family a plastic layer folds through: its int16 working weights (spec/ops.md §11.1), saturating only. */
function workingFamily(c: Connection): string {
  return c.kind === "sparse" ? `sparse_w16_c${c.outputs > 65536 ? 32 : 16}` : `${c.kind}_w16`;
}

/** ps_net.h's PS_NET_LEARN_* bits: step timing (spec/ops.md §11.2), event timing (§11.5), triplet (§11.6), epoch timing (§11.7). */
export const LEARN_BITS = { step: 1, event: 2, triplet: 4, epoch: 8 } as const;

/**
 * The PS_NET_LEARNING value (ps_net.h) a build running only `table` needs: the bits of the
 * learning rules its plastic layers use, 0 when nothing learns (ps_net.c then has no learning code).
 */
export function learningMask(table: EventTable): number {
  let mask = 0;
  for (const layer of table.layers) {
    const p = layer.plasticity;
    if (p === undefined) continue;
    if (p.timing === "event") mask |= LEARN_BITS.event | (p.rule === "triplet" ? LEARN_BITS.triplet : 0);
    else if (p.timing === "epoch") mask |= LEARN_BITS.epoch;
    else mask |= LEARN_BITS.step;
  }
  return mask;
}

/** Which learning rules' plasticity kernels (codegen/kernels-plasticity.ts) serve: step-timed, event-timed, triplet, epoch-timed. */
function plasticKernelRule(name: string): number {
  if (name === "plastic_triplet_gain") return LEARN_BITS.triplet;
  if (name.startsWith("plastic_event_")) return LEARN_BITS.event;
  if (name.startsWith("plastic_epoch_")) return LEARN_BITS.epoch;
  return LEARN_BITS.step;
}

/** The connection a step-timed plasticity kernel serves (`dense`, `sparse_c16`, `sparse_c32`), or undefined for any. */
function plasticKernelConnection(name: string): string | undefined {
  if (name === "plastic_mark") return "sparse";
  const m = /_(dense|sparse_c16|sparse_c32)$/.exec(name);
  return m === null ? undefined : m[1];
}

/**
 * A predicate that is true for every kernel a network of `table` can call: the scatter and bound
 * kernels (exact and saturating) of its connections' families, the neuron updates of its models,
 * the plasticity kernels of the learning rules its layers use (learningMask), and every kernel of
 * no family (argmax).
 */
export function kernelSelection(table: EventTable): (kernel: Kernel) => boolean {
  const families = new Set<string>();
  const neurons = new Set<string>();
  const learning = learningMask(table);
  const working = new Set<string>();
  const plasticInputs = new Set<string>();
  for (const layer of table.layers) {
    families.add(family(layer.input));
    if (layer.plasticity !== undefined && layer.input.kind !== "pool") {
      working.add(workingFamily(layer.input));
      // an epoch-timed layer with an int8 clamp folds an int8 copy of its working weights (ps_net.c, spec/ops.md §11.7)
      const p = layer.plasticity;
      if (p.timing === "epoch" && layer.input.kind === "dense" && p.wMin >= -128 && p.wMax <= 127) working.add("dense_w8");
      const c = layer.input;
      const kind = c.kind === "sparse" ? `sparse_c${c.outputs > 65536 ? 32 : 16}` : c.kind;
      plasticInputs.add(kind).add(kind.startsWith("sparse") ? "sparse" : kind);
    }
    if (layer.recurrent !== undefined) families.add(family(layer.recurrent));
    neurons.add(layer.neuron.model.replace(/-/g, "_"));
    // spec/ops.md §4.9: a layer with a version-2 rule runs the rule kernels instead
    if (usesNeuronRules(layer.neuron)) neurons.add(layer.neuron.model === "integrator" ? "integrator_q15" : "rule");
  }
  return (kernel) => {
    const name = snake(kernel.name);
    const scatter = /^(?:scatter|bound)_(.+?)(?:_exact)?$/.exec(name);
    // a plastic layer's working weights fold through the int16 kernels, exact where the bound over its clamp holds (ps_net.c)
    if (scatter !== null) return families.has(scatter[1]!) || working.has(scatter[1]!);
    const neuron = /^neuron_(.+)$/.exec(name);
    if (neuron !== null) return neurons.has(neuron[1]!);
    // a step-timed rule's kernels for sparse input stay with the dense ones (a few hundred bytes)
    if (name.startsWith("plastic_")) {
      // the markers of epoch timing (spec/ops.md §11.7) are set by plastic_mark too
      if (name === "plastic_mark" && (learning & LEARN_BITS.epoch) !== 0) return true;
      const connection = plasticKernelConnection(name);
      return (learning & plasticKernelRule(name)) !== 0 && (connection === undefined || plasticInputs.has(connection));
    }
    return true;
  };
}
