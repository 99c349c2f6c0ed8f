import { createPublicKey } from 'node:crypto';
import type pg from 'pg';
import type { JournalRecord } from '../core/types.ts';
import type { DecodedBatch } from '../uplink/decode.ts';
import { batchProblem, linkPending, recordBreak, registeredKey, rememberBatch, type ChainProblem, type RegisteredKey } from './chain-check.ts';
import type { RefusedKind } from './inbound.ts';
import { lockJournal, openHoles, saveJournal, type JournalLedger } from './journal-lock.ts';
import { inTransaction } from './transaction.ts';
import { addRange, covers, rangesOf, union, type Range } from '../core/seq-ranges.ts';

/** Gap reasons whose fromSeq..toSeq are seqs the box had and dropped: they account for that range. */
export const COVERING_REASONS: ReadonlySet<string> = new Set(['max-bytes', 'max-age', 'not-held']);

/** Where one gateway journal stands after a write. */
export interface JournalResult {
  gatewayId: string;
  incarnation: string;
  inserted: number;
  /** Records of this write that the ledger already held. */
  dropped: number;
  contiguousThrough: number;
  highestSeq: number;
  holes: Range[];
  /** contiguousThrough is higher than before: publish `committed`. */
  advanced: boolean;
}

export interface WriteOutcome {
  journals: JournalResult[];
  /** Batches refused inside the transaction (the chain check), by index into the input. */
  refused: { index: number; kind: RefusedKind; message: string }[];
  breaks: (ChainProblem & { gatewayId: string; incarnation: string })[];
}

export interface WriteOptions {
  /** Names the receiver in the refused table. */
  receiver?: string;
  topicOf?: (b: DecodedBatch) => string;
}

/**
 * Writes decoded batches in ONE transaction: per gateway journal (in a fixed order, so that two
 * receivers never lock two journals in opposite orders) lock its row, drop the seqs its ledger
 * already holds, insert the rest with one multi-row INSERT per table, merge the ledger, update
 * the counters. Nothing is visible, and no MQTT message may be acknowledged, before COMMIT.
 */
export async function writeBatches(pool: pg.Pool, batches: readonly DecodedBatch[], opts: WriteOptions = {}): Promise<WriteOutcome> {
  const byJournal = new Map<string, number[]>();
  batches.forEach((b, i) => {
    const id = `${b.gatewayId}\u0000${b.incarnation}`;
    if (!byJournal.has(id)) byJournal.set(id, []);
    byJournal.get(id)!.push(i);
  });
  const outcome: WriteOutcome = { journals: [], refused: [], breaks: [] };
  return inTransaction(pool, async (client) => {
    for (const id of [...byJournal.keys()].sort()) {
      const indexes = byJournal.get(id)!;
      const first = batches[indexes[0]!]!;
      const ledger = await lockJournal(client, first.gatewayId, first.incarnation);
      const key = await keyOf(client, first.gatewayId);
      const rows = new Rows();
      let inserted = 0;
      let dropped = 0;
      const problems: ChainProblem[] = [];
      for (const index of indexes) {
        const b = batches[index]!;
        const chained = key && b.prev !== undefined && b.head !== undefined;
        const problem = chained ? batchProblem(b, key) : undefined;
        if (problem) {
          problems.push(problem);
          outcome.refused.push({ index, kind: problem.kind === 'signature' ? 'signature' : 'chain', message: problem.message });
          await client.query('INSERT INTO refused (topic, gateway_id, kind, message, bytes, receiver) VALUES ($1, $2, $3, $4, $5, $6)', [opts.topicOf?.(b) ?? `(batch ${b.lane})`, b.gatewayId, problem.kind === 'signature' ? 'signature' : 'chain', problem.message, 0, opts.receiver ?? 'library']);
          continue;
        }
        const fresh = b.records.filter((r) => !covers(ledger.received.events, r.seq) && !covers(ledger.received.telemetry, r.seq));
        dropped += b.records.length - fresh.length;
        if (fresh.length > 0) {
          ledger.received[b.lane] = union(ledger.received[b.lane], rangesOf(fresh.map((r) => r.seq)));
          ledger.dirty.add(b.lane);
          ledger.highestSeq = Math.max(ledger.highestSeq, fresh[fresh.length - 1]!.seq);
          for (const r of fresh) rows.add(r);
          inserted += fresh.length;
          for (const g of fresh) if (g.kind === 'gap' && COVERING_REASONS.has(g.reason)) ledger.covering = addRange(ledger.covering, g.fromSeq, g.toSeq);
        }
        if (chained) {
          const conflict = await rememberBatch(client, b);
          if (conflict) problems.push(conflict);
        }
      }
      ledger.records += inserted;
      ledger.duplicates += dropped;
      await rows.insert(client, ledger);
      if (key) problems.push(...(await linkPending(client, ledger)));
      for (const p of problems) {
        await recordBreak(client, ledger.gatewayId, ledger.incarnation, p);
        outcome.breaks.push({ ...p, gatewayId: ledger.gatewayId, incarnation: ledger.incarnation });
      }
      const advanced = await saveJournal(client, ledger, true);
      outcome.journals.push(resultOf(ledger, inserted, dropped, advanced));
    }
    return outcome;
  });
}

/**
 * A replay reply's `notHeld` ranges: the box no longer has those seqs, so they become declared
 * gaps with reason `not-held`, and contiguousThrough may advance past them.
 */
export async function declareNotHeld(pool: pg.Pool, gatewayId: string, incarnation: string, ranges: readonly Range[]): Promise<JournalResult> {
  return inTransaction(pool, async (client) => {
    const ledger = await lockJournal(client, gatewayId, incarnation);
    for (const [from, to] of ranges) {
      await client.query(
        `INSERT INTO gaps (gateway_id, incarnation, from_seq, to_seq, reason, covers, count, ts) VALUES ($1, $2, $3, $4, 'not-held', true, $5, now()) ON CONFLICT DO NOTHING`,
        [gatewayId, incarnation, from, to, to - from + 1],
      );
      ledger.covering = addRange(ledger.covering, from, to);
    }
    const advanced = await saveJournal(client, ledger, false);
    return resultOf(ledger, 0, 0, advanced);
  });
}

function resultOf(ledger: JournalLedger, inserted: number, dropped: number, advanced: boolean): JournalResult {
  return {
    gatewayId: ledger.gatewayId,
    incarnation: ledger.incarnation,
    inserted,
    dropped,
    contiguousThrough: ledger.contiguousThrough,
    highestSeq: ledger.highestSeq,
    holes: openHoles(ledger),
    advanced,
  };
}

async function keyOf(client: pg.PoolClient, gatewayId: string): Promise<RegisteredKey | undefined> {
  const row = (await client.query<{ public_key: string }>('SELECT public_key FROM gateway_keys WHERE gateway_id = $1', [gatewayId])).rows[0];
  return row ? registeredKey(createPublicKey(row.public_key)) : undefined;
}

type RecordOf<K extends JournalRecord['kind']> = Extract<JournalRecord, { kind: K }>;

/** New records of one journal, column by column, for one INSERT ... SELECT FROM unnest per table. */
class Rows {
  private readonly readings: RecordOf<'temperature'>[] = [];
  private readonly positions: RecordOf<'position'>[] = [];
  private readonly events: RecordOf<'event'>[] = [];
  private readonly gaps: RecordOf<'gap'>[] = [];

  add(r: JournalRecord): void {
    if (r.kind === 'temperature') this.readings.push(r);
    else if (r.kind === 'position') this.positions.push(r);
    else if (r.kind === 'event') this.events.push(r);
    else this.gaps.push(r);
  }

  async insert(client: pg.PoolClient, { gatewayId, incarnation, journalId }: JournalLedger): Promise<void> {
    const col = <T, V>(list: T[], f: (r: T) => V) => list.map(f);
    const id = [gatewayId, incarnation];
    const r = this.readings;
    if (r.length) {
      await client.query(
        `INSERT INTO readings (journal_id, seq, ts, value, tq, probe, compartment, quality, error)
         SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::float8[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])`,
        [journalId, col(r, (x) => x.seq), col(r, (x) => x.ts), col(r, (x) => x.value), col(r, (x) => x.tq), col(r, (x) => x.probe), col(r, (x) => x.compartment ?? null), col(r, (x) => x.quality), col(r, (x) => x.error ?? null)],
      );
    }
    const p = this.positions;
    if (p.length) {
      await client.query(
        `INSERT INTO positions (journal_id, seq, ts, lat, lon, speed, track, alt_msl, mode, tq)
         SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::smallint[], $10::text[])`,
        [journalId, col(p, (x) => x.seq), col(p, (x) => x.ts), col(p, (x) => x.lat), col(p, (x) => x.lon), col(p, (x) => x.speed ?? null), col(p, (x) => x.track ?? null), col(p, (x) => x.altMSL ?? null), col(p, (x) => x.mode), col(p, (x) => x.tq)],
      );
    }
    const e = this.events;
    if (e.length) {
      await client.query(
        `INSERT INTO events (journal_id, seq, ts, tq, type, severity, source, message, data)
         SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::jsonb[])`,
        [journalId, col(e, (x) => x.seq), col(e, (x) => x.ts), col(e, (x) => x.tq), col(e, (x) => x.type), col(e, (x) => x.severity), col(e, (x) => x.source ?? null), col(e, (x) => x.message), col(e, (x) => (x.data === undefined ? null : JSON.stringify(x.data)))],
      );
    }
    const g = this.gaps;
    if (g.length) {
      await client.query(
        `INSERT INTO gaps (gateway_id, incarnation, record_seq, ts, from_seq, to_seq, count, reason, covers, lane, from_ts, to_ts)
         SELECT $1, $2, * FROM unnest($3::bigint[], $4::timestamptz[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[], $9::boolean[], $10::text[], $11::timestamptz[], $12::timestamptz[])
         ON CONFLICT DO NOTHING`,
        [...id, col(g, (x) => x.seq), col(g, (x) => x.ts), col(g, (x) => x.fromSeq), col(g, (x) => x.toSeq), col(g, (x) => x.count), col(g, (x) => x.reason), col(g, (x) => COVERING_REASONS.has(x.reason)), col(g, (x) => x.lane ?? null), col(g, (x) => x.fromTs ?? null), col(g, (x) => x.toTs ?? null)],
      );
    }
  }
}
