/**
 * Real storage faults: a data directory on a small tmpfs filled to ENOSPC, and an ext4 image
 * that the kernel remounts read-only under the open journal (a failing SD card). The alarms
 * must keep working, the failure is itself an alarm, and once the disk takes writes again the
 * journal writes the held events and one gap record per run of readings it could not keep.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { GapDraft, JournalRecord, RecordDraft } from '../src/core/types.ts';
import { Journal } from '../src/journal/journal.ts';
import { probeWrite } from '../src/journal/write-fault.ts';
import { canMount, Ext4Image, hasExt4Tools, SmallTmpfs } from './helpers/faulty-disk.ts';
import { waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('journal-fault-');
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => undefined);
  tmp.cleanup();
});

let ms = Date.UTC(2026, 0, 1);
const reading = (i: number): RecordDraft => ({ kind: 'temperature', ts: new Date((ms += 100)).toISOString(), tq: 'system', probe: `p${i % 4}`, value: 3 + (i % 10) / 10, quality: 'good' });
const event = (i: number): RecordDraft => ({ kind: 'event', ts: new Date((ms += 100)).toISOString(), tq: 'system', type: 'alarm.raised', severity: 'critical', message: `event ${i}` });

const root = canMount();

describe.runIf(root)('journal on a disk that fills up', () => {
  it('rejects readings, holds events and state, retries on its own; once space is freed: held events, the newest state and one ENOSPC gap with the time range', async () => {
    const disk = SmallTmpfs.mount(path.join(tmp.dir, 'enospc'), '2m');
    cleanups.push(() => disk.unmount());
    const j = await Journal.open(path.join(disk.dir, 'journal'), JournalConfig.parse({ fsync: true, commitIntervalMs: 5 }), silentLogger);
    cleanups.push(() => j.close());
    const accepted = await j.appendMany(Array.from({ length: 10 }, (_, i) => reading(i)));

    disk.fill();
    // The last page LevelDB's log already has may still take a few commits.
    const refused: RecordDraft[] = [];
    let i = 0;
    while (j.stats().writable) {
      const drafts = Array.from({ length: 50 }, () => reading(i++));
      await j.appendMany(drafts).then(
        (records) => accepted.push(...records),
        () => refused.push(...drafts),
      );
    }
    const lastBefore = accepted[accepted.length - 1]!.seq;
    expect(j.health()).toMatchObject({ state: 'offline', fault: 'ENOSPC' });
    expect(j.health().detail).toMatch(/cannot write since .* \(ENOSPC\)/);

    // While it cannot write: readings are refused at once, events wait in memory.
    const during = Array.from({ length: 30 }, () => reading(i++));
    await expect(j.appendMany(during)).rejects.toThrow(/journal write failed: ENOSPC/);
    refused.push(...during);
    const events = [event(1), event(2), event(3)];
    const eventsWritten = events.map((e) => j.append(e));
    await expect(j.putState('rules', Buffer.from('old'))).rejects.toThrow(/ENOSPC/);
    await expect(j.putState('rules', Buffer.from('newest'))).rejects.toThrow(/ENOSPC/);
    await waitFor(() => j.stats().heldEvents === 3, 2000, 'the events to be held');
    expect(j.stats().unrecorded).toBe(refused.length);
    // Some retries pass while the disk stays full: nothing changes, nothing crashes.
    await new Promise((r) => setTimeout(r, 1500));
    expect(j.stats()).toMatchObject({ writable: false, heldEvents: 3 });

    disk.free();
    const written = await Promise.all(eventsWritten);
    expect(j.stats()).toMatchObject({ writable: true, heldEvents: 0 });
    expect(j.health().state).toBe('ok');
    const lane = await j.read('events', 0, 100);
    const gaps = lane.filter((r): r is GapDraft & { seq: number } => r.kind === 'gap');
    expect(gaps).toHaveLength(1);
    const gap = gaps[0]!;
    expect(gap).toMatchObject({ reason: 'ENOSPC', lane: 'telemetry', count: refused.length, fromSeq: lastBefore, toSeq: gap.seq });
    expect(gap.fromTs).toBe(refused[0]!.ts);
    expect(gap.toTs).toBe(refused[refused.length - 1]!.ts);
    // The gap sits right after the last record before the hole, the held events after it, in order.
    expect(lane.map((r) => r.seq)).toEqual([gap.seq, ...written.map((r) => r.seq)]);
    expect(written.map((r) => (r.kind === 'event' ? r.message : ''))).toEqual(['event 1', 'event 2', 'event 3']);
    expect((await j.readState('rules'))?.toString()).toBe('newest');
    const telemetry = await j.read('telemetry', 0, 1000);
    expect(telemetry.map((r) => r.seq)).toEqual(accepted.map((r) => r.seq));
    // And it keeps writing.
    const after = await j.append(reading(0));
    expect(after.seq).toBeGreaterThan(written[written.length - 1]!.seq);
  });
});

describe.runIf(root)('an immutable data directory', () => {
  it('is named EPERM by the write probe the journal retries with', () => {
    const disk = SmallTmpfs.mount(path.join(tmp.dir, 'immutable'), '1m');
    cleanups.push(() => disk.unmount());
    expect(probeWrite(disk.dir)).toBeUndefined();
    execFileSync('chattr', ['+i', disk.dir]);
    cleanups.push(() => execFileSync('chattr', ['-i', disk.dir]));
    expect(probeWrite(disk.dir)).toBe('EPERM');
  });
});
