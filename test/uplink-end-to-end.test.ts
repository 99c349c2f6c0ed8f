import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { beforeAll, describe, expect, it } from 'vitest';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { UplinkConfig } from '../src/config/schema-uplink.ts';
import { createLogger, silentLogger } from '../src/core/log.ts';
import type { RecordDraft } from '../src/core/types.ts';
import { Journal } from '../src/journal/journal.ts';
import type { Supervisor } from '../src/remote/index.ts';
import { decodeBatch } from '../src/uplink/decode.ts';
import { holes, union, type Range } from '../src/core/seq-ranges.ts';
import { RewindThrottle } from '../src/uplink/replay.ts';
import { Uplink } from '../src/uplink/uplink.ts';
import { mosquittoForFile } from './helpers/file-broker.ts';
import { Collector } from './helpers/gateway-child.ts';
import { ManualProbes } from './helpers/gateway.ts';
import { waitFor } from './helpers/net.ts';
import { startManaged, type CommandClient } from './helpers/remote.ts';

/**
 * End-to-end acknowledgement (issue 13, contract src/uplink/contract/asyncapi.yaml): a test
 * client plays the receiver, publishing the retained `committed` and sending `cmd/replay`, to a
 * real mosquitto; the box is an Uplink on a LevelDB journal in a temp folder, or (for the
 * command path) the managed gateway as `coldgate run` starts it.
 */
const file = mosquittoForFile('e2e-');
const { tmp, cleanups } = file;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ms = Date.UTC(2026, 0, 1);
const reading = (i: number): RecordDraft => ({ kind: 'temperature', ts: new Date((ms += 250)).toISOString(), tq: 'system', probe: `p${i % 4}`, value: Math.round(Math.random() * 300) / 10, quality: 'good' });

/** Log lines the product writes, as parsed JSON. */
function captureLog(): { lines: Record<string, unknown>[]; log: ReturnType<typeof createLogger> } {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { destination: { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) } });
  return { lines, log };
}

interface Box {
  journal: Journal;
  uplink: Uplink;
  close(): Promise<void>;
}

async function openBox(dir: string, gatewayId: string, opts: { resendAfterMs?: number; maxBytes?: number; log?: ReturnType<typeof createLogger> } = {}): Promise<Box> {
  const journal = await Journal.open(dir, JournalConfig.parse({ fsync: false, commitIntervalMs: 5, ...(opts.maxBytes && { maxBytes: opts.maxBytes }) }), silentLogger);
  const cfg = UplinkConfig.parse({ url: file.broker.url, batchIntervalMs: 20, batchMaxRecords: 100, reconnectMinMs: 200, reconnectMaxMs: 500, endToEnd: { resendAfterMs: opts.resendAfterMs ?? 600_000 } });
  const uplink = new Uplink(cfg, { journal, log: opts.log ?? silentLogger, gatewayId, version: 'test', latest: () => ({ doc: {}, changeKey: '' }) });
  uplink.start();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await uplink.stop();
    await journal.close();
  };
  cleanups.push(close);
  await waitFor(() => uplink.connected(), 10_000, 'the uplink to connect');
  return { journal, uplink, close };
}

/** The receiver's side: publishes committed (retained, QoS 1) as a receiver does after COMMIT. */
async function receiverClient(): Promise<MqttClient> {
  const client = await mqtt.connectAsync(file.broker.url, { protocolVersion: 5, clientId: `recv-${Math.random().toString(16).slice(2, 8)}` });
  cleanups.push(() => client.endAsync());
  return client;
}

const committed = (gatewayId: string, incarnation: string, contiguousThrough: number) =>
  JSON.stringify({ schema: 'coldgate.committed/1', gatewayId, incarnation, contiguousThrough, at: new Date().toISOString() });

async function appendReadings(journal: Journal, n: number): Promise<void> {
  await journal.appendMany(Array.from({ length: n }, (_, i) => reading(i)));
}

const pending = (j: Journal) => j.stats().lanes.events.records + j.stats().lanes.telemetry.records;
const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe.runIf(file.have)('the box with a receiver', () => {
  it('without any committed message, records leave the journal on PUBACK (as before)', async () => {
    const gatewayId = 'van-plain';
    const collector = new Collector(file.broker.url, `coldgate/v1/${gatewayId}/telemetry`);
    await collector.connect();
    cleanups.push(() => collector.close());
    const box = await openBox(path.join(tmp.dir, 'plain'), gatewayId);
    await appendReadings(box.journal, 500);
    await waitFor(() => collector.seen.size === 500, 10_000, 'the readings');
    await waitFor(() => pending(box.journal) === 0, 5000, 'the journal to let go on PUBACK');
    expect(box.uplink.health()).toMatchObject({ ackedOn: 'puback', committedThrough: 0, uncommittedRecords: 0 });
    await box.close();
  });

  it('with committed: PUBACKed records stay until committed; stale, foreign and malformed marks change nothing; a restart keeps the mode', async () => {
    const gatewayId = 'van-held';
    const dir = path.join(tmp.dir, 'held');
    const collector = new Collector(file.broker.url, `coldgate/v1/${gatewayId}/telemetry`);
    await collector.connect();
    cleanups.push(() => collector.close());
    const { lines, log } = captureLog();
    let box = await openBox(dir, gatewayId, { log });
    const incarnation = box.journal.stats().incarnation;
    const recv = await receiverClient();
    const topic = `coldgate/v1/${gatewayId}/committed`;
    await recv.publishAsync(topic, committed(gatewayId, incarnation, 0), { qos: 1, retain: true });
    await waitFor(() => box.uplink.health().ackedOn === 'receiver', 5000, 'the box to switch to end-to-end mode');

    await appendReadings(box.journal, 400);
    await waitFor(() => collector.seen.size === 400, 10_000, 'the readings');
    // Every batch is PUBACKed (they reached the subscriber through the broker), yet all stay held.
    await waitFor(() => box.uplink.health().inflightBatches === 0, 5000, 'the PUBACKs');
    await sleep(300);
    expect(pending(box.journal)).toBe(400);
    expect(box.uplink.health()).toMatchObject({ ackedOn: 'receiver', committedThrough: 0, uncommittedRecords: 400 });

    await recv.publishAsync(topic, committed(gatewayId, incarnation, 300), { qos: 1, retain: true });
    await waitFor(() => pending(box.journal) === 100, 5000, 'the journal to let go through 300');
    expect(box.journal.stats().lanes.telemetry.ackedThrough).toBe(300);
    expect(box.uplink.health()).toMatchObject({ committedThrough: 300, uncommittedRecords: 100 });

    // Receivers race: a lower mark after a higher one, another incarnation's, garbage, an oversized one.
    await recv.publishAsync(topic, committed(gatewayId, incarnation, 120), { qos: 1, retain: true });
    await recv.publishAsync(topic, committed(gatewayId, 'fedcba9876543210', 400), { qos: 1, retain: true });
    await recv.publishAsync(topic, committed(gatewayId, 'fedcba9876543210', 400), { qos: 1, retain: true });
    await recv.publishAsync(topic, '{"schema":"coldgate.committed/1","contiguousThrough":"400"}', { qos: 1, retain: true });
    await recv.publishAsync(topic, 'not json', { qos: 1, retain: true });
    await recv.publishAsync(topic, JSON.stringify({ pad: 'x'.repeat(5000) }), { qos: 1, retain: true });
    await waitFor(() => lines.filter((l) => l.msg === 'committed message ignored (said once per kind)').length >= 3, 5000, 'the ignored marks');
    await sleep(300);
    expect(pending(box.journal)).toBe(100);
    expect(box.uplink.health().committedThrough).toBe(300);
    const ignored = lines.filter((l) => l.msg === 'committed message ignored (said once per kind)').map((l) => l.kind);
    expect(ignored.sort()).toEqual(['malformed', 'other-incarnation', 'oversized']);

    // Restart with no committed message retained: the mode and the mark come from the journal.
    await recv.publishAsync(topic, '', { qos: 1, retain: true });
    await box.close();
    box = await openBox(dir, gatewayId);
    expect(box.uplink.health()).toMatchObject({ ackedOn: 'receiver', committedThrough: 300 });
    await appendReadings(box.journal, 50);
    await waitFor(() => collector.seen.size === 450, 10_000, 'the new readings');
    await waitFor(() => box.uplink.health().inflightBatches === 0, 5000, 'the PUBACKs');
    await sleep(300);
    expect(pending(box.journal)).toBe(150);
    await recv.publishAsync(topic, committed(gatewayId, incarnation, 450), { qos: 1, retain: true });
    await waitFor(() => pending(box.journal) === 0, 5000, 'the journal to let go of everything committed');
    await box.close();
  });

  it('after a broker restart without persistence while nobody listens, the box sends everything uncommitted again: a late subscriber gets every seq', async () => {
    const gatewayId = 'van-amnesia';
    const first = new Collector(file.broker.url, `coldgate/v1/${gatewayId}/telemetry`);
    await first.connect();
    const box = await openBox(path.join(tmp.dir, 'amnesia'), gatewayId, { resendAfterMs: 1000 });
    const incarnation = box.journal.stats().incarnation;
    const recv = await receiverClient();
    const topic = `coldgate/v1/${gatewayId}/committed`;
    await appendReadings(box.journal, 100);
    await waitFor(() => first.seen.size === 100, 10_000, 'the first readings');
    await recv.publishAsync(topic, committed(gatewayId, incarnation, 100), { qos: 1, retain: true });
    await waitFor(() => pending(box.journal) === 0, 5000, 'the committed readings to go');
    await recv.endAsync();
    // The receiver goes away; its queue lives only in the broker's memory.
    await first.close();
    await appendReadings(box.journal, 300);
    await waitFor(() => box.uplink.health().uncommittedRecords === 300, 10_000, 'the broker to PUBACK them');

    await file.broker.stop();
    // mosquittoForFile keeps the broker's folder in tmp/broker: without its file it starts with nothing.
    rmSync(path.join(tmp.dir, 'broker', 'mosquitto.db'), { force: true });
    await file.broker.start();
    await waitFor(() => box.uplink.connected(), 10_000, 'the reconnect');
    expect(pending(box.journal)).toBe(300);

    const late = new Collector(file.broker.url, `coldgate/v1/${gatewayId}/telemetry`);
    await late.connect();
    cleanups.push(() => late.close());
    await waitFor(() => late.missing([[101, 400]]).length === 0, 20_000, 'every uncommitted seq at the late subscriber');
    const recv2 = await receiverClient();
    await recv2.publishAsync(topic, committed(gatewayId, incarnation, 400), { qos: 1, retain: true });
    await waitFor(() => pending(box.journal) === 0, 5000, 'the journal to let go');
    expect(late.conflicts).toEqual([]);
    await box.close();
  }, 60_000);

  it('resends PUBACKed records when committed does not advance for resendAfterMs, events first, then waits twice as long', async () => {
    const gatewayId = 'van-resend';
    const collector = new Collector(file.broker.url, `coldgate/v1/${gatewayId}/+`);
    await collector.connect();
    cleanups.push(() => collector.close());
    const box = await openBox(path.join(tmp.dir, 'resend'), gatewayId, { resendAfterMs: 1000 });
    const recv = await receiverClient();
    await recv.publishAsync(`coldgate/v1/${gatewayId}/committed`, committed(gatewayId, box.journal.stats().incarnation, 0), { qos: 1, retain: true });
    await waitFor(() => box.uplink.health().ackedOn === 'receiver', 5000, 'end-to-end mode');
    await appendReadings(box.journal, 50);
    await box.journal.append({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type: 'alarm.raised', severity: 'critical', source: 'front', message: 'front above 5 C' });
    const batches = () => collector.arrivals.filter((a) => a.records);
    const firstSeqOf = (a: { records?: { seq: number }[] }) => a.records?.[0]?.seq;
    const sendsOfSeq1 = () => batches().filter((a) => firstSeqOf(a) === 1);
    await waitFor(() => sendsOfSeq1().length >= 3, 15_000, 'two resends');
    const [t0, t1, t2] = sendsOfSeq1().map((a) => a.at) as [number, number, number];
    // Each resend rewinds both lanes: the alarm (seq 51) goes again, before the telemetry.
    for (const resent of sendsOfSeq1().slice(1)) {
      const before = batches()[batches().indexOf(resent) - 1]!;
      expect([before.topic, firstSeqOf(before)]).toEqual([`coldgate/v1/${gatewayId}/events`, 51]);
    }
    expect(t1 - t0).toBeGreaterThanOrEqual(900);
    expect(t1 - t0).toBeLessThan(2500);
    expect(t2 - t1).toBeGreaterThanOrEqual(1900);
    expect(collector.conflicts).toEqual([]);
    await box.close();
  }, 30_000);

  it('an uncommitted backlog over maxBytes still drops the oldest telemetry, with a gap record', async () => {
    const gatewayId = 'van-full';
    const collector = new Collector(file.broker.url, `coldgate/v1/${gatewayId}/#`);
    await collector.connect();
    cleanups.push(() => collector.close());
    const maxBytes = 64 * 1024;
    const box = await openBox(path.join(tmp.dir, 'full'), gatewayId, { maxBytes });
    const recv = await receiverClient();
    await recv.publishAsync(`coldgate/v1/${gatewayId}/committed`, committed(gatewayId, box.journal.stats().incarnation, 0), { qos: 1, retain: true });
    await waitFor(() => box.uplink.health().ackedOn === 'receiver', 5000, 'end-to-end mode');
    for (let i = 0; i < 400 && box.journal.stats().lanes.telemetry.dropped === 0; i++) await appendReadings(box.journal, 500);
    await box.journal.flush();
    await waitFor(() => collector.gaps.length > 0, 10_000, 'a gap record');
    const s = box.journal.stats();
    expect(s.usedBytes).toBeLessThanOrEqual(maxBytes);
    expect(s.lanes.telemetry.dropped).toBeGreaterThan(0);
    expect(collector.gaps[0]).toMatchObject({ fromSeq: 1, reason: 'max-bytes' });
    // Nothing was committed, so nothing was acked: what is held is the newest readings, right after the last gap.
    const gaps = (await box.journal.read('events', 0, 1000)).filter((r) => r.kind === 'gap');
    const held = await box.journal.read('telemetry', 0, 1_000_000);
    expect(held[0]!.seq).toBe((gaps.at(-1) as { toSeq: number }).toSeq + 1);
    expect(gaps.reduce((n, g) => n + (g as { count: number }).count, 0)).toBe(s.lanes.telemetry.dropped);
    await box.close();
  }, 30_000);
});

describe('replay ranges', () => {
  const unions: [Range[], Range[], Range[]][] = [
    [[[1, 2], [5, 5]], [[3, 4]], [[1, 5]]],
    [[[1, 2]], [[4, 9]], [[1, 2], [4, 9]]],
    [[], [[7, 7]], [[7, 7]]],
    [[[1, 10]], [[3, 4]], [[1, 10]]],
  ];
  it.each(unions)('union of %j and %j is %j', (a, b, want) => expect(union(a, b)).toEqual(want));
  const missing: [Range[], number, number, Range[]][] = [
    [[[3, 4]], 1, 6, [[1, 2], [5, 6]]],
    [[], 1, 3, [[1, 3]]],
    [[[1, 3]], 1, 3, []],
    [[[10, 12]], 1, 5, [[1, 5]]],
    [[[1, 2], [4, 4], [8, 9]], 2, 8, [[3, 3], [5, 7]]],
  ];
  it.each(missing)('held %j leaves of %i..%i %j', (held, from, to, want) => expect(holes(held, to, from)).toEqual(want));
});

describe('RewindThrottle', () => {
  it('rewinds a lane at once, then at most once per window, merging what comes in between', async () => {
    const rewinds: string[] = [];
    const t = new RewindThrottle(300, (lane) => rewinds.push(lane));
    t.request('telemetry');
    t.request('telemetry');
    t.request('telemetry');
    t.request('events');
    expect(rewinds).toEqual(['telemetry', 'events']);
    await sleep(400);
    expect(rewinds).toEqual(['telemetry', 'events', 'telemetry']);
    t.stop();
  });
});

describe.runIf(file.have)('cmd/replay through the command path', () => {
  // The name CommandClient and startManaged address by default.
  const gatewayId = 'van-a';
  const probes = new ManualProbes([4.2]);
  let sup: Supervisor;
  let ops: CommandClient;
  const config = path.join(tmp.dir, 'replay.json');

  beforeAll(async () => {
    await probes.start();
    cleanups.push(() => probes.close());
    writeFileSync(config, JSON.stringify({
      gatewayId,
      dataDir: path.join(tmp.dir, 'replay-data'),
      journal: { fsync: false },
      uplink: { url: file.broker.url, protocolVersion: 5, batchIntervalMs: 100, endToEnd: { resendAfterMs: 600_000 } },
      buses: [{ id: 'b', type: 'tcp', host: '127.0.0.1', port: probes.port, timeoutMs: 300 }],
      probes: [{ id: 'p1', bus: 'b', unit: 1, address: 0, intervalMs: 100, compartment: 'chiller' }],
      compartments: [{ id: 'chiller', name: 'Chiller', preset: 'chilled' }],
      local: { http: { port: 0 } },
    }));
    ({ gateway: sup, ops } = await startManaged(config, file.broker.url, 'ops-replay', [`coldgate/v1/${gatewayId}/telemetry`, `coldgate/v1/${gatewayId}/events`]));
    cleanups.push(async () => {
      await ops.end();
      await sup.stop();
    });
  });

  const journal = () => sup.current().gateway.journal;
  /** Seqs that arrived on telemetry and events after message index `from`, with how often. */
  const arrivedSince = (from: number) => {
    const count = new Map<number, number>();
    for (const m of ops.messages.slice(from)) {
      if (!m.topic.endsWith('/telemetry') && !m.topic.endsWith('/events')) continue;
      for (const r of decodeBatch(m.payload).records) count.set(r.seq, (count.get(r.seq) ?? 0) + 1);
    }
    return count;
  };

  it('answers with what it still holds (and resends it) and what it does not; refuses another incarnation and hostile bodies', async () => {
    // Before any receiver answered, records went on PUBACK: those are no longer held.
    await waitFor(() => journal().stats().lanes.telemetry.ackedThrough > 20, 20_000, 'records sent and acked on PUBACK');
    const incarnation = journal().stats().incarnation;
    const x = journal().stats().lanes.telemetry.ackedThrough;
    await ops.client.publishAsync(`coldgate/v1/${gatewayId}/committed`, committed(gatewayId, incarnation, x), { qos: 1, retain: true });
    const uplinkHealth = () => sup.current().gateway.health().find((h) => h.kind === 'uplink')!;
    await waitFor(() => uplinkHealth().ackedOn === 'receiver', 10_000, 'end-to-end mode');
    // PUBACKs in flight when the mark came may have acked a little more; from now on nothing goes.
    await sleep(500);
    const t = journal().stats().lanes.telemetry.ackedThrough;
    expect(journal().stats().lanes.events.records).toBe(0);
    await waitFor(() => journal().stats().nextSeq > t + 15, 20_000, 'more records');
    const y = journal().stats().nextSeq - 1;
    await waitFor(() => ops.messages.some((m) => m.topic.endsWith('/telemetry') && decodeBatch(m.payload).records.some((r) => r.seq >= y)), 10_000, 'records through y at the broker');
    expect(journal().stats().lanes.telemetry.ackedThrough).toBe(t);

    const gone = await ops.send('replay', { incarnation, fromSeq: 1, toSeq: t, by: 'receiver:test' });
    expect(gone).toMatchObject({ ok: true, schema: 'coldgate.replay/1', gatewayId, incarnation, fromSeq: 1, toSeq: t, resending: [], notHeld: [[1, t]] });

    const mark = ops.messages.length;
    const held = await ops.send('replay', { incarnation, fromSeq: t + 1, toSeq: y, by: 'receiver:test' });
    expect(held).toMatchObject({ ok: true, resending: [[t + 1, y]], notHeld: [] });
    await waitFor(() => seqs(t + 1, y).every((s) => arrivedSince(mark).has(s)), 10_000, 'the replayed range sent again');

    // Partly held, partly not, and seqs not assigned yet in neither list.
    const both = await ops.send('replay', { incarnation, fromSeq: t - 4, toSeq: t + 2, by: 'receiver:test' });
    expect(both).toMatchObject({ ok: true, resending: [[t + 1, t + 2]], notHeld: [[t - 4, t]] });
    const future = journal().stats().nextSeq + 1000;
    expect(await ops.send('replay', { incarnation, fromSeq: future, toSeq: future + 5, by: 'receiver:test' })).toMatchObject({ ok: true, resending: [], notHeld: [] });

    // No response topic: the reply goes to reply/replay.
    await ops.client.publishAsync(`coldgate/v1/${gatewayId}/cmd/replay`, JSON.stringify({ incarnation, fromSeq: 1, toSeq: 2, by: 'receiver:test' }), { qos: 1 });
    await waitFor(() => ops.on(`coldgate/v1/${gatewayId}/reply/replay`).length > 0, 10_000, 'the reply on reply/replay');
    expect(ops.on(`coldgate/v1/${gatewayId}/reply/replay`)[0]).toMatchObject({ ok: true, schema: 'coldgate.replay/1', notHeld: [[1, 2]] });

    const other = await ops.send('replay', { incarnation: 'fedcba9876543210', fromSeq: 1, toSeq: 5, by: 'receiver:test' });
    expect(other).toMatchObject({ ok: false, command: 'replay' });
    expect(other!.error).toContain('refused: incarnation fedcba9876543210');

    const hostile: [unknown, string][] = [
      [{ incarnation, fromSeq: 1, toSeq: 2, by: 'r', pad: 'x'.repeat(300 * 1024) }, 'payload too large'],
      [{ incarnation, fromSeq: '1', toSeq: 2, by: 'r' }, 'fromSeq'],
      [{ incarnation, fromSeq: 1.5, toSeq: 2, by: 'r' }, 'fromSeq'],
      [{ incarnation, fromSeq: 0, toSeq: 2, by: 'r' }, 'fromSeq'],
      [{ incarnation, fromSeq: 9, toSeq: 3, by: 'r' }, 'toSeq: must be at least fromSeq'],
      [{ incarnation, fromSeq: 1, toSeq: 2_000_002, by: 'r' }, 'at most 1000000'],
      [{ incarnation: 'x', fromSeq: 1, toSeq: 2, by: 'r' }, 'incarnation'],
      [{ incarnation, fromSeq: 1, toSeq: 2 }, 'by'],
      ['[1,2]', 'bad replay body'],
    ];
    for (const [body, says] of hostile) {
      const reply = await ops.send('replay', body);
      expect(reply, JSON.stringify(body).slice(0, 80)).toMatchObject({ ok: false, command: 'replay' });
      expect(JSON.stringify([reply!.error, reply!.problems]), JSON.stringify(body).slice(0, 80)).toContain(says);
    }
    expect(await ops.send('ping', {})).toMatchObject({ ok: true });

    // The status reply carries the mark and what waits for the receiver.
    const status = await ops.send('status', {});
    const uplink = (status!.devices as { kind: string; uncommittedRecords?: number }[]).find((d) => d.kind === 'uplink');
    expect(uplink).toMatchObject({ ackedOn: 'receiver', committedThrough: x });
    expect(uplink!.uncommittedRecords).toBeGreaterThan(0);
    // And /metrics (the display refreshes the health it shows every second).
    const metrics = () => fetch(new URL('/metrics', sup.current().gateway.displayUrl)).then((r) => r.text());
    const text = await waitFor(async () => {
      const t = await metrics();
      return t.includes(`coldgate_uplink_committed_through ${x}\n`) ? t : undefined;
    }, 5000, 'the mark on /metrics');
    expect(text).toMatch(/^coldgate_uplink_end_to_end 1$/m);
    expect(text).toMatch(/^coldgate_uplink_uncommitted_records [1-9]\d*$/m);
  }, 90_000);
});
