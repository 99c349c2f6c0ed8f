import { rmSync } from 'node:fs';
import path from 'node:path';
import { Level } from 'level';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { INCARNATION } from '../src/journal/incarnation.ts';
import { INCARNATION_KEY } from '../src/journal/keys.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { JournalRecord, RecordDraft } from '../src/core/types.ts';
import { journalStatsCommand } from '../src/cli/journal-stats.ts';
import { runCli } from './helpers/cli.ts';
import { Collector, GatewayChild, type Arrival } from './helpers/gateway-child.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { hasPeer } from './helpers/peers.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('incarnation-');
afterAll(() => tmp.cleanup());
const cfg = JournalConfig.parse({ commitIntervalMs: 5 });
const temp = (value: number): RecordDraft => ({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe: 'p1', value, quality: 'good' });
let dirs = 0;
const freshDir = () => path.join(tmp.dir, `journal-${++dirs}`);

async function incarnationAfter(dir: string, appends: number): Promise<{ incarnation: string; seqs: number[] }> {
  const j = await Journal.open(dir, cfg, silentLogger);
  const records = await j.appendMany(Array.from({ length: appends }, (_, i) => temp(i)));
  const { incarnation } = j.stats();
  await j.close();
  return { incarnation, seqs: records.map((r) => r.seq) };
}

describe('journal incarnation', () => {
  it('is kept by every reopen of the same directory and is new for a wiped or another directory', async () => {
    const dir = freshDir();
    const first = await incarnationAfter(dir, 3);
    expect(first.incarnation).toMatch(INCARNATION);
    const reopened = await incarnationAfter(dir, 2);
    expect(reopened).toEqual({ incarnation: first.incarnation, seqs: [4, 5] });

    rmSync(dir, { recursive: true });
    const wiped = await incarnationAfter(dir, 2);
    // The same seqs again: only the incarnation tells these records from the first ones.
    expect(wiped.seqs).toEqual([1, 2]);
    expect(wiped.incarnation).toMatch(INCARNATION);
    expect(wiped.incarnation).not.toBe(first.incarnation);

    const elsewhere = await incarnationAfter(freshDir(), 1);
    expect(elsewhere.seqs).toEqual([1]);
    expect([first.incarnation, wiped.incarnation]).not.toContain(elsewhere.incarnation);

    // What a person on the box compares with the cloud's records.
    expect((await runCli(journalStatsCommand, ['--data', dir])).out).toMatch(new RegExp(`^incarnation ${wiped.incarnation}, next seq 3,`));
    expect(JSON.parse((await runCli(journalStatsCommand, ['--data', dir, '--json'])).out)).toMatchObject({ incarnation: wiped.incarnation, nextSeq: 3 });
  });

  it('gives a journal written before incarnations one, keeps its records and seq, and mints a new one for an unreadable value', async () => {
    const dir = freshDir();
    await incarnationAfter(dir, 3);
    const raw = async (edit: (db: Level<string, Buffer>) => Promise<void>) => {
      const db = new Level<string, Buffer>(dir, { valueEncoding: 'buffer' });
      await db.open();
      await edit(db);
      await db.close();
    };
    await raw((db) => db.del(INCARNATION_KEY));
    const legacy = await Journal.open(dir, cfg, silentLogger);
    const given = legacy.stats().incarnation;
    expect(given).toMatch(INCARNATION);
    expect(legacy.stats().nextSeq).toBe(4);
    expect((await legacy.read('telemetry', 0, 10)).map((r) => r.seq)).toEqual([1, 2, 3]);
    await legacy.close();
    expect((await incarnationAfter(dir, 0)).incarnation).toBe(given);

    await raw((db) => db.put(INCARNATION_KEY, Buffer.from('not hex')));
    const minted = await incarnationAfter(dir, 1);
    expect(minted.incarnation).toMatch(INCARNATION);
    expect(minted.incarnation).not.toBe(given);
    expect(minted.seqs).toEqual([4]);
  });
});

/** A consumer's de-duplication on `key`: distinct keys, and arrivals whose key already named a different record. */
function keyed(arrivals: readonly Arrival[], key: (a: Arrival, r: JournalRecord) => string): { keys: number; collisions: number } {
  const seen = new Map<string, string>();
  let collisions = 0;
  for (const a of arrivals) {
    for (const r of a.records ?? []) {
      const k = key(a, r);
      const print = JSON.stringify(r);
      const before = seen.get(k);
      if (before === undefined) seen.set(k, print);
      else if (before !== print) collisions++;
    }
  }
  return { keys: seen.size, collisions };
}

const haveMosquitto = hasPeer('mosquitto');

describe.runIf(haveMosquitto)('a new journal for the same gateway, through mosquitto', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
    await broker.start();
  });
  afterAll(() => broker?.stop());

  /** One gateway process on `dataDir` until `records` of its journal have arrived; its incarnation. */
  async function run(gatewayId: string, dataDir: string, collector: Collector, records: number): Promise<string> {
    const child = new GatewayChild({ dataDir, url: broker.url, gatewayId, readingsPerSec: 200, eventEveryMs: 100, journal: { commitIntervalMs: 10 }, uplink: { protocolVersion: 5, batchIntervalMs: 20 } });
    try {
      await child.waitReady();
      await waitFor(() => child.status !== undefined, 5000, 'the child status');
      const incarnation = child.status!.stats.incarnation;
      const arrived = () => collector.arrivals.filter((a) => a.incarnation === incarnation).reduce((n, a) => n + a.records!.length, 0);
      await waitFor(() => child.acceptedCount() >= records && arrived() >= records, 20_000, `${records} records of ${dataDir}`);
      child.proc.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      return incarnation;
    } finally {
      await child.kill();
    }
  }

  async function restartOn(gatewayId: string, secondDir: (first: string) => string): Promise<void> {
    const collector = new Collector(broker.url, `coldgate/v1/${gatewayId}/#`);
    await collector.connect();
    try {
      const firstDir = path.join(tmp.dir, `${gatewayId}-data`);
      const before = await run(gatewayId, firstDir, collector, 60);
      const after = await run(gatewayId, secondDir(firstDir), collector, 60);

      expect(before).toMatch(INCARNATION);
      expect(after).toMatch(INCARNATION);
      expect(after).not.toBe(before);
      // Every batch names its journal, and each birth the journal whose batches follow it.
      const batches = collector.arrivals.filter((a) => a.records);
      expect(new Set(batches.map((a) => a.incarnation))).toEqual(new Set([before, after]));
      const births = collector.arrivals.filter((a) => a.topic.endsWith('/status') && !a.retained && (a.body as { online?: boolean }).online);
      expect(births.map((a) => (a.body as { incarnation?: string }).incarnation)).toEqual([before, after]);

      // The reuse being guarded against: the second journal counts from 1 again.
      const seqsOf = (incarnation: string) => new Set(batches.filter((a) => a.incarnation === incarnation).flatMap((a) => a.records!.map((r) => r.seq)));
      const reused = [...seqsOf(after)].filter((s) => seqsOf(before).has(s));
      expect(reused.length).toBeGreaterThanOrEqual(30);
      expect(keyed(batches, (_, r) => `${gatewayId}/${r.seq}`).collisions).toBeGreaterThanOrEqual(reused.length);

      // Keyed as the contract says, nothing collides and nothing merges: one key per record.
      const right = keyed(batches, (a, r) => `${gatewayId}/${a.incarnation}/${r.seq}`);
      expect(right.collisions).toBe(0);
      expect(right.keys).toBe(seqsOf(before).size + seqsOf(after).size);
    } finally {
      await collector.close();
    }
  }

  it('wiped data directory, restart: the new records carry a new incarnation and (gatewayId, incarnation, seq) never collides', async () => {
    await restartOn('van-wiped', (dir) => {
      rmSync(dir, { recursive: true });
      return dir;
    });
  }, 60_000);

  it('dataDir pointed at a new folder, restart: the same', async () => {
    await restartOn('van-moved', (dir) => `${dir}-new`);
  }, 60_000);
});
