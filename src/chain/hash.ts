import { hash } from 'node:crypto';
import type { JournalRecord, Lane } from '../core/types.ts';
import { canonicalRecord } from './canonical.ts';

/**
 * The chain (contract: src/uplink/contract/CHAIN.md). One chain per lane of a journal, in seq
 * order, per record:
 *   h_0 = SHA-256("coldgate.chain/1 {incarnation} {lane}")
 *   h_n = SHA-256(hex(h_{n-1}) + "\n" + canonical(record_n))
 * all text UTF-8, hex lowercase. Per lane because each lane travels in its own batches and is
 * acked and deleted on its own: a consumer of either lane checks it without the other.
 */
export const CHAIN_FORMAT = 'coldgate.chain/1';

export interface ChainHead {
  /** The seq of the last chained record (0: none yet). */
  seq: number;
  /** h after that record, hex. */
  hash: string;
}

export function genesis(incarnation: string, lane: Lane): string {
  return hash('sha256', `${CHAIN_FORMAT} ${incarnation} ${lane}`, 'hex');
}

export function link(prev: string, record: JournalRecord): string {
  return linkCanonical(prev, canonicalRecord(record));
}

/** As link, for a record whose canonical text the caller has (and writes out: a trip bundle). */
export function linkCanonical(prev: string, canonical: string): string {
  return hash('sha256', `${prev}\n${canonical}`, 'hex');
}

/** The hash after each record, starting from `prev`. */
export function hashesOf(prev: string, records: readonly JournalRecord[]): string[] {
  const out = new Array<string>(records.length);
  let h = prev;
  for (let i = 0; i < records.length; i++) out[i] = h = link(h, records[i]!);
  return out;
}

/** The hash after the last record, starting from `prev`. */
export function chainEnd(prev: string, records: readonly JournalRecord[], from = 0): string {
  let h = prev;
  for (let i = from; i < records.length; i++) h = linkCanonical(h, canonicalRecord(records[i]!));
  return h;
}
