/**
 * Inputs and verdicts shared by the C event-table reader's cross-check (test/c-table-reader.test.ts)
 * and the fuzz seed corpus (scripts/make-fuzz-corpus.ts): hand-made valid tables, the malformed
 * catalogue of runtime/format.test.ts rebuilt on them, seeded byte and tree mutators, and the TS
 * verdict printed in exactly the form of firmware/test/table_dump.c.
 */
import { ByteString, type CborMap, type CborValue, decodeCanonical, encodeCanonical } from "../cbor.js";
import { ERROR_CODES, isPicospikeError } from "../errors.js";
import { connectionSynapses, decodeTable, encodeTable, packInt4, weightAt } from "../format.js";
import { sha256, toHex } from "../hash.js";
import { type Connection, DEFAULT_NEURON, EPOCH_SHIFT_DEFAULT, type EventTable, FORMAT_NAME, FORMAT_VERSION, type Layer, type NeuronModel } from "../model.js";
import { TestRng } from "./random-table.js";

const neuron = (model: NeuronModel, extra: Partial<Layer["neuron"]> = {}): Layer["neuron"] => ({ ...DEFAULT_NEURON, model, threshold: 100, ...extra });

/** everythingTable with every version-2 neuron rule (spec/ops.md §4.9) on its layers. */
export function rulesTable(): EventTable {
  const t = everythingTable();
  const rules: Record<string, Partial<Layer["neuron"]>> = {
    conv: { compare: "gt", vInit: -3, multiSpike: true },
    pool: { leakQ15: 32767, leakQ15s: Uint16Array.from({ length: 8 }, (_, j) => 1000 * j + 7), vInit: 4 },
    sparse: { synapse: "q15", leakShift: 0, currentShift: 0, leakQ15: 20000, currentQ15s: Uint16Array.of(0, 1, 16384, 32767, 5, 6), compare: "gt" },
    hidden: { compare: "ge", resetDelay: true },
    readout: { leakQ15s: Uint16Array.of(30000, 31000, 32000), vInit: -9 },
  };
  return { ...t, layers: t.layers.map((l) => ({ ...l, neuron: { ...l.neuron, ...rules[l.name] } })) };
}

/** A hand-made table with every connection kind, neuron model, weight width and optional part. */
export function everythingTable(): EventTable {
  return {
    input: { size: 16, shape: [1, 4, 4], encoding: "rate", seed: 12345 },
    layers: [
      {
        name: "conv",
        size: 32,
        shape: [2, 4, 4],
        input: {
          kind: "conv2d",
          inShape: [1, 4, 4],
          outShape: [2, 4, 4],
          kernel: [3, 3],
          stride: [1, 1],
          padding: [1, 1],
          weights: { bits: 4, count: 18, data: packInt4(Array.from({ length: 18 }, (_, k) => (k % 16) - 8)), shift: Uint8Array.of(2, 3) },
        },
        bias: Int32Array.of(5, -5),
        neuron: neuron("lif-shift", { leakShift: 3, refractory: 2 }),
      },
      {
        name: "pool",
        size: 8,
        shape: [2, 2, 2],
        input: { kind: "pool", inShape: [2, 4, 4], outShape: [2, 2, 2], kernel: [2, 2], stride: [2, 2], weight: 3, shift: 4 },
        recurrent: {
          kind: "conv2d",
          inShape: [2, 2, 2],
          outShape: [2, 2, 2],
          kernel: [3, 3],
          stride: [1, 1],
          padding: [1, 1],
          weights: { bits: 8, count: 36, data: Int8Array.from({ length: 36 }, (_, k) => k - 18), shift: Uint8Array.of(0) },
        },
        neuron: neuron("lif-q15", { leakQ15: 30000, reset: "value", resetValue: -7, vMin: -1000 }),
      },
      {
        name: "sparse",
        size: 6,
        input: {
          kind: "sparse",
          inputs: 8,
          outputs: 6,
          rowPtr: Uint32Array.of(0, 2, 2, 3, 5, 5, 6, 8, 9),
          cols: Uint16Array.of(0, 5, 3, 1, 2, 4, 0, 5, 2),
          weights: { bits: 16, count: 9, data: Int16Array.of(300, -300, 1000, -1000, 5, 6, 7, 8, 9), shift: Uint8Array.from([0, 1, 2, 3, 4, 5]) },
        },
        recurrent: {
          kind: "dense",
          inputs: 6,
          outputs: 6,
          weights: { bits: 8, count: 36, data: Int8Array.from({ length: 36 }, (_, k) => ((k * 7) % 11) - 5), shift: Uint8Array.of(1) },
        },
        bias: Int32Array.of(1, 2, 3, 4, 5, 6),
        neuron: neuron("cuba", { leakShift: 4, currentShift: 2 }),
        plasticity: {
          rule: "rstdp",
          preTraceShift: 3,
          postTraceShift: 4,
          traceIncrement: 1024,
          aPlus: 100,
          aMinus: 120,
          eligibilityShift: 5,
          learningShift: 8,
          baselineShift: 4,
          wMin: -1000,
          wMax: 1000,
        },
      },
      {
        name: "hidden",
        size: 5,
        input: {
          kind: "dense",
          inputs: 6,
          outputs: 5,
          weights: { bits: 8, count: 30, data: Int8Array.from({ length: 30 }, (_, k) => 60 - 4 * k), shift: Uint8Array.of(0) },
        },
        neuron: neuron("if"),
        plasticity: {
          rule: "stdp",
          preTraceShift: 1,
          postTraceShift: 15,
          traceIncrement: 32767,
          aPlus: 0,
          aMinus: 32767,
          eligibilityShift: 15,
          learningShift: 31,
          baselineShift: 0,
          wMin: -128,
          wMax: 127,
        },
      },
      {
        name: "readout",
        size: 3,
        input: {
          kind: "dense",
          inputs: 5,
          outputs: 3,
          weights: { bits: 4, count: 15, data: packInt4([1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1]), shift: Uint8Array.of(1, 2, 3) },
        },
        bias: Int32Array.of(-1, 0, 1),
        neuron: { ...DEFAULT_NEURON, model: "integrator" },
      },
    ],
    readout: { kind: "membrane" },
    provenance: {
      source: "hand-made",
      tool: "table-catalogue",
      settings: { percentile: 99.9, bits: 8, folded: true, name: "ünïcödé", "7": "index key" },
      layerScales: [0.5, 1.25e-3, 3, 1e-300, 0.1],
    },
  };
}

/** A table whose sparse layer has more than 65536 outputs, so its columns are uint32 (tag 70). */
export function wideSparseTable(): EventTable {
  const outputs = 70000;
  return {
    input: { size: 3, encoding: "current", seed: 0 },
    layers: [
      {
        name: "wide",
        size: outputs,
        input: {
          kind: "sparse",
          inputs: 3,
          outputs,
          rowPtr: Uint32Array.of(0, 2, 2, 4),
          cols: Uint32Array.of(0, 69999, 65536, 65537),
          weights: { bits: 8, count: 4, data: Int8Array.of(1, -1, 127, -128), shift: Uint8Array.of(23) },
        },
        neuron: { ...DEFAULT_NEURON, threshold: 2147483647, vMin: -2147483648 },
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "", tool: "", settings: {}, layerScales: [1024.5] },
  };
}

/** The golden one-layer table of runtime/format.test.ts. */
export function goldenTable(): EventTable {
  return {
    input: { size: 2, encoding: "spikes", seed: 0 },
    layers: [
      {
        name: "out",
        size: 2,
        input: { kind: "dense", inputs: 2, outputs: 2, weights: { bits: 8, count: 4, data: Int8Array.of(1, -2, 3, -4), shift: Uint8Array.of(1) } },
        neuron: { ...DEFAULT_NEURON, threshold: 16 },
      },
    ],
    readout: { kind: "count" },
    provenance: { source: "golden", tool: "test", settings: { bits: 8 }, layerScales: [0.5] },
  };
}

const TREE_LIMITS = { maxDepth: 64, maxItems: 64, maxTextBytes: 256, maxByteStringBytes: 1 << 26 };

/** A file around `body` bytes, with the right hash unless overridden. */
export function envelope(body: Uint8Array, over: Partial<Record<"format" | "version" | "hash", CborValue>> = {}): Uint8Array {
  return encodeCanonical({ format: FORMAT_NAME, version: FORMAT_VERSION, hash: new ByteString(sha256(body)), body: new ByteString(body), ...over });
}

/** The body bytes of a well-formed file. */
export function bodyBytes(file: Uint8Array): Uint8Array {
  return ((decodeCanonical(file, { ...TREE_LIMITS, maxDepth: 1 }) as CborMap).body as ByteString).bytes;
}

/** The body of a file as a mutable tree. */
export function bodyTree(file: Uint8Array): Record<string, any> {
  return decodeCanonical(bodyBytes(file), TREE_LIMITS) as Record<string, any>;
}

/** A re-hashed file whose body is the body of `file` after `mutate`. */
export function mutated(file: Uint8Array, mutate: (body: Record<string, any>) => void): Uint8Array {
  const body = bodyTree(file);
  mutate(body);
  return envelope(encodeCanonical(body as CborValue));
}

/** An integer whose canonical bytes (1a 5e ed 5e ed) mark where raw bytes get spliced in. */
const MARKER = 0x5eed5eed;
const MARKER_BYTES = [0x1a, 0x5e, 0xed, 0x5e, 0xed];

/** A float64 item: the canonical writer cannot produce integral floats beyond 2^53, hostile files can. */
function f64(x: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = 0xfb;
  new DataView(out.buffer).setFloat64(1, x);
  return out;
}

/** `bytes` with the first MARKER item replaced by `raw`. */
function splice(bytes: Uint8Array, raw: Uint8Array): Uint8Array {
  const at = bytes.findIndex((_, i) => MARKER_BYTES.every((m, k) => bytes[i + k] === m));
  if (at < 0) throw new Error("splice: marker not found");
  return Uint8Array.from([...bytes.subarray(0, at), ...raw, ...bytes.subarray(at + MARKER_BYTES.length)]);
}

/** A re-hashed file whose body is `file`'s after `mutate` (which plants MARKER) with `raw` spliced in. */
function rawBody(file: Uint8Array, mutate: (body: Record<string, any>) => void, raw: Uint8Array): Uint8Array {
  const body = bodyTree(file);
  mutate(body);
  return envelope(splice(encodeCanonical(body as CborValue), raw));
}

const hexBytes = (s: string): Uint8Array => Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));

/** The hostile catalogue of runtime/format.test.ts (and a few more), built on everythingTable. */
export function hostileCases(): Array<[name: string, bytes: Uint8Array]> {
  const valid = encodeTable(everythingTable());
  const body = bodyBytes(valid);
  const layerOf = (b: Record<string, any>, name: string): Record<string, any> => b.layers.find((l: any) => l.name === name);
  const m = (f: (b: Record<string, any>) => void): Uint8Array => mutated(valid, f);
  return [
    ["wrong version", envelope(body, { version: 3 })],
    ["version 0", envelope(body, { version: 0 })],
    ["version as float", envelope(body, { version: 1.5 })],
    ["version as big float", splice(envelope(body, { version: MARKER }), f64(1e20))],
    ["version as text", envelope(body, { version: "1" })],
    ["wrong format name", envelope(body, { format: "picospike-event-tabel" })],
    ["format as bytes", envelope(body, { format: new ByteString(new TextEncoder().encode(FORMAT_NAME)) })],
    ["not a map at the top", encodeCanonical([1, 2, 3])],
    ["other CBOR map", encodeCanonical({ hello: "world" })],
    ["hash of another body", envelope(body, { hash: new ByteString(sha256(Uint8Array.of(1))) })],
    [
      "a flipped body byte",
      (() => {
        const b = valid.slice();
        b[200]! ^= 1;
        return b;
      })(),
    ],
    ["short hash", envelope(body, { hash: new ByteString(new Uint8Array(31)) })],
    ["hash as typed array", envelope(body, { hash: sha256(body) })],
    ["missing hash", encodeCanonical({ format: FORMAT_NAME, version: 1, body: new ByteString(body) })],
    ["missing version", encodeCanonical({ format: FORMAT_NAME, body: new ByteString(body), hash: new ByteString(sha256(body)) })],
    ["unknown envelope key", encodeCanonical({ format: FORMAT_NAME, version: 1, body: new ByteString(body), hash: new ByteString(sha256(body)), extra: 1 })],
    ["nested envelope value", encodeCanonical({ format: FORMAT_NAME, version: 1, body: new ByteString(body), hash: new ByteString(sha256(body)), extra: [1] })],
    ["body as text", encodeCanonical({ format: FORMAT_NAME, version: 1, body: "x", hash: new ByteString(sha256(body)) })],
    ["body head not shortest", envelope(Uint8Array.from([0xb8, 0x04, ...body.subarray(1)]))],
    ["indefinite-length body", envelope(Uint8Array.from([0xbf, ...body.subarray(1), 0xff]))],
    [
      "body keys out of order",
      (() => {
        const b = bodyTree(valid);
        const parts = ["layers", "input", "readout", "provenance"].map((k) => [...encodeCanonical(k), ...encodeCanonical(b[k])]);
        return envelope(Uint8Array.from([0xa4, ...parts.flat()]));
      })(),
    ],
    ["trailing byte after the file", Uint8Array.from([...valid, 0])],
    ["trailing byte after the body", envelope(Uint8Array.from([...body, 0]))],
    ["empty file", new Uint8Array(0)],
    [
      "sparse column ≥ outputs",
      m((b) => {
        layerOf(b, "sparse").input.cols[8] = 6;
      }),
    ],
    [
      "sparse columns not ascending",
      m((b) => {
        layerOf(b, "sparse").input.cols = Uint16Array.of(5, 0, 3, 1, 2, 4, 0, 5, 2);
      }),
    ],
    [
      "rowPtr decreasing",
      m((b) => {
        layerOf(b, "sparse").input.rowPtr = Uint32Array.of(0, 2, 1, 3, 5, 5, 6, 8, 9);
      }),
    ],
    [
      "rowPtr[0] ≠ 0",
      m((b) => {
        layerOf(b, "sparse").input.rowPtr = Uint32Array.of(1, 2, 2, 3, 5, 5, 6, 8, 9);
      }),
    ],
    [
      "rowPtr too short",
      m((b) => {
        layerOf(b, "sparse").input.rowPtr = Uint32Array.of(0, 2, 2, 3, 5, 5, 6, 9);
      }),
    ],
    [
      "rowPtr end ≠ nnz",
      m((b) => {
        layerOf(b, "sparse").input.rowPtr = Uint32Array.of(0, 2, 2, 3, 5, 5, 6, 8, 8);
      }),
    ],
    [
      "rowPtr end huge",
      m((b) => {
        layerOf(b, "sparse").input.rowPtr = Uint32Array.of(0, 2, 2, 3, 5, 5, 6, 8, 0xffffffff);
      }),
    ],
    [
      "sparse cols as uint32 for few outputs",
      m((b) => {
        const c = layerOf(b, "sparse").input;
        c.cols = Uint32Array.from(c.cols);
      }),
    ],
    [
      "dims whose product overflows",
      m((b) => {
        b.input.shape = [65536, 65536, 65536];
      }),
    ],
    [
      "shape of 2 dims",
      m((b) => {
        b.input.shape = [4, 4];
      }),
    ],
    [
      "input larger than 2^20",
      m((b) => {
        b.input.size = 2 ** 20 + 1;
      }),
    ],
    [
      "synapses beyond 2^26",
      m((b) => {
        b.input = { size: 8192, encoding: "spikes", seed: 0 };
        b.layers = [
          {
            name: "big",
            size: 8193,
            input: { kind: "dense", inputs: 8192, outputs: 8193, weights: { bits: 8, count: 1, data: Int8Array.of(1), shift: Uint8Array.of(0) } },
            neuron: b.layers[3].neuron,
          },
        ];
        b.provenance.layerScales = [1];
      }),
    ],
    [
      "65 layers",
      m((b) => {
        b.layers = Array.from({ length: 65 }, () => b.layers[0]);
      }),
    ],
    ["nesting bomb as the file", hexBytes("81".repeat(10000) + "00")],
    ["nesting bomb in a hashed body", envelope(hexBytes("81".repeat(10000) + "00"))],
    [
      "nesting in a setting",
      m((b) => {
        b.provenance.settings.deep = [[[[[[[[1]]]]]]]];
      }),
    ],
    ["body claiming 2^60 bytes", Uint8Array.from([0xa4, ...encodeCanonical("body"), 0x5b, 0x10, 0, 0, 0, 0, 0, 0, 0])],
    ["body claiming more bytes than the file has", Uint8Array.from([0xa4, ...encodeCanonical("body"), 0x5a, 0, 1, 0, 0, 1, 2, 3])],
    [
      "int16 tag where int8 expected",
      m((b) => {
        const w = layerOf(b, "hidden").input.weights;
        w.data = Int16Array.from(w.data);
      }),
    ],
    [
      "int8 tag where int32 bias expected",
      m((b) => {
        layerOf(b, "conv").bias = Int8Array.of(5, -5);
      }),
    ],
    [
      "plain byte string where a typed array is expected",
      m((b) => {
        layerOf(b, "hidden").input.weights.shift = new ByteString(Uint8Array.of(0));
      }),
    ],
    [
      "text where an integer is expected",
      m((b) => {
        layerOf(b, "hidden").size = "5";
      }),
    ],
    [
      "float where an integer is expected",
      m((b) => {
        layerOf(b, "hidden").neuron.threshold = 100.5;
      }),
    ],
    [
      "huge float where an integer is expected",
      rawBody(
        valid,
        (b) => {
          layerOf(b, "hidden").neuron.threshold = MARKER;
        },
        f64(1e300),
      ),
    ],
    [
      "huge negative float where an integer is expected",
      rawBody(
        valid,
        (b) => {
          layerOf(b, "hidden").neuron.vMin = MARKER;
        },
        f64(-1e300),
      ),
    ],
    [
      "huge float as a weight count",
      rawBody(
        valid,
        (b) => {
          layerOf(b, "hidden").input.weights.count = MARKER;
        },
        f64(1e20),
      ),
    ],
    [
      "huge float as a layer size",
      rawBody(
        valid,
        (b) => {
          layerOf(b, "hidden").size = MARKER;
        },
        Uint8Array.of(0xfa, 0x62, 0x80, 0, 0),
      ),
    ],
    [
      "huge float as a layer scale",
      rawBody(
        valid,
        (b) => {
          b.provenance.layerScales[1] = MARKER;
        },
        f64(1e20),
      ),
    ],
    [
      "missing neuron",
      m((b) => {
        delete layerOf(b, "hidden").neuron;
      }),
    ],
    [
      "missing threshold",
      m((b) => {
        delete layerOf(b, "hidden").neuron.threshold;
      }),
    ],
    [
      "missing weights",
      m((b) => {
        delete layerOf(b, "hidden").input.weights;
      }),
    ],
    [
      "missing readout",
      m((b) => {
        delete b.readout;
      }),
    ],
    [
      "conv shape on a flat layer",
      m((b) => {
        delete layerOf(b, "conv").shape;
      }),
    ],
    [
      "unknown field",
      m((b) => {
        layerOf(b, "hidden").delay = 1;
      }),
    ],
    [
      "__proto__ field",
      m((b) => {
        Object.defineProperty(layerOf(b, "hidden"), "__proto__", { value: 1, enumerable: true });
      }),
    ],
    [
      "index-key setting of a bad type after an empty key",
      m((b) => {
        b.provenance.settings[""] = 1;
        b.provenance.settings["12"] = [1];
      }),
    ],
    [
      "empty setting key",
      m((b) => {
        b.provenance.settings[""] = 1;
      }),
    ],
    [
      "setting key of 65 bytes",
      m((b) => {
        b.provenance.settings["k".repeat(65)] = 1;
      }),
    ],
    [
      "setting of a huge integral float",
      rawBody(
        valid,
        (b) => {
          b.provenance.settings.big = MARKER;
        },
        Uint8Array.of(0xfa, 0x62, 0x80, 0, 0),
      ),
    ],
    [
      "setting as bytes",
      m((b) => {
        b.provenance.settings.raw = new ByteString(Uint8Array.of(1));
      }),
    ],
    [
      "unknown connection kind",
      m((b) => {
        layerOf(b, "hidden").input.kind = "lstm";
      }),
    ],
    [
      "connection kind as number",
      m((b) => {
        layerOf(b, "hidden").input.kind = 1;
      }),
    ],
    [
      "key of another connection kind",
      m((b) => {
        layerOf(b, "hidden").input.padding = [0, 0];
      }),
    ],
    [
      "unknown neuron model",
      m((b) => {
        layerOf(b, "hidden").neuron.model = "hodgkin-huxley";
      }),
    ],
    [
      "unknown encoding",
      m((b) => {
        b.input.encoding = "latency";
      }),
    ],
    [
      "unknown readout",
      m((b) => {
        b.readout.kind = "first-spike";
      }),
    ],
    [
      "unknown learning rule",
      m((b) => {
        layerOf(b, "hidden").plasticity.rule = "bcm";
      }),
    ],
    [
      "layer input size ≠ previous layer size",
      m((b) => {
        const c = layerOf(b, "hidden").input;
        c.inputs = 5;
        c.weights.count = 25;
        c.weights.data = c.weights.data.slice(0, 25);
      }),
    ],
    [
      "conv inShape ≠ previous shape",
      m((b) => {
        layerOf(b, "pool").input.inShape = [2, 4, 2];
      }),
    ],
    [
      "conv outShape inconsistent with stride",
      m((b) => {
        layerOf(b, "conv").input.stride = [2, 1];
      }),
    ],
    [
      "pool changing channels",
      m((b) => {
        const l = layerOf(b, "pool");
        l.input.outShape = [1, 2, 2];
        l.shape = [1, 2, 2];
        l.size = 4;
      }),
    ],
    [
      "padding ≥ kernel",
      m((b) => {
        layerOf(b, "conv").input.padding = [3, 1];
      }),
    ],
    [
      "kernel larger than the padded input",
      m((b) => {
        layerOf(b, "conv").input.kernel = [9, 3];
      }),
    ],
    [
      "weight count ≠ dims",
      m((b) => {
        layerOf(b, "hidden").input.weights.count = 29;
      }),
    ],
    [
      "weight count beyond 2^26",
      m((b) => {
        layerOf(b, "hidden").input.weights.count = 2 ** 27;
      }),
    ],
    [
      "weight data shorter than count",
      m((b) => {
        const w = layerOf(b, "hidden").input.weights;
        w.data = w.data.slice(0, 29);
      }),
    ],
    [
      "int4 data of the wrong length",
      m((b) => {
        const w = layerOf(b, "readout").input.weights;
        w.data = Uint8Array.from([...w.data, 0]);
      }),
    ],
    [
      "int4 padding nibble set",
      m((b) => {
        layerOf(b, "readout").input.weights.data[7] |= 0x10;
      }),
    ],
    [
      "shift of wrong length",
      m((b) => {
        layerOf(b, "readout").input.weights.shift = Uint8Array.of(1, 2);
      }),
    ],
    [
      "shift above 23",
      m((b) => {
        layerOf(b, "hidden").input.weights.shift = Uint8Array.of(24);
      }),
    ],
    [
      "bias of wrong length",
      m((b) => {
        layerOf(b, "conv").bias = Int32Array.of(1, 2, 3);
      }),
    ],
    [
      "weight bits 12",
      m((b) => {
        layerOf(b, "hidden").input.weights.bits = 12;
      }),
    ],
    [
      "weight bits as text",
      m((b) => {
        layerOf(b, "hidden").input.weights.bits = "8";
      }),
    ],
    [
      "threshold 0",
      m((b) => {
        layerOf(b, "hidden").neuron.threshold = 0;
      }),
    ],
    [
      "threshold beyond int32",
      m((b) => {
        layerOf(b, "hidden").neuron.threshold = 2 ** 31;
      }),
    ],
    [
      "leakShift on an IF neuron",
      m((b) => {
        layerOf(b, "hidden").neuron.leakShift = 3;
      }),
    ],
    [
      "leakQ15 above 32767",
      m((b) => {
        layerOf(b, "pool").neuron.leakQ15 = 32768;
      }),
    ],
    [
      "refractory 256",
      m((b) => {
        layerOf(b, "hidden").neuron.refractory = 256;
      }),
    ],
    [
      "reset value above threshold",
      m((b) => {
        layerOf(b, "pool").neuron.resetValue = 100;
      }),
    ],
    [
      "integrator before the last layer",
      m((b) => {
        layerOf(b, "hidden").neuron = { ...layerOf(b, "readout").neuron };
        delete layerOf(b, "hidden").plasticity;
      }),
    ],
    [
      "count readout of an integrator",
      m((b) => {
        b.readout.kind = "count";
      }),
    ],
    [
      "rate encoding with seed 0",
      m((b) => {
        b.input.seed = 0;
      }),
    ],
    [
      "seed beyond uint32",
      m((b) => {
        b.input.seed = 2 ** 32;
      }),
    ],
    [
      "plasticity wMin > wMax",
      m((b) => {
        const p = layerOf(b, "hidden").plasticity;
        p.wMin = 10;
        p.wMax = -10;
      }),
    ],
    [
      "plasticity clamp beyond the width",
      m((b) => {
        layerOf(b, "hidden").plasticity.wMax = 128;
      }),
    ],
    [
      "weights outside the plasticity clamp",
      m((b) => {
        layerOf(b, "sparse").plasticity.wMax = 999;
      }),
    ],
    [
      "plasticity trace shift 0",
      m((b) => {
        layerOf(b, "hidden").plasticity.preTraceShift = 0;
      }),
    ],
    [
      "plasticity on a conv layer",
      m((b) => {
        layerOf(b, "conv").plasticity = { ...layerOf(b, "hidden").plasticity, wMin: -8, wMax: 7 };
      }),
    ],
    [
      "layer scales ≠ layers",
      m((b) => {
        b.provenance.layerScales = [1];
      }),
    ],
    [
      "negative layer scale",
      m((b) => {
        b.provenance.layerScales[0] = -0.5;
      }),
    ],
    [
      "zero layer scale",
      m((b) => {
        b.provenance.layerScales[0] = 0;
      }),
    ],
    [
      "layer scale as text",
      m((b) => {
        b.provenance.layerScales[0] = "1";
      }),
    ],
    [
      "empty layer name",
      m((b) => {
        layerOf(b, "hidden").name = "";
      }),
    ],
    [
      "layer name of 65 bytes",
      m((b) => {
        layerOf(b, "hidden").name = "x".repeat(65);
      }),
    ],
    [
      "text of 257 bytes",
      m((b) => {
        b.provenance.source = "x".repeat(257);
      }),
    ],
    [
      "no layers",
      m((b) => {
        b.layers = [];
        b.provenance.layerScales = [];
      }),
    ],
    [
      "layers as map",
      m((b) => {
        b.layers = { a: 1 };
      }),
    ],
    [
      "settings as array",
      m((b) => {
        b.provenance.settings = [1];
      }),
    ],
    // format version 2 neuron keys (spec/ops.md §4.9): layers pool (lif-q15, 8, reset value), sparse (cuba, 6), hidden (if, 5), readout (integrator, 3)
    ["compare 'lt'", m((b) => void (layerOf(b, "hidden").neuron.compare = "lt"))],
    ["compare as int", m((b) => void (layerOf(b, "hidden").neuron.compare = 1))],
    ["resetDelay as int", m((b) => void (layerOf(b, "hidden").neuron.resetDelay = 1))],
    ["resetDelay with reset value", m((b) => void (layerOf(b, "pool").neuron.resetDelay = true))],
    ["resetDelay with a refractory period", m((b) => Object.assign(layerOf(b, "hidden").neuron, { resetDelay: true, refractory: 2 }))],
    ["multiSpike as text", m((b) => void (layerOf(b, "hidden").neuron.multiSpike = "yes"))],
    ["multiSpike with reset value", m((b) => void (layerOf(b, "pool").neuron.multiSpike = true))],
    ["multiSpike with resetDelay", m((b) => Object.assign(layerOf(b, "hidden").neuron, { multiSpike: true, resetDelay: true, refractory: 0 }))],
    ["multiSpike on an integrator", m((b) => void (layerOf(b, "readout").neuron.multiSpike = true))],
    ["multiSpike on a plastic layer", m((b) => void (layerOf(b, "hidden").neuron.multiSpike = true))],
    ["multiSpike before a plastic layer", m((b) => void (layerOf(b, "sparse").neuron.multiSpike = true))],
    ["vInit at the threshold", m((b) => void (layerOf(b, "hidden").neuron.vInit = 100))],
    ["vInit as float", m((b) => void (layerOf(b, "hidden").neuron.vInit = 1.5))],
    ["synapse q15 on lif-q15", m((b) => void (layerOf(b, "pool").neuron.synapse = "q15"))],
    ["synapse 'exp'", m((b) => void (layerOf(b, "sparse").neuron.synapse = "exp"))],
    ["synapse q15 with a leak shift", m((b) => void (layerOf(b, "sparse").neuron.synapse = "q15"))],
    ["currentQ15 on shift cuba", m((b) => void (layerOf(b, "sparse").neuron.currentQ15 = 5))],
    [
      "currentQ15 and currentQ15s together",
      m((b) => Object.assign(layerOf(b, "sparse").neuron, { synapse: "q15", leakShift: 0, currentShift: 0, currentQ15: 5, currentQ15s: new Uint16Array(6) })),
    ],
    ["currentQ15 32768", m((b) => Object.assign(layerOf(b, "sparse").neuron, { synapse: "q15", leakShift: 0, currentShift: 0, currentQ15: 32768 }))],
    ["leakQ15s of the wrong length", m((b) => Object.assign(layerOf(b, "pool").neuron, { leakQ15: 32767, leakQ15s: new Uint16Array(7) }))],
    ["leakQ15s with 40000", m((b) => Object.assign(layerOf(b, "pool").neuron, { leakQ15: 32767, leakQ15s: new Uint16Array(8).fill(40000) }))],
    ["leakQ15s as int32", m((b) => Object.assign(layerOf(b, "pool").neuron, { leakQ15: 32767, leakQ15s: new Int32Array(8) }))],
    ["leakQ15s beside a leakQ15", m((b) => void (layerOf(b, "pool").neuron.leakQ15s = new Uint16Array(8)))],
    ["leakQ15s on if", m((b) => void (layerOf(b, "hidden").neuron.leakQ15s = new Uint16Array(5)))],
    ["compare gt on an integrator", m((b) => void (layerOf(b, "readout").neuron.compare = "gt"))],
    ["unknown neuron key", m((b) => void (layerOf(b, "hidden").neuron.resetLater = true))],
    ["neuron compare in a version-1 file", envelope(bodyBytes(m((b) => void (layerOf(b, "hidden").neuron.compare = "gt"))), { version: 1 })],
    // format version 2 plasticity keys (spec/ops.md §11.5, §11.6)
    [
      "unknown plasticity timing",
      m((b) => {
        layerOf(b, "hidden").plasticity.timing = "sometimes";
      }),
    ],
    [
      "event timing on a sparse input",
      m((b) => {
        layerOf(b, "sparse").plasticity.timing = "event";
      }),
    ],
    [
      "triplet without event timing",
      m((b) => {
        Object.assign(layerOf(b, "hidden").plasticity, { rule: "triplet", tripletShift: 3, a3Plus: 10 });
      }),
    ],
    [
      "triplet without tripletShift",
      m((b) => {
        Object.assign(layerOf(b, "hidden").plasticity, { rule: "triplet", timing: "event", a3Plus: 10 });
      }),
    ],
    [
      "triplet with tripletShift 0",
      m((b) => {
        Object.assign(layerOf(b, "hidden").plasticity, { rule: "triplet", timing: "event", tripletShift: 0, a3Plus: 10 });
      }),
    ],
    [
      "triplet with a3Plus 32768",
      m((b) => {
        Object.assign(layerOf(b, "hidden").plasticity, { rule: "triplet", timing: "event", tripletShift: 3, a3Plus: 32768 });
      }),
    ],
    [
      "tripletShift on a stdp layer",
      m((b) => {
        layerOf(b, "hidden").plasticity.tripletShift = 3;
      }),
    ],
    // epoch timing (spec/ops.md §11.7)
    [
      "epoch timing on a sparse input",
      m((b) => {
        layerOf(b, "sparse").plasticity.timing = "epoch";
      }),
    ],
    [
      "epochShift 0",
      m((b) => {
        Object.assign(layerOf(b, "hidden").plasticity, { timing: "epoch", epochShift: 0 });
      }),
    ],
    [
      "epochShift 9",
      m((b) => {
        Object.assign(layerOf(b, "hidden").plasticity, { timing: "epoch", epochShift: 9 });
      }),
    ],
    [
      "epochShift with event timing",
      m((b) => {
        Object.assign(layerOf(b, "hidden").plasticity, { timing: "event", epochShift: 4 });
      }),
    ],
    [
      "triplet with epoch timing",
      m((b) => {
        Object.assign(layerOf(b, "hidden").plasticity, { rule: "triplet", timing: "epoch", tripletShift: 3, a3Plus: 10 });
      }),
    ],
    [
      "epochShift in a version-1 file",
      envelope(
        bodyBytes(
          m((b) => {
            Object.assign(layerOf(b, "hidden").plasticity, { timing: "epoch", epochShift: 4 });
          }),
        ),
        { version: 1 },
      ),
    ],
    [
      "event timing in a version-1 file",
      envelope(
        bodyBytes(
          m((b) => {
            layerOf(b, "hidden").plasticity.timing = "event";
          }),
        ),
        { version: 1 },
      ),
    ],
  ];
}

/** Seeded byte-level mutations of `file`: 1..`maxEdits` random bytes set, sometimes cut short. */
export function byteMutations(file: Uint8Array, count: number, seed: number, maxEdits = 6): Uint8Array[] {
  const rng = new TestRng(seed);
  return Array.from({ length: count }, () => {
    const b = rng.chance(0.2) ? file.slice(0, rng.int(1, file.length)) : file.slice();
    const edits = rng.int(1, maxEdits);
    for (let e = 0; e < edits; e++) {
      const at = rng.int(0, b.length - 1);
      b[at] = rng.chance(0.5) ? rng.int(0, 255) : b[at]! ^ (1 << rng.int(0, 7));
    }
    return b;
  });
}

/** Values a tree mutation can put anywhere: every CBOR type the format knows, at edges of ranges. */
function replacementPool(): CborValue[] {
  return [
    0,
    1,
    -1,
    2,
    3,
    4,
    8,
    16,
    23,
    24,
    31,
    32767,
    32768,
    -32768,
    65536,
    65537,
    2 ** 20,
    2 ** 20 + 1,
    2 ** 26,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    2 ** 32 - 1,
    2 ** 32,
    2 ** 53 - 1,
    -(2 ** 53 - 1),
    0.5,
    -0.5,
    1e-300,
    65504.5,
    "",
    "x",
    "dense",
    "sparse",
    "conv2d",
    "pool",
    "if",
    "integrator",
    "value",
    "subtract",
    "rate",
    "count",
    "stdp",
    true,
    false,
    [],
    [1],
    [1, 1],
    [1, 1, 1],
    [4, 4, 1],
    [2, 2],
    {},
    { kind: "dense" },
    new ByteString(Uint8Array.of(1)),
    Uint8Array.of(0),
    Uint8Array.of(24, 1),
    Int8Array.of(-1, 1),
    Uint16Array.of(0, 1),
    Uint32Array.of(0, 1),
    Int16Array.of(-1),
    Int32Array.of(7),
    Int32Array.of(1, 2, 3, 4, 5, 6),
  ];
}

const KEY_POOL = ["kind", "shape", "bias", "recurrent", "plasticity", "padding", "weight", "shift", "x", "__proto__", "0", ""];

/** Seeded schema-level mutations of `file`'s body: replace, delete or add fields; re-hashed. */
export function treeMutations(file: Uint8Array, count: number, seed: number): Uint8Array[] {
  const rng = new TestRng(seed);
  // A fresh pool per pick: a shared array put into itself would make the tree cyclic.
  const pick = (): CborValue => rng.pick(replacementPool());
  const out: Uint8Array[] = [];
  for (let n = 0; n < count; n++) {
    const body = bodyTree(file);
    const edits = rng.int(1, 3);
    for (let e = 0; e < edits; e++) {
      // Walk down from the root to a random container, then edit one of its entries.
      let node: any = body;
      for (let depth = 0; depth < 8; depth++) {
        const keys = Object.keys(node);
        if (keys.length === 0 || rng.chance(0.25)) break;
        const child = node[rng.pick(keys)];
        if (child === null || typeof child !== "object" || ArrayBuffer.isView(child) || child instanceof ByteString) break;
        node = child;
      }
      const keys = Object.keys(node);
      const action = rng.int(0, 9);
      if (Array.isArray(node)) {
        if (action === 0) node.pop();
        else if (action === 1) node.push(pick());
        else if (node.length > 0) node[rng.int(0, node.length - 1)] = pick();
      } else if (action === 0 && keys.length > 0) delete node[rng.pick(keys)];
      else if (action === 1) Object.defineProperty(node, rng.pick(KEY_POOL), { value: pick(), enumerable: true, configurable: true, writable: true });
      else if (keys.length > 0) node[rng.pick(keys)] = pick();
    }
    out.push(envelope(encodeCanonical(body as CborValue)));
  }
  return out;
}

const MODELS: readonly NeuronModel[] = ["if", "lif-shift", "lif-q15", "cuba", "integrator"];
const KINDS: readonly Connection["kind"][] = ["dense", "sparse", "conv2d", "pool"];
const FNV_START = 2166136261;

function fnv(values: Iterable<number>): number {
  let h = FNV_START;
  for (const v of values) h = Math.imul((h ^ (v | 0)) >>> 0, 16777619) >>> 0;
  return h;
}

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function connectionLine(i: number, role: string, c: Connection, writable: boolean): string {
  const kind = KINDS.indexOf(c.kind) + 1;
  const spatial = c.kind === "conv2d" || c.kind === "pool";
  const prod = (s: readonly number[]): number => s[0]! * s[1]! * s[2]!;
  const inputs = spatial ? prod(c.inShape) : c.inputs;
  const outputs = spatial ? prod(c.outShape) : c.outputs;
  const shapes = spatial
    ? `inShape=${c.inShape.join(",")} outShape=${c.outShape.join(",")} kernel=${c.kernel.join(",")} stride=${c.stride.join(",")}`
    : "inShape=0,0,0 outShape=0,0,0 kernel=0,0 stride=0,0";
  const padding = c.kind === "conv2d" ? c.padding.join(",") : "0,0";
  const w = c.kind === "pool" ? undefined : c.weights;
  const weights = w ? `${w.bits},${w.count},${fnv([...range(w.count)].map((k) => weightAt(w, k)))},rw${writable ? 1 : 0}` : `0,0,${FNV_START},rw0`;
  const shift = w ? `${w.shift.length},${fnv(w.shift)}` : `0,${FNV_START}`;
  const rowPtr = c.kind === "sparse" ? `${c.rowPtr.length},${fnv(c.rowPtr)}` : `0,${FNV_START}`;
  const cols = c.kind === "sparse" ? `${c.outputs <= 65536 ? 16 : 32},${c.cols.length},${fnv(c.cols)}` : `0,0,${FNV_START}`;
  const pool = c.kind === "pool" ? `${c.weight},${c.shift}` : "0,0";
  return `conn ${i} ${role} kind=${kind} inputs=${inputs} outputs=${outputs} ${shapes} padding=${padding} weights=${weights} shift=${shift} rowPtr=${rowPtr} cols=${cols} pool=${pool} synapses=${connectionSynapses(c)}`;
}

/** The lines table_dump prints for a table the reader accepted (after `ok <hash>`). */
export function summaryLines(t: EventTable): string[] {
  const s3 = (s: readonly number[] | undefined): string => (s ? s.join(",") : "0,0,0");
  let synapses = 0;
  for (const l of t.layers) synapses += connectionSynapses(l.input) + (l.recurrent ? connectionSynapses(l.recurrent) : 0);
  const lines = [
    `input size=${t.input.size} shape=${s3(t.input.shape)} encoding=${["spikes", "rate", "current"].indexOf(t.input.encoding)} seed=${t.input.seed} readout=${["count", "membrane"].indexOf(t.readout.kind)} synapses=${synapses} layers=${t.layers.length}`,
  ];
  t.layers.forEach((l, i) => {
    const n = l.neuron;
    const p = l.plasticity;
    const neuronText = [
      MODELS.indexOf(n.model),
      n.reset === "subtract" ? 0 : 1,
      n.threshold,
      n.resetValue,
      n.leakShift,
      n.leakQ15,
      n.currentShift,
      n.refractory,
      n.vMin,
      // format version 2 (spec/ops.md §4.9)
      n.compare === "gt" ? 1 : 0,
      n.resetDelay === true ? 1 : 0,
      n.multiSpike === true ? 1 : 0,
      n.model === "cuba" && n.synapse === "q15" ? 1 : 0,
      n.currentQ15 ?? 0,
      n.vInit ?? 0,
      n.leakQ15s ? 1 : 0,
      n.leakQ15s ? fnv(n.leakQ15s) : FNV_START,
      n.currentQ15s ? 1 : 0,
      n.currentQ15s ? fnv(n.currentQ15s) : FNV_START,
    ].join(",");
    const plasticity = p
      ? [
          ["stdp", "rstdp", "triplet"].indexOf(p.rule),
          p.preTraceShift,
          p.postTraceShift,
          p.traceIncrement,
          p.aPlus,
          p.aMinus,
          p.eligibilityShift,
          p.learningShift,
          p.baselineShift,
          p.wMin,
          p.wMax,
          ["step", "event", "epoch"].indexOf(p.timing ?? "step"),
          p.tripletShift ?? 0,
          p.a3Plus ?? 0,
          p.timing === "epoch" ? (p.epochShift ?? EPOCH_SHIFT_DEFAULT) : 0,
        ].join(",")
      : "-";
    const bias = l.bias ? `${l.bias.length},${fnv(l.bias)}` : `0,${FNV_START}`;
    lines.push(
      `layer ${i} name=${toHex(new TextEncoder().encode(l.name))} size=${l.size} shape=${s3(l.shape)} channels=${l.shape ? l.shape[0] : l.size} neuron=${neuronText} bias=${bias} plasticity=${plasticity}`,
    );
    lines.push(connectionLine(i, "input", l.input, p !== undefined));
    if (l.recurrent) lines.push(connectionLine(i, "recurrent", l.recurrent, false));
  });
  return lines;
}

/** The TS reader's verdict on `bytes`, in table_dump's form (without the closing `end`). */
export function tsVerdict(bytes: Uint8Array): string[] {
  try {
    const table = decodeTable(bytes);
    return [`ok ${toHex(sha256(bodyBytes(bytes)))}`, ...summaryLines(table)];
  } catch (e) {
    if (isPicospikeError(e)) return [`error ${ERROR_CODES[e.code].num}`];
    throw e;
  }
}
