/**
 * Event-camera recordings as input sources (spec/input-formats.md): readers for N-MNIST, AEDAT
 * 2.0/3.1/4.0 and Prophesee EVT 2.0/3.0, each a pure function of the file's bytes, and the mapping
 * of their events to input neurons and steps (bin.ts).
 */
import { PicospikeError } from "../errors.js";
import { readAedat } from "./aedat.js";
import { readNmnist } from "./nmnist.js";
import { readEvt2, readEvt3 } from "./prophesee.js";
import type { EventStream, GeometryOverride } from "./stream.js";

export { readAedat, readAedat2, readAedat31, readAedat4, aedatVersion } from "./aedat.js";
export { readNmnist } from "./nmnist.js";
export { readEvt2, readEvt3, readRawHeader } from "./prophesee.js";
export type { EventStream, GeometryOverride } from "./stream.js";
export { binEvents, binLayout, filterEvents, splitSample } from "./bin.js";
export type { BinOptions, BinLayout, FilterOptions } from "./bin.js";

/** Event-file kinds, as written in input sources (`nmnist:file.bin`, `aedat:`, `evt2:`, `evt3:`). */
export const EVENT_FILE_KINDS = ["nmnist", "aedat", "evt2", "evt3"] as const;
/** One of EVENT_FILE_KINDS. */
export type EventFileKind = (typeof EVENT_FILE_KINDS)[number];

/** Reads an event file of the given kind (AEDAT picks its version from the file). */
export function readEventFile(kind: EventFileKind, bytes: Uint8Array, geometry?: GeometryOverride): EventStream {
  switch (kind) {
    case "nmnist":
      return readNmnist(bytes, geometry);
    case "aedat":
      return readAedat(bytes, geometry);
    case "evt2":
      return readEvt2(bytes, geometry);
    case "evt3":
      return readEvt3(bytes, geometry);
    default:
      throw new PicospikeError("CLI_BAD_SOURCE", `unknown event file kind '${String(kind)}' (known: ${EVENT_FILE_KINDS.join(", ")})`);
  }
}
