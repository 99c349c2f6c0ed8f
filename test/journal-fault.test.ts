/**
 * Real storage faults: a data directory on a small tmpfs filled to ENOSPC, and an ext4 image
 * that the kernel remounts read-only under the open journal (a failing SD card). The alarms
 * must keep working, the failure is itself an alarm, and once the disk takes writes again the
 * journal writes the held events and one gap record per run of readings it could not keep.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { GapDraft, JournalRecord, RecordDraft } from '../src/core/types.ts';
import { Journal } from '../src/journal/journal.ts';
import { probeWrite } from '../src/journal/write-fault.ts';
import { GatewayProcess } from './helpers/demo-gateway.ts';
import { canMount, Ext4Image, hasExt4Tools, SmallTmpfs } from './helpers/faulty-disk.ts';
import { Collector } from './helpers/gateway-child.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { hasPeer, peerPresent } from './helpers/peers.ts';
import { tempDir } from './helpers/tmp.ts';
import { PymodbusSlave } from './peers/pymodbus.ts';

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

function hasPymodbus(): boolean {
  let found = true;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import pymodbus'], { stdio: 'ignore' });
  } catch {
    found = false;
  }
  return peerPresent(found, 'pymodbus for /usr/bin/python3 (scripts/install-peers.sh)');
}

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
  it('is named EPERM by the write probe the journal retries with', async () => {
    const disk = SmallTmpfs.mount(path.join(tmp.dir, 'immutable'), '1m');
    cleanups.push(() => disk.unmount());
    expect(await probeWrite(disk.dir)).toBeUndefined();
    execFileSync('chattr', ['+i', disk.dir]);
    cleanups.push(() => execFileSync('chattr', ['-i', disk.dir]));
    expect(await probeWrite(disk.dir)).toBe('EPERM');
  });
});

interface State {
  compartments: { id: string; value: number | null; state: string }[];
  alarms: { type: string; severity: string; active: boolean }[];
  health: { id: string; kind: string; state: string; detail?: string }[];
  display: { outputsOn: boolean };
}

/** `coldgate run` on a data directory of its own, one pymodbus probe, a real mosquitto and a collector. */
async function startVan(name: string, dataDir: string) {
  const port = await freePort();
  const slave = new PymodbusSlave({ tcp: port }, { 1: { ir: { 0: [40] }, co: { 0: [0] } } });
  await slave.start();
  cleanups.push(() => slave.stop());
  const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, `${name}-broker`) });
  await broker.start();
  cleanups.push(() => broker.stop());
  const gatewayId = `van-${name}`;
  const collector = new Collector(broker.url, `coldgate/v1/${gatewayId}/#`);
  await collector.connect();
  cleanups.push(() => collector.close());
  const httpPort = await freePort();
  const config = {
    gatewayId,
    dataDir,
    uplink: { url: broker.url, reconnectMinMs: 200, reconnectMaxMs: 1000 },
    buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port }],
    probes: [{ id: 'chiller-1', bus: 'b', unit: 1, address: 0, compartment: 'chiller', intervalMs: 200 }],
    compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled', delaySec: 0, clearDelaySec: 0 }],
    // Blaming a probe for what the disk did would show within 2 s.
    healthAlarms: { probeFault: { afterSec: 2 } },
    local: { http: { host: '127.0.0.1', port: httpPort }, pin: '2468', outputs: [{ type: 'console' }, { type: 'coil', bus: 'b', unit: 1, address: 0 }] },
  };
  const file = path.join(tmp.dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config));
  const gateway = new GatewayProcess(file);
  await gateway.start();
  cleanups.push(() => gateway.stop('SIGKILL'));
  const base = `http://127.0.0.1:${httpPort}`;
  const state = async () => (await (await fetch(`${base}/api/state`)).json()) as State;
  const open = (s: State, type: string) => s.alarms.find((a) => a.type === type && a.active);
  return { slave, broker, collector, gateway, base, state, open, gatewayId };
}

type Van = Awaited<ReturnType<typeof startVan>>;

/** Disk refuses writes, probe goes to 12 C: both alarms on the display, coil on, 503, the process alive. */
async function alarmsWithoutStorage(van: Van, code: string): Promise<void> {
  const failed = await waitFor(async () => van.open(await van.state(), 'journal-failed'), 15_000, 'the journal-failed alarm');
  expect(failed.severity).toBe('critical');
  // The journal alarm alone switches the buzzer/relay coil on.
  expect((await van.state()).alarms.map((a) => a.type)).toEqual(['journal-failed']);
  await waitFor(async () => (await van.slave.get(1, 'co', 0, 1))[0] === 1, 5000, 'the alarm coil');
  const health = await fetch(`${van.base}/healthz`);
  expect(health.status).toBe(503);
  expect(((await health.json()) as { error: string }).error).toMatch(new RegExp(`journal journal cannot record: .*${code}`));
  const metrics = await (await fetch(`${van.base}/metrics`)).text();
  expect(metrics).toMatch(/^coldgate_journal_writable 0$/m);
  expect(metrics).toMatch(/^coldgate_alarms_open\{type="journal-failed",severity="critical",acknowledged="false"\} 1$/m);

  await van.slave.set(1, 'ir', 0, [120]);
  const s = await waitFor(async () => {
    const now = await van.state();
    return van.open(now, 'temperature') && now.alarms.some((a) => a.type === 'temperature' && a.severity === 'critical') ? now : undefined;
  }, 10_000, 'the temperature alarm while the disk refuses writes');
  expect(s.compartments.find((c) => c.id === 'chiller')).toMatchObject({ value: 12, state: 'critical' });
  expect(s.display.outputsOn).toBe(true);
  expect(s.health.find((h) => h.kind === 'journal')).toMatchObject({ state: 'offline' });
  // The probe is healthy: nothing blames it for what the disk did.
  await new Promise((r) => setTimeout(r, 3000));
  expect(van.open(await van.state(), 'probe-fault')).toBeUndefined();
  expect(van.gateway.running()).toBe(true);
}

describe.runIf(root && hasPeer('mosquitto') && hasPymodbus())('the gateway on a disk that fills up and on one that turns read-only', () => {
  it('full tmpfs: alarms at once, journal-failed; after space is freed the journal heals itself, held events arrive on MQTT and a gap covers the unrecorded readings', async () => {
    const disk = SmallTmpfs.mount(path.join(tmp.dir, 'van-full'), '2m');
    cleanups.push(() => disk.unmount());
    const van = await startVan('full', path.join(disk.dir, 'data'));
    await waitFor(async () => (await van.state()).compartments[0]?.value === 4, 10_000, 'the first reading');
    await waitFor(() => van.collector.arrivals.some((a) => a.topic.endsWith('/telemetry')), 10_000, 'telemetry before the fault');

    disk.fill();
    const fullAt = new Date().toISOString();
    await alarmsWithoutStorage(van, 'ENOSPC');
    const freeAt = new Date().toISOString();
    disk.free();

    await waitFor(async () => (await van.state()).health.find((h) => h.kind === 'journal')?.state === 'ok', 20_000, 'the journal to heal itself');
    expect((await fetch(`${van.base}/healthz`)).status).toBe(200);
    const records = () => van.collector.arrivals.flatMap((a) => a.records ?? []);
    const events = () => records().flatMap((r) => (r.kind === 'event' ? [r] : []));
    const raised = (type: string) => events().find((e) => e.type === 'alarm.raised' && (e.data as { alarmType?: string } | undefined)?.alarmType === type);
    // The events raised while the disk was full arrive, in the order they happened.
    await waitFor(() => raised('temperature') && raised('journal-failed'), 15_000, 'the held alarm events on MQTT');
    expect(raised('journal-failed')!.seq).toBeLessThan(raised('temperature')!.seq);
    const gap = await waitFor(() => records().find((r): r is GapDraft & JournalRecord => r.kind === 'gap'), 5000, 'the gap record');
    expect(gap).toMatchObject({ reason: 'ENOSPC', lane: 'telemetry' });
    expect(gap.count).toBeGreaterThan(5);
    // It covers the time the disk was full, and no recorded reading lies inside it.
    expect(gap.fromTs! <= freeAt && gap.toTs! >= fullAt).toBe(true);
    const temperatures = records().filter((r) => r.kind === 'temperature');
    expect(temperatures.filter((r) => r.ts > gap.fromTs! && r.ts < gap.toTs!)).toEqual([]);
    // Recording goes on: 12 C readings after the gap arrive.
    await waitFor(() => records().some((r) => r.kind === 'temperature' && r.value === 12 && r.seq > gap.seq), 10_000, 'readings after the gap');
    await waitFor(() => van.collector.unexplained().length === 0, 5000, 'every seq accounted for');
    expect(van.collector.conflicts).toEqual([]);
    expect(van.gateway.output).not.toMatch(/sample not committed/);
    expect(van.gateway.output.match(/journal commit failed/g)).toHaveLength(1);
    expect((await van.gateway.stop('SIGTERM')).code).toBe(0);
  });

  it.runIf(hasExt4Tools())('ext4 remounted read-only under the open journal (a failing card): alarms at once, journal-failed, 503, the process lives on', async () => {
    const disk = Ext4Image.mount(path.join(tmp.dir, 'van-ro'), path.join(tmp.dir, 'van-ro.img'));
    cleanups.push(() => disk.unmount());
    const van = await startVan('ro', path.join(disk.dir, 'data'));
    await waitFor(async () => (await van.state()).compartments[0]?.value === 4, 10_000, 'the first reading');
    disk.fail();
    await alarmsWithoutStorage(van, 'EROFS');
    expect((await van.gateway.stop('SIGTERM')).code).toBe(0);
  });
});
