import { createHash, timingSafeEqual } from 'node:crypto';

/** Wrong PINs a client may enter before it has to wait. */
export const FREE_ATTEMPTS = 5;
/** First wait after the free attempts; it doubles with every further wrong PIN, up to MAX_LOCK_MS. */
export const FIRST_LOCK_MS = 30_000;
export const MAX_LOCK_MS = 15 * 60_000;
/**
 * Wrong PINs the whole box takes, from all clients together: a burst of GLOBAL_BURST, then one
 * more every GLOBAL_REFILL_MS. In any n minutes at most 10 + n wrong PINs are looked at (70 in
 * the first hour, 60 an hour after that), however many addresses the guesser has.
 */
export const GLOBAL_BURST = 10;
export const GLOBAL_REFILL_MS = 60_000;
/** A client that stays quiet this long starts afresh: a driver who mistyped yesterday is not punished today. */
const FORGET_AFTER_MS = 60 * 60_000;

export type PinVerdict =
  | { ok: true }
  | { ok: false; reason: 'no-pin' }
  | { ok: false; reason: 'wrong'; attemptsLeft: number }
  /** This client is locked out. */
  | { ok: false; reason: 'locked'; retryAfterSec: number }
  /** The box's budget of wrong PINs is spent: no PIN from anyone is looked at until it refills. */
  | { ok: false; reason: 'throttled'; retryAfterSec: number };

interface Client {
  failures: number;
  lockedUntil: number;
  lastAt: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest();
const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Checks the display PIN per client (its address) and for the box as a whole. Four digits are
 * only 10 000 guesses, so a client gets FREE_ATTEMPTS tries, then waits 30 s, 60 s, 120 s ... for
 * each further try; a right PIN forgets its failures. A locked client is refused without the PIN
 * being looked at. Because addresses are cheap (one host can use all of 127/8 or many Wi-Fi
 * addresses), every wrong PIN also takes a token from one bucket for the box (GLOBAL_BURST,
 * GLOBAL_REFILL_MS); while it is empty no PIN is looked at, the right one included, otherwise
 * the guessing would not be bounded.
 *
 * Worked example: five wrong PINs at t=0 s -> the fifth answer is `locked 30 s`; a try at t=10 s
 * is `locked 20 s` (not counted); a wrong PIN at t=31 s -> `locked 60 s`. Ten wrong PINs from
 * ten addresses at t=0 s -> an eleventh address, even with the right PIN, gets `throttled 60 s`.
 *
 * Memory: a client is remembered only after a wrong PIN that took a token, and forgotten after
 * FORGET_AFTER_MS of quiet, so at most GLOBAL_BURST + FORGET_AFTER_MS / GLOBAL_REFILL_MS (70)
 * clients are remembered at once; none is forgotten while locked (MAX_LOCK_MS < FORGET_AFTER_MS).
 */
export class PinGate {
  /** In order of each client's last wrong PIN, so the quiet ones are at the front. */
  private readonly clients = new Map<string, Client>();
  private readonly expected: Buffer | undefined;
  private tokens = GLOBAL_BURST;
  private tokensAt: number | undefined;
  /** Wrong PINs since start, for /metrics. */
  failures = 0;

  constructor(pin: string | undefined) {
    this.expected = pin === undefined ? undefined : digest(pin);
  }

  check(client: string, pin: string, nowMs: number): PinVerdict {
    if (this.expected === undefined) return { ok: false, reason: 'no-pin' };
    this.forgetQuiet(nowMs);
    const c = this.clients.get(client);
    if (c && c.lockedUntil > nowMs) return { ok: false, reason: 'locked', retryAfterSec: seconds(c.lockedUntil - nowMs) };
    this.refill(nowMs);
    if (this.tokens < 1) return { ok: false, reason: 'throttled', retryAfterSec: seconds((1 - this.tokens) * GLOBAL_REFILL_MS) };
    // Comparing digests of equal length in constant time: the answer's timing says nothing about the PIN.
    if (timingSafeEqual(digest(pin), this.expected)) {
      this.clients.delete(client);
      return { ok: true };
    }
    this.tokens--;
    this.failures++;
    const failures = (c?.failures ?? 0) + 1;
    const over = failures - FREE_ATTEMPTS;
    const lockMs = over < 0 ? 0 : Math.min(FIRST_LOCK_MS * 2 ** over, MAX_LOCK_MS);
    this.clients.delete(client);
    this.clients.set(client, { failures, lockedUntil: nowMs + lockMs, lastAt: nowMs });
    if (lockMs > 0) return { ok: false, reason: 'locked', retryAfterSec: seconds(lockMs) };
    return { ok: false, reason: 'wrong', attemptsLeft: FREE_ATTEMPTS - failures };
  }

  private refill(nowMs: number) {
    // A clock stepped back refills nothing rather than taking tokens away.
    const elapsed = this.tokensAt === undefined ? 0 : Math.max(0, nowMs - this.tokensAt);
    this.tokens = Math.min(GLOBAL_BURST, this.tokens + elapsed / GLOBAL_REFILL_MS);
    this.tokensAt = nowMs;
  }

  private forgetQuiet(nowMs: number) {
    for (const [id, c] of this.clients) {
      if (nowMs - c.lastAt <= FORGET_AFTER_MS) break;
      this.clients.delete(id);
    }
  }
}
