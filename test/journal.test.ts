import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal, JournalError } from '../src/journal/journal.ts';
import { MAX_HELD_EVENTS } from '../src/journal/refused.ts';
import { NAMES_KEY } from '../src/journal/keys.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { RecordDraft } from '../src/core/types.ts';
import { tempDir } from './helpers/tmp.ts';

const cfg = JournalConfig.parse({ commitIntervalMs: 5 });
const temp = (probe: string, value: number): RecordDraft => ({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe, value, quality: 'good' });
const event = (type: string): RecordDraft => ({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type, severity: 'warning', message: type });

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function dir(): string {
  const t = tempDir('journal-');
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('journal on LevelDB', () => {
  it('assigns increasing seq across lanes and commits many records per write', async () => {
    const j = await Journal.open(dir(), cfg, silentLogger);
    const records = await Promise.all([temp('a', 1), event('x'), temp('b', 2), temp('a', 3)].map((d) => j.append(d)));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect((await j.read('telemetry', 0, 100)).map((r) => r.seq)).toEqual([1, 3, 4]);
    expect((await j.read('events', 0, 100)).map((r) => r.seq)).toEqual([2]);
    // One group commit: one chunk per lane, not one key per record.
    const keys = [];
    for await (const k of j.db.keys({ gte: 'c!', lt: 'c"' })) keys.push(k);
    expect(keys).toHaveLength(2);
    await j.close();
  });

  it('gives the same draft object appended twice two seqs', async () => {
    const j = await Journal.open(dir(), cfg, silentLogger);
    const e = event('again');
    const [a, b] = await Promise.all([j.append(e), j.append(e)]);
    const c = await j.append(e);
    expect([a.seq, b.seq, c.seq]).toEqual([1, 2, 3]);
    expect((await j.read('events', 0, 10)).map((r) => r.seq)).toEqual([1, 2, 3]);
    await j.close();
  });

  it('appendMany: keeps the order, one promise and one commit for the batch, records in order', async () => {
    const j = await Journal.open(dir(), cfg, silentLogger);
    const first = await j.append(temp('a', 0));
    const drafts = [temp('a', 1), event('x'), temp('b', 2), temp('a', 3)];
    const batch = j.appendMany(drafts);
    const single = j.append(temp('c', 4));
    const records = await batch;
    // The drafts themselves became the records: no copy per reading.
    expect(records).toBe(drafts);
    expect(records.map((r) => r.seq)).toEqual([2, 3, 4, 5]);
    expect((await single).seq).toBe(6);
    expect((await j.read('telemetry', 0, 100)).map((r) => r.seq)).toEqual([first.seq, 2, 4, 5, 6]);
    // The first append had its own commit; the batch and the append after it share one: one chunk per lane.
    const keys = [];
    for await (const k of j.db.keys({ gte: 'c!', lt: 'c"' })) keys.push(k);
    expect(keys).toHaveLength(3);
    await expect(j.appendMany([])).resolves.toEqual([]);
    await j.close();
  });

  it('appendMany: a draft appended again or twice in one batch gets a copy with its own seq', async () => {
    const j = await Journal.open(dir(), cfg, silentLogger);
    const e = event('again');
    const drafts = [e, e];
    const records = await j.appendMany(drafts);
    expect(records).not.toBe(drafts);
    expect(drafts).toEqual([e, e]);
    expect(records.map((r) => r.seq)).toEqual([1, 2]);
    expect((await j.appendMany([e]))[0]!.seq).toBe(3);
    expect((await j.read('events', 0, 10)).map((r) => r.seq)).toEqual([1, 2, 3]);
    await j.close();
  });

  it('a failed commit rejects its readings and holds its events; the retry writes them after a gap record for the readings', async () => {
    const j = await Journal.open(dir(), cfg, silentLogger);
    const batch = j.db.batch.bind(j.db);
    let fail = true;
    // LevelDB refusing the write while the filesystem itself is fine: the retry writes at once.
    (j.db as { batch: unknown }).batch = (...args: Parameters<typeof batch>) => (fail ? Promise.reject(new Error('IO error: 000003.log: No space left on device')) : batch(...args));
    const a = j.appendMany([temp('a', 1), temp('b', 2)]);
    const b = j.append(event('x'));
    await expect(a).rejects.toThrow(JournalError);
    await expect(a).rejects.toThrow(/journal write failed: ENOSPC/);
    expect(j.health()).toMatchObject({ state: 'offline', errors: 1, fault: 'ENOSPC', heldEvents: 1 });
    fail = false;
    // b was never rejected: it resolves when the retry (after 1 s) has written it.
    expect((await b).seq).toBe(2);
    expect(j.health().state).toBe('ok');
    const [gap, x] = await j.read('events', 0, 10);
    expect(gap).toMatchObject({ kind: 'gap', seq: 1, fromSeq: 0, toSeq: 1, count: 2, reason: 'ENOSPC', lane: 'telemetry' });
    expect(x).toMatchObject({ kind: 'event', seq: 2, message: 'x' });
    expect((await j.appendMany([temp('c', 3)])).map((r) => r.seq)).toEqual([3]);
    expect((await j.read('telemetry', 0, 100)).map((r) => r.seq)).toEqual([3]);
    await j.close();
  });

  it(`holds at most ${MAX_HELD_EVENTS} events while it cannot write: the oldest are rejected and announced by an events gap`, async () => {
    const j = await Journal.open(dir(), cfg, silentLogger);
    const batch = j.db.batch.bind(j.db);
    let fail = true;
    (j.db as { batch: unknown }).batch = (...args: Parameters<typeof batch>) => (fail ? Promise.reject(new Error('IO error: 000003.log: Read-only file system')) : batch(...args));
    const appends = Array.from({ length: MAX_HELD_EVENTS + 5 }, (_, i) => j.append(event(`e${i}`)).then((r) => r, (err: Error) => err));
    await j.flush();
    expect(j.stats()).toMatchObject({ writable: false, heldEvents: MAX_HELD_EVENTS });
    fail = false;
    const results = await Promise.all(appends);
    expect(results.slice(0, 5).every((r) => r instanceof Error && /holds at most 10000 events/.test(r.message))).toBe(true);
    const written = results.slice(5) as { seq: number; message: string }[];
    expect(written.map((r) => r.message)).toEqual(Array.from({ length: MAX_HELD_EVENTS }, (_, i) => `e${i + 5}`));
    const [gap] = await j.read('events', 0, 1);
    expect(gap).toMatchObject({ kind: 'gap', lane: 'events', reason: 'EROFS', count: 5, seq: 1, fromSeq: 0, toSeq: 1 });
    expect(written[0]!.seq).toBe(2);
    await j.close();
  });

  it('reads from a cursor in the middle of a chunk and after acks', async () => {
    const j = await Journal.open(dir(), cfg, silentLogger);
    await Promise.all(Array.from({ length: 10 }, (_, i) => j.append(temp('p', i))));
    await Promise.all(Array.from({ length: 10 }, (_, i) => j.append(temp('p', 10 + i))));
    expect((await j.read('telemetry', 4, 3)).map((r) => r.seq)).toEqual([5, 6, 7]);
    await j.ack('telemetry', 12);
    expect(j.stats().lanes.telemetry.records).toBe(8);
    expect((await j.read('telemetry', 0, 100)).map((r) => r.seq)).toEqual([13, 14, 15, 16, 17, 18, 19, 20]);
    await j.ack('telemetry', 20);
    expect(j.stats().lanes.telemetry).toMatchObject({ records: 0, bytes: 0, ackedThrough: 20 });
    await j.close();
  });

  it('continues seq and keeps unacked records across a restart', async () => {
    const d = dir();
    const j1 = await Journal.open(d, cfg, silentLogger);
    await Promise.all(Array.from({ length: 5 }, (_, i) => j1.append(temp('p', i))));
    await j1.ack('telemetry', 2);
    await j1.close();
    const j2 = await Journal.open(d, cfg, silentLogger);
    expect(j2.stats().nextSeq).toBe(6);
    expect(j2.stats().lanes.telemetry.records).toBe(3);
    expect((await j2.read('telemetry', 0, 100)).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect((await j2.append(temp('p', 9))).seq).toBe(6);
    await j2.close();
  });

  it('refuses an unwritable data directory with a message that says what to do', async () => {
    // Root writes anywhere, so make the path impossible instead: its parent is a file.
    const parent = path.join(dir(), 'a-file');
    writeFileSync(parent, '');
    const open = Journal.open(path.join(parent, 'data'), cfg, silentLogger);
    await expect(open).rejects.toThrow(JournalError);
    await expect(open).rejects.toThrow(/data directory .*a-file\/data is not writable \(ENOTDIR\).*write access/);
  });

  it('refuses a journal whose names are damaged with a message that names the directory and what to do, and frees the directory', async () => {
    const d = dir();
    const j = await Journal.open(d, cfg, silentLogger);
    await j.append(temp('p', 1));
    await j.db.put(NAMES_KEY, Buffer.from('{"not": "a list"}'));
    await j.close();
    const open = Journal.open(d, cfg, silentLogger);
    await expect(open).rejects.toThrow(JournalError);
    await expect(open).rejects.toThrow(new RegExp(`metadata in ${d}: journal names \\(m!names\\) are not a list .*move ${d} aside`));
    // The failed open left no lock behind: a repaired journal opens again.
    const { Level } = await import('level');
    const db = new Level<string, Buffer>(d, { valueEncoding: 'buffer' });
    await db.put(NAMES_KEY, Buffer.from('[["p",null]]'));
    await db.close();
    const again = await Journal.open(d, cfg, silentLogger);
    expect((await again.read('telemetry', 0, 10)).map((r) => r.kind === 'temperature' && r.probe)).toEqual(['p']);
    await again.close();
  });

  it('says another gateway holds the directory', async () => {
    const d = dir();
    const j = await Journal.open(d, cfg, silentLogger);
    await expect(Journal.open(d, cfg, silentLogger)).rejects.toThrow(/another coldgate/);
    await j.close();
  });
});
