import { readFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBatch, BATCH_SCHEMA } from '../src/uplink/wire/batch.ts';
import { DICTIONARY_ID } from '../src/uplink/wire/dictionary.ts';
import { parseBatch, decodeBatch, decodeJson } from '../src/uplink/decode.ts';
import { startEmbeddedBroker } from '../src/uplink/embedded-broker.ts';
import { Uplink } from '../src/uplink/uplink.ts';
import { Journal } from '../src/journal/journal.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { UplinkConfig } from '../src/config/schema-uplink.ts';
import { silentLogger } from '../src/core/log.ts';
import { topicsFor } from '../src/uplink/topics.ts';
import type { JournalRecord, RecordDraft } from '../src/core/types.ts';
import { waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('contract-');
afterAll(() => tmp.cleanup());

const dir = new URL('../src/uplink/contract/', import.meta.url);
const jsonSchema = JSON.parse(readFileSync(new URL('batch.schema.json', dir), 'utf8')) as { properties: { schema: { const: string } }; $defs: Record<string, unknown> };
const batchSchema = z.fromJSONSchema(jsonSchema as Parameters<typeof z.fromJSONSchema>[0]);
const recordSchema = z.fromJSONSchema({ ...jsonSchema, $ref: '#/$defs/record', type: undefined, required: undefined, properties: undefined, additionalProperties: undefined } as Parameters<typeof z.fromJSONSchema>[0]);

const ts = '2024-06-01T10:00:00.000Z';
const van = { gatewayId: 'van-1', incarnation: '0123456789abcdef' };
const records: JournalRecord[] = [
  { kind: 'temperature', ts, tq: 'gps', probe: 'p1', compartment: 'front', value: 3.4, quality: 'good', seq: 1 },
  { kind: 'temperature', ts, tq: 'gps', probe: 'p2', value: null, quality: 'comms-error', error: 'timeout', seq: 2 },
  { kind: 'position', ts, tq: 'gps', mode: 3, lat: 52.37, lon: 4.89, speed: 13.9, track: 270, seq: 3 },
  { kind: 'event', ts, tq: 'system', type: 'alarm', severity: 'critical', source: 'front', message: 'front above 5 C', data: { value: 6.1 }, seq: 4 },
  { kind: 'gap', ts, tq: 'system', fromSeq: 5, toSeq: 9, count: 4, reason: 'max-bytes', seq: 10 },
  { kind: 'gap', ts, tq: 'system', fromSeq: 10, toSeq: 11, count: 120, reason: 'ENOSPC', lane: 'telemetry', fromTs: ts, toTs: '2024-06-01T10:01:00.000Z', seq: 11 },
];

describe('payload contract', () => {
  it('batches, plain and deflated, match batch.schema.json, and so do the records they decode to', () => {
    expect(jsonSchema.properties.schema.const).toBe(BATCH_SCHEMA);
    for (const encoding of ['identity', 'deflate'] as const) {
      const payload = encodeBatch(van, 'telemetry', records, encoding);
      const doc = parseBatch(payload);
      expect(batchSchema.safeParse(doc).error).toBeUndefined();
      expect(doc.rows).toHaveLength(1);
      for (const r of decodeBatch(payload).records) expect(recordSchema.safeParse(r).error).toBeUndefined();
    }
  });

  it('what a real uplink publishes over MQTT 3.1.1 (no properties) says its encoding, decodes, and matches the schema', async () => {
    const broker = await startEmbeddedBroker('127.0.0.1', 0, silentLogger);
    const journal = await Journal.open(path.join(tmp.dir, 'v311'), JournalConfig.parse({}), silentLogger);
    const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0 });
    const uplink = new Uplink(UplinkConfig.parse({ url: broker.url, protocolVersion: 4, batchIntervalMs: 50 }), { journal, log: silentLogger, gatewayId: 'van-1', version: 'test', latest: () => ({ doc: { gatewayId: 'van-1', ts }, changeKey: '' }) });
    try {
      const got: { topic: string; payload: Buffer }[] = [];
      sub.on('message', (topic, payload) => got.push({ topic, payload }));
      await sub.subscribeAsync('coldgate/v1/van-1/#', { qos: 1 });
      const drafts = records.map(({ seq: _seq, ...draft }) => draft as RecordDraft);
      const accepted = [...(await journal.appendMany(drafts)), ...(await journal.appendMany(drafts))];
      uplink.start();
      const decoded = () => got.filter((m) => /\/(telemetry|events)$/.test(m.topic)).flatMap((m) => decodeBatch(m.payload).records);
      await waitFor(() => decoded().length === accepted.length, 10_000, 'every record at the 3.1.1 subscriber');
      expect(decoded().sort((a, b) => a.seq - b.seq)).toEqual(accepted);
      for (const { topic, payload } of got) {
        if (topic.endsWith('/status')) continue;
        // zlib with the preset dictionary, named in its header.
        expect([payload[0], payload[1]! & 0x20, payload.readUInt32BE(2)]).toEqual([0x78, 0x20, DICTIONARY_ID]);
        if (topic.endsWith('/latest')) expect(decodeJson(payload)).toEqual({ gatewayId: 'van-1', ts });
        else expect(batchSchema.safeParse(parseBatch(payload)).error).toBeUndefined();
      }
      expect(got.map((m) => m.topic.split('/').pop())).toEqual(expect.arrayContaining(['status', 'latest', 'telemetry', 'events']));
    } finally {
      await uplink.stop();
      await sub.endAsync();
      await journal.close();
      await broker.close();
    }
  });

  it('the schema refuses what a consumer could not use', () => {
    const doc = parseBatch(encodeBatch(van, 'events', records, 'identity'));
    const without = (r: JournalRecord) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'seq'));
    expect(batchSchema.safeParse({ ...doc, records: [without(records[3]!)] }).success).toBe(false);
    expect(batchSchema.safeParse({ ...doc, schema: 'coldgate.batch/3' }).success).toBe(false);
    // Without its incarnation a seq is ambiguous: a wiped journal counts from 1 again.
    expect(batchSchema.safeParse(Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'incarnation'))).success).toBe(false);
    expect(batchSchema.safeParse({ ...doc, incarnation: 'x' }).success).toBe(false);
    expect(recordSchema.safeParse(without(records[4]!)).success).toBe(false);
    expect(recordSchema.safeParse({ ...records[0], quality: 'fine' }).success).toBe(false);
    // A gap of unrecorded readings says which lane and when; a retention gap has no error code.
    const { lane: _lane, ...noLane } = records[5] as JournalRecord & { lane: string };
    expect(recordSchema.safeParse(noLane).success).toBe(false);
    expect(recordSchema.safeParse({ ...records[4], reason: 'ENOSPC' }).success).toBe(false);
    expect(batchSchema.safeParse({ ...doc, probes: [{ probe: 'p', scale: 4 }] }).success).toBe(false);
    expect(batchSchema.safeParse({ ...doc, rows: [{ t: 0, s: 1, p: [0], v: [1.5] }] }).success).toBe(false);
  });

  it('the AsyncAPI document names every topic the uplink uses and points at the schema', () => {
    const doc = readFileSync(new URL('asyncapi.yaml', dir), 'utf8');
    expect(doc).toMatch(/^asyncapi: 3\.0\.0$/m);
    const topics = topicsFor('coldgate/v1', '{gatewayId}');
    for (const topic of [topics.status, topics.latest, topics.telemetry, topics.events, `${topics.commands}{name}`, `${topics.replies}{id}`, topics.committed, `${topics.commands}replay`, `${topics.replies}replay`]) expect(doc).toContain(`address: ${topic}\n`);
    expect(doc).toContain("$ref: './batch.schema.json'");
    expect(doc).toContain('content-encoding');
    expect(doc).toContain(`DICTID ${DICTIONARY_ID.toString(16)}`);
  });
});
