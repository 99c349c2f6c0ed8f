import type pg from 'pg';
import type { Lane } from '../core/types.ts';
import type { HoleTracker } from './holes.ts';
import { coveringGaps, openHoles } from './journal-lock.ts';
import type { Range } from '../core/seq-ranges.ts';
import { replayRequests, type ReplayRequest } from './replay.ts';

/**
 * The replay requests due now over every journal with holes (contiguous_through below
 * highest_seq), read without locks: a hole that fills meanwhile costs one needless request.
 */
export async function dueReplays(pool: pg.Pool, tracker: HoleTracker, by: string, now: number): Promise<{ gatewayId: string; request: ReplayRequest }[]> {
  const open = await pool.query<{ gateway_id: string; incarnation: string; highest_seq: string }>('SELECT gateway_id, incarnation, highest_seq FROM incarnations WHERE contiguous_through < highest_seq');
  const seen = new Set<string>();
  const due: { gatewayId: string; request: ReplayRequest }[] = [];
  for (const row of open.rows) {
    const ranges = await pool.query<{ lane: Lane; from_seq: string; to_seq: string }>('SELECT lane, from_seq, to_seq FROM received_ranges WHERE gateway_id = $1 AND incarnation = $2 ORDER BY from_seq', [row.gateway_id, row.incarnation]);
    const received: Record<Lane, Range[]> = { events: [], telemetry: [] };
    for (const r of ranges.rows) received[r.lane].push([Number(r.from_seq), Number(r.to_seq)]);
    const covering = await coveringGaps(pool, row.gateway_id, row.incarnation);
    const journal = `${row.gateway_id}\u0000${row.incarnation}`;
    seen.add(journal);
    for (const hole of tracker.due(journal, openHoles({ received, covering, highestSeq: Number(row.highest_seq) }), now)) {
      for (const request of replayRequests(row.incarnation, hole, by)) due.push({ gatewayId: row.gateway_id, request });
    }
  }
  tracker.keepOnly(seen);
  return due;
}
