import type { JournalRecord } from '../core/types.ts';
import { BATCH_SCHEMA, recordsOf, type BatchDoc } from './wire/batch.ts';
import { unpack } from './wire/envelope.ts';

/**
 * What a consumer does with what a gateway publishes (contract/asyncapi.yaml): the payload says
 * its own encoding (plain JSON or zlib, with the preset dictionary: wire/envelope.ts), on MQTT
 * 5 and 3.1.1 alike; batches then expand their rows back into records.
 */
export interface DecodedBatch extends Omit<BatchDoc, 'probes' | 'rows' | 'records'> {
  /** Every record of the batch, in seq order, in the logical shape of core/types.ts. */
  records: JournalRecord[];
}

/** Any coldgate payload (`status`, `latest`, a batch) as its JSON document. */
export function decodeJson(payload: Buffer): unknown {
  return JSON.parse(unpack(payload)) as unknown;
}

/** A `telemetry` or `events` payload as its batch document, checked for its schema. */
export function parseBatch(payload: Buffer): BatchDoc {
  const doc = decodeJson(payload) as BatchDoc;
  if (doc?.schema !== BATCH_SCHEMA) throw new Error(`unknown batch schema ${String(doc?.schema)} (expected ${BATCH_SCHEMA}): update the consumer (src/uplink/decode.ts)`);
  return doc;
}

export function decodeBatch(payload: Buffer): DecodedBatch {
  const doc = parseBatch(payload);
  const { probes: _probes, rows: _rows, records: _records, ...head } = doc;
  return { ...head, records: recordsOf(doc) };
}
