/**
 * The `chain` phase of `npm run bench` (`--only chain`): the hash chain's cost per reading.
 * 1. hashing alone: canonical form + one SHA-256 per reading (src/chain/hash.ts), as a commit
 *    chains them (the uplink's first read of a chunk does it again, the trip archive once more);
 * 2. the journal's real ingest path (appendMany of a 16-probe poll, fsync per group
 *    commit, default config), with the chain as it runs; without it is that time less (1), since
 *    the chain is the only work a commit does per record beyond encoding and writing it;
 * 3. one Ed25519 signature (at most one per lane per minute, one per trip end, one per lane per archived trip).
 * Readings shaped like the drain phase's: 16 probes, values in tenths, one poll every 100 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Journal } from '../../src/journal/journal.ts';
import { JournalConfig } from '../../src/config/schema-journal.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { JournalRecord, TemperatureDraft } from '../../src/core/types.ts';
import { chainEnd, genesis } from '../../src/chain/hash.ts';
import { ensureBoxKey } from '../../src/chain/keys.ts';
import { signHead } from '../../src/chain/sign.ts';

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

async function ingest(dir: string): Promise<number> {
  const j = await Journal.open(dir, JournalConfig.parse({}), silentLogger);
  const all = drafts(N, Date.UTC(2026, 0, 1));
  const t = performance.now();
  const pending: Promise<unknown>[] = [];
  for (let i = 0; i < N; i += PROBES) pending.push(j.appendMany(all.slice(i, i + PROBES)));
  await Promise.all(pending);
  const us = ((performance.now() - t) * 1000) / N;
  await j.close();
  return us;
}

function signing(dir: string): number {
  const { key } = ensureBoxKey(dir);
  const head = { gatewayId: 'bench', incarnation: '0123456789abcdef', lane: 'telemetry' as const, lastSeq: 1, head: genesis('0123456789abcdef', 'telemetry') };
  const t = performance.now();
  for (let i = 0; i < 1000; i++) signHead(key, { ...head, lastSeq: i });
  return (performance.now() - t) / 1000;
}

export async function chainCost(dir: string) {
  const work = mkdtempSync(path.join(dir, 'chain-'));
  try {
    const chainUs = hashing();
    const ingestUs = await ingest(path.join(work, 'journal'));
    return {
      readings: N,
      chain_us_per_reading: +chainUs.toFixed(3),
      ingest_us_per_reading: +ingestUs.toFixed(3),
      ingest_readings_per_s: Math.round(1e6 / ingestUs),
      ingest_readings_per_s_without_chain: Math.round(1e6 / (ingestUs - chainUs)),
      chain_share_of_ingest: +(chainUs / ingestUs).toFixed(3),
      sign_ms: +signing(path.join(work, 'keys')).toFixed(3),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
