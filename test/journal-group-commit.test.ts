import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { chunkHeader } from '../src/journal/chunk.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { RecordDraft } from '../src/core/types.ts';
import { tempDir } from './helpers/tmp.ts';

const temp = (probe: string, value: number): RecordDraft => ({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe, value, quality: 'good' });
const poll = (n: number, from: number) => Array.from({ length: n }, (_, i) => temp(`p${i}`, from + i));
const turn = () => new Promise<void>((r) => setImmediate(r));

const tmp = tempDir('journal-group-');
afterAll(() => tmp.cleanup());
let journals = 0;
const dir = () => path.join(tmp.dir, String(journals++));

type Ops = { type: string; key: string; value?: Buffer }[];

/**
 * Records every batch the journal writes from now on; `hold` makes the writes wait until
 * `release`. Two commits go before: the first ones look up the lane's front for retention (a
 * LevelDB read), which later commits know without a read.
 */
async function watchBatches(j: Journal) {
  await j.appendMany(poll(1, -2));
  await j.appendMany(poll(1, -1));
  const db = j.db as unknown as { batch: (ops: Ops, o?: object) => Promise<void> };
  const original = db.batch.bind(db);
  const batches: Ops[] = [];
  let gate: Promise<void> = Promise.resolve();
  let open = () => undefined as void;
  db.batch = async (ops, o) => {
    batches.push(ops);
    await gate;
    return original(ops, o);
  };
  return {
    batches,
    hold: () => (gate = new Promise<void>((r) => (open = r))),
    release: () => open(),
    /** Records per chunk put, in the order written. */
    chunkCounts: () => batches.flatMap((ops) => ops.filter((op) => op.type === 'put' && op.key.startsWith('c!')).map((op) => chunkHeader(op.value!).count)),
  };
}

describe('group commit', () => {
  it('by default writes an append in the event-loop turn it came in, with no timer of its own', async () => {
    const j = await Journal.open(dir(), JournalConfig.parse({ fsync: false }), silentLogger);
    const w = await watchBatches(j);
    const done = j.appendMany(poll(32, 0));
    // The journal armed its commit before this immediate: by now its batch has been issued.
    await turn();
    expect(w.batches).toHaveLength(1);
    expect((await done).map((r) => r.seq)[31]).toBe(34);
    await j.close();
  });

  it('appends that arrive while a commit is being written form the next group, written as soon as it is done', async () => {
    const j = await Journal.open(dir(), JournalConfig.parse({ fsync: false }), silentLogger);
    const w = await watchBatches(j);
    w.hold();
    const first = j.appendMany(poll(4, 0));
    await turn();
    expect(w.batches).toHaveLength(1);
    // Three appends in three later turns while the first write is held: they wait, as one group.
    const later = [j.appendMany(poll(2, 10))];
    await turn();
    later.push(j.appendMany(poll(3, 20)));
    await turn();
    later.push(j.appendMany(poll(1, 30)));
    await turn();
    expect(w.batches).toHaveLength(1);
    w.release();
    await first;
    await Promise.all(later);
    expect(w.chunkCounts()).toEqual([4, 6]);
    expect((await j.read('telemetry', 0, 100)).map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    await j.close();
  });

  it('commitIntervalMs > 0 waits that long for more appends', async () => {
    const j = await Journal.open(dir(), JournalConfig.parse({ fsync: false, commitIntervalMs: 40 }), silentLogger);
    const w = await watchBatches(j);
    const a = j.appendMany(poll(2, 0));
    await turn();
    await new Promise((r) => setTimeout(r, 10));
    const b = j.appendMany(poll(3, 10));
    await turn();
    expect(w.batches).toHaveLength(0);
    await Promise.all([a, b]);
    expect(w.chunkCounts()).toEqual([5]);
    await j.close();
  });

  it('an explicit flush commits what is queued at once; the armed commit then finds nothing', async () => {
    const j = await Journal.open(dir(), JournalConfig.parse({ fsync: false }), silentLogger);
    const w = await watchBatches(j);
    const a = j.appendMany(poll(2, 0));
    await j.flush();
    await a;
    await turn();
    const b = j.appendMany(poll(1, 10));
    await b;
    expect(w.chunkCounts()).toEqual([2, 1]);
    await j.close();
  });
});
