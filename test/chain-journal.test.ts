import { statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../src/journal/journal.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { RecordDraft } from '../src/core/types.ts';
import { canonicalJson, canonicalRecord } from '../src/chain/canonical.ts';
import { chainEnd, genesis, hashesOf } from '../src/chain/hash.ts';
import { ensureBoxKey, fingerprintOf, parsePublicKey, rawPublicKey, readBoxKey } from '../src/chain/keys.ts';
import { keysInitCommand, keysShowCommand } from '../src/cli/keys.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';

const cfg = JournalConfig.parse({ commitIntervalMs: 5 });
const temp = (probe: string, value: number, compartment?: string): RecordDraft => ({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe, value, quality: 'good', ...(compartment && { compartment }) });
const event = (type: string, data?: Record<string, unknown>): RecordDraft => ({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type, severity: 'warning', message: type, ...(data && { data }) });

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function dir(): string {
  const t = tempDir('chain-');
  cleanups.push(t.cleanup);
  return t.dir;
}

describe('canonical form', () => {
  it('sorts keys at every level, leaves out undefined, and the hot path for readings agrees with the general one', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, undefined, 'x'], c: null }, e: undefined, '10': 1, '2': 2 })).toBe('{"10":1,"2":2,"a":{"c":null,"d":[1,null,"x"]},"b":1}');
    const r = { seq: 11, value: 4.2, quality: 'good', probe: 'p1', kind: 'temperature', tq: 'system', ts: '2024-01-01T00:00:00.000Z', compartment: 'front' } as const;
    expect(canonicalRecord(r)).toBe('{"compartment":"front","kind":"temperature","probe":"p1","quality":"good","seq":11,"tq":"system","ts":"2024-01-01T00:00:00.000Z","value":4.2}');
    // The same record through JSON (as a consumer has it) and as a sensor fault (the general path).
    expect(canonicalRecord(JSON.parse(JSON.stringify(r)))).toBe(canonicalRecord(r));
    const fault = { ...r, value: null, quality: 'sensor-fault', error: 'open circuit' } as const;
    expect(canonicalRecord(fault)).toBe(canonicalJson(fault));
    expect(canonicalRecord({ ...r, compartment: undefined })).toBe(canonicalJson({ ...r, compartment: undefined }));
    // The hot path keeps names and the last stamp quoted: odd numbers, names that need escapes,
    // and stamps that change and come back must still give the general path's text.
    const odd = [4.2, -0, NaN, Infinity, -Infinity, 1e21, 1e-7, 0.1 + 0.2].flatMap((value, i) =>
      ['p1', 'p"2', 'ü\u2028', 'front'].map((probe) => ({ ...r, value, probe, compartment: probe === 'front' ? 'p1' : 'a\\b', ts: i % 2 ? '2024-01-01T00:00:01.000Z' : r.ts, seq: i })),
    );
    for (const x of [...odd, ...odd.reverse()]) expect(canonicalRecord(x)).toBe(canonicalJson(x));
    // The text kept per probe: its compartment or quality changing and coming back.
    const moved = ['front', undefined, 'rear', 'front'].flatMap((compartment) => (['good', 'comms-error', 'good'] as const).map((quality) => ({ ...r, compartment, quality })));
    for (const x of moved) expect(canonicalRecord(x)).toBe(canonicalJson(x));
  });
});

describe('hash chain in the journal', () => {
  it('chains each lane from its genesis, and continues across a restart', async () => {
    const d = dir();
    let j = await Journal.open(d, cfg, silentLogger);
    const incarnation = j.stats().incarnation;
    await j.appendMany([temp('a', 1, 'front'), event('x', { z: 1, a: [1, 2] }), temp('b', -18.5), temp('a', 3.25)]);
    const t1 = await j.readChained('telemetry', 0, 100);
    expect(t1.records.map((r) => r.seq)).toEqual([1, 3, 4]);
    expect(t1.prev).toBe(genesis(incarnation, 'telemetry'));
    expect(t1.head).toBe(chainEnd(t1.prev!, t1.records));
    const e1 = await j.readChained('events', 0, 100);
    expect(e1.prev).toBe(genesis(incarnation, 'events'));
    // A batch that starts inside a chunk starts from the hash after the record before it.
    const mid = await j.readChained('telemetry', 1, 100);
    expect(mid.prev).toBe(hashesOf(t1.prev!, t1.records)[0]);
    await j.close();

    j = await Journal.open(d, cfg, silentLogger);
    await j.appendMany([temp('a', 4), temp('b', -18.4)]);
    const t2 = await j.readChained('telemetry', 4, 100);
    expect(t2.records.map((r) => r.seq)).toEqual([5, 6]);
    expect(t2.prev).toBe(t1.head);
    expect(t2.head).toBe(chainEnd(t1.head!, t2.records));
    // Acked records are gone; what remains still chains from where it was.
    await j.ack('telemetry', 5);
    const t3 = await j.readChained('telemetry', 0, 100);
    expect(t3.records.map((r) => r.seq)).toEqual([6]);
    expect(t3.head).toBe(t2.head);
    await j.close();
  });

  it('a chained read takes whole chunks while they fit (the next chunk says the head), and hashes only a chunk it cuts', async () => {
    const j = await Journal.open(dir(), cfg, silentLogger);
    const start = genesis(j.stats().incarnation, 'telemetry');
    for (let c = 0; c < 3; c++) await j.appendMany(Array.from({ length: 5 }, (_, i) => temp('a', c * 10 + i)));
    const all = await j.read('telemetry', 0, 100);
    const hashes = hashesOf(start, all);
    const whole = await j.readChained('telemetry', 0, 12);
    expect([whole.records.length, whole.prev, whole.head]).toEqual([10, start, hashes[9]]);
    const cut = await j.readChained('telemetry', 0, 3);
    expect([cut.records.length, cut.head]).toEqual([3, hashes[2]]);
    const rest = await j.readChained('telemetry', 3, 100);
    expect([rest.records.length, rest.prev, rest.head]).toEqual([12, hashes[2], hashes[14]]);
    // A plain read still fills its limit.
    expect(await j.read('telemetry', 0, 12)).toHaveLength(12);
    await j.close();
  });
});

describe('box key', () => {
  it('is made once with a private file only its owner reads, and keys show prints what the cloud registers', async () => {
    const d = dir();
    const keys = path.join(d, 'keys');
    const init = await runCli(keysInitCommand, ['--data', d]);
    expect(init.code).toBe(0);
    expect(statSync(keys).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(keys, 'box.key')).mode & 0o777).toBe(0o600);
    const again = ensureBoxKey(keys);
    expect(again.created).toBe(false);
    const show = await runCli(keysShowCommand, ['--data', d, '--json']);
    expect(show.code).toBe(0);
    const shown = JSON.parse(show.out) as { fingerprint: string; raw: string; pem: string };
    expect(shown.fingerprint).toBe(again.key.fingerprint);
    expect(shown.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(rawPublicKey(parsePublicKey(shown.raw)).toString('base64')).toBe(shown.raw);
    expect(fingerprintOf(parsePublicKey(shown.pem))).toBe(shown.fingerprint);
    expect(init.out).toContain(shown.fingerprint);
  });

  it('refuses a private key that others can read', async () => {
    const d = dir();
    const { chmodSync } = await import('node:fs');
    ensureBoxKey(d);
    chmodSync(path.join(d, 'box.key'), 0o644);
    expect(() => readBoxKey(d)).toThrow(/readable by others .*chmod 600/);
  });
});
