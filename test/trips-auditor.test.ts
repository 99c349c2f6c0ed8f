import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../src/core/types.ts';
import type { TripSummary } from '../src/trips/archive.ts';
import { parseBatch } from '../src/uplink/decode.ts';
import { demoConfig, GatewayProcess } from './helpers/demo-gateway.ts';
import { epcisProblems } from './helpers/epcis-schema.ts';
import { Collector } from './helpers/gateway-child.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const PIN = '2468';
const tmp = tempDir('coldgate-auditor-');
afterAll(() => tmp.cleanup());

/** `coldgate ...` as its own process beside the running gateway, as an auditor types it. */
const coldgate = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/coldgate.ts', ...args], { cwd: ROOT, encoding: 'utf8' });

describe('an auditor on a running box', () => {
  it('lists the trip, exports csv, html and bundle, verifies the bundle, and verify names the reading whose digit was changed', async () => {
    const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
    await broker.start();
    const { file, httpPort } = await demoConfig(path.join(tmp.dir, 'box'), (cfg) => {
      cfg.trips = { autoStart: false, autoEnd: false, confirmSec: 5 };
      for (const p of cfg.probes ?? []) p.intervalMs = 250;
    });
    const collector = new Collector(broker.url, 'coldgate/v1/demo-van-01/#');
    await collector.connect();
    const gateway = new GatewayProcess(file, { COLDGATE_MQTT_URL: broker.url });
    const post = async (p: string) => (await fetch(`http://127.0.0.1:${httpPort}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: PIN, by: 'auditor-test' }) })).json() as Promise<Record<string, unknown>>;
    try {
      await gateway.start();
      const tripId = ((await post('/api/trip/start')) as { trip: { id: string } }).trip.id;
      await new Promise((r) => setTimeout(r, 5000));
      await post('/api/trip/end');

      const listed = await waitFor(() => {
        const l = JSON.parse(coldgate('trips', 'list', '--json', '--config', file).stdout) as TripSummary[];
        return l.length > 0 ? l : undefined;
      }, 30_000, 'the trip archived');
      expect(listed.map((t) => t.tripId)).toEqual([tripId]);
      expect(gateway.running()).toBe(true);

      const out = (name: string) => path.join(tmp.dir, name);
      for (const format of ['csv', 'epcis', 'html', 'bundle']) {
        const r = coldgate('trips', 'export', tripId, '--format', format, '--out', out(`trip.${format}`), '--config', file);
        expect([format, r.status, r.stderr]).toEqual([format, 0, expect.stringContaining('written to')]);
      }
      const csvRows = Number(execFileSync('/usr/bin/python3', ['-c', 'import csv,sys; print(len(list(csv.reader(open(sys.argv[1], newline="")))))', out('trip.csv')]).toString());
      expect(csvRows).toBeGreaterThan(20);
      const epcis = JSON.parse(readFileSync(out('trip.epcis'), 'utf8')) as { epcisBody: { eventList: unknown[] } };
      expect(epcisProblems(epcis)).toEqual([]);
      expect(epcis.epcisBody.eventList.length).toBeGreaterThan(0);

      const key = JSON.parse(coldgate('keys', 'show', '--json', '--config', file).stdout) as { fingerprint: string; raw: string };
      const lines = readFileSync(out('trip.bundle'), 'utf8').trimEnd().split('\n');
      const head = JSON.parse(lines[0]!) as { key: { fingerprint: string }; trip: { chain: { runs: { lanes: Record<string, { head: string; sig: { value: string } }> }[] } } };
      expect(head.key.fingerprint).toBe(key.fingerprint);

      // The html carries the same heads, signatures and fingerprint as the bundle.
      const html = readFileSync(out('trip.html'), 'utf8');
      expect(html).toContain(key.fingerprint);
      const lanes = head.trip.chain.runs.flatMap((r) => Object.values(r.lanes));
      expect(lanes.length).toBeGreaterThan(0);
      for (const l of lanes) expect([html.includes(l.head), html.includes(l.sig.value)]).toEqual([true, true]);

      const verified = coldgate('verify', out('trip.bundle'), '--key', key.raw);
      expect([verified.status, verified.stdout]).toEqual([0, expect.stringMatching(/verified\n$/)]);

      // The archive's chain is the journal's: where a telemetry batch on the wire ends inside the trip, its head is the bundle's hash there.
      const bySeq = new Map<number, string>();
      for (const l of lines.slice(1)) {
        const doc = JSON.parse(l) as { hash?: string; record?: JournalRecord };
        if (doc.record) bySeq.set(doc.record.seq, doc.hash!);
      }
      await waitFor(() => collector.arrivals.some((a) => a.topic.endsWith('/telemetry') && bySeq.has(parseBatch(a.payload).toSeq)), 30_000, 'a telemetry batch ending inside the trip');
      const wire = collector.arrivals.filter((a) => a.topic.endsWith('/telemetry')).map((a) => parseBatch(a.payload)).filter((b) => bySeq.has(b.toSeq));
      expect(wire.length).toBeGreaterThan(0);
      expect(wire.filter((b) => b.head !== bySeq.get(b.toSeq))).toEqual([]);

      // One digit of one reading changed: verify fails and names that reading's seq.
      const i = lines.findIndex((l, n) => n > lines.length / 2 && l.includes('"kind":"temperature"') && /"value":-?\d+\.\d/.test(l));
      const seq = (JSON.parse(lines[i]!) as { record: JournalRecord }).record.seq;
      lines[i] = lines[i]!.replace(/("value":-?\d+\.)(\d)/, (_, a: string, d: string) => `${a}${(Number(d) + 1) % 10}`);
      writeFileSync(out('tampered.bundle'), `${lines.join('\n')}\n`);
      const tampered = coldgate('verify', out('tampered.bundle'), '--key', key.raw);
      expect(tampered.status).toBe(1);
      expect(tampered.stdout).toMatch(new RegExp(`^changed: telemetry seq ${seq} \\(line ${i + 1}\\)`, 'm'));
    } finally {
      await gateway.stop('SIGINT');
      await collector.close();
      await broker.stop();
    }
  }, 180_000);

  it('a trip across a kill -9 of the box verifies: the chain goes on after the restart', async () => {
    const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker-kill') });
    await broker.start();
    const { file, httpPort } = await demoConfig(path.join(tmp.dir, 'box-kill'), (cfg) => {
      cfg.trips = { autoStart: false, autoEnd: false, confirmSec: 5 };
      for (const p of cfg.probes ?? []) p.intervalMs = 250;
    });
    const gateway = new GatewayProcess(file, { COLDGATE_MQTT_URL: broker.url });
    const post = async (p: string) => (await fetch(`http://127.0.0.1:${httpPort}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ pin: PIN, by: 'auditor-test' }) })).json() as Promise<Record<string, unknown>>;
    try {
      await gateway.start();
      const tripId = ((await post('/api/trip/start')) as { trip: { id: string } }).trip.id;
      await new Promise((r) => setTimeout(r, 3000));
      await gateway.stop('SIGKILL');
      await gateway.start();
      await new Promise((r) => setTimeout(r, 3000));
      await post('/api/trip/end');
      await waitFor(() => (JSON.parse(coldgate('trips', 'list', '--json', '--config', file).stdout) as TripSummary[]).length > 0 || undefined, 30_000, 'the trip archived');
      const bundle = path.join(tmp.dir, 'kill.bundle');
      expect(coldgate('trips', 'export', tripId, '--format', 'bundle', '--out', bundle, '--config', file).status).toBe(0);
      const key = JSON.parse(coldgate('keys', 'show', '--json', '--config', file).stdout) as { raw: string };
      const lines = readFileSync(bundle, 'utf8').trimEnd().split('\n');
      const times = lines.slice(1).flatMap((l) => {
        const d = JSON.parse(l) as { record?: JournalRecord };
        return d.record?.kind === 'temperature' ? [Date.parse(d.record.ts)] : [];
      });
      // Readings from before the kill and after the restart are both in the proof.
      const killedAt = Date.parse((JSON.parse(lines[0]!) as { trip: { startedAt: string } }).trip.startedAt) + 3000;
      expect([times.some((t) => t < killedAt - 500), times.some((t) => t > killedAt + 1500)]).toEqual([true, true]);
      const verified = coldgate('verify', bundle, '--key', key.raw);
      expect([verified.status, verified.stdout]).toEqual([0, expect.stringMatching(/verified\n$/)]);
    } finally {
      await gateway.stop('SIGINT');
      await broker.stop();
    }
  }, 180_000);
});
