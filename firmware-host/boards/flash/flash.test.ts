import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { getBoard } from "../boards.js";
import { flash } from "./index.js";
import { gdbLoadArgs, gdbServerTargets } from "./gdb.js";
import { qemuArgs, qemuPortLine } from "../qemu.js";
import { QEMU_PORT_LINE } from "./qemu.js";
import { NATIVE_PORT_LINE } from "./native.js";
import {
  copyFlashPlan,
  imageConversions,
  openocdConfigParsed,
  openocdParseCheckArgv,
  openocdProgramArgv,
  realBoardCommand,
  stlinkWriteArgv,
} from "./real-board.js";
import { findTool, runTool } from "../toolchain.js";

const scratch = mkdtempSync(join(tmpdir(), "picospike-flash-unit-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("command construction", () => {
  it("runs QEMU with UART0 on a pty and 1 ns per instruction", () => {
    expect(qemuArgs(getBoard("microbit"), "/x/firmware.elf")).toEqual([
      "-M",
      "microbit",
      "-nographic",
      "-monitor",
      "none",
      "-serial",
      "pty",
      "-icount",
      "shift=0",
      "-kernel",
      "/x/firmware.elf",
    ]);
    expect(() => qemuArgs(getBoard("native"), "a")).toThrow(/does not run under QEMU/);
  });

  it("parses the port announcements", () => {
    expect(QEMU_PORT_LINE.exec("char device redirected to /dev/pts/7 (label serial0)\n")?.[1]).toBe("/dev/pts/7");
    expect(NATIVE_PORT_LINE.exec("port: /dev/pts/12\n")?.[1]).toBe("/dev/pts/12");
  });

  it("builds the gdb load command for each GDB server", () => {
    expect(gdbLoadArgs("fw.elf", gdbServerTargets.qemu("127.0.0.1:4000"))).toEqual([
      "-batch",
      "-nx",
      "fw.elf",
      "-ex",
      "target remote 127.0.0.1:4000",
      "-ex",
      "load",
      "-ex",
      "monitor system_reset",
      "-ex",
      "detach",
    ]);
    expect(gdbLoadArgs("fw.elf", gdbServerTargets.openocd())).toContain("target extended-remote 127.0.0.1:3333");
    expect(gdbLoadArgs("fw.elf", gdbServerTargets.probeRs())).toContain("target extended-remote 127.0.0.1:1337");
    expect(gdbLoadArgs("fw.elf", gdbServerTargets.blackMagic("/dev/ttyACM1"))).toEqual([
      "-batch",
      "-nx",
      "fw.elf",
      "-ex",
      "target extended-remote /dev/ttyACM1",
      "-ex",
      "monitor swdp_scan",
      "-ex",
      "attach 1",
      "-ex",
      "load",
      "-ex",
      "kill",
    ]);
  });

  it("builds OpenOCD program and drive-copy commands", () => {
    expect(openocdProgramArgv(getBoard("microbit"), "/b/firmware.elf")).toEqual([
      "openocd",
      "-f",
      "interface/cmsis-dap.cfg",
      "-f",
      "target/nrf51.cfg",
      "-c",
      'program "/b/firmware.elf" verify reset exit',
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

describe("the new boards' QEMU lines and real-board routes", () => {
  it("nucleo-f4 runs on netduinoplus2 with USART2 (the second -serial) on the pty, announced as serial1", () => {
    expect(qemuArgs(getBoard("nucleo-f4"), "/x/f.elf")).toEqual([
      "-M",
      "netduinoplus2",
      "-nographic",
      "-monitor",
      "none",
      "-serial",
      "null",
      "-serial",
      "pty",
      "-icount",
      "shift=0",
      "-kernel",
      "/x/f.elf",
    ]);
    expect(qemuPortLine(getBoard("nucleo-f4")).exec("char device redirected to /dev/pts/3 (label serial1)")?.[1]).toBe("/dev/pts/3");
    expect(qemuPortLine(getBoard("nucleo-f4")).exec("char device redirected to /dev/pts/3 (label serial0)")).toBeNull();
    expect(getBoard("hifive1").qemu?.binary).toBe("qemu-system-riscv32");
    expect(qemuArgs(getBoard("hifive1"), "/x/f.elf").slice(0, 2)).toEqual(["-M", "sifive_e"]);
  });

  it("builds the OpenOCD and st-flash commands for the Nucleo and the HiFive1, and .bin/.hex next to the ELF", () => {
    expect(openocdProgramArgv(getBoard("nucleo-f4"), "/b/firmware.elf")).toEqual([
      "openocd",
      "-f",
      "interface/stlink.cfg",
      "-f",
      "target/stm32f4x.cfg",
      "-c",
      'program "/b/firmware.elf" verify reset exit',
    ]);
    expect(openocdProgramArgv(getBoard("hifive1"), "/b/firmware.elf")).toEqual([
      "openocd",
      "-f",
      "board/sifive-hifive1.cfg",
      "-c",
      'program "/b/firmware.elf" verify reset exit',
    ]);
    expect(stlinkWriteArgv(getBoard("nucleo-f4"), "/b/firmware.bin")).toEqual(["st-flash", "--reset", "write", "/b/firmware.bin", "0x08000000"]);
    expect(realBoardCommand(getBoard("nucleo-f4"), "stlink", "/b/firmware.elf")).toEqual(["st-flash", "--reset", "write", "/b/firmware.bin", "0x08000000"]);
    expect(() => stlinkWriteArgv(getBoard("hifive1"), "/b/f.bin")).toThrow(/no ST-Link route/);
    expect(imageConversions(getBoard("hifive1"), "/b/firmware.elf").commands).toEqual([
      ["riscv64-unknown-elf-objcopy", "-O", "binary", "/b/firmware.elf", "/b/firmware.bin"],
      ["riscv64-unknown-elf-objcopy", "-O", "ihex", "/b/firmware.elf", "/b/firmware.hex"],
    ]);
    expect(openocdParseCheckArgv(openocdProgramArgv(getBoard("nucleo-f4"), "/b/f.elf"))).toEqual([
      "openocd",
      "-f",
      "interface/stlink.cfg",
      "-f",
      "target/stm32f4x.cfg",
      "-c",
      "shutdown",
    ]);
  });

  const openocd = findTool("openocd");
  if (openocd === undefined) console.log("skipping the OpenOCD configuration check: openocd not installed (Debian: apt-get install openocd)");
  it.skipIf(openocd === undefined).each(["nucleo-f4", "hifive1", "microbit"])(
    "OpenOCD reads %s's configuration files (program step replaced by shutdown)",
    async (name) => {
      const [, ...args] = openocdParseCheckArgv(openocdProgramArgv(getBoard(name), "/b/firmware.elf"));
      const run = await runTool(openocd!, args, { timeoutMs: 30_000 });
      expect(openocdConfigParsed(run.code, run.stdout + run.stderr)).toBe(true);
      // and a typo in a file name is caught the same way
      const typo = await runTool(openocd!, ["-f", "interface/stlinkk.cfg", "-c", "shutdown"], { timeoutMs: 30_000 });
      expect(openocdConfigParsed(typo.code, typo.stdout + typo.stderr)).toBe(false);
    },
    60_000,
  );

  const stFlash = findTool("st-flash");
  it.skipIf(stFlash === undefined)(
    "st-flash accepts the write command's options (it stops at the missing probe, not at the command line)",
    async () => {
      const [, ...args] = stlinkWriteArgv(getBoard("nucleo-f4"), join(scratch, "none.bin"));
      writeFileSync(join(scratch, "none.bin"), new Uint8Array(16));
      const run = await runTool(stFlash!, args, { timeoutMs: 30_000 });
      expect(run.stdout + run.stderr).not.toMatch(/invalid command line/);
    },
    60_000,
  );
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
    await expect(flash("native", fake, { timeoutMs: 300 })).rejects.toMatchObject({
      code: "DEVICE_FLASH_FAILED",
      message: expect.stringContaining("within 300 ms"),
    });
  });
});
