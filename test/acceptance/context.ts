/**
 * What the acceptance cases share: the installed package, the user's folder, and the artifacts the
 * pipeline makes (an ANN, a float SNN, int8 and int4 event tables), each made once by the verb a
 * user would run and reused by the cases after it. A verb's cases live in verbs/<verb>.ts and
 * register with one `describe` (see VerbCase); verb-cases.ts lists them.
 */
import { emptyFolder, onPath, packAndInstall, skipReason, User, type InstalledPackage } from "./installed.js";

/** One verb of the README's command reference and the cases that run it. */
export interface VerbCase {
  /** The verb, as typed after `picospike`. */
  readonly verb: string;
  /** Declares the verb's `describe` (success paths and natural mistakes) for a machine with Node and gcc. */
  define(ctx: Acceptance): void;
  /**
   * Declares the verb's cases on the cross-compiled boards (Arm and RISC-V toolchains, QEMU), run by
   * acceptance-boards.test.ts in the `boards` tier: they take minutes, which `npm test` leaves out.
   */
  defineCross?(ctx: Acceptance): void;
}

/** Steps per sample in the cases: short, so the suite stays fast. */
export const STEPS = 8;

/** The shared state of one acceptance run. */
export class Acceptance {
  #pkg: InstalledPackage | undefined;
  #user: User | undefined;
  readonly #made = new Map<string, unknown>();

  /** Packs and installs (call in beforeAll). */
  setup(): void {
    this.#pkg = packAndInstall();
    this.#user = new User(this.#pkg, emptyFolder());
    process.stderr.write(
      `acceptance: tarball ${this.#pkg.tarballFiles} files, ${this.#pkg.tarballBytes} bytes; npm pack ${this.#pkg.packSeconds.toFixed(1)} s, npm install --offline ${this.#pkg.installSeconds.toFixed(1)} s; user folder ${this.#user.dir}\n`,
    );
  }

  /** The installed package. */
  get pkg(): InstalledPackage {
    if (this.#pkg === undefined) throw new Error("acceptance: setup() has not run");
    return this.#pkg;
  }

  /** The user, in an empty folder outside the repository. */
  get user(): User {
    if (this.#user === undefined) throw new Error("acceptance: setup() has not run");
    return this.#user;
  }

  /** `make()` once per key; later calls return the first result. */
  once<T>(key: string, make: () => T): T {
    if (!this.#made.has(key)) this.#made.set(key, make());
    return this.#made.get(key) as T;
  }

  /** `train --arch mlp --epochs 1`: the ANN folder (model.json + weights). */
  ann(): string {
    return this.once("ann", () => {
      this.user.ok(["train", "--arch", "mlp", "--epochs", "1", "--out", "ann", "--quiet"], { timeoutMs: 300_000 });
      return this.user.path("ann");
    });
  }

  /** `convert ann --out snn.json` (100 calibration images): the float SNN. */
  snn(): string {
    return this.once("snn", () => {
      this.user.ok(["convert", this.ann(), "--out", "snn.json", "--calibration", "100"]);
      return this.user.path("snn.json");
    });
  }

  /** `quantize snn.json --weight-bits BITS`: an event table. */
  model(bits: 8 | 4 = 8): string {
    return this.once(`model${bits}`, () => {
      const out = `model-int${bits}.cbor`;
      this.user.ok(["quantize", this.snn(), "--weight-bits", String(bits), "--calibration", "8", "--out", out]);
      return this.user.path(out);
    });
  }
}

/** The tools of `tools` missing here; prints the skip reason for `what` when some are. */
export function missing(what: string, tools: readonly string[]): boolean {
  const absent = tools.filter((t) => !onPath(t));
  if (absent.length > 0) skipReason(what, `${absent.join(", ")} not on PATH`);
  return absent.length > 0;
}
