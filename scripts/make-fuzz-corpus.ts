/**
 * Writes the libFuzzer seed corpus of the C event-table reader (firmware/fuzz/corpus/table/) and
 * its dictionary (firmware/fuzz/table.dict). Deterministic: seeded tables only, so the files in git
 * are exactly what this script writes (test/fuzz-smoke.test.ts checks that).
 *
 *   npx tsx scripts/make-fuzz-corpus.ts
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodeCanonical } from "../runtime/cbor.js";
import { encodeTable } from "../runtime/format.js";
import type { ConnectionKind } from "../runtime/testing/random-table.js";
import { randomTable } from "../runtime/testing/random-table.js";
import { bodyBytes, envelope, everythingTable, goldenTable, rulesTable, hostileCases, wideSparseTable } from "../runtime/testing/table-catalogue.js";

/** Folder of the seed corpus. */
export const CORPUS_DIR = resolve(import.meta.dirname, "..", "firmware", "fuzz", "corpus", "table");
/** Folder of the body-mode seed corpus (the bodies of the valid seeds; see fuzz_table.c PS_FUZZ_BODY). */
export const BODY_CORPUS_DIR = resolve(import.meta.dirname, "..", "firmware", "fuzz", "corpus", "table-body");
/** The libFuzzer dictionary of the format's keys and names. */
export const DICT_PATH = resolve(import.meta.dirname, "..", "firmware", "fuzz", "table.dict");

/** Seed files by name: small valid tables of every kind, then a few malformed ones. */
export function corpusFiles(): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const small = { maxNeurons: 8, recurrentProbability: 0.5, plasticityProbability: 0.5 };
  files.set("valid-golden.cbor", encodeTable(goldenTable()));
  files.set("valid-everything.cbor", encodeTable(everythingTable()));
  files.set("valid-rules.cbor", encodeTable(rulesTable()));
  files.set("valid-wide-sparse.cbor", encodeTable(wideSparseTable()));
  const kinds: readonly ConnectionKind[] = ["dense", "sparse", "conv2d", "pool"];
  kinds.forEach((kind, i) => files.set(`valid-${kind}.cbor`, encodeTable(randomTable(10 + i, { ...small, kinds: [kind, "dense"] }))));
  files.set("valid-int4.cbor", encodeTable(randomTable(20, { ...small, layers: 3, weightBits: [4] })));
  files.set("valid-int16.cbor", encodeTable(randomTable(21, { ...small, layers: 3, weightBits: [16] })));
  files.set("valid-integrator.cbor", encodeTable(randomTable(22, { ...small, layers: 2, models: ["integrator", "cuba"], readout: "membrane" })));
  files.set(
    "valid-plastic.cbor",
    encodeTable(randomTable(23, { ...small, kinds: ["dense", "sparse"], plasticityProbability: 1, models: ["lif-shift", "lif-q15"] })),
  );
  files.set("valid-rate.cbor", encodeTable(randomTable(24, { ...small, layers: 4, encoding: "rate" })));
  const everything = encodeTable(everythingTable());
  files.set("bad-truncated.cbor", everything.subarray(0, everything.length - 40));
  files.set(
    "bad-hash.cbor",
    (() => {
      const b = everything.slice();
      b[150]! ^= 4;
      return b;
    })(),
  );
  files.set("bad-truncated-body.cbor", envelope(bodyBytes(everything).subarray(0, 300)));
  const wanted = new Set([
    "sparse columns not ascending",
    "int4 padding nibble set",
    "weights outside the plasticity clamp",
    "conv outShape inconsistent with stride",
    "huge float where an integer is expected",
  ]);
  for (const [name, bytes] of hostileCases()) {
    if (wanted.has(name))
      files.set(
        `bad-${name
          .replace(/[^a-z0-9]+/gi, "-")
          .replace(/^-|-$/g, "")
          .toLowerCase()}.cbor`,
        bytes,
      );
  }
  return files;
}

/** Dictionary entries: every key and name of the format as encoded CBOR text, and the typed-array tags. */
export function dictionary(): string {
  const words = [
    "body",
    "hash",
    "format",
    "version",
    "picospike-event-table",
    "input",
    "layers",
    "readout",
    "provenance",
    "size",
    "shape",
    "encoding",
    "seed",
    "name",
    "recurrent",
    "bias",
    "neuron",
    "plasticity",
    "kind",
    "inputs",
    "outputs",
    "weights",
    "rowPtr",
    "cols",
    "inShape",
    "outShape",
    "kernel",
    "stride",
    "padding",
    "weight",
    "shift",
    "bits",
    "count",
    "data",
    "model",
    "threshold",
    "reset",
    "resetValue",
    "leakShift",
    "leakQ15",
    "currentShift",
    "refractory",
    "vMin",
    // format version 2 neuron keys (spec/ops.md §4.9)
    "compare",
    "resetDelay",
    "multiSpike",
    "vInit",
    "synapse",
    "currentQ15",
    "leakQ15s",
    "currentQ15s",
    "gt",
    "ge",
    "q15",
    "rule",
    "preTraceShift",
    "postTraceShift",
    "traceIncrement",
    "aPlus",
    "aMinus",
    "eligibilityShift",
    "learningShift",
    "baselineShift",
    "wMin",
    "wMax",
    "source",
    "tool",
    "settings",
    "layerScales",
    "dense",
    "sparse",
    "conv2d",
    "pool",
    "if",
    "lif-shift",
    "lif-q15",
    "cuba",
    "integrator",
    "subtract",
    "value",
    "spikes",
    "rate",
    "current",
    "count",
    "membrane",
    "stdp",
    "rstdp",
  ];
  const esc = (b: Uint8Array): string => [...b].map((x) => `\\x${x.toString(16).padStart(2, "0")}`).join("");
  const lines = ["# CBOR-encoded keys and names of the event-table format (scripts/make-fuzz-corpus.ts)"];
  for (const w of [...new Set(words)]) lines.push(`"${esc(encodeCanonical(w))}"`);
  for (const tag of ["d840", "d848", "d845", "d846", "d84d", "d84e"]) lines.push(`"${esc(Uint8Array.from(tag.match(/../g)!, (h) => parseInt(h, 16)))}"`);
  return lines.join("\n") + "\n";
}

/** Body-mode seeds: the body of every valid seed file. */
export function bodyCorpusFiles(): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [name, bytes] of corpusFiles()) if (name.startsWith("valid-")) out.set(name.replace(/^valid-/, "body-"), bodyBytes(bytes));
  return out;
}

function replaceFolder(dir: string, files: Map<string, Uint8Array>): void {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir)) if (f.endsWith(".cbor")) rmSync(join(dir, f));
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
}

/** Replaces both corpus folders' .cbor files and the dictionary with freshly generated ones. */
export function writeCorpus(): number {
  const files = corpusFiles();
  const bodies = bodyCorpusFiles();
  replaceFolder(CORPUS_DIR, files);
  replaceFolder(BODY_CORPUS_DIR, bodies);
  writeFileSync(DICT_PATH, dictionary());
  return files.size + bodies.size;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const n = writeCorpus();
  console.log(`wrote ${n} seed files to ${CORPUS_DIR}, ${BODY_CORPUS_DIR} and ${DICT_PATH}`);
}
