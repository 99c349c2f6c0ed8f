/**
 * Cost of the hash chain per reading: `npx tsx scripts/bench-chain.ts [--json]`.
 * 1. hashing alone: canonical form + one SHA-256 per reading (src/chain/hash.ts), as a commit
 *    chains them and as the uplink's first read of a chunk does again;
 * 2. the journal's real ingest path (appendMany of a 16-probe poll, fsync per 20 ms group
 *    commit, default config), and what share of it (1) is. Without the chain: run this script
 *    with its Journal import pointed at a checkout from before it (README: Tamper evidence);
 * 3. one Ed25519 signature (at most one per lane per minute, plus one per trip end).
 * Readings shaped like the drain bench's: 16 probes, values in tenths, one poll every 100 ms.
 * The full path with the uplink is `npm run bench -- --only drain` (its ingest phase).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Journal } from '../src/journal/journal.ts';
import { JournalConfig } from '../src/config/schema-journal.ts';
import { silentLogger } from '../src/core/log.ts';
import type { JournalRecord, TemperatureDraft } from '../src/core/types.ts';
import { chainEnd, genesis } from '../src/chain/hash.ts';
import { ensureBoxKey } from '../src/chain/keys.ts';
import { signHead } from '../src/chain/sign.ts';

const N = 200_000;
const PROBES = 16;
const drafts = (n: number, t0: number): TemperatureDraft[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'temperature', ts: new Date(t0 + Math.floor(i / PROBES) * 100).toISOString(), tq: 'system', probe: `p${i % PROBES}`, compartment: i % 2 ? 'rear' : 'front', value: Math.round(Math.sin(i / 50) * 300) / 10, quality: 'good' }));
const median = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!;

function hashing(): number {
  const records = drafts(N, Date.UTC(2026, 0, 1)).map((d, i) => ({ ...d, seq: i + 1 })) as JournalRecord[];
  const start = genesis('0123456789abcdef', 'telemetry');
  chainEnd(start, records.slice(0, 20_000));
  const runs: number[] = [];
  for (let k = 0; k < 5; k++) {
    const t = performance.now();
    chainEnd(start, records);
    runs.push(((performance.now() - t) * 1000) / N);
  }
  return median(runs);
}

async function ingest(): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coldgate-bench-chain-'));
  try {
    const j = await Journal.open(dir, JournalConfig.parse({}), silentLogger);
    const all = drafts(N, Date.UTC(2026, 0, 1));
    const t = performance.now();
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < N; i += PROBES) pending.push(j.appendMany(all.slice(i, i + PROBES)));
    await Promise.all(pending);
    const us = ((performance.now() - t) * 1000) / N;
    await j.close();
    return us;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function signing(): number {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coldgate-bench-key-'));
  try {
    const { key } = ensureBoxKey(dir);
    const head = { gatewayId: 'bench', incarnation: '0123456789abcdef', lane: 'telemetry' as const, lastSeq: 1, head: genesis('0123456789abcdef', 'telemetry') };
    const t = performance.now();
    for (let i = 0; i < 1000; i++) signHead(key, { ...head, lastSeq: i });
    return (performance.now() - t) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const chainUs = hashing();
const ingestUs = await ingest();
const result = {
  readings: N,
  chainUsPerReading: +chainUs.toFixed(3),
  ingestUsPerReading: +ingestUs.toFixed(3),
  ingestPerSec: Math.round(1e6 / ingestUs),
  chainShareOfIngest: +(chainUs / ingestUs).toFixed(3),
  signMs: +signing().toFixed(3),
};
if (process.argv.includes('--json')) console.log(JSON.stringify(result));
else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(26)} ${v}`);
