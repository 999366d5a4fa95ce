/**
 * Real-board routes that cannot run on a machine without a probe or a board: OpenOCD `program`
 * and copying an image to a USB mass-storage bootloader (UF2 boards; the micro:bit's DAPLink
 * drive takes Intel HEX the same way). These build the exact commands picospike would run and
 * print; firmware/ports/README.md shows them. They are tested for construction only.
 */
import { basename, join } from "node:path";
import type { BoardSpec } from "../boards.js";
import { PicospikeError } from "../../../runtime/errors.js";

/** A command line to run, as argv (no shell). */
export type Argv = readonly string[];

/** OpenOCD target configuration per board (real silicon counterparts of the QEMU boards). */
const OPENOCD_TARGETS: Readonly<Record<string, { interface: string; target: string }>> = {
  microbit: { interface: "interface/cmsis-dap.cfg", target: "target/nrf51.cfg" },
  "mps2-an386": { interface: "interface/cmsis-dap.cfg", target: "target/stm32f4x.cfg" },
};

/**
 * `openocd -f <interface> -f <target> -c "program <elf> verify reset exit"`: writes the ELF
 * into flash through the debug probe, verifies it and starts it. `interfaceCfg` overrides the
 * probe (e.g. interface/stlink.cfg); mps2-an386 has no single real chip, so its entry is an
 * example Cortex-M4 (STM32F4) to replace with the board's own target file.
 */
export function openocdProgramArgv(board: BoardSpec, elf: string, interfaceCfg?: string): Argv {
  const cfg = OPENOCD_TARGETS[board.name];
  if (cfg === undefined) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} has no OpenOCD target (method openocd)`, { board: board.name });
  }
  if (/["{}\\]/.test(elf)) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `image path ${elf} contains characters OpenOCD's Tcl quoting cannot carry`, { image: elf });
  }
  return ["openocd", "-f", interfaceCfg ?? cfg.interface, "-f", cfg.target, "-c", `program "${elf}" verify reset exit`];
}

/** The steps of a drag-and-drop flash: convert the ELF, then copy it onto the board's drive. */
export interface CopyFlashPlan {
  /** Converts the ELF to the file the bootloader takes. */
  readonly convert: Argv;
  /** The file written by `convert`. */
  readonly file: string;
  /** Where it is copied: the mounted drive (the copy itself is a plain file copy, then sync). */
  readonly destination: string;
}

/**
 * Intel HEX for the micro:bit's DAPLink drive (mounted as MICROBIT): `arm-none-eabi-objcopy -O
 * ihex firmware.elf firmware.hex`, then copy it to the drive; DAPLink flashes and resets the
 * nRF51. UF2 bootloaders take a .uf2 made from the binary in the same way (uf2conv with the
 * chip's family id); the micro:bit v1 has none, so its copy route is the HEX one.
 */
export function copyFlashPlan(board: BoardSpec, elf: string, mountPoint: string): CopyFlashPlan {
  if (!board.flashMethods.includes("uf2")) {
    throw new PicospikeError("DEVICE_FLASH_FAILED", `board ${board.name} has no drag-and-drop flash route (method uf2)`, { board: board.name });
  }
  const file = elf.replace(/\.elf$/, "") + ".hex";
  return {
    convert: ["arm-none-eabi-objcopy", "-O", "ihex", elf, file],
    file,
    destination: join(mountPoint, basename(file)),
  };
}
