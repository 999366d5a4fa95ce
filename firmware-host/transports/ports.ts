/**
 * Serial ports on this machine, found without udevadm: /dev/serial/by-id symlinks with their
 * targets, the /dev/ttyUSB*, ttyACM*, ttyS* nodes that exist, the ptys in /dev/pts (where the
 * native board and QEMU put their consoles), plus node-serialport's SerialPort.list() when it works
 * (it needs udevadm on Linux and hides ptys, so it only adds what the scan missed).
 */
import { readdirSync, readlinkSync, statSync } from "node:fs";
import { join, resolve, dirname } from "node:path";

/** One port. */
export interface PortInfo {
  /** Path to open. */
  readonly path: string;
  /** How it was found. */
  readonly kind: "by-id" | "usb" | "acm" | "serial" | "pty" | "serialport";
  /** For by-id symlinks: the device node they point at. */
  readonly target?: string;
  /** Manufacturer or other description, when SerialPort.list() gives one. */
  readonly description?: string;
}

/** Options of listPorts; for tests. */
export interface ListPortsOptions {
  /** Root of the device tree. Default "/dev". */
  readonly devRoot?: string;
  /** Ask node-serialport too. Default true. */
  readonly useSerialport?: boolean;
  /** Longest wait for SerialPort.list(), in ms. Default 2000. */
  readonly serialportTimeoutMs?: number;
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  } catch {
    return [];
  }
}

function isCharDevice(path: string): boolean {
  try {
    return statSync(path).isCharacterDevice();
  } catch {
    return false;
  }
}

/** Lists the serial ports; never throws (each probe that fails is skipped). */
export async function listPorts(options: ListPortsOptions = {}): Promise<PortInfo[]> {
  const dev = options.devRoot ?? "/dev";
  const ports: PortInfo[] = [];
  const byId = join(dev, "serial", "by-id");
  for (const name of entries(byId)) {
    const path = join(byId, name);
    try {
      ports.push({ path, kind: "by-id", target: resolve(dirname(path), readlinkSync(path)) });
    } catch {
      // not a symlink: skip
    }
  }
  const patterns: Array<[RegExp, PortInfo["kind"]]> = [
    [/^ttyUSB\d+$/, "usb"],
    [/^ttyACM\d+$/, "acm"],
    [/^ttyS\d+$/, "serial"],
  ];
  for (const name of entries(dev)) {
    const match = patterns.find(([re]) => re.test(name));
    if (match && isCharDevice(join(dev, name))) ports.push({ path: join(dev, name), kind: match[1] });
  }
  for (const name of entries(join(dev, "pts"))) {
    if (/^\d+$/.test(name)) ports.push({ path: join(dev, "pts", name), kind: "pty" });
  }
  if (options.useSerialport ?? true) {
    const known = new Set(ports.flatMap((p) => (p.target ? [p.path, p.target] : [p.path])));
    for (const p of await serialportList(options.serialportTimeoutMs ?? 2000)) {
      if (known.has(p.path)) continue;
      ports.push(p.description ? { path: p.path, kind: "serialport", description: p.description } : { path: p.path, kind: "serialport" });
    }
  }
  return ports;
}

async function serialportList(timeoutMs: number): Promise<Array<{ path: string; description?: string }>> {
  try {
    const { SerialPort } = await import("serialport");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<[]>((r) => {
      timer = setTimeout(() => r([]), timeoutMs);
    });
    const list = await Promise.race([SerialPort.list(), timeout]).finally(() => clearTimeout(timer));
    return list.map((p) => {
      const description = ["manufacturer" in p ? p.manufacturer : undefined, "serialNumber" in p ? p.serialNumber : undefined].filter(Boolean).join(" ");
      return description ? { path: p.path, description } : { path: p.path };
    });
  } catch {
    return []; // no udevadm, no bindings: the scan above stands on its own
  }
}
