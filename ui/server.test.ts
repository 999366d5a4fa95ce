import { request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { FeedMeta, ServerMessage } from "./feed.js";
import { LiveHub } from "./hub.js";
import { allowedHost, allowedOrigin, startUiServer, type UiServer } from "./server.js";

const META: FeedMeta = {
  kind: "stream",
  title: "t",
  board: "mock",
  input: { size: 4 },
  layers: [{ name: "out", size: 2, integrator: false }],
  reference: false,
  readout: "counts",
};
const ASSETS = { script: "/* app */", style: "/* css */" };

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

function openSocket(
  port: number,
  headers: Record<string, string>,
  onMessage?: (ws: WebSocket, msg: ServerMessage) => void,
): Promise<{ ok: boolean; ws: WebSocket }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/live`, { headers });
    if (onMessage) ws.on("message", (data) => onMessage(ws, JSON.parse(String(data)) as ServerMessage));
    ws.once("open", () => resolve({ ok: true, ws }));
    ws.once("error", () => resolve({ ok: false, ws }));
    ws.once("unexpected-response", () => resolve({ ok: false, ws }));
  });
}

let server: UiServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("the live view's server", () => {
  it("binds 127.0.0.1 on an OS-chosen port and serves the page and its assets", async () => {
    server = await startUiServer(new LiveHub(META, { tickMs: 0 }), { assets: ASSETS });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await get(server.port, "/");
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="/app.js">');
    expect((await get(server.port, "/app.js")).body).toBe("/* app */");
    expect((await get(server.port, "/nope")).status).toBe(404);
  });

  it("refuses a foreign Host (DNS rebinding) and a foreign Origin, on HTTP and on the socket", async () => {
    server = await startUiServer(new LiveHub(META, { tickMs: 0 }), { assets: ASSETS });
    const port = server.port;
    expect((await get(port, "/", { host: `evil.example:${port}` })).status).toBe(403);
    expect((await get(port, "/", { host: `127.0.0.1:${port + 1}` })).status).toBe(403);
    expect((await get(port, "/app.js", { origin: "http://evil.example" })).status).toBe(403);
    expect((await get(port, "/", { origin: `http://localhost:${port}` })).status).toBe(200);
    expect((await openSocket(port, { host: `rebound.example:${port}` })).ok).toBe(false);
    expect((await openSocket(port, { origin: "http://evil.example" })).ok).toBe(false);
    expect(server.refused()).toBe(5);
    const good = await openSocket(port, { origin: `http://127.0.0.1:${port}` });
    expect(good.ok).toBe(true);
    good.ws.close();
  });

  it("streams the meta and batches to a socket and takes its acks", async () => {
    const hub = new LiveHub(META, { tickMs: 10 });
    server = await startUiServer(hub, { assets: ASSETS });
    const got: ServerMessage[] = [];
    let ended = (): void => undefined;
    const done = new Promise<void>((resolve) => (ended = resolve));
    const { ws } = await openSocket(server.port, {}, (socket, msg) => {
      got.push(msg);
      if (msg.type === "batch") socket.send(JSON.stringify({ type: "ack", seq: msg.seq }));
      if (msg.type === "end") ended();
    });
    for (let i = 0; i < 300; i++) hub.step({ i, s: 0, t: i, in: [], d: [[i % 2]] });
    hub.end({ steps: 300 });
    await done;
    ws.close();
    expect(got[0]!.type).toBe("meta");
    const steps = got.flatMap((m) => (m.type === "batch" ? m.steps.map((s) => s.i) : []));
    const skipped = got.reduce((a, m) => a + (m.type === "batch" ? m.skipped : 0), 0);
    expect(steps.at(-1)).toBe(299);
    expect(steps.length + skipped).toBe(300);
  });

  it("says which port it could not take", async () => {
    server = await startUiServer(new LiveHub(META, { tickMs: 0 }), { assets: ASSETS });
    await expect(startUiServer(new LiveHub(META, { tickMs: 0 }), { port: server.port, assets: ASSETS })).rejects.toThrow(/127\.0\.0\.1:\d+: EADDRINUSE/);
  });

  it("header checks", () => {
    expect(allowedHost("127.0.0.1:80", 80)).toBe(true);
    expect(allowedHost("localhost:80", 80)).toBe(true);
    expect(allowedHost("127.0.0.1", 80)).toBe(false);
    expect(allowedHost(undefined, 80)).toBe(false);
    expect(allowedOrigin(undefined, 80)).toBe(true);
    expect(allowedOrigin("null", 80)).toBe(false);
    expect(allowedOrigin("https://127.0.0.1:80", 80)).toBe(false);
  });
});
