import path from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CommittedMessage } from '../src/receiver/committed.ts';
import { startReceiver } from '../src/receiver/receiver.ts';
import { gatewayStatus } from '../src/receiver/status.ts';
import { BoxPlayer } from './helpers/box-player.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { startPg, type PgCluster } from './helpers/postgres.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('coldgate-recv-replay-');
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

async function setup(name: string, gatewayId: string) {
  const url = await db.database(name);
  const receiver = await startReceiver({ mqttUrl: broker.url, db: url, config: { name, shareGroup: name, reorderTimeoutMs: 400, committedEveryMs: 100 } });
  cleanups.push(() => receiver.stop());
  const pool = new pg.Pool({ connectionString: url });
  cleanups.push(() => pool.end());
  const box = new BoxPlayer(gatewayId);
  await box.connect(broker.url);
  cleanups.push(() => box.close());
  return { receiver, pool, box };
}

/** The retained committed value a newly connecting box would get. */
async function retainedCommitted(gatewayId: string): Promise<CommittedMessage> {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  try {
    const got = new Promise<CommittedMessage>((resolve) => client.on('message', (_t, p, packet) => packet.retain && resolve(JSON.parse(p.toString()) as CommittedMessage)));
    await client.subscribeAsync(`coldgate/v1/${gatewayId}/committed`, { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

it('a hole older than the reorder timeout is asked for with cmd/replay; the resent batch fills it, and committed (retained) says so', async () => {
  const { receiver, pool, box } = await setup('hole', 'van-hole');
  const batches = [box.readings(10), box.readings(10), box.readings(10), [box.event()], box.readings(10)];
  for (const [i, b] of batches.entries()) if (i !== 1) await box.publish(b);
  // Nothing before seq 11 is missing: committed goes to 10 while 11..20 are a hole.
  await waitFor(async () => (await gatewayStatus(pool))[0]?.highestSeq === 41, 10_000, 'all but the hole');
  expect((await gatewayStatus(pool))[0]).toMatchObject({ contiguousThrough: 10, holes: [[11, 20]] });
  await waitFor(() => box.replays.length > 0, 10_000, 'a cmd/replay');
  expect(box.replays[0]).toEqual({ fromSeq: 11, toSeq: 20 });
  await waitFor(async () => (await gatewayStatus(pool))[0]?.contiguousThrough === 41, 10_000, 'the hole filled');
  expect((await gatewayStatus(pool))[0]).toMatchObject({ records: 41, holes: [], gaps: [] });
  await waitFor(async () => (await retainedCommitted('van-hole')).contiguousThrough === 41, 5000, 'committed 41');
  expect(await retainedCommitted('van-hole')).toMatchObject({ schema: 'coldgate.committed/1', gatewayId: 'van-hole', incarnation: box.incarnation, contiguousThrough: 41 });
  expect(receiver.metrics().replayRequests).toBeGreaterThanOrEqual(1);
});

it('seqs the box no longer holds become a declared gap not-held; a retention gap record covers its range; nothing is left open', async () => {
  const { pool, box } = await setup('notheld', 'van-notheld');
  const a = box.readings(10);
  const dropped = box.readings(10); // 11..20: retention dropped them on the box
  const gone = box.readings(5); // 21..25: acked away before end-to-end mode, not held
  const gap = box.gap(11, 20);
  const tail = box.readings(10);
  for (let s = 21; s <= 25; s++) box.forgotten.add(s);
  for (let s = 11; s <= 20; s++) box.forgotten.add(s);
  expect(dropped.length + gone.length).toBe(15);
  await box.publish(a);
  await box.publish([gap]);
  await box.publish(tail);
  await waitFor(async () => (await gatewayStatus(pool))[0]?.contiguousThrough === 36, 10_000, 'contiguous through 36 after the not-held reply');
  const [s] = await gatewayStatus(pool);
  expect(s).toMatchObject({ records: 21, holes: [], contiguousThrough: 36 });
  expect(s!.gaps).toEqual([
    { fromSeq: 11, toSeq: 20, reason: 'max-bytes' },
    { fromSeq: 21, toSeq: 25, reason: 'not-held' },
  ]);
  expect(box.replays).toContainEqual({ fromSeq: 21, toSeq: 25 });
  expect((await pool.query('SELECT count(*)::int AS n FROM coldgate_gaps')).rows[0]).toEqual({ n: 2 });
  await waitFor(async () => (await retainedCommitted('van-notheld')).contiguousThrough === 36, 5000, 'committed 36');
});
