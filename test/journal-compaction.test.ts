import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { RecordDraft } from '../src/core/types.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('compaction-');
afterAll(() => tmp.cleanup());

const ROUNDS = 10;
const PER_ROUND = 200_000;
const PER_COMMIT = 250;

/** LevelDB's background compaction deletes files while we list them: one gone by its stat counts 0. */
function diskBytes(dir: string): number {
  return readdirSync(dir).reduce((n, f) => n + (statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
}

it(`after ${(ROUNDS * PER_ROUND) / 1e6} million acked records, disk use stays flat and the deleted range is compacted`, async () => {
  const dir = path.join(tmp.dir, 'db');
  const j = await Journal.open(dir, JournalConfig.parse({ fsync: false, commitIntervalMs: 1 }), silentLogger);
  let ms = Date.UTC(2024, 0, 1);
  const rounds: { disk: number; firstReadMs: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < PER_ROUND; i += PER_COMMIT) {
      const batch: Promise<unknown>[] = [];
      for (let k = 0; k < PER_COMMIT; k++) {
        const d: RecordDraft = { kind: 'temperature', ts: new Date((ms += 125)).toISOString(), tq: 'system', probe: `p${k % 8}`, value: (k % 17) / 10, quality: 'good' };
        batch.push(j.append(d));
      }
      await j.flush();
      await Promise.all(batch);
    }
    // Drain it as the uplink does: read from the cursor, ack through the last seq.
    let after = j.stats().lanes.telemetry.ackedThrough;
    for (;;) {
      const records = await j.read('telemetry', after, 5000);
      if (records.length === 0) break;
      after = records[records.length - 1]!.seq;
      await j.ack('telemetry', after);
    }
    expect(j.stats().lanes.telemetry.records).toBe(0);
    // One fresh reading, then the first read after a long run of deletes.
    await j.append({ kind: 'temperature', ts: new Date(ms).toISOString(), tq: 'system', probe: 'p0', value: 1, quality: 'good' });
    await j.flush();
    const t0 = performance.now();
    expect(await j.read('telemetry', 0, 1)).toHaveLength(1);
    rounds.push({ disk: diskBytes(dir), firstReadMs: performance.now() - t0 });
  }
  // 8000 chunks deleted at the front: the compactor must have run more than once.
  expect(j.stats().compactions).toBeGreaterThanOrEqual(2);
  await j.close();
  console.log('compaction rounds', rounds.map((r) => `${(r.disk / 1e6).toFixed(2)} MB ${r.firstReadMs.toFixed(2)} ms`).join(', '));
  const early = rounds.slice(0, 3);
  const late = rounds.slice(-3);
  const maxOf = (xs: number[]) => Math.max(...xs);
  // Flat: the last rounds use no more disk than the early ones plus LevelDB's working slack.
  expect(maxOf(late.map((r) => r.disk))).toBeLessThan(maxOf(early.map((r) => r.disk)) * 1.5 + 4e6);
  // The first read's time is logged above, not asserted: speed is the bench's business, and a
  // timed assertion fails on a loaded machine. What keeps it flat (the compactions) is asserted.
}, 120_000);
