/**
 * The per-step kernels of spec/ops.md, written once in the IR of codegen/ir.ts: neuron updates for
 * every model (§4), synaptic scatter for every connection kind and weight width (§3, §5), and the
 * readout argmax (§9). The TS interpreter (runtime/interpreter.ts) and the C network runtime
 * (firmware/src/ps_net.c) call exactly these, emitted as runtime/kernels_generated.ts and
 * firmware/src/ps_kernels_generated.c. The orchestration that calls them (layer loop, spike list
 * hand-over, §6) is hand-written in both languages; it does no arithmetic on state.
 */
import {
  append,
  arr,
  cast,
  checkKernel,
  cmp,
  for_,
  if_,
  input,
  ix,
  k,
  ld,
  not,
  let_,
  output,
  prim,
  ret,
  scalar,
  sel,
  set,
  st,
  v,
  type Expr,
  type Kernel,
  type Param,
  type Stmt,
} from "./ir.js";
import { PLASTICITY_KERNELS } from "./kernels-plasticity.js";

const UINT32_MAX = 0xffffffff;

/** Stored weight widths; int4 is a packed u8 array read with int4At. */
const WEIGHT_WIDTHS = [4, 8, 16] as const;
type Bits = (typeof WEIGHT_WIDTHS)[number];

function weightsParam(bits: Bits): Param {
  return input("weights", bits === 4 ? "u8" : bits === 8 ? "i8" : "i16");
}

/** The stored weight at index q, as i32. */
function weightAt(bits: Bits, q: Expr): Expr {
  return bits === 4 ? prim("int4At", arr("weights"), q) : cast("i32", ld("weights", q));
}

/** Parameters every scatter kernel starts with: the presynaptic events. */
const EVENT_PARAMS: Param[] = [input("pre", "u32"), scalar("n", "u32"), input("values", "u8"), scalar("graded", "bool")];

/** Loop over the events; binds p (presynaptic index) and value (1, or the graded value). */
function forEachEvent(body: Stmt[]): Stmt {
  return for_("e", k(0), v("n"), "input events of the step (<= presynaptic layer size)", [
    let_("p", "u32", ld("pre", v("e"))),
    let_("value", "u32", sel(v("graded"), cast("u32", ld("values", v("e"))), k(1))),
    ...body,
  ]);
}

/**
 * How a scatter kernel folds: `sat` is spec/ops.md §3 as written (saturating product and add);
 * `exact` uses plain int32 arithmetic and may only run when the accumulation bound of §12.1 holds.
 */
type Fold = "sat" | "exact";

/** The accumulation bound of spec/ops.md §12.1, the precondition of every `exact` scatter kernel. */
const EXACT_PRECONDITION =
  "accumulation bound (spec/ops.md §12.1): for every target j, the sum over every synapse that can reach j in one step of |w|·vmax·2^shift is at most 2^31−1";

/** acc[j] folded with the contribution w·scale (scale = synScale(value, shift), §3.1, §3.2). */
function fold(mode: Fold, j: Expr, w: Expr, scale: Expr): Stmt {
  return mode === "sat"
    ? st("acc", j, prim("satAdd32", ld("acc", j), prim("mulSat32", w, scale)))
    : st("acc", j, prim("addExact32", ld("acc", j), prim("mulExact32", w, scale)));
}

/** acc[j] folded with a precomputed contribution (pool). */
function foldContrib(mode: Fold, j: Expr, contrib: Expr): Stmt {
  return st("acc", j, prim(mode === "sat" ? "satAdd32" : "addExact32", ld("acc", j), contrib));
}

/** Kernel name suffix of a fold mode. */
function foldSuffix(mode: Fold): string {
  return mode === "sat" ? "" : "Exact";
}

/** Doc sentence and precondition of a fold mode. */
function foldDoc(mode: Fold): { doc: string; precondition?: string } {
  return mode === "sat"
    ? { doc: " Saturating fold (spec/ops.md §3)." }
    : { doc: " Plain int32 fold, exact under the accumulation bound of spec/ops.md §12.1 (the caller proves it at load).", precondition: EXACT_PRECONDITION };
}

/** Shift parameters of dense and sparse connections: per layer, or per channel of the post layer (§5.1). */
const POST_SHIFT: Param[] = [input("shift", "u8"), scalar("shiftPerChannel", "bool"), scalar("plane", "u32")];

/** The shift of post channel `ch` (entry 0 when the shift is per layer). */
function shiftOfChannel(ch: Expr): Expr {
  return ld("shift", sel(v("shiftPerChannel"), ch, k(0)));
}

/** |w| of an i32 weight (satSub32(0, w) is exact for every stored weight). */
function absWeight(w: Expr): Expr {
  return sel(cmp("lt", w, k(0, "i32")), prim("satSub32", k(0, "i32"), w), w);
}

function scatterDense(bits: Bits, mode: Fold): Kernel {
  const { doc, precondition } = foldDoc(mode);
  return {
    name: `scatterDenseW${bits}${foldSuffix(mode)}`,
    doc: `Dense fan-out with int${bits} weights (spec/ops.md §5.2): pre p reaches every j with weight p·outputs + j; post neuron j = ch·plane + q is in channel ch. With one shift per layer the event's scale value·2^shift is hoisted out of one flat loop over the row; per channel it is hoisted per channel.${doc} Returns the synaptic updates done.`,
    params: [...EVENT_PARAMS, scalar("channels", "u32"), weightsParam(bits), ...POST_SHIFT, output("acc", "i32")],
    returns: "u32",
    ...(precondition !== undefined ? { precondition } : {}),
    body: [
      let_("outputs", "u32", ix("mul", v("channels"), v("plane"))),
      forEachEvent([
        let_("base", "u32", ix("mul", v("p"), v("outputs"))),
        if_(
          v("shiftPerChannel"),
          [
            for_("ch", k(0), v("channels"), "post channels", [
              let_("scale", "i32", prim("synScale", v("value"), ld("shift", v("ch")))),
              let_("rowStart", "u32", ix("mul", v("ch"), v("plane"))),
              for_("q", k(0), v("plane"), "neurons per post channel", [
                let_("j", "u32", ix("add", v("rowStart"), v("q"))),
                fold(mode, v("j"), weightAt(bits, ix("add", v("base"), v("j"))), v("scale")),
              ]),
            ]),
          ],
          [
            let_("scale", "i32", prim("synScale", v("value"), ld("shift", k(0)))),
            for_("j", k(0), v("outputs"), "post layer size", [fold(mode, v("j"), weightAt(bits, ix("add", v("base"), v("j"))), v("scale"))]),
          ],
        ),
      ]),
      ret(ix("mul", v("n"), v("outputs"))),
    ],
  };
}

function scatterSparse(bits: Bits, colBits: 16 | 32, mode: Fold): Kernel {
  const { doc, precondition } = foldDoc(mode);
  const row = (scale: Expr): Stmt =>
    for_("q", v("start"), v("end"), "CSR row length", [let_("j", "u32", cast("u32", ld("cols", v("q")))), fold(mode, v("j"), weightAt(bits, v("q")), scale)]);
  return {
    name: `scatterSparseW${bits}C${colBits}${foldSuffix(mode)}`,
    doc: `CSR fan-out with int${bits} weights and uint${colBits} columns (spec/ops.md §5.3): pre p reaches j = cols[q] (channel j / plane) with weight q for q in rowPtr[p]..rowPtr[p+1]-1, in CSR order. The event scale is hoisted per row when the shift is per layer; per channel it is looked up per synapse (no division when a channel is one neuron).${doc} Returns the synaptic updates done.`,
    params: [...EVENT_PARAMS, input("rowPtr", "u32"), input("cols", colBits === 16 ? "u16" : "u32"), weightsParam(bits), ...POST_SHIFT, output("acc", "i32")],
    returns: "u32",
    ...(precondition !== undefined ? { precondition } : {}),
    body: [
      let_("updates", "u32", k(0)),
      forEachEvent([
        let_("start", "u32", ld("rowPtr", v("p"))),
        let_("end", "u32", ld("rowPtr", ix("add", v("p"), k(1)))),
        if_(
          v("shiftPerChannel"),
          [
            if_(
              cmp("eq", v("plane"), k(1)),
              [row(prim("synScale", v("value"), ld("shift", v("j"))))],
              [row(prim("synScale", v("value"), ld("shift", ix("div", v("j"), v("plane")))))],
            ),
          ],
          [let_("scale", "i32", prim("synScale", v("value"), ld("shift", k(0)))), row(v("scale"))],
        ),
        set("updates", ix("add", v("updates"), ix("sub", v("end"), v("start")))),
      ]),
      ret(v("updates")),
    ],
  };
}

/**
 * Binds, for one input coordinate `c` (y or x) with padding, the output range lo..hi-1 it reaches
 * along one axis (spec/ops.md §5.4): o with c + pad − t = o·stride for a tap t in 0..kernel−1, i.e.
 * ceil((c + pad − kernel + 1) / stride) ≤ o ≤ floor((c + pad) / stride), clipped to 0..outLen−1.
 */
function axisRange(coord: string, pad: Expr, kernelLen: string, stride: string, outLen: string, prefix: string): Stmt[] {
  const padded = `${prefix}Pad`;
  const hi = `${prefix}Hi`;
  const lo = `${prefix}Lo`;
  const reach = ix("add", v(padded), k(1)); // padded + 1 > kernel  <=>  padded - kernel + 1 > 0
  return [
    let_(padded, "u32", ix("add", v(coord), pad)),
    let_(hi, "u32", ix("min", ix("add", ix("div", v(padded), v(stride)), k(1)), v(outLen))),
    let_(
      lo,
      "u32",
      ix("min", sel(cmp("gt", reach, v(kernelLen)), ix("div", ix("sub", ix("add", ix("sub", reach, v(kernelLen)), v(stride)), k(1)), v(stride)), k(0)), v(hi)),
    ),
  ];
}

/** Splits p into (c, y, x) of an (inC, inH, inW) map. */
function coordinates(): Stmt[] {
  return [
    let_("c", "u32", ix("div", v("p"), v("plane"))),
    let_("rem", "u32", ix("sub", v("p"), ix("mul", v("c"), v("plane")))),
    let_("y", "u32", ix("div", v("rem"), v("inW"))),
    let_("x", "u32", ix("sub", v("rem"), ix("mul", v("y"), v("inW")))),
  ];
}

const GEOMETRY: Param[] = [
  scalar("inH", "u32"),
  scalar("inW", "u32"),
  scalar("outH", "u32"),
  scalar("outW", "u32"),
  scalar("kh", "u32"),
  scalar("kw", "u32"),
  scalar("sy", "u32"),
  scalar("sx", "u32"),
];

function scatterConv2d(bits: Bits, mode: Fold): Kernel {
  const { doc, precondition } = foldDoc(mode);
  const body: Stmt[] = [
    ...coordinates(),
    ...axisRange("y", v("py"), "kh", "sy", "outH", "oy"),
    ...axisRange("x", v("px"), "kw", "sx", "outW", "ox"),
    for_("kk", k(0), v("outK"), "output channels K", [
      let_("scale", "i32", prim("synScale", v("value"), shiftOfChannel(v("kk")))),
      let_("wBase", "u32", ix("mul", ix("add", ix("mul", v("kk"), v("inC")), v("c")), v("kh"))),
      for_("oy", v("oyLo"), v("oyHi"), "output height", [
        let_("wRow", "u32", ix("add", ix("mul", ix("add", v("wBase"), ix("sub", v("oyPad"), ix("mul", v("oy"), v("sy")))), v("kw")), v("oxPad"))),
        let_("outRow", "u32", ix("mul", ix("add", ix("mul", v("kk"), v("outH")), v("oy")), v("outW"))),
        for_("ox", v("oxLo"), v("oxHi"), "output width", [
          fold(mode, ix("add", v("outRow"), v("ox")), weightAt(bits, ix("sub", v("wRow"), ix("mul", v("ox"), v("sx")))), v("scale")),
        ]),
      ]),
    ]),
    set("updates", ix("add", v("updates"), ix("mul", v("outK"), ix("mul", ix("sub", v("oyHi"), v("oyLo")), ix("sub", v("oxHi"), v("oxLo")))))),
  ];
  return {
    name: `scatterConv2dW${bits}${foldSuffix(mode)}`,
    doc: `Conv2d by event-driven scatter with int${bits} weights [K][C][kh][kw] (spec/ops.md §5.4): an event at (c, y, x) reaches (k, oy, ox) with y + py − ky = oy·sy and x + px − kx = ox·sx; the scale is hoisted per output channel.${doc} Returns the synaptic updates done.`,
    params: [
      ...EVENT_PARAMS,
      scalar("inC", "u32"),
      ...GEOMETRY,
      scalar("py", "u32"),
      scalar("px", "u32"),
      scalar("outK", "u32"),
      weightsParam(bits),
      input("shift", "u8"),
      scalar("shiftPerChannel", "bool"),
      output("acc", "i32"),
    ],
    returns: "u32",
    ...(precondition !== undefined ? { precondition } : {}),
    body: [let_("plane", "u32", ix("mul", v("inH"), v("inW"))), let_("updates", "u32", k(0)), forEachEvent(body), ret(v("updates"))],
  };
}

function scatterPool(mode: Fold): Kernel {
  const { doc, precondition } = foldDoc(mode);
  const body: Stmt[] = [
    ...coordinates(),
    ...axisRange("y", k(0), "kh", "sy", "outH", "oy"),
    ...axisRange("x", k(0), "kw", "sx", "outW", "ox"),
    let_("contrib", "i32", prim("synContrib", v("weight"), v("value"), v("shift"))),
    for_("oy", v("oyLo"), v("oyHi"), "output height", [
      let_("outRow", "u32", ix("mul", ix("add", ix("mul", v("c"), v("outH")), v("oy")), v("outW"))),
      for_("ox", v("oxLo"), v("oxHi"), "output width", [foldContrib(mode, ix("add", v("outRow"), v("ox")), v("contrib"))]),
    ]),
    set("updates", ix("add", v("updates"), ix("mul", ix("sub", v("oyHi"), v("oyLo")), ix("sub", v("oxHi"), v("oxLo"))))),
  ];
  return {
    name: `scatterPool${foldSuffix(mode)}`,
    doc: `Sum pooling by scatter (spec/ops.md §5.5): an event at (c, y, x) reaches every window (c, oy, ox) containing it, with synContrib(weight, value, shift).${doc} Returns the synaptic updates done.`,
    params: [...EVENT_PARAMS, ...GEOMETRY, scalar("weight", "i32"), scalar("shift", "u8"), output("acc", "i32")],
    returns: "u32",
    ...(precondition !== undefined ? { precondition } : {}),
    body: [let_("plane", "u32", ix("mul", v("inH"), v("inW"))), let_("updates", "u32", k(0)), forEachEvent(body), ret(v("updates"))],
  };
}

// ---- accumulation bounds (spec/ops.md §12.1): run once at load, decide sat or exact ---------------

/** bound[j] = satAdd32(bound[j], synContrib(|w|, vmax, shift)). */
function foldBound(j: Expr, w: Expr, shift: Expr): Stmt {
  return st("bound", j, prim("satAdd32", ld("bound", j), prim("synContrib", absWeight(w), v("vmax"), shift)));
}

const BOUND_DOC =
  "Adds to bound[j], saturating, |w|·vmax·2^shift of every synapse that can reach target j in one step (spec/ops.md §12.1); run at load over the layer's connections, bound[j] < 2^31−1 for every j proves the exact kernels equal the saturating ones.";

function boundDense(bits: Bits): Kernel {
  return {
    name: `boundDenseW${bits}`,
    doc: `Accumulation bound of a dense connection with int${bits} weights. ${BOUND_DOC}`,
    params: [scalar("inputs", "u32"), scalar("channels", "u32"), weightsParam(bits), ...POST_SHIFT, scalar("vmax", "u32"), output("bound", "i32")],
    returns: "void",
    body: [
      let_("outputs", "u32", ix("mul", v("channels"), v("plane"))),
      for_("p", k(0), v("inputs"), "presynaptic layer size", [
        for_("ch", k(0), v("channels"), "post channels", [
          let_("s", "u8", shiftOfChannel(v("ch"))),
          for_("q", k(0), v("plane"), "neurons per post channel", [
            let_("j", "u32", ix("add", ix("mul", v("ch"), v("plane")), v("q"))),
            foldBound(v("j"), weightAt(bits, ix("add", ix("mul", v("p"), v("outputs")), v("j"))), v("s")),
          ]),
        ]),
      ]),
    ],
  };
}

function boundSparse(bits: Bits, colBits: 16 | 32): Kernel {
  return {
    name: `boundSparseW${bits}C${colBits}`,
    doc: `Accumulation bound of a CSR connection with int${bits} weights and uint${colBits} columns. ${BOUND_DOC}`,
    params: [
      scalar("inputs", "u32"),
      input("rowPtr", "u32"),
      input("cols", colBits === 16 ? "u16" : "u32"),
      weightsParam(bits),
      ...POST_SHIFT,
      scalar("vmax", "u32"),
      output("bound", "i32"),
    ],
    returns: "void",
    body: [
      for_("p", k(0), v("inputs"), "presynaptic layer size", [
        for_("q", ld("rowPtr", v("p")), ld("rowPtr", ix("add", v("p"), k(1))), "CSR row length", [
          let_("j", "u32", cast("u32", ld("cols", v("q")))),
          foldBound(v("j"), weightAt(bits, v("q")), shiftOfChannel(ix("div", v("j"), v("plane")))),
        ]),
      ]),
    ],
  };
}

function boundConv2d(bits: Bits): Kernel {
  return {
    name: `boundConv2dW${bits}`,
    doc: `Accumulation bound of a conv2d connection with int${bits} weights: an output (k, oy, ox) receives at most one contribution per tap (c, ky, kx), so every output of channel k gets the channel's sum of |w|. ${BOUND_DOC}`,
    params: [
      scalar("inC", "u32"),
      scalar("kh", "u32"),
      scalar("kw", "u32"),
      scalar("outK", "u32"),
      scalar("outPlane", "u32"),
      weightsParam(bits),
      input("shift", "u8"),
      scalar("shiftPerChannel", "bool"),
      scalar("vmax", "u32"),
      output("bound", "i32"),
    ],
    returns: "void",
    body: [
      let_("taps", "u32", ix("mul", ix("mul", v("inC"), v("kh")), v("kw"))),
      for_("kk", k(0), v("outK"), "output channels K", [
        let_("s", "u8", shiftOfChannel(v("kk"))),
        let_("total", "i32", k(0, "i32")),
        for_("t", k(0), v("taps"), "weights per output channel (C·kh·kw)", [
          set(
            "total",
            prim("satAdd32", v("total"), prim("synContrib", absWeight(weightAt(bits, ix("add", ix("mul", v("kk"), v("taps")), v("t")))), v("vmax"), v("s"))),
          ),
        ]),
        for_("o", k(0), v("outPlane"), "output plane OH·OW", [
          let_("j", "u32", ix("add", ix("mul", v("kk"), v("outPlane")), v("o"))),
          st("bound", v("j"), prim("satAdd32", ld("bound", v("j")), v("total"))),
        ]),
      ]),
    ],
  };
}

function boundPool(): Kernel {
  return {
    name: "boundPool",
    doc: `Accumulation bound of a sum pooling connection: an output receives at most kh·kw contributions (one per input of its window). ${BOUND_DOC}`,
    params: [
      scalar("kh", "u32"),
      scalar("kw", "u32"),
      scalar("weight", "i32"),
      scalar("shift", "u8"),
      scalar("outputs", "u32"),
      scalar("vmax", "u32"),
      output("bound", "i32"),
    ],
    returns: "void",
    body: [
      let_("contrib", "i32", prim("synContrib", absWeight(v("weight")), v("vmax"), v("shift"))),
      let_("total", "i32", k(0, "i32")),
      for_("t", k(0), ix("mul", v("kh"), v("kw")), "pool window kh·kw", [set("total", prim("satAdd32", v("total"), v("contrib")))]),
      for_("j", k(0), v("outputs"), "post layer size", [st("bound", v("j"), prim("satAdd32", ld("bound", v("j")), v("total")))]),
    ],
  };
}

type SpikingModel = "if" | "lifShift" | "lifQ15" | "cuba";

/** Neuron parameters shared by every model kernel; bias[b] applies to neurons b·biasPlane .. (b+1)·biasPlane−1 (§4.7). */
const NEURON_COMMON: Param[] = [
  scalar("biasCount", "u32"),
  scalar("biasPlane", "u32"),
  input("bias", "i32"),
  input("acc", "i32"),
  scalar("vMin", "i32"),
  output("v", "i32"),
];

/** Loops over every neuron j with its bias `b` (per neuron or per channel). */
function forEachNeuron(body: Stmt[]): Stmt {
  return for_("bi", k(0), v("biasCount"), "bias entries (neurons or channels)", [
    let_("b", "i32", ld("bias", v("bi"))),
    for_("q", k(0), v("biasPlane"), "neurons per bias entry", [let_("j", "u32", ix("add", ix("mul", v("bi"), v("biasPlane")), v("q"))), ...body]),
  ]);
}

function neuronSpiking(model: SpikingModel): Kernel {
  const leakParams: Param[] =
    model === "lifShift"
      ? [scalar("leak", "u8")]
      : model === "lifQ15"
        ? [scalar("leakQ15", "i32")]
        : model === "cuba"
          ? [scalar("leak", "u8"), scalar("currentShift", "u8"), output("current", "i32")]
          : [];
  const leaked: Expr =
    model === "lifShift" || model === "cuba" ? prim("leakShift", v("x"), v("leak")) : model === "lifQ15" ? prim("q15Mul", v("x"), v("leakQ15")) : v("x");
  // §4.1 step 1: a cuba current evolves whether or not the membrane is refractory.
  const inputStmts: Stmt[] =
    model === "cuba"
      ? [
          let_("syn", "i32", prim("satAdd32", prim("currentDecay", ld("current", v("j")), v("currentShift")), ld("acc", v("j")))),
          st("current", v("j"), v("syn")),
        ]
      : [let_("syn", "i32", ld("acc", v("j")))];
  const name = `neuron${model[0]!.toUpperCase()}${model.slice(1)}`;
  return {
    name,
    doc: `One step of every ${model} neuron of a layer (spec/ops.md §4.1${model === "lifShift" ? ", §4.2" : model === "lifQ15" ? ", §4.3" : model === "cuba" ? ", §4.4" : ""}): leak, bias, input, threshold, reset, clamp, refractory; appends the neurons that spike (ascending) to spikes, counts them, and returns how many spiked.`,
    params: [
      ...NEURON_COMMON,
      ...leakParams,
      scalar("threshold", "i32"),
      scalar("resetSubtract", "bool"),
      scalar("resetValue", "i32"),
      scalar("refractory", "u8"),
      output("refr", "u8"),
      output("counts", "u32"),
      output("spikes", "u32"),
    ],
    returns: "u32",
    body: [
      let_("fired", "u32", k(0)),
      forEachNeuron([
        ...inputStmts,
        let_("x", "i32", ld("v", v("j"))),
        ...(model === "if" ? [] : [set("x", leaked)]),
        let_("left", "u8", ld("refr", v("j"))),
        if_(
          cmp("gt", v("left"), k(0, "u8")),
          [
            // §4.1 step 2: refractory: leak and clamp only; bias and input are discarded.
            st("refr", v("j"), cast("u8", ix("sub", v("left"), k(1, "u8")))),
            st("v", v("j"), prim("clampMin", v("x"), v("vMin"))),
          ],
          [
            set("x", prim("satAdd32", prim("satAdd32", v("x"), v("b")), v("syn"))),
            if_(cmp("ge", v("x"), v("threshold")), [
              set("x", sel(v("resetSubtract"), prim("satSub32", v("x"), v("threshold")), v("resetValue"))),
              append("spikes", "fired", v("j")),
              let_("count", "u32", ld("counts", v("j"))),
              if_(cmp("ne", v("count"), k(UINT32_MAX)), [st("counts", v("j"), ix("add", v("count"), k(1)))]),
              st("refr", v("j"), v("refractory")),
            ]),
            st("v", v("j"), prim("clampMin", v("x"), v("vMin"))),
          ],
        ),
      ]),
      ret(v("fired")),
    ],
  };
}

/** The spike test of spec/ops.md §4.9: x > threshold when compareGt, else x >= threshold. */
function spikeTest(x: Expr): Expr {
  return sel(v("compareGt"), cmp("gt", x, v("threshold")), cmp("ge", x, v("threshold")));
}

/** The retention of neuron j from a per-neuron array, or its entry 0 when the layer has one value. */
function retention(array: string, perNeuron: string): Expr {
  return cast("i32", ld(array, sel(v(perNeuron), v("j"), k(0))));
}

/**
 * One step of every neuron of a layer that uses a version-2 rule (spec/ops.md §4.9): any spiking
 * model, its leak and synapse chosen by `leakKind` and `currentKind` (0 none, 1 shift, 2 Q15).
 * Layers without these rules keep their own kernels, so the rules cost them nothing.
 */
function neuronRule(): Kernel {
  return {
    name: "neuronRule",
    doc: "One step of every spiking neuron of a layer with the version-2 rules of spec/ops.md §4.9: leakKind and currentKind 0 none, 1 shift by leakBits / currentShift (§4.2, §4.4), 2 Q15 (per layer, or per neuron when leakPerNeuron/currentPerNeuron; the Q15 current takes the bias); `>` or `≥`; the subtraction of last step's spike one step late (resetDelay: pending when the stored v passes the test); then reset (multiSpike: n = min(floor(v/θ), 255) spikes, n·θ subtracted, n written to values[k] beside spikes[k]), clamp, refractory. Appends the neurons that spike (ascending) to spikes, counts them (n each), and returns how many spiked.",
    params: [
      ...NEURON_COMMON,
      scalar("leakKind", "u8"),
      scalar("leakBits", "u8"),
      input("leaks", "u16"),
      scalar("leakPerNeuron", "bool"),
      scalar("currentKind", "u8"),
      scalar("currentShift", "u8"),
      input("currents", "u16"),
      scalar("currentPerNeuron", "bool"),
      output("current", "i32"),
      scalar("threshold", "i32"),
      scalar("compareGt", "bool"),
      scalar("resetDelay", "bool"),
      scalar("multiSpike", "bool"),
      scalar("resetSubtract", "bool"),
      scalar("resetValue", "i32"),
      scalar("refractory", "u8"),
      output("refr", "u8"),
      output("counts", "u32"),
      output("spikes", "u32"),
      output("values", "u8"),
    ],
    returns: "u32",
    body: [
      let_("fired", "u32", k(0)),
      forEachNeuron([
        // §4.9 step 1: the current evolves whether or not the membrane is refractory
        let_("syn", "i32", ld("acc", v("j"))),
        let_("drive", "i32", v("b")),
        if_(cmp("eq", v("currentKind"), k(1, "u8")), [
          set("syn", prim("satAdd32", prim("currentDecay", ld("current", v("j")), v("currentShift")), ld("acc", v("j")))),
          st("current", v("j"), v("syn")),
        ]),
        if_(cmp("eq", v("currentKind"), k(2, "u8")), [
          set(
            "syn",
            prim("satAdd32", prim("satAdd32", prim("q15Mul", ld("current", v("j")), retention("currents", "currentPerNeuron")), v("b")), ld("acc", v("j"))),
          ),
          st("current", v("j"), v("syn")),
          set("drive", k(0, "i32")),
        ]),
        let_("x", "i32", ld("v", v("j"))),
        // step 2: a neuron with resetDelay never resets at once, so its stored v passes the test exactly when it spiked last step
        let_("pending", "bool", sel(v("resetDelay"), spikeTest(v("x")), v("resetDelay"))),
        if_(cmp("eq", v("leakKind"), k(1, "u8")), [set("x", prim("leakShift", v("x"), v("leakBits")))]),
        if_(cmp("eq", v("leakKind"), k(2, "u8")), [set("x", prim("q15Mul", v("x"), retention("leaks", "leakPerNeuron")))]),
        let_("left", "u8", ld("refr", v("j"))),
        if_(
          cmp("gt", v("left"), k(0, "u8")),
          [st("refr", v("j"), cast("u8", ix("sub", v("left"), k(1, "u8")))), st("v", v("j"), prim("clampMin", v("x"), v("vMin")))],
          [
            set("x", prim("satAdd32", prim("satAdd32", v("x"), v("drive")), v("syn"))),
            if_(v("pending"), [set("x", prim("satSub32", v("x"), v("threshold")))]),
            if_(spikeTest(v("x")), [
              // a multi-spike neuron emits n = min(floor(v/θ), 255) spikes as one graded event and subtracts n·θ
              let_("n", "u32", sel(v("multiSpike"), prim("spikeCount", v("x"), v("threshold")), k(1))),
              if_(not(v("resetDelay")), [set("x", sel(v("resetSubtract"), prim("subCount", v("x"), v("n"), v("threshold")), v("resetValue")))]),
              if_(v("multiSpike"), [st("values", v("fired"), cast("u8", v("n")))]),
              append("spikes", "fired", v("j")),
              let_("count", "u32", ld("counts", v("j"))),
              st("counts", v("j"), sel(cmp("gt", v("count"), ix("sub", k(UINT32_MAX), v("n"))), k(UINT32_MAX), ix("add", v("count"), v("n")))),
              st("refr", v("j"), v("refractory")),
            ]),
            st("v", v("j"), prim("clampMin", v("x"), v("vMin"))),
          ],
        ),
      ]),
      ret(v("fired")),
    ],
  };
}

/** The leaking readout of spec/ops.md §4.9: an integrator whose membrane keeps a Q15 retention per neuron (or one per layer). */
function neuronIntegratorQ15(): Kernel {
  return {
    name: "neuronIntegratorQ15",
    doc: "One step of every leaking integrator neuron of a layer (spec/ops.md §4.9): v = clampMin(satAdd32(satAdd32(q15Mul(v, leak), b), acc), vMin) with leak = leaks[j], or leaks[0] when the layer has one; never spikes.",
    params: [...NEURON_COMMON, input("leaks", "u16"), scalar("leakPerNeuron", "bool")],
    returns: "void",
    body: [
      forEachNeuron([
        st(
          "v",
          v("j"),
          prim(
            "clampMin",
            prim("satAdd32", prim("satAdd32", prim("q15Mul", ld("v", v("j")), retention("leaks", "leakPerNeuron")), v("b")), ld("acc", v("j"))),
            v("vMin"),
          ),
        ),
      ]),
    ],
  };
}

function neuronIntegrator(): Kernel {
  return {
    name: "neuronIntegrator",
    doc: "One step of every integrator neuron of a layer (spec/ops.md §4.5): v = clampMin(satAdd32(satAdd32(v, b), acc), vMin); never spikes.",
    params: NEURON_COMMON,
    returns: "void",
    body: [forEachNeuron([st("v", v("j"), prim("clampMin", prim("satAdd32", prim("satAdd32", ld("v", v("j")), v("b")), ld("acc", v("j"))), v("vMin")))])],
  };
}

function argmax(elem: "i32" | "u32"): Kernel {
  return {
    name: elem === "i32" ? "argmaxI32" : "argmaxU32",
    doc: `Index of the largest of scores[0..size-1] (${elem === "i32" ? "membranes" : "spike counts"}), ties to the lowest index (spec/ops.md §9); 0 for size 0.`,
    params: [input("scores", elem), scalar("size", "u32")],
    returns: "u32",
    body: [
      let_("best", "u32", k(0)),
      for_("j", k(1), v("size"), "layer size", [if_(cmp("gt", ld("scores", v("j")), ld("scores", v("best"))), [set("best", v("j"))])]),
      ret(v("best")),
    ],
  };
}

const FOLDS: readonly Fold[] = ["sat", "exact"];

/** Every kernel, in emission order. */
export const KERNELS: readonly Kernel[] = [
  neuronSpiking("if"),
  neuronSpiking("lifShift"),
  neuronSpiking("lifQ15"),
  neuronSpiking("cuba"),
  neuronIntegrator(),
  neuronRule(),
  neuronIntegratorQ15(),
  ...FOLDS.flatMap((mode) => WEIGHT_WIDTHS.map((bits) => scatterDense(bits, mode))),
  ...FOLDS.flatMap((mode) => WEIGHT_WIDTHS.map((bits) => scatterSparse(bits, 16, mode))),
  ...FOLDS.flatMap((mode) => WEIGHT_WIDTHS.map((bits) => scatterSparse(bits, 32, mode))),
  ...FOLDS.flatMap((mode) => WEIGHT_WIDTHS.map((bits) => scatterConv2d(bits, mode))),
  ...FOLDS.map(scatterPool),
  ...WEIGHT_WIDTHS.map(boundDense),
  ...WEIGHT_WIDTHS.map((bits) => boundSparse(bits, 16)),
  ...WEIGHT_WIDTHS.map((bits) => boundSparse(bits, 32)),
  ...WEIGHT_WIDTHS.map(boundConv2d),
  boundPool(),
  argmax("i32"),
  argmax("u32"),
  ...PLASTICITY_KERNELS,
];

for (const kernel of KERNELS) checkKernel(kernel);
