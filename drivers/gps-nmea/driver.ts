import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GpsConfig } from '../../src/config/schema-gps.ts';
import { BUILD_EPOCH_MS, GPS_TRUST_FIXES, type Clock, type GpsVerdict } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/log.ts';
import type { DeviceHealth, PositionDraft, SampleSink, TimeQuality } from '../../src/core/types.ts';
import { NmeaDecoder } from './decoder.ts';
import type { Fix } from './epoch.ts';
import { assessHealth, type LinkStatus } from './health.ts';
import { decideSample, type Sampled } from './rate.ts';
import { linkFor, type Connect, type Link } from './sources/index.ts';
import { round, toTpv } from './tpv.ts';

export interface GpsDriver {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): DeviceHealth;
  latest(): PositionDraft | undefined;
}

export interface GpsDeps {
  sink: SampleSink;
  clock: Clock;
  log: Logger;
}

/** Quiet this long after bytes: the receiver has sent its epoch, so report it without waiting for the next. */
const EPOCH_IDLE_MS = 150;
/** How often health is checked for changes worth a log line, and silence for a link worth reopening. */
const WATCH_MS = 250;
/** stop() gives an open in progress this long; it closes itself when it completes. */
const STOP_GRACE_MS = 800;

/** Reconnect delays: 250 ms, 500 ms, 1 s, 2 s, ... up to `maxMs`. */
export function backoffMs(attempt: number, maxMs: number): number {
  return Math.min(maxMs, 250 * 2 ** Math.min(attempt, 16));
}

/**
 * NMEA receiver -> position samples. Keeps the link open (reopening with backoff when it is
 * absent or lost), turns each epoch into a fix, feeds GPS time to the clock, and emits 2D/3D
 * fixes as position samples per the rate rule. A no-fix is never a position.
 */
export function createGpsDriver(cfg: GpsConfig, deps: GpsDeps): GpsDriver {
  return new NmeaGpsDriver(cfg, deps);
}

class NmeaGpsDriver implements GpsDriver {
  private readonly connect: Connect;
  private readonly log: Logger;
  private readonly decoder = new NmeaDecoder({ year: new Date(Math.max(Date.now(), BUILD_EPOCH_MS)).getUTCFullYear(), yearFromHeader: true });
  private readonly status: LinkStatus;
  private running = false;
  private stopping = new AbortController();
  private stopped: Promise<string> = Promise.resolve('stopped');
  private openedMs = 0;
  private loop: Promise<void> | undefined;
  private link: Link | undefined;
  private dropLink: ((reason: string) => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private lastSample: Sampled | undefined;
  private lastPosition: PositionDraft | undefined;
  private lastHealth = '';
  private timeTrusted = false;
  /** A capture replayed as fast as possible runs ahead of the monotonic clock: its times are the fixes', never the box's. */
  private readonly timeSource: boolean;

  constructor(
    private readonly cfg: GpsConfig,
    private readonly deps: GpsDeps,
  ) {
    this.connect = linkFor(cfg);
    this.timeSource = !(cfg.source.startsWith('file:') && cfg.replay === 'fast');
    this.log = deps.log.child({ device: 'gps', source: cfg.source });
    this.status = { source: cfg.source, phase: 'starting', startedMs: performance.now(), reconnects: 0, timeRejected: 0, stats: this.decoder.stats };
  }

  /** Returns at once: an absent port is reported offline and retried in the background. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    const signal = this.stopping.signal;
    this.stopped = new Promise((resolve) => signal.addEventListener('abort', () => resolve('stopped'), { once: true }));
    this.status.phase = 'starting';
    this.status.startedMs = performance.now();
    this.watchTimer = setInterval(() => this.watch(), WATCH_MS);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopping.abort();
    clearInterval(this.watchTimer);
    clearTimeout(this.idleTimer);
    const link = this.link;
    this.link = undefined;
    await Promise.race([Promise.all([link?.close(), this.loop]), sleep(STOP_GRACE_MS)]);
    this.status.phase = 'stopped';
    this.log.info({ event: 'gps.stopped' }, 'gps driver stopped');
  }

  health(): DeviceHealth {
    return assessHealth(this.status, performance.now(), this.cfg);
  }

  latest(): PositionDraft | undefined {
    return this.lastPosition;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (this.running) {
      const opened = await this.session(attempt);
      if (!this.running) break;
      if (opened) attempt = 0;
      await sleep(backoffMs(attempt++, this.cfg.reconnectMaxMs), undefined, { signal: this.stopping.signal }).catch(() => undefined);
    }
  }

  /** One open-read-lose cycle. Returns whether the link opened. */
  private async session(attempt: number): Promise<boolean> {
    let link: Link;
    const lost = new Promise<string>((resolve) => (this.dropLink = resolve));
    try {
      link = await this.connect({ data: (chunk) => this.onData(chunk), lost: (reason) => this.dropLink?.(reason) });
    } catch (err) {
      const error = (err as Error).message;
      const changed = error !== this.status.lastError || this.status.phase !== 'offline';
      this.status.phase = 'offline';
      this.status.lastError = error;
      const retryInMs = backoffMs(attempt, this.cfg.reconnectMaxMs);
      // The first failure and any new reason are worth a warning; the same one every few seconds is not.
      this.log[changed ? 'warn' : 'debug']({ event: 'gps.open_failed', err: error, attempt, retryInMs }, 'gps port unavailable, retrying');
      return false;
    }
    if (!this.running) {
      await link.close();
      return true;
    }
    this.link = link;
    this.openedMs = performance.now();
    if (this.status.phase !== 'online') this.status.lastByteMs = this.openedMs;
    this.status.phase = 'online';
    this.status.lastError = undefined;
    this.log.info({ event: 'gps.open' }, 'gps link open');
    const reason = await Promise.race([lost, this.stopped]);
    if (!this.running) return true;
    this.link = undefined;
    await link.close();
    this.onFixes(this.decoder.end());
    this.status.reconnects++;
    if (reason === SILENT) {
      this.log.warn({ event: 'gps.silent', silentAfterMs: this.cfg.silentAfterMs }, 'gps receiver silent, reopening the link');
    } else {
      this.status.phase = 'offline';
      this.status.lastError = reason;
      this.log.warn({ event: 'gps.lost', err: reason }, 'gps link lost, reconnecting');
    }
    return true;
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    this.status.lastByteMs = now;
    this.onFixes(this.decoder.push(chunk, now));
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.onFixes(this.decoder.flush()), EPOCH_IDLE_MS);
  }

  private onFixes(fixes: Fix[]): void {
    for (const fix of fixes) this.onFix(fix);
  }

  private onFix(fix: Fix): void {
    this.status.lastMode = fix.mode;
    if (fix.mode < 2 || fix.lat === undefined || fix.lon === undefined) return;
    const { lat, lon } = fix;
    const now = performance.now();
    // A date before the build is a receiver's GPS-week rollover or an old replay: not a clock.
    const dated = fix.timeMs !== undefined && fix.timeMs >= BUILD_EPOCH_MS ? fix.timeMs : undefined;
    // Clock.observeGps wants the time of a fix arriving now: add how long the epoch took to arrive.
    const verdict = dated !== undefined && this.timeSource ? this.deps.clock.observeGps(dated + (now - (fix.rxMs ?? now))) : undefined;
    if (verdict !== undefined) this.noteTime(verdict, dated!);
    // A time the clock rejected is not believed for the fix's own record either: it is stamped like an undated fix.
    const gpsMs = verdict?.verdict === 'rejected' ? undefined : dated;
    const stamp = this.deps.clock.stamp();
    this.status.lastFixMs = now;
    this.status.lastFixAt = stamp.ts;
    const draft = gpsMs !== undefined ? positionDraft(fix, lat, lon, new Date(gpsMs).toISOString(), 'gps') : positionDraft(fix, lat, lon, stamp.ts, stamp.tq);
    this.lastPosition = draft;
    const decision = decideSample(this.lastSample, { gpsMs, monoMs: now, lat, lon, speed: fix.speed }, this.cfg);
    if (!decision.emit) return;
    this.lastSample = { gpsMs, monoMs: now, moving: decision.moving, lat, lon };
    this.deps.sink(draft);
  }

  /** Counts and logs what the clock made of a fix's time: an outlier is worth one warning, not one a second. */
  private noteTime(v: GpsVerdict, gpsMs: number): void {
    const gpsTime = new Date(gpsMs).toISOString();
    if (v.verdict === 'rejected') {
      this.status.timeRejected++;
      const first = this.status.timeRejected === 1;
      this.log[first ? 'warn' : 'debug']({ event: 'gps.time_rejected', gpsTime, offByMs: Math.round(v.offByMs), rejected: this.status.timeRejected }, 'gps time disagrees with the trusted time, ignored');
    } else if (v.verdict === 'trusted' && v.steppedMs !== undefined) {
      this.log.warn({ event: 'gps.time_step', gpsTime, stepMs: Math.round(v.steppedMs) }, `gps time stepped after ${GPS_TRUST_FIXES} agreeing fixes`);
    } else if (v.verdict === 'trusted' && !this.timeTrusted) {
      this.log.info({ event: 'gps.time_trusted', gpsTime }, 'gps time trusted');
    }
    this.timeTrusted ||= v.verdict === 'trusted';
  }

  private watch(): void {
    const h = this.health();
    const key = `${h.state}|${h.silent}|${h.stale}`;
    if (key !== this.lastHealth) {
      this.lastHealth = key;
      this.log[h.state === 'ok' || h.state === 'starting' ? 'info' : 'warn']({ event: 'gps.health', state: h.state, silent: h.silent, stale: h.stale, detail: h.detail }, `gps ${h.state}`);
    }
    // A port that vanished without a close event, or a TCP peer gone half-open, only shows as silence.
    const openFor = performance.now() - this.openedMs;
    if (h.silent && this.link !== undefined && openFor > this.cfg.silentAfterMs && !this.cfg.source.startsWith('file:')) this.dropLink?.(SILENT);
  }
}

const SILENT = 'silent';

/** A fix as a position sample: gpsd's names, units and printed precision. */
function positionDraft(fix: Fix, lat: number, lon: number, ts: string, tq: TimeQuality): PositionDraft {
  const { speed, track, altMSL } = toTpv(fix);
  return { kind: 'position', ts, tq, mode: fix.mode, lat: round(lat, 9), lon: round(lon, 9), ...defined({ speed, track, altMSL }) };
}

/** Leaves unknown fields out rather than carrying them as undefined into the journal. */
function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
