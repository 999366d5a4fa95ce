/**
 * What a call throws, as a code, for tests: the PicospikeError's code, a "not a PicospikeError: …"
 * string for any other throw (never equal to a code, so the assertion shows it), undefined when
 * the call returns.
 */
import { isPicospikeError } from "../errors.js";

/** Describes a thrown value as a code. */
function describeThrown(e: unknown): string {
  return isPicospikeError(e) ? e.code : `not a PicospikeError: ${String(e)}`;
}

/** The code `f` throws, or undefined when it returns. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return describeThrown(e);
  }
  return undefined;
}

/** The code `p` (or the promise `p()` returns) rejects with, or undefined when it resolves. */
export async function codeOfAsync(p: Promise<unknown> | (() => unknown)): Promise<string | undefined> {
  return (await errorOfAsync(p))[0];
}

/** The code and message `p` (or the promise `p()` returns) rejects with; [undefined, ""] when it resolves. */
export async function errorOfAsync(p: Promise<unknown> | (() => unknown)): Promise<[string | undefined, string]> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    return [describeThrown(e), isPicospikeError(e) ? e.message : String(e)];
  }
  return [undefined, ""];
}
