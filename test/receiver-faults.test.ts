import pg from 'pg';
import { expect, it } from 'vitest';
import { createLogger } from '../src/core/log.ts';
import { startReceiver } from '../src/receiver/receiver.ts';
import { gatewayStatus } from '../src/receiver/status.ts';
import { batchDoc } from '../src/uplink/wire/batch.ts';
import { pack } from '../src/uplink/wire/envelope.ts';
import { BoxPlayer } from './helpers/box-player.ts';
import { waitFor } from './helpers/net.ts';
import { receiverPeersForFile } from './helpers/receiver-peers.ts';

const peers = receiverPeersForFile('coldgate-recv-faults-');
const cleanups = peers.cleanups;

/** What the receiver logs, as JSON objects. */
function captureLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { log, lines };
}

it('bad input of every kind is refused, recorded, counted, logged once per gateway and kind, acknowledged, and the receiver goes on', async () => {
  const url = await peers.db.database('bad');
  const { log, lines } = captureLog();
  const config = { name: 'bad', shareGroup: 'bad', maxPayloadBytes: 4096, reorderTimeoutMs: 60_000 };
  const receiver = await startReceiver({ mqttUrl: peers.broker.url, db: url, config, log });
  const pool = new pg.Pool({ connectionString: url });
  // The next test crashes the server under this idle pool.
  pool.on('error', () => undefined);
  cleanups.push(() => pool.end());
  const box = new BoxPlayer('van-bad');
  await box.connect(peers.broker.url);
  cleanups.push(() => box.close());
  const good = box.readings(3);
  const otherGateway = pack(JSON.stringify(batchDoc({ gatewayId: 'van-other', incarnation: box.incarnation }, 'telemetry', good)), 'deflate');
  const notATime = pack(JSON.stringify(batchDoc({ gatewayId: 'van-bad', incarnation: box.incarnation }, 'events', [{ kind: 'event', ts: 'yesterday', tq: 'system', type: 'x', severity: 'info', message: 'm', seq: 9 }])), 'identity');
  const bad: [string, Buffer][] = [
    ['unparsable', Buffer.from('\x00\x01 not a coldgate message')],
    ['unparsable', Buffer.from('{"schema":"coldgate.batch/4","gatewayId":"van-bad"')],
    ['schema', Buffer.from(JSON.stringify({ schema: 'coldgate.batch/99', gatewayId: 'van-bad' }))],
    ['gateway-mismatch', otherGateway],
    ['oversized', Buffer.from(`{${' '.repeat(5000)}}`)],
    ['invalid', notATime],
  ];
  for (let round = 0; round < 3; round++) for (const [, payload] of bad) await box.publishRaw('telemetry', payload);
  await box.publish(good);
  await waitFor(async () => (await gatewayStatus(pool))[0]?.records === 3, 10_000, 'the good batch after the bad ones');
  const kinds = (await pool.query<{ kind: string; n: number }>('SELECT kind, count(*)::int AS n FROM refused GROUP BY kind ORDER BY kind')).rows;
  expect(kinds).toEqual([
    { kind: 'gateway-mismatch', n: 3 },
    { kind: 'invalid', n: 3 },
    { kind: 'oversized', n: 3 },
    { kind: 'schema', n: 3 },
    { kind: 'unparsable', n: 6 },
  ]);
  expect(receiver.metrics().refused).toEqual({ unparsable: 6, schema: 3, 'gateway-mismatch': 3, oversized: 3, invalid: 3 });
  const warned = lines.filter((l) => l.msg?.toString().startsWith('message refused'));
  expect(warned.map((l) => l.kind).sort()).toEqual(['gateway-mismatch', 'invalid', 'oversized', 'schema', 'unparsable']);
  expect(warned.every((l) => l.gatewayId === 'van-bad')).toBe(true);
  // Acknowledged: a receiver of the same name (same session) gets none of them again.
  await receiver.stop();
  const again = await startReceiver({ mqttUrl: peers.broker.url, db: url, config });
  cleanups.push(() => again.stop());
  await box.publish(box.readings(2));
  await waitFor(async () => (await gatewayStatus(pool))[0]?.records === 5, 10_000, 'the next batch');
  expect(again.metrics().refused).toEqual({});
  expect((await pool.query('SELECT count(*)::int AS n FROM refused')).rows[0]).toEqual({ n: 18 });
});

it('PostgreSQL crashes mid-stream: the receiver retries without acknowledging, survives its own restart meanwhile, and nothing is lost or doubled', async () => {
  const url = await peers.db.database('crash');
  const config = { name: 'crash', shareGroup: 'crash', reorderTimeoutMs: 600_000, retryInitialMs: 50, retryMaxMs: 400 };
  const { log, lines } = captureLog();
  const receiver = await startReceiver({ mqttUrl: peers.broker.url, db: url, config, log });
  const pool = new pg.Pool({ connectionString: url });
  pool.on('error', () => undefined);
  cleanups.push(() => pool.end());
  const box = new BoxPlayer('van-crash');
  await box.connect(peers.broker.url);
  cleanups.push(() => box.close());
  for (let i = 0; i < 5; i++) await box.publish(box.readings(10));
  await waitFor(async () => (await gatewayStatus(pool))[0]?.contiguousThrough === 50, 10_000, 'the first 50');
  peers.db.crash();
  for (let i = 0; i < 10; i++) await box.publish(box.readings(10));
  await waitFor(() => receiver.metrics().dbRetries >= 3, 10_000, 'retries against the dead database');
  expect(lines.filter((l) => l.msg?.toString().startsWith('database unavailable')).length).toBe(1);
  expect(receiver.metrics().batches).toBe(5);
  // The receiver itself is restarted while the database is still down: its unacknowledged message stays with the broker.
  await receiver.stop();
  await peers.db.start();
  const again = await startReceiver({ mqttUrl: peers.broker.url, db: url, config });
  cleanups.push(() => again.stop());
  await waitFor(async () => (await gatewayStatus(pool).catch(() => []))[0]?.contiguousThrough === 150, 20_000, 'all 150 after the database is back');
  const [s] = await gatewayStatus(pool);
  expect(s).toMatchObject({ records: 150, holes: [] });
  const rows = (await pool.query<{ n: number; d: number }>('SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM readings')).rows[0];
  expect(rows).toEqual({ n: 150, d: 150 });
});
