import type { TimeQuality } from './types.ts';

/** Before this the system clock cannot be right: boxes without an RTC boot in 1970. */
export const BUILD_EPOCH_MS = Date.UTC(2026, 0, 1);

/** Beyond this the system clock and GPS disagree too much to trust the system clock. */
export const MAX_SKEW_MS = 2000;

/** Two fixes agree when their GPS times, less the monotonic clock at arrival, differ by at most this. */
export const GPS_AGREE_MS = 2000;

/** Consecutive agreeing fixes it takes to trust GPS time, or to move a trusted time to a new one. */
export const GPS_TRUST_FIXES = 3;

export interface Stamp {
  ts: string;
  tq: TimeQuality;
}

/**
 * What the clock made of one GPS time:
 * - `trusted`: it agrees with the trusted GPS time (or just made a new one trusted): it is the clock;
 * - `pending`: no GPS time is trusted yet; this one counts towards the first run;
 * - `rejected`: it disagrees with the trusted GPS time: an outlier, ignored (unless it turns
 *   out to begin a run of `GPS_TRUST_FIXES` agreeing fixes, a genuine step).
 */
export type GpsVerdict = { verdict: 'trusted'; steppedMs?: number } | { verdict: 'pending' } | { verdict: 'rejected'; offByMs: number };

/**
 * Stamps records with UTC. The system clock is used while it is plausible and agrees with GPS;
 * otherwise GPS time carried forward on the monotonic clock. Every stamp says which was used.
 *
 * GPS time is only believed from a run of fixes that agree with each other and with the
 * monotonic clock (see `observeGps`): one checksummed sentence with a wrong time, a spoofer or a
 * receiver glitch, must not move the box's clock.
 */
export class Clock {
  /** The trusted GPS time, as an offset from the monotonic clock. */
  private gpsOffsetMs: number | undefined;
  private gpsObservedMono = 0;
  /** Consecutive fixes that disagree with the trusted offset (or precede any), each agreeing with the one before. */
  private run: { offsetMs: number; count: number } | undefined;

  constructor(
    private readonly systemNow: () => number = Date.now,
    private readonly monoNow: () => number = () => performance.now(),
  ) {}

  /**
   * A GPS receiver reported `utcMs` as the time of a fix that arrived just now.
   * Trusted after GPS_TRUST_FIXES consecutive fixes whose offsets (utcMs - monotonic) each agree
   * within GPS_AGREE_MS with the one before. Once trusted, an agreeing fix keeps the clock on the
   * receiver (jitter and drift are far below the bound); a disagreeing one is rejected, and only
   * a new run of GPS_TRUST_FIXES agreeing fixes moves the clock to it.
   */
  observeGps(utcMs: number): GpsVerdict {
    const mono = this.monoNow();
    const offsetMs = utcMs - mono;
    if (this.gpsOffsetMs !== undefined && Math.abs(offsetMs - this.gpsOffsetMs) <= GPS_AGREE_MS) {
      this.adopt(offsetMs, mono);
      return { verdict: 'trusted' };
    }
    const continues = this.run !== undefined && Math.abs(offsetMs - this.run.offsetMs) <= GPS_AGREE_MS;
    this.run = { offsetMs, count: continues ? this.run!.count + 1 : 1 };
    if (this.run.count >= GPS_TRUST_FIXES) {
      const before = this.gpsOffsetMs;
      this.adopt(offsetMs, mono);
      return before === undefined ? { verdict: 'trusted' } : { verdict: 'trusted', steppedMs: offsetMs - before };
    }
    return this.gpsOffsetMs === undefined ? { verdict: 'pending' } : { verdict: 'rejected', offByMs: offsetMs - this.gpsOffsetMs };
  }

  private adopt(offsetMs: number, mono: number): void {
    this.gpsOffsetMs = offsetMs;
    this.gpsObservedMono = mono;
    this.run = undefined;
  }

  /** GPS time is trusted for a day after it was last seen: a crystal drifts far less than the 2 s skew bound. */
  private gpsNow(): number | undefined {
    if (this.gpsOffsetMs === undefined) return undefined;
    if (this.monoNow() - this.gpsObservedMono > 86_400_000) return undefined;
    return this.monoNow() + this.gpsOffsetMs;
  }

  nowMs(): { ms: number; tq: TimeQuality } {
    const sys = this.systemNow();
    const gps = this.gpsNow();
    const sysPlausible = sys >= BUILD_EPOCH_MS;
    if (gps !== undefined && (!sysPlausible || Math.abs(sys - gps) > MAX_SKEW_MS)) return { ms: gps, tq: 'gps' };
    return { ms: sys, tq: sysPlausible ? 'system' : 'unsynced' };
  }

  stamp(): Stamp {
    const { ms, tq } = this.nowMs();
    return { ts: new Date(ms).toISOString(), tq };
  }

  synchronised(): boolean {
    return this.nowMs().tq !== 'unsynced';
  }
}
