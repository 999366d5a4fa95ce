import { decode as cborxDecode } from "cbor-x";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ByteString, type CborMap, type CborValue, decodeCanonical, encodeCanonical } from "./cbor.js";
import { type ErrorCode, PicospikeError } from "./errors.js";
import { decodeTable, encodeTable, hashOfTable, LIMITS, packInt4, tableHash, validateTable, weightAt } from "./format.js";
import { fromHex, sha256, toHex } from "./hash.js";
import { DEFAULT_NEURON, type EventTable, FORMAT_NAME, FORMAT_VERSION, type Layer, type NeuronModel } from "./model.js";
import { randomTable } from "./testing/random-table.js";

/** Asserts that `f` throws a PicospikeError with `code`. */
function expectCode(f: () => unknown, code: ErrorCode): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(PicospikeError);
    expect((e as PicospikeError).code, (e as Error).message).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

const hex = (s: string): Uint8Array => fromHex(s.replace(/\s+/g, ""));

/** A file around `body` bytes with the right hash unless overridden. */
function envelope(body: Uint8Array, over: Partial<Record<"format" | "version" | "hash", CborValue>> = {}): Uint8Array {
  return encodeCanonical({ format: FORMAT_NAME, version: FORMAT_VERSION, hash: new ByteString(sha256(body)), body: new ByteString(body), ...over });
}

/** The body tree of a file (mutable, for building broken tables). */
function bodyTree(file: Uint8Array): Record<string, any> {
  const top = decodeCanonical(file, { maxDepth: 1, maxItems: 64, maxTextBytes: 256, maxByteStringBytes: 1 << 26 }) as CborMap;
  return decodeCanonical((top.body as ByteString).bytes, { maxDepth: 8, maxItems: 64, maxTextBytes: 256, maxByteStringBytes: 1 << 26 }) as Record<string, any>;
}

/** A re-hashed file whose body is the body of `file` after `mutate`. */
function mutated(file: Uint8Array, mutate: (body: Record<string, any>) => void): Uint8Array {
  const body = bodyTree(file);
  mutate(body);
  return envelope(encodeCanonical(body as CborValue));
}

const neuron = (model: NeuronModel, extra: Partial<Layer["neuron"]> = {}): Layer["neuron"] => ({ ...DEFAULT_NEURON, model, threshold: 100, ...extra });

/** A hand-made table with every connection kind, neuron model, weight width and optional part. */
function everythingTable(): EventTable {
  return {
    input: { size: 16, shape: [1, 4, 4], encoding: "rate", seed: 12345 },
    layers: [
      {
        name: "conv",
        size: 2 * 4 * 4,
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
        size: 2 * 2 * 2,
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
      tool: "format.test",
      settings: { percentile: 99.9, bits: 8, folded: true, name: "ünïcödé" },
      layerScales: [0.5, 1.25e-3, 3, 1e-300, 0.1],
    },
  };
}

/** The golden table: one dense int8 layer. Its bytes are stored below and checked by hand. */
const GOLDEN_TABLE: EventTable = {
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

// a4 {body: bstr(340) {input, layers, readout, provenance}, hash: bstr(32), format, version: 2}
const GOLDEN_HEX = `
a4 64626f6479 590154
  a4 65696e707574 a3 6473656564 00 6473697a65 02 68656e636f64696e67 66737069 6b6573
     666c6179657273 81 a4 646e616d65 636f7574 6473697a65 02
       65696e707574 a4 646b696e64 6564656e7365 66696e70757473 02 676f757470757473 02
         6777656967687473 a4 6462697473 08 6464617461 d848 44 01fe03fc 65636f756e74 04 657368696674 d840 41 01
       666e6575726f6e a9 64764d696e 3a7fffffff 656d6f64656c 626966 657265736574 68737562747261 6374
         676c65616b513135 197fff 696c65616b5368696674 00 697468726573686f6c64 10
         6a726566726163746f7279 00 6a726573657456616c7565 00 6c63757272656e745368696674 00
     67726561646f7574 a1 646b696e64 65636f756e74
     6a70726f76656e616e6365 a4 64746f6f6c 6474657374 66736f75726365 66676f6c64656e
       6873657474696e6773 a1 6462697473 08 6b6c617965725363616c6573 81 f93800
64686173 68 5820 279ffdd4dc251a9508db2a74db95d8cd2c53825b6e4e18bde4ea320b02b56967
66666f726d6174 75 7069636f7370696b652d6576656e742d7461626c65
6776657273696f6e 02`;

/** The same table as a version-1 file: the envelope's last byte is the version. */
const GOLDEN_V1_HEX = GOLDEN_HEX.replace(/02$/, "01");

describe("encodeTable / decodeTable round trip", () => {
  it("round-trips a table with every connection kind, neuron model, width, bias form, recurrence and plasticity", () => {
    const table = everythingTable();
    const bytes = encodeTable(table);
    const back = decodeTable(bytes);
    expect(back).toStrictEqual(table);
    expect(encodeTable(back)).toEqual(bytes);
    const models = new Set(back.layers.map((l) => l.neuron.model));
    expect(models).toEqual(new Set(["if", "lif-shift", "lif-q15", "cuba", "integrator"]));
  });

  it("returns typed arrays of the right type as aligned copies, even from an unaligned Buffer", () => {
    const bytes = encodeTable(everythingTable());
    const shifted = Buffer.alloc(bytes.length + 1);
    shifted.set(bytes, 1);
    const back = decodeTable(shifted.subarray(1));
    const sparse = back.layers[2]!;
    if (sparse.input.kind !== "sparse") throw new Error("layer 2 is sparse");
    expect(sparse.input.weights.data).toBeInstanceOf(Int16Array);
    expect(sparse.input.rowPtr).toBeInstanceOf(Uint32Array);
    expect(sparse.input.cols).toBeInstanceOf(Uint16Array);
    expect(sparse.bias).toBeInstanceOf(Int32Array);
    for (const a of [sparse.input.weights.data, sparse.input.rowPtr, sparse.input.cols, sparse.bias!]) {
      expect(a.byteOffset).toBe(0);
      expect(a.buffer.byteLength).toBe(a.byteLength);
    }
    // Not a view of the input: changing the input leaves the table alone.
    shifted.fill(0);
    expect(sparse.input.weights.data[0]).toBe(300);
  });

  it("round-trips 200 random tables of every shape", () => {
    for (let seed = 0; seed < 200; seed++) {
      const table = randomTable(seed, { layers: 1 + (seed % 7) });
      const bytes = encodeTable(table);
      const back = decodeTable(bytes);
      expect(back).toStrictEqual(table);
    }
  });

  it("stores sparse columns as uint16 when outputs ≤ 65536, whatever width they had in memory", () => {
    const t = everythingTable();
    const l = t.layers[2]!;
    const input = l.input;
    if (input.kind !== "sparse") throw new Error("layer 2 is sparse");
    const wide: EventTable = { ...t, layers: t.layers.map((x, i) => (i === 2 ? { ...l, input: { ...input, cols: Uint32Array.from(input.cols) } } : x)) };
    const back = decodeTable(encodeTable(wide));
    expect(encodeTable(wide)).toEqual(encodeTable(t));
    const c = back.layers[2]!.input;
    expect(c.kind === "sparse" && c.cols instanceof Uint16Array).toBe(true);
  });

  it("keeps a provenance setting named __proto__ as data (any key round-trips)", () => {
    const base = randomTable(7, { layers: 1 });
    const settings = JSON.parse('{"__proto__": "kept", "norm": "percentile"}') as Record<string, string>;
    const table: EventTable = { ...base, provenance: { ...base.provenance, settings } };
    const back = decodeTable(encodeTable(table));
    expect(Object.keys(back.provenance.settings).sort()).toEqual(["__proto__", "norm"]);
    expect(Object.getOwnPropertyDescriptor(back.provenance.settings, "__proto__")?.value).toBe("kept");
  });

  it("unpacks int4 weights low nibble first, two's complement", () => {
    const w = { bits: 4 as const, count: 3, data: packInt4([-8, 7, -1]), shift: Uint8Array.of(0) };
    expect(Array.from(w.data)).toEqual([0x78, 0x0f]);
    expect([0, 1, 2].map((k) => weightAt(w, k))).toEqual([-8, 7, -1]);
  });
});

describe("determinism", () => {
  /** The same object with every plain object's keys in reverse order. */
  function reverseKeys<T>(v: T): T {
    if (Array.isArray(v)) return v.map(reverseKeys) as T;
    if (v && typeof v === "object" && !ArrayBuffer.isView(v)) {
      return Object.fromEntries(
        Object.entries(v)
          .reverse()
          .map(([k, x]) => [k, reverseKeys(x)]),
      ) as T;
    }
    return v;
  }

  it("encodes the same table to the same bytes, whatever the JS key order", () => {
    const a = encodeTable(everythingTable());
    const b = encodeTable(everythingTable());
    const c = encodeTable(reverseKeys(everythingTable()));
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(hashOfTable(reverseKeys(everythingTable()))).toBe(tableHash(a));
  });

  it("stores the SHA-256 of the body bytes as the hash", () => {
    const bytes = encodeTable(everythingTable());
    const top = decodeCanonical(bytes, { maxDepth: 1, maxItems: 8, maxTextBytes: 64, maxByteStringBytes: 1 << 20 }) as CborMap;
    expect(toHex((top.hash as ByteString).bytes)).toBe(toHex(sha256((top.body as ByteString).bytes)));
  });
});

describe("golden bytes", () => {
  it("encodes the golden table to exactly the stored bytes", () => {
    expect(toHex(encodeTable(GOLDEN_TABLE))).toBe(toHex(hex(GOLDEN_HEX)));
  });

  it("decodes the stored bytes to the golden table, with the stored hash", () => {
    expect(decodeTable(hex(GOLDEN_HEX))).toStrictEqual(GOLDEN_TABLE);
    // a version-1 file of the same model: same table, same body hash
    expect(decodeTable(hex(GOLDEN_V1_HEX))).toStrictEqual(GOLDEN_TABLE);
    expect(tableHash(hex(GOLDEN_V1_HEX))).toBe("279ffdd4dc251a9508db2a74db95d8cd2c53825b6e4e18bde4ea320b02b56967");
    expect(tableHash(hex(GOLDEN_HEX))).toBe("279ffdd4dc251a9508db2a74db95d8cd2c53825b6e4e18bde4ea320b02b56967");
  });

  it("is standard CBOR that cbor-x reads, typed-array tags included", () => {
    const top = cborxDecode(hex(GOLDEN_HEX));
    expect(top.format).toBe(FORMAT_NAME);
    expect(top.version).toBe(2);
    const body = cborxDecode(top.body);
    expect(body.layers[0].input.weights.data).toBeInstanceOf(Int8Array);
    expect(Array.from(body.layers[0].input.weights.data)).toEqual([1, -2, 3, -4]);
    expect(body.layers[0].neuron.vMin).toBe(-2147483648);
    expect(body.provenance.layerScales).toEqual([0.5]);
    const all = cborxDecode(bodyBytes(encodeTable(everythingTable())));
    expect(all.layers[2].input.rowPtr).toBeInstanceOf(Uint32Array);
    expect(all.layers[2].input.weights.data).toBeInstanceOf(Int16Array);
    expect(all.layers[2].bias).toBeInstanceOf(Int32Array);
  });
});

function bodyBytes(file: Uint8Array): Uint8Array {
  const top = decodeCanonical(file, { maxDepth: 1, maxItems: 8, maxTextBytes: 64, maxByteStringBytes: 1 << 26 }) as CborMap;
  return (top.body as ByteString).bytes;
}

describe("canonical CBOR codec", () => {
  const limits = { maxDepth: 8, maxItems: 64, maxTextBytes: 256, maxByteStringBytes: 1 << 20 };
  it("writes shortest heads, shortest exact floats and integers as integers", () => {
    const cases: Array<[CborValue, string]> = [
      [0, "00"],
      [23, "17"],
      [24, "1818"],
      [255, "18ff"],
      [256, "190100"],
      [65536, "1a00010000"],
      [2 ** 32, "1b0000000100000000"],
      [-1, "20"],
      [-2147483648, "3a7fffffff"],
      [2 ** 40, "1b0000010000000000"],
      [0.5, "f93800"],
      [-0, "00"],
      [2.0, "02"],
      [65504.5, "fa477fe080"],
      [0.1, "fb3fb999999999999a"],
      [5.960464477539063e-8, "f90001"],
      [1e-300, "fb01a56e1fc2f8f359"],
      ["a", "6161"],
      [true, "f5"],
      [false, "f4"],
      [[], "80"],
      [{ b: 1, aa: 2, a: 3 }, "a3616103616201626161" + "02"],
    ];
    for (const [value, expected] of cases) {
      const bytes = encodeCanonical(value);
      expect(toHex(bytes), JSON.stringify(value)).toBe(expected);
      expect(decodeCanonical(bytes, limits)).toEqual(value === -0 ? 0 : value); // decoded maps have a null prototype
    }
  });

  const rejects: Array<[string, string, ErrorCode]> = [
    ["non-shortest integer", "1817", "FORMAT_NON_CANONICAL"],
    ["non-shortest length", "5801ff", "FORMAT_NON_CANONICAL"],
    ["indefinite array", "9f00ff", "FORMAT_NON_CANONICAL"],
    ["indefinite byte string", "5f4100ff", "FORMAT_NON_CANONICAL"],
    ["unsorted map", "a2616201616102", "FORMAT_NON_CANONICAL"],
    ["float holding an integer", "f93c00", "FORMAT_NON_CANONICAL"],
    ["float64 that fits float16", "fb3fe0000000000000", "FORMAT_NON_CANONICAL"],
    ["negative zero float", "f98000", "FORMAT_NON_CANONICAL"],
    ["NaN", "f97e00", "FORMAT_OUT_OF_RANGE"],
    ["duplicate key", "a2616101616102", "FORMAT_MALFORMED_CBOR"],
    ["reserved additional information", "1c", "FORMAT_MALFORMED_CBOR"],
    ["stray break", "ff", "FORMAT_MALFORMED_CBOR"],
    ["indefinite integer", "1f", "FORMAT_MALFORMED_CBOR"],
    ["invalid UTF-8", "62c328", "FORMAT_MALFORMED_CBOR"],
    ["trailing bytes", "0000", "FORMAT_MALFORMED_CBOR"],
    ["typed array of odd length", "d84d43000000", "FORMAT_MALFORMED_CBOR"],
    ["null", "f6", "FORMAT_BAD_TYPE"],
    ["undefined", "f7", "FORMAT_BAD_TYPE"],
    ["integer map key", "a10000", "FORMAT_BAD_TYPE"],
    ["unknown tag", "d8554400000000", "FORMAT_BAD_TYPE"],
    ["tag around a non-byte-string", "d84800", "FORMAT_BAD_TYPE"],
    ["integer beyond 2^53", "1b0020000000000000", "FORMAT_OUT_OF_RANGE"],
    ["empty input", "", "FORMAT_TRUNCATED"],
    ["cut head", "19ff", "FORMAT_TRUNCATED"],
    ["cut string", "6461", "FORMAT_TRUNCATED"],
    ["cut array", "820001".slice(0, 4), "FORMAT_TRUNCATED"],
    ["byte string claiming 2^60 bytes", "5b1000000000000000", "FORMAT_LIMIT_EXCEEDED"],
    ["array claiming 2^32 items", "9b0000000100000000", "FORMAT_LIMIT_EXCEEDED"],
    ["text claiming 2^40 bytes", "7b0000010000000000", "FORMAT_LIMIT_EXCEEDED"],
    ["map of 65 entries", "b841", "FORMAT_LIMIT_EXCEEDED"],
    ["nesting bomb", "81".repeat(10000) + "00", "FORMAT_LIMIT_EXCEEDED"],
  ];
  it.each(rejects)("rejects %s", (_, input, code) => {
    expectCode(() => decodeCanonical(hex(input), limits), code);
  });
});

describe("malformed-table catalogue", () => {
  const valid = encodeTable(everythingTable());
  const layerOf = (body: Record<string, any>, name: string): Record<string, any> => body.layers.find((l: any) => l.name === name);

  it("reports FORMAT_TRUNCATED for the file cut at every byte", () => {
    for (let n = 0; n < valid.length; n++) expectCode(() => decodeTable(valid.subarray(0, n)), "FORMAT_TRUNCATED");
  });

  const cases: Array<[string, () => Uint8Array, ErrorCode]> = [
    ["wrong version", () => envelope(bodyBytes(valid), { version: 3 }), "FORMAT_VERSION_UNSUPPORTED"],
    ["version 0", () => envelope(bodyBytes(valid), { version: 0 }), "FORMAT_VERSION_UNSUPPORTED"],
    ["wrong format name", () => envelope(bodyBytes(valid), { format: "picospike-event-tabel" }), "FORMAT_NOT_EVENT_TABLE"],
    ["not a map at the top", () => encodeCanonical([1, 2, 3]), "FORMAT_NOT_EVENT_TABLE"],
    ["other CBOR map", () => encodeCanonical({ hello: "world" }), "FORMAT_NOT_EVENT_TABLE"],
    ["hash of another body", () => envelope(bodyBytes(valid), { hash: new ByteString(sha256(Uint8Array.of(1))) }), "FORMAT_HASH_MISMATCH"],
    [
      "a flipped body byte",
      () => {
        const b = valid.slice();
        b[200]! ^= 1;
        return b;
      },
      "FORMAT_HASH_MISMATCH",
    ],
    ["short hash", () => envelope(bodyBytes(valid), { hash: new ByteString(new Uint8Array(31)) }), "FORMAT_BAD_TYPE"],
    ["missing hash", () => encodeCanonical({ format: FORMAT_NAME, version: 1, body: new ByteString(bodyBytes(valid)) }), "FORMAT_MISSING_FIELD"],
    [
      "unknown envelope key",
      () =>
        encodeCanonical({ format: FORMAT_NAME, version: 1, body: new ByteString(bodyBytes(valid)), hash: new ByteString(sha256(bodyBytes(valid))), extra: 1 }),
      "FORMAT_UNKNOWN_FIELD",
    ],
    [
      "body head not shortest",
      () => {
        const b = bodyBytes(valid);
        return envelope(Uint8Array.from([0xb8, 0x04, ...b.subarray(1)]));
      },
      "FORMAT_NON_CANONICAL",
    ],
    [
      "body keys out of order",
      () => {
        const body = bodyTree(valid);
        const parts = ["layers", "input", "readout", "provenance"].map((k) => [...encodeCanonical(k), ...encodeCanonical(body[k])]);
        return envelope(Uint8Array.from([0xa4, ...parts.flat()]));
      },
      "FORMAT_NON_CANONICAL",
    ],
    [
      "indefinite-length body",
      () => {
        const b = bodyBytes(valid);
        return envelope(Uint8Array.from([0xbf, ...b.subarray(1), 0xff]));
      },
      "FORMAT_NON_CANONICAL",
    ],
    ["trailing byte after the file", () => Uint8Array.from([...valid, 0]), "FORMAT_MALFORMED_CBOR"],
    [
      "sparse column ≥ outputs",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "sparse").input.cols[8] = 6;
        }),
      "FORMAT_INDEX_OUT_OF_BOUNDS",
    ],
    [
      "sparse columns not ascending",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "sparse").input.cols = Uint16Array.of(5, 0, 3, 1, 2, 4, 0, 5, 2);
        }),
      "FORMAT_INDEX_OUT_OF_BOUNDS",
    ],
    [
      "rowPtr decreasing",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "sparse").input.rowPtr = Uint32Array.of(0, 2, 1, 3, 5, 5, 6, 8, 9);
        }),
      "FORMAT_INDEX_OUT_OF_BOUNDS",
    ],
    [
      "rowPtr[0] ≠ 0",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "sparse").input.rowPtr = Uint32Array.of(1, 2, 2, 3, 5, 5, 6, 8, 9);
        }),
      "FORMAT_INDEX_OUT_OF_BOUNDS",
    ],
    [
      "rowPtr too short",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "sparse").input.rowPtr = Uint32Array.of(0, 2, 2, 3, 5, 5, 6, 9);
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "rowPtr end ≠ nnz",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "sparse").input.rowPtr = Uint32Array.of(0, 2, 2, 3, 5, 5, 6, 8, 8);
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "sparse cols as uint32 for few outputs",
      () =>
        mutated(valid, (b) => {
          const c = layerOf(b, "sparse").input;
          c.cols = Uint32Array.from(c.cols);
        }),
      "FORMAT_BAD_TYPE",
    ],
    [
      "dims whose product overflows",
      () =>
        mutated(valid, (b) => {
          b.input.shape = [65536, 65536, 65536];
        }),
      "FORMAT_LIMIT_EXCEEDED",
    ],
    [
      "input larger than 2^20",
      () =>
        mutated(valid, (b) => {
          b.input.size = 2 ** 20 + 1;
        }),
      "FORMAT_LIMIT_EXCEEDED",
    ],
    [
      "synapses beyond 2^26",
      () =>
        mutated(valid, (b) => {
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
      "FORMAT_LIMIT_EXCEEDED",
    ],
    [
      "65 layers",
      () =>
        mutated(valid, (b) => {
          b.layers = Array.from({ length: 65 }, () => b.layers[0]);
        }),
      "FORMAT_LIMIT_EXCEEDED",
    ],
    ["nesting bomb as the file", () => hex("81".repeat(10000) + "00"), "FORMAT_LIMIT_EXCEEDED"],
    ["nesting bomb in a hashed body", () => envelope(hex("81".repeat(10000) + "00")), "FORMAT_LIMIT_EXCEEDED"],
    [
      "nesting in a setting",
      () =>
        mutated(valid, (b) => {
          b.provenance.settings.deep = [[[[[[[[1]]]]]]]];
        }),
      "FORMAT_LIMIT_EXCEEDED",
    ],
    ["body claiming 2^60 bytes", () => Uint8Array.from([0xa4, ...encodeCanonical("body"), 0x5b, 0x10, 0, 0, 0, 0, 0, 0, 0]), "FORMAT_LIMIT_EXCEEDED"],
    ["body claiming more bytes than the file has", () => Uint8Array.from([0xa4, ...encodeCanonical("body"), 0x5a, 0, 1, 0, 0, 1, 2, 3]), "FORMAT_TRUNCATED"],
    ["file over 64 MiB", () => new Uint8Array(LIMITS.maxFileBytes + 1), "FORMAT_LIMIT_EXCEEDED"],
    [
      "int16 tag where int8 expected",
      () =>
        mutated(valid, (b) => {
          const w = layerOf(b, "hidden").input.weights;
          w.data = Int16Array.from(w.data);
        }),
      "FORMAT_BAD_TYPE",
    ],
    [
      "int8 tag where int32 bias expected",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "conv").bias = Int8Array.of(5, -5);
        }),
      "FORMAT_BAD_TYPE",
    ],
    [
      "plain byte string where a typed array is expected",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").input.weights.shift = new ByteString(Uint8Array.of(0));
        }),
      "FORMAT_BAD_TYPE",
    ],
    [
      "text where an integer is expected",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").size = "5";
        }),
      "FORMAT_BAD_TYPE",
    ],
    [
      "float where an integer is expected",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").neuron.threshold = 100.5;
        }),
      "FORMAT_BAD_TYPE",
    ],
    [
      "missing neuron",
      () =>
        mutated(valid, (b) => {
          delete layerOf(b, "hidden").neuron;
        }),
      "FORMAT_MISSING_FIELD",
    ],
    [
      "missing threshold",
      () =>
        mutated(valid, (b) => {
          delete layerOf(b, "hidden").neuron.threshold;
        }),
      "FORMAT_MISSING_FIELD",
    ],
    [
      "missing weights",
      () =>
        mutated(valid, (b) => {
          delete layerOf(b, "hidden").input.weights;
        }),
      "FORMAT_MISSING_FIELD",
    ],
    [
      "missing readout",
      () =>
        mutated(valid, (b) => {
          delete b.readout;
        }),
      "FORMAT_MISSING_FIELD",
    ],
    [
      "conv shape on a flat layer",
      () =>
        mutated(valid, (b) => {
          delete layerOf(b, "conv").shape;
        }),
      "FORMAT_MISSING_FIELD",
    ],
    [
      "unknown field",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").delay = 1;
        }),
      "FORMAT_UNKNOWN_FIELD",
    ],
    [
      "__proto__ field",
      () =>
        mutated(valid, (b) => {
          Object.defineProperty(layerOf(b, "hidden"), "__proto__", { value: 1, enumerable: true });
        }),
      "FORMAT_UNKNOWN_FIELD",
    ],
    [
      "unknown connection kind",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").input.kind = "lstm";
        }),
      "FORMAT_UNKNOWN_KIND",
    ],
    [
      "unknown neuron model",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").neuron.model = "hodgkin-huxley";
        }),
      "FORMAT_UNKNOWN_KIND",
    ],
    [
      "unknown encoding",
      () =>
        mutated(valid, (b) => {
          b.input.encoding = "latency";
        }),
      "FORMAT_UNKNOWN_KIND",
    ],
    [
      "unknown readout",
      () =>
        mutated(valid, (b) => {
          b.readout.kind = "first-spike";
        }),
      "FORMAT_UNKNOWN_KIND",
    ],
    [
      "unknown learning rule",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").plasticity.rule = "bcm";
        }),
      "FORMAT_UNKNOWN_KIND",
    ],
    [
      "layer input size ≠ previous layer size",
      () =>
        mutated(valid, (b) => {
          const c = layerOf(b, "hidden").input;
          c.inputs = 5;
          c.weights.count = 25;
          c.weights.data = c.weights.data.slice(0, 25);
        }),
      "SEMANTICS_SHAPE_MISMATCH",
    ],
    [
      "conv inShape ≠ previous shape",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "pool").input.inShape = [2, 4, 2];
        }),
      "SEMANTICS_SHAPE_MISMATCH",
    ],
    [
      "conv outShape inconsistent with stride",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "conv").input.stride = [2, 1];
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "pool changing channels",
      () =>
        mutated(valid, (b) => {
          const l = layerOf(b, "pool");
          l.input.outShape = [1, 2, 2];
          l.shape = [1, 2, 2];
          l.size = 4;
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "padding ≥ kernel",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "conv").input.padding = [3, 1];
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "weight count ≠ dims",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").input.weights.count = 29;
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "weight data shorter than count",
      () =>
        mutated(valid, (b) => {
          const w = layerOf(b, "hidden").input.weights;
          w.data = w.data.slice(0, 29);
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "int4 data of the wrong length",
      () =>
        mutated(valid, (b) => {
          const w = layerOf(b, "readout").input.weights;
          w.data = Uint8Array.from([...w.data, 0]);
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "int4 padding nibble set",
      () =>
        mutated(valid, (b) => {
          const w = layerOf(b, "readout").input.weights;
          w.data[7] |= 0x10;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "shift of wrong length",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "readout").input.weights.shift = Uint8Array.of(1, 2);
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "shift above 23",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").input.weights.shift = Uint8Array.of(24);
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "bias of wrong length",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "conv").bias = Int32Array.of(1, 2, 3);
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "weight bits 12",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").input.weights.bits = 12;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "threshold 0",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").neuron.threshold = 0;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "threshold beyond int32",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").neuron.threshold = 2 ** 31;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "leakShift on an IF neuron",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").neuron.leakShift = 3;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "leakQ15 above 32767",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "pool").neuron.leakQ15 = 32768;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "refractory 256",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").neuron.refractory = 256;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "reset value above threshold",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "pool").neuron.resetValue = 100;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "integrator before the last layer",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").neuron = { ...layerOf(b, "readout").neuron };
          delete layerOf(b, "hidden").plasticity;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "count readout of an integrator",
      () =>
        mutated(valid, (b) => {
          b.readout.kind = "count";
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "rate encoding with seed 0",
      () =>
        mutated(valid, (b) => {
          b.input.seed = 0;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "plasticity wMin > wMax",
      () =>
        mutated(valid, (b) => {
          const p = layerOf(b, "hidden").plasticity;
          p.wMin = 10;
          p.wMax = -10;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "plasticity clamp beyond the width",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").plasticity.wMax = 128;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "weights outside the plasticity clamp",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "sparse").plasticity.wMax = 999;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "plasticity trace shift 0",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").plasticity.preTraceShift = 0;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "plasticity on a conv layer",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "conv").plasticity = { ...layerOf(b, "hidden").plasticity, wMin: -8, wMax: 7 };
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "layer scales ≠ layers",
      () =>
        mutated(valid, (b) => {
          b.provenance.layerScales = [1];
        }),
      "FORMAT_SIZE_MISMATCH",
    ],
    [
      "negative layer scale",
      () =>
        mutated(valid, (b) => {
          b.provenance.layerScales[0] = -0.5;
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "empty layer name",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").name = "";
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
    [
      "layer name of 65 bytes",
      () =>
        mutated(valid, (b) => {
          layerOf(b, "hidden").name = "x".repeat(65);
        }),
      "FORMAT_LIMIT_EXCEEDED",
    ],
    [
      "text of 257 bytes",
      () =>
        mutated(valid, (b) => {
          b.provenance.source = "x".repeat(257);
        }),
      "FORMAT_LIMIT_EXCEEDED",
    ],
    [
      "no layers",
      () =>
        mutated(valid, (b) => {
          b.layers = [];
          b.provenance.layerScales = [];
        }),
      "FORMAT_OUT_OF_RANGE",
    ],
  ];
  it.each(cases)("%s", (_, make, code) => {
    expectCode(() => decodeTable(make()), code);
  });

  it("refuses to encode what it would refuse to decode", () => {
    const t = everythingTable();
    const bad: EventTable = { ...t, provenance: { ...t.provenance, layerScales: [1] } };
    expectCode(() => encodeTable(bad), "FORMAT_SIZE_MISMATCH");
    expectCode(() => validateTable({ ...t, readout: { kind: "count" } }), "FORMAT_OUT_OF_RANGE");
  });
});

describe("hostile input property", () => {
  const valid = encodeTable(randomTable(3, { layers: 4 }));
  const body = bodyBytes(valid);

  it("random byte mutations of a file only ever give PicospikeError", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat({ max: valid.length }),
        (edits, cut) => {
          const b = valid.slice(0, Math.max(cut, 1));
          for (const [pos, byte] of edits) if (pos < b.length) b[pos] = byte;
          try {
            decodeTable(b);
          } catch (e) {
            if (!(e instanceof PicospikeError)) throw e;
          }
        },
      ),
      { numRuns: 400, seed: 1 },
    );
  });

  it("random mutations of a re-hashed body only ever give PicospikeError", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: body.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (edits) => {
        const b = body.slice();
        for (const [pos, byte] of edits) b[pos] = byte;
        try {
          decodeTable(envelope(b));
        } catch (e) {
          if (!(e instanceof PicospikeError)) throw e;
        }
      }),
      { numRuns: 400, seed: 2 },
    );
  });
});
