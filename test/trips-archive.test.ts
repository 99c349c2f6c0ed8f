import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { tripRecords } from '../src/trips/archive-file.ts';
import { PRUNED_LOG, tripRecord } from '../src/trips/archive.ts';
import { csvField } from '../src/trips/csv.ts';
import { tripsExportCommand, tripsListCommand, tripsShowCommand } from '../src/cli/trips.ts';
import { runCli } from './helpers/cli.ts';
import { canMount, SmallTmpfs } from './helpers/faulty-disk.ts';
import { tempDir } from './helpers/tmp.ts';
import { tripBench, tripConfig } from './helpers/trips.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 2, 1, 6);
let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});
const tmp = () => {
  const t = tempDir('coldgate-trips-');
  cleanups.push(t.cleanup);
  return t.dir;
};

const prunedLog = (dir: string) =>
  existsSync(path.join(dir, PRUNED_LOG))
    ? readFileSync(path.join(dir, PRUNED_LOG), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tripId: string; reason: string; endedAt: string })
    : [];

describe('trip archive: a simulated year at a fast clock', () => {
  it('keeps 400 days of daily trips and prunes older ones by age, logged in pruned.ndjson and as archive.pruned events', async () => {
    const b = await tripBench(tripConfig(tmp(), 8), T0);
    const ids: string[] = [];
    for (let day = 0; day < 430; day++) {
      b.now = T0 + day * DAY;
      ids.push(await b.trip(2, 60));
    }
    const kept = await b.archive.list();
    const oldestAllowed = b.now - 400 * DAY;
    expect(kept.every((e) => Date.parse(e.header.endedAt) >= oldestAllowed)).toBe(true);
    expect(kept.length).toBeGreaterThanOrEqual(399);
    expect(kept.length).toBeLessThanOrEqual(401);
    const pruned = prunedLog(b.archive.dir);
    // Exactly the oldest trips, oldest first, each once, and no file left of them.
    expect(pruned.map((p) => p.tripId)).toEqual(ids.slice(0, ids.length - kept.length));
    expect(pruned.every((p) => p.reason === 'age')).toBe(true);
    expect(readdirSync(b.archive.dir).filter((f) => pruned.some((p) => f.startsWith(p.tripId)))).toEqual([]);
    const events = b.events.filter((e) => e.type === 'archive.pruned');
    expect(events.flatMap((e) => (e.data!.trips as { tripId: string }[]).map((t) => t.tripId))).toEqual(pruned.map((p) => p.tripId));
    await b.recorder.close();
  }, 120_000);

  it('stays within maxBytes by pruning the oldest trips first', async () => {
    const maxBytes = 1024 * 1024;
    const b = await tripBench(tripConfig(tmp(), 24, { maxBytes, maxTripBytes: maxBytes }), T0);
    let most = 0;
    const ids: string[] = [];
    for (let day = 0; day < 150; day++) {
      b.now = T0 + day * DAY;
      ids.push(await b.trip(12, 60));
      most = Math.max(most, await b.archive.bytes());
    }
    expect(most).toBeLessThanOrEqual(maxBytes);
    const kept = await b.archive.list();
    const pruned = prunedLog(b.archive.dir);
    expect(pruned.length).toBeGreaterThan(0);
    expect(pruned.every((p) => p.reason === 'bytes')).toBe(true);
    expect([...pruned.map((p) => p.tripId), ...kept.map((e) => e.header.tripId)]).toEqual(ids);
    await b.recorder.close();
  }, 120_000);
});

describe('trip archive: one trip', () => {
  it('keeps every reading with its seq, in a file a half-written copy of which is never listed', async () => {
    const b = await tripBench(tripConfig(tmp(), 8), T0);
    const id = await b.trip(1, 60);
    const [entry] = await b.archive.list();
    expect(entry!.header.tripId).toBe(id);
    expect(entry!.header.counts).toEqual({ readings: 480, good: 480, positions: 0, unsequenced: 0, dropped: 0 });
    const records = [];
    for await (const chunk of tripRecords(entry!.file)) records.push(...chunk);
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 480 }, (_, i) => i + 1));
    expect(entry!.header.probes[0]).toEqual({ id: 'p0', compartment: 'chiller', bus: 'b', unit: 1, address: 0, profile: 'int16-tenths' });
    // A writer killed mid-file leaves only its temporary name: not listed, by a fresh reader either.
    writeFileSync(path.join(b.archive.dir, `.van-1-x.123.tmp`), readFileSync(entry!.file).subarray(0, 100));
    const { TripArchive } = await import('../src/trips/archive.ts');
    const { silentLogger } = await import('../src/core/log.ts');
    const fresh = new TripArchive(b.archive.dir, b.cfg.archive, silentLogger);
    expect((await fresh.list()).map((e) => e.header.tripId)).toEqual([id]);
    await b.recorder.close();
    // The next start clears it away.
    const again = await tripBench(b.cfg, b.now);
    expect(readdirSync(again.archive.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await again.recorder.close();
  });

  it('a spool left by a box whose rules state was lost is archived at the next start, marked as without report', async () => {
    const dir = tmp();
    const cfg = tripConfig(dir, 2);
    const b = await tripBench(cfg, T0);
    b.recorder.onEvent({ kind: 'event', ts: new Date(T0).toISOString(), tq: 'system', type: 'trip.started', severity: 'info', source: 'van-1', message: '', data: { tripId: 'van-1-lost' } });
    b.recorder.take([{ kind: 'temperature', ts: new Date(T0).toISOString(), tq: 'system', probe: 'p0', value: 4, quality: 'good' }]);
    await b.recorder.close();
    // A torn last line, as after a power loss mid-write.
    appendFileSync(path.join(b.archive.dir, 'van-1-lost.spool'), '{"b":2,"t0":17');
    const again = await tripBench(cfg, T0 + 60_000);
    const [entry] = await again.archive.list();
    expect(entry!.header.report).toBeNull();
    expect(entry!.header.counts.readings).toBe(1);
    expect(entry!.header.counts.unsequenced).toBe(1);
    expect(entry!.header.incomplete!.join(' ')).toMatch(/end was not recorded.*1 torn spool line/);
    expect(readdirSync(again.archive.dir).filter((f) => f.endsWith('.spool'))).toEqual([]);
    await again.recorder.close();
  });

  it('a trip that ended while the box was stopped before archiving it is archived, with its report, at the next start', async () => {
    const dir = tmp();
    const cfg = tripConfig(dir, 1);
    const { SpoolWriter } = await import('../src/trips/spool.ts');
    const { newTrip, tripReport } = await import('../src/trips/trip.ts');
    mkdirSync(path.join(dir, 'trips'));
    const spool = new SpoolWriter(path.join(dir, 'trips', 'van-1-ended.spool'), { trip: 'van-1-ended', startedAt: new Date(T0).toISOString(), probes: [{ id: 'p0', compartment: 'chiller' }] }, { maxBytes: 1 << 20, syncMs: undefined, onError: () => undefined });
    const b0 = spool.readings([{ i: 0, draft: { kind: 'temperature', ts: new Date(T0).toISOString(), tq: 'gps', probe: 'p0', value: 4.5, quality: 'good' } }], T0);
    spool.seqs(b0!, 41);
    spool.end(tripReport(newTrip('van-1-ended', 'driver', T0, []), [], { gatewayId: 'van-1', by: 'driver', nowMs: T0 + 60_000 }));
    spool.close();
    const b = await tripBench(cfg, T0 + 120_000);
    const [entry] = await b.archive.list();
    expect([entry!.header.tripId, entry!.header.report?.endedBy, entry!.header.endedAt, entry!.header.incomplete]).toEqual(['van-1-ended', 'driver', new Date(T0 + 60_000).toISOString(), undefined]);
    const records = [];
    for await (const chunk of tripRecords(entry!.file)) records.push(...chunk);
    expect(records).toEqual([{ kind: 'temperature', ts: new Date(T0).toISOString(), tq: 'gps', probe: 'p0', compartment: 'chiller', value: 4.5, quality: 'good', seq: 41 }]);
    await b.recorder.close();
  });

  it('exports CSV that Python csv reads back with one row per reading', async () => {
    const dir = tmp();
    const b = await tripBench(tripConfig(dir, 8), T0);
    const id = await b.trip(2, 60);
    const out = path.join(dir, 'trip.csv');
    const r = await runCli(tripsExportCommand, [id, '--format', 'csv', '--data', dir, '--out', out]);
    expect(r.code).toBe(0);
    const py = 'import csv,sys,json; rows=list(csv.reader(open(sys.argv[1], newline=""))); print(json.dumps({"n": len(rows), "head": rows[0], "first": rows[1]}))';
    const parsed = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, out]).toString()) as { n: number; head: string[]; first: string[] };
    expect(parsed.n).toBe(1 + 8 * 120);
    expect(parsed.head).toEqual(['gateway', 'trip', 'compartment', 'probe', 'time_utc', 'value_c', 'quality', 'time_source', 'seq', 'bill_of_lading', 'order', 'sscc', 'lots']);
    expect(parsed.first).toEqual(['van-1', id, 'chiller', 'p0', expect.stringMatching(/^2026-03-01T06:00:00\.0\d\dZ$/), expect.stringMatching(/^[23](\.\d)?$/), 'good', 'system', '1', '', '', '', '']);
    await b.recorder.close();
  });

  it('trips list filters by --since, trips show names what is wrong with an id', async () => {
    const dir = tmp();
    const b = await tripBench(tripConfig(dir, 2), T0);
    await b.trip(1, 60);
    b.now = T0 + 3 * DAY;
    const later = await b.trip(1, 60);
    const list = await runCli(tripsListCommand, ['--json', '--data', dir, '--since', new Date(T0 + 2 * DAY).toISOString().slice(0, 10)]);
    expect((JSON.parse(list.out) as { tripId: string }[]).map((t) => t.tripId)).toEqual([later]);
    expect((await runCli(tripsListCommand, ['--data', dir, '--since', 'yesterday'])).code).toBe(2);
    expect(await runCli(tripsShowCommand, ['../x', '--data', dir])).toMatchObject({ code: 2, err: expect.stringMatching(/bad trip id "..\/x"/) });
    expect(await runCli(tripsShowCommand, ['van-1-none', '--data', dir])).toMatchObject({ code: 1, err: expect.stringMatching(/no trip van-1-none in/) });
    expect(await runCli(tripsListCommand, ['--data', path.join(dir, 'nowhere')])).toMatchObject({ code: 2, err: expect.stringMatching(/no trip archive in/) });
    await b.recorder.close();
  });

  it('quotes CSV fields as RFC 4180 says', () => {
    expect([csvField('a,b'), csvField('say "hi"'), csvField('two\nlines'), csvField(null), csvField(4.5)]).toEqual(['"a,b"', '"say ""hi"""', '"two\nlines"', '', '4.5']);
  });

  it('get-trip replies stay within their bound for a trip with many alarms', async () => {
    const b = await tripBench(tripConfig(tmp(), 1), T0);
    await b.trip(1, 60);
    const [entry] = await b.archive.list();
    const alarm = { id: 'a', key: 'k', type: 'temperature' as const, severity: 'critical' as const, source: 'chiller', message: 'x'.repeat(500), raisedAt: '', latched: true, active: false, data: {} };
    const big = { ...entry!.header, report: { ...entry!.header.report!, alarms: Array.from({ length: 2000 }, () => alarm) } };
    const r = tripRecord(big, 256 * 1024);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(256 * 1024);
    expect(r.truncated).toMatch(/first 20 alarms/);
    expect(tripRecord(entry!.header, 256 * 1024)).toEqual({ trip: entry!.header });
    await b.recorder.close();
  });
});

describe.runIf(canMount())('trip archive on a full disk', () => {
  it('keeps the readings taking their way to the journal, counts what it could not spool, logs once, and archives the trip once there is room', async () => {
    const dir = tmp();
    const disk = SmallTmpfs.mount(path.join(dir, 'small'), '256k');
    cleanups.unshift(() => disk.unmount());
    const logs: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as { level: number; msg: string }) });
    const b = await tripBench(tripConfig(dir, 8, { dir: path.join(dir, 'small') }), T0, log);
    const trip = b.start();
    b.feed(1, 60);
    disk.fill();
    b.feed(1, 60);
    disk.free();
    b.feed(1, 60);
    await b.end(trip);
    const [entry] = await b.archive.list();
    // What a full disk took is counted, the rest kept: no line torn (a short write is cut back).
    const { readings, dropped } = entry!.header.counts;
    expect(dropped).toBeGreaterThanOrEqual(400);
    expect(readings + dropped).toBe(3 * 480);
    expect(entry!.header.incomplete).toEqual([`${dropped} readings and positions since the box last started were not kept (spool full, or the disk refused writes)`]);
    expect(logs.filter((l) => l.level === 50).map((l) => l.msg)).toEqual([expect.stringMatching(/^trip archive: writing the spool failed/)]);
    expect(logs.some((l) => l.msg === 'trip archive: writing the spool works again')).toBe(true);
    await b.recorder.close();
  });
});
