/** Flash method `native`: run the host executable; it prints `port: <path>` for its pty. */
import { requireImage } from "./paths.js";
import { awaitPort, spawnManaged, type FlashHandle } from "./process.js";

/** The line the native firmware prints on stdout once its pty is ready. */
export const NATIVE_PORT_LINE = /^port: (\S+)$/m;

/**
 * Starts the native firmware `executable` with a pipe on its stdin (it exits when the pipe
 * closes) and resolves once it announced its pty.
 */
export function flashNative(executable: string, options: { timeoutMs?: number } = {}): Promise<FlashHandle> {
  requireImage(executable);
  const child = spawnManaged(executable, [], false);
  return awaitPort(child, "native", NATIVE_PORT_LINE, options.timeoutMs ?? 5000);
}
