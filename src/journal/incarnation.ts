import { randomBytes } from 'node:crypto';
import type { Level } from 'level';
import type { Logger } from '../core/log.ts';
import { INCARNATION_KEY } from './keys.ts';

/** 16 lowercase hex digits: 64 random bits, so no two journals of one gateway share one. */
export const INCARNATION = /^[0-9a-f]{16}$/;

/**
 * The journal's incarnation: minted the first time a journal is opened and kept for its life.
 * A wiped or changed dataDir is a new journal whose seqs start at 1 again, under a new
 * incarnation: (gatewayId, incarnation, seq) names one record for the life of the gateway.
 * A journal written before incarnations existed gets one on its first open here.
 */
export async function openIncarnation(db: Level<string, Buffer>, dir: string, log: Logger): Promise<string> {
  const stored = (await db.get(INCARNATION_KEY))?.toString();
  if (stored !== undefined && INCARNATION.test(stored)) return stored;
  const incarnation = randomBytes(8).toString('hex');
  // On disk before any record can be sent under it.
  await db.put(INCARNATION_KEY, Buffer.from(incarnation), { sync: true });
  // A new id cannot collide with the old one: the worst case is a resend the cloud counts twice.
  if (stored !== undefined) log.error({ dir, key: INCARNATION_KEY, stored, incarnation }, 'journal incarnation unreadable: minted a new one; records not yet acked are sent again under it');
  return incarnation;
}
