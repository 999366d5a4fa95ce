/**
 * Model-specialised TypeScript (`picospike codegen MODEL.cbor --target ts`): one module whose step
 * is the interpreter's step for this model with everything the table fixes turned into constants.
 * Each layer's kernels are the kernels of codegen/kernels.ts rendered inline with their scalar
 * parameters as literals (sizes, shifts, thresholds, the per-channel and graded flags, and the
 * sat/exact choice of spec/ops.md §12.1 proven now, at emission), weights as module constants, and
 * an unrolled layer sequence instead of the interpreter's per-layer dispatch. The arithmetic is the
 * same IR, so the module is bit-exact with runtime/interpreter.ts (test/conformance checks it); like
 * the interpreter, dense int8/int4 connections fold spikes with runtime/fold.ts (spec/ops.md §12.3),
 * packed when the module loads.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_PACKED_BYTES, packedDenseBytes } from "../runtime/fold.js";
import { Interpreter, NEURON_MODEL_CODE, SNAPSHOT_MAGIC } from "../runtime/interpreter.js";
import { FORMAT_VERSION, usesNeuronRules, type Connection, type EventTable, type Layer } from "../runtime/model.js";
import { assignedNames, primitivesUsed, tsBlock } from "./emit-ts.js";
import type { Kernel } from "./ir.js";
import { KERNELS } from "./kernels.js";

type Literal = number | boolean;

/** A kernel call made static: the kernel, its scalar parameters as literals and its read-only arrays as module constants. */
interface Binding {
  readonly kernel: Kernel;
  readonly scalars: ReadonlyMap<string, Literal>;
  /** Array parameter → the expression it is bound to inside the function (a module constant or state array). */
  readonly arrays: ReadonlyMap<string, string>;
}

function kernelNamed(name: string): Kernel {
  const kernel = KERNELS.find((kn) => kn.name === name);
  if (kernel === undefined) throw new Error(`no kernel ${name}`);
  return kernel;
}

/** Module constants (typed arrays, base64 in the source) collected while emitting. */
class Constants {
  readonly lines: string[] = [];
  add(name: string, data: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }, ctor: string): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.lines.push(`const ${name} = decode(${JSON.stringify(Buffer.from(bytes).toString("base64"))}, ${ctor});`);
    return name;
  }
}

const WEIGHT_CTOR = { 4: "Uint8Array", 8: "Int8Array", 16: "Int16Array" } as const;

/** Binding of a connection's scatter kernel for one kind of step. */
function bindScatter(c: Connection, post: Layer, exact: boolean, graded: boolean, prefix: string, consts: Constants): Binding {
  const suffix = exact ? "Exact" : "";
  const scalars = new Map<string, Literal>([["graded", graded]]);
  const arrays = new Map<string, string>();
  const channels = post.shape === undefined ? post.size : post.shape[0];
  const plane = post.shape === undefined ? 1 : post.shape[1] * post.shape[2];
  if (c.kind === "pool") {
    const [, inH, inW] = c.inShape;
    const [, outH, outW] = c.outShape;
    for (const [k, x] of Object.entries({
      inH,
      inW,
      outH,
      outW,
      kh: c.kernel[0],
      kw: c.kernel[1],
      sy: c.stride[0],
      sx: c.stride[1],
      weight: c.weight,
      shift: c.shift,
    }))
      scalars.set(k, x);
    return { kernel: kernelNamed(`scatterPool${suffix}`), scalars, arrays };
  }
  const w = c.weights;
  arrays.set("weights", consts.add(`${prefix}_W`, w.data, WEIGHT_CTOR[w.bits]));
  arrays.set("shift", consts.add(`${prefix}_SHIFT`, Uint8Array.from(w.shift), "Uint8Array"));
  scalars.set("shiftPerChannel", w.shift.length !== 1);
  if (c.kind === "dense") {
    scalars.set("channels", channels).set("plane", plane);
    return { kernel: kernelNamed(`scatterDenseW${w.bits}${suffix}`), scalars, arrays };
  }
  if (c.kind === "sparse") {
    const narrow = c.cols instanceof Uint16Array;
    scalars.set("plane", plane);
    arrays.set("rowPtr", consts.add(`${prefix}_ROWPTR`, c.rowPtr, "Uint32Array"));
    arrays.set("cols", consts.add(`${prefix}_COLS`, narrow ? c.cols : Uint32Array.from(c.cols), narrow ? "Uint16Array" : "Uint32Array"));
    return { kernel: kernelNamed(`scatterSparseW${w.bits}C${narrow ? 16 : 32}${suffix}`), scalars, arrays };
  }
  const [inC, inH, inW] = c.inShape;
  const [outK, outH, outW] = c.outShape;
  for (const [k, x] of Object.entries({
    inC,
    inH,
    inW,
    outH,
    outW,
    outK,
    kh: c.kernel[0],
    kw: c.kernel[1],
    sy: c.stride[0],
    sx: c.stride[1],
    py: c.padding[0],
    px: c.padding[1],
  }))
    scalars.set(k, x);
  return { kernel: kernelNamed(`scatterConv2dW${w.bits}${suffix}`), scalars, arrays };
}

const NEURON_KERNEL: Readonly<Record<Layer["neuron"]["model"], string>> = {
  if: "neuronIf",
  "lif-shift": "neuronLifShift",
  "lif-q15": "neuronLifQ15",
  cuba: "neuronCuba",
  integrator: "neuronIntegrator",
};

/** Binding of a layer's neuron kernel (state arrays are the closure's `s<l>_*`). */
function bindNeuron(layer: Layer, l: number, consts: Constants): Binding {
  const p = layer.neuron;
  const plane = layer.shape === undefined ? 1 : layer.shape[1] * layer.shape[2];
  const perNeuron = layer.bias !== undefined && layer.bias.length === layer.size;
  const biasCount = layer.bias === undefined ? 1 : perNeuron ? layer.size : layer.bias.length;
  const biasPlane = layer.bias === undefined ? layer.size : perNeuron ? 1 : plane;
  const bias = consts.add(`L${l}_BIAS`, layer.bias === undefined ? new Int32Array(1) : Int32Array.from(layer.bias), "Int32Array");
  const scalars = new Map<string, Literal>([
    ["biasCount", biasCount],
    ["biasPlane", biasPlane],
    ["vMin", p.vMin],
    ["threshold", p.threshold],
    ["resetSubtract", p.reset === "subtract"],
    ["resetValue", p.resetValue],
    ["refractory", p.refractory],
    ["leak", p.leakShift],
    ["leakQ15", p.leakQ15],
    ["currentShift", p.currentShift],
  ]);
  let kernel = NEURON_KERNEL[p.model];
  const extra: Array<[string, string]> = [];
  if (usesNeuronRules(p)) {
    // spec/ops.md §4.9: the rule kernels, with the interpreter's arguments
    const q15Cuba = p.model === "cuba" && p.synapse === "q15";
    kernel = p.model === "integrator" ? "neuronIntegratorQ15" : "neuronRule";
    scalars.set("leakKind", p.model === "lif-q15" || q15Cuba ? 2 : p.model === "lif-shift" || p.model === "cuba" ? 1 : 0);
    scalars.set("leakBits", p.leakShift);
    scalars.set("leakPerNeuron", p.leakQ15s !== undefined);
    scalars.set("currentKind", q15Cuba ? 2 : p.model === "cuba" ? 1 : 0);
    scalars.set("currentPerNeuron", p.currentQ15s !== undefined);
    scalars.set("compareGt", p.compare === "gt");
    scalars.set("resetDelay", p.resetDelay === true);
    scalars.set("multiSpike", p.multiSpike === true);
    extra.push(["values", `s${l}.values`]);
    extra.push(["leaks", consts.add(`L${l}_LEAKS`, p.leakQ15s !== undefined ? Uint16Array.from(p.leakQ15s) : Uint16Array.of(p.leakQ15), "Uint16Array")]);
    extra.push([
      "currents",
      consts.add(`L${l}_CURRENTS`, p.currentQ15s !== undefined ? Uint16Array.from(p.currentQ15s) : Uint16Array.of(p.currentQ15 ?? 0), "Uint16Array"),
    ]);
  }
  const arrays = new Map<string, string>([
    ...extra,
    ["bias", bias],
    ["acc", `s${l}.acc`],
    ["v", `s${l}.v`],
    ["refr", `s${l}.refr`],
    ["counts", `s${l}.counts`],
    ["current", `s${l}.current`],
  ]);
  return { kernel: kernelNamed(kernel), scalars, arrays };
}

/**
 * The packed rows of the connections the interpreter folds with runtime/fold.ts (spec/ops.md §12.3:
 * dense int8/int4, bound proven, not learning, packed table within MAX_PACKED_BYTES), each declared
 * once as a module constant packed when the module loads.
 */
class PackedRows {
  private readonly declared = new Set<string>();
  /** Whether any fold uses int4 weights (the module then imports int4At). */
  int4 = false;
  constructor(private readonly consts: Constants) {}
  /** Whether any connection folds (the module then imports runtime/fold.ts). */
  get used(): boolean {
    return this.declared.size > 0;
  }
  /** The constant holding the packed rows of connection `c` (weights `${prefix}_W`) into `post`, or undefined where it does not fold. */
  rows(c: Connection, post: Layer, exact: boolean, prefix: string): string | undefined {
    if (!exact || c.kind !== "dense" || c.weights.bits === 16 || post.plasticity !== undefined) return undefined;
    if (packedDenseBytes(c.inputs, c.outputs) > MAX_PACKED_BYTES) return undefined;
    const name = `${prefix}_ROWS`;
    if (!this.declared.has(name)) {
      const plane = post.shape === undefined ? 1 : post.shape[1] * post.shape[2];
      const weightAt = c.weights.bits === 8 ? `(q) => ${prefix}_W[q]!` : `(q) => int4At(${prefix}_W, q)`;
      const shiftOf = c.weights.shift.length === 1 ? `() => ${prefix}_SHIFT[0]!` : `(j) => ${prefix}_SHIFT[Math.floor(j / ${plane})]!`;
      this.consts.lines.push(`const ${name} = packDenseRows(${c.inputs}, ${c.outputs}, ${weightAt}, ${shiftOf})!;`);
      this.declared.add(name);
      this.int4 ||= c.weights.bits === 4;
    }
    return name;
  }
}

/** A local function folding spikes through packed rows (runtime/fold.ts), with a scatter kernel's signature. */
function renderFold(name: string, rows: string): string[] {
  return [
    `  function ${name}(pre: Uint32Array, n: number, _values: Uint8Array, acc: Int32Array): number {`,
    `    return foldDenseSpikes(${rows}, pre, n, acc);`,
    "  }",
  ];
}

/** A local function running a bound kernel; the parameters not bound stay parameters. */
function renderFunction(name: string, b: Binding): string[] {
  const free = b.kernel.params.filter((p) => !b.scalars.has(p.name) && !b.arrays.has(p.name));
  const TYPES: Record<string, string> = { i32: "Int32Array", u32: "Uint32Array", u8: "Uint8Array", i8: "Int8Array", i16: "Int16Array", u16: "Uint16Array" };
  const params = free.map((p) => `${p.name}: ${p.kind === "scalar" ? (p.type === "bool" ? "boolean" : "number") : TYPES[p.elem]}`);
  const used = b.kernel.params.filter((p) => p.kind === "array" && b.arrays.has(p.name));
  return [
    `  function ${name}(${params.join(", ")}): ${b.kernel.returns === "u32" ? "number" : "void"} {`,
    ...used.map((p) => `    const ${p.name} = ${b.arrays.get(p.name)};`),
    ...tsBlock(b.kernel.body, "    ", assignedNames(b.kernel.body), b.scalars),
    "  }",
  ];
}

/**
 * The specialised module for `table` as [file name, contents] pairs: `model.ts`, a copy of the
 * primitives it imports (`fixed.ts`) and, when a connection folds spikes, of `fold.ts`. `root` is the package root holding runtime/.
 */
export function emitTsModel(table: EventTable, source: string, root: string): Array<[name: string, contents: string]> {
  const proofs = Interpreter.accumulationExact(table); // validates the table as the interpreter does
  const consts = new Constants();
  const fns: string[] = [];
  const kernelsUsed: Kernel[] = [];
  const stepLines: string[] = [];
  const stateLines: string[] = [];
  const packed = new PackedRows(consts);
  table.layers.forEach((layer, l) => {
    const cuba = layer.neuron.model === "cuba";
    stateLines.push(
      `  const s${l} = { vInit: ${layer.neuron.vInit ?? 0}, v: new Int32Array(${layer.size}).fill(${layer.neuron.vInit ?? 0}), current: new Int32Array(${cuba ? layer.size : 0}), refr: new Uint8Array(${layer.size}), ` +
        `counts: new Uint32Array(${layer.size}), acc: new Int32Array(${layer.size}), spikes: new Uint32Array(${layer.size}), spikeCount: 0, ` +
        `previous: new Uint32Array(${layer.size}), previousCount: 0, values: new Uint8Array(${layer.neuron.multiSpike === true ? layer.size : 1}) };`,
    );
    // layer 0 has both variants (the graded one reuses the spike variant's module constants); the layer
    // after a multi-spike layer only takes graded events (spec/ops.md §4.9)
    const prevMulti = l > 0 && table.layers[l - 1]!.neuron.multiSpike === true;
    const kinds = l === 0 ? (["spike", "graded"] as const) : prevMulti ? (["graded"] as const) : (["spike"] as const);
    for (const kind of kinds) {
      const exact = kind === "spike" ? proofs[l]!.spikes : proofs[l]!.graded;
      const ff = bindScatter(layer.input, layer, exact, kind === "graded", `L${l}_IN`, kind === "spike" || l > 0 ? consts : new Constants());
      // graded feed-forward steps keep the IR kernel (§12.3); recurrent events are always spikes
      const ffRows = kind === "spike" ? packed.rows(layer.input, layer, exact, `L${l}_IN`) : undefined;
      if (ffRows !== undefined) fns.push(...renderFold(`l${l}FeedForward_${kind}`, ffRows));
      else {
        fns.push(...renderFunction(`l${l}FeedForward_${kind}`, ff));
        kernelsUsed.push(ff.kernel);
      }
      if (layer.recurrent !== undefined) {
        const rec = bindScatter(layer.recurrent, layer, exact, false, `L${l}_REC`, kind === "spike" || l > 0 ? consts : new Constants());
        const recRows = packed.rows(layer.recurrent, layer, exact, `L${l}_REC`);
        if (recRows !== undefined) fns.push(...renderFold(`l${l}Recurrent_${kind}`, recRows));
        else {
          fns.push(...renderFunction(`l${l}Recurrent_${kind}`, rec));
          kernelsUsed.push(rec.kernel);
        }
      }
    }
    const neuron = bindNeuron(layer, l, consts);
    kernelsUsed.push(neuron.kernel);
    fns.push(...renderFunction(`l${l}Update`, neuron));
    const input = l === 0 ? "input.indices, input.indices.length" : `s${l - 1}.spikes, s${l - 1}.spikeCount`;
    const call = (kind: "spike" | "graded"): string[] => [
      `updates += l${l}FeedForward_${kind}(${input}, ${kind === "graded" ? (l === 0 ? "values" : `s${l - 1}.values`) : "EMPTY"}, s${l}.acc);`,
      ...(layer.recurrent !== undefined ? [`updates += l${l}Recurrent_${kind}(s${l}.previous, s${l}.previousCount, EMPTY, s${l}.acc);`] : []),
    ];
    // held input (spec/ops.md §7.3): layer 0's feed-forward sum was folded once by holdInput; its
    // recurrent events are spikes, as in the interpreter's held step
    const heldCall = ["s0.acc.set(held);", ...call("spike").slice(1)];
    stepLines.push(
      `    // layer ${l} '${layer.name}': ${layer.size} ${layer.neuron.model}, input ${layer.input.kind}${layer.recurrent ? `, recurrent ${layer.recurrent.kind}` : ""}`,
      `    { const swap = s${l}.spikes; s${l}.spikes = s${l}.previous; s${l}.previous = swap; s${l}.previousCount = s${l}.spikeCount; }`,
      `    s${l}.acc.fill(0);`,
      ...(l === 0
        ? [
            "    if (held !== undefined) {",
            ...heldCall.map((x) => "      " + x),
            "    } else if (values !== undefined) {",
            ...call("graded").map((x) => "      " + x),
            "    } else {",
            ...call("spike").map((x) => "      " + x),
            "    }",
          ]
        : call(prevMulti ? "graded" : "spike").map((x) => "    " + x)),
      layer.neuron.model === "integrator" ? `    l${l}Update(); s${l}.spikeCount = 0;` : `    s${l}.spikeCount = l${l}Update(s${l}.spikes);`,
    );
  });
  const body = fns.join("\n");
  const layers = table.layers.map((_, l) => `s${l}`).join(", ");
  const last = table.layers.length - 1;
  const prims = primitivesUsed(kernelsUsed);
  if (packed.int4 && !prims.includes("int4At")) prims.push("int4At");
  const model = [
    `// GENERATED by \`picospike codegen --target ts\` from ${source}. DO NOT EDIT: regenerate it.`,
    `// Event-table format version ${FORMAT_VERSION} (spec/ops.md version 1).`,
    "/**",
    ` * ${source} specialised: the interpreter's step for this model (spec/ops.md §6) with the kernels of`,
    " * codegen/kernels.ts inlined per layer, every table parameter a constant. Bit-exact with",
    " * runtime/interpreter.ts on the same table and input. Usage: `const m = createModel(); m.step({ indices });`",
    " */",
    `import { ${prims.join(", ")} } from "./fixed.js";`,
    ...(packed.used ? ['import { foldDenseSpikes, packDenseRows } from "./fold.js";'] : []),
    "",
    "/** One step of input (spec/ops.md §7.1): strictly ascending indices, optional values 1..255. */",
    "export interface StepEvents { readonly indices: Uint32Array; readonly values?: Uint8Array }",
    "",
    "function decode<T>(base64: string, Ctor: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number }): T {",
    "  const binary = atob(base64);",
    "  const bytes = new Uint8Array(binary.length);",
    "  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);",
    "  return new Ctor(bytes.buffer);",
    "}",
    "",
    ...consts.lines,
    "const EMPTY = new Uint8Array(0);",
    "const NO_INPUT: StepEvents = { indices: new Uint32Array(0) };",
    `/** Input size of the model. */`,
    `export const INPUT_SIZE = ${table.input.size};`,
    "",
    "/** A SEMANTICS_BAD_INPUT rejection (the interpreter's code for the same input). */",
    "export class BadInputError extends Error {",
    '  readonly code = "SEMANTICS_BAD_INPUT";',
    "}",
    "",
    "/** The model's state and step; the same API as the interpreter's for stepping and reading back. */",
    "export interface SpecialisedModel {",
    "  step(input: StepEvents): void;",
    "  /** Layer 0's feed-forward input of `input` folded once (spec/ops.md §7.3), for stepHeld; the state is unchanged. */",
    "  holdInput(input: StepEvents): Int32Array;",
    "  /** One step whose input is what holdInput folded: the same integers as step() of those events. */",
    "  stepHeld(held: Int32Array): void;",
    "  reset(): void;",
    "  readonly t: number;",
    "  readonly synapticEvents: number;",
    "  readonly layerCount: number;",
    "  lastSpikes(layer: number): Uint32Array;",
    "  spikeCounts(layer: number): Uint32Array;",
    "  membrane(layer: number): Int32Array;",
    "  current(layer: number): Int32Array;",
    "  readoutClass(): number;",
    "  snapshot(): Uint8Array;",
    "}",
    "",
    "/** A fresh network in the reset state. */",
    "export function createModel(): SpecialisedModel {",
    ...stateLines,
    `  const layers = [${layers}];`,
    `  const codes = [${table.layers.map((x) => NEURON_MODEL_CODE[x.neuron.model]).join(", ")}];`,
    "  let steps = 0;",
    "  let synapticEvents = 0;",
    body,
    "  function argmax(scores: Int32Array | Uint32Array): number {",
    "    let best = 0;",
    "    for (let j = 1; j < scores.length; j++) if (scores[j]! > scores[best]!) best = j;",
    "    return best;",
    "  }",
    "  function at(layer: number): (typeof layers)[number] {",
    "    const L = layers[layer];",
    "    if (L === undefined) throw new RangeError(`layer ${layer} does not exist (the model has ${layers.length})`);",
    "    return L;",
    "  }",
    "  function validate(input: StepEvents): void {",
    "      const { indices, values } = input;",
    '      if (values !== undefined && values.length !== indices.length) throw new BadInputError("input values must be as long as the indices");',
    "      let last = -1;",
    "      for (let e = 0; e < indices.length; e++) {",
    "        const i = indices[e]!;",
    "        if (i >= INPUT_SIZE || i <= last) throw new BadInputError(`input index ${i} is outside the input or not ascending`);",
    "        if (values !== undefined && values[e] === 0) throw new BadInputError(`input event ${e} has value 0 (values are 1..255)`);",
    "        last = i;",
    "      }",
    "  }",
    "  /** One step (spec/ops.md §6) of validated `input`, or (§7.3) with layer 0's feed-forward input `held`. */",
    "  function advance(input: StepEvents, held: Int32Array | undefined): void {",
    "      const { values } = input;",
    "      let updates = 0;",
    ...stepLines.map((x) => "  " + x),
    "      synapticEvents += updates;",
    "      steps++;",
    "  }",
    "  return {",
    "    step(input: StepEvents): void {",
    "      validate(input);",
    "      advance(input, undefined);",
    "    },",
    "    holdInput(input: StepEvents): Int32Array {",
    "      validate(input);",
    `      const held = new Int32Array(${table.layers[0]!.size});`,
    "      synapticEvents += input.values !== undefined",
    "        ? l0FeedForward_graded(input.indices, input.indices.length, input.values, held)",
    "        : l0FeedForward_spike(input.indices, input.indices.length, EMPTY, held);",
    "      return held;",
    "    },",
    "    stepHeld(held: Int32Array): void {",
    `      if (held.length !== ${table.layers[0]!.size}) throw new BadInputError(\`held input has \${held.length} values, layer 0 has ${table.layers[0]!.size} neurons\`);`,
    "      advance(NO_INPUT, held);",
    "    },",
    "    reset(): void {",
    "      for (const L of layers) { L.v.fill(L.vInit); L.current.fill(0); L.refr.fill(0); L.counts.fill(0); L.spikeCount = 0; L.previousCount = 0; }",
    "      steps = 0;",
    "    },",
    "    get t() { return steps; },",
    "    get synapticEvents() { return synapticEvents; },",
    "    get layerCount() { return layers.length; },",
    "    lastSpikes: (layer) => at(layer).spikes.subarray(0, at(layer).spikeCount),",
    "    spikeCounts: (layer) => at(layer).counts,",
    "    membrane: (layer) => at(layer).v,",
    "    current: (layer) => at(layer).current,",
    `    readoutClass: () => ${table.readout.kind === "count" ? `argmax(s${last}.counts)` : `argmax(s${last}.v)`},`,
    "    snapshot(): Uint8Array {",
    "      let length = 16;",
    "      for (const L of layers) length += 12 + L.v.length * 9 + L.current.length * 4 + L.spikeCount * 4;",
    "      const bytes = new Uint8Array(length);",
    "      const view = new DataView(bytes.buffer);",
    "      let o = 0;",
    "      const u32 = (x: number): void => { view.setUint32(o, x, true); o += 4; };",
    `      u32(${SNAPSHOT_MAGIC}); u32(layers.length); u32(steps % 2 ** 32); u32(Math.floor(steps / 2 ** 32));`,
    "      layers.forEach((L, l) => {",
    "        u32(L.v.length); u32(codes[l]!); u32(L.spikeCount);",
    "        for (const x of L.v) { view.setInt32(o, x, true); o += 4; }",
    "        for (const x of L.current) { view.setInt32(o, x, true); o += 4; }",
    "        bytes.set(L.refr, o); o += L.refr.length;",
    "        for (const x of L.counts) u32(x);",
    "        for (let s = 0; s < L.spikeCount; s++) u32(L.spikes[s]!);",
    "      });",
    "      return bytes;",
    "    },",
    "  };",
    "}",
    "",
  ].join("\n");
  const files: Array<[name: string, contents: string]> = [
    ["model.ts", model],
    ["fixed.ts", readFileSync(join(root, "runtime/fixed.ts"), "utf8")],
  ];
  if (packed.used) files.push(["fold.ts", readFileSync(join(root, "runtime/fold.ts"), "utf8")]);
  return files;
}
