import type { Logger } from '../core/log.ts';
import { Refused } from './inbound.ts';

/** Thrown into a waiting retry when the receiver stops: the message stays unacknowledged. */
export class Stopped extends Error {
  override name = 'Stopped';
}

/**
 * Runs database work until it succeeds: a database that is away (a crash, a restart, a network
 * cut) is waited for with backoff, never given up on, one error log per outage. Errors of
 * SQLSTATE class 22 (data exception) and 23 (constraint) are the input's fault and would fail
 * forever: they become a Refused('invalid').
 */
export class DbRetry {
  private stopped = false;
  private readonly wake = new Set<() => void>();
  /** Whether the last attempt failed (the hole scan waits meanwhile). */
  outage = false;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly log: Logger,
    private readonly onRetry: () => void,
  ) {}

  async run<T>(what: string, work: () => Promise<T>): Promise<T> {
    let wait = this.initialMs;
    for (;;) {
      if (this.stopped) throw new Stopped();
      try {
        const out = await work();
        if (this.outage) this.log.info({ what }, 'database back');
        this.outage = false;
        return out;
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        if (/^2[23]/.test(code)) throw new Refused('invalid', `the database refused it: ${(err as Error).message}`);
        this.onRetry();
        if (!this.outage) this.log.error({ err: (err as Error).message, code, what, retryInMs: wait }, 'database unavailable; retrying, nothing is acknowledged meanwhile');
        this.outage = true;
        await this.sleep(wait);
        wait = Math.min(this.maxMs, wait * 2);
      }
    }
  }

  /** Ends every wait now; runs in progress then throw Stopped. */
  stop(): void {
    this.stopped = true;
    for (const w of [...this.wake]) w();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake.add(done);
    });
  }
}
