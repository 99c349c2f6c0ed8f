import { inflateSync } from 'node:zlib';
import type { JournalRecord } from '../core/types.ts';
import { fromColumnar } from '../journal/columnar.ts';
import { BATCH_SCHEMA, type BatchPayload } from './encode.ts';

export interface DecodedBatch extends Omit<BatchPayload, 'temperatures' | 'records'> {
  /** Every record of the batch, in seq order, in the logical shape of core/types.ts. */
  records: JournalRecord[];
}

/**
 * What a consumer does with a batch: inflate if the `content-encoding` user property says
 * deflate, parse, and expand the temperature series back into records.
 */
export function parseBatch(payload: Buffer, contentEncoding?: string): BatchPayload {
  const text = contentEncoding === 'deflate' ? inflateSync(payload).toString('utf8') : payload.toString('utf8');
  const doc = JSON.parse(text) as BatchPayload;
  if (doc.schema !== BATCH_SCHEMA) throw new Error(`unknown batch schema ${String(doc.schema)} (expected ${BATCH_SCHEMA})`);
  return doc;
}

export function decodeBatch(payload: Buffer, contentEncoding?: string): DecodedBatch {
  const { temperatures, records, ...head } = parseBatch(payload, contentEncoding);
  return { ...head, records: fromColumnar({ temperatures, records }) };
}
