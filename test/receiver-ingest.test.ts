import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { JournalRecord } from '../src/core/types.ts';
import { startReceiver, type Receiver } from '../src/receiver/receiver.ts';
import { gatewayStatus } from '../src/receiver/status.ts';
import { migrate } from '../src/receiver/migrate.ts';
import { writeBatches } from '../src/receiver/store.ts';
import { decodeBatch } from '../src/uplink/decode.ts';
import { BoxPlayer } from './helpers/box-player.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { startPg, type PgCluster } from './helpers/postgres.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('coldgate-recv-ingest-');
let db: PgCluster;
let broker: Mosquitto;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await startPg();
  broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
  await broker.start();
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await broker?.stop();
  await db?.stop();
  tmp.cleanup();
});

const poolFor = async (name: string) => {
  const pool = new pg.Pool({ connectionString: await db.database(name), max: 8 });
  cleanups.push(() => pool.end());
  return pool;
};

const chunks = <T>(list: T[], n: number) => Array.from({ length: Math.ceil(list.length / n) }, (_, i) => list.slice(i * n, i * n + n));

it('two migrations started together: the schema is made once, the second finds nothing to do', async () => {
  const pool = await poolFor('migrate_race');
  const [a, b] = await Promise.all([migrate(pool), migrate(pool)]);
  expect([a.length, b.length].sort()).toEqual([0, 1]);
  expect((await pool.query('SELECT version FROM schema_migrations')).rows).toEqual([{ version: 1 }]);
  expect(await migrate(pool)).toEqual([]);
});

it('writers racing on overlapping batches of one journal insert every seq exactly once', async () => {
  const pool = await poolFor('race');
  await migrate(pool);
  const box = new BoxPlayer('van-race');
  const all = box.readings(400);
  // 40 batches of 10, each sent 3 times and also re-cut as 20 batches of 20 (a resend batches differently).
  const docs = [...chunks(all, 10), ...chunks(all, 10), ...chunks(all, 10), ...chunks(all, 20)].map((c) => decodeBatch(box.payload(c)));
  for (let i = docs.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [docs[i], docs[j]] = [docs[j]!, docs[i]!];
  }
  await Promise.all(docs.map((d) => writeBatches(pool, [d])));
  const rows = (await pool.query<{ seq: string; n: string }>('SELECT seq, count(*) AS n FROM readings GROUP BY seq')).rows;
  expect(rows.length).toBe(400);
  expect(rows.filter((r) => r.n !== '1')).toEqual([]);
  const [s] = await gatewayStatus(pool);
  expect(s).toMatchObject({ gatewayId: 'van-race', records: 400, duplicatesDropped: 3 * 400, contiguousThrough: 400, holes: [], chain: 'no key' });
});

it('two receivers in one share group, every batch published twice: each seq lands once, both receivers took part, and the status is complete', async () => {
  const url = await db.database('shared');
  const receivers: Receiver[] = [];
  for (const name of ['recv-a', 'recv-b']) {
    const r = await startReceiver({ mqttUrl: broker.url, db: url, config: { name, shareGroup: 'ingest-test', reorderTimeoutMs: 60_000 } });
    receivers.push(r);
    cleanups.push(() => r.stop());
  }
  const box = new BoxPlayer('van-shared');
  await box.connect(broker.url);
  cleanups.push(() => box.close());
  const batches: JournalRecord[][] = [];
  for (let i = 0; i < 30; i++) {
    batches.push(box.readings(8));
    if (i % 5 === 0) batches.push([box.event()]);
  }
  for (const b of batches) await box.publish(b);
  for (const b of batches) await box.publish(b);
  const pool = await poolFor('shared');
  const total = box.records.length;
  await waitFor(async () => (await gatewayStatus(pool))[0]?.duplicatesDropped === total, 20_000, 'every duplicate seen');
  const [s] = await gatewayStatus(pool);
  expect(s).toMatchObject({ gatewayId: 'van-shared', incarnation: box.incarnation, records: total, duplicatesDropped: total, contiguousThrough: total, holes: [], gaps: [] });
  const readings = await pool.query<{ n: string; d: string }>('SELECT count(*) AS n, count(DISTINCT seq) AS d FROM coldgate_readings');
  expect(readings.rows[0]).toEqual({ n: String(30 * 8), d: String(30 * 8) });
  const events = await pool.query<{ n: string }>('SELECT count(*) AS n FROM coldgate_events');
  expect(events.rows[0]!.n).toBe('6');
  const taken = receivers.map((r) => r.metrics().batches);
  expect(taken.every((n) => n > 0)).toBe(true);
  expect(taken[0]! + taken[1]!).toBe(2 * batches.length);
  // The view gives consumers the reading as the probe took it.
  const first = (await pool.query('SELECT gateway_id, probe, compartment, ts, value, quality FROM coldgate_readings WHERE seq = 1')).rows[0];
  const r1 = box.records[0] as Extract<JournalRecord, { kind: 'temperature' }>;
  expect(first).toEqual({ gateway_id: 'van-shared', probe: r1.probe, compartment: 'front', ts: new Date(r1.ts), value: r1.value, quality: 'good' });
});
