import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { JournalRecord, Lane, RecordDraft } from '../src/core/types.ts';
import { genesis, hashesOf } from '../src/chain/hash.ts';
import { tempDir } from './helpers/tmp.ts';

/**
 * The journal serves reads and acks of its newest chunks from memory (src/journal/tail.ts).
 * Whatever the mix of lanes, partial reads, acks, retention drops and a restart, a read must
 * give what the disk holds: the same records, and the chain hashes an independent recomputation
 * from the genesis gives.
 */
const cfg = JournalConfig.parse({ commitIntervalMs: 5 });
let n = 0;
const temp = (): RecordDraft => ({ kind: 'temperature', ts: new Date(1_700_000_000_000 + n * 1000).toISOString(), tq: 'system', probe: `p${n % 5}`, value: (n++ % 37) / 10, quality: 'good', compartment: 'front' });
const event = (): RecordDraft => ({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type: 'x', severity: 'info', message: `e${n++}` });

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** A seeded generator: the same sequence of operations on every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

/** Every record ever committed per lane, and the chain hash after each, recomputed here. */
class Oracle {
  readonly records: Record<Lane, JournalRecord[]> = { events: [], telemetry: [] };
  private readonly hashes: Record<Lane, string[]> = { events: [], telemetry: [] };
  constructor(private readonly incarnation: string) {}
  add(lane: Lane, rs: JournalRecord[]) {
    const all = this.records[lane];
    const from = this.hashes[lane].at(-1) ?? genesis(this.incarnation, lane);
    this.hashes[lane].push(...hashesOf(from, rs));
    all.push(...rs);
  }
  hashBefore(lane: Lane, seq: number): string {
    const i = this.records[lane].findIndex((r) => r.seq === seq);
    return i === 0 ? genesis(this.incarnation, lane) : this.hashes[lane][i - 1]!;
  }
  hashAfter(lane: Lane, seq: number): string {
    return this.hashes[lane][this.records[lane].findIndex((r) => r.seq === seq)]!;
  }
}

async function check(j: Journal, o: Oracle, lane: Lane, after: number, limit: number, ackedThrough: number) {
  const read = await j.readChained(lane, after, limit);
  const want = o.records[lane].filter((r) => r.seq > Math.max(after, ackedThrough));
  expect(read.records.length).toBeGreaterThan(0);
  expect(read.records.length).toBeLessThanOrEqual(limit);
  expect(read.records).toEqual(want.slice(0, read.records.length));
  // A chained read may end early only at a chunk's end, never with nothing.
  expect(read.prev).toBe(o.hashBefore(lane, read.records[0]!.seq));
  expect(read.head).toBe(o.hashAfter(lane, read.records.at(-1)!.seq));
  return read;
}

describe('journal tail: reads and acks of the newest chunks from memory', () => {
  it('agrees with an independent recomputation through partial reads, acks, eviction and a restart', async () => {
    const t = tempDir('tail-');
    cleanups.push(t.cleanup);
    let j = await Journal.open(t.dir, cfg, silentLogger);
    const o = new Oracle(j.stats().incarnation);
    const rand = rng(7);
    const acked: Record<Lane, number> = { events: 0, telemetry: 0 };
    let reads = 0;
    for (let step = 0; step < 300; step++) {
      // Commits of 1 to 40 readings, sometimes with events; now and then one past the tail's bound (4096).
      const drafts: RecordDraft[] = [];
      const size = step % 97 === 50 ? 5000 : 1 + Math.floor(rand() * 40);
      for (let i = 0; i < size; i++) drafts.push(rand() < 0.1 ? event() : temp());
      const records = await j.appendMany(drafts);
      for (const lane of ['events', 'telemetry'] as const) o.add(lane, records.filter((r) => (r.kind === 'event' ? 'events' : 'telemetry') === lane));
      for (const lane of ['events', 'telemetry'] as const) {
        const held = o.records[lane].filter((r) => r.seq > acked[lane]);
        if (held.length === 0) continue;
        // From the ack cursor, or from inside what is held; whole or partial.
        const from = rand() < 0.5 ? acked[lane] : held[Math.floor(rand() * held.length)]!.seq - 1;
        const read = await check(j, o, lane, from, 1 + Math.floor(rand() * 60), acked[lane]);
        reads++;
        if (rand() < 0.6) {
          const to = read.records.at(-1)!.seq;
          await j.ack(lane, to);
          acked[lane] = to;
          expect(j.stats().lanes[lane].records).toBe(o.records[lane].filter((r) => r.seq > to).length);
          expect(j.stats().lanes[lane].ackedThrough).toBe(to);
        }
      }
      if (step === 150) {
        // The same questions answered from the disk alone.
        await j.close();
        j = await Journal.open(t.dir, cfg, silentLogger);
        for (const lane of ['events', 'telemetry'] as const) expect(j.stats().lanes[lane].records).toBe(o.records[lane].filter((r) => r.seq > acked[lane]).length);
      }
    }
    expect(reads).toBeGreaterThan(400);
    await j.close();
  }, 60_000);

  it('reads back and acks the last commits without a LevelDB iterator', async () => {
    const t = tempDir('tail-');
    cleanups.push(t.cleanup);
    const j = await Journal.open(t.dir, cfg, silentLogger);
    // Retention finds the front chunk once; from then on it remembers it (journal.ts nextChunk).
    await j.appendMany([temp()]);
    await j.appendMany([temp()]);
    let iterators = 0;
    const original = j.db.iterator.bind(j.db);
    j.db.iterator = ((...args: Parameters<typeof original>) => {
      iterators++;
      return original(...args);
    }) as typeof j.db.iterator;
    for (let i = 0; i < 5; i++) await j.appendMany([temp(), temp(), temp()]);
    const read = await j.readChained('telemetry', 0, 100);
    expect(read.records.map((r) => r.seq)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
    await j.ack('telemetry', 10);
    expect(j.stats().lanes.telemetry.records).toBe(7);
    expect((await j.readChained('telemetry', 10, 100)).records.map((r) => r.seq)).toEqual([11, 12, 13, 14, 15, 16, 17]);
    expect(iterators).toBe(0);
    await j.close();
  });
});
