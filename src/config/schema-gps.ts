import { z } from 'zod';
import { intIn, Millis } from './schema-common.ts';

export const GpsConfig = z.strictObject({
  source: z
    .string()
    .min(1)
    .describe('serial device (/dev/ttyUSB0), tcp://host:port, or file:PATH for a replay'),
  baudRate: intIn(300, 921600).default(9600),
  silentAfterMs: Millis().default(5000).describe('no bytes for this long: the port is silent'),
  staleAfterMs: Millis().default(10000).describe('no valid fix for this long: the fix is stale'),
  movingIntervalMs: Millis().default(1000).describe('position sample rate while moving'),
  parkedIntervalMs: Millis().default(60000).describe('position sample rate while parked'),
  movingSpeedMs: z.number().min(0).default(1.0).describe('above this speed (m/s) the vehicle is moving'),
});
export type GpsConfig = z.infer<typeof GpsConfig>;
