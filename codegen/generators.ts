/**
 * Generators of checked-in files owned by codegen/ (kernels emitted from the IR). scripts/gen.ts
 * runs them with its own; each returns [path, contents] pairs and must be deterministic.
 */
import { emitCHeader, emitCSource } from "./emit-c.js";
import { emitTsKernels } from "./emit-ts.js";

export const GENERATORS: Array<() => Array<[path: string, contents: string]>> = [() => [emitTsKernels(), emitCHeader(), emitCSource()]];
