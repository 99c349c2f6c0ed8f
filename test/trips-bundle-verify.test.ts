import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { genesis, link } from '../src/chain/hash.ts';
import { planRuns, tripChain } from '../src/trips/chain.ts';
import { ensureBoxKey, rawPublicKey } from '../src/chain/keys.ts';
import { canonicalRecord } from '../src/chain/canonical.ts';
import type { JournalRecord, TemperatureDraft } from '../src/core/types.ts';
import { tripsExportCommand } from '../src/cli/trips.ts';
import { verifyCommand } from '../src/cli/verify.ts';
import { runCli } from './helpers/cli.ts';
import { tempDir } from './helpers/tmp.ts';
import { tripBench, tripConfig, type TripBench } from './helpers/trips.ts';

const T0 = Date.UTC(2026, 2, 1, 6);
let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups) c();
  cleanups = [];
});

interface Line {
  format?: string;
  trip?: { chain: { runs: Run[] } };
  run?: Run;
  hash?: string;
  record?: JournalRecord;
  end?: unknown;
}
interface Run {
  incarnation: string;
  fromSeq: number;
  toSeq: number;
  lanes: Record<string, { prev: string; head: string; lastSeq: number; sig?: { key: string; value: string } }>;
}

/** A real archived trip (spool, commits, archiving, signing) of 4 probes and a GPS with a retention gap record in it, exported as a bundle. */
async function archivedTrip(): Promise<{ b: TripBench; id: string; dir: string; bundle: string; lines: string[]; key: string }> {
  const t = tempDir('coldgate-bundle-');
  cleanups.push(t.cleanup);
  const b = await tripBench(tripConfig(t.dir, 4), T0);
  const trip = b.start();
  b.feed(0.25, 10, 30);
  // Retention dropped telemetry the uplink never sent: its gap record is chained like any other.
  b.commit([{ kind: 'gap', ts: new Date(b.now).toISOString(), tq: 'system', reason: 'max-bytes', fromSeq: 1, toSeq: 9, count: 9 }]);
  // A probe fault: value null, with its error, kept verbatim by the spool and the archive.
  const fault: TemperatureDraft = { kind: 'temperature', ts: new Date(b.now).toISOString(), tq: 'gps', probe: 'p2', compartment: 'chiller', value: null, quality: 'sensor-fault', error: 'open circuit' };
  b.recorder.take([fault])?.(b.commit([fault]));
  b.commit([{ kind: 'event', ts: new Date(b.now).toISOString(), tq: 'system', type: 'alarm.raised', severity: 'warning', source: 'chiller', message: 'Chiller 8.1 C', data: { value: 8.1 } }]);
  b.feed(0.25, 10, 30);
  await b.end(trip);
  await b.recorder.close();
  const bundle = path.join(t.dir, 'trip.bundle');
  const exported = await runCli(tripsExportCommand, [trip.id, '--format', 'bundle', '--data', t.dir, '--out', bundle]);
  expect(exported.err).toContain('written to');
  expect(exported.code).toBe(0);
  return { b, id: trip.id, dir: t.dir, bundle, lines: readFileSync(bundle, 'utf8').trimEnd().split('\n'), key: rawPublicKey(b.key.publicKey).toString('base64') };
}

async function verify(file: string, lines: string[], key: string) {
  writeFileSync(file, `${lines.join('\n')}\n`);
  const r = await runCli(verifyCommand, [file, '--key', key, '--json']);
  const report = JSON.parse(r.out) as { problems: { kind: string; seq?: number; message: string }[]; records: number; signatures: { valid: number } };
  return { code: r.code, problems: report.problems.map((p) => ({ kind: p.kind, seq: p.seq })), messages: report.problems.map((p) => p.message), report };
}

const parsed = (lines: string[]) => lines.map((l) => JSON.parse(l) as Line);
/** Index of the n-th line holding a record of this kind. */
const nth = (lines: string[], kind: string, n: number) => parsed(lines).flatMap((l, i) => (l.record?.kind === kind ? [i] : []))[n]!;

describe('trip chain at archive time', () => {
  it('signs a lane only when the archived records recompute the hashes the journal noted', async () => {
    const t = tempDir('coldgate-chain-');
    cleanups.push(t.cleanup);
    const key = ensureBoxKey(t.dir).key;
    const inc = '0123456789abcdef';
    const readings = [1, 2, 3].map((seq): TemperatureDraft & { seq: number } => ({ kind: 'temperature', ts: '2026-03-01T06:00:00.000Z', tq: 'system', probe: 'p0', compartment: 'chiller', value: seq / 10, quality: 'good', seq }));
    const g = { telemetry: genesis(inc, 'telemetry'), events: genesis(inc, 'events') };
    const after = (n: number) => ({ telemetry: readings.slice(0, n).reduce((h, r) => link(h, r), g.telemetry), events: g.events });
    const commits = (head3: string) => [
      { from: 1, to: 2, x: [], h: { i: inc, prev: g, head: after(2) } },
      { from: 3, to: 3, x: [], h: { i: inc, prev: after(2), head: { ...after(3), telemetry: head3 } } },
    ];
    async function* spooled() {
      yield readings;
    }
    const good = await tripChain(planRuns(commits(after(3).telemetry), [[1, 3]]), spooled(), 'van-1', key);
    expect([good.problems, good.runs[0]!.lanes.telemetry!.sig !== undefined]).toEqual([undefined, true]);
    const bad = await tripChain(planRuns(commits('f'.repeat(64)), [[1, 3]]), spooled(), 'van-1', key);
    expect(bad.problems).toEqual([expect.stringMatching(/^telemetry seq 1\.\.3: after seq 3 the journal's telemetry chain is at ffff.*not signed$/)]);
    expect(bad.runs[0]!.lanes.telemetry!.sig).toBeUndefined();
    // A commit the spool does not hold whole (seq 2 missing) ends the run; the next noted commit starts one.
    const split = planRuns(commits(after(3).telemetry), [[1, 1], [3, 3]]);
    expect(split.map((p) => [p.run.fromSeq, p.run.toSeq])).toEqual([[3, 3]]);
  });
});

describe('trip bundle: export and verify', () => {
  it('a bundle of an archived trip verifies (exit 0), gap record and all, with the box key', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const p = parsed(lines);
    expect(p[0]!.format).toBe('coldgate.bundle/1');
    expect(p.some((l) => l.record?.kind === 'gap')).toBe(true);
    expect(p.some((l) => l.record?.kind === 'position')).toBe(true);
    expect(p.some((l) => l.record?.kind === 'temperature' && l.record.quality === 'sensor-fault' && l.record.error === 'open circuit')).toBe(true);
    const records = p.filter((l) => l.record);
    // Seqs consecutive across both lanes within the run: nothing skipped.
    const run = p.find((l) => l.run)!.run!;
    expect(records.map((l) => l.record!.seq)).toEqual(Array.from({ length: run.toSeq - run.fromSeq + 1 }, (_, i) => run.fromSeq + i));
    const v = await verify(bundle, lines, key);
    expect(v.problems).toEqual([]);
    expect(v.code).toBe(0);
    // Both lanes' heads and the header (report, probes, counts).
    expect(v.report.signatures.valid).toBe(3);
    expect(v.report.records).toBe(records.length);
  });

  it('the html report shows the chain heads, their signatures and the key fingerprint, as the bundle has them', async () => {
    const { lines, dir, id } = await archivedTrip();
    const head = JSON.parse(lines[0]!) as { key: { fingerprint: string }; trip: { chain: { runs: Run[]; header: { sha256: string; sig: { value: string } } } } };
    const html = await runCli(tripsExportCommand, [id, '--format', 'html', '--data', dir]);
    expect([html.out.includes(head.trip.chain.header.sha256), html.out.includes(head.trip.chain.header.sig.value)]).toEqual([true, true]);
    expect(html.code).toBe(0);
    expect(html.out).toContain(`<code class="key-fingerprint">${head.key.fingerprint}</code>`);
    const lanes = head.trip.chain.runs.flatMap((r) => Object.values(r.lanes));
    expect(lanes.map((l) => l.sig !== undefined)).toEqual([true, true]);
    for (const l of lanes) expect([html.out.includes(l.head), html.out.includes(l.sig!.value)]).toEqual([true, true]);
    // And they are the run lines the bundle's records verify against.
    expect(parsed(lines).filter((l) => l.run).map((l) => l.run)).toEqual(head.trip.chain.runs);
  });

  it('a record line can be recomputed by hand: sha256sum of the previous hash, a newline and the record text', async () => {
    const { lines } = await archivedTrip();
    const p = parsed(lines);
    const i = nth(lines, 'temperature', 3);
    const prevOfLane = p.slice(0, i).reverse().find((l) => l.record && l.record.kind !== 'event' && l.record.kind !== 'gap')!.hash!;
    const recordText = lines[i]!.slice(lines[i]!.indexOf('"record":') + 9, -1);
    expect(recordText).toBe(canonicalRecord(p[i]!.record!));
    const out = execFileSync('sh', ['-c', `printf '%s\\n%s' "$1" "$2" | sha256sum`, 'sh', prevOfLane, recordText]).toString();
    expect(out.split(' ')[0]).toBe(p[i]!.hash);
  });

  it('changed value: names the record', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const i = nth(lines, 'temperature', 40);
    const seq = parsed(lines)[i]!.record!.seq;
    lines[i] = lines[i]!.replace(/"value":(-?\d+)/, (_, v: string) => `"value":${Number(v) + 1}`);
    const v = await verify(bundle, lines, key);
    expect(v.problems).toEqual([{ kind: 'changed', seq }]);
    expect(v.code).toBe(1);
  });

  it('removed record: names its seq', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const i = nth(lines, 'temperature', 40);
    const seq = parsed(lines)[i]!.record!.seq;
    lines.splice(i, 1);
    const v = await verify(bundle, lines, key);
    expect(v.problems).toEqual([{ kind: 'removed', seq }]);
    expect(v.code).toBe(1);
  });

  it('removed event record: names its seq', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const i = nth(lines, 'event', 0);
    const seq = parsed(lines)[i]!.record!.seq;
    lines.splice(i, 1);
    const v = await verify(bundle, lines, key);
    expect(v.problems).toEqual([{ kind: 'removed', seq }]);
  });

  it('inserted record: a copy of a reading with another value, under its seq', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const i = nth(lines, 'temperature', 40);
    const seq = parsed(lines)[i]!.record!.seq;
    lines.splice(i + 1, 0, lines[i]!.replace(/"value":(-?\d+)/, (_, v: string) => `"value":${Number(v) - 3}`));
    const v = await verify(bundle, lines, key);
    expect(v.problems).toEqual([{ kind: 'inserted', seq }]);
    expect(v.code).toBe(1);
  });

  it('reordered pair: two readings swapped', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const i = nth(lines, 'temperature', 40);
    const p = parsed(lines);
    expect(p[i + 1]!.record!.kind).toBe('temperature');
    [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    const v = await verify(bundle, lines, key);
    expect(v.problems).toEqual([{ kind: 'reordered', seq: p[i + 1]!.record!.seq }]);
    expect(v.code).toBe(1);
  });

  it('reordered pair across the lanes: an event moved after the reading that followed it', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const i = nth(lines, 'event', 0);
    const p = parsed(lines);
    expect(['temperature', 'position']).toContain(p[i + 1]!.record!.kind);
    [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    const v = await verify(bundle, lines, key);
    expect(v.problems).toEqual([{ kind: 'reordered', seq: p[i]!.record!.seq }]);
  });

  it('chain break: a hash on a line edited', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const i = nth(lines, 'temperature', 40);
    const seq = parsed(lines)[i]!.record!.seq;
    lines[i] = lines[i]!.replace(/"hash":"(.)/, (_, c: string) => `"hash":"${c === '0' ? '1' : '0'}`);
    const v = await verify(bundle, lines, key);
    expect(v.problems).toEqual([{ kind: 'break', seq }]);
  });

  it("a changed report or count in the trip's header: its signature fails at line 1", async () => {
    const { lines, bundle, key } = await archivedTrip();
    const head = JSON.parse(lines[0]!) as { trip: { counts: { readings: number }; report: { endedBy: string } } };
    head.trip.counts.readings += 1;
    const v = await verify(bundle, [JSON.stringify(head), ...lines.slice(1)], key);
    expect(v.problems).toEqual([{ kind: 'signature' }]);
    expect(v.messages[0]).toMatch(/^line 1: the trip's header .* was changed after the trip was archived/);
    head.trip.counts.readings -= 1;
    head.trip.report.endedBy = 'someone else';
    expect((await verify(bundle, [JSON.stringify(head), ...lines.slice(1)], key)).problems).toEqual([{ kind: 'signature' }]);
  });

  it('a bundle cut short or with a line that is not JSON says so and fails', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const cut = await verify(bundle, lines.slice(0, -40), key);
    expect(cut.code).toBe(1);
    expect(cut.messages.at(-1)).toMatch(/without its end line: lines after it were cut off/);
    const garbled = lines.slice();
    const i = nth(lines, 'temperature', 10);
    garbled[i] = garbled[i]!.slice(0, 30);
    const g = await verify(bundle, garbled, key);
    expect(g.problems.map((p) => p.kind)).toContain('unreadable');
    expect(g.code).toBe(1);
  });

  it('wrong signature: a signature edited, or another key', async () => {
    const { lines, bundle, key, dir } = await archivedTrip();
    const edited = lines.map((l) => l.replace(/"value":"([A-Za-z0-9+/])/g, (_, c: string) => `"value":"${c === 'A' ? 'B' : 'A'}`));
    const v = await verify(bundle, edited, key);
    // The header's and both lanes' heads.
    expect(v.problems.map((p) => p.kind)).toEqual(['signature', 'signature', 'signature']);
    const other = rawPublicKey(ensureBoxKey(path.join(dir, 'other-key')).key.publicKey).toString('base64');
    const w = await verify(bundle, lines, other);
    expect(w.problems.map((p) => p.kind)).toEqual(['signature', 'signature', 'signature']);
    expect(w.messages.every((m) => /not the given key/.test(m))).toBe(true);
  });

  it('a changed value with every later hash and the head recomputed: the chain links, the signature fails and says so', async () => {
    const { lines, bundle, key } = await archivedTrip();
    const p = parsed(lines);
    const i = nth(lines, 'temperature', 40);
    lines[i] = lines[i]!.replace(/"value":(-?\d+)/, (_, v: string) => `"value":${Number(v) + 1}`);
    let at = p.slice(0, i).reverse().find((l) => l.record?.kind === 'temperature' || l.record?.kind === 'position')!.hash!;
    for (let k = i; k < lines.length; k++) {
      const l = JSON.parse(lines[k]!) as Line;
      if (!l.record || l.record.kind === 'event' || l.record.kind === 'gap') continue;
      at = link(at, l.record);
      lines[k] = `{"hash":"${at}","record":${canonicalRecord(l.record)}}`;
    }
    const head = p.find((l) => l.run)!.run!.lanes.telemetry!.head;
    const forged = lines.map((l) => l.split(head).join(at));
    const v = await verify(bundle, forged, key);
    expect(v.problems).toEqual([{ kind: 'signature', seq: expect.any(Number) }]);
    expect(v.messages[0]).toMatch(/every hash after them recomputed/);
  });

  it('a first commit holding a reading from before the trip: the proof starts at the next commit, and verifies', async () => {
    const t = tempDir('coldgate-bundle-');
    cleanups.push(t.cleanup);
    const b = await tripBench(tripConfig(t.dir, 4), T0);
    const trip = b.start();
    // Taken before trip.started, committed with the trip's first commit: the trip does not hold it.
    b.commit([{ kind: 'temperature', ts: new Date(b.now - 10).toISOString(), tq: 'system', probe: 'p0', compartment: 'chiller', value: 3.1, quality: 'good' }]);
    b.feed(0.1, 5);
    await b.end(trip);
    await b.recorder.close();
    const [entry] = await b.archive.list();
    expect(entry!.header.chain!.runs.map((r) => r.fromSeq)).toEqual([2]);
    expect(entry!.header.chain!.unchained).toBe(0);
    const bundle = path.join(t.dir, 'trip.bundle');
    expect((await runCli(tripsExportCommand, [trip.id, '--format', 'bundle', '--data', t.dir, '--out', bundle])).code).toBe(0);
    const v = await verify(bundle, readFileSync(bundle, 'utf8').trimEnd().split('\n'), rawPublicKey(b.key.publicKey).toString('base64'));
    expect([v.code, v.problems]).toEqual([0, []]);
  });

  it('a trip file from before the chain (coldgate.trip/1): csv still exports, bundle is refused clearly', async () => {
    const { dir, id } = await archivedTrip();
    const trips = path.join(dir, 'trips');
    const file = readdirSync(trips).find((f) => f.startsWith(id))!;
    const [header, , ...rest] = gunzipSync(readFileSync(path.join(trips, file))).toString().trimEnd().split('\n');
    const old = { ...JSON.parse(header!), format: 'coldgate.trip/1', tripId: 'old-trip' };
    delete old.chain;
    writeFileSync(path.join(trips, 'old-trip.trip.gz'), gzipSync(`${[JSON.stringify(old), ...rest].join('\n')}\n`));
    const csv = await runCli(tripsExportCommand, ['old-trip', '--format', 'csv', '--data', dir]);
    expect(csv.code).toBe(0);
    expect(csv.out.split('\r\n').length).toBeGreaterThan(100);
    const refused = await runCli(tripsExportCommand, ['old-trip', '--format', 'bundle', '--data', dir]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/coldgate\.trip\/1, before trips kept their hash chain: no bundle/);
    expect(refused.out).toBe('');
  });
});
