/**
 * Reads back from the receiver's database what landed, per (gateway, incarnation), in the
 * shape completeness.ts judges. Tables and their meaning: src/receiver/README.md and
 * src/receiver/sql/. Seqs are counted over the stable views consumers query (coldgate_readings,
 * coldgate_positions, coldgate_events), not the receiver's ledger, so a record stored twice
 * shows even if the ledger says once. Gaps come from the table: the view has no `covers`.
 */
import type pg from 'pg';
import { gatewayStatus } from '../../src/receiver/status.ts';
import type { Landed, Range } from './completeness.ts';

const ISLANDS = `
WITH s AS (
  SELECT gateway_id, incarnation, seq FROM coldgate_readings
  UNION ALL SELECT gateway_id, incarnation, seq FROM coldgate_positions
  UNION ALL SELECT gateway_id, incarnation, seq FROM coldgate_events
), c AS (
  SELECT gateway_id, incarnation, seq, count(*) AS n FROM s GROUP BY 1, 2, 3
), i AS (
  SELECT *, seq - row_number() OVER (PARTITION BY gateway_id, incarnation ORDER BY seq) AS island FROM c
)
SELECT gateway_id, incarnation, min(seq)::bigint AS from_seq, max(seq)::bigint AS to_seq,
       coalesce(array_agg(seq) FILTER (WHERE n > 1), '{}') AS dups
FROM i GROUP BY gateway_id, incarnation, island ORDER BY 1, 2, 3`;

/** Declared gaps: the ranges they account for (covers), and a gap record's own seq (a record like any other). */
const GAPS = `SELECT gateway_id, incarnation, from_seq::bigint, to_seq::bigint, reason, covers, record_seq::bigint FROM gaps`;

const key = (gatewayId: string, incarnation: string) => `${gatewayId}/${incarnation}`;

export async function readLanded(pool: pg.Pool): Promise<Map<string, Landed>> {
  const out = new Map<string, Landed>();
  const entry = (gatewayId: string, incarnation: string) => {
    const k = key(gatewayId, incarnation);
    let e = out.get(k);
    if (!e) out.set(k, (e = { present: [], duplicates: [], gaps: [], holes: [], contiguousThrough: 0, chain: 'unknown' }));
    return e;
  };
  const islands = await pool.query<{ gateway_id: string; incarnation: string; from_seq: string; to_seq: string; dups: string[] }>(ISLANDS);
  for (const r of islands.rows) {
    const e = entry(r.gateway_id, r.incarnation);
    e.present.push([Number(r.from_seq), Number(r.to_seq)]);
    e.duplicates.push(...r.dups.map(Number));
  }
  const gaps = await pool.query<{ gateway_id: string; incarnation: string; from_seq: string; to_seq: string; reason: string; covers: boolean; record_seq: string | null }>(GAPS);
  for (const g of gaps.rows) {
    const e = entry(g.gateway_id, g.incarnation);
    if (g.record_seq !== null) e.present.push([Number(g.record_seq), Number(g.record_seq)] as Range);
    if (g.covers) e.gaps.push({ fromSeq: Number(g.from_seq), toSeq: Number(g.to_seq), reason: g.reason });
  }
  for (const s of await gatewayStatus(pool)) {
    for (const inc of s.incarnations) {
      const e = entry(s.gatewayId, inc.incarnation);
      e.holes = inc.holes;
      e.contiguousThrough = inc.contiguousThrough;
      e.chain = inc.chain;
    }
  }
  return out;
}
