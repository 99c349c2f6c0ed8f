import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Level } from 'level';
import { afterAll, expect, it, vi } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { Uplink } from '../src/uplink/uplink.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { UplinkConfig } from '../src/config/schema-uplink.ts';
import { silentLogger } from '../src/core/log.ts';
import type { JournalRecord, RecordDraft } from '../src/core/types.ts';
import { Collector, GatewayChild } from './helpers/gateway-child.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { hasPeer } from './helpers/peers.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('retention-');
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  tmp.cleanup();
});

const MAX = 16 * 1024;
let ms = Date.UTC(2024, 5, 1);
const reading = (i: number): RecordDraft => ({ kind: 'temperature', ts: new Date((ms += 250)).toISOString(), tq: 'system', probe: `p${i % 4}`, value: Math.round(Math.random() * 300) / 10, quality: 'good' });
const alarm = (i: number): RecordDraft => ({ kind: 'event', ts: new Date(ms).toISOString(), tq: 'system', type: 'alarm', severity: 'critical', message: `alarm ${i}` });

async function all(j: Journal, lane: 'events' | 'telemetry'): Promise<JournalRecord[]> {
  return j.read(lane, 0, 1e9);
}

it.runIf(hasPeer('mosquitto'))('a tiny maxBytes fills: the oldest readings go, alarms stay, gap records cover exactly the dropped seqs and are delivered', async () => {
  const j = await Journal.open(path.join(tmp.dir, 'full'), JournalConfig.parse({ maxBytes: MAX, fsync: false, commitIntervalMs: 1 }), silentLogger);
  cleanups.push(() => j.close());
  const accepted: JournalRecord[] = [];
  for (let commit = 0; commit < 60; commit++) {
    const drafts = Array.from({ length: 100 }, (_, i) => reading(i));
    if (commit % 5 === 0) drafts.push(alarm(commit));
    accepted.push(...(await Promise.all(drafts.map((d) => j.append(d)))));
  }
  const stats = j.stats();
  expect(stats.usedBytes).toBeLessThanOrEqual(MAX);
  const health = j.health();
  expect(health).toMatchObject({ id: 'journal', kind: 'journal', state: 'degraded', maxBytes: MAX });
  expect(health.usedBytes).toBe(stats.usedBytes);

  const events = await all(j, 'events');
  const telemetry = await all(j, 'telemetry');
  const alarms = accepted.filter((r) => r.kind === 'event');
  expect(events.filter((r) => r.kind === 'event')).toEqual(alarms);
  const gaps = events.flatMap((r) => (r.kind === 'gap' ? [r] : []));
  expect(gaps.length).toBeGreaterThan(0);
  expect(gaps.every((g) => g.reason === 'max-bytes')).toBe(true);
  // The oldest readings went first: what is left is the newest run, and every reading accepted
  // is either still there or inside a gap, counted exactly once.
  const kept = new Set(telemetry.map((r) => r.seq));
  const readings = accepted.filter((r) => r.kind === 'temperature');
  const dropped = readings.filter((r) => !kept.has(r.seq));
  expect(dropped.length).toBeGreaterThan(readings.length / 2);
  expect(Math.max(...dropped.map((r) => r.seq))).toBeLessThan(Math.min(...kept));
  expect(dropped.every((r) => gaps.some((g) => r.seq >= g.fromSeq && r.seq <= g.toSeq))).toBe(true);
  expect(gaps.reduce((n, g) => n + g.count, 0)).toBe(dropped.length);
  expect(stats.lanes.telemetry.dropped).toBe(dropped.length);

  const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
  await broker.start();
  cleanups.push(() => broker.stop());
  const collector = new Collector(broker.url, 'coldgate/v1/van-full/#');
  await collector.connect();
  cleanups.push(() => collector.close());
  const uplink = new Uplink(UplinkConfig.parse({ url: broker.url, batchIntervalMs: 10 }), { journal: j, log: silentLogger, gatewayId: 'van-full', version: 'test', latest: () => ({ doc: {}, changeKey: '' }) });
  uplink.start();
  cleanups.push(() => uplink.stop());
  await waitFor(() => j.stats().lanes.telemetry.records === 0 && j.stats().lanes.events.records === 0, 10_000, 'the journal to drain');
  await waitFor(() => collector.seen.size === events.length + telemetry.length, 5000, 'the collector');
  expect(collector.gaps.map((g) => g.seq)).toEqual(gaps.map((g) => g.seq));
  expect(collector.unexplained()).toEqual([]);
  expect(j.health().state).toBe('ok');
});

it('readings older than maxAgeDays go, with a max-age gap; alarms stay', async () => {
  let now = Date.UTC(2024, 0, 1);
  const j = await Journal.open(path.join(tmp.dir, 'age'), JournalConfig.parse({ maxAgeDays: 1, fsync: false, commitIntervalMs: 1 }), silentLogger, { now: () => now });
  cleanups.push(() => j.close());
  const old = await Promise.all([reading(0), reading(1), alarm(0)].map((d) => j.append(d)));
  now += 2 * 86_400_000;
  const fresh = await j.append(reading(2));
  const telemetry = await all(j, 'telemetry');
  expect(telemetry.map((r) => r.seq)).toEqual([fresh.seq]);
  const events = await all(j, 'events');
  expect(events.map((r) => r.kind)).toEqual(['event', 'gap']);
  expect(events[1]).toMatchObject({ kind: 'gap', fromSeq: old[0]!.seq, toSeq: old[1]!.seq, count: 2, reason: 'max-age' });
});

it("a steady commit's retention check opens no LevelDB iterator once the lane's front is known; max-age still drops from it", async () => {
  let now = Date.UTC(2024, 0, 1);
  const j = await Journal.open(path.join(tmp.dir, 'front'), JournalConfig.parse({ maxAgeDays: 1, fsync: false, commitIntervalMs: 1 }), silentLogger, { now: () => now });
  cleanups.push(() => j.close());
  const first = await j.append(reading(0));
  await j.append(reading(1));
  const iterators = vi.spyOn(Level.prototype, 'iterator');
  try {
    const steady: JournalRecord[] = [];
    for (let i = 0; i < 5; i++) {
      now += 1000;
      steady.push(await j.append(reading(i)));
    }
    expect(iterators).not.toHaveBeenCalled();
    now += 2 * 86_400_000;
    const fresh = await j.append(reading(2));
    expect((await all(j, 'telemetry')).map((r) => r.seq)).toEqual([fresh.seq]);
    expect((await all(j, 'events'))[0]).toMatchObject({ kind: 'gap', fromSeq: first.seq, toSeq: steady.at(-1)!.seq, count: 7, reason: 'max-age' });
  } finally {
    iterators.mockRestore();
  }
});

it.runIf(process.platform === 'linux')('a file size limit (EFBIG) is a clear error and journal health offline, not a crash; once lifted the journal heals itself and records an EFBIG gap', async () => {
  const dataDir = path.join(tmp.dir, 'fsize');
  const child = new GatewayChild({ dataDir, url: 'mqtt://127.0.0.1:1', gatewayId: 'van-disk', readingsPerSec: 20_000, fileSizeLimit: 256 * 1024, journal: { commitIntervalMs: 5 } });
  cleanups.push(() => child.kill());
  await waitFor(() => child.status?.journal.state === 'offline', 20_000, 'the journal to report the failed writes');
  expect(child.proc.exitCode).toBeNull();
  expect(child.status!.journal.detail).toMatch(/cannot write since .* \(EFBIG\): .*journal write failed: EFBIG: .*disk full or read-only/);
  expect(child.stderr).toMatch(/journal commit failed/);

  execFileSync('prlimit', ['--pid', String(child.proc.pid), '--fsize=unlimited']);
  const before = child.acceptedCount();
  await waitFor(() => child.status?.journal.state === 'ok' && child.acceptedCount() > before, 20_000, 'the journal to write again without a restart');
  expect(await child.kill('SIGTERM')).toBe(0);
  const j = await Journal.open(dataDir, JournalConfig.parse({}), silentLogger);
  cleanups.push(() => j.close());
  const gaps = (await all(j, 'events')).flatMap((r) => (r.kind === 'gap' ? [r] : []));
  expect(gaps.some((g) => g.reason === 'EFBIG' && g.lane === 'telemetry' && g.count > 0)).toBe(true);
});
