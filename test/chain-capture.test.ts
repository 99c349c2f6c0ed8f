import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JournalRecord } from '../src/core/types.ts';
import { genesis } from '../src/chain/hash.ts';
import { verifyCapture, type VerifyReport } from '../src/chain/verify.ts';
import { verifyCommand } from '../src/cli/verify.ts';
import { parseBatch } from '../src/uplink/decode.ts';
import { recordsOf, type BatchDoc } from '../src/uplink/wire/batch.ts';
import { runCli } from './helpers/cli.ts';
import { Collector, GatewayChild, type ChildOptions } from './helpers/gateway-child.ts';
import { Mosquitto } from './helpers/mosquitto.ts';
import { freePort, waitFor } from './helpers/net.ts';
import { hasPeer } from './helpers/peers.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('chain-capture-');
const cleanups: (() => Promise<unknown>)[] = [];
const gatewayId = 'van-chain';
const keysDir = path.join(tmp.dir, 'keys');
const captureFile = path.join(tmp.dir, 'capture.ndjson');
let lines: string[] = [];
let incarnation = '';

afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  tmp.cleanup();
});

interface Line {
  topic: string;
  payload: string;
}
const docOf = (line: string) => parseBatch(Buffer.from((JSON.parse(line) as Line).payload, 'base64'));
const isBatch = (line: string, lane: string) => (JSON.parse(line) as Line).topic.endsWith(`/${lane}`);
/** The capture with line i's batch replaced by what `edit` makes of it (sent as plain JSON). */
function edited(i: number, edit: (doc: BatchDoc) => void): string {
  const doc = docOf(lines[i]!);
  edit(doc);
  const out = lines.slice();
  out[i] = JSON.stringify({ topic: (JSON.parse(lines[i]!) as Line).topic, payload: Buffer.from(JSON.stringify(doc)).toString('base64') });
  return out.join('\n');
}
/** All its records in `records` (rows are an encoding, not the content): an attacker edits them as records. */
function asRecords(doc: BatchDoc, edit: (records: JournalRecord[]) => void): void {
  const records = recordsOf(doc);
  edit(records);
  doc.records = records;
  doc.rows = [];
  doc.probes = [];
  doc.count = records.length;
}
/** A telemetry batch whose seqs are in no other line (no resend), with at least `n` records. */
function lonelyTelemetry(n: number): number {
  const seqsOf = lines.map((l) => (isBatch(l, 'telemetry') || isBatch(l, 'events') ? recordsOf(docOf(l)).map((r) => r.seq) : []));
  const found = lines.map((l, i) => i).filter((i) => {
    if (!isBatch(lines[i]!, 'telemetry') || seqsOf[i]!.length < n) return false;
    const mine = new Set(seqsOf[i]);
    return seqsOf.every((s, j) => j === i || !s.some((x) => mine.has(x))) && i < lines.length - 3;
  });
  expect(found.length).toBeGreaterThan(2);
  // One from the middle: the first batch of the capture has no batch before it to break from.
  return found[found.length >> 1]!;
}
const kinds = (r: VerifyReport) => r.problems.map((p) => p.kind);

beforeAll(async () => {
  if (!hasPeer('mosquitto')) return;
  const broker = new Mosquitto({ port: await freePort(), dir: path.join(tmp.dir, 'broker') });
  await broker.start();
  cleanups.push(() => broker.stop());
  const collector = new Collector(broker.url, `coldgate/v1/${gatewayId}/#`);
  await collector.connect();
  cleanups.push(() => collector.close());
  const opts: ChildOptions = {
    dataDir: path.join(tmp.dir, 'data'),
    url: broker.url,
    gatewayId,
    keysDir,
    readingsPerSec: 400,
    eventEveryMs: 150,
    journal: { commitIntervalMs: 10 },
    uplink: { batchIntervalMs: 100, batchMaxRecords: 300, reconnectMinMs: 100 },
  };
  const accepted: [number, number][] = [];
  // A kill -9 under load, an orderly restart, then a run that drains what is left.
  for (const stop of ['SIGKILL', 'SIGTERM'] as const) {
    const child = new GatewayChild(opts);
    cleanups.push(() => child.kill());
    await child.waitReady();
    await new Promise((r) => setTimeout(r, 1500));
    await child.kill(stop);
    accepted.push(...child.accepted);
  }
  const last = new GatewayChild({ ...opts, readingsPerSec: 0, eventEveryMs: 0 });
  cleanups.push(() => last.kill());
  await last.waitReady();
  await waitFor(() => collector.missing(accepted).length === 0 && last.status?.stats.lanes.telemetry.records === 0 && last.status.stats.lanes.events.records === 0, 60_000, 'the backlog to drain');
  incarnation = last.status!.stats.incarnation;
  expect(await last.kill('SIGTERM')).toBe(0);
  lines = collector.arrivals.filter((a) => !a.topic.endsWith('/latest')).map((a) => JSON.stringify({ topic: a.topic, payload: a.payload.toString('base64') }));
  writeFileSync(captureFile, `${lines.join('\n')}\n`);
}, 120_000);

describe.runIf(hasPeer('mosquitto'))('verify a capture of MQTT batches', () => {
  it('passes a real capture across a kill -9 and a restart, chained from the genesis and signed', async () => {
    const pub = readFileSync(path.join(keysDir, 'box.pub'), 'utf8');
    const firstTelemetry = docOf(lines.find((l) => isBatch(l, 'telemetry'))!);
    expect(firstTelemetry.prev).toBe(genesis(incarnation, 'telemetry'));
    const report = verifyCapture(readFileSync(captureFile, 'utf8'), (await import('node:crypto')).createPublicKey(pub));
    expect(report.problems).toEqual([]);
    // Three runs, each signing its first batch per lane at least.
    expect(report.signatures.valid).toBeGreaterThanOrEqual(5);
    expect(report.records).toBeGreaterThan(1000);
    expect(report.notes.join('\n')).not.toMatch(/starts inside|no chain/);
    const cli = await runCli(verifyCommand, [captureFile, '--key', path.join(keysDir, 'box.pub')]);
    expect(cli.code).toBe(0);
    expect(cli.out).toMatch(/: verified\n$/);
    // The birth names the key.
    const status = lines.map((l) => JSON.parse(l) as Line).find((l) => l.topic.endsWith('/status'));
    expect(JSON.parse(Buffer.from(status!.payload, 'base64').toString()).keyFingerprint).toMatch(/^[0-9a-f]{32}$/);
  });

  it('names a changed value', async () => {
    const i = lonelyTelemetry(10);
    let seq = 0;
    const report = verifyCapture(edited(i, (doc) => asRecords(doc, (r) => {
      const t = r[5] as Extract<JournalRecord, { kind: 'temperature' }>;
      t.value = t.value! + 0.1;
      seq = t.seq;
    })));
    expect(kinds(report)).toEqual(['changed']);
    const doc = docOf(lines[i]!);
    expect(report.problems[0]!.message).toContain(`telemetry batch seq ${doc.fromSeq}..${doc.toSeq}`);
    expect(seq).toBeGreaterThanOrEqual(doc.fromSeq);
    const file = path.join(tmp.dir, 'changed.ndjson');
    writeFileSync(file, edited(i, (d) => asRecords(d, (r) => ((r[5] as { value: number }).value += 1))));
    const cli = await runCli(verifyCommand, [file]);
    expect(cli.code).toBe(1);
    expect(cli.out).toMatch(/^changed: telemetry batch seq/m);
  });

  it('names a removed record', () => {
    const i = lonelyTelemetry(10);
    let seq = 0;
    const report = verifyCapture(edited(i, (doc) => asRecords(doc, (r) => (seq = r.splice(5, 1)[0]!.seq))));
    expect(kinds(report)).toEqual(['removed']);
    expect(report.problems[0]!.seq).toBe(seq);
    expect(report.problems[0]!.message).toContain(`telemetry seq ${seq} `);
  });

  it('names an inserted record', () => {
    const i = lonelyTelemetry(10);
    let seq = 0;
    const report = verifyCapture(edited(i, (doc) => asRecords(doc, (r) => {
      seq = r[5]!.seq;
      r.splice(6, 0, { ...r[5]!, value: 2.5 } as JournalRecord);
    })));
    expect(kinds(report)).toContain('inserted');
    expect(report.problems.filter((p) => p.kind !== 'inserted')).toEqual([]);
    expect(report.problems.every((p) => p.seq === seq)).toBe(true);
    expect(report.problems.some((p) => /batch hashes to its head without it/.test(p.message))).toBe(true);
  });

  it('names a reordered pair', () => {
    const i = lonelyTelemetry(10);
    let pair: number[] = [];
    const report = verifyCapture(edited(i, (doc) => asRecords(doc, (r) => {
      // Two neighbours that differ in more than their seq: the van's random probe may read the
      // same value twice in one stamp, and swapping two such records changes nothing.
      const same = (x: JournalRecord, y: JournalRecord) => JSON.stringify({ ...x, seq: 0 }) === JSON.stringify({ ...y, seq: 0 });
      let k = 5;
      while (k + 1 < r.length - 1 && same(r[k]!, r[k + 1]!)) k++;
      const [a, b] = [r[k]!, r[k + 1]!];
      expect(same(a, b)).toBe(false);
      pair = [a.seq, b.seq];
      r[k] = { ...b, seq: a.seq } as JournalRecord;
      r[k + 1] = { ...a, seq: b.seq } as JournalRecord;
    })));
    expect(kinds(report)).toEqual(['reordered']);
    expect(report.problems[0]!.message).toContain(`telemetry seq ${pair[0]} and ${pair[1]}`);
  });

  it('names a wrong signature, and a signature by another key', async () => {
    const { createPublicKey, generateKeyPairSync } = await import('node:crypto');
    const key = createPublicKey(readFileSync(path.join(keysDir, 'box.pub'), 'utf8'));
    const i = lines.findIndex((l) => (isBatch(l, 'telemetry') || isBatch(l, 'events')) && docOf(l).sig);
    expect(i).toBeGreaterThanOrEqual(0);
    const doc = docOf(lines[i]!);
    const report = verifyCapture(edited(i, (d) => (d.sig!.value = Buffer.from(Buffer.from(d.sig!.value, 'base64').map((b, k) => (k === 0 ? b ^ 1 : b))).toString('base64'))), key);
    expect(report.problems.map((p) => [p.kind, p.seq])).toEqual([['signature', doc.toSeq]]);
    expect(report.problems[0]!.message).toContain('wrong signature');
    const other = verifyCapture(lines.join('\n'), generateKeyPairSync('ed25519').publicKey);
    expect(new Set(kinds(other))).toEqual(new Set(['signature', 'unsigned']));
    expect(other.problems.some((p) => /not the given key/.test(p.message))).toBe(true);
  });

  it('names a break in the chain where a whole batch is missing', () => {
    const i = lonelyTelemetry(1);
    const removed = docOf(lines[i]!);
    const report = verifyCapture(lines.filter((_, j) => j !== i).join('\n'));
    expect(kinds(report)).toEqual(['break']);
    expect(report.problems[0]!.message).toContain(`break in the chain after seq`);
    expect(report.problems[0]!.seq).toBeGreaterThan(removed.toSeq);
  });
});
