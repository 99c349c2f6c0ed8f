import type { Gga, Gll, Gns, Rmc, Vtg } from './sentences.ts';

/** One epoch's sentences, the latest of each kind (GSA can come once per constellation). */
export interface EpochParts {
  rmc?: Rmc;
  gga?: Gga;
  gns?: Gns;
  gll?: Gll;
  vtg?: Vtg;
  gsaModes: number[];
}

/** What an epoch says about the fix, in gpsd's TPV terms, before it gets a date. */
export interface FixCore {
  /** 0 unknown, 1 no fix, 2 2D, 3 3D. */
  mode: 0 | 1 | 2 | 3;
  lat?: number;
  lon?: number;
  /** m/s */
  speed?: number;
  /** degrees true */
  track?: number;
  /** metres above mean sea level; only in 3D */
  altMSL?: number;
  /** gpsd's status: 1 normal, 2 DGPS, 3 RTK fixed, 4 RTK float, 5 dead reckoning, ... */
  status?: number;
}

/**
 * Merges one epoch into one fix, as gpsd's TPV does.
 * - A fix needs a sentence that says it is valid AND carries the position (GGA quality > 0,
 *   RMC/GLL status A, GNS with a mode other than N). Its position comes from the first such of
 *   GGA, GNS, RMC, GLL. No such sentence: no fix (1) if any says so, else unknown (0).
 * - An RMC or GLL with status V vetoes the epoch: a receiver coasting on dead reckoning says
 *   GGA quality 6 and RMC V in the same second, and an estimate is not a fix.
 * - Dimension: the receiver's GSA when it says 2 or 3; otherwise 3D when an altitude came with
 *   the fix (GGA/GNS), 2D when a GGA/GNS came without one. An epoch with none of these (its GGA
 *   was lost to a bad checksum, or the receiver sends RMC only) keeps the previous fix's
 *   dimension, as gpsd does: RMC says nothing about it. No previous fix: 2D.
 *
 *   { rmc: A at 55.79N 23.56E, 0.13 m/s; gga: quality 1, alt 37.0; gsaModes: [3] }
 *     -> { mode: 3, lat: 55.79.., lon: 23.56.., speed: 0.13, altMSL: 37, status: 1 }
 *   { rmc: V; gga: quality 0 (with a stale lat/lon) }  -> { mode: 1 }
 *   { rmc: V, mode E; gga: quality 6 at 41.72N 83.63W } -> { mode: 1 }
 */
export function mergeEpoch(p: EpochParts, prevMode: FixCore['mode'] = 0): FixCore {
  const gga = p.gga && p.gga.quality !== undefined && p.gga.quality > 0 ? p.gga : undefined;
  const gns = p.gns && p.gns.modes !== undefined && /[^N]/.test(p.gns.modes) ? p.gns : undefined;
  const rmc = p.rmc && p.rmc.valid && p.rmc.faa !== 'N' ? p.rmc : undefined;
  const gll = p.gll && p.gll.valid && p.gll.faa !== 'N' ? p.gll : undefined;
  const vtg = p.vtg && p.vtg.faa !== 'N' ? p.vtg : undefined;
  const vetoed = p.rmc?.valid === false || p.gll?.valid === false;
  const pos = vetoed ? undefined : [gga, gns, rmc, gll].find((s) => s?.lat !== undefined && s.lon !== undefined);
  const gsaMode = p.gsaModes.length > 0 ? Math.max(...p.gsaModes) : undefined;

  if (pos === undefined || pos.lat === undefined || pos.lon === undefined) {
    const saysNoFix = p.gga !== undefined || p.gns !== undefined || p.rmc !== undefined || p.gll !== undefined || gsaMode === 1;
    return { mode: saysNoFix ? 1 : 0 };
  }
  const altMSL = gga?.altMSL ?? gns?.altMSL;
  const mode = gsaMode === 2 || gsaMode === 3 ? gsaMode : altMSL !== undefined ? 3 : gga || gns ? 2 : prevMode === 3 ? 3 : 2;
  return {
    mode,
    lat: pos.lat,
    lon: pos.lon,
    speed: rmc?.speed ?? vtg?.speed,
    track: rmc?.track ?? vtg?.track,
    altMSL: mode === 3 ? altMSL : undefined,
    status: statusOf(gga, gns, rmc ?? gll),
  };
}

/** GGA quality indicator -> gpsd status (3 is a PPS fix, which gpsd counts as a plain fix). */
const GGA_STATUS = [0, 1, 2, 1, 3, 4, 5, 7, 8];
/** FAA mode indicator (RMC, GLL, VTG, GNS) -> gpsd status. */
const FAA_STATUS: Record<string, number> = { A: 1, D: 2, E: 5, F: 4, M: 7, N: 0, P: 9, R: 3, S: 8 };

function statusOf(gga: Gga | undefined, gns: Gns | undefined, rmcOrGll: Rmc | Gll | undefined): number {
  if (gga?.quality !== undefined) return GGA_STATUS[gga.quality] ?? 1;
  if (gns?.modes !== undefined) return Math.max(...[...gns.modes].map((c) => FAA_STATUS[c] ?? 1));
  if (rmcOrGll?.faa !== undefined) return FAA_STATUS[rmcOrGll.faa] ?? 1;
  return 1;
}
