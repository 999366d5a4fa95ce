/** Every verb of the README's command reference, with its acceptance cases (verbs/). */
import type { VerbCase } from "./context.js";
import { adapt, build, compare, flash, stream } from "./verbs/boards.js";
import { codegen } from "./verbs/codegen.js";
import { evalVerb, run } from "./verbs/interpreter.js";
import { bench, demo, learn, ports } from "./verbs/misc.js";
import { convert, inspect, quantize, train } from "./verbs/pipeline.js";
import { exportVerb, importVerb, monitor } from "./verbs/interchange.js";

/** Every verb's cases, in the order a user meets them. */
export const VERB_CASES: readonly VerbCase[] = [
  demo,
  train,
  convert,
  importVerb,
  quantize,
  inspect,
  run,
  evalVerb,
  exportVerb,
  codegen,
  build,
  flash,
  stream,
  compare,
  monitor,
  adapt,
  learn,
  ports,
  bench,
];
