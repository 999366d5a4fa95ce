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
function family(c: Connection, plastic: boolean): string[] {
  if (c.kind === "pool") return ["pool"];
  const names = [c.kind === "sparse" ? `sparse_w${c.weights.bits}_c${c.outputs > 65536 ? 32 : 16}` : `${c.kind}_w${c.weights.bits}`];
  // a plastic layer folds through its int16 working weights (spec/ops.md §11.1)
  if (plastic) names.push(c.kind === "sparse" ? `sparse_w16_c${c.outputs > 65536 ? 32 : 16}` : `${c.kind}_w16`);
  return names;
}

/**
 * A predicate that is true for every kernel a network of `table` can call: the scatter and bound
 * kernels (exact and saturating) of its connections' families, the neuron updates of its models,
 * the plasticity kernels when a layer learns, and every kernel of no family (argmax).
 */
export function kernelSelection(table: EventTable): (kernel: Kernel) => boolean {
  const families = new Set<string>();
  const neurons = new Set<string>();
  let plastic = false;
  for (const layer of table.layers) {
    const learns = layer.plasticity !== undefined;
    plastic ||= learns;
    for (const f of family(layer.input, learns)) families.add(f);
    if (layer.recurrent !== undefined) for (const f of family(layer.recurrent, false)) families.add(f);
    neurons.add(layer.neuron.model.replace(/-/g, "_"));
    // spec/ops.md §4.9: a layer with a version-2 rule runs the rule kernels instead
    if (usesNeuronRules(layer.neuron)) neurons.add(layer.neuron.model === "integrator" ? "integrator_q15" : "rule");
  }
  return (kernel) => {
    const name = snake(kernel.name);
    const scatter = /^(?:scatter|bound)_(.+?)(?:_exact)?$/.exec(name);
    if (scatter !== null) return families.has(scatter[1]!);
    const neuron = /^neuron_(.+)$/.exec(name);
    if (neuron !== null) return neurons.has(neuron[1]!);
    if (name.startsWith("plastic_")) return plastic;
    return true;
  };
}
