import type { TimeQuality } from './types.ts';

/** Before this the system clock cannot be right: boxes without an RTC boot in 1970. */
export const BUILD_EPOCH_MS = Date.UTC(2026, 0, 1);

/** Beyond this the system clock and GPS disagree too much to trust the system clock. */
export const MAX_SKEW_MS = 2000;

export interface Stamp {
  ts: string;
  tq: TimeQuality;
}

/**
 * Stamps records with UTC. The system clock is used while it is plausible and agrees with GPS;
 * otherwise GPS time carried forward on the monotonic clock. Every stamp says which was used.
 */
export class Clock {
  private gpsOffsetMs: number | undefined;
  private gpsObservedMono = 0;

  constructor(
    private readonly systemNow: () => number = Date.now,
    private readonly monoNow: () => number = () => performance.now(),
  ) {}

  /** A GPS receiver reported `utcMs` as the time of a fix that arrived just now. */
  observeGps(utcMs: number): void {
    this.gpsOffsetMs = utcMs - this.monoNow();
    this.gpsObservedMono = this.monoNow();
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
