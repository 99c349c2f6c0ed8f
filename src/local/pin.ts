import { createHash, timingSafeEqual } from 'node:crypto';

/** Wrong PINs a client may enter before it has to wait. */
export const FREE_ATTEMPTS = 5;
/** First wait after the free attempts; it doubles with every further wrong PIN, up to MAX_LOCK_MS. */
export const FIRST_LOCK_MS = 30_000;
export const MAX_LOCK_MS = 15 * 60_000;
/** A client that stays quiet this long starts afresh: a driver who mistyped yesterday is not punished today. */
const FORGET_AFTER_MS = 60 * 60_000;
/** Clients remembered at most; beyond that the oldest are forgotten (a spoofing flood cannot grow memory). */
const MAX_CLIENTS = 1024;

export type PinVerdict = { ok: true } | { ok: false; reason: 'no-pin' } | { ok: false; reason: 'wrong'; attemptsLeft: number } | { ok: false; reason: 'locked'; retryAfterSec: number };

interface Client {
  failures: number;
  lockedUntil: number;
  lastAt: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Checks the display PIN per client (its address). Four digits are only 10 000 guesses, so a
 * client gets FREE_ATTEMPTS tries, then waits 30 s, 60 s, 120 s ... for each further try; a
 * right PIN forgets its failures. A locked client is refused without the PIN being looked at.
 *
 * Worked example: five wrong PINs at t=0 s -> the fifth answer is `locked 30 s`; a try at t=10 s
 * is `locked 20 s` (not counted); a wrong PIN at t=31 s -> `locked 60 s`.
 */
export class PinGate {
  private readonly clients = new Map<string, Client>();
  private readonly expected: Buffer | undefined;
  /** Wrong PINs since start, for /metrics. */
  failures = 0;

  constructor(pin: string | undefined) {
    this.expected = pin === undefined ? undefined : digest(pin);
  }

  check(client: string, pin: string, nowMs: number): PinVerdict {
    if (this.expected === undefined) return { ok: false, reason: 'no-pin' };
    let c = this.clients.get(client);
    if (c && nowMs - c.lastAt > FORGET_AFTER_MS) c = undefined;
    if (c && c.lockedUntil > nowMs) return { ok: false, reason: 'locked', retryAfterSec: Math.ceil((c.lockedUntil - nowMs) / 1000) };
    // Comparing digests of equal length in constant time: the answer's timing says nothing about the PIN.
    if (timingSafeEqual(digest(pin), this.expected)) {
      this.clients.delete(client);
      return { ok: true };
    }
    this.failures++;
    const failures = (c?.failures ?? 0) + 1;
    const over = failures - FREE_ATTEMPTS;
    const lockMs = over < 0 ? 0 : Math.min(FIRST_LOCK_MS * 2 ** over, MAX_LOCK_MS);
    this.remember(client, { failures, lockedUntil: nowMs + lockMs, lastAt: nowMs });
    if (lockMs > 0) return { ok: false, reason: 'locked', retryAfterSec: Math.ceil(lockMs / 1000) };
    return { ok: false, reason: 'wrong', attemptsLeft: FREE_ATTEMPTS - failures };
  }

  private remember(client: string, c: Client) {
    this.clients.delete(client);
    this.clients.set(client, c);
    if (this.clients.size > MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
  }
}
