import { z } from 'zod';
import { intIn, Millis } from './schema-common.ts';

export const JournalConfig = z.strictObject({
  fsync: z.boolean().default(true).describe('fsync every group commit: survives power loss, costs throughput'),
  commitIntervalMs: Millis(0, 5000).default(0).describe('extra ms a group commit waits for more appends; 0: it is written at the end of the event-loop turn of its first append, and appends that arrive while it is written form the next one'),
  maxBytes: intIn(16 * 1024, Number.MAX_SAFE_INTEGER)
    .default(512 * 1024 * 1024)
    .describe('bytes the journal may hold (compressed records); when full the oldest readings go, events never, and a gap record says so'),
  maxAgeDays: z.number().min(1).default(400).describe('unsent readings older than this are dropped (with a gap record); EU 37/2005 asks to keep records a year'),
});
export type JournalConfig = z.infer<typeof JournalConfig>;
