import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fromColumnar, toColumnar } from '../src/journal/columnar.ts';
import { stampParser, decimalsOf, isoFormatter, isCompactable } from '../src/core/readings.ts';
import { chunkHeader, chunkSeqs, decodeChunk, encodeChunk } from '../src/journal/chunk.ts';
import { MAX_NAMES, NameTable } from '../src/journal/names.ts';
import { TokenBucket } from '../src/uplink/rate-limit.ts';
import { keepAll, planRetention, type StoredChunk } from '../src/journal/retention.ts';
import type { JournalRecord } from '../src/core/types.ts';

const t = (seq: number, ts: string, value: number | null, extra: Partial<JournalRecord> = {}): JournalRecord =>
  ({ kind: 'temperature', ts, tq: 'system', probe: 'p1', compartment: 'front', value, quality: 'good', seq, ...extra }) as JournalRecord;

describe('columnar records', () => {
  it('codes the worked example of columnar.ts', () => {
    const records = [t(11, '2024-01-01T00:00:00.000Z', 4.2), t(13, '2024-01-01T00:00:01.000Z', 4.3), t(14, '2024-01-01T00:00:02.000Z', 4.2)];
    expect(toColumnar(records)).toEqual({
      temperatures: [{ probe: 'p1', compartment: 'front', tq: 'system', scale: 1, seq: [11, 2, 1], ts: [1704067200000, 1000, 1000], v: [42, 1, -1] }],
      records: [],
    });
  });

  it('gives back exactly what went in, odd records verbatim and in seq order', () => {
    const records: JournalRecord[] = [
      t(1, '2024-01-01T00:00:00.000Z', -18.25),
      { kind: 'event', ts: '2024-01-01T00:00:00.500Z', tq: 'gps', type: 'alarm', severity: 'critical', message: 'hot', data: { a: 1 }, seq: 2 },
      t(3, '2024-01-01T00:00:01.000Z', null, { quality: 'sensor-fault', error: '0x8000' } as Partial<JournalRecord>),
      t(4, '2024-01-01T00:00:01.000Z', 1 / 3),
      t(5, '2024-01-01T01:00:00+01:00', 5),
      { kind: 'temperature', ts: '2024-01-01T00:00:02.000Z', tq: 'unsynced', probe: 'p2', value: 7, quality: 'good', seq: 6 },
      { kind: 'position', ts: '2024-01-01T00:00:02.000Z', tq: 'gps', mode: 3, lat: 52.1, lon: 4.3, speed: 12.5, seq: 7 },
      { kind: 'gap', ts: '2024-01-01T00:00:03.000Z', tq: 'system', fromSeq: 1, toSeq: 9, count: 3, reason: 'max-bytes', seq: 8 },
      t(9, '2024-01-01T00:00:03.000Z', 1e-3),
      t(10, '2024-01-01T00:00:03.000Z', 4, { raw: 1234 } as Partial<JournalRecord>),
    ];
    const c = toColumnar(records);
    expect(c.records.map((r) => r.seq)).toEqual([2, 3, 4, 5, 7, 8, 10]);
    expect(fromColumnar(JSON.parse(JSON.stringify(c)) as typeof c)).toEqual(records);
    const chunk = encodeChunk(records, 1234, 'ab'.repeat(32));
    expect(chunkHeader(chunk)).toEqual({ count: 10, firstSeq: 1, committedAt: 1234, prev: 'ab'.repeat(32) });
    expect(decodeChunk(chunk)).toEqual(records);
  });

  it('round-trips random readings and stays small', () => {
    const records: JournalRecord[] = [];
    let ms = Date.UTC(2024, 1, 28, 23, 0, 0);
    for (let seq = 1; seq <= 5000; seq++) {
      ms += Math.floor(Math.random() * 400);
      records.push({ kind: 'temperature', ts: new Date(ms).toISOString(), tq: 'system', probe: `p${seq % 8}`, value: Math.round(Math.random() * 400 - 200) / 10 + 0 /* JSON has no -0 */, quality: 'good', seq });
    }
    const chunk = encodeChunk(records, 0, '00'.repeat(32));
    expect(decodeChunk(chunk)).toEqual(records);
    // Random values and times are the worst case; real probes change slowly (see the bench).
    expect(chunk.length / records.length).toBeLessThan(6);
  });

  it('compresses a chunk of any size as well as the default 32 KB window does, and inflates with the default window', () => {
    for (const [n, probes] of [[1, 1], [32, 32], [500, 8], [4096, 128]] as const) {
      const records = Array.from({ length: n }, (_, i) => t(i + 1, new Date(1_704_067_200_000 + Math.floor(i / probes) * 1000).toISOString(), 3 + (i % 7) / 10, { probe: `p${i % probes}` }));
      const value = encodeChunk(records, 0, '0'.repeat(64));
      const json = JSON.stringify(toColumnar(records));
      // The body follows a 56-byte header (chunk.ts).
      expect(value.length - 56).toBe(deflateRawSync(json, { level: 1 }).length);
      expect(inflateRawSync(value.subarray(56)).toString()).toBe(json);
      expect(decodeChunk(value)).toEqual(records);
    }
  });

  it('compacts a good reading with exactly the standard fields, and keeps any other whole', () => {
    const good = t(1, '2024-01-01T00:00:00.000Z', 4.2);
    const { compartment: _c, ...bare } = good as JournalRecord & { compartment?: string };
    expect([good, bare, { ...good, compartment: undefined }].map(isCompactable)).toEqual([true, true, true]);
    const odd: unknown[] = [{ ...good, error: 'x' }, { ...bare, extra: 1 }, { ...good, extra: 1 }, { ...good, compartment: 7 }, { ...bare, tq: undefined, extra: 1 }, { ...good, value: null }, { ...good, quality: 'sensor-fault' }];
    expect(odd.map((r) => isCompactable(r as JournalRecord))).toEqual(odd.map(() => false));
  });

  it('keeps a small commit as plain rows naming probes by index, and gives back exactly what went in', () => {
    const names = new NameTable();
    const at = (ms: number) => new Date(1_704_067_200_000 + ms).toISOString();
    const records: JournalRecord[] = [
      // One poll of three probes (one in no compartment, one with a name JSON must escape), one stamp 2 ms late.
      t(10, at(0), 4.2), t(11, at(0), -0, { probe: 'p"2\u00fc' } as Partial<JournalRecord>), t(12, at(2), 1 / 3, { probe: 'p3', compartment: undefined } as Partial<JournalRecord>),
      { kind: 'event', ts: at(5), tq: 'system', type: 'alarm.raised', severity: 'critical', message: 'hot', data: { a: [1] }, seq: 13 },
      t(14, at(1000), 4.3), t(15, at(1000), 7, { tq: 'gps' } as Partial<JournalRecord>), t(17, at(1000), 5),
      t(18, at(1000), null, { quality: 'sensor-fault', error: '0x8000' } as Partial<JournalRecord>),
      t(19, at(1000), 5, { extra: 1 } as Partial<JournalRecord>), t(20, '2024-01-01T01:00:00+01:00', 5), t(21, at(1000), Infinity),
      { kind: 'position', ts: at(1000), tq: 'gps', mode: 3, lat: 52.1, lon: 4.3, speed: 12.5, seq: 22 },
    ];
    const value = encodeChunk(records, 1234, 'ab'.repeat(32), names);
    expect(value[0]).toBe(3);
    expect(chunkHeader(value)).toEqual({ count: records.length, firstSeq: 10, committedAt: 1234, prev: 'ab'.repeat(32) });
    // As JSON has them: -0 is 0, and a value that is no finite number is null (a verbatim record, as in columnar chunks).
    const expected = records.map((r) => JSON.parse(JSON.stringify(r)) as JournalRecord);
    expect(decodeChunk(value, names)).toEqual(expected);
    expect(chunkSeqs(value)).toEqual(records.map((r) => r.seq));
    expect(() => decodeChunk(value)).toThrow(/needs the journal's names/);
    // The names as the journal stores them read back the same chunk.
    expect(decodeChunk(value, NameTable.parse(names.unwritten()))).toEqual(expected);
    // 32 probes polled at once: smaller than the deflated columnar chunk of the same readings.
    const poll = Array.from({ length: 32 }, (_, i) => t(100 + i, at(5000), 3 + (i % 5) / 10, { probe: `p${i}`, compartment: `c${i >> 3}` } as Partial<JournalRecord>));
    const rows = encodeChunk(poll, 0, '00'.repeat(32), names);
    const columnar = encodeChunk(poll, 0, '00'.repeat(32));
    expect([rows[0], columnar[0]]).toEqual([3, 2]);
    expect(rows.length).toBeLessThan(columnar.length);
    expect(decodeChunk(rows, names)).toEqual(poll);
  });

  it('writes names once, again after an unsure write, and falls back to columnar chunks when the table is full', () => {
    const names = new NameTable();
    expect(names.unwritten()).toBeUndefined();
    expect([names.indexOf('p1', 'front'), names.indexOf('p1', undefined), names.indexOf('p1', 'front')]).toEqual([0, 1, 0]);
    const size = names.size;
    expect(JSON.parse(names.unwritten()!.toString())).toEqual([['p1', 'front'], ['p1', null]]);
    names.wrote(size);
    expect(names.unwritten()).toBeUndefined();
    names.unsure();
    expect(names.unwritten()).toBeDefined();
    names.wrote(names.size);
    for (let i = names.size; i < MAX_NAMES; i++) names.indexOf(`q${i}`, undefined);
    expect(names.indexOf('new', undefined)).toBe(-1);
    const r = [t(1, '2024-01-01T00:00:00.000Z', 4.2, { probe: 'new' } as Partial<JournalRecord>)];
    const value = encodeChunk(r, 0, '00'.repeat(32), names);
    expect(value[0]).toBe(2);
    expect(decodeChunk(value, names)).toEqual(r);
    expect(() => NameTable.parse(Buffer.from('[["a", 1]]'))).toThrow(/bad entry/);
  });

  it('finds decimals and canonical timestamps exactly', () => {
    expect([4, 4.2, 4.25, -0.125, 1 / 3, 0.1 + 0.2].map(decimalsOf)).toEqual([0, 1, 2, 3, -1, -1]);
    const msOf = stampParser();
    expect(msOf('2024-02-29T23:59:59.999Z')).toBe(1709251199999);
    // Each bad stamp after a good one of the same day, and alone: the cached date changes nothing.
    for (const bad of ['2023-02-29T00:00:00.000Z', '2024-13-01T00:00:00.000Z', '2024-01-01T24:00:00.000Z', '2024-01-01T00:00:00Z', '0099-01-01T00:00:00.000Z', '2024-01-01T00:00:00.00xZ', '2024-01-01T00:00:00,000Z']) {
      expect(msOf('2024-01-01T00:00:00.000Z')).toBe(Date.UTC(2024, 0, 1));
      expect(msOf(bad)).toBeNaN();
      expect(msOf(bad)).toBeNaN();
      expect(stampParser()(bad)).toBeNaN();
    }
    // A poll's readings share one stamp: the same stamp twice, then others, then it again.
    for (const ts of ['2024-03-01T10:00:00.000Z', '2024-03-01T10:00:00.000Z', '2024-03-01T10:00:01.250Z', '2024-03-02T00:00:00.000Z', '2024-03-01T10:00:00.000Z']) expect(msOf(ts)).toBe(Date.parse(ts));
    const iso = isoFormatter();
    for (let i = 0; i < 2000; i++) {
      const ms = Math.floor(Math.random() * 4e12) - 1e12;
      expect(iso(ms)).toBe(new Date(ms).toISOString());
      expect(iso(ms + 999)).toBe(new Date(ms + 999).toISOString());
      if (ms >= Date.UTC(100, 0, 1)) expect([msOf(iso(ms)), msOf(iso(ms + 999))]).toEqual([ms, ms + 999]);
    }
  });
});

describe('rate limit and retention plans', () => {
  it('paces bytes as the token bucket example says', () => {
    const b = new TokenBucket(1000, 500, 0);
    expect(b.take(800, 0)).toBe(300);
    expect(b.take(200, 300)).toBe(200);
    expect(b.take(100, 10_000)).toBe(0);
  });

  it('drops the oldest telemetry chunks for room and for age, one gap per run', async () => {
    const chunks: StoredChunk[] = [
      { key: 'c1', lastSeq: 40, bytes: 50, header: { count: 30, firstSeq: 1, committedAt: 0 } },
      { key: 'c2', lastSeq: 80, bytes: 50, header: { count: 30, firstSeq: 42, committedAt: 100 } },
      { key: 'c3', lastSeq: 120, bytes: 50, header: { count: 30, firstSeq: 82, committedAt: 5000 } },
    ];
    const nextChunk = async (seq: number) => chunks.find((c) => c.lastSeq > seq);
    const telemetry = { ackedThrough: 10, deletedThrough: 0, count: 90, bytes: 150, dropped: 0 };
    const plan = await planRetention({ telemetry, headAcked: 5, otherBytes: 40, maxBytes: 150, maxAgeMs: 1000, now: 1200, nextChunk });
    expect(plan.deletes).toEqual(['c1', 'c2']);
    expect(plan.gaps.map(({ fromSeq, toSeq, count, reason }) => ({ fromSeq, toSeq, count, reason }))).toEqual([
      { fromSeq: 11, toSeq: 40, count: 25, reason: 'max-bytes' },
      { fromSeq: 42, toSeq: 80, count: 30, reason: 'max-age' },
    ]);
    expect(plan.telemetry).toMatchObject({ deletedThrough: 80, count: 30, bytes: 50, dropped: 55 });
    expect(plan.overflowing).toBe(false);
    const full = await planRetention({ telemetry, headAcked: 0, otherBytes: 400, maxBytes: 150, maxAgeMs: 1e9, now: 0, nextChunk });
    expect(full.deletes).toHaveLength(3);
    expect(full.overflowing).toBe(true);
  });

  it('looks no chunk up while the journal fits and nothing stored can be older than maxAge', async () => {
    const stored: StoredChunk = { key: 'c1', lastSeq: 40, bytes: 50, header: { count: 40, firstSeq: 1, committedAt: 0 } };
    const asked: number[] = [];
    const nextChunk = async (seq: number) => (asked.push(seq), seq < 40 ? stored : undefined);
    const telemetry = { ackedThrough: 0, deletedThrough: 0, count: 40, bytes: 50, dropped: 0 };
    const fits = { telemetry, headAcked: 0, otherBytes: 0, maxBytes: 1000, maxAgeMs: 1000, nextChunk };
    expect((await planRetention({ ...fits, now: 1000, committedSince: 0 })).deletes).toEqual([]);
    expect(asked).toEqual([]);
    // Older than maxAge since that commit: the front is looked up and goes.
    const old = await planRetention({ ...fits, now: 1001, committedSince: 0 });
    expect(old.gaps.map(({ fromSeq, toSeq, reason }) => ({ fromSeq, toSeq, reason }))).toEqual([{ fromSeq: 1, toSeq: 40, reason: 'max-age' }]);
    expect(asked).toEqual([0, 40]);
    // Over maxBytes: looked up whatever the age.
    expect((await planRetention({ ...fits, otherBytes: 990, now: 1000, committedSince: 0 })).deletes).toEqual(['c1']);
    // The synchronous answer of a steady commit: all kept while it fits and is young, else ask planRetention.
    expect(keepAll({ ...fits, now: 1000, committedSince: 0 })).toEqual({ deletes: [], gaps: [], telemetry, overflowing: false });
    for (const maybe of [{ now: 1001, committedSince: 0 }, { now: 1000, committedSince: 0, otherBytes: 990 }, { now: 1000, committedSince: undefined }]) expect(keepAll({ ...fits, ...maybe })).toBeUndefined();
  });
});
