import { z } from 'zod';
import type { JournalRecord } from '../core/types.ts';
import { laneOf } from '../core/types.ts';
import { formatIssues } from '../config/errors.ts';
import type { DecodedBatch } from '../uplink/decode.ts';
import { decodeJson } from '../uplink/decode.ts';
import { BATCH_SCHEMA, recordsOf, type BatchDoc } from '../uplink/wire/batch.ts';

/**
 * What a batch message must be before it reaches the database, and why one is refused. A
 * refused message is PUBACKed (a broker would redeliver it forever otherwise), counted and
 * recorded in `refused`; it never stops the receiver.
 */
export type RefusedKind = 'oversized' | 'unparsable' | 'schema' | 'gateway-mismatch' | 'invalid' | 'chain' | 'signature';

export class Refused extends Error {
  override name = 'Refused';
  constructor(
    readonly kind: RefusedKind,
    message: string,
  ) {
    super(message);
  }
}

const Seq = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const Header = z.object({
  gatewayId: z.string().min(1).max(200),
  incarnation: z.string().regex(/^[0-9a-f]{16}$/, 'expected 16 hex digits'),
  lane: z.enum(['telemetry', 'events']),
  fromSeq: Seq,
  toSeq: Seq,
  count: z.number().int().min(1),
  prev: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  head: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  sig: z.object({ key: z.string(), value: z.string() }).optional(),
  probes: z.array(z.object({ probe: z.string(), compartment: z.string().optional(), scale: z.number().int().min(0).max(3) }).loose()),
  rows: z.array(z.object({ t: z.number(), s: z.number(), v: z.array(z.number()) }).loose()),
  records: z.array(z.object({ seq: Seq, kind: z.enum(['temperature', 'position', 'event', 'gap']), ts: z.string() }).loose()),
}).loose();

/** A telemetry or events payload from topic gateway `topicGateway` to its records, or a Refused naming why not. */
export function readBatch(payload: Buffer, topicGateway: string, maxBytes: number): DecodedBatch {
  if (payload.length > maxBytes) throw new Refused('oversized', `payload of ${payload.length} bytes, at most ${maxBytes} (receiver maxPayloadBytes)`);
  let doc: unknown;
  try {
    doc = decodeJson(payload);
  } catch (err) {
    throw new Refused('unparsable', (err as Error).message);
  }
  const schema = (doc as { schema?: unknown } | null)?.schema;
  if (schema !== BATCH_SCHEMA) throw new Refused('schema', `unknown batch schema ${JSON.stringify(schema) ?? 'none'} (this receiver reads ${BATCH_SCHEMA}): update the receiver`);
  const header = Header.safeParse(doc, { reportInput: true });
  if (!header.success) throw new Refused('unparsable', `batch ${formatIssues(header.error.issues).join('; ')}`);
  const batch = doc as BatchDoc;
  if (batch.gatewayId !== topicGateway) throw new Refused('gateway-mismatch', `the payload says gateway ${JSON.stringify(batch.gatewayId)} but came on the topic of ${JSON.stringify(topicGateway)}`);
  let records: JournalRecord[];
  try {
    records = recordsOf(batch);
  } catch (err) {
    throw new Refused('unparsable', (err as Error).message);
  }
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (laneOf(r) !== batch.lane) throw new Refused('invalid', `seq ${r.seq} is a ${r.kind} record, which never travels on ${batch.lane}`);
    if (i > 0 && r.seq === records[i - 1]!.seq) throw new Refused('invalid', `two records with seq ${r.seq}`);
    if (r.seq < batch.fromSeq || r.seq > batch.toSeq) throw new Refused('invalid', `seq ${r.seq} outside the batch's ${batch.fromSeq}..${batch.toSeq}`);
  }
  const { probes: _p, rows: _r, records: _v, ...head } = batch;
  return { ...head, records };
}
