import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getBoard } from "../boards.js";
import { flash } from "./index.js";
import { gdbLoadArgs, gdbServerTargets } from "./gdb.js";
import { qemuArgs, QEMU_PORT_LINE } from "./qemu.js";
import { NATIVE_PORT_LINE } from "./native.js";
import { copyFlashPlan, openocdProgramArgv } from "./real-board.js";

const scratch = mkdtempSync(join(tmpdir(), "picospike-flash-unit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("command construction", () => {
  it("runs QEMU with UART0 on a pty and 1 ns per instruction", () => {
    expect(qemuArgs(getBoard("microbit"), "/x/firmware.elf")).toEqual([
      "-M", "microbit", "-nographic", "-monitor", "none", "-serial", "pty", "-icount", "shift=0", "-kernel", "/x/firmware.elf",
    ]);
    expect(() => qemuArgs(getBoard("native"), "a")).toThrow(/does not run under QEMU/);
  });

  it("parses the port announcements", () => {
    expect(QEMU_PORT_LINE.exec("char device redirected to /dev/pts/7 (label serial0)\n")?.[1]).toBe("/dev/pts/7");
    expect(NATIVE_PORT_LINE.exec("port: /dev/pts/12\n")?.[1]).toBe("/dev/pts/12");
  });

  it("builds the gdb load command for each GDB server", () => {
    expect(gdbLoadArgs("fw.elf", gdbServerTargets.qemu("127.0.0.1:4000"))).toEqual([
      "-batch", "-nx", "fw.elf", "-ex", "target remote 127.0.0.1:4000", "-ex", "load", "-ex", "monitor system_reset", "-ex", "detach",
    ]);
    expect(gdbLoadArgs("fw.elf", gdbServerTargets.openocd())).toContain("target extended-remote 127.0.0.1:3333");
    expect(gdbLoadArgs("fw.elf", gdbServerTargets.probeRs())).toContain("target extended-remote 127.0.0.1:1337");
    expect(gdbLoadArgs("fw.elf", gdbServerTargets.blackMagic("/dev/ttyACM1"))).toEqual([
      "-batch", "-nx", "fw.elf", "-ex", "target extended-remote /dev/ttyACM1", "-ex", "monitor swdp_scan", "-ex", "attach 1", "-ex", "load", "-ex", "kill",
    ]);
  });

  it("builds OpenOCD program and drive-copy commands", () => {
    expect(openocdProgramArgv(getBoard("microbit"), "/b/firmware.elf")).toEqual([
      "openocd", "-f", "interface/cmsis-dap.cfg", "-f", "target/nrf51.cfg", "-c", 'program "/b/firmware.elf" verify reset exit',
    ]);
    expect(() => openocdProgramArgv(getBoard("native"), "/b/fw")).toThrow(/no OpenOCD target/);
    expect(() => openocdProgramArgv(getBoard("microbit"), '/b/"x".elf')).toThrow(/quoting/);
    expect(copyFlashPlan(getBoard("microbit"), "/b/firmware.elf", "/media/MICROBIT")).toEqual({
      convert: ["arm-none-eabi-objcopy", "-O", "ihex", "/b/firmware.elf", "/b/firmware.hex"],
      file: "/b/firmware.hex",
      destination: "/media/MICROBIT/firmware.hex",
    });
    expect(() => copyFlashPlan(getBoard("mps2-an386"), "/b/firmware.elf", "/m")).toThrow(/drag-and-drop/);
  });
});

describe("flash failures are readable errors, never hangs", () => {
  it("rejects a method the board does not have", () => {
    expect(() => flash("native", "/bin/true", { method: "qemu" })).toThrow(/cannot be flashed with qemu/);
    expect(() => flash("microbit", "/x.elf", { method: "openocd" })).toThrow(/needs a real board/);
  });

  it("reports a missing image", () => {
    expect(() => flash("native", join(scratch, "nope"))).toThrow(/missing or not executable/);
  });

  it("reports a firmware that exits before announcing its port, with its output", async () => {
    const fake = join(scratch, "exits.sh");
    writeFileSync(fake, "#!/bin/sh\necho 'cannot open pty' >&2\nexit 3\n");
    chmodSync(fake, 0o755);
    await expect(flash("native", fake)).rejects.toMatchObject({ code: "DEVICE_FLASH_FAILED", message: expect.stringContaining("cannot open pty") });
  });

  it("times out on a firmware that never announces, and kills it", async () => {
    const fake = join(scratch, "silent.sh");
    writeFileSync(fake, "#!/bin/sh\nexec sleep 30\n");
    chmodSync(fake, 0o755);
    await expect(flash("native", fake, { timeoutMs: 300 })).rejects.toMatchObject({ code: "DEVICE_FLASH_FAILED", message: expect.stringContaining("within 300 ms") });
  });
});
