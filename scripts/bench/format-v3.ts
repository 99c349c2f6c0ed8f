import { deflateSync } from 'node:zlib';
import type { JournalRecord, Lane } from '../../src/core/types.ts';
import { toColumnar } from '../../src/journal/columnar.ts';

/**
 * The naive way the steady phase compares with: the payload coldgate.batch/3 had for the same
 * records (the journal's columnar JSON, probe names in every series; zlib on MQTT 5, plain JSON
 * on 3.1.1), sent every 500 ms; and `latest` as plain JSON every 10 s.
 */
export const V3_BATCH_INTERVAL_MS = 500;
export const V3_LATEST_INTERVAL_MS = 10_000;

export function v3BatchBytes(gatewayId: string, incarnation: string, lane: Lane, records: readonly JournalRecord[], deflate: boolean): number {
  const { temperatures, records: rest } = toColumnar(records);
  const json = JSON.stringify({ schema: 'coldgate.batch/3', gatewayId, incarnation, lane, fromSeq: records[0]!.seq, toSeq: records[records.length - 1]!.seq, count: records.length, temperatures, records: rest });
  return deflate ? deflateSync(json).length : Buffer.byteLength(json);
}
