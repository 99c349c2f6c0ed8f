/**
 * When to try the broker again after a loss, so that one box is back within a second or two of
 * its broker and a fleet does not storm it: a fast phase of attempts about every `minMs`
 * (jittered 0.5x to 1.5x; the first in 0 to 1x, so a fleet that lost the same broker spreads at
 * once), then exponential backoff up to `maxMs` with the same jitter.
 * E.g. min 1000, fast 30000, max 30000: attempts ~1 s apart for 30 s, then ~2, 4, 8, 16, 30, 30 ... s.
 */
export interface ReconnectPolicy {
  minMs: number;
  fastPhaseMs: number;
  maxMs: number;
}

/** Delay before attempt `attempt` (0 = the first after the loss), `sinceLossMs` after it; `random` in [0, 1). */
export function reconnectDelay(policy: ReconnectPolicy, attempt: number, sinceLossMs: number, random: number): number {
  if (attempt === 0) return Math.round(random * policy.minMs);
  const jitter = 0.5 + random;
  if (sinceLossMs < policy.fastPhaseMs) return Math.round(policy.minMs * jitter);
  // Attempts since the fast phase ended double the base; the fast phase has about fastPhaseMs / minMs of them.
  const slow = Math.max(1, attempt - Math.floor(policy.fastPhaseMs / policy.minMs));
  const base = Math.min(policy.maxMs, policy.minMs * 2 ** Math.min(slow, 30));
  return Math.round(Math.min(policy.maxMs, base * jitter));
}
