/** Checks on the image files the flash methods are given. */
import { accessSync, constants } from "node:fs";
import { PicospikeError } from "../../../runtime/errors.js";

/** Throws DEVICE_FLASH_FAILED unless `path` is an existing readable file (executable: +x too). */
export function requireImage(path: string, executable = true): void {
  try {
    accessSync(path, executable ? constants.X_OK : constants.R_OK);
  } catch {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `firmware image ${path} is missing or not ${executable ? "executable" : "readable"}; build it first`, {
      image: path,
    });
  }
}
