import path from 'node:path';
import { expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { Uplink } from '../src/uplink/uplink.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { UplinkConfig } from '../src/config/schema-uplink.ts';
import { silentLogger } from '../src/core/log.ts';
import type { RecordDraft } from '../src/core/types.ts';
import { Collector, GatewayChild } from './helpers/gateway-child.ts';
import { mosquittoForFile } from './helpers/file-broker.ts';
import { waitFor } from './helpers/net.ts';

const file = mosquittoForFile('outage-');
const { tmp, cleanups } = file;
const haveMosquitto = file.have;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it.runIf(haveMosquitto)('broker down under load, then back: everything arrives, and after the reconnect latest, then events, then the backlog in seq order', async () => {
  const gatewayId = 'van-outage';
  const collector = new Collector(file.broker.url, `coldgate/v1/${gatewayId}/#`);
  await collector.connect();
  cleanups.push(() => collector.close());
  const child = new GatewayChild({
    dataDir: path.join(tmp.dir, 'data'),
    url: file.broker.url,
    gatewayId,
    readingsPerSec: 5000,
    eventEveryMs: 100,
    journal: { commitIntervalMs: 10 },
    uplink: { batchIntervalMs: 50, batchMaxRecords: 1000, inflightWindow: 4, reconnectMinMs: 500, reconnectMaxMs: 1000 },
  });
  cleanups.push(() => child.kill());
  await child.waitReady();
  await sleep(1000);

  await file.broker.stop();
  await waitFor(() => child.status?.uplink.state === 'offline', 5000, 'the gateway to notice');
  await sleep(3000);
  const atRestart = child.acceptedCount();
  const acceptedAtRestart = child.accepted.slice();
  const isBirth = (a: { topic: string; retained: boolean; body?: unknown }) => a.topic.endsWith('/status') && !a.retained && (a.body as { online?: boolean }).online === true;
  const birthsBefore = collector.arrivals.filter(isBirth).length;
  const arrivedBefore = new Set(collector.seen.keys());
  await file.broker.start();

  await waitFor(() => collector.missing(acceptedAtRestart).length === 0, 30_000, 'the backlog to arrive');
  await sleep(500);
  const accepted = child.accepted.slice();
  await waitFor(() => collector.missing(accepted).length === 0, 10_000, 'records accepted after the reconnect');
  expect(await child.kill('SIGTERM')).toBe(0);
  expect(atRestart).toBeGreaterThan(10_000);
  expect(collector.unexplained(accepted.at(-1)![1])).toEqual([]);
  expect(collector.conflicts).toEqual([]);

  const live = collector.arrivals.filter((a) => !a.retained);
  const births = live.flatMap((a, i) => (isBirth(a) ? [i] : []));
  expect(births.length).toBe(birthsBefore + 1);
  const after = live.slice(births[births.length - 1]! + 1);
  expect(after[0]!.topic).toBe(`coldgate/v1/${gatewayId}/latest`);
  const firstTelemetry = after.findIndex((a) => a.topic.endsWith('/telemetry'));
  expect(firstTelemetry).toBeGreaterThan(1);
  // Every alarm from the outage arrives before the first telemetry batch.
  const backlogEvents = new Set(acceptedAtRestart.flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i)).filter((s) => !arrivedBefore.has(s) && collector.seen.get(s)?.includes('"kind":"event"')));
  expect(backlogEvents.size).toBeGreaterThan(10);
  const eventsFirst = new Set(after.slice(0, firstTelemetry).flatMap((a) => a.records?.map((r) => r.seq) ?? []));
  expect([...backlogEvents].filter((s) => !eventsFirst.has(s))).toEqual([]);
  // The backlog then goes in seq order, from the first telemetry seq the broker had not confirmed.
  const telemetry = after.filter((a) => a.topic.endsWith('/telemetry')).map((a) => a.records!);
  const starts = telemetry.map((records) => records[0]!.seq);
  expect(starts).toEqual([...starts].sort((a, b) => a - b));
  const firstMissing = acceptedAtRestart
    .flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i))
    .filter((s) => !arrivedBefore.has(s) && !backlogEvents.has(s))
    .reduce((m, s) => Math.min(m, s), Infinity);
  expect(starts[0]).toBeLessThanOrEqual(firstMissing);
  // MQTT 5 properties announce the payload.
  for (const a of after.filter((x) => x.records)) expect([a.contentType, a.contentEncoding]).toEqual(['application/json', 'deflate']);
}, 90_000);

it.runIf(haveMosquitto)('a backlog drains no faster than rateLimitBytesPerSec', async () => {
  const gatewayId = 'van-rate';
  const journal = await Journal.open(path.join(tmp.dir, 'rate'), JournalConfig.parse({ fsync: false, commitIntervalMs: 5 }), silentLogger);
  cleanups.push(() => journal.close());
  let value = 40;
  for (let i = 0; i < 40_000; i++) {
    value += Math.round(Math.random() * 6 - 3);
    const draft: RecordDraft = { kind: 'temperature', ts: new Date(1_700_000_000_000 + i * 500).toISOString(), tq: 'system', probe: `p${i % 4}`, value: value / 10, quality: 'good' };
    void journal.append(draft);
  }
  await journal.flush();
  const collector = new Collector(file.broker.url, `coldgate/v1/${gatewayId}/telemetry`);
  await collector.connect();
  cleanups.push(() => collector.close());
  const rate = 10_000;
  const uplink = new Uplink(UplinkConfig.parse({ url: file.broker.url, rateLimitBytesPerSec: rate, batchMaxRecords: 2000, batchIntervalMs: 10 }), { journal, log: silentLogger, gatewayId, version: 'test', latest: () => ({ doc: {}, changeKey: '' }) });
  const started = Date.now();
  uplink.start();
  cleanups.push(() => uplink.stop());
  await waitFor(() => collector.seen.size === 40_000, 30_000, 'the backlog');
  const seconds = (Date.now() - started) / 1000;
  const bytes = collector.arrivals.reduce((n, a) => n + a.payloadBytes, 0);
  // The first quarter second of rate may go at once (the burst); the rest is paced.
  expect(bytes).toBeGreaterThan(2 * rate);
  expect(bytes / seconds).toBeLessThanOrEqual(rate * 1.1 + rate / 4 / seconds);
  expect(bytes / seconds).toBeGreaterThan(rate * 0.5);
});
