import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { UplinkConfig } from '../src/config/schema-uplink.ts';
import { silentLogger } from '../src/core/log.ts';
import type { RecordDraft } from '../src/core/types.ts';
import { ensureBoxKey } from '../src/chain/keys.ts';
import { verifyCapture } from '../src/chain/verify.ts';
import { startEmbeddedBroker } from '../src/uplink/embedded-broker.ts';
import { parseBatch, decodeJson } from '../src/uplink/decode.ts';
import { Uplink } from '../src/uplink/uplink.ts';
import { waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('chain-uplink-');
afterAll(() => tmp.cleanup());
const ev = (type: string): RecordDraft => ({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type, severity: 'info', message: type });
const reading = (value: number): RecordDraft => ({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe: 'p1', value, quality: 'good' });

it('signs the first batch of each lane, then not again within a minute, except the batch that ends a trip; the birth names the key', async () => {
  const broker = await startEmbeddedBroker('127.0.0.1', 0, silentLogger);
  const journal = await Journal.open(path.join(tmp.dir, 'data'), JournalConfig.parse({ commitIntervalMs: 5 }), silentLogger);
  const { key } = ensureBoxKey(path.join(tmp.dir, 'keys'));
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
  const uplink = new Uplink(UplinkConfig.parse({ url: broker.url, protocolVersion: 4, batchIntervalMs: 20 }), { journal, key, log: silentLogger, gatewayId: 'van-1', version: 'test', latest: () => ({ doc: {}, changeKey: '' }) });
  try {
    const got: { topic: string; payload: Buffer }[] = [];
    sub.on('message', (topic, payload) => got.push({ topic, payload }));
    await sub.subscribeAsync('coldgate/v1/van-1/#', { qos: 1 });
    uplink.start();
    const batches = (lane: string) => got.filter((m) => m.topic.endsWith(`/${lane}`)).map((m) => parseBatch(m.payload));
    for (const [i, type] of ['alarm.raised', 'alarm.cleared', 'trip.ended', 'alarm.raised'].entries()) {
      await journal.appendMany([ev(type), reading(i)]);
      await waitFor(() => batches('events').length === i + 1 && batches('telemetry').at(-1)?.toSeq === journal.stats().nextSeq - 1, 5000, `batch ${i}`);
    }
    const signed = batches('events').map((b) => [(b.records[0] as { type: string }).type, b.sig !== undefined]);
    expect(signed).toEqual([['alarm.raised', true], ['alarm.cleared', false], ['trip.ended', true], ['alarm.raised', false]]);
    expect(batches('telemetry').map((b) => b.sig !== undefined)).toEqual([true, false, false, false]);
    // Each batch's prev is the head of the one before: the lanes are chained across batches.
    for (const lane of ['events', 'telemetry']) {
      const list = batches(lane);
      for (let i = 1; i < list.length; i++) expect(list[i]!.prev).toBe(list[i - 1]!.head);
    }
    const status = got.find((m) => m.topic.endsWith('/status'))!;
    expect((decodeJson(status.payload) as { keyFingerprint: string }).keyFingerprint).toBe(key.fingerprint);
    const capture = got.map((m) => JSON.stringify({ topic: m.topic, payload: m.payload.toString('base64') })).join('\n');
    expect(verifyCapture(capture, key.publicKey).problems).toEqual([]);
    // The other line format: decoded batch documents.
    const docs = got.filter((m) => /\/(events|telemetry)$/.test(m.topic)).map((m) => JSON.stringify(parseBatch(m.payload))).join('\n');
    const report = verifyCapture(docs, key.publicKey);
    expect([report.problems, report.batches]).toEqual([[], 8]);
  } finally {
    await uplink.stop();
    await sub.endAsync();
    await journal.close();
    await broker.close();
  }
});
