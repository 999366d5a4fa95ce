/**
 * File access for models/: a tfjs IOHandler that saves and loads the tfjs-layers format
 * (model.json + weights .bin) from the file system (tfjs's own file:// handler ships only with
 * tfjs-node), and reading of the files a model names. Writing goes through a caller-supplied
 * function so the CLI can make every write atomic (cli/io.ts writeFileAtomic).
 */
import { readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { io } from "@tensorflow/tfjs";
import { fail } from "../runtime/errors.js";

/** Writes a whole file (atomically, when the caller's function does). */
export type WriteFile = (path: string, data: Uint8Array | string) => void;

/** Name of the weights file next to a saved model.json. */
export const WEIGHTS_FILE = "weights.bin";

/** Largest model.json or weights file read (bounds allocation on hostile input). */
const MAX_MODEL_BYTES = 256 * 1024 * 1024;

/** Reads a file a model names; a missing file is TOOLCHAIN_BAD_MODEL (or CLI_FILE_NOT_FOUND for the model itself). */
export function readModelFile(path: string, what: string, missingCode: "TOOLCHAIN_BAD_MODEL" | "CLI_FILE_NOT_FOUND" = "TOOLCHAIN_BAD_MODEL"): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    fail(missingCode, `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (bytes.length > MAX_MODEL_BYTES) fail("TOOLCHAIN_BAD_MODEL", `${what} ${path} is ${bytes.length} bytes, over the ${MAX_MODEL_BYTES} limit`);
  return bytes;
}

/** Parses JSON from bytes, failing with TOOLCHAIN_BAD_MODEL naming the file. */
export function parseJsonFile(bytes: Uint8Array, path: string): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    fail("TOOLCHAIN_BAD_MODEL", `${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/** The model.json path for a path that is either a model.json or a directory holding one. */
export function modelJsonPath(path: string): string {
  return path.endsWith(".json") ? path : join(path, "model.json");
}

/**
 * A tfjs IOHandler for the file system. `save` writes model.json and weights.bin into the
 * directory of `path` (path may name the model.json or the directory); `load` reads model.json
 * and concatenates the weight files its manifest lists.
 */
export function fileIOHandler(path: string, writeFile?: WriteFile): io.IOHandler {
  const jsonPath = modelJsonPath(path);
  const dir = dirname(jsonPath);
  return {
    save: async (artifacts: io.ModelArtifacts): Promise<io.SaveResult> => {
      if (!writeFile) throw new Error("fileIOHandler: no writer given for save");
      if (!(artifacts.weightData instanceof ArrayBuffer)) throw new Error("fileIOHandler: sharded weight data is not supported");
      const weights = new Uint8Array(artifacts.weightData);
      const modelJson = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? "layers-model",
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        weightsManifest: [{ paths: [`./${WEIGHTS_FILE}`], weights: artifacts.weightSpecs ?? [] }],
      };
      // Weights first: a model.json never points at weights that are not there yet.
      writeFile(join(dir, WEIGHTS_FILE), weights);
      writeFile(jsonPath, JSON.stringify(modelJson));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON", weightDataBytes: weights.length } };
    },
    load: async (): Promise<io.ModelArtifacts> => loadArtifacts(jsonPath),
  };
}

/** tfjs model.json fields this toolchain reads. */
interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: Array<{ paths?: unknown; weights?: unknown }>;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/**
 * Reads model.json and its weights into tfjs ModelArtifacts, checking the manifest's shape and
 * that the weight files exist and hold exactly the bytes the manifest declares.
 */
export function loadArtifacts(jsonPath: string): io.ModelArtifacts {
  const json = parseJsonFile(readModelFile(jsonPath, "model", "CLI_FILE_NOT_FOUND"), jsonPath) as ModelJson;
  if (typeof json !== "object" || json === null || Array.isArray(json)) fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: top level is not an object`);
  if (typeof json.modelTopology !== "object" || json.modelTopology === null)
    fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: no modelTopology (is this a tfjs-layers model.json?)`);
  if (!Array.isArray(json.weightsManifest)) fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: no weightsManifest`);
  const specs: io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    if (typeof group !== "object" || group === null || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: a weightsManifest entry lacks paths or weights`);
    }
    for (const p of group.paths) {
      if (typeof p !== "string" || p.includes("\0")) fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: a weights path is not a string`);
      const file = resolve(dirname(jsonPath), p);
      if (dirname(file) !== resolve(dirname(jsonPath)) && !file.startsWith(resolve(dirname(jsonPath)) + "/")) {
        fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: weights path ${p} points outside the model's directory`);
      }
      chunks.push(readModelFile(file, `weights file (${basename(p)}) of`));
    }
    specs.push(...(group.weights as io.WeightsManifestEntry[]));
  }
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    weightData.set(c, off);
    off += c.length;
  }
  const declared = specs.reduce((s, w) => s + weightSpecBytes(w, jsonPath), 0);
  if (declared !== total) fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: manifest declares ${declared} weight bytes but the weight files hold ${total}`);
  const artifacts: io.ModelArtifacts = {
    modelTopology: json.modelTopology as object,
    weightSpecs: specs,
    weightData: weightData.buffer,
  };
  if (typeof json.format === "string") artifacts.format = json.format;
  return artifacts;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** Bytes one manifest entry occupies in the weight data (quantized entries by their stored dtype). */
function weightSpecBytes(spec: io.WeightsManifestEntry, jsonPath: string): number {
  if (typeof spec !== "object" || spec === null || typeof spec.name !== "string" || !Array.isArray(spec.shape)) {
    fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: a weights entry lacks name or shape`);
  }
  let n = 1;
  for (const d of spec.shape) {
    if (!Number.isInteger(d) || d < 0 || d > 1 << 28) fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: weight ${spec.name} has a bad shape`);
    n *= d;
  }
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = DTYPE_BYTES[dtype];
  if (bytes === undefined) fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: weight ${spec.name} has unsupported dtype ${String(dtype)}`);
  if (n > MAX_MODEL_BYTES) fail("TOOLCHAIN_BAD_MODEL", `${jsonPath}: weight ${spec.name} is too large`);
  return n * bytes;
}
