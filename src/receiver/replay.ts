import { z } from 'zod';
import type { Range } from '../core/seq-ranges.ts';

/**
 * The receiver's side of replay (contract: cmd/replay, reply/replay). Request:
 * `{"incarnation":I,"fromSeq":a,"toSeq":b,"by":"receiver:NAME"}`; the box answers
 * `coldgate.replay/1` with the ranges it resends and those it no longer holds.
 */
export const REPLAY_SCHEMA = 'coldgate.replay/1';
/** The box refuses larger spans; a longer hole is asked for in pieces. */
export const MAX_REPLAY_SPAN = 1_000_000;

export interface ReplayRequest {
  incarnation: string;
  fromSeq: number;
  toSeq: number;
  by: string;
}

export function replayRequests(incarnation: string, hole: Range, by: string): ReplayRequest[] {
  const out: ReplayRequest[] = [];
  for (let a = hole[0]; a <= hole[1]; a += MAX_REPLAY_SPAN + 1) out.push({ incarnation, fromSeq: a, toSeq: Math.min(hole[1], a + MAX_REPLAY_SPAN), by });
  return out;
}

const Pair = z.tuple([z.number().int().min(1), z.number().int().min(1)]).refine(([a, b]) => a <= b, 'expected [fromSeq, toSeq] with fromSeq <= toSeq');
export const ReplayReply = z.object({
  schema: z.literal(REPLAY_SCHEMA),
  gatewayId: z.string().min(1),
  incarnation: z.string().regex(/^[0-9a-f]{16}$/),
  fromSeq: z.number().int().min(1),
  toSeq: z.number().int().min(1),
  resending: z.array(Pair).max(100_000),
  notHeld: z.array(Pair).max(100_000),
}).loose();
export type ReplayReply = z.infer<typeof ReplayReply>;

/** notHeld, kept to what was asked: a box never declares more than the request's range gone. */
export function notHeldOf(reply: ReplayReply): Range[] {
  return reply.notHeld.map(([a, b]): Range => [Math.max(a, reply.fromSeq), Math.min(b, reply.toSeq)]).filter(([a, b]) => a <= b);
}
