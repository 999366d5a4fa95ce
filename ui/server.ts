/**
 * The live view's local server: HTTP for the page and a WebSocket (the `ws` package) for its data.
 * It binds to 127.0.0.1 only, and refuses any request whose Host header is not this loopback
 * address and port, or whose Origin (when sent) is not this page: a web page on another site,
 * even through DNS rebinding (a name that resolves to 127.0.0.1), can neither read the page nor
 * open the socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";
import { fail, PicospikeError } from "../runtime/errors.js";
import { MAX_CLIENT_MESSAGE } from "./feed.js";
import type { LiveHub } from "./hub.js";

/** The page's built files (scripts/build.mjs bundles ui/page/ into dist/ui/). */
export interface PageAssets {
  readonly script: string;
  readonly style: string;
}

/**
 * Finds and reads dist/ui/app.js and app.css, from the bundle (dist/ or dist/chunks/) or from the
 * sources run under tsx (ui/). CLI_UI_ASSETS_MISSING when the page was not built.
 */
export function loadPageAssets(): PageAssets {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++) {
    for (const candidate of [join(dir, "ui"), join(dir, "dist", "ui")]) {
      const script = join(candidate, "app.js");
      const style = join(candidate, "app.css");
      if (existsSync(script) && existsSync(style)) return { script: readFileSync(script, "utf8"), style: readFileSync(style, "utf8") };
    }
    dir = dirname(dir);
  }
  fail("CLI_UI_ASSETS_MISSING", "the live view's page (dist/ui/app.js) was not built: run `npm run build`");
}

/** The HTML shell of the live page: the script connects back to the server it came from. */
function livePage(title: string): string {
  const t = title.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
    `<title>picospike: ${t}</title><link rel="stylesheet" href="/app.css"></head>` +
    `<body><div id="app"></div><script src="/app.js"></script></body></html>\n`
  );
}

/** True when `host` (a Host header) names this server on loopback. */
export function allowedHost(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

/** True when `origin` (an Origin header) is absent or this server's own page. */
export function allowedOrigin(origin: string | undefined, port: number): boolean {
  return origin === undefined || origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}

/** A running live-view server. */
export interface UiServer {
  /** The page's address, e.g. http://127.0.0.1:41234/ */
  readonly url: string;
  readonly port: number;
  /** Pages refused so far (foreign Host or Origin). */
  readonly refused: () => number;
  close(): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1 (`port` 0: the OS picks one) serving `hub`'s page and data.
 * CLI_UI_PORT_UNAVAILABLE when the port cannot be bound.
 */
export async function startUiServer(hub: LiveHub, options: { port?: number; assets?: PageAssets } = {}): Promise<UiServer> {
  const assets = options.assets ?? loadPageAssets();
  let port = 0;
  let refused = 0;
  const deny = (res: ServerResponse): void => {
    refused++;
    res.writeHead(403, { "content-type": "text/plain" }).end("forbidden: this server answers its own page on 127.0.0.1 only\n");
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (!allowedHost(req.headers.host, port) || !allowedOrigin(req.headers.origin, port)) return deny(res);
    const headers = { "cache-control": "no-store", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, headers).end();
      return;
    }
    if (path === "/" || path === "/index.html") {
      res.writeHead(200, {
        ...headers,
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'",
      });
      res.end(livePage(hub.meta.title));
    } else if (path === "/app.js") {
      res.writeHead(200, { ...headers, "content-type": "text/javascript; charset=utf-8" }).end(assets.script);
    } else if (path === "/app.css") {
      res.writeHead(200, { ...headers, "content-type": "text/css; charset=utf-8" }).end(assets.style);
    } else if (path === "/favicon.ico") {
      res.writeHead(204, headers).end();
    } else {
      res.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found\n");
    }
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE, perMessageDeflate: false });
  server.on("upgrade", (req, socket, head) => {
    if (!allowedHost(req.headers.host, port) || !allowedOrigin(req.headers.origin, port) || (req.url ?? "").split("?")[0] !== "/live") {
      refused++;
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const link = hub.attach({
        send: (text) => {
          if (ws.readyState === ws.OPEN) ws.send(text);
        },
        get bufferedAmount() {
          return ws.bufferedAmount;
        },
      });
      ws.on("message", (data, isBinary) => {
        if (!isBinary) link.receive(data.toString());
      });
      ws.on("close", () => link.detach());
      ws.on("error", () => link.detach());
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) =>
      reject(new PicospikeError("CLI_UI_PORT_UNAVAILABLE", `cannot serve the live view on 127.0.0.1:${options.port ?? 0}: ${e.code ?? e.message}`)),
    );
    server.listen({ host: "127.0.0.1", port: options.port ?? 0 }, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    refused: () => refused,
    close: async () => {
      hub.close();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
