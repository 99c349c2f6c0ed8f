/**
 * The `trip-export` phases of `npm run bench` (`--only trip-export`): a 24 h trip through the
 * real TripRecorder (spool, seqs, commits and their chain, the archiving passes, gzip, signing),
 * then its exports and the bundle's verification, each phase in its own process so that its
 * peak RSS (VmHWM) is its own. Cases: 32 probes at 1 Hz (the issue's), and 8 probes at one
 * reading a minute (the README's year of trips), each without GPS and with a fix a second.
 * Readings: a slow daily curve with a tenth of noise and a few ms of polling jitter per probe
 * (test/helpers/trips.ts).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PassThrough } from 'node:stream';
import { tripsExportCommand } from '../../src/cli/trips.ts';
import { verifyBundle } from '../../src/chain/verify-bundle.ts';
import { tripBench, tripConfig } from '../../test/helpers/trips.ts';

export const TRIP_CASES = [
  { probes: 32, everySec: 1, gpsEverySec: 0 },
  { probes: 32, everySec: 1, gpsEverySec: 1 },
  { probes: 8, everySec: 60, gpsEverySec: 0 },
  { probes: 8, everySec: 60, gpsEverySec: 1 },
];
const HOURS = 24;
const hwmMB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

/** Archives one trip into `dir` (a gateway dataDir); the trip file stays for the export phases. */
export async function archiveTrip(dir: string, probes: number, everySec: number, gpsEverySec: number) {
  const b = await tripBench(tripConfig(dir, probes), Date.UTC(2026, 2, 1));
  const trip = b.start();
  b.feed(HOURS, everySec, gpsEverySec || undefined);
  const spoolBytes = statSync(path.join(b.archive.dir, `${trip.id}.spool`)).size;
  const beforeMB = hwmMB();
  const t0 = performance.now();
  await b.end(trip);
  const archiveSec = (performance.now() - t0) / 1000;
  const [entry] = await b.archive.list();
  await b.recorder.close();
  const readings = entry!.header.counts.readings;
  return {
    tripId: trip.id,
    readings,
    positions: entry!.header.counts.positions,
    archived_bytes: entry!.bytes,
    bytes_per_reading: +(entry!.bytes / readings).toFixed(3),
    bytes_per_trip_day: Math.round((entry!.bytes * 24) / HOURS),
    spool_bytes_per_reading: +(spoolBytes / readings).toFixed(1),
    archive_s: +archiveSec.toFixed(1),
    peak_rss_mb_before_archiving: Math.round(beforeMB),
    peak_rss_mb: Math.round(hwmMB()),
    chain_runs: entry!.header.chain?.runs.length ?? 0,
    unchained: entry!.header.chain?.unchained ?? 0,
  };
}

/** `coldgate trips export ID --format FORMAT --out FILE` on the archived trip in `dir`. */
export async function exportTrip(dir: string, format: string) {
  const [file] = readdirSync(path.join(dir, 'trips')).filter((f) => f.endsWith('.trip.gz'));
  const tripId = file!.slice(0, -'.trip.gz'.length);
  const out = path.join(dir, `trip.${format}`);
  const io = { stdout: new PassThrough(), stderr: new PassThrough() };
  io.stderr.resume();
  const t0 = performance.now();
  const code = await tripsExportCommand([tripId, '--format', format, '--data', dir, '--out', out], io);
  if (code !== 0) throw new Error(`trips export --format ${format} exited ${code}`);
  return { format, export_s: +((performance.now() - t0) / 1000).toFixed(1), bytes: statSync(out).size, peak_rss_mb: Math.round(hwmMB()) };
}

/** `coldgate verify` on the bundle exportTrip wrote. */
export async function verifyTrip(dir: string) {
  const t0 = performance.now();
  const report = await verifyBundle(createInterface({ input: createReadStream(path.join(dir, 'trip.bundle'), 'utf8'), crlfDelay: Infinity }));
  if (report.problems.length > 0) throw new Error(`the bundle does not verify: ${report.problems[0]!.message}`);
  return { verify_s: +((performance.now() - t0) / 1000).toFixed(1), records: report.records, signatures: report.signatures.valid, peak_rss_mb: Math.round(hwmMB()) };
}
