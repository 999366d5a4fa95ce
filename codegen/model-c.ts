/**
 * Model-specialised C: an event table as `const` C data in the ps_model.h form (no reader, no
 * arena: everything lives in flash), with its state sizes as #defines and a format-version guard.
 * `picospike codegen MODEL.cbor --target c` writes this next to the runtime sources.
 */
import { connectionSynapses, hashOfTable } from "../runtime/format.js";
import { usesNeuronRules, type Connection, type EventTable, type Layer } from "../runtime/model.js";
import { cBanner } from "./emit-c.js";
import { FORMAT_VERSION } from "../runtime/model.js";

/** uint32_t words of ps_net state the model needs (the formula of ps_net_state_words in ps_net.c). */
export function stateWords(table: EventTable): number {
  let words = 0;
  for (const l of table.layers) words += l.size * (l.neuron.model === "cuba" ? 6 : 5) + Math.ceil(l.size / 4) * (l.neuron.multiSpike === true ? 2 : 1);
  return words;
}

/** Largest snapshot (spec/ops.md §10) of the model: every neuron spiking in the last step. */
export function maxSnapshotBytes(table: EventTable): number {
  let bytes = 16;
  for (const l of table.layers) bytes += 12 + l.size * 4 + (l.neuron.model === "cuba" ? l.size * 4 : 0) + l.size + l.size * 4 + l.size * 4;
  return bytes;
}

const MODEL_CODE = {
  if: "PS_NEURON_IF",
  "lif-shift": "PS_NEURON_LIF_SHIFT",
  "lif-q15": "PS_NEURON_LIF_Q15",
  cuba: "PS_NEURON_CUBA",
  integrator: "PS_NEURON_INTEGRATOR",
} as const;
const KIND_CODE = { dense: "PS_CONN_DENSE", sparse: "PS_CONN_SPARSE", conv2d: "PS_CONN_CONV2D", pool: "PS_CONN_POOL" } as const;
const ENCODING_CODE = { spikes: "PS_ENCODING_SPIKES", rate: "PS_ENCODING_RATE", current: "PS_ENCODING_CURRENT" } as const;

function int32Literal(x: number): string {
  return x === -2147483648 ? "INT32_MIN" : String(x);
}

/** A const array definition, 16 values per line. */
function array(type: string, name: string, values: ArrayLike<number>, literal: (x: number) => string = String): string {
  const items = Array.from(values, literal);
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += 16) lines.push("    " + items.slice(i, i + 16).join(", ") + ",");
  return `static const ${type} ${name}[${Math.max(1, items.length)}] = {\n${items.length === 0 ? "    0" : lines.join("\n")}\n};\n`;
}

function shape(s: readonly [number, number, number] | undefined): string {
  return s === undefined ? "{ 0u, 0u, 0u }" : `{ ${s[0]}u, ${s[1]}u, ${s[2]}u }`;
}

/** Data arrays and the initializer of one connection; `prefix` names its arrays. */
function connection(c: Connection | undefined, prefix: string, data: string[]): string {
  if (c === undefined) return "{ .kind = PS_CONN_NONE }";
  const fields: string[] = [`.kind = ${KIND_CODE[c.kind]}`, `.synapses = ${connectionSynapses(c)}u`];
  if (c.kind === "pool") {
    const size = c.inShape[0] * c.inShape[1] * c.inShape[2];
    const outSize = c.outShape[0] * c.outShape[1] * c.outShape[2];
    fields.push(
      `.inputs = ${size}u`,
      `.outputs = ${outSize}u`,
      `.in_shape = ${shape(c.inShape)}`,
      `.out_shape = ${shape(c.outShape)}`,
      `.kernel = { ${c.kernel[0]}u, ${c.kernel[1]}u }`,
      `.stride = { ${c.stride[0]}u, ${c.stride[1]}u }`,
      `.pool_weight = ${c.weight}`,
      `.pool_shift = ${c.shift}u`,
    );
    return `{ ${fields.join(", ")} }`;
  }
  const w = c.weights;
  const wName = `${prefix}_w`;
  const sName = `${prefix}_shift`;
  if (w.bits === 4) data.push(array("uint8_t", wName, w.data));
  else if (w.bits === 8) data.push(array("int8_t", wName, w.data));
  else data.push(array("int16_t", wName, w.data));
  data.push(array("uint8_t", sName, w.shift));
  const ptr = w.bits === 4 ? "packed4" : w.bits === 8 ? "i8" : "i16";
  fields.push(`.weights = { .bits = ${w.bits}u, .count = ${w.count}u, .${ptr} = ${wName}, .shift = ${sName}, .shift_len = ${w.shift.length}u }`);
  if (c.kind === "dense") fields.push(`.inputs = ${c.inputs}u`, `.outputs = ${c.outputs}u`);
  else if (c.kind === "sparse") {
    data.push(array("uint32_t", `${prefix}_row_ptr`, c.rowPtr, (x) => `${x}u`));
    const wide = c.outputs > 65536;
    data.push(array(wide ? "uint32_t" : "uint16_t", `${prefix}_cols`, c.cols, (x) => `${x}u`));
    fields.push(
      `.inputs = ${c.inputs}u`,
      `.outputs = ${c.outputs}u`,
      `.row_ptr = ${prefix}_row_ptr`,
      `.${wide ? "cols32" : "cols16"} = ${prefix}_cols`,
      `.nnz = ${c.cols.length}u`,
    );
  } else {
    const size = c.inShape[0] * c.inShape[1] * c.inShape[2];
    const outSize = c.outShape[0] * c.outShape[1] * c.outShape[2];
    fields.push(
      `.inputs = ${size}u`,
      `.outputs = ${outSize}u`,
      `.in_shape = ${shape(c.inShape)}`,
      `.out_shape = ${shape(c.outShape)}`,
      `.kernel = { ${c.kernel[0]}u, ${c.kernel[1]}u }`,
      `.stride = { ${c.stride[0]}u, ${c.stride[1]}u }`,
      `.padding = { ${c.padding[0]}u, ${c.padding[1]}u }`,
    );
  }
  return `{ ${fields.join(", ")} }`;
}

function layerInit(layer: Layer, l: number, data: string[]): string {
  const n = layer.neuron;
  const nameBytes = new TextEncoder().encode(layer.name);
  data.push(array("uint8_t", `ps_l${l}_name`, nameBytes, (x) => `${x}u`));
  if (layer.bias !== undefined) data.push(array("int32_t", `ps_l${l}_bias`, layer.bias, int32Literal));
  if (n.leakQ15s !== undefined) data.push(array("uint16_t", `ps_l${l}_leaks`, n.leakQ15s, (x) => `${x}u`));
  if (n.currentQ15s !== undefined) data.push(array("uint16_t", `ps_l${l}_currents`, n.currentQ15s, (x) => `${x}u`));
  const channels = layer.shape !== undefined ? layer.shape[0] : layer.size;
  // the version-2 rules of spec/ops.md §4.9, as ps_table.c's v_neuron fills them (zero/NULL when absent)
  const q15Cuba = n.model === "cuba" && n.synapse === "q15";
  const rules = usesNeuronRules(n);
  const v2 = [
    n.compare === "gt" ? ".compare_gt = 1u" : "",
    n.resetDelay === true ? ".reset_delay = 1u" : "",
    n.multiSpike === true ? ".multi_spike = 1u" : "",
    q15Cuba ? ".synapse_q15 = 1u" : "",
    rules ? ".rules = 1u" : "",
    n.currentQ15 ? `.current_q15 = ${n.currentQ15}u` : "",
    n.vInit ? `.v_init = ${int32Literal(n.vInit)}` : "",
    n.leakQ15s !== undefined ? `.leak_q15s = ps_l${l}_leaks` : "",
    n.currentQ15s !== undefined ? `.current_q15s = ps_l${l}_currents` : "",
  ]
    .filter((x) => x !== "")
    .map((x) => `, ${x}`)
    .join("");
  const fields = [
    `.name = ps_l${l}_name`,
    `.name_len = ${nameBytes.length}u`,
    `.size = ${layer.size}u`,
    `.has_shape = ${layer.shape !== undefined ? 1 : 0}u`,
    `.shape = ${shape(layer.shape)}`,
    `.channels = ${channels}u`,
    `.input = ${connection(layer.input, `ps_l${l}_in`, data)}`,
    `.recurrent = ${connection(layer.recurrent, `ps_l${l}_rec`, data)}`,
    `.bias = ${layer.bias !== undefined ? `ps_l${l}_bias` : "NULL"}`,
    `.bias_len = ${layer.bias?.length ?? 0}u`,
    `.neuron = { .model = ${MODEL_CODE[n.model]}, .reset = ${n.reset === "subtract" ? "PS_RESET_SUBTRACT" : "PS_RESET_VALUE"}, .leak_shift = ${n.leakShift}u, ` +
      `.current_shift = ${n.currentShift}u, .refractory = ${n.refractory}u, .leak_q15 = ${n.leakQ15}u, .threshold = ${int32Literal(n.threshold)}, ` +
      `.reset_value = ${int32Literal(n.resetValue)}, .v_min = ${int32Literal(n.vMin)}${v2} }`,
  ];
  return `    {\n        ${fields.join(",\n        ")}\n    }`;
}

/**
 * ps_model_generated.h and ps_model_generated.c for `table`: the model as `PS_MODEL_GENERATED`
 * (const ps_model_t) and PS_MODEL_STATE_WORDS / PS_MODEL_LAYERS / PS_MODEL_INPUT_SIZE /
 * PS_MODEL_MAX_SNAPSHOT_BYTES. Plasticity is not emitted (spec/ops.md §11: inference only).
 */
export function emitCModel(table: EventTable, source: string): Array<[name: string, contents: string]> {
  const hash = hashOfTable(table);
  const data: string[] = [];
  const layers = table.layers.map((layer, l) => layerInit(layer, l, data));
  const input = table.input;
  const header = [
    cBanner(source),
    "#ifndef PS_MODEL_GENERATED_H",
    "#define PS_MODEL_GENERATED_H",
    "",
    '#include "ps_model.h"',
    "",
    `#if PS_MODEL_FORMAT_VERSION != ${FORMAT_VERSION}`,
    `#error "picospike: this model was generated for event-table format version ${FORMAT_VERSION}; regenerate it (picospike codegen)"`,
    "#endif",
    "",
    `/** Content hash of the table (SHA-256): ${hash}. */`,
    `#define PS_MODEL_LAYERS ${table.layers.length}u`,
    `#define PS_MODEL_INPUT_SIZE ${input.size}u`,
    `/** uint32_t words of state ps_net_init needs (ps_net_state_words). */`,
    `#define PS_MODEL_STATE_WORDS ${stateWords(table)}u`,
    `/** Largest snapshot in bytes (spec/ops.md §10). */`,
    `#define PS_MODEL_MAX_SNAPSHOT_BYTES ${maxSnapshotBytes(table)}u`,
    "",
    "/** The model, all const (flash). */",
    "extern const ps_model_t PS_MODEL_GENERATED;",
    "",
    "#endif /* PS_MODEL_GENERATED_H */",
    "",
  ].join("\n");
  const hashBytes = Array.from({ length: 32 }, (_, i) => `0x${hash.slice(2 * i, 2 * i + 2)}u`);
  const source_ = [
    cBanner(source),
    "#include <stddef.h>",
    "#include <stdint.h>",
    "",
    '#include "ps_model_generated.h"',
    "",
    ...data,
    `static const ps_layer_t ps_model_layers[${table.layers.length}] = {`,
    layers.join(",\n"),
    "};",
    "",
    "const ps_model_t PS_MODEL_GENERATED = {",
    `    .hash = { ${hashBytes.join(", ")} },`,
    `    .input = { .size = ${input.size}u, .has_shape = ${input.shape !== undefined ? 1 : 0}u, .shape = ${shape(input.shape)}, .encoding = ${ENCODING_CODE[input.encoding]}, .seed = ${input.seed}u },`,
    `    .n_layers = ${table.layers.length}u,`,
    "    .layers = ps_model_layers,",
    `    .readout = ${table.readout.kind === "count" ? "PS_READOUT_COUNT" : "PS_READOUT_MEMBRANE"},`,
    `    .synapses = ${table.layers.reduce((s, l) => s + connectionSynapses(l.input) + (l.recurrent ? connectionSynapses(l.recurrent) : 0), 0)}u,`,
    "    .arena_used = 0u,",
    "};",
    "",
  ].join("\n");
  return [
    ["ps_model_generated.h", header],
    ["ps_model_generated.c", source_],
  ];
}
