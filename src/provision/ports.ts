import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { SerialPort } from 'serialport';

export interface SerialPortInfo {
  /** What goes in the config: the /dev/serial/by-id name when there is one, since ttyUSB numbers change between boots. */
  path: string;
  /** The kernel name and, where known, the maker, e.g. `/dev/ttyUSB0 FTDI`. */
  description: string;
}

const KERNEL_NAMES = /^tty(USB|ACM|S|AMA|mxc)\d+$/;

/**
 * A PC has 32 ttyS nodes whether or not a UART is behind them; sysfs says `type` 0 (PORT_UNKNOWN)
 * for the empty ones. Other kinds of port have no such file and count as real.
 */
function isRealUart(name: string, sys: string): boolean {
  if (!name.startsWith('ttyS')) return true;
  try {
    return readFileSync(path.join(sys, name, 'type'), 'utf8').trim() !== '0';
  } catch {
    return true;
  }
}

/** Reads /dev the way the installer would: `ls /dev/ttyUSB* /dev/ttyACM* /dev/ttyS* /dev/serial/by-id`. */
export function globSerialPorts(dev = '/dev', sys = '/sys/class/tty'): SerialPortInfo[] {
  const byId = new Map<string, string>();
  try {
    for (const name of readdirSync(path.join(dev, 'serial', 'by-id'))) {
      const link = path.join(dev, 'serial', 'by-id', name);
      try {
        byId.set(realpathSync(link), link);
      } catch {
        // A dangling link: the adapter was unplugged.
      }
    }
  } catch {
    // No USB serial adapter has ever been seen on this boot.
  }
  let names: string[] = [];
  try {
    names = readdirSync(dev).filter((n) => KERNEL_NAMES.test(n) && isRealUart(n, sys));
  } catch {
    return [];
  }
  const rank = (n: string) => (n.startsWith('ttyUSB') ? 0 : n.startsWith('ttyACM') ? 1 : 2);
  names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b, 'en', { numeric: true }));
  return names.map((n) => {
    const kernel = path.join(dev, n);
    const stable = byId.get(kernel);
    return stable ? { path: stable, description: kernel } : { path: kernel, description: n.startsWith('ttyS') ? 'on-board UART' : '' };
  });
}

/**
 * The serial ports this box has. serialport's list asks udevadm, which minimal images lack
 * (it throws ENOENT): then read /dev directly.
 */
export async function listSerialPorts(list: () => Promise<{ path: string; manufacturer?: string; pnpId?: string }[]> = () => SerialPort.list()): Promise<SerialPortInfo[]> {
  let found;
  try {
    found = await list();
  } catch {
    return globSerialPorts();
  }
  return found.map((p) => {
    const stable = p.pnpId ? `/dev/serial/by-id/${p.pnpId}` : undefined;
    const description = [p.path, p.manufacturer].filter(Boolean).join(' ');
    return stable ? { path: stable, description } : { path: p.path, description: p.manufacturer ?? '' };
  });
}
