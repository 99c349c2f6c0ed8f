/**
 * The trip spool's fsync follows its writes like the journal's group commit: one at a time, and
 * the lines written while one runs are synced by the next. Counted on the real node:fs fsync.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { TemperatureDraft } from '../src/core/types.ts';
import { tempDir } from './helpers/tmp.ts';

const synced = vi.hoisted(() => ({ calls: 0 }));
vi.mock('node:fs', async (original) => {
  const fs = await original<typeof import('node:fs')>();
  const fsync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
    synced.calls++;
    return fs.fsync(fd, cb);
  }) as typeof fs.fsync;
  return { ...fs, default: { ...fs, fsync }, fsync };
});

const { SpoolWriter } = await import('../src/trips/spool.ts');
const tmp = tempDir('spool-sync-');
afterAll(() => tmp.cleanup());
const T0 = Date.UTC(2026, 2, 1, 10);
const reading = (n: number): TemperatureDraft => ({ kind: 'temperature', ts: new Date(T0 + n * 1000).toISOString(), tq: 'system', probe: 'p0', value: 3 + n / 10, quality: 'good' });
const until = async (cond: () => boolean) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('trip spool fsync', () => {
  it('a burst of lines costs one fsync at the end of its turn and one for what came during it, not one per line', async () => {
    mkdirSync(tmp.dir, { recursive: true });
    const file = path.join(tmp.dir, 'van-1-t.spool');
    const spool = new SpoolWriter(file, { trip: 'van-1-t', startedAt: new Date(T0).toISOString(), probes: [{ id: 'p0', compartment: 'chiller' }] }, { maxBytes: 1 << 20, syncMs: 0, onError: (err) => { throw err; } });
    synced.calls = 0;
    for (let n = 0; n < 50; n++) spool.readings([{ i: n, draft: reading(n) }], T0 + n * 1000);
    // Nothing yet: the fsync runs at the end of this turn, once for all 50.
    expect(synced.calls).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(synced.calls).toBe(1);
    // Written while that fsync runs: synced by one more once it ends.
    for (let n = 50; n < 100; n++) spool.readings([{ i: n, draft: reading(n) }], T0 + n * 1000);
    await until(() => synced.calls >= 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(synced.calls).toBe(2);
    spool.close();
    expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(100);
  });
});
