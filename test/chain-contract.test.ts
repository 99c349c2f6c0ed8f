import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { JournalRecord, Lane, RecordDraft } from '../src/core/types.ts';
import { canonicalRecord } from '../src/chain/canonical.ts';
import { genesis, hashesOf } from '../src/chain/hash.ts';
import { ensureBoxKey } from '../src/chain/keys.ts';
import { signedText, signHead } from '../src/chain/sign.ts';
import { verifyCapture } from '../src/chain/verify.ts';
import { batchDoc, encodeBatch } from '../src/uplink/wire/batch.ts';
import { hasPeer } from './helpers/peers.ts';
import { tempDir } from './helpers/tmp.ts';

const tmp = tempDir('chain-contract-');
afterAll(() => tmp.cleanup());
const contract = new URL('../src/uplink/contract/', import.meta.url);
const doc = readFileSync(new URL('CHAIN.md', contract), 'utf8');

const example: JournalRecord[] = [
  { kind: 'temperature', ts: '2024-01-01T00:00:00.000Z', tq: 'system', probe: 'p1', compartment: 'front', value: 4.2, quality: 'good', seq: 11 },
  { kind: 'temperature', ts: '2024-01-01T00:00:00.000Z', tq: 'system', probe: 'p2', compartment: 'rear', value: -18.5, quality: 'good', seq: 12 },
];

describe('CHAIN.md', () => {
  it('its worked example is what the code computes, and sha256sum recomputes it from the text alone', () => {
    const block = doc.slice(doc.indexOf('## Worked example')).split('```')[1]!;
    const commands = block.split('\n').filter((l) => l.startsWith('$ ')).map((l) => l.slice(2));
    const shown = block.split('\n').filter((l) => /^[0-9a-f]{64} {2}-$/.test(l));
    expect(commands.filter((c) => c.includes('sha256sum'))).toHaveLength(3);
    const out = execFileSync('bash', ['-c', commands.join('\n')]).toString().trim().split('\n');
    expect(out).toEqual(shown);
    const g = genesis('0123456789abcdef', 'telemetry');
    expect(shown.map((l) => l.slice(0, 64))).toEqual([g, ...hashesOf(g, example)]);
    for (const r of example) expect(block).toContain(`'${canonicalRecord(r)}'`);
  });

  it.runIf(hasPeer('openssl'))('a batch signature checks with openssl over the documented text', () => {
    const { key } = ensureBoxKey(path.join(tmp.dir, 'keys'));
    const head = { gatewayId: 'van-1', incarnation: '0123456789abcdef', lane: 'telemetry' as Lane, lastSeq: 12, head: hashesOf(genesis('0123456789abcdef', 'telemetry'), example)[1]! };
    expect(doc).toContain(signedText(head));
    const sig = signHead(key, head);
    writeFileSync(path.join(tmp.dir, 'text'), signedText(head));
    writeFileSync(path.join(tmp.dir, 'sig'), Buffer.from(sig.value, 'base64'));
    const openssl = (text: string) => {
      writeFileSync(path.join(tmp.dir, 'text'), text);
      try {
        return execFileSync('openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', path.join(tmp.dir, 'keys', 'box.pub'), '-rawin', '-in', path.join(tmp.dir, 'text'), '-sigfile', path.join(tmp.dir, 'sig')], { stdio: 'pipe' }).toString();
      } catch (err) {
        return String((err as { stdout?: Buffer }).stdout);
      }
    };
    expect(openssl(signedText(head))).toMatch(/Signature Verified Successfully/);
    expect(openssl(signedText({ ...head, lastSeq: 13 }))).not.toMatch(/Signature Verified Successfully/);
  });

  it('a batch with its chain and signature matches batch.schema.json', () => {
    const schema = JSON.parse(readFileSync(new URL('batch.schema.json', contract), 'utf8')) as Parameters<typeof z.fromJSONSchema>[0];
    const { key } = ensureBoxKey(path.join(tmp.dir, 'keys'));
    const prev = genesis('0123456789abcdef', 'telemetry');
    const head = hashesOf(prev, example)[1]!;
    const source = { gatewayId: 'van-1', incarnation: '0123456789abcdef' };
    const signed = batchDoc(source, 'telemetry', example, { prev, head, sig: signHead(key, { ...source, lane: 'telemetry', lastSeq: 12, head }) });
    expect(z.fromJSONSchema(schema).safeParse(JSON.parse(JSON.stringify(signed))).error).toBeUndefined();
    expect(z.fromJSONSchema(schema).safeParse({ ...signed, head: 'not a hash' }).success).toBe(false);
  });
});

describe('gap records', () => {
  it('retention drops unsent telemetry: the chain resumes after the hole, the gap record says so, and it verifies', async () => {
    const j = await Journal.open(path.join(tmp.dir, 'full'), JournalConfig.parse({ maxBytes: 16 * 1024, fsync: false, commitIntervalMs: 1 }), silentLogger);
    const { key } = ensureBoxKey(path.join(tmp.dir, 'keys'));
    const source = { gatewayId: 'van-full', incarnation: j.stats().incarnation };
    let ms = Date.parse('2026-01-01T00:00:00Z');
    const reading = (i: number): RecordDraft => ({ kind: 'temperature', ts: new Date((ms += 250)).toISOString(), tq: 'system', probe: `p${i % 4}`, value: Math.round(Math.random() * 300) / 10, quality: 'good' });
    const lines: string[] = [];
    const sent: Record<Lane, number> = { events: 0, telemetry: 0 };
    // What the uplink does (uplink.ts pump): chained reads, signed here on every batch.
    const drain = async (lane: Lane) => {
      for (;;) {
        const { records, prev, head } = await j.readChained(lane, sent[lane], 150);
        if (records.length === 0) return;
        const lastSeq = records.at(-1)!.seq;
        const payload = encodeBatch(source, lane, records, 'deflate', { prev, head, sig: signHead(key, { ...source, lane, lastSeq, head: head! }) });
        lines.push(JSON.stringify({ topic: `coldgate/v1/van-full/${lane}`, payload: payload.toString('base64') }));
        sent[lane] = lastSeq;
        await j.ack(lane, lastSeq);
      }
    };
    const commit = (n: number) => j.appendMany([...Array.from({ length: 100 }, (_, i) => reading(i)), ...(n % 5 === 0 ? [{ kind: 'event', ts: new Date(ms).toISOString(), tq: 'system', type: 'alarm', severity: 'critical', message: `alarm ${n}` } as RecordDraft] : [])]);
    for (let n = 0; n < 3; n++) await commit(n);
    await drain('events');
    await drain('telemetry');
    // Offline: the backlog outgrows maxBytes and the oldest unsent readings go.
    for (let n = 3; n < 60; n++) await commit(n);
    expect(j.stats().lanes.telemetry.dropped).toBeGreaterThan(0);
    await drain('events');
    await drain('telemetry');
    await j.close();
    const capture = lines.join('\n');
    const report = verifyCapture(capture, key.publicKey);
    expect(report.problems).toEqual([]);
    expect(report.notes.join('\n')).toMatch(/telemetry: the chain resumes at seq \d+ after records retention dropped/);
    // Without the events lane (and so its gap records), the same hole is a break.
    const gapless = lines.filter((l) => !(JSON.parse(l) as { topic: string }).topic.endsWith('/events'));
    const broken = verifyCapture(gapless.join('\n'), key.publicKey);
    expect(broken.problems.map((p) => [p.kind, p.lane])).toEqual([['break', 'telemetry']]);
  });
});

describe('coldgate verify on bad input', () => {
  it('says which line is not a batch, still checks the rest, and refuses a bad key or a missing file', async () => {
    const { runCli } = await import('./helpers/cli.ts');
    const { verifyCommand } = await import('../src/cli/verify.ts');
    const source = { gatewayId: 'van-1', incarnation: '0123456789abcdef' };
    const prev = genesis(source.incarnation, 'telemetry');
    const good = JSON.stringify({ topic: 'coldgate/v1/van-1/telemetry', payload: encodeBatch(source, 'telemetry', example, 'deflate', { prev, head: hashesOf(prev, example)[1] }).toString('base64') });
    const file = path.join(tmp.dir, 'bad.ndjson');
    writeFileSync(file, `${good}\nnot json\n{"topic":"coldgate/v1/van-1/events","payload":"AAAA"}\n`);
    const out = await runCli(verifyCommand, [file]);
    expect(out.code).toBe(1);
    expect(out.out).toMatch(/^unreadable: line 2: /m);
    expect(out.out).toMatch(/^unreadable: line 3: payload is neither JSON nor zlib/m);
    expect(out.out).toMatch(/1 batches, 2 records/);
    writeFileSync(file, `${good}\n`);
    expect((await runCli(verifyCommand, [file])).code).toBe(0);
    expect((await runCli(verifyCommand, [file, '--key', 'abcd'])).err).toMatch(/neither a PEM file nor a raw Ed25519 public key/);
    expect((await runCli(verifyCommand, [path.join(tmp.dir, 'nope')])).code).toBe(2);
  });
});
