/**
 * The plasticity kernels of spec/ops.md §11 (pair-based STDP and reward-modulated STDP), written
 * once in the IR of codegen/ir.ts and emitted with the other kernels (codegen/kernels.ts appends
 * PLASTICITY_KERNELS) into runtime/kernels_generated.ts and firmware/src/ps_kernels_generated.c.
 *
 * A plastic layer learns on an int16 working copy of its feed-forward weights; traces and
 * eligibility are int16. `direct` selects the rule: true (`stdp`) changes the weight at once,
 * false (`rstdp`) changes the eligibility, which a reward later turns into a weight change.
 */
import {
  arr,
  cast,
  cmp,
  for_,
  if_,
  input,
  ix,
  k,
  ld,
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

/**
 * The reward step's factor (spec/ops.md §11.3): `m = sat16(reward − baseline)` from the stored
 * baseline `b`, as `b`, `error` and `m`; the baseline's own update follows in each kernel.
 */
function rewardFactor(): Stmt[] {
  return [let_("b", "i32", ld("baseline", k(0))), let_("error", "i32", prim("satSub32", v("reward"), v("b"))), let_("m", "i32", prim("sat16", v("error")))];
}

/** What every synapse update needs: the rule, the working weights, the eligibility and the clamp. */
const SYNAPSE_PARAMS: Param[] = [
  scalar("direct", "bool"),
  output("weights", "i16"),
  output("elig", "i16"),
  scalar("learningShift", "u8"),
  scalar("wMin", "i32"),
  scalar("wMax", "i32"),
];

/**
 * One pairing's change of synapse q by `amount` (≥ 0) in direction `sign` (§11.3):
 * stdp: w = clamp(w ± floor(amount / 2^learningShift), wMin, wMax); rstdp: e = sat16(e ± amount).
 */
function pairing(q: Expr, amount: Expr, sign: "add" | "sub"): Stmt {
  const op = sign === "add" ? "satAdd32" : "satSub32";
  return if_(
    v("direct"),
    [
      st(
        "weights",
        q,
        cast("i16", prim("clamp", prim(op, cast("i32", ld("weights", q)), prim("shrFloor32", amount, v("learningShift"))), v("wMin"), v("wMax"))),
      ),
    ],
    [st("elig", q, cast("i16", prim("sat16", prim(op, cast("i32", ld("elig", q)), amount))))],
  );
}

function decayAll(): Kernel {
  return {
    name: "plasticDecay",
    doc: "Decays every entry of a trace or eligibility array toward 0 (spec/ops.md §11.2 step 1): x = traceDecay(x, shift).",
    params: [output("trace", "i16"), scalar("size", "u32"), scalar("shift", "u8")],
    returns: "void",
    body: [
      for_("i", k(0), v("size"), "trace length (neurons or plastic synapses)", [
        st("trace", v("i"), cast("i16", prim("traceDecay", cast("i32", ld("trace", v("i"))), v("shift")))),
      ]),
    ],
  };
}

function bump(): Kernel {
  return {
    name: "plasticBump",
    doc: "Adds the trace increment to the traces of the neurons that spiked this step (spec/ops.md §11.2 steps 3-4): x = sat16(x + increment).",
    params: [output("trace", "i16"), input("list", "u32"), scalar("n", "u32"), scalar("increment", "i32")],
    returns: "void",
    body: [
      for_("e", k(0), v("n"), "spikes of the step (<= layer size)", [
        let_("i", "u32", ld("list", v("e"))),
        st("trace", v("i"), cast("i16", prim("sat16", prim("satAdd32", cast("i32", ld("trace", v("i"))), v("increment"))))),
      ]),
    ],
  };
}

function mark(): Kernel {
  return {
    name: "plasticMark",
    doc: "Sets flags[list[e]] = value for the spikes of a step (the post-spike flags a sparse potentiation pass reads; value 0 clears them again).",
    params: [output("flags", "u8"), input("list", "u32"), scalar("n", "u32"), scalar("value", "u8")],
    returns: "void",
    body: [for_("e", k(0), v("n"), "spikes of the step (<= layer size)", [st("flags", ld("list", v("e")), v("value"))])],
  };
}

function depressDense(): Kernel {
  return {
    name: "plasticDepressDense",
    doc: "Depression of a dense plastic connection (spec/ops.md §11.2 step 2): for each pre event p and every post j, amount = q15Mul(post[j], aMinus) at synapse p·outputs + j.",
    params: [input("pre", "u32"), scalar("n", "u32"), scalar("outputs", "u32"), input("postTrace", "i16"), scalar("aMinus", "i32"), ...SYNAPSE_PARAMS],
    returns: "void",
    body: [
      for_("e", k(0), v("n"), "pre events of the step (<= presynaptic size)", [
        let_("base", "u32", ix("mul", ld("pre", v("e")), v("outputs"))),
        for_("j", k(0), v("outputs"), "post neurons", [
          pairing(ix("add", v("base"), v("j")), prim("q15Mul", cast("i32", ld("postTrace", v("j"))), v("aMinus")), "sub"),
        ]),
      ]),
    ],
  };
}

function depressSparse(colBits: 16 | 32): Kernel {
  return {
    name: `plasticDepressSparseC${colBits}`,
    doc: `Depression of a sparse plastic connection with uint${colBits} columns (spec/ops.md §11.2 step 2): for each pre event p and each synapse q of its CSR row, amount = q15Mul(post[cols[q]], aMinus).`,
    params: [
      input("pre", "u32"),
      scalar("n", "u32"),
      input("rowPtr", "u32"),
      input("cols", colBits === 16 ? "u16" : "u32"),
      input("postTrace", "i16"),
      scalar("aMinus", "i32"),
      ...SYNAPSE_PARAMS,
    ],
    returns: "void",
    body: [
      for_("e", k(0), v("n"), "pre events of the step (<= presynaptic size)", [
        let_("p", "u32", ld("pre", v("e"))),
        for_("q", ld("rowPtr", v("p")), ld("rowPtr", ix("add", v("p"), k(1))), "CSR row length", [
          pairing(v("q"), prim("q15Mul", cast("i32", ld("postTrace", cast("u32", ld("cols", v("q"))))), v("aMinus")), "sub"),
        ]),
      ]),
    ],
  };
}

function potentiateDense(): Kernel {
  return {
    name: "plasticPotentiateDense",
    doc: "Potentiation of a dense plastic connection (spec/ops.md §11.2 step 5): for each post spike j and every pre p, amount = q15Mul(pre[p], aPlus) at synapse p·outputs + j.",
    params: [
      input("fired", "u32"),
      scalar("n", "u32"),
      scalar("inputs", "u32"),
      scalar("outputs", "u32"),
      input("preTrace", "i16"),
      scalar("aPlus", "i32"),
      ...SYNAPSE_PARAMS,
    ],
    returns: "void",
    body: [
      for_("s", k(0), v("n"), "post spikes of the step (<= layer size)", [
        let_("j", "u32", ld("fired", v("s"))),
        for_("p", k(0), v("inputs"), "presynaptic neurons", [
          pairing(ix("add", ix("mul", v("p"), v("outputs")), v("j")), prim("q15Mul", cast("i32", ld("preTrace", v("p"))), v("aPlus")), "add"),
        ]),
      ]),
    ],
  };
}

function potentiateSparse(colBits: 16 | 32): Kernel {
  return {
    name: `plasticPotentiateSparseC${colBits}`,
    doc: `Potentiation of a sparse plastic connection with uint${colBits} columns (spec/ops.md §11.2 step 5): every synapse q of pre p whose post cols[q] spiked this step (flags[cols[q]] != 0) gets amount = q15Mul(pre[p], aPlus).`,
    params: [
      input("flags", "u8"),
      scalar("inputs", "u32"),
      input("rowPtr", "u32"),
      input("cols", colBits === 16 ? "u16" : "u32"),
      input("preTrace", "i16"),
      scalar("aPlus", "i32"),
      ...SYNAPSE_PARAMS,
    ],
    returns: "void",
    body: [
      for_("p", k(0), v("inputs"), "presynaptic neurons", [
        let_("amount", "i32", prim("q15Mul", cast("i32", ld("preTrace", v("p"))), v("aPlus"))),
        for_("q", ld("rowPtr", v("p")), ld("rowPtr", ix("add", v("p"), k(1))), "CSR row length", [
          if_(cmp("ne", ld("flags", cast("u32", ld("cols", v("q")))), k(0, "u8")), [pairing(v("q"), v("amount"), "add")]),
        ]),
      ]),
    ],
  };
}

function reward(): Kernel {
  return {
    name: "plasticReward",
    doc: "A reward r at the start of a step for one rstdp layer (spec/ops.md §11.3): m = sat16(r − b); every weight w = clamp(w + floor(mul16(m, e) / 2^learningShift), wMin, wMax); then, when baselineShift > 0, b += floor((r − b) / 2^baselineShift). baseline[0] holds b.",
    params: [
      output("weights", "i16"),
      input("elig", "i16"),
      scalar("count", "u32"),
      scalar("reward", "i32"),
      output("baseline", "i32"),
      scalar("baselineShift", "u8"),
      scalar("learningShift", "u8"),
      scalar("wMin", "i32"),
      scalar("wMax", "i32"),
    ],
    returns: "void",
    body: [
      ...rewardFactor(),
      for_("q", k(0), v("count"), "plastic synapses", [
        let_("d", "i32", prim("shrFloor32", prim("mul16", v("m"), cast("i32", ld("elig", v("q")))), v("learningShift"))),
        st("weights", v("q"), cast("i16", prim("clamp", prim("satAdd32", cast("i32", ld("weights", v("q"))), v("d")), v("wMin"), v("wMax")))),
      ]),
      if_(cmp("gt", v("baselineShift"), k(0, "u8")), [st("baseline", k(0), prim("satAdd32", v("b"), prim("shrFloor32", v("error"), v("baselineShift"))))]),
    ],
  };
}

// ---- event timing (spec/ops.md §11.5) ------------------------------------------------------------
// A trace is kept as the value it had at its neuron's last event (the anchor) and that step (its
// stamp); its value at step `now` is decayBy(anchor, age(now, stamp)). A synapse's eligibility is
// kept as its value at the synapse's last touch, the later of its pre and post neurons' stamps, so
// its age is the smaller of the two ages. Nothing here runs for a synapse neither of whose neurons
// spiked in the step (rewards are the exception: they touch every synapse of the layer).

/**
 * q15Mul(trace, a) for a trace and an amplitude both in 0..32767, in 32 bits: the product is below
 * 2^30 and non-negative, so floor(trace·a / 2^15) is a plain floor shift (no 64-bit multiply, which
 * the Cortex-M0 does in a library call). Equal to q15Mul on that domain.
 */
function q15MulNonNeg(trace: Expr, a: Expr): Expr {
  return prim("shrFloor32", prim("mul16", trace, a), k(15, "u8"));
}

/** The age of synapse (p, j)'s eligibility at `now`: the younger of its pre and post stamps. */
function synapseAge(now: Expr, preStamp: Expr, postStamp: Expr): Expr {
  const a = prim("age", now, preStamp);
  const b = prim("age", now, postStamp);
  return sel(cmp("lt", a, b), a, b);
}

/**
 * One event-timed pairing of synapse q by `amount` (≥ 0) in direction `sign` (§11.5): stdp as §11.2;
 * rstdp: e = sat16(decayBy(e, ageVar) ± amount), re-anchored at now.
 */
function eventPairing(q: Expr, amount: Expr, sign: "add" | "sub", ageVar: string): Stmt {
  const op = sign === "add" ? "satAdd32" : "satSub32";
  return if_(
    v("direct"),
    [
      st(
        "weights",
        q,
        cast("i16", prim("clamp", prim(op, cast("i32", ld("weights", q)), prim("shrFloor32", amount, v("learningShift"))), v("wMin"), v("wMax"))),
      ),
    ],
    [st("elig", q, cast("i16", prim("sat16", prim(op, prim("decayBy", arr("eligFactors"), cast("i32", ld("elig", q)), v(ageVar)), amount))))],
  );
}

function eventTraceNow(): Kernel {
  return {
    name: "plasticEventTraceNow",
    doc: "The value at step now of every trace of an event-timed layer (spec/ops.md §11.5): out[i] = decayBy(factors, anchor[i], age(now, stamp[i])).",
    params: [input("anchor", "i16"), input("stamp", "u32"), scalar("size", "u32"), scalar("now", "u32"), input("factors", "u16"), output("out", "i16")],
    returns: "void",
    body: [
      for_("i", k(0), v("size"), "trace length (neurons)", [
        st("out", v("i"), cast("i16", prim("decayBy", arr("factors"), cast("i32", ld("anchor", v("i"))), prim("age", v("now"), ld("stamp", v("i")))))),
      ]),
    ],
  };
}

function eventBump(): Kernel {
  return {
    name: "plasticEventBump",
    doc: "Event-timed trace increments for the neurons that spiked at step now (spec/ops.md §11.5): anchor = sat16(decayBy(anchor, age) + increment), stamp = now.",
    params: [
      output("anchor", "i16"),
      output("stamp", "u32"),
      input("list", "u32"),
      scalar("n", "u32"),
      scalar("now", "u32"),
      input("factors", "u16"),
      scalar("increment", "i32"),
    ],
    returns: "void",
    body: [
      for_("e", k(0), v("n"), "spikes of the step (<= layer size)", [
        let_("i", "u32", ld("list", v("e"))),
        let_("x", "i32", prim("decayBy", arr("factors"), cast("i32", ld("anchor", v("i"))), prim("age", v("now"), ld("stamp", v("i"))))),
        st("anchor", v("i"), cast("i16", prim("sat16", prim("satAdd32", v("x"), v("increment"))))),
        st("stamp", v("i"), v("now")),
      ]),
    ],
  };
}

/** The stamps and eligibility factors every event-timed synapse update reads. */
const EVENT_PARAMS: Param[] = [input("preStamp", "u32"), input("postStamp", "u32"), scalar("now", "u32"), input("eligFactors", "u16")];

function eventDepressDense(): Kernel {
  return {
    name: "plasticEventDepressDense",
    doc: "Event-timed depression of a dense plastic connection (spec/ops.md §11.5): for each pre event p (its stamp not yet moved to now) and every post j, amount = q15Mul(postNow[j], aMinus) at synapse p·outputs + j.",
    params: [
      input("pre", "u32"),
      scalar("n", "u32"),
      scalar("outputs", "u32"),
      input("postNow", "i16"),
      scalar("aMinus", "i32"),
      ...EVENT_PARAMS,
      ...SYNAPSE_PARAMS,
    ],
    returns: "void",
    body: [
      for_("e", k(0), v("n"), "pre events of the step (<= presynaptic size)", [
        let_("p", "u32", ld("pre", v("e"))),
        let_("base", "u32", ix("mul", v("p"), v("outputs"))),
        let_("preAge", "u32", prim("age", v("now"), ld("preStamp", v("p")))),
        for_("j", k(0), v("outputs"), "post neurons", [
          let_("postAge", "u32", prim("age", v("now"), ld("postStamp", v("j")))),
          let_("synAge", "u32", sel(cmp("lt", v("preAge"), v("postAge")), v("preAge"), v("postAge"))),
          eventPairing(ix("add", v("base"), v("j")), q15MulNonNeg(cast("i32", ld("postNow", v("j"))), v("aMinus")), "sub", "synAge"),
        ]),
      ]),
    ],
  };
}

function eventPotentiateDense(): Kernel {
  return {
    name: "plasticEventPotentiateDense",
    doc: "Event-timed potentiation of a dense plastic connection (spec/ops.md §11.5, §11.6): for each post spike j (its stamp not yet moved to now) and every pre p, amount = q15Mul(preNow[p], gain[j]) at synapse p·outputs + j (gain[j] is aPlus, or the triplet gain).",
    params: [
      input("fired", "u32"),
      scalar("n", "u32"),
      scalar("inputs", "u32"),
      scalar("outputs", "u32"),
      input("preNow", "i16"),
      input("gain", "i32"),
      ...EVENT_PARAMS,
      ...SYNAPSE_PARAMS,
    ],
    returns: "void",
    body: [
      for_("s", k(0), v("n"), "post spikes of the step (<= layer size)", [
        let_("j", "u32", ld("fired", v("s"))),
        let_("postAge", "u32", prim("age", v("now"), ld("postStamp", v("j")))),
        let_("aPlus", "i32", ld("gain", v("j"))),
        for_("p", k(0), v("inputs"), "presynaptic neurons", [
          let_("preAge", "u32", prim("age", v("now"), ld("preStamp", v("p")))),
          let_("synAge", "u32", sel(cmp("lt", v("preAge"), v("postAge")), v("preAge"), v("postAge"))),
          eventPairing(ix("add", ix("mul", v("p"), v("outputs")), v("j")), q15MulNonNeg(cast("i32", ld("preNow", v("p"))), v("aPlus")), "add", "synAge"),
        ]),
      ]),
    ],
  };
}

function tripletGain(): Kernel {
  return {
    name: "plasticTripletGain",
    doc: "The potentiation gain of each post spike of a triplet layer (spec/ops.md §11.6): gain[j] = min(aPlus + q15Mul(y2 at now before its jump, a3Plus), 32767).",
    params: [
      input("fired", "u32"),
      scalar("n", "u32"),
      input("slow", "i16"),
      input("slowStamp", "u32"),
      scalar("now", "u32"),
      input("factors", "u16"),
      scalar("aPlus", "i32"),
      scalar("a3Plus", "i32"),
      output("gain", "i32"),
    ],
    returns: "void",
    body: [
      for_("s", k(0), v("n"), "post spikes of the step (<= layer size)", [
        let_("j", "u32", ld("fired", v("s"))),
        let_("y2", "i32", prim("decayBy", arr("factors"), cast("i32", ld("slow", v("j"))), prim("age", v("now"), ld("slowStamp", v("j"))))),
        st("gain", v("j"), prim("clamp", prim("satAdd32", v("aPlus"), q15MulNonNeg(v("y2"), v("a3Plus"))), k(0, "i32"), k(32767, "i32"))),
      ]),
    ],
  };
}

function eventRewardDense(): Kernel {
  return {
    name: "plasticEventRewardDense",
    doc: "A reward r at the start of step now+1 for one event-timed dense rstdp layer (spec/ops.md §11.5): as plasticReward, with each eligibility read as decayBy(e, its age at step now, the step before the reward) and left as it is stored.",
    params: [
      output("weights", "i16"),
      input("elig", "i16"),
      scalar("inputs", "u32"),
      scalar("outputs", "u32"),
      input("preStamp", "u32"),
      input("postStamp", "u32"),
      scalar("now", "u32"),
      input("eligFactors", "u16"),
      scalar("reward", "i32"),
      output("baseline", "i32"),
      scalar("baselineShift", "u8"),
      scalar("learningShift", "u8"),
      scalar("wMin", "i32"),
      scalar("wMax", "i32"),
    ],
    returns: "void",
    body: [
      ...rewardFactor(),
      for_("p", k(0), v("inputs"), "presynaptic neurons", [
        let_("base", "u32", ix("mul", v("p"), v("outputs"))),
        for_("j", k(0), v("outputs"), "post neurons", [
          let_("q", "u32", ix("add", v("base"), v("j"))),
          let_(
            "e",
            "i32",
            prim("decayBy", arr("eligFactors"), cast("i32", ld("elig", v("q"))), synapseAge(v("now"), ld("preStamp", v("p")), ld("postStamp", v("j")))),
          ),
          let_("d", "i32", prim("shrFloor32", prim("mul16", v("m"), v("e")), v("learningShift"))),
          st("weights", v("q"), cast("i16", prim("clamp", prim("satAdd32", cast("i32", ld("weights", v("q"))), v("d")), v("wMin"), v("wMax")))),
        ]),
      ]),
      if_(cmp("gt", v("baselineShift"), k(0, "u8")), [st("baseline", k(0), prim("satAdd32", v("b"), prim("shrFloor32", v("error"), v("baselineShift"))))]),
    ],
  };
}

// ---- epoch timing (spec/ops.md §11.7) ------------------------------------------------------------
// Each step only marks its pre events and post spikes (plasticMark with value 1) and adds its reward
// into the epoch's sum (plasticEpochAddReward); the epoch's last step runs plasticEpochDense, one
// fused pass per row that does §11.2's five steps once, as one coarse step, and then the reward.

function epochAddReward(): Kernel {
  return {
    name: "plasticEpochAddReward",
    doc: "Adds a step's reward r into the epoch's reward sum of an epoch-timed rstdp layer (spec/ops.md §11.7): sum[0] = sat16(sum[0] + r).",
    params: [output("sum", "i32"), scalar("reward", "i32")],
    returns: "void",
    body: [st("sum", k(0), prim("sat16", prim("satAdd32", ld("sum", k(0)), v("reward"))))],
  };
}

/**
 * The inner loop of one row of plasticEpochDense: synapse q = base + j for every post j. `dep`:
 * the row's pre neuron was marked (subtract depAmt[j]); `rewarded`: the epoch had a reward (rstdp);
 * `mirror`: every weight written is also written to the int8 copy w8 (C: an epoch-timed layer whose
 * clamp lies inside int8 folds that copy, spec/ops.md §12.2 item 5). Potentiation is `pot` where
 * postMark[j] is set, else 0.
 */
function epochRow(direct: boolean, dep: boolean, rewarded: boolean, mirror: boolean): Stmt {
  const q = v("q");
  const potJ = sel(cmp("ne", ld("postMark", v("j")), k(0, "u8")), v("pot"), k(0, "i32"));
  const change = (from: Expr): Expr => prim("satAdd32", dep ? prim("satSub32", from, ld("depAmt", v("j"))) : from, potJ);
  const body: Stmt[] = [let_("q", "u32", ix("add", v("base"), v("j")))];
  const write = (w: Expr): Stmt[] => [let_("nw", "i32", w), st("weights", q, cast("i16", v("nw"))), ...(mirror ? [st("w8", q, cast("i8", v("nw")))] : [])];
  if (direct) body.push(...write(prim("clamp", change(cast("i32", ld("weights", q))), v("wMin"), v("wMax"))));
  else {
    body.push(let_("e", "i32", prim("sat16", change(prim("traceDecay", cast("i32", ld("elig", q)), v("eligShift"))))));
    body.push(st("elig", q, cast("i16", v("e"))));
    if (rewarded)
      body.push(
        ...write(
          prim(
            "clamp",
            prim("satAdd32", cast("i32", ld("weights", q)), prim("shrFloor32", prim("mul16", v("m"), v("e")), v("learningShift"))),
            v("wMin"),
            v("wMax"),
          ),
        ),
      );
  }
  return for_("j", k(0), v("outputs"), "post neurons", body);
}

function epochDense(): Kernel {
  const marked = cmp("ne", v("marked"), k(0, "u8"));
  const yes = k(1, "bool");
  const no = k(0, "bool");
  // a row whose weights move (stdp, or a rewarded rstdp epoch) has a variant that also writes the int8 copy
  const rowsFor = (direct: boolean, rewarded: boolean, mirror: boolean): Stmt =>
    if_(marked, [epochRow(direct, true, rewarded, mirror)], [epochRow(direct, false, rewarded, mirror)]);
  const rows = (direct: boolean, rewarded: boolean): Stmt =>
    direct || rewarded ? if_(v("mirror8"), [rowsFor(direct, rewarded, true)], [rowsFor(direct, rewarded, false)]) : rowsFor(direct, rewarded, false);
  const forDirect = (x: Expr): Expr => sel(v("direct"), prim("shrFloor32", x, v("learningShift")), x);
  // §11.7 row skip: a row none of whose synapses gets a nonzero depression or potentiation, and whose
  // eligibility is all 0 (rowBound[p] = 0), is left unchanged by the pass: it is not visited
  const depresses = sel(marked, cmp("ne", v("dMax"), k(0, "i32")), no);
  const potentiates = sel(v("anyPost"), cmp("ne", v("pot"), k(0, "i32")), no);
  const eligible = sel(v("direct"), no, cmp("ne", ld("rowBound", v("p")), k(0, "u16")));
  const live = sel(depresses, yes, sel(potentiates, yes, eligible));
  const bound = prim(
    "clamp",
    prim(
      "satAdd32",
      prim("satAdd32", prim("traceDecay", cast("i32", ld("rowBound", v("p"))), v("eligShift")), sel(marked, v("dMax"), k(0, "i32"))),
      sel(v("anyPost"), v("pot"), k(0, "i32")),
    ),
    k(0, "i32"),
    k(32768, "i32"),
  );
  return {
    name: "plasticEpochDense",
    doc:
      "The end of an epoch of a dense epoch-timed layer (spec/ops.md §11.7): decays every trace once, then, one pass per row, each synapse (p, j) " +
      "gets depression q15Mul(y[j], aMinus) if p was marked, potentiation q15Mul(x[p] after its increment, aPlus) if j was marked " +
      "(stdp: w = clamp(w − floor(dep / 2^ls) + floor(pot / 2^ls)); rstdp: e = sat16(traceDecay(e) − dep + pot), then with a reward " +
      "w = clamp(w + floor(mul16(m, e) / 2^ls))); then the marked post traces step up, the baseline moves, and the markers clear. " +
      "A row that no pairing reaches and whose eligibility is all 0 (rowBound[p] = 0, rstdp; rowBound[p] bounds |e| over row p and is kept so) " +
      "is skipped: the pass would leave it unchanged. With mirror8 every weight written is also written to w8 (int8). " +
      "reward is the epoch's summed reward (0 = none; always 0 for stdp); depAmt is scratch (outputs). Returns the rows visited.",
    params: [
      output("preMark", "u8"),
      output("postMark", "u8"),
      scalar("inputs", "u32"),
      scalar("outputs", "u32"),
      output("preTrace", "i16"),
      output("postTrace", "i16"),
      output("depAmt", "i32"),
      scalar("preShift", "u8"),
      scalar("postShift", "u8"),
      scalar("eligShift", "u8"),
      scalar("increment", "i32"),
      scalar("aPlus", "i32"),
      scalar("aMinus", "i32"),
      scalar("reward", "i32"),
      output("baseline", "i32"),
      scalar("baselineShift", "u8"),
      ...SYNAPSE_PARAMS,
      output("rowBound", "u16"),
      scalar("mirror8", "bool"),
      output("w8", "i8"),
    ],
    returns: "u32",
    body: [
      ...rewardFactor(),
      let_("dMax", "i32", k(0, "i32")),
      let_("anyPost", "bool", no),
      for_("j", k(0), v("outputs"), "post neurons", [
        let_("y", "i32", prim("traceDecay", cast("i32", ld("postTrace", v("j"))), v("postShift"))),
        st("postTrace", v("j"), cast("i16", v("y"))),
        let_("dj", "i32", forDirect(q15MulNonNeg(v("y"), v("aMinus")))),
        st("depAmt", v("j"), v("dj")),
        set("dMax", sel(cmp("gt", v("dj"), v("dMax")), v("dj"), v("dMax"))),
        set("anyPost", sel(cmp("ne", ld("postMark", v("j")), k(0, "u8")), yes, v("anyPost"))),
      ]),
      let_("visited", "u32", k(0)),
      for_("p", k(0), v("inputs"), "presynaptic neurons", [
        let_("marked", "u8", ld("preMark", v("p"))),
        let_("x", "i32", prim("traceDecay", cast("i32", ld("preTrace", v("p"))), v("preShift"))),
        let_("xn", "i32", sel(marked, prim("sat16", prim("satAdd32", v("x"), v("increment"))), v("x"))),
        st("preTrace", v("p"), cast("i16", v("xn"))),
        let_("pot", "i32", forDirect(q15MulNonNeg(v("xn"), v("aPlus")))),
        if_(live, [
          let_("base", "u32", ix("mul", v("p"), v("outputs"))),
          if_(
            v("direct"),
            [rows(true, false)],
            [if_(cmp("ne", v("reward"), k(0, "i32")), [rows(false, true)], [rows(false, false)]), st("rowBound", v("p"), cast("u16", bound))],
          ),
          set("visited", ix("add", v("visited"), k(1))),
        ]),
        st("preMark", v("p"), k(0, "u8")),
      ]),
      for_("j", k(0), v("outputs"), "post neurons", [
        if_(cmp("ne", ld("postMark", v("j")), k(0, "u8")), [
          st("postTrace", v("j"), cast("i16", prim("sat16", prim("satAdd32", cast("i32", ld("postTrace", v("j"))), v("increment"))))),
          st("postMark", v("j"), k(0, "u8")),
        ]),
      ]),
      if_(cmp("ne", v("reward"), k(0, "i32")), [
        if_(cmp("gt", v("baselineShift"), k(0, "u8")), [st("baseline", k(0), prim("satAdd32", v("b"), prim("shrFloor32", v("error"), v("baselineShift"))))]),
      ]),
      ret(v("visited")),
    ],
  };
}

/** The plasticity kernels, in emission order (appended to codegen/kernels.ts KERNELS, which checks them). */
export const PLASTICITY_KERNELS: readonly Kernel[] = [
  decayAll(),
  bump(),
  mark(),
  depressDense(),
  depressSparse(16),
  depressSparse(32),
  potentiateDense(),
  potentiateSparse(16),
  potentiateSparse(32),
  reward(),
  eventTraceNow(),
  eventBump(),
  eventDepressDense(),
  eventPotentiateDense(),
  eventRewardDense(),
  tripletGain(),
  epochAddReward(),
  epochDense(),
];
