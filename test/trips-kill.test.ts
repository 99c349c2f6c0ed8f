import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JournalRecord, TemperatureDraft } from '../src/core/types.ts';
import { tripRecords } from '../src/trips/archive-file.ts';
import type { TripSummary } from '../src/trips/archive.ts';
import { demoConfig, GatewayProcess } from './helpers/demo-gateway.ts';
import { Collector } from './helpers/gateway-child.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { CommandClient } from './helpers/remote.ts';
import { tempDir } from './helpers/tmp.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PIN = '2468';
const tmp = tempDir('coldgate-trips-kill-');
afterAll(() => tmp.cleanup());

/** `coldgate trips ...` as its own process, beside the running gateway. */
const coldgate = (...args: string[]) => execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/coldgate.ts', 'trips', ...args], { cwd: ROOT }).toString();

describe('trip archive on a running box, killed mid-trip', () => {
  it('keeps every delivered reading of a trip across kill -9, lists no half-written trip, and answers list/show/export, /api/trips and get-trip', async () => {
    const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
    await broker.start();
    const { file, httpPort } = await demoConfig(path.join(tmp.dir, 'box'), (cfg) => {
      cfg.trips = { autoStart: false, autoEnd: false, confirmSec: 5 };
      // Readings flowing fast: 4 probes at 4 Hz.
      for (const p of cfg.probes ?? []) p.intervalMs = 250;
    });
    const archiveDir = path.join(tmp.dir, 'box', 'data', 'trips');
    const collector = new Collector(broker.url, 'coldgate/v1/demo-van-01/#');
    await collector.connect();
    const ops = await CommandClient.connect(broker.url, 'ops-trips');
    const gateway = new GatewayProcess(file, { COLDGATE_MQTT_URL: broker.url });
    const base = `http://127.0.0.1:${httpPort}`;
    const post = async (p: string) => (await fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: PIN, by: 'test' }) })).json() as Promise<Record<string, unknown>>;
    try {
      await gateway.start();
      const started = (await post('/api/trip/start')) as { trip: { id: string } };
      const tripId = started.trip.id;
      await new Promise((r) => setTimeout(r, 4000));
      const killedAt = Date.now();
      await gateway.stop('SIGKILL');

      // Killed mid-trip: the spool is there, and nothing reads as an archived trip.
      expect(readdirSync(archiveDir).filter((f) => f.endsWith('.spool'))).toEqual([`${tripId}.spool`]);
      expect(JSON.parse(coldgate('list', '--json', '--config', file))).toEqual([]);

      await gateway.start();
      await new Promise((r) => setTimeout(r, 3000));
      const ended = (await post('/api/trip/end')) as { report: { tripId: string; startedAt: string; endedAt: string } };
      expect(ended.report.tripId).toBe(tripId);

      // Read by other processes while the gateway runs (no lock on the archive).
      const listed = await waitFor(() => {
        const l = JSON.parse(coldgate('list', '--json', '--config', file)) as TripSummary[];
        return l.length > 0 ? l : undefined;
      }, 30_000, 'the trip archived');
      expect(listed.map((t) => t.tripId)).toEqual([tripId]);
      expect(existsSync(path.join(archiveDir, `${tripId}.spool`))).toBe(false);
      expect(coldgate('list', '--data', path.join(tmp.dir, 'box', 'data'))).toContain(tripId);
      expect(coldgate('show', tripId, '--config', file)).toMatch(new RegExp(`trip ${tripId} of demo-van-01[\\s\\S]*Chiller: \\d+ samples`));

      // Everything the journal delivered within the trip is in the archive, and nothing it did not.
      await waitFor(() => [...collector.seen.values()].some((s) => s.includes('"trip.ended"')) && collector.unexplained().length === 0, 30_000, 'the trip end delivered');
      const delivered = [...collector.seen.values()].map((s) => JSON.parse(s) as JournalRecord).filter((r): r is TemperatureDraft & JournalRecord => r.kind === 'temperature');
      const from = Date.parse(ended.report.startedAt) + 1000;
      const to = Date.parse(ended.report.endedAt) - 1000;
      const inTrip = delivered.filter((r) => Date.parse(r.ts) > from && Date.parse(r.ts) < to);
      const archived: TemperatureDraft[] = [];
      const archivedSeqs = new Map<number, string>();
      for await (const chunk of tripRecords(path.join(archiveDir, `${tripId}.trip.gz`)))
        for (const r of chunk) {
          if (r.kind !== 'temperature') continue;
          archived.push(r);
          if (r.seq !== undefined) archivedSeqs.set(r.seq, `${r.probe}|${r.ts}|${r.value}`);
        }
      const keys = new Set(archived.map((r) => `${r.probe}|${r.ts}|${r.value}`));
      expect(inTrip.length).toBeGreaterThan(40);
      expect(inTrip.some((r) => Date.parse(r.ts) < killedAt) && inTrip.some((r) => Date.parse(r.ts) > killedAt)).toBe(true);
      expect(inTrip.filter((r) => !keys.has(`${r.probe}|${r.ts}|${r.value}`))).toEqual([]);
      const bySeq = new Map(delivered.map((r) => [r.seq, `${r.probe}|${r.ts}|${r.value}`]));
      expect([...archivedSeqs].filter(([seq, key]) => bySeq.get(seq) !== key)).toEqual([]);

      // CSV through Python's csv module: one row per archived reading, plus the header.
      const csvFile = path.join(tmp.dir, 'trip.csv');
      coldgate('export', tripId, '--format', 'csv', '--out', csvFile, '--config', file);
      const rows = Number(execFileSync('/usr/bin/python3', ['-c', 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline="")))))', csvFile]).toString());
      expect(rows).toBe(archived.length + 1);

      // HTTP, no PIN: the list, one report, ids that could leave the folder refused.
      const api = (p: string) => fetch(`${base}${p}`);
      expect(((await (await api('/api/trips')).json()) as { trips: TripSummary[] }).trips.map((t) => t.tripId)).toEqual([tripId]);
      const one = (await (await api(`/api/trips/${tripId}`)).json()) as { report: { tripId: string }; counts: { readings: number } };
      expect([one.report.tripId, one.counts.readings]).toEqual([tripId, archived.length]);
      for (const bad of ['..%2F..%2Fetc%2Fpasswd', `..%2F${tripId}`, '%2Fetc%2Fpasswd', 'a%2F..%2Fb', '.hidden', 'x%00y']) expect([bad, (await api(`/api/trips/${bad}`)).status]).toEqual([bad, 400]);
      expect((await api('/api/trips/no-such-trip')).status).toBe(404);
      const html = await api(`/report?trip=${tripId}`);
      expect([html.status, (await html.text()).includes(`Trip report ${tripId}`)]).toEqual([200, true]);
      expect((await api('/report?trip=..%2F..%2Fetc')).status).toBe(400);

      // The remote command: the report, not the readings.
      const reply = await ops.send('get-trip', { tripId }, { gatewayId: 'demo-van-01' });
      expect(reply).toMatchObject({ ok: true, trip: { tripId, report: { tripId }, counts: { readings: archived.length } } });
      expect(JSON.stringify(reply)).not.toContain('columnar');
      expect(await ops.send('get-trip', { tripId: '../etc' }, { gatewayId: 'demo-van-01' })).toMatchObject({ ok: false, error: 'bad get-trip body' });
      expect(await ops.send('get-trip', { tripId: 'nope' }, { gatewayId: 'demo-van-01' })).toMatchObject({ ok: false, error: expect.stringMatching(/no archived trip "nope"/) });
    } finally {
      await gateway.stop('SIGINT');
      await ops.end();
      await collector.close();
      await broker.stop();
    }
  }, 180_000);
});
