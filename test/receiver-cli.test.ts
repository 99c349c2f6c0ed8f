import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { main } from '../src/cli/main.ts';
import { receiverExportCommand, receiverStatusCommand } from '../src/cli/receive.ts';
import { startReceiver, type Receiver } from '../src/receiver/receiver.ts';
import { BoxPlayer } from './helpers/box-player.ts';
import { runCli } from './helpers/cli.ts';
import type { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import type { PgCluster } from './helpers/postgres.ts';
import { receiverPeersForFile } from './helpers/receiver-peers.ts';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { JournalRecord } from '../src/core/types.ts';

const peers = receiverPeersForFile('coldgate-recv-cli-');
const { tmp } = peers;
let db: PgCluster;
let broker: Mosquitto;
let receiver: Receiver;
let box: BoxPlayer;
let metricsPort: number;

beforeAll(async () => {
  db = peers.db;
  broker = peers.broker;
  metricsPort = await freePort();
  receiver = await startReceiver({ mqttUrl: broker.url, db: db.url, config: { name: 'cli', shareGroup: 'cli', metricsPort, reorderTimeoutMs: 60_000 } });
  box = new BoxPlayer('van-cli');
  await box.connect(broker.url);
  peers.cleanups.push(() => receiver.stop(), () => box.close());
  const a = box.readings(6);
  box.readings(2); // seq 7, 8 never sent: a hole
  const b = box.readings(4);
  await box.publish(a);
  await box.publish(b);
  await box.publish(b);
  await box.publish([box.gap(20, 25, 'max-age')]);
  await waitFor(async () => JSON.parse((await runCli(receiverStatusCommand, ['--db', db.url, '--json'])).out)[0]?.records === 11, 10_000, 'the batches');
});

it('receiver status --json: the contract fields per gateway and per incarnation', async () => {
  const res = await runCli(receiverStatusCommand, ['--db', db.url, '--json']);
  expect(res.code).toBe(0);
  const [s] = JSON.parse(res.out) as Record<string, unknown>[];
  const journal = { incarnation: box.incarnation, records: 11, duplicatesDropped: 4, contiguousThrough: 6, highestSeq: 13, holes: [[7, 8]], gaps: [{ fromSeq: 20, toSeq: 25, reason: 'max-age' }], chain: 'no key' };
  expect(s).toMatchObject({ gatewayId: 'van-cli', ...journal });
  expect(Date.parse(s!.lastBatchAt as string)).toBeGreaterThan(Date.now() - 60_000);
  expect(s!.incarnations).toEqual([expect.objectContaining(journal)]);
});

it('receiver status: one line per gateway a person reads', async () => {
  const res = await runCli(receiverStatusCommand, ['--db', db.url]);
  expect(res.code).toBe(0);
  expect(res.out).toMatch(new RegExp(`^van-cli  incarnation ${box.incarnation}  records 11  duplicates 4  contiguous through 6  holes 7-8  gaps 20-25 max-age  chain no key  last batch \\d{4}-`));
});

it('receiver export --format csv: the readings in the time range, in time order, one per seq', async () => {
  const readings = box.records.filter((r): r is Extract<JournalRecord, { kind: 'temperature' }> => r.kind === 'temperature' && r.seq !== 7 && r.seq !== 8);
  const from = readings[1]!.ts;
  const to = readings[8]!.ts;
  const res = await runCli(receiverExportCommand, ['--db', db.url, '--gateway', 'van-cli', '--from', from, '--to', to, '--format', 'csv']);
  expect(res.code).toBe(0);
  const lines = res.out.trimEnd().split('\r\n');
  expect(lines[0]).toBe('gateway_id,ts,probe,compartment,value,quality,error,time_quality,incarnation,seq');
  expect(lines.slice(1)).toEqual(readings.slice(1, 8).map((r) => `van-cli,${r.ts},${r.probe},front,${r.value},good,,system,${box.incarnation},${r.seq}`));
});

it('bad usage names the missing flag; an unreachable database names itself without its password', async () => {
  expect(await runCli(receiverExportCommand, ['--db', db.url, '--gateway', 'van-cli', '--from', 'soon', '--to', '2026-01-01T00:00:00Z'])).toMatchObject({ code: 2, err: 'receiver export: --from soon: expected an ISO 8601 time, e.g. 2026-03-01T00:00:00Z\n' });
  expect(await runCli(receiverStatusCommand, [])).toMatchObject({ code: 2, err: 'receiver status: pass --db (e.g. --db postgres://user@host/coldgate)\n' });
  const down = await runCli(receiverStatusCommand, ['--db', `postgres://ops:hunter2@127.0.0.1:${await freePort()}/x`]);
  expect(down.code).toBe(1);
  expect(down.err).toMatch(/^receiver status: database postgres:\/\/ops:\(redacted\)@127\.0\.0\.1:\d+\/x: ECONNREFUSED/);
  expect(down.err).not.toContain('hunter2');
});

it('receive --config: a wrong field is named and nothing starts', async () => {
  const file = path.join(tmp.dir, 'receiver.json');
  writeFileSync(file, JSON.stringify({ reorderTimeoutMs: 'soon', shareGrup: 'x' }));
  const res = await runCli(main, ['receive', '--mqtt', broker.url, '--db', db.url, '--config', file]);
  expect(res.code).toBe(2);
  expect(res.err).toContain(`receive: ${file}: 2 problems`);
  expect(res.err).toContain('reorderTimeoutMs: expected number, received string');
  expect(res.err).toContain('unknown key "shareGrup" (check the spelling against src/receiver/README.md)');
});

it('/metrics: batches, records, duplicates, holes and the commit latency histogram in Prometheus text', async () => {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  expect(text).toContain('coldgate_receiver_batches_total 4\n');
  expect(text).toContain('coldgate_receiver_records_total 11\n');
  expect(text).toContain('coldgate_receiver_duplicates_total 4\n');
  expect(text).toMatch(/coldgate_receiver_holes \d+\n/);
  expect(text).toContain('coldgate_receiver_commit_seconds_count 4\n');
  expect(text).toContain('coldgate_receiver_commit_seconds_bucket{le="+Inf"} 4\n');
  expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
});

it('coldgate receive as a process: lands a batch, serves /metrics, stops on SIGTERM with exit 0', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/coldgate.ts', 'receive', '--mqtt', broker.url, '--db', await db.database('child'), '--share', 'child', '--name', 'child', '--metrics-port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitFor(() => log.includes('receiver started'), 20_000, 'the receiver started');
    const other = new BoxPlayer('van-child');
    await other.connect(broker.url);
    await other.publish(other.readings(5));
    await other.close();
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '')).includes('coldgate_receiver_records_total 5\n'), 10_000, 'the batch on /metrics');
    const status = await runCli(receiverStatusCommand, ['--db', await db.database('child'), '--json']);
    expect(JSON.parse(status.out)).toEqual([expect.objectContaining({ gatewayId: 'van-child', records: 5, contiguousThrough: 5 })]);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(log).toContain('"msg":"stopping"');
});
