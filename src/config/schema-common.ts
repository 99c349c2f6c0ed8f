import { z } from 'zod';

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
