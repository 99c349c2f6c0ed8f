import { z } from 'zod';
import path from 'node:path';

/** Identifiers end up in MQTT topics, metric labels and file names: keep them plain. */
export const Id = z
  .string({ error: 'expected an id (1-64 letters, digits, "_", "." or "-")' })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'expected an id (1-64 letters, digits, "_", "." or "-")');

/** One message for every way an integer field can be wrong, so the installer sees the allowed range. */
export function intIn(min: number, max: number) {
  const error = `expected an integer ${min}..${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

export function numIn(min: number, max: number) {
  const error = `expected a number ${min}..${max}`;
  return z.number({ error }).min(min, { error }).max(max, { error });
}

export const Port = intIn(1, 65535);
export const Host = z.string({ error: 'expected a host name or address' }).min(1, 'expected a host name or address');
export const Millis = (min = 1, max = 86_400_000) => intIn(min, max);

/** Kernel and device file systems: nothing there can hold a journal, and mkdir there can spin forever (Node 20, /proc). */
export const SYSTEM_TREES = ['/proc', '/sys', '/dev'] as const;

/** The system tree `absolute` lies in (after normalising `..`), or undefined: `/var/lib/../../proc/1` -> `/proc`. */
export function systemTreeOf(absolute: string): string | undefined {
  const norm = path.posix.normalize(absolute);
  return SYSTEM_TREES.find((t) => norm === t || norm.startsWith(`${t}/`));
}

/**
 * A file or folder coldgate reads or writes, on a disk: never in the kernel's trees (a journal
 * in /proc hangs mkdir; /dev/zero as a CA file would be read forever).
 */
export function diskPath(example: string) {
  return z
    .string()
    .min(1)
    .refine((p) => !path.posix.isAbsolute(p) || systemTreeOf(p) === undefined, {
      error: (issue) => `must not be under ${systemTreeOf(String(issue.input))}: give a path on a disk, e.g. ${example}`,
    });
}

export const DataDir = diskPath('/var/lib/coldgate');
