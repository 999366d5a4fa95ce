import { describe, expect, it } from "vitest";
import { PicospikeError, isPicospikeError } from "../errors.js";
import { aedatVersion, readAedat, readAedat2, readAedat31, readAedat4 } from "./aedat.js";
import { readEventFile } from "./index.js";
import { readNmnist } from "./nmnist.js";
import { readEvt2, readEvt3, readRawHeader } from "./prophesee.js";
import type { EventStream } from "./stream.js";
import { type TestEvent, writeAedat2, writeAedat31, writeAedat4, writeEvt2, writeEvt3, writeNmnist } from "./testing/writers.js";

const eventsOf = (s: EventStream): TestEvent[] => Array.from(s.t, (t, k) => ({ x: s.x[k]!, y: s.y[k]!, p: s.p[k]!, t }));

/** Runs `f`, expecting CLI_BAD_INPUT_FILE at `offset`; returns the message. */
function badAt(f: () => unknown, offset: number): string {
  try {
    f();
  } catch (e) {
    expect(isPicospikeError(e, "CLI_BAD_INPUT_FILE"), String(e)).toBe(true);
    const err = e as PicospikeError;
    expect(err.detail?.offset, err.message).toBe(offset);
    expect(err.message).toContain(`at byte ${offset}`);
    return err.message;
  }
  throw new Error("expected CLI_BAD_INPUT_FILE");
}

const le32 = (bytes: Uint8Array, at: number, v: number): void => new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, v >>> 0, true);

describe("N-MNIST", () => {
  const events: TestEvent[] = [
    { x: 0, y: 0, p: 1, t: 0 },
    { x: 33, y: 12, p: 0, t: 1234 },
    { x: 5, y: 33, p: 1, t: 0x7fffff },
    { x: 7, y: 8, p: 0, t: 0x7fffff + 20000 },
  ];

  it("round-trips events, including timestamps past 23 bits through overflow records", () => {
    const bytes = writeNmnist(events);
    expect(bytes.length).toBe(5 * (events.length + 3)); // 20000 µs past 2^23 - 1 needs three 2^13 µs overflow records
    const s = readNmnist(bytes);
    expect([s.width, s.height]).toEqual([34, 34]);
    expect(eventsOf(s)).toEqual(events);
  });

  it("decodes the reference bit layout: x, y, then polarity bit 23 and a 23-bit timestamp", () => {
    const s = readNmnist(Uint8Array.from([3, 4, 0x81, 0x02, 0x03]));
    expect(eventsOf(s)).toEqual([{ x: 3, y: 4, p: 1, t: 0x010203 }]);
  });

  it("rejects a truncated event and an event outside the sensor, with byte offsets", () => {
    const bytes = writeNmnist(events);
    badAt(() => readNmnist(bytes.subarray(0, bytes.length - 2)), bytes.length - 5);
    expect(badAt(() => readNmnist(Uint8Array.from([0, 0, 0, 0, 0, 34, 1, 0, 0, 0]), {}), 5)).toMatch(/outside the 34x34/);
    expect(readNmnist(Uint8Array.from([40, 1, 0, 0, 0]), { width: 64, height: 64 }).x[0]).toBe(40);
  });
});

describe("AEDAT 2.0", () => {
  const events: TestEvent[] = [
    { x: 0, y: 0, p: 1, t: 10 },
    { x: 127, y: 127, p: 0, t: 20 },
    { x: 64, y: 3, p: 1, t: 0xfffffff0 },
    { x: 1, y: 2, p: 0, t: 0x100000005 },
  ];

  it("round-trips DVS128 events, flipping x as jAER does, skipping special events and unwrapping time", () => {
    const bytes = writeAedat2(events, { special: true });
    expect(aedatVersion(bytes)).toBe("2.0");
    const s = readAedat(bytes);
    expect([s.width, s.height]).toEqual([128, 128]);
    expect(eventsOf(s)).toEqual(events);
  });

  it("stores ON as address bit 0 = 0 and x as 127 - x", () => {
    const bytes = writeAedat2([{ x: 1, y: 2, p: 1, t: 7 }]);
    const tail = bytes.subarray(bytes.length - 8);
    expect(Array.from(tail)).toEqual([0, 0, 0x02, 0xfc, 0, 0, 0, 7]);
  });

  it("rejects truncation and non-DVS128 addresses with byte offsets", () => {
    const bytes = writeAedat2(events);
    const dataStart = bytes.length - 8 * events.length;
    badAt(() => readAedat2(bytes.subarray(0, bytes.length - 3)), bytes.length - 8);
    const bad = bytes.slice();
    bad[dataStart + 8] = 0x01; // bit 24 of the second address
    expect(badAt(() => readAedat2(bad), dataStart + 8)).toMatch(/not a DVS128 address/);
    badAt(() => readAedat(Uint8Array.from([0x23, 0x21, 0x41])), 0);
    expect(badAt(() => readAedat(new TextEncoder().encode("#!AER-DAT1.0\r\n")), 0)).toMatch(/version 1.0 is not supported/);
  });
});

describe("AEDAT 3.1", () => {
  const events: TestEvent[] = [
    { x: 0, y: 0, p: 1, t: 100 },
    { x: 127, y: 5, p: 0, t: 101 },
    { x: 3, y: 127, p: 1, t: 0x7fffffff },
    { x: 9, y: 9, p: 0, t: 0x80000000 + 55 },
    { x: 10, y: 11, p: 1, t: 3 * 0x80000000 },
  ];

  it("round-trips polarity packets across timestamp overflow, skipping special packets and invalid events", () => {
    const bytes = writeAedat31(events, { packetSize: 2, specialPacket: true, invalidEvents: true, spareCapacity: 1 });
    const s = readAedat(bytes);
    expect([s.width, s.height]).toEqual([128, 128]);
    expect(eventsOf(s)).toEqual(events);
  });

  it("takes the sensor size from the #Source line, or from the events when the chip is unknown", () => {
    expect(readAedat31(writeAedat31(events, { source: "DAVIS346B" })).width).toBe(346);
    const s = readAedat31(writeAedat31(events, { source: "MysteryCam" }));
    expect([s.width, s.height]).toEqual([128, 128]);
  });

  it("rejects truncated and inconsistent packets with the packet's byte offset", () => {
    const bytes = writeAedat31(events, { packetSize: 2 });
    const dataStart = new TextDecoder().decode(bytes).indexOf("#!END-HEADER\r\n") + "#!END-HEADER\r\n".length;
    badAt(() => readAedat31(bytes.subarray(0, dataStart + 10)), dataStart);
    expect(badAt(() => readAedat31(bytes.subarray(0, dataStart + 28 + 8)), dataStart)).toMatch(/truncated packet/);
    const bad = bytes.slice();
    le32(bad, dataStart + 20, 9); // eventNumber > eventCapacity
    expect(badAt(() => readAedat31(bad), dataStart)).toMatch(/inconsistent/);
    const noEnd = new TextEncoder().encode("#!AER-DAT3.1\r\n#Format: RAW\r\n");
    expect(badAt(() => readAedat31(noEnd), noEnd.length)).toMatch(/END-HEADER/);
  });
});

describe("AEDAT 4.0", () => {
  const events: TestEvent[] = [
    { x: 0, y: 0, p: 1, t: 1_700_000_000_000_000 },
    { x: 345, y: 259, p: 0, t: 1_700_000_000_000_010 },
    { x: 17, y: 4, p: 1, t: 1_700_000_000_000_011 },
    { x: 18, y: 4, p: 0, t: 1_700_000_000_000_500 },
  ];

  it("round-trips uncompressed event packets, skipping other streams and stopping at the data table", () => {
    const bytes = writeAedat4(events, { packetSize: 3, imuStream: true, dataTable: true });
    const s = readAedat(bytes);
    expect([s.width, s.height]).toEqual([346, 260]);
    expect(eventsOf(s)).toEqual(events);
  });

  it("names the unsupported compression", () => {
    for (const [code, name] of [
      [1, "LZ4"],
      [2, "LZ4_HIGH"],
      [3, "ZSTD"],
      [4, "ZSTD_HIGH"],
    ] as const) {
      const bytes = writeAedat4(events, { compression: code });
      expect(() => readAedat4(bytes)).toThrow(new RegExp(`${name}-compressed`));
    }
  });

  it("rejects truncated packets and events outside the sensor with byte offsets", () => {
    const bytes = writeAedat4(events, { packetSize: 2 });
    const headerSize = new DataView(bytes.buffer).getUint32(14, true);
    const firstPacket = 18 + headerSize;
    expect(badAt(() => readAedat4(bytes.subarray(0, bytes.length - 1)), firstPacket + (bytes.length - firstPacket) / 2)).toMatch(/runs past/);
    badAt(() => readAedat4(bytes.subarray(0, firstPacket + 5)), firstPacket);
    badAt(() => readAedat4(bytes.subarray(0, 16)), 14);
    const small = writeAedat4(events, { width: 100, height: 100 });
    expect(badAt(() => readAedat4(small), 18 + headerSize + 8 + 4 + 32 + 16 + 8)).toMatch(/outside the 100x100/);
  });
});

describe("Prophesee EVT 2.0", () => {
  const events: TestEvent[] = [
    { x: 0, y: 0, p: 1, t: 5 },
    { x: 639, y: 479, p: 0, t: 63 },
    { x: 100, y: 200, p: 1, t: 64 },
    { x: 101, y: 200, p: 0, t: 1_000_000_007 },
  ];

  it("round-trips CD events and reads the header geometry", () => {
    const bytes = writeEvt2(events);
    expect(readRawHeader("EVT 2.0", bytes)).toMatchObject({ evt: "2.0", width: 640, height: 480 });
    const s = readEventFile("evt2", bytes);
    expect([s.width, s.height]).toEqual([640, 480]);
    expect(eventsOf(s)).toEqual(events);
    expect(eventsOf(readEvt2(writeEvt2(events, { noEnd: true })))).toEqual(events);
  });

  it("unwraps EVT_TIME_HIGH when it falls by half its range", () => {
    const t0 = 2 ** 34 - 64 * 3;
    const s = readEvt2(
      writeEvt2([
        { x: 1, y: 1, p: 1, t: t0 },
        { x: 2, y: 2, p: 0, t: 2 ** 34 + 70 },
      ]),
    );
    expect(Array.from(s.t)).toEqual([t0, 2 ** 34 + 70]);
  });

  it("rejects reserved word types, truncated words, off-sensor events and an EVT 3.0 header", () => {
    const bytes = writeEvt2(events);
    const start = readRawHeader("EVT 2.0", bytes).dataOffset;
    const bad = bytes.slice();
    le32(bad, start + 8, 0x30000000);
    expect(badAt(() => readEvt2(bad), start + 8)).toMatch(/reserved word type 0x3/);
    badAt(() => readEvt2(bytes.subarray(0, bytes.length - 1)), bytes.length - 4);
    expect(badAt(() => readEvt2(writeEvt2([{ x: 700, y: 1, p: 1, t: 0 }])), start + 8)).toMatch(/outside the 640x480/);
    expect(badAt(() => readEvt2(writeEvt3(events)), 0)).toMatch(/declares EVT 3.0/);
    expect(badAt(() => readEvt2(new TextEncoder().encode("% evt 2.0\n% geometry 1")), 10)).toMatch(/not terminated/);
  });
});

describe("Prophesee EVT 3.0", () => {
  const events: TestEvent[] = [
    { x: 0, y: 0, p: 1, t: 5 },
    { x: 10, y: 3, p: 1, t: 4095 },
    { x: 11, y: 3, p: 1, t: 4095 },
    { x: 15, y: 3, p: 1, t: 4095 },
    { x: 27, y: 3, p: 1, t: 4095 },
    { x: 29, y: 3, p: 1, t: 4095 },
    { x: 639, y: 479, p: 0, t: 4096 },
    { x: 3, y: 2, p: 0, t: 20_000_000 },
  ];

  it("round-trips single events and VECT_12/VECT_8 vectors across a 24-bit time loop", () => {
    for (const vectorize of [false, true]) {
      const bytes = writeEvt3(events, { vectorize });
      const s = readEvt3(bytes);
      expect([s.width, s.height]).toEqual([640, 480]);
      expect(eventsOf(s)).toEqual(events);
    }
    expect(writeEvt3(events, { vectorize: true }).length).toBeLessThan(writeEvt3(events).length);
  });

  it("decodes a hand-written word sequence", () => {
    const words = [0x8001, 0x6002, 0x0005, 0x2807, 0x3010, 0x4005, 0x5001, 0x0006, 0x2003];
    const body = new Uint8Array(words.length * 2);
    words.forEach((w, k) => new DataView(body.buffer).setUint16(2 * k, w, true));
    const s = readEvt3(body);
    const t = 4096 + 2;
    expect(eventsOf(s)).toEqual([
      { x: 7, y: 5, p: 1, t },
      { x: 16, y: 5, p: 0, t },
      { x: 18, y: 5, p: 0, t },
      { x: 28, y: 5, p: 0, t },
      { x: 3, y: 6, p: 0, t },
    ]);
    expect([s.width, s.height]).toEqual([29, 7]);
  });

  it("rejects reserved word types and odd lengths with byte offsets", () => {
    const bytes = writeEvt3(events);
    const start = readRawHeader("EVT 3.0", bytes).dataOffset;
    const bad = bytes.slice();
    bad[start + 1] = 0xc0;
    expect(badAt(() => readEvt3(bad), start)).toMatch(/reserved word type 0xc/);
    badAt(() => readEvt3(bytes.subarray(0, bytes.length - 1)), bytes.length - 2);
  });
});

describe("readEventFile", () => {
  it("refuses an unknown kind with CLI_BAD_SOURCE", () => {
    expect(() => readEventFile("bmp" as never, new Uint8Array(0))).toThrow(expect.objectContaining({ code: "CLI_BAD_SOURCE" }));
  });
});
