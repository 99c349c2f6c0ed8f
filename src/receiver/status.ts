import type pg from 'pg';
import type { Lane } from '../core/types.ts';
import { openHoles } from './journal-lock.ts';
import { union, type Range } from '../core/seq-ranges.ts';

/** One journal (gateway, incarnation) as `coldgate receiver status` shows it (contract section 3). */
export interface JournalStatus {
  incarnation: string;
  records: number;
  duplicatesDropped: number;
  contiguousThrough: number;
  highestSeq: number;
  holes: Range[];
  gaps: { fromSeq: number; toSeq: number; reason: string }[];
  /** `ok`, `broken at seq N` (the lowest), or `no key` (none registered: not checked). */
  chain: string;
  lastBatchAt: string | null;
}

/** A gateway: its latest incarnation's fields, and every incarnation's. */
export interface GatewayStatus extends JournalStatus {
  gatewayId: string;
  incarnations: JournalStatus[];
}

export async function gatewayStatus(pool: pg.Pool, gatewayId?: string): Promise<GatewayStatus[]> {
  const only = gatewayId === undefined ? '' : ' WHERE gateway_id = $1';
  const args = gatewayId === undefined ? [] : [gatewayId];
  const [gateways, journals, ranges, gaps, keys, breaks] = await Promise.all([
    pool.query<{ gateway_id: string; latest_incarnation: string | null }>(`SELECT gateway_id, latest_incarnation FROM gateways${only} ORDER BY gateway_id`, args),
    pool.query<{ gateway_id: string; incarnation: string; records: string; duplicates_dropped: string; contiguous_through: string; highest_seq: string; last_batch_at: Date | null }>(
      `SELECT * FROM incarnations${only} ORDER BY last_batch_at NULLS FIRST, first_seen_at`,
      args,
    ),
    pool.query<{ gateway_id: string; incarnation: string; lane: Lane; from_seq: string; to_seq: string }>(`SELECT gateway_id, incarnation, lane, from_seq, to_seq FROM received_ranges${only} ORDER BY from_seq`, args),
    pool.query<{ gateway_id: string; incarnation: string; from_seq: string; to_seq: string; reason: string; covers: boolean }>(`SELECT gateway_id, incarnation, from_seq, to_seq, reason, covers FROM gaps${only} ORDER BY from_seq, to_seq`, args),
    pool.query<{ gateway_id: string }>(`SELECT gateway_id FROM gateway_keys${only}`, args),
    pool.query<{ gateway_id: string; incarnation: string; seq: string }>(`SELECT gateway_id, incarnation, min(seq) AS seq FROM chain_breaks${only} GROUP BY gateway_id, incarnation`, args),
  ]);
  const id = (g: string, i: string) => `${g}\u0000${i}`;
  const keyed = new Set(keys.rows.map((k) => k.gateway_id));
  const brokenAt = new Map(breaks.rows.map((b) => [id(b.gateway_id, b.incarnation), Number(b.seq)]));
  const byJournal = new Map<string, JournalStatus>();
  const perGateway = new Map<string, JournalStatus[]>();
  const ledgers = new Map<string, { received: Record<Lane, Range[]>; covering: Range[] }>();
  for (const j of journals.rows) {
    const key = id(j.gateway_id, j.incarnation);
    const broken = brokenAt.get(key);
    const s: JournalStatus = {
      incarnation: j.incarnation,
      records: Number(j.records),
      duplicatesDropped: Number(j.duplicates_dropped),
      contiguousThrough: Number(j.contiguous_through),
      highestSeq: Number(j.highest_seq),
      holes: [],
      gaps: [],
      chain: !keyed.has(j.gateway_id) ? 'no key' : broken === undefined ? 'ok' : `broken at seq ${broken}`,
      lastBatchAt: j.last_batch_at?.toISOString() ?? null,
    };
    byJournal.set(key, s);
    ledgers.set(key, { received: { events: [], telemetry: [] }, covering: [] });
    if (!perGateway.has(j.gateway_id)) perGateway.set(j.gateway_id, []);
    perGateway.get(j.gateway_id)!.push(s);
  }
  for (const r of ranges.rows) ledgers.get(id(r.gateway_id, r.incarnation))?.received[r.lane].push([Number(r.from_seq), Number(r.to_seq)]);
  for (const g of gaps.rows) {
    const key = id(g.gateway_id, g.incarnation);
    byJournal.get(key)?.gaps.push({ fromSeq: Number(g.from_seq), toSeq: Number(g.to_seq), reason: g.reason });
    if (g.covers) ledgers.get(key)?.covering.push([Number(g.from_seq), Number(g.to_seq)]);
  }
  for (const [key, s] of byJournal) {
    const l = ledgers.get(key)!;
    s.holes = openHoles({ received: l.received, covering: union(l.covering), highestSeq: s.highestSeq });
  }
  return gateways.rows.map((g) => {
    const list = perGateway.get(g.gateway_id) ?? [];
    const latest = list.find((s) => s.incarnation === g.latest_incarnation) ?? list.at(-1);
    const base: JournalStatus = latest ?? { incarnation: '', records: 0, duplicatesDropped: 0, contiguousThrough: 0, highestSeq: 0, holes: [], gaps: [], chain: keyed.has(g.gateway_id) ? 'ok' : 'no key', lastBatchAt: null };
    return { gatewayId: g.gateway_id, ...base, incarnations: list };
  });
}
