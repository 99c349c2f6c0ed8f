import type { Lane } from '../core/types.ts';

/**
 * Key layout. Chunks are keyed by the seq of their LAST record, so the first chunk at or after
 * `c!lane!hex(s)` is the one that holds seq s: a read from a cursor is one seek, not a scan.
 *   c!telemetry!00000000000004d2  -> chunk of records whose last seq is 1234
 *   m!seq                         -> next seq to assign (written in the same batch as chunks)
 *   m!lane!telemetry              -> that lane's cursors and totals (LaneMeta, JSON)
 *   m!incarnation                 -> this journal's incarnation id (incarnation.ts), 16 hex digits
 *   m!chain!telemetry             -> that lane's chain head {seq, hash} (src/chain/hash.ts), in each commit's batch
 *   m!names                       -> the probe and compartment names row chunks refer to (names.ts), in the batch of the first chunk that uses a new one
 */
export const SEQ_KEY = 'm!seq';
export const INCARNATION_KEY = 'm!incarnation';
export const NAMES_KEY = 'm!names';

/** State kept beside the records and written in their commits (Journal.putState): `s!{name}`. */
export function stateKey(name: string): string {
  return `s!${name}`;
}

export function chunkKey(lane: Lane, seq: number): string {
  return `c!${lane}!${seq.toString(16).padStart(16, '0')}`;
}

export function lanePrefix(lane: Lane): { gte: string; lt: string } {
  return { gte: `c!${lane}!`, lt: `c!${lane}"` };
}

export function laneMetaKey(lane: Lane): string {
  return `m!lane!${lane}`;
}

export function chainKey(lane: Lane): string {
  return `m!chain!${lane}`;
}

export function seqOfChunkKey(key: string): number {
  return parseInt(key.slice(key.lastIndexOf('!') + 1), 16);
}
