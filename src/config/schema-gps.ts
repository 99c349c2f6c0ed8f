import { z } from 'zod';
import { intIn, Millis } from './schema-common.ts';

export const GpsConfig = z.strictObject({
  source: z
    .string()
    .regex(/^(\/.+|tcp:\/\/[^/:]+:\d{1,5}|tcp:\/\/\[[0-9a-fA-F:.]+\]:\d{1,5}|file:.+)$/, 'expected a serial device (/dev/ttyUSB0), tcp://host:port or file:PATH')
    .describe('serial device (/dev/ttyUSB0), tcp://host:port, or file:PATH for a replay'),
  baudRate: intIn(300, 921600).default(9600),
  replay: z
    .enum(['realtime', 'fast'])
    .default('realtime')
    .describe('file:PATH only: pace the capture by its own timestamps, or as fast as possible; it replays again at the end'),
  silentAfterMs: Millis().default(5000).describe('no bytes for this long: the port is silent'),
  staleAfterMs: Millis().default(10000).describe('no valid fix for this long: the fix is stale'),
  reconnectMaxMs: Millis(100).default(5000).describe('longest wait between attempts to reopen a lost or absent port'),
  movingIntervalMs: Millis().default(1000).describe('position sample rate while moving'),
  parkedIntervalMs: Millis().default(60000).describe('position sample rate while parked'),
  movingSpeedMs: z.number().min(0).default(1.0).describe('above this speed (m/s) the vehicle is moving'),
});
export type GpsConfig = z.infer<typeof GpsConfig>;
