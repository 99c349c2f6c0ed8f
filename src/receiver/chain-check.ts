import type { KeyObject } from 'node:crypto';
import type pg from 'pg';
import type { Lane } from '../core/types.ts';
import { genesis, hashesOf } from '../chain/hash.ts';
import { fingerprintOf } from '../chain/keys.ts';
import { signatureProblem } from '../chain/sign.ts';
import type { DecodedBatch } from '../uplink/decode.ts';
import type { JournalLedger } from './journal-lock.ts';
import { coversAll, intersects, union } from '../core/seq-ranges.ts';

/**
 * The receiver's half of the chain check (contract: src/uplink/contract/CHAIN.md; the same
 * primitives as `coldgate verify`, src/chain/verify.ts, which checks a whole capture at once).
 * Batches come one at a time, out of order and twice, so the check has two steps:
 * 1. on arrival (`batchProblem`): the records hash from `prev` to `head`, and a signature, if
 *    any, is the registered key's over that head. A batch failing this is refused.
 * 2. continuity (`linkPending`): a batch's `prev` must be the hash after the lane's record
 *    before it. That record's batch may not have arrived yet, so each chained batch waits in
 *    chain_batches (linked = false) until every seq between the lane's previous known head and
 *    the batch is accounted for: received on the other lane, or a retention gap (then the chain
 *    resumes and nothing is checked), or again this lane without a head there (a resend cut
 *    differently, or records from before the key): not checkable, let through.
 */
export interface ChainProblem {
  kind: 'chain' | 'signature' | 'break' | 'conflict';
  lane: Lane;
  seq: number;
  message: string;
}

export interface RegisteredKey {
  key: KeyObject;
  fingerprint: string;
}

export function batchProblem(b: DecodedBatch, key: RegisteredKey): ChainProblem | undefined {
  const where = `${b.lane} batch seq ${b.fromSeq}..${b.toSeq}`;
  if (b.prev === undefined || b.head === undefined) return undefined;
  if (hashesOf(b.prev, b.records).at(-1) !== b.head) return { kind: 'chain', lane: b.lane, seq: b.fromSeq, message: `${where}: its records do not hash from prev to head: a record was changed, inserted or removed` };
  const wrong = signatureProblem(key.key, key.fingerprint, b);
  if (wrong === 'other-key') return { kind: 'signature', lane: b.lane, seq: b.toSeq, message: `${where}: signed by key ${b.sig!.key}, not the registered ${key.fingerprint} (coldgate receiver keys add)` };
  if (wrong === 'invalid') return { kind: 'signature', lane: b.lane, seq: b.toSeq, message: `${where}: wrong signature over head ${b.head.slice(0, 16)}... at seq ${b.toSeq}` };
  return undefined;
}

export function registeredKey(key: KeyObject): RegisteredKey {
  return { key, fingerprint: fingerprintOf(key) };
}

/** Records a chained batch that passed step 1; a second copy with another head is a conflict. */
export async function rememberBatch(client: pg.PoolClient, b: DecodedBatch): Promise<ChainProblem | undefined> {
  const res = await client.query(
    'INSERT INTO chain_batches (gateway_id, incarnation, lane, from_seq, to_seq, prev, head) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING',
    [b.gatewayId, b.incarnation, b.lane, b.fromSeq, b.toSeq, b.prev, b.head],
  );
  if (res.rowCount === 1) return undefined;
  const known = await client.query<{ head: string }>('SELECT head FROM chain_batches WHERE gateway_id = $1 AND incarnation = $2 AND lane = $3 AND from_seq = $4 AND to_seq = $5', [b.gatewayId, b.incarnation, b.lane, b.fromSeq, b.toSeq]);
  if (known.rows[0]?.head === b.head) return undefined;
  return { kind: 'conflict', lane: b.lane, seq: b.fromSeq, message: `${b.lane} batch seq ${b.fromSeq}..${b.toSeq} arrived twice with different heads: one copy was changed and re-chained` };
}

/** Step 2 for every waiting batch of the journal, with the ledger as it is now. */
export async function linkPending(client: pg.PoolClient, ledger: JournalLedger): Promise<ChainProblem[]> {
  const { gatewayId, incarnation } = ledger;
  const pending = await client.query<{ lane: Lane; from_seq: string; to_seq: string; prev: string }>(
    'SELECT lane, from_seq, to_seq, prev FROM chain_batches WHERE gateway_id = $1 AND incarnation = $2 AND NOT linked ORDER BY from_seq',
    [gatewayId, incarnation],
  );
  const all = union(ledger.received.events, ledger.received.telemetry);
  const problems: ChainProblem[] = [];
  for (const p of pending.rows) {
    const from = Number(p.from_seq);
    const before = await client.query<{ to_seq: string; head: string }>(
      'SELECT to_seq, head FROM chain_batches WHERE gateway_id = $1 AND incarnation = $2 AND lane = $3 AND to_seq < $4 ORDER BY to_seq DESC LIMIT 1',
      [gatewayId, incarnation, p.lane, from],
    );
    const mark = before.rows[0];
    const lo = mark ? Number(mark.to_seq) + 1 : 1;
    const hi = from - 1;
    const unheaded = intersects(ledger.received[p.lane], lo, hi) || intersects(ledger.covering, lo, hi);
    if (!unheaded) {
      if (!coversAll(all, lo, hi)) continue;
      const expected = mark ? mark.head : genesis(incarnation, p.lane);
      if (p.prev !== expected) {
        problems.push({ kind: 'break', lane: p.lane, seq: from, message: `${p.lane} seq ${from}: break in the chain after seq ${lo - 1}: the batch's prev ${p.prev.slice(0, 16)}... is not the hash after seq ${lo - 1} (${expected.slice(0, 16)}...): records between them were removed, or changed and re-chained` });
      }
    }
    await client.query('UPDATE chain_batches SET linked = true WHERE gateway_id = $1 AND incarnation = $2 AND lane = $3 AND from_seq = $4 AND to_seq = $5', [gatewayId, incarnation, p.lane, p.from_seq, p.to_seq]);
  }
  return problems;
}

export async function recordBreak(client: pg.PoolClient, gatewayId: string, incarnation: string, p: ChainProblem): Promise<void> {
  await client.query('INSERT INTO chain_breaks (gateway_id, incarnation, lane, seq, kind, message) VALUES ($1, $2, $3, $4, $5, $6)', [gatewayId, incarnation, p.lane, p.seq, p.kind, p.message]);
}
