import type { GpsConfig } from '../../src/config/schema-gps.ts';
import type { DeviceHealth } from '../../src/core/types.ts';
import type { DecodeStats } from './decoder.ts';

/** What the driver knows about its link, on the monotonic clock (ms). */
export interface LinkStatus {
  source: string;
  phase: 'starting' | 'online' | 'offline' | 'stopped';
  /** When the driver started: silence and staleness count from here until there is a byte or a fix. */
  startedMs: number;
  /** The last byte, or the link opening after a loss (a fresh link has had no chance to talk yet). */
  lastByteMs?: number;
  lastFixMs?: number;
  /** Wall-clock stamp of the last valid fix. */
  lastFixAt?: string;
  lastMode?: number;
  lastError?: string;
  reconnects: number;
  /** Fixes whose time the clock rejected as disagreeing with the trusted GPS time. */
  timeRejected: number;
  stats: DecodeStats;
}

/**
 * Health for the display and the rules' device alarms:
 * - offline: the port is absent or was lost (the driver keeps retrying);
 * - degraded: open but silent (no bytes for silentAfterMs) or stale (no valid fix for staleAfterMs);
 * - starting: open, talking, no fix yet and not yet stale;
 * - ok: bytes flowing and a fresh fix.
 *
 *   online, last byte 1 s ago, last fix 12 s ago, staleAfterMs 10000 -> { state: "degraded", silent: false, stale: true }
 */
export function assessHealth(s: LinkStatus, nowMs: number, cfg: Pick<GpsConfig, 'silentAfterMs' | 'staleAfterMs'>): DeviceHealth {
  const silent = s.phase === 'online' && nowMs - (s.lastByteMs ?? s.startedMs) > cfg.silentAfterMs;
  const stale = s.phase !== 'starting' && nowMs - (s.lastFixMs ?? s.startedMs) > cfg.staleAfterMs;
  const state = stateOf(s, silent, stale);
  const health: DeviceHealth = {
    id: 'gps',
    kind: 'gps',
    state,
    source: s.source,
    online: s.phase === 'online',
    silent,
    stale,
    mode: s.lastMode ?? 0,
    reconnects: s.reconnects,
    timeRejected: s.timeRejected,
    sentences: s.stats.sentences,
    errors: s.stats.badChecksum + s.stats.cut + s.stats.malformed,
  };
  const detail = s.phase === 'offline' ? `port unavailable${s.lastError ? `: ${s.lastError}` : ''}` : silent ? 'no data from the receiver' : stale ? 'no valid fix' : undefined;
  if (detail !== undefined) health.detail = detail;
  if (s.lastFixAt !== undefined) health.lastOkAt = s.lastFixAt;
  return health;
}

function stateOf(s: LinkStatus, silent: boolean, stale: boolean): DeviceHealth['state'] {
  if (s.phase === 'starting') return 'starting';
  if (s.phase !== 'online') return 'offline';
  if (silent || stale) return 'degraded';
  return s.lastFixMs === undefined ? 'starting' : 'ok';
}
