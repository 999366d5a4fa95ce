/**
 * Reading what input sources name: whole files (a missing one is CLI_FILE_NOT_FOUND), all of stdin
 * or a file within a byte limit, and a Node stream chunk by chunk on demand (backpressure).
 */
import { readFileSync, readSync } from "node:fs";
import type { Readable } from "node:stream";
import { fail, PicospikeError } from "../../runtime/errors.js";

/** Reads a whole file, turning a missing or unreadable file into CLI_FILE_NOT_FOUND. */
export function readFileOrFail(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    fail("CLI_FILE_NOT_FOUND", `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Reads all of stdin (`-`) or a file synchronously, failing beyond `limit` bytes (no unbounded allocation). */
export function readAllBounded(path: string, limit: number): Uint8Array {
  if (path !== "-") {
    const bytes = readFileOrFail(path);
    if (bytes.length > limit) fail("CLI_BAD_INPUT_FILE", `${path} is larger than ${limit} bytes`);
    return bytes;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const fd = 0;
  const buf = new Uint8Array(1 << 16);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue;
      if ((e as NodeJS.ErrnoException).code === "EOF") break;
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > limit) fail("CLI_BAD_INPUT_FILE", `stdin holds more than ${limit} bytes; stream it with \`picospike stream\` instead`);
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** The next chunk of a Readable, or undefined at its end or when `signal` fires (reading only on demand: backpressure). */
export function readChunk(stream: Readable, signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off("readable", tryRead);
      stream.off("end", onEnd);
      stream.off("error", onError);
      signal?.removeEventListener("abort", onEnd);
    };
    const tryRead = (): void => {
      const chunk = stream.read() as Buffer | null;
      if (chunk !== null) {
        cleanup();
        resolve(chunk);
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve(undefined);
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(new PicospikeError("CLI_FILE_NOT_FOUND", `cannot read input: ${e.message}`));
    };
    if (signal?.aborted || stream.readableEnded) return resolve(undefined);
    stream.on("readable", tryRead);
    stream.on("end", onEnd);
    stream.on("error", onError);
    signal?.addEventListener("abort", onEnd);
    tryRead();
  });
}
