import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import path from 'node:path';

export interface StorageCheck {
  dir: string;
  ok: boolean;
  detail: string;
  hint?: string;
}

/** The journal needs the data folder writable (or creatable) and room for journal.maxBytes. */
export function checkStorage(dir: string, needBytes: number): StorageCheck {
  let existing = dir;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  try {
    accessSync(existing, constants.W_OK);
  } catch {
    return { dir, ok: false, detail: `${existing} is not writable`, hint: 'the service user must own the data folder: scripts/install creates /var/lib/coldgate for it' };
  }
  const fs = statfsSync(existing);
  const free = fs.bavail * fs.bsize;
  const gb = (n: number) => `${(n / 1e9).toFixed(1)} GB`;
  const where = existing === dir ? 'writable' : `will be created in ${existing}`;
  if (free < needBytes) return { dir, ok: false, detail: `${where}, ${gb(free)} free, journal may use ${gb(needBytes)}`, hint: 'lower journal.maxBytes or free space on this disk' };
  return { dir, ok: true, detail: `${where}, ${gb(free)} free` };
}
