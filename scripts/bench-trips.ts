/**
 * Trip archive sizing: `npx tsx scripts/bench-trips.ts`. One 24 h trip through the real
 * TripRecorder (spool, seqs, the two-pass archiving, gzip) per case, each in its own process so
 * that its peak RSS (VmHWM) is its own: 8 probes at one reading a minute, and 32 probes at 1 Hz,
 * each without GPS and with a fix a second (positions are kept whole: they cost more than readings).
 * Readings: a slow daily curve with a tenth of noise and a few ms of polling jitter per probe
 * (test/helpers/trips.ts). Prints the archived bytes per reading and per trip-day, the spool's
 * size at trip end, how long archiving took and the process's peak RSS before and after it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tripBench, tripConfig } from '../test/helpers/trips.ts';

const CASES = [
  { probes: 8, everySec: 60, gpsEverySec: 0 },
  { probes: 8, everySec: 60, gpsEverySec: 1 },
  { probes: 32, everySec: 1, gpsEverySec: 0 },
  { probes: 32, everySec: 1, gpsEverySec: 1 },
];
const HOURS = 24;
const hwmMB = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

async function one(probes: number, everySec: number, gpsEverySec: number) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coldgate-bench-trips-'));
  try {
    const b = await tripBench(tripConfig(dir, probes), Date.UTC(2026, 2, 1));
    const trip = b.start();
    b.feed(HOURS, everySec, gpsEverySec || undefined);
    const spoolBytes = statSync(path.join(b.archive.dir, `${trip.id}.spool`)).size;
    const beforeMB = hwmMB();
    const t0 = performance.now();
    await b.end(trip);
    const archiveSec = (performance.now() - t0) / 1000;
    const [entry] = await b.archive.list();
    const readings = entry!.header.counts.readings;
    await b.recorder.close();
    return { probes, everySec, gpsEverySec, readings, positions: entry!.header.counts.positions, bytes: entry!.bytes, bytesPerReading: +(entry!.bytes / readings).toFixed(3), bytesPerTripDay: Math.round((entry!.bytes * 24) / HOURS), spoolBytes, spoolBytesPerReading: +(spoolBytes / readings).toFixed(1), archiveSec: +archiveSec.toFixed(1), peakRssMBBeforeArchiving: Math.round(beforeMB), peakRssMB: Math.round(hwmMB()) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SELF = fileURLToPath(import.meta.url);
if (process.argv[2] === '--case') {
  const [probes, everySec, gps] = process.argv.slice(3).map(Number);
  process.stdout.write(`${JSON.stringify(await one(probes!, everySec!, gps!))}\n`);
} else {
  const json = process.argv.includes('--json');
  const results = CASES.map((c) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', SELF, '--case', String(c.probes), String(c.everySec), String(c.gpsEverySec)]).toString()) as Awaited<ReturnType<typeof one>>);
  if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
  else
    for (const r of results)
      console.log(
        `trip archive, ${r.probes} probes every ${r.everySec} s${r.gpsEverySec ? `, a GPS fix every ${r.gpsEverySec} s` : ', no GPS'}, ${HOURS} h: ${r.readings} readings, ${r.positions} positions, ${r.bytes} bytes archived = ${r.bytesPerReading} B/reading, ${r.bytesPerTripDay} B per trip-day; spool ${r.spoolBytes} bytes (${r.spoolBytesPerReading} B/reading); archiving ${r.archiveSec} s, peak RSS ${r.peakRssMBBeforeArchiving} -> ${r.peakRssMB} MB`,
      );
}
