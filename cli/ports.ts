/**
 * `picospike ports [--json]`: serial ports on this machine, without needing udevadm: by-id names
 * with their targets, ttyUSB/ttyACM/ttyS nodes, ptys (native and QEMU boards), and what
 * SerialPort.list() adds when it works.
 */
import type { Command } from "commander";
import { listPorts } from "../firmware-host/transports/ports.js";
import { printJson } from "./io.js";

/** Registers the `ports` verb. */
export function register(program: Command): void {
  program
    .command("ports")
    .description("serial ports on this machine (by-id names, ttyUSB/ACM/S, ptys), without udevadm")
    .option("--json", "print one JSON object on stdout")
    .action(async (opts: { json?: boolean }) => {
      const ports = await listPorts();
      if (opts.json) {
        printJson({ ports });
        return;
      }
      if (ports.length === 0) process.stdout.write("no serial ports found\n");
      for (const p of ports) {
        process.stdout.write(`${p.path.padEnd(28)} ${p.kind.padEnd(10)}${p.target ? ` -> ${p.target}` : ""}${p.description ? ` ${p.description}` : ""}\n`);
      }
    });
}
