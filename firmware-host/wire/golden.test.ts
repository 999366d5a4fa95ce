/**
 * Golden bytes of every message: the generated TypeScript codecs must encode each sample of
 * testing/protocol-samples.ts to exactly its pinned payload (testing/protocol-golden.ts) and decode
 * that payload back to the sample. The C codecs are checked against the same bytes in
 * protocol-c.test.ts.
 */
import { describe, expect, it } from "vitest";
import { GOLDEN_PAYLOADS } from "../testing/protocol-golden.js";
import { SAMPLE_MESSAGES } from "../testing/protocol-samples.js";
import { decodePayload, encodePayload, MSG, typeOf } from "./messages.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

describe("golden bytes", () => {
  it("pin one payload per sample, and every message type at least once", () => {
    expect(GOLDEN_PAYLOADS.length).toBe(SAMPLE_MESSAGES.length);
    expect(new Set(GOLDEN_PAYLOADS.map(([kind]) => kind))).toEqual(new Set(Object.keys(MSG)));
  });
  it.each(SAMPLE_MESSAGES.map((m, i) => [`${i} ${m.kind}`, m, GOLDEN_PAYLOADS[i]!] as const))(
    "%s encodes to its golden bytes and back",
    (_, msg, [kind, type, golden]) => {
      expect(msg.kind).toBe(kind);
      expect(typeOf(msg)).toBe(type);
      expect(hex(encodePayload(msg))).toBe(golden);
      expect(decodePayload(type, new Uint8Array(Buffer.from(golden, "hex")))).toEqual(msg);
    },
  );
});
