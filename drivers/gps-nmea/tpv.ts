import type { Fix } from './epoch.ts';
import type { FixCore } from './merge.ts';

/** gpsd's TPV report: its field names and units; `time` is ISO 8601 UTC. */
export type Tpv = { class: 'TPV'; time?: string } & FixCore;

/**
 * A fix as gpsd would print it, with gpsd's printed precision; unknown fields are left out, never 0.
 *   { mode: 3, timeMs: 1260372305000, lat: 55.7970188333, lon: 23.5690216667, speed: 0.13015, status: 1 }
 *   -> { class: "TPV", time: "2009-12-09T15:25:05.000Z", mode: 3, lat: 55.797018833, lon: 23.569021667, speed: 0.13, status: 1 }
 */
export function toTpv(fix: Fix): Tpv {
  const tpv: Tpv = { class: 'TPV', mode: fix.mode };
  if (fix.timeMs !== undefined) tpv.time = new Date(fix.timeMs).toISOString();
  if (fix.lat !== undefined) tpv.lat = round(fix.lat, 9);
  if (fix.lon !== undefined) tpv.lon = round(fix.lon, 9);
  if (fix.speed !== undefined) tpv.speed = round(fix.speed, 3);
  if (fix.track !== undefined) tpv.track = round(fix.track, 4);
  if (fix.altMSL !== undefined) tpv.altMSL = round(fix.altMSL, 4);
  if (fix.status !== undefined) tpv.status = fix.status;
  return tpv;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
