import { describe, expect, it } from 'vitest';
import { batchDoc, encodeBatch, BATCH_SCHEMA } from '../src/uplink/wire/batch.ts';
import { pack, unpack } from '../src/uplink/wire/envelope.ts';
import { DICTIONARY_ID } from '../src/uplink/wire/dictionary.ts';
import { decodeBatch, decodeJson } from '../src/uplink/decode.ts';
import type { JournalRecord, TemperatureDraft } from '../src/core/types.ts';

const van = { gatewayId: 'van-1', incarnation: '0123456789abcdef' };
const T0 = Date.UTC(2024, 0, 1);
const at = (ms: number) => new Date(T0 + ms).toISOString();
const t = (seq: number, ms: number, probe: string, value: number | null, extra: Partial<TemperatureDraft> = {}): JournalRecord =>
  ({ kind: 'temperature', ts: at(ms), tq: 'system', probe, compartment: 'front', value, quality: 'good', seq, ...extra }) as JournalRecord;
/** `polls` polls of `probes` probes 1 s apart, seqs consecutive within a poll. */
const polls = (probes: number, n: number, value: (poll: number, probe: number) => number, seq0 = 1): JournalRecord[] =>
  Array.from({ length: n * probes }, (_, i) => t(seq0 + i, Math.floor(i / probes) * 1000 + (Math.floor(i / probes) % 7), `p${i % probes}`, value(Math.floor(i / probes), i % probes), { compartment: `c${(i % probes) >> 3}` }));

const cases: [string, JournalRecord[]][] = [
  ['one reading', [t(7, 0, 'p1', 4.2)]],
  ['sensor faults and comms errors with null values, verbatim', [t(1, 0, 'p1', 4.2), t(2, 0, 'p2', null, { quality: 'sensor-fault', error: '0x8000' }), t(3, 0, 'p3', null, { quality: 'comms-error', error: 'timeout' }), t(4, 1000, 'p1', 4.3)]],
  ['a good reading with a value that is not 3 decimals, or -0, or negative', [t(1, 0, 'p1', 1 / 3), t(2, 0, 'p2', -0.125), t(3, 0, 'p3', -18.5), t(4, 1000, 'p1', 0.1 + 0.2)]],
  ['positions, events and gaps between readings', [
    t(1, 0, 'p1', 4.2),
    { kind: 'position', ts: at(10), tq: 'gps', mode: 3, lat: 52.1, lon: 4.3, speed: 12.5, track: 90, altMSL: 3, seq: 2 },
    { kind: 'event', ts: at(20), tq: 'gps', type: 'alarm.raised', severity: 'critical', source: 'front', message: 'hot', data: { a: 1 }, seq: 3 },
    { kind: 'gap', ts: at(30), tq: 'system', fromSeq: 1, toSeq: 9, count: 3, reason: 'max-bytes', seq: 4 },
    t(5, 1000, 'p1', 4.2),
  ]],
  ['time qualities change between rows; a probe without compartment', [t(1, 0, 'p1', 4, { tq: 'unsynced' }), t(2, 0, 'p2', 5, { tq: 'gps', compartment: undefined }), t(3, 1000, 'p1', 4, { tq: 'gps' })]],
  ['non-canonical stamps and extra fields stay verbatim', [t(1, 0, 'p1', 5, { ts: '2024-01-01T01:00:00+01:00' }), t(2, 0, 'p2', 4, { raw: 1234 } as Partial<TemperatureDraft>), t(3, 0, 'p3', 4)]],
  ['the same probe twice at one stamp, and seqs that skip', [t(1, 0, 'p1', 4), t(2, 0, 'p1', 5), t(5, 0, 'p2', 6), t(9, 1000, 'p1', 4)]],
  ['scales differ per probe and within one', [t(1, 0, 'p1', 4), t(2, 0, 'p2', 4.25), t(3, 1000, 'p1', 4.125), t(4, 1000, 'p2', -4)]],
  ['polls across midnight and a year end', polls(8, 4, (p, i) => (p * 7 + i) / 10).map((r) => ({ ...r, ts: new Date(Date.UTC(2024, 11, 31, 23, 59, 58) + (Date.parse(r.ts) - T0)).toISOString() }))],
  ['128 probes, 5 polls, slow change', polls(128, 5, (p, i) => 3 + ((p + i) % 3) / 10)],
  ['each reading of a poll stamped on its own, later or earlier', polls(16, 6, (p, i) => (p - i) / 10).map((r, i) => ({ ...r, ts: at(Math.floor(i / 16) * 1000 + ((i * 37) % 50) - 10) }))],
];

describe('coldgate.batch/4 codec', () => {
  it.each(cases)('round trip: %s', (_name, records) => {
    const sorted = [...records].sort((a, b) => a.seq - b.seq);
    for (const encoding of ['identity', 'deflate'] as const) {
      const payload = encodeBatch(van, 'telemetry', sorted, encoding);
      expect(payload[0]).toBe(encoding === 'deflate' ? 0x78 : 0x7b);
      const batch = decodeBatch(payload);
      expect(batch).toMatchObject({ schema: BATCH_SCHEMA, ...van, lane: 'telemetry', fromSeq: sorted[0]!.seq, toSeq: sorted.at(-1)!.seq, count: sorted.length });
      // JSON has no -0 and no undefined fields: compare with what JSON itself gives back.
      expect(batch.records).toEqual(JSON.parse(JSON.stringify(sorted)));
    }
  });

  it('codes the worked example of wire/batch.ts', () => {
    const records = [
      t(11, 0, 'p1', 4.2),
      t(12, 0, 'p2', -18.5, { compartment: 'rear' }),
      t(14, 1000, 'p1', 4.3),
      t(15, 1002, 'p2', -18.5, { compartment: 'rear' }),
    ];
    const { probes, rows, records: rest } = batchDoc(van, 'telemetry', records);
    expect({ probes, rows, rest }).toEqual({
      probes: [{ probe: 'p1', compartment: 'front', scale: 1 }, { probe: 'p2', compartment: 'rear', scale: 1 }],
      rows: [{ t: 1704067200000, s: 11, p: [0, 1], v: [42, -185] }, { t: 1000, s: 2, v: [1, 0], d: [0, 2] }],
      rest: [],
    });
  });

  it('a batch spanning a config change puts every reading on the probe and compartment it was read under', () => {
    // p1 moved from front to rear, and p2 became p3 on the same register, while the link was down.
    const records = [t(1, 0, 'p1', 4), t(2, 0, 'p2', 5), t(3, 1000, 'p1', 4, { compartment: 'rear' }), t(4, 1000, 'p3', 5)];
    const got = decodeBatch(encodeBatch(van, 'telemetry', records, 'deflate')).records as TemperatureDraft[];
    expect(got.map((r) => [r.probe, r.compartment])).toEqual([['p1', 'front'], ['p2', 'front'], ['p1', 'rear'], ['p3', 'front']]);
  });

  it('a 5 s batch of 32 probes costs under 2 bytes a reading, under a fifth of its plain JSON', () => {
    const records = polls(32, 5, (p, i) => 3 + (((p * 13 + i * 7) % 5) - 2) / 10);
    const payload = encodeBatch(van, 'telemetry', records, 'deflate');
    expect(payload.length / records.length).toBeLessThan(2);
    expect(payload.length * 5).toBeLessThan(encodeBatch(van, 'telemetry', records, 'identity').length);
  });

  it('keeps the preset dictionary frozen: consumers find it by its DICTID', () => {
    // A different dictionary is a new DICTID added beside this one (wire/dictionary.ts), never an edit.
    expect(DICTIONARY_ID.toString(16)).toBe('fd4e0292');
  });

  it('refuses what it cannot decode, naming why', () => {
    expect(() => unpack(Buffer.from('hello'))).toThrow(/neither JSON nor zlib \(first bytes 68656c6c\)/);
    expect(() => unpack(Buffer.alloc(0))).toThrow(/first bytes none/);
    const other = pack('{"a":1}', 'deflate');
    other.writeUInt32BE(0x12345678, 2);
    expect(() => unpack(other)).toThrow(`payload needs preset dictionary 12345678; this decoder knows ${DICTIONARY_ID.toString(16)}`);
    expect(() => decodeBatch(Buffer.from('{"schema":"coldgate.batch/3"}'))).toThrow(/unknown batch schema coldgate.batch\/3 \(expected coldgate.batch\/4\)/);
    const doc = batchDoc(van, 'telemetry', [t(1, 0, 'p1', 4)]);
    expect(() => decodeBatch(Buffer.from(JSON.stringify({ ...doc, rows: [{ t: 0, s: 1, p: [3], v: [1] }] })))).toThrow('batch rows[0].p[0]: no probe 3 (the batch names 1)');
    expect(() => decodeBatch(Buffer.from(JSON.stringify({ ...doc, count: 2 })))).toThrow('batch count 2 but it holds 1 records');
    expect(() => decodeBatch(Buffer.from(JSON.stringify({ ...doc, rows: [{ t: 0, s: 1, p: [0], v: [1], d: [0, 1] }] })))).toThrow('batch rows[0]: 1 values and 2 offsets for 1 probes');
    // Plain zlib without the dictionary (another producer) is read too.
    expect(decodeJson(Buffer.from([0x78, 0x9c, 0xab, 0x56, 0x4a, 0x54, 0xb2, 0x32, 0xac, 0x05, 0x00, 0x08, 0x2a, 0x02, 0x09]))).toEqual({ a: 1 });
  });
});
