/**
 * TypeScript renderer of the kernel IR (codegen/ir.ts). Emits plain functions over typed arrays that
 * call the primitives of runtime/fixed.ts; `emitTsKernels` writes runtime/kernels_generated.ts.
 * Index arithmetic stays exact in doubles (values < 2^32); `div` is `>>> 0` of the quotient, which
 * is floor for the non-negative operands the IR allows.
 */
import { FORMAT_VERSION } from "../runtime/model.js";
import { type ElemType, type Expr, type Kernel, type Stmt, PRIMITIVES, type PrimName } from "./ir.js";
import { KERNELS } from "./kernels.js";

const TS_ARRAY: Readonly<Record<ElemType, string>> = {
  i32: "Int32Array",
  i16: "Int16Array",
  i8: "Int8Array",
  u8: "Uint8Array",
  u16: "Uint16Array",
  u32: "Uint32Array",
};

const CMP: Readonly<Record<string, string>> = { lt: "<", le: "<=", gt: ">", ge: ">=", eq: "===", ne: "!==" };

/** Renders an expression; `constants` replaces scalar parameters by literal values (specialisation). */
export function tsExpr(e: Expr, constants: ReadonlyMap<string, number | boolean> = new Map()): string {
  const r = (x: Expr): string => tsExpr(x, constants);
  switch (e.op) {
    case "const":
      return e.type === "bool" ? String(e.value !== 0) : String(e.value);
    case "var": {
      const c = constants.get(e.name);
      return c === undefined ? e.name : String(c);
    }
    case "array":
      return e.name;
    case "load":
      return `${e.array}[${r(e.index)}]!`;
    case "prim":
      return `${e.name}(${e.args.map(r).join(", ")})`;
    case "cmp":
      return `(${r(e.a)} ${CMP[e.cmp]} ${r(e.b)})`;
    case "index":
      switch (e.fn) {
        case "add":
          return `(${r(e.a)} + ${r(e.b)})`;
        case "sub":
          return `(${r(e.a)} - ${r(e.b)})`;
        case "mul":
          return `(${r(e.a)} * ${r(e.b)})`;
        case "div":
          return `((${r(e.a)} / ${r(e.b)}) >>> 0)`;
        case "min":
          return `Math.min(${r(e.a)}, ${r(e.b)})`;
      }
      break;
    case "not":
      return `!${r(e.a)}`;
    case "select":
      return `(${r(e.cond)} ? ${r(e.a)} : ${r(e.b)})`;
    case "cast":
      return r(e.a); // value-preserving by the IR's rule: numbers need no conversion
  }
  throw new Error("unreachable");
}

/** Names assigned after their declaration somewhere in a block (they need `let`, the rest `const`). */
export function assignedNames(body: readonly Stmt[], out: Set<string> = new Set()): Set<string> {
  for (const s of body) {
    if (s.s === "assign") out.add(s.name);
    else if (s.s === "append") out.add(s.count);
    else if (s.s === "if") {
      assignedNames(s.then, out);
      assignedNames(s.else, out);
    } else if (s.s === "for") assignedNames(s.body, out);
  }
  return out;
}

/** Renders statements at an indentation; see tsExpr for `constants`. */
export function tsBlock(
  body: readonly Stmt[],
  indent: string,
  mutable: ReadonlySet<string>,
  constants: ReadonlyMap<string, number | boolean> = new Map(),
): string[] {
  const x = (e: Expr): string => tsExpr(e, constants);
  const lines: string[] = [];
  for (const s of body) {
    switch (s.s) {
      case "let":
        lines.push(`${indent}${mutable.has(s.name) ? "let" : "const"} ${s.name} = ${x(s.init)};`);
        break;
      case "assign":
        lines.push(`${indent}${s.name} = ${x(s.value)};`);
        break;
      case "store":
        lines.push(`${indent}${s.array}[${x(s.index)}] = ${x(s.value)};`);
        break;
      case "if":
        lines.push(`${indent}if (${x(s.cond)}) {`, ...tsBlock(s.then, indent + "  ", mutable, constants));
        if (s.else.length > 0) lines.push(`${indent}} else {`, ...tsBlock(s.else, indent + "  ", mutable, constants));
        lines.push(`${indent}}`);
        break;
      case "for":
        lines.push(`${indent}// bounded by: ${s.bound}`);
        lines.push(
          `${indent}for (let ${s.v} = ${x(s.from)}; ${s.v} < ${x(s.to)}; ${s.v}++) {`,
          ...tsBlock(s.body, indent + "  ", mutable, constants),
          `${indent}}`,
        );
        break;
      case "append":
        lines.push(`${indent}${s.list}[${s.count}++] = ${x(s.value)};`);
        break;
      case "return":
        lines.push(`${indent}return ${x(s.value)};`);
        break;
    }
  }
  return lines;
}

/** The primitives a set of kernels calls (for the import line). */
export function primitivesUsed(kernels: readonly Kernel[]): PrimName[] {
  const used = new Set<PrimName>();
  const walkE = (e: Expr): void => {
    switch (e.op) {
      case "prim":
        used.add(e.name);
        e.args.forEach(walkE);
        break;
      case "load":
        walkE(e.index);
        break;
      case "cmp":
      case "index":
        walkE(e.a);
        walkE(e.b);
        break;
      case "not":
      case "cast":
        walkE(e.a);
        break;
      case "select":
        walkE(e.cond);
        walkE(e.a);
        walkE(e.b);
        break;
      default:
        break;
    }
  };
  const walkS = (body: readonly Stmt[]): void => {
    for (const s of body) {
      switch (s.s) {
        case "let":
          walkE(s.init);
          break;
        case "assign":
        case "return":
          walkE(s.value);
          break;
        case "store":
          walkE(s.index);
          walkE(s.value);
          break;
        case "append":
          walkE(s.value);
          break;
        case "if":
          walkE(s.cond);
          walkS(s.then);
          walkS(s.else);
          break;
        case "for":
          walkE(s.from);
          walkE(s.to);
          walkS(s.body);
          break;
      }
    }
  };
  kernels.forEach((kernel) => walkS(kernel.body));
  return (Object.keys(PRIMITIVES) as PrimName[]).filter((p) => used.has(p));
}

/** One kernel as an exported TS function. */
export function tsKernel(kernel: Kernel): string {
  const params = kernel.params.map((p) => `${p.name}: ${p.kind === "scalar" ? (p.type === "bool" ? "boolean" : "number") : TS_ARRAY[p.elem]}`);
  const ret = kernel.returns === "u32" ? "number" : "void";
  return [
    `/** ${kernel.doc} */`,
    `export function ${kernel.name}(${params.join(", ")}): ${ret} {`,
    ...tsBlock(kernel.body, "  ", assignedNames(kernel.body)),
    "}",
  ].join("\n");
}

/** The banner every generated TS file starts with. */
export function tsBanner(source: string): string {
  return `// GENERATED by \`npm run gen\` from ${source}. DO NOT EDIT.\n// Event-table format version ${FORMAT_VERSION} (spec/ops.md version 1).\n`;
}

/** runtime/kernels_generated.ts: every kernel of codegen/kernels.ts. */
export function emitTsKernels(): [path: string, contents: string] {
  const text = [
    tsBanner("codegen/kernels.ts"),
    "/**",
    " * The per-step kernels of spec/ops.md, emitted from the kernel IR (codegen/kernels.ts). The",
    " * interpreter (runtime/interpreter.ts) calls these; the C kernels (firmware/src/ps_kernels_generated.c)",
    " * are emitted from the same description.",
    " */",
    `import { ${primitivesUsed(KERNELS).join(", ")} } from "./fixed.js";`,
    "",
    `/** Event-table format version these kernels implement. */`,
    `export const KERNELS_FORMAT_VERSION = ${FORMAT_VERSION};`,
    "",
    KERNELS.map(tsKernel).join("\n\n"),
    "",
  ].join("\n");
  return ["runtime/kernels_generated.ts", text];
}
