/**
 * The kernel IR: a small, typed description of the integer step arithmetic of spec/ops.md. Kernels
 * (codegen/kernels.ts) are written once in this IR; codegen/emit-ts.ts and codegen/emit-c.ts render
 * them to TypeScript and C99. Because the two languages come from one description, they can only
 * disagree through a primitive, and the primitives are hand-written once per language
 * (runtime/fixed.ts, firmware/include/ps_fixed.h) and tested against spec/ops.md §3.
 *
 * Rules the IR enforces (`checkKernel`):
 * - state arithmetic uses only the primitives of spec/ops.md §3 (`prim`); there is no bare signed
 *   `+`, `-`, `*`, `>>`, `/` or `%`;
 * - `index` arithmetic (`+ - * / min`) is on unsigned values only (neuron, synapse and coordinate
 *   indices, which the table validation keeps far below 2^32), never on membranes or weights;
 * - comparisons take operands of the same signedness (so C compares without conversions);
 * - loops are `for v in from..to-1` with a documented table-size bound; there is no other loop,
 *   no recursion and no early exit;
 * - the non-saturating primitives (`addExact32`, `mulExact32`) appear only in kernels that declare
 *   the load-time proof they rely on (`precondition`, spec/ops.md §12.1).
 */

/** Scalar types of IR values. `bool` is C99 `bool`, TS boolean. */
export type IntType = "i32" | "i16" | "i8" | "u8" | "u16" | "u32" | "bool";

/** Element types of array parameters (int4 weights are a `u8` array read with `int4At`). */
export type ElemType = Exclude<IntType, "bool">;

/** The primitives of spec/ops.md §3 a kernel may call (TS names; C names in PRIMITIVES). */
export type PrimName =
  | "satAdd32"
  | "satSub32"
  | "synContrib"
  | "leakShift"
  | "currentDecay"
  | "q15Mul"
  | "clampMin"
  | "int4At"
  | "shrFloor32"
  | "sat16"
  | "traceDecay"
  | "mul16"
  | "clamp"
  | "synScale"
  | "mulSat32"
  | "addExact32"
  | "mulExact32"
  | "age"
  | "decayBy"
  | "spikeCount"
  | "subCount";

/**
 * Primitives whose result is exact only under a load-time proof (spec/ops.md §12.1): a kernel may
 * call them only when it declares that `precondition`, and the caller must have established it.
 */
export const PROOF_PRIMITIVES: ReadonlySet<PrimName> = new Set(["addExact32", "mulExact32"]);

/** Name in C, result type and the kinds of arguments of every primitive. */
export const PRIMITIVES: Readonly<Record<PrimName, { readonly c: string; readonly result: IntType; readonly arity: number }>> = {
  satAdd32: { c: "ps_sat_add32", result: "i32", arity: 2 },
  satSub32: { c: "ps_sat_sub32", result: "i32", arity: 2 },
  synContrib: { c: "ps_syn_contrib", result: "i32", arity: 3 },
  leakShift: { c: "ps_leak_shift", result: "i32", arity: 2 },
  currentDecay: { c: "ps_current_decay", result: "i32", arity: 2 },
  q15Mul: { c: "ps_q15_mul", result: "i32", arity: 2 },
  clampMin: { c: "ps_clamp_min", result: "i32", arity: 2 },
  int4At: { c: "ps_int4_at", result: "i32", arity: 2 },
  // plasticity (spec/ops.md §11)
  shrFloor32: { c: "ps_shr_floor32", result: "i32", arity: 2 },
  sat16: { c: "ps_sat16", result: "i32", arity: 1 },
  traceDecay: { c: "ps_trace_decay", result: "i32", arity: 2 },
  mul16: { c: "ps_mul16", result: "i32", arity: 2 },
  clamp: { c: "ps_clamp", result: "i32", arity: 3 },
  // hoisted and proven-exact synaptic arithmetic (spec/ops.md §12.1)
  synScale: { c: "ps_syn_scale", result: "i32", arity: 2 },
  mulSat32: { c: "ps_mul_sat32", result: "i32", arity: 2 },
  addExact32: { c: "ps_add_exact32", result: "i32", arity: 2 },
  mulExact32: { c: "ps_mul_exact32", result: "i32", arity: 2 },
  // event-timed plasticity (spec/ops.md §11.5)
  age: { c: "ps_age", result: "u32", arity: 2 },
  decayBy: { c: "ps_decay_by", result: "i32", arity: 3 },
  // multi-spike neurons (spec/ops.md §4.9)
  spikeCount: { c: "ps_spike_count", result: "u32", arity: 2 },
  subCount: { c: "ps_sub_count", result: "i32", arity: 3 },
};

/** Comparison operators. */
export type CmpOp = "lt" | "le" | "gt" | "ge" | "eq" | "ne";
/** Unsigned index operators (never applied to state). `div` is floor division of non-negative values. */
export type IndexOp = "add" | "sub" | "mul" | "div" | "min";

/** An IR expression. */
export type Expr =
  | { readonly op: "const"; readonly type: IntType; readonly value: number }
  | { readonly op: "var"; readonly name: string }
  | { readonly op: "array"; readonly name: string }
  | { readonly op: "load"; readonly array: string; readonly index: Expr }
  | { readonly op: "prim"; readonly name: PrimName; readonly args: readonly Expr[] }
  | { readonly op: "cmp"; readonly cmp: CmpOp; readonly a: Expr; readonly b: Expr }
  | { readonly op: "index"; readonly fn: IndexOp; readonly a: Expr; readonly b: Expr }
  | { readonly op: "not"; readonly a: Expr }
  | { readonly op: "select"; readonly cond: Expr; readonly a: Expr; readonly b: Expr }
  | { readonly op: "cast"; readonly type: IntType; readonly a: Expr };

/** An IR statement. */
export type Stmt =
  | { readonly s: "let"; readonly name: string; readonly type: IntType; readonly init: Expr }
  | { readonly s: "assign"; readonly name: string; readonly value: Expr }
  | { readonly s: "store"; readonly array: string; readonly index: Expr; readonly value: Expr }
  | { readonly s: "if"; readonly cond: Expr; readonly then: readonly Stmt[]; readonly else: readonly Stmt[] }
  | { readonly s: "for"; readonly v: string; readonly from: Expr; readonly to: Expr; readonly bound: string; readonly body: readonly Stmt[] }
  | { readonly s: "append"; readonly list: string; readonly count: string; readonly value: Expr }
  | { readonly s: "return"; readonly value: Expr };

/** A kernel parameter: a scalar, or an array (read-only unless `mutable`). */
export type Param =
  | { readonly name: string; readonly kind: "scalar"; readonly type: IntType }
  | { readonly name: string; readonly kind: "array"; readonly elem: ElemType; readonly mutable: boolean };

/** One kernel: a function of scalars and arrays, returning a u32 (or nothing). */
export interface Kernel {
  /** camelCase name; TS uses it as is, C as `ps_k_<snake_case>`. */
  readonly name: string;
  /** What it computes and which spec section it implements. */
  readonly doc: string;
  readonly params: readonly Param[];
  readonly returns: "u32" | "void";
  readonly body: readonly Stmt[];
  /**
   * The load-time proof the caller must hold before calling this kernel (spec/ops.md §12.1), e.g.
   * the accumulation bound. Only kernels that declare one may use PROOF_PRIMITIVES.
   */
  readonly precondition?: string;
}

// ---- builders (terse on purpose: kernels.ts reads like the spec) -------------------------------

/** A constant of a type. */
export const k = (value: number, type: IntType = "u32"): Expr => ({ op: "const", type, value });
/** A local or scalar parameter. */
export const v = (name: string): Expr => ({ op: "var", name });
/** A whole array (only as a primitive argument, e.g. int4At). */
export const arr = (name: string): Expr => ({ op: "array", name });
/** array[index]. */
export const ld = (array: string, index: Expr): Expr => ({ op: "load", array, index });
/** A primitive call. */
export const prim = (name: PrimName, ...args: Expr[]): Expr => ({ op: "prim", name, args });
/** A comparison. */
export const cmp = (c: CmpOp, a: Expr, b: Expr): Expr => ({ op: "cmp", cmp: c, a, b });
/** Unsigned index arithmetic. */
export const ix = (fn: IndexOp, a: Expr, b: Expr): Expr => ({ op: "index", fn, a, b });
/** Boolean not. */
export const not = (a: Expr): Expr => ({ op: "not", a });
/** cond ? a : b (only the chosen side is evaluated). */
export const sel = (cond: Expr, a: Expr, b: Expr): Expr => ({ op: "select", cond, a, b });
/** Value-preserving conversion (the value must fit the target type). */
export const cast = (type: IntType, a: Expr): Expr => ({ op: "cast", type, a });
/** let name: type = init. */
export const let_ = (name: string, type: IntType, init: Expr): Stmt => ({ s: "let", name, type, init });
/** name = value. */
export const set = (name: string, value: Expr): Stmt => ({ s: "assign", name, value });
/** array[index] = value. */
export const st = (array: string, index: Expr, value: Expr): Stmt => ({ s: "store", array, index, value });
/** if / else. */
export const if_ = (cond: Expr, then: Stmt[], otherwise: Stmt[] = []): Stmt => ({ s: "if", cond, then, else: otherwise });
/** for name in from..to-1 (u32), bounded by the table size named in `bound`. */
export const for_ = (name: string, from: Expr, to: Expr, bound: string, body: Stmt[]): Stmt => ({ s: "for", v: name, from, to, bound, body });
/** list[count++] = value. */
export const append = (list: string, count: string, value: Expr): Stmt => ({ s: "append", list, count, value });
/** return value. */
export const ret = (value: Expr): Stmt => ({ s: "return", value });
/** A scalar parameter. */
export const scalar = (name: string, type: IntType): Param => ({ name, kind: "scalar", type });
/** A read-only array parameter. */
export const input = (name: string, elem: ElemType): Param => ({ name, kind: "array", elem, mutable: false });
/** A writable array parameter. */
export const output = (name: string, elem: ElemType): Param => ({ name, kind: "array", elem, mutable: true });

// ---- checking ----------------------------------------------------------------------------------

const SIGNED: ReadonlySet<IntType> = new Set(["i32", "i16", "i8"]);

/** True for the unsigned integer types. */
export function isUnsigned(t: IntType): boolean {
  return t === "u8" || t === "u16" || t === "u32";
}

/** Types of the names in scope while checking or emitting a kernel. */
export interface Scope {
  readonly scalars: Map<string, IntType>;
  readonly arrays: Map<string, { elem: ElemType; mutable: boolean }>;
}

/** The scope of a kernel's parameters. */
export function paramScope(kernel: Kernel): Scope {
  const scope: Scope = { scalars: new Map(), arrays: new Map() };
  for (const p of kernel.params) {
    if (p.kind === "scalar") scope.scalars.set(p.name, p.type);
    else scope.arrays.set(p.name, { elem: p.elem, mutable: p.mutable });
  }
  return scope;
}

function irError(kernel: Kernel, why: string): never {
  throw new Error(`IR kernel ${kernel.name}: ${why}`);
}

/** The type of an expression (checking it on the way). */
export function typeOf(kernel: Kernel, scope: Scope, e: Expr): IntType {
  switch (e.op) {
    case "const":
      if (!Number.isInteger(e.value)) irError(kernel, `non-integer constant ${e.value}`);
      return e.type;
    case "var": {
      const t = scope.scalars.get(e.name);
      if (t === undefined) irError(kernel, `unknown scalar '${e.name}'`);
      return t;
    }
    case "array":
      if (!scope.arrays.has(e.name)) irError(kernel, `unknown array '${e.name}'`);
      return "u32"; // only meaningful as a primitive argument
    case "load": {
      const a = scope.arrays.get(e.array);
      if (a === undefined) irError(kernel, `unknown array '${e.array}'`);
      if (!isUnsigned(typeOf(kernel, scope, e.index))) irError(kernel, `index of ${e.array} must be unsigned`);
      return a.elem;
    }
    case "prim": {
      const p = PRIMITIVES[e.name];
      if (e.args.length !== p.arity) irError(kernel, `${e.name} takes ${p.arity} arguments`);
      e.args.forEach((a) => typeOf(kernel, scope, a));
      if (e.name === "int4At" && e.args[0]?.op !== "array") irError(kernel, "int4At reads a packed array");
      if (e.name === "decayBy" && e.args[0]?.op !== "array") irError(kernel, "decayBy reads a factor array");
      if (PROOF_PRIMITIVES.has(e.name) && (kernel.precondition === undefined || kernel.precondition.length === 0)) {
        irError(kernel, `${e.name} is exact only under a proof: the kernel must declare its precondition`);
      }
      return p.result;
    }
    case "cmp": {
      const ta = typeOf(kernel, scope, e.a);
      const tb = typeOf(kernel, scope, e.b);
      if (SIGNED.has(ta) !== SIGNED.has(tb) || (ta === "bool") !== (tb === "bool")) irError(kernel, `comparison of ${ta} with ${tb}`);
      return "bool";
    }
    case "index": {
      const ta = typeOf(kernel, scope, e.a);
      const tb = typeOf(kernel, scope, e.b);
      if (!isUnsigned(ta) || !isUnsigned(tb)) irError(kernel, `index arithmetic on ${ta}, ${tb} (only unsigned indices)`);
      return "u32";
    }
    case "not":
      if (typeOf(kernel, scope, e.a) !== "bool") irError(kernel, "not of a non-bool");
      return "bool";
    case "select": {
      if (typeOf(kernel, scope, e.cond) !== "bool") irError(kernel, "select condition must be bool");
      const ta = typeOf(kernel, scope, e.a);
      const tb = typeOf(kernel, scope, e.b);
      if (SIGNED.has(ta) !== SIGNED.has(tb)) irError(kernel, `select of ${ta} and ${tb}`);
      return ta;
    }
    case "cast":
      typeOf(kernel, scope, e.a);
      return e.type;
  }
}

function checkBlock(kernel: Kernel, scope: Scope, body: readonly Stmt[]): void {
  // Locals are block-scoped, as in both target languages.
  const inner: Scope = { scalars: new Map(scope.scalars), arrays: scope.arrays };
  for (const s of body) {
    switch (s.s) {
      case "let":
        typeOf(kernel, inner, s.init);
        if (inner.scalars.has(s.name)) irError(kernel, `'${s.name}' declared twice`);
        inner.scalars.set(s.name, s.type);
        break;
      case "assign": {
        if (!inner.scalars.has(s.name) || kernel.params.some((p) => p.name === s.name)) irError(kernel, `assignment to '${s.name}' (not a local)`);
        typeOf(kernel, inner, s.value);
        break;
      }
      case "store": {
        const a = inner.arrays.get(s.array);
        if (a === undefined || !a.mutable) irError(kernel, `store to read-only or unknown array '${s.array}'`);
        if (!isUnsigned(typeOf(kernel, inner, s.index))) irError(kernel, `index of ${s.array} must be unsigned`);
        typeOf(kernel, inner, s.value);
        break;
      }
      case "if":
        if (typeOf(kernel, inner, s.cond) !== "bool") irError(kernel, "if condition must be bool");
        checkBlock(kernel, inner, s.then);
        checkBlock(kernel, inner, s.else);
        break;
      case "for": {
        if (!isUnsigned(typeOf(kernel, inner, s.from)) || !isUnsigned(typeOf(kernel, inner, s.to))) irError(kernel, "loop bounds must be unsigned");
        if (s.bound.length === 0) irError(kernel, "every loop names the table size that bounds it");
        const loopScope: Scope = { scalars: new Map(inner.scalars), arrays: inner.arrays };
        loopScope.scalars.set(s.v, "u32");
        checkBlock(kernel, loopScope, s.body);
        break;
      }
      case "append":
        if (inner.scalars.get(s.count) !== "u32") irError(kernel, `append count '${s.count}' must be a u32 local`);
        if (!inner.arrays.get(s.list)?.mutable) irError(kernel, `append to read-only or unknown array '${s.list}'`);
        typeOf(kernel, inner, s.value);
        break;
      case "return":
        if (kernel.returns === "void") irError(kernel, "return in a void kernel");
        typeOf(kernel, inner, s.value);
        break;
    }
  }
}

/** Checks the rules of this module's doc; throws an Error naming the kernel on a violation. */
export function checkKernel(kernel: Kernel): void {
  checkBlock(kernel, paramScope(kernel), kernel.body);
  const last = kernel.body[kernel.body.length - 1];
  if (kernel.returns === "u32" && last?.s !== "return") irError(kernel, "a u32 kernel ends with return");
}

/** lowerCamel → lower_snake (C names). */
export function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}
