import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chainEnd } from '../src/chain/hash.ts';
import { ensureBoxKey } from '../src/chain/keys.ts';
import { signHead } from '../src/chain/sign.ts';
import { receiverKeysCommand } from '../src/cli/receive.ts';
import type { JournalRecord } from '../src/core/types.ts';
import { startReceiver, type Receiver } from '../src/receiver/receiver.ts';
import { gatewayStatus } from '../src/receiver/status.ts';
import { encodeBatch } from '../src/uplink/wire/batch.ts';
import { BoxPlayer } from './helpers/box-player.ts';
import { runCli } from './helpers/cli.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { startPg, type PgCluster } from './helpers/postgres.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('coldgate-recv-chain-');
let db: PgCluster;
let broker: Mosquitto;
let pool: pg.Pool;
let receiver: Receiver;
const key = ensureBoxKey(path.join(tmp.dir, 'keys')).key;
const otherKey = ensureBoxKey(path.join(tmp.dir, 'other-keys')).key;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  db = await startPg();
  broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
  await broker.start();
  receiver = await startReceiver({ mqttUrl: broker.url, db: db.url, config: { name: 'chain', shareGroup: 'chain', reorderTimeoutMs: 60_000 } });
  pool = new pg.Pool({ connectionString: db.url });
}, 60_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  await receiver?.stop();
  await pool?.end();
  await broker?.stop();
  await db?.stop();
  tmp.cleanup();
});

/** A box whose key is registered the way an operator does it: the PEM file `coldgate keys show` points at. */
async function keyedBox(gatewayId: string): Promise<BoxPlayer> {
  const pem = path.join(tmp.dir, `${gatewayId}.pub`);
  writeFileSync(pem, key.publicKey.export({ format: 'pem', type: 'spki' }));
  const added = await runCli(receiverKeysCommand, ['add', gatewayId, pem, '--db', db.url]);
  expect(added).toMatchObject({ code: 0, out: `${gatewayId}: key ${key.fingerprint} registered; batches from now on are checked\n` });
  const box = new BoxPlayer(gatewayId, key);
  await box.connect(broker.url);
  cleanups.push(() => box.close());
  return box;
}

const statusOf = async (gatewayId: string) => (await gatewayStatus(pool, gatewayId))[0];

it('signed batches, out of order and twice, on both lanes: chain ok; a gateway without a key: no key', async () => {
  const box = await keyedBox('van-ok');
  const b = [box.readings(5), [box.event()], box.readings(5), box.readings(5), [box.event()], box.readings(5)];
  for (const i of [0, 1, 3, 2, 5, 4, 2, 0]) await box.publish(b[i]!);
  await waitFor(async () => (await statusOf('van-ok'))?.contiguousThrough === 22, 10_000, 'all 22 records');
  expect(await statusOf('van-ok')).toMatchObject({ chain: 'ok', records: 22, duplicatesDropped: 10 });
  expect((await pool.query('SELECT count(*)::int AS n FROM chain_batches WHERE gateway_id = $1 AND NOT linked', ['van-ok'])).rows[0]).toEqual({ n: 0 });
  const plain = new BoxPlayer('van-nokey');
  await plain.connect(broker.url);
  cleanups.push(() => plain.close());
  await plain.publish(plain.readings(3));
  await waitFor(async () => (await statusOf('van-nokey'))?.records === 3, 10_000, 'van-nokey');
  expect((await statusOf('van-nokey'))?.chain).toBe('no key');
  const listed = await runCli(receiverKeysCommand, ['list', '--db', db.url, '--json']);
  expect(JSON.parse(listed.out)).toEqual(expect.arrayContaining([expect.objectContaining({ gatewayId: 'van-ok', fingerprint: key.fingerprint })]));
});

it('a record changed in transit: the batch is refused (recorded in refused), the chain is broken at its first seq, the rest lands', async () => {
  const box = await keyedBox('van-changed');
  const b = [box.readings(5), box.readings(5), box.readings(5)];
  await box.publish(b[0]!);
  const forged = structuredClone(b[1]!) as Extract<JournalRecord, { kind: 'temperature' }>[];
  forged[2]!.value = -30;
  const real = box.doc(b[1]!);
  await box.publish(b[1]!, encodeBatch({ gatewayId: box.gatewayId, incarnation: box.incarnation }, 'telemetry', forged, 'deflate', { prev: real.prev, head: real.head, sig: real.sig }));
  await box.publish(b[2]!);
  await waitFor(async () => (await statusOf('van-changed'))?.highestSeq === 15, 10_000, 'the last batch');
  expect(await statusOf('van-changed')).toMatchObject({ chain: 'broken at seq 6', records: 10, holes: [[6, 10]] });
  const refused = await pool.query('SELECT kind, gateway_id FROM refused WHERE gateway_id = $1', ['van-changed']);
  expect(refused.rows).toEqual([{ kind: 'chain', gateway_id: 'van-changed' }]);
  expect((await pool.query('SELECT count(*)::int AS n FROM readings WHERE gateway_id = $1 AND value = -30', ['van-changed'])).rows[0]).toEqual({ n: 0 });
});

it('a batch changed and re-chained from the real prev (unsigned: the key is not the forger\'s): the next batch breaks at its first seq', async () => {
  const box = await keyedBox('van-rechained');
  const b = [box.readings(5), box.readings(5), box.readings(5)];
  const forged = structuredClone(b[1]!) as Extract<JournalRecord, { kind: 'temperature' }>[];
  forged[0]!.value = 2;
  const prev = box.doc(b[1]!).prev!;
  await box.publish(b[0]!);
  await box.publish(b[2]!);
  await box.publish(b[1]!, encodeBatch({ gatewayId: box.gatewayId, incarnation: box.incarnation }, 'telemetry', forged, 'deflate', { prev, head: chainEnd(prev, forged) }));
  await waitFor(async () => (await statusOf('van-rechained'))?.contiguousThrough === 15, 10_000, 'all 15');
  expect((await statusOf('van-rechained'))?.chain).toBe('broken at seq 11');
});

it('a signature by another key or over another head: refused, broken at the seq it vouches for', async () => {
  const box = await keyedBox('van-sig');
  const b = [box.readings(5), box.readings(5), box.readings(5)];
  await box.publish(b[0]!);
  const impostor = new BoxPlayer('van-sig', otherKey);
  Object.assign(impostor, { incarnation: box.incarnation });
  impostor.records.push(...box.records);
  await box.publish(b[1]!, impostor.payload(b[1]!));
  // The right key's fingerprint, but a signature over another head.
  const real = box.doc(b[2]!);
  const sig = signHead(key, { gatewayId: 'van-sig', incarnation: box.incarnation, lane: 'telemetry', lastSeq: 15, head: 'f'.repeat(64) });
  await box.publish(b[2]!, encodeBatch({ gatewayId: box.gatewayId, incarnation: box.incarnation }, 'telemetry', b[2]!, 'deflate', { prev: real.prev, head: real.head, sig }));
  await waitFor(async () => (await pool.query('SELECT 1 FROM chain_breaks WHERE gateway_id = $1', ['van-sig'])).rowCount === 2, 10_000, 'both signature checks');
  expect(await statusOf('van-sig')).toMatchObject({ chain: 'broken at seq 10', records: 5 });
  expect((await pool.query('SELECT seq::int, kind FROM chain_breaks WHERE gateway_id = $1 ORDER BY seq', ['van-sig'])).rows).toEqual([{ seq: 10, kind: 'signature' }, { seq: 15, kind: 'signature' }]);
  expect((await pool.query('SELECT kind FROM refused WHERE gateway_id = $1', ['van-sig'])).rows).toEqual([{ kind: 'signature' }, { kind: 'signature' }]);
  expect(receiver.metrics().refused.signature).toBe(2);
});
