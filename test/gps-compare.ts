/**
 * Epoch-by-epoch comparison of our TPVs with gpsd's, by the rules in
 * test/fixtures/gpsd/README.md. Used by the fixture conformance test and the live gpsd test.
 */
import { PassThrough } from 'node:stream';
import { gpsDecodeCommand } from '../drivers/gps-nmea/cli-decode.ts';
import type { Tpv } from '../drivers/gps-nmea/tpv.ts';

type TpvLike = Omit<Tpv, 'class'>;

export interface Agreement {
  /** gpsd epochs with a time and mode >= 2. */
  compared: number;
  /** Of those: we reported the same time, lat/lon within 1e-6 degree, speed within 0.01 m/s (where gpsd has a track). */
  agree: number;
  modeAgree: number;
  trackAgree: number;
  altAgree: number;
  statusAgree: number;
  /** Fix epochs we reported at a time gpsd never reported (see the README's rule 3). */
  extra: number;
  /** Epochs gpsd reported only as no-fix (mode < 2) that we reported as a fix. */
  falseFix: number;
  /** Up to a few disagreements, for people. */
  samples: string[];
}

/** gpsd's TPV JSON lines (anything else is skipped) -> one reference per time (README rule 1). */
export function gpsdEpochs(lines: string[]): Map<string, TpvLike> {
  const byTime = new Map<string, TpvLike>();
  for (const line of lines) {
    if (!line.startsWith('{"class":"TPV"')) continue;
    const tpv = JSON.parse(line) as TpvLike;
    if (tpv.time === undefined) continue;
    const prev = byTime.get(tpv.time);
    // A later no-fix report of the same time does not undo the fix gpsd reported.
    if (prev === undefined || tpv.mode >= 2 || prev.mode < 2) byTime.set(tpv.time, tpv);
  }
  return byTime;
}

/** Our TPVs -> the last report per time. */
export function ourEpochs(tpvs: TpvLike[]): Map<string, TpvLike> {
  const byTime = new Map<string, TpvLike>();
  for (const tpv of tpvs) if (tpv.time !== undefined) byTime.set(tpv.time, tpv);
  return byTime;
}

const near = (a: number | undefined, b: number | undefined, tol: number) => a !== undefined && b !== undefined && Math.abs(a - b) <= tol;

export function compareEpochs(gpsd: Map<string, TpvLike>, ours: Map<string, TpvLike>): Agreement {
  const r: Agreement = { compared: 0, agree: 0, modeAgree: 0, trackAgree: 0, altAgree: 0, statusAgree: 0, extra: 0, falseFix: 0, samples: [] };
  for (const [time, ref] of gpsd) {
    if (ref.mode < 2) {
      if ((ours.get(time)?.mode ?? 0) >= 2) r.falseFix++;
      continue;
    }
    r.compared++;
    const got = ours.get(time);
    const position = got !== undefined && near(got.lat, ref.lat, 1e-6) && near(got.lon, ref.lon, 1e-6);
    const speed = ref.track === undefined || near(got?.speed, ref.speed, 0.01);
    if (position && speed) r.agree++;
    if (got?.mode === ref.mode) r.modeAgree++;
    if (ref.track === undefined || near(got?.track, ref.track, 0.01)) r.trackAgree++;
    if (ref.altMSL === undefined ? got?.altMSL === undefined || ref.mode < 3 : near(got?.altMSL, ref.altMSL, 0.01)) r.altAgree++;
    if ((got?.status ?? 1) === (ref.status ?? 1)) r.statusAgree++;
    const same = position && speed && got?.mode === ref.mode && (got?.status ?? 1) === (ref.status ?? 1);
    if (!same && r.samples.length < 5) r.samples.push(`${time}: gpsd ${JSON.stringify(pick(ref))} ours ${JSON.stringify(got && pick(got))}`);
  }
  for (const [time, got] of ours) if (got.mode >= 2 && !gpsd.has(time)) r.extra++;
  return r;
}

/** The compared fields only: gpsd's TPV carries many more. */
function pick(t: TpvLike): Partial<TpvLike> {
  return Object.fromEntries((['mode', 'lat', 'lon', 'speed', 'track', 'altMSL', 'status'] as const).map((k) => [k, t[k]]));
}

export const pct = (n: number, d: number) => (d === 0 ? '100.0' : ((100 * n) / d).toFixed(1));

/** Runs `coldgate gps decode` in-process; stdout and stderr as text. */
export async function runDecode(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on('data', (c: Buffer) => chunks.out.push(c));
  err.on('data', (c: Buffer) => chunks.err.push(c));
  const code = await gpsDecodeCommand(argv, { stdout: out, stderr: err });
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}
