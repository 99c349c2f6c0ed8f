import type pg from 'pg';
import type { Lane } from '../core/types.ts';
import { contiguousThrough, holes, union, type Range } from '../core/seq-ranges.ts';

/**
 * One gateway journal's ledger, read under the row lock on its `incarnations` row: while a
 * transaction holds it, no other receiver can insert, de-duplicate or advance that journal, so
 * a seq delivered to two receivers at once (a shared-subscription redelivery) lands once.
 */
export interface JournalLedger {
  gatewayId: string;
  incarnation: string;
  /** incarnations.journal_id: what record rows carry. */
  journalId: number;
  received: Record<Lane, Range[]>;
  /** Declared gaps that account for their range (retention, not-held). */
  covering: Range[];
  records: number;
  duplicates: number;
  contiguousThrough: number;
  highestSeq: number;
  /** Lanes whose ranges changed and must be written back. */
  dirty: Set<Lane>;
}

const LANES: readonly Lane[] = ['events', 'telemetry'];

export async function lockJournal(client: pg.PoolClient, gatewayId: string, incarnation: string): Promise<JournalLedger> {
  await client.query('INSERT INTO gateways (gateway_id) VALUES ($1) ON CONFLICT DO NOTHING', [gatewayId]);
  await client.query('INSERT INTO incarnations (gateway_id, incarnation) VALUES ($1, $2) ON CONFLICT DO NOTHING', [gatewayId, incarnation]);
  const row = (await client.query<{ journal_id: number; records: string; duplicates_dropped: string; contiguous_through: string; highest_seq: string }>(
    'SELECT journal_id, records, duplicates_dropped, contiguous_through, highest_seq FROM incarnations WHERE gateway_id = $1 AND incarnation = $2 FOR UPDATE',
    [gatewayId, incarnation],
  )).rows[0]!;
  const ledger: JournalLedger = {
    gatewayId,
    incarnation,
    journalId: row.journal_id,
    received: { events: [], telemetry: [] },
    covering: [],
    records: Number(row.records),
    duplicates: Number(row.duplicates_dropped),
    contiguousThrough: Number(row.contiguous_through),
    highestSeq: Number(row.highest_seq),
    dirty: new Set(),
  };
  const ranges = await client.query<{ lane: Lane; from_seq: string; to_seq: string }>('SELECT lane, from_seq, to_seq FROM received_ranges WHERE gateway_id = $1 AND incarnation = $2 ORDER BY from_seq', [gatewayId, incarnation]);
  for (const r of ranges.rows) ledger.received[r.lane].push([Number(r.from_seq), Number(r.to_seq)]);
  ledger.covering = await coveringGaps(client, gatewayId, incarnation);
  return ledger;
}

export async function coveringGaps(client: pg.Pool | pg.PoolClient, gatewayId: string, incarnation: string): Promise<Range[]> {
  const gaps = await client.query<{ from_seq: string; to_seq: string }>('SELECT from_seq, to_seq FROM gaps WHERE gateway_id = $1 AND incarnation = $2 AND covers', [gatewayId, incarnation]);
  return union(gaps.rows.map((g): Range => [Number(g.from_seq), Number(g.to_seq)]));
}

/** Everything received or accounted for, as contiguousThrough and holes are computed over. */
export function coveredOf(ledger: Pick<JournalLedger, 'received' | 'covering'>): Range[] {
  return union(ledger.received.events, ledger.received.telemetry, ledger.covering);
}

export function openHoles(ledger: Pick<JournalLedger, 'received' | 'covering' | 'highestSeq'>): Range[] {
  return holes(coveredOf(ledger), ledger.highestSeq);
}

/** Writes the ledger back (changed lanes, counters); returns whether contiguousThrough advanced. */
export async function saveJournal(client: pg.PoolClient, ledger: JournalLedger, batchAt: boolean): Promise<boolean> {
  for (const lane of LANES) {
    if (!ledger.dirty.has(lane)) continue;
    await client.query('DELETE FROM received_ranges WHERE gateway_id = $1 AND incarnation = $2 AND lane = $3', [ledger.gatewayId, ledger.incarnation, lane]);
    const ranges = ledger.received[lane];
    await client.query(
      'INSERT INTO received_ranges (gateway_id, incarnation, lane, from_seq, to_seq) SELECT $1, $2, $3, * FROM unnest($4::bigint[], $5::bigint[])',
      [ledger.gatewayId, ledger.incarnation, lane, ranges.map((r) => r[0]), ranges.map((r) => r[1])],
    );
  }
  ledger.dirty.clear();
  const before = ledger.contiguousThrough;
  ledger.contiguousThrough = contiguousThrough(coveredOf(ledger));
  await client.query(
    `UPDATE incarnations SET records = $3, duplicates_dropped = $4, contiguous_through = $5, highest_seq = $6${batchAt ? ', last_batch_at = now()' : ''} WHERE gateway_id = $1 AND incarnation = $2`,
    [ledger.gatewayId, ledger.incarnation, ledger.records, ledger.duplicates, ledger.contiguousThrough, ledger.highestSeq],
  );
  if (batchAt) await client.query('UPDATE gateways SET latest_incarnation = $2, last_batch_at = now() WHERE gateway_id = $1', [ledger.gatewayId, ledger.incarnation]);
  return ledger.contiguousThrough > before;
}
