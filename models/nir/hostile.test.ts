import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPicospikeError, type ErrorCode } from "../../runtime/errors.js";
import { importNir } from "./import.js";
import { CATALOGUE, writeHostileNirFiles } from "./testing/hostile.js";

// Each hostile file is refused with its own code from the one error list, quickly, as a
// PicospikeError (which the CLI prints as one line, no stack trace).

const dir = mkdtempSync(join(tmpdir(), "nir-hostile-"));
const p = (name: string): string => join(dir, name);

async function refused(path: string): Promise<ErrorCode> {
  try {
    await importNir(path, { from: "auto" });
  } catch (e) {
    if (isPicospikeError(e)) return e.code;
    throw e;
  }
  throw new Error(`${path} was accepted`);
}

beforeAll(() => writeHostileNirFiles(dir));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("hostile NIR files", () => {
  it.each(CATALOGUE.map(([f, c]) => [f, c] as [string, ErrorCode]))("%s is refused with %s", async (name, code) => {
    expect(await refused(p(name))).toBe(code);
  });

  it("the well-formed file of the catalogue imports", async () => {
    const { snn } = await importNir(p("good.nir"), { from: "nir", dt: 1e-3 });
    expect(snn.layers).toHaveLength(1);
  });

  it("names the node and its type when refusing an unsupported node", async () => {
    await expect(importNir(p("unsupported-node.nir"), { from: "auto" })).rejects.toThrow(/node fc has type Hypercube/);
  });
});
