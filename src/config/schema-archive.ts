import { z } from 'zod';
import { diskPath, intIn } from './schema-common.ts';

export const ArchiveConfig = z.strictObject({
  dir: diskPath('/var/lib/coldgate/trips')
    .optional()
    .describe('folder of the trip archive (one file per ended trip); default {dataDir}/trips; a relative path is relative to dataDir'),
  maxBytes: intIn(1024 * 1024, Number.MAX_SAFE_INTEGER)
    .default(256 * 1024 * 1024)
    .describe('bytes the archive may hold; over it the oldest trips are pruned (logged in pruned.ndjson and an archive.pruned event)'),
  maxAgeDays: z.number().min(1).default(400).describe('trips that ended longer ago are pruned; EU 37/2005 asks to keep records a year'),
  maxTripBytes: intIn(64 * 1024, Number.MAX_SAFE_INTEGER)
    .default(128 * 1024 * 1024)
    .describe('bytes one running trip may spool; beyond it further readings are counted, not kept, and the archived trip says so'),
}).refine((a) => a.maxTripBytes <= a.maxBytes, { path: ['maxTripBytes'], error: 'must be at most archive.maxBytes: one trip must fit in the archive' });
export type ArchiveConfig = z.infer<typeof ArchiveConfig>;
