/**
 * A token bucket in bytes: the backlog drains at `rate` bytes/s on average with bursts of at
 * most `burst` bytes, so a cellular link is never flooded. A batch is never split: it takes
 * its bytes (the bucket may go into debt) and is sent once the debt is repaid.
 * E.g. rate 1000, burst 500, full at t=0: take(800, 0) -> wait 300 ms; take(200, 300) -> 200 ms.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  /** Takes `bytes`; returns how many ms to wait before sending them. */
  take(bytes: number, now: number): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    this.at = now;
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.rate);
  }
}
