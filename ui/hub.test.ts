import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { decide, parseClientMessage, reportHtml, type FeedMeta, type FeedStep, type ServerMessage } from "./feed.js";
import { FeedRecorder, LiveHub, type HubClient } from "./hub.js";

const META: FeedMeta = {
  kind: "compare",
  title: "test",
  board: "mock",
  input: { size: 8 },
  layers: [
    { name: "hidden", size: 4, integrator: false },
    { name: "out", size: 2, integrator: false },
  ],
  reference: true,
  stepsPerSample: 4,
  readout: "counts",
};

function step(i: number): FeedStep {
  return { i, s: i >> 2, t: i & 3, in: [i % 8], d: [[i % 4], []], r: [[i % 4], []] };
}

/** A page as the hub sees it: records what it was sent; acks only when told. */
class FakePage implements HubClient {
  readonly messages: ServerMessage[] = [];
  bufferedAmount = 0;
  send(text: string): void {
    this.messages.push(JSON.parse(text) as ServerMessage);
  }
  batches(): Extract<ServerMessage, { type: "batch" }>[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { type: "batch" }> => m.type === "batch");
  }
}

function hubWithClock(options: ConstructorParameters<typeof LiveHub>[1] = {}): { hub: LiveHub; advance(ms: number): void } {
  let now = 0;
  const hub = new LiveHub(META, { tickMs: 0, now: () => now, ...options });
  return { hub, advance: (ms) => (now += ms) };
}

describe("LiveHub", () => {
  it("sends the meta on attach, then the steps in order while the page keeps up", () => {
    const { hub, advance } = hubWithClock();
    const page = new FakePage();
    const link = hub.attach(page);
    expect(page.messages[0]).toEqual({ type: "meta", meta: META, health: [] });
    for (let round = 0; round < 5; round++) {
      for (let k = 0; k < 10; k++) hub.step(step(round * 10 + k));
      hub.tick();
      advance(10);
      const last = page.batches().at(-1)!;
      link.receive(JSON.stringify({ type: "ack", seq: last.seq }));
    }
    const got = page.batches().flatMap((b) => b.steps.map((s) => s.i));
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(page.batches().every((b) => b.skipped === 0)).toBe(true);
  });

  it("never has more than inFlight unacknowledged batches, and decimates a page that fell behind the live edge: the newest steps and every diverging step", () => {
    const { hub, advance } = hubWithClock({ batchSteps: 10, inFlight: 2, ringSteps: 10_000 });
    const page = new FakePage();
    const link = hub.attach(page);
    for (let i = 0; i < 5; i++) hub.step(step(i));
    hub.tick();
    hub.tick();
    for (let i = 5; i < 1000; i++) hub.step(step(i));
    hub.divergence({ i: 333, sample: 83, step: 1, layer: 0, neuron: 1, kind: "spike", device: 1, interpreter: 0 });
    advance(1000);
    hub.tick(); // second batch in flight
    hub.tick(); // over the limit: nothing sent
    hub.tick();
    expect(page.batches().length).toBe(2);
    link.receive(JSON.stringify({ type: "ack", seq: 2 }));
    for (let i = 1000; i < 1500; i++) hub.step(step(i));
    hub.tick();
    const last = page.batches().at(-1)!;
    expect(last.steps.length).toBeLessThanOrEqual(11);
    expect(last.steps.at(-1)!.i).toBe(1499);
    const all = page.batches().flatMap((b) => b.steps.map((s) => s.i));
    expect(all).toContain(333);
    const skipped = page.batches().reduce((a, b) => a + b.skipped, 0);
    expect(all.length + skipped).toBe(1500);
  });

  it("a page that connects late catches up on the held history in full, in order", () => {
    const { hub, advance } = hubWithClock({ batchSteps: 50 });
    for (let i = 0; i < 400; i++) hub.step(step(i));
    const page = new FakePage();
    const link = hub.attach(page);
    for (let k = 0; k < 20; k++) {
      hub.tick();
      advance(10);
      link.receive(JSON.stringify({ type: "ack", seq: page.batches().at(-1)?.seq ?? 0 }));
    }
    expect(page.batches().flatMap((b) => b.steps.map((s) => s.i))).toEqual(Array.from({ length: 400 }, (_, i) => i));
  });

  it("loses the oldest steps to the ring, counted, and holds memory bounded", () => {
    const { hub } = hubWithClock({ ringSteps: 100, batchSteps: 1000 });
    for (let i = 0; i < 10_000; i++) hub.step(step(i));
    const page = new FakePage();
    hub.attach(page);
    hub.tick();
    const b = page.batches()[0]!;
    expect(b.steps.map((s) => s.i)).toEqual(Array.from({ length: 100 }, (_, k) => 9900 + k));
    expect(hub.snapshot().steps.length).toBe(100);
    expect(hub.snapshot().skipped).toBe(9900);
  });

  it("a page that detaches costs nothing; steps pushed with no page are not sent anywhere", () => {
    const { hub } = hubWithClock();
    const page = new FakePage();
    const link = hub.attach(page);
    link.detach();
    for (let i = 0; i < 100; i++) hub.step(step(i));
    hub.tick();
    expect(page.batches().length).toBe(0);
    expect(hub.pages).toBe(0);
  });

  it("sends the end once the page has caught up", () => {
    const { hub, advance } = hubWithClock();
    const page = new FakePage();
    const link = hub.attach(page);
    hub.step(step(0));
    hub.end({ bitExact: true });
    hub.tick();
    link.receive(JSON.stringify({ type: "ack", seq: 1 }));
    advance(10);
    hub.tick();
    expect(page.messages.at(-1)).toEqual({ type: "end", summary: { bitExact: true } });
  });

  it("ignores acks for batches never sent", () => {
    const { hub } = hubWithClock({ inFlight: 1 });
    const page = new FakePage();
    const link = hub.attach(page);
    link.receive(JSON.stringify({ type: "ack", seq: 99 }));
    hub.step(step(0));
    hub.tick();
    hub.step(step(1));
    hub.tick();
    expect(page.batches().length).toBe(1);
  });
});

describe("FeedRecorder", () => {
  it("keeps steps up to its event budget and counts the rest", () => {
    const rec = new FeedRecorder(META, 30);
    for (let i = 0; i < 10; i++) rec.step(step(i));
    const data = rec.data();
    expect(data.steps.length).toBe(7); // 4 events per step (the +1 is the step itself)
    expect(data.skipped).toBe(3);
  });
});

describe("parseClientMessage (bounded)", () => {
  it("accepts acks only", () => {
    expect(parseClientMessage('{"type":"ack","seq":3}')).toEqual({ type: "ack", seq: 3 });
    expect(parseClientMessage('{"type":"ack","seq":-1}')).toBeNull();
    expect(parseClientMessage('{"type":"ack","seq":1.5}')).toBeNull();
    expect(parseClientMessage('{"type":"nope","seq":1}')).toBeNull();
    expect(parseClientMessage("x".repeat(1000))).toBeNull();
  });
  it("never throws on arbitrary text (fuzz)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (s) => {
          const m = parseClientMessage(s);
          expect(m === null || (m.type === "ack" && Number.isSafeInteger(m.seq))).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("reportHtml", () => {
  it("embeds data and script so that neither can close its element early", () => {
    const rec = new FeedRecorder({ ...META, title: "a </script><b>" });
    rec.step(step(0));
    const html = reportHtml("var s = '</script>';", "a{}", rec.data());
    expect(html.match(/<\/script>/g)!.length).toBe(2);
    const json = /<script type="application\/json" id="picospike-data">(.*?)<\/script>/s.exec(html)![1]!;
    expect(JSON.parse(json).meta.title).toBe("a </script><b>");
  });
  it("decide takes the first maximum", () => {
    expect(decide([1, 3, 3])).toBe(1);
    expect(decide([])).toBe(-1);
  });
});
