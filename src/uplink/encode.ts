import { deflateSync } from 'node:zlib';
import type { JournalRecord, Lane } from '../core/types.ts';
import { toColumnar, type TemperatureSeries } from '../journal/columnar.ts';

export const BATCH_SCHEMA = 'coldgate.batch/3';
export const CONTENT_TYPE = 'application/json';

/**
 * One MQTT message carrying many records (contract: contract/batch.schema.json). Good
 * temperature readings travel as delta-coded series (see journal/columnar.ts), the rest as
 * records; a decoder (decode.ts) restores the records. The cloud de-duplicates on
 * (gatewayId, incarnation, seq): a new journal (wiped or moved dataDir) counts seq from 1 again.
 */
export interface BatchPayload extends BatchSource {
  schema: typeof BATCH_SCHEMA;
  lane: Lane;
  /** First and last seq and how many records, so a consumer sees gaps without decoding them all. */
  fromSeq: number;
  toSeq: number;
  count: number;
  temperatures: TemperatureSeries[];
  records: JournalRecord[];
}

/** Who wrote the records: the gateway and its journal's incarnation (journal/incarnation.ts). */
export interface BatchSource {
  gatewayId: string;
  incarnation: string;
}

/** 'deflate' is the zlib format (RFC 1950), as HTTP's Content-Encoding: deflate. */
export type ContentEncoding = 'deflate' | 'identity';

export interface EncodedBatch {
  payload: Buffer;
  encoding: ContentEncoding;
}

export function batchPayload(source: BatchSource, lane: Lane, records: readonly JournalRecord[]): BatchPayload {
  const { temperatures, records: rest } = toColumnar(records);
  return { schema: BATCH_SCHEMA, gatewayId: source.gatewayId, incarnation: source.incarnation, lane, fromSeq: records[0]!.seq, toSeq: records[records.length - 1]!.seq, count: records.length, temperatures, records: rest };
}

export function encodeBatch(source: BatchSource, lane: Lane, records: readonly JournalRecord[], encoding: ContentEncoding): EncodedBatch {
  const json = JSON.stringify(batchPayload(source, lane, records));
  return { payload: encoding === 'deflate' ? deflateSync(json) : Buffer.from(json), encoding };
}
