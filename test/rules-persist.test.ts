import { afterEach, describe, expect, it, vi } from 'vitest';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import { Journal } from '../src/journal/journal.ts';
import { chunkKey, stateKey } from '../src/journal/keys.ts';
import { journalRulesStore, type Alarm } from '../src/rules/index.ts';
import { waitFor } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';
import { harness, probe } from './rules-harness.ts';

const config = {
  probes: [probe('p1', 'c1')],
  compartments: [{ id: 'c1', name: 'Chiller', preset: 'chilled', delaySec: 60, clearDelaySec: 60 }],
};

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** The rules' state lives in the gateway's journal (LevelDB), written in its group commits. */
const openDb = (dir: string) => Journal.open(dir, JournalConfig.parse({ commitIntervalMs: 5 }), silentLogger);
const savedState = async (db: Journal) => {
  const bytes = await db.readState('rules');
  return bytes && (JSON.parse(bytes.toString('utf8')) as unknown);
};

describe('rules state in the journal', () => {
  it('a new engine on the same store neither loses nor repeats an alarm', async () => {
    const { dir, cleanup } = tempDir('coldgate-rules-');
    cleanups.push(cleanup);
    let db = await openDb(dir);
    const first = await harness(config, { store: journalRulesStore(db) });
    const trip = first.engine.startTrip('anna');
    first.series(['p1'], 200, () => 7);
    const raised = first.of('alarm.raised').map((x) => x.e.data?.alarm as Alarm);
    expect(raised.map((a) => a.type)).toEqual(['temperature']);
    await first.engine.stop();
    await db.close();

    db = await openDb(dir);
    const second = await harness(config, { store: journalRulesStore(db), startSec: 230 });
    second.series(['p1'], 500, () => 7);
    expect(second.of('alarm.raised')).toEqual([]);
    expect(second.engine.snapshot().alarms.map((a) => [a.id, a.active])).toEqual([[raised[0]!.id, true]]);
    expect(second.engine.snapshot().trip).toMatchObject({ id: trip.id, startedBy: 'anna' });
    expect(second.engine.acknowledge(raised[0]!.id, 'bob')).toBe(true);
    second.series(['p1'], 700, () => 3);
    expect(second.events.map((e) => [e.type, e.data?.alarmId])).toEqual([
      ['alarm.acknowledged', raised[0]!.id],
      ['alarm.cleared', raised[0]!.id],
    ]);
    // The trip's statistics carried over the restart: 20 readings before, 47 after.
    expect(second.engine.endTrip('anna')!.compartments[0]).toMatchObject({ samples: 67, max: 7, min: 3 });
    await second.engine.stop();
    await db.close();
  });

  it('saves on every alarm transition, without waiting for stop', async () => {
    const { dir, cleanup } = tempDir('coldgate-rules-');
    cleanups.push(cleanup);
    const db = await openDb(dir);
    const immediate = { ...config, compartments: [{ ...config.compartments[0], delaySec: 0 }] };
    const h = await harness(immediate, { store: journalRulesStore(db) });
    // Raised inside onRecord, and no tick after it: only the save on the transition can write it.
    h.temp('p1', 7);
    const id = h.engine.snapshot().alarms[0]?.id;
    expect(id).toBeDefined();
    await waitFor(async () => String(JSON.stringify(await savedState(db))).includes(id!), 5000, 'state with the alarm on disk');
    await db.close();
  });

  it.each([
    ['a foreign shape', Buffer.from(JSON.stringify({ v: 1, book: { open: [] } })), /^not the shape this version writes: book\.nextId: .*; compartments: /],
    ['an alarm that is not one', Buffer.from(JSON.stringify({ v: 1, book: { nextId: 2, open: [{ id: 'a1' }] }, compartments: {}, health: {}, episodes: {}, sites: {} })), /^not the shape this version writes: book\.open\[0\]\.key: /],
    ['garbage bytes', Buffer.from([0xff, 0x00, 0x7b, 0x13, 0x88]), /^state "rules" in the journal is not valid JSON at line 1, column 1: /],
    ['another version', Buffer.from(JSON.stringify({ v: 0, alarms: 'old' })), /^saved by another version \(v 0, this one reads v 1\)$/],
  ])('starts fresh from %s on disk, says so in a rules.state-reset event and replaces it', async (_name, bytes, problem) => {
    const { dir, cleanup } = tempDir('coldgate-rules-');
    cleanups.push(cleanup);
    const db = await openDb(dir);
    await db.putState('rules', bytes);
    const h = await harness(config, { store: journalRulesStore(db) });
    expect(h.events.map((e) => [e.type, e.severity, e.source])).toEqual([['rules.state-reset', 'warning', 'van-1']]);
    expect(h.events[0]!.data?.problem).toMatch(problem);
    expect(h.events[0]!.message).toContain('started fresh');
    // The engine works from the fresh state, and the unusable one is gone from disk.
    h.series(['p1'], 400, () => 7);
    expect(h.engine.snapshot().alarms.map((a) => a.type)).toEqual(['temperature']);
    await h.engine.stop();
    expect(await savedState(db)).toMatchObject({ v: 1, book: { nextId: 2 } });
    await db.close();
  });

  it('commits the state in the same batch as the events appended before it', async () => {
    const { dir, cleanup } = tempDir('coldgate-rules-');
    cleanups.push(cleanup);
    const db = await openDb(dir);
    const store = journalRulesStore(db);
    // Every write LevelDB is asked for: a separate put or a second batch would show here.
    const batches = vi.spyOn(db.db, 'batch');
    const puts = vi.spyOn(db.db, 'put');
    const event = db.append({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type: 'alarm.raised', severity: 'critical', message: 'x' });
    const saved = store.save({ v: 1, marker: 'with-event' });
    const [record] = await Promise.all([event, saved]);
    expect(record.seq).toBe(1);
    // One group commit carries both: a single atomic batch holds the event's chunk and the state.
    expect(puts).not.toHaveBeenCalled();
    const keys = batches.mock.calls.map((args: unknown[]) => (args[0] as { key: string }[]).map((op) => op.key));
    expect(keys).toEqual([expect.arrayContaining([chunkKey('events', 1), stateKey('rules')])]);
    expect(await savedState(db)).toEqual({ v: 1, marker: 'with-event' });
    expect((await db.read('events', 0, 10)).map((r) => r.seq)).toEqual([1]);
    expect(db.stats().nextSeq).toBe(2);
    await db.close();
    const again = await openDb(dir);
    expect(await journalRulesStore(again).load()).toEqual({ v: 1, marker: 'with-event' });
    await again.close();
  });
});
