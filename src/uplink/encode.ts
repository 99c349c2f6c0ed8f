import type { JournalRecord, Lane } from '../core/types.ts';

export const BATCH_SCHEMA = 'coldgate.batch/1';

export interface BatchPayload {
  schema: typeof BATCH_SCHEMA;
  gatewayId: string;
  lane: Lane;
  /** First and last seq of `records`, so a consumer sees gaps without reading them all. */
  fromSeq: number;
  toSeq: number;
  records: JournalRecord[];
}

/** One MQTT message carrying many records: the cloud de-duplicates on (gatewayId, record.seq). */
export function encodeBatch(gatewayId: string, lane: Lane, records: JournalRecord[]): Buffer {
  const payload: BatchPayload = {
    schema: BATCH_SCHEMA,
    gatewayId,
    lane,
    fromSeq: records[0]!.seq,
    toSeq: records[records.length - 1]!.seq,
    records,
  };
  return Buffer.from(JSON.stringify(payload));
}
