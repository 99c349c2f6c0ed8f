import { z } from 'zod';

export const COMMITTED_SCHEMA = 'coldgate.committed/1';
/** A committed message is ~150 bytes; anything much larger is not one. */
export const MAX_COMMITTED_BYTES = 1024;

/** `coldgate/v1/{G}/committed`, retained by a receiver (contract: asyncapi.yaml `committed`). Unknown extra fields are allowed: a newer receiver may add some. */
const Committed = z.object({
  schema: z.literal(COMMITTED_SCHEMA),
  gatewayId: z.string().min(1).max(128),
  incarnation: z.string().regex(/^[0-9a-f]{16}$/),
  contiguousThrough: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  at: z.string().max(64),
});

/** Why a message on the committed topic changed nothing: one warn log per kind. */
export type IgnoredKind = 'oversized' | 'malformed' | 'other-gateway' | 'other-incarnation';

export type CommittedMessage = { ok: true; through: number } | { ok: false; kind: IgnoredKind; detail: string };

/**
 * Reads one message of the committed topic for this gateway's journal, e.g.
 * `{"schema":"coldgate.committed/1","gatewayId":"van-1","incarnation":"0123456789abcdef","contiguousThrough":42,"at":"..."}`
 * -> `{ok: true, through: 42}`; the same for incarnation `fedcba9876543210` -> `{ok: false, kind: 'other-incarnation'}`.
 */
export function readCommitted(payload: Buffer, gatewayId: string, incarnation: string): CommittedMessage {
  if (payload.length > MAX_COMMITTED_BYTES) return { ok: false, kind: 'oversized', detail: `${payload.length} bytes, at most ${MAX_COMMITTED_BYTES}` };
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, kind: 'malformed', detail: 'not JSON' };
  }
  const parsed = Committed.safeParse(body);
  if (!parsed.success) return { ok: false, kind: 'malformed', detail: parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ') };
  const m = parsed.data;
  if (m.gatewayId !== gatewayId) return { ok: false, kind: 'other-gateway', detail: `for gateway ${m.gatewayId}` };
  if (m.incarnation !== incarnation) return { ok: false, kind: 'other-incarnation', detail: `for incarnation ${m.incarnation}, this journal is ${incarnation}` };
  return { ok: true, through: m.contiguousThrough };
}
