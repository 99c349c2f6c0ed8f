import type { GpsConfig } from '../../src/config/schema-gps.ts';

type RateConfig = Pick<GpsConfig, 'movingIntervalMs' | 'parkedIntervalMs' | 'movingSpeedMs'>;

/** The last fix that became a sample. Times are GPS UTC when the fix had one, else the caller's monotonic clock. */
export interface Sampled {
  gpsMs?: number;
  monoMs: number;
  moving: boolean;
  lat: number;
  lon: number;
}

export interface Candidate {
  gpsMs?: number;
  monoMs: number;
  lat: number;
  lon: number;
  speed?: number;
}

/**
 * The rate rule: a fix becomes a position sample when
 * - it is the first, or time went backwards (a replay restarted);
 * - never twice for one epoch (a late sentence can make it be reported again);
 * - the vehicle started or stopped moving (so the journal has where it parked and when it left);
 * - movingIntervalMs passed while moving, or parkedIntervalMs while parked.
 * Moving means speed >= movingSpeedMs; a receiver that sends no speed (GGA only) is judged by
 * the distance covered since the last sample.
 *
 * With the defaults (1 s moving, 60 s parked, 1 m/s), a 1 Hz receiver gives:
 *   parked fixes at t = 0, 1, ..., 59, 60 s        -> samples at 0 and 60
 *   then 5 m/s at t = 61, 62                       -> samples at 61 (started moving) and 62
 *   then 0 m/s at t = 63                           -> sample at 63 (stopped), next at 123
 */
export function decideSample(prev: Sampled | undefined, fix: Candidate, cfg: RateConfig): { emit: boolean; moving: boolean } {
  if (prev === undefined) return { emit: true, moving: (fix.speed ?? 0) >= cfg.movingSpeedMs };
  const elapsedMs = prev.gpsMs !== undefined && fix.gpsMs !== undefined ? fix.gpsMs - prev.gpsMs : fix.monoMs - prev.monoMs;
  if (elapsedMs === 0) return { emit: false, moving: prev.moving };
  const speed = fix.speed ?? (elapsedMs > 0 ? (distanceM(prev, fix) * 1000) / elapsedMs : 0);
  const moving = speed >= cfg.movingSpeedMs;
  const interval = moving ? cfg.movingIntervalMs : cfg.parkedIntervalMs;
  return { emit: elapsedMs < 0 || moving !== prev.moving || elapsedMs >= interval, moving };
}

/** Equirectangular distance: exact enough over the few hundred metres between two samples. */
export function distanceM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const x = (b.lon - a.lon) * rad * Math.cos(((a.lat + b.lat) / 2) * rad);
  const y = (b.lat - a.lat) * rad;
  return Math.hypot(x, y) * 6_371_000;
}
