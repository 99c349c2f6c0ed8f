/** Failures in a row before a slave is skipped: one lost answer to noise must not cost a poll. */
export const BACKOFF_AFTER = 3;
const BASE_MS = 1000;

/**
 * How long to leave a slave alone after `failures` unanswered requests in a row, so that a dead
 * slave costs the others at most one timeout per pause.
 * Example (cap 60 s): failures 1, 2 -> 0; 3 -> 1 s; 4 -> 2 s; 5 -> 4 s; ... 9 -> 60 s (capped).
 */
export function backoffDelay(failures: number, capMs: number): number {
  if (failures < BACKOFF_AFTER) return 0;
  return Math.min(BASE_MS * 2 ** (failures - BACKOFF_AFTER), capMs);
}

/**
 * When a job runs next on a fixed cadence: one interval after the slot it was due in, skipping
 * slots the bus was too slow to serve rather than stacking them up (no overlapping cycles).
 * Example (interval 1000): due 5000, now 5200 -> 6000, 0 skipped; due 5000, now 7300 -> 8000, 2 skipped.
 */
export function nextDue(due: number, intervalMs: number, now: number): { due: number; skipped: number } {
  const slots = Math.max(1, Math.floor((now - due) / intervalMs) + 1);
  return { due: due + slots * intervalMs, skipped: slots - 1 };
}
