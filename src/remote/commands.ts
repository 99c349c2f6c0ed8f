import { z } from 'zod';
import { intIn } from '../config/schema-common.ts';
import { TRIP_ID } from '../trips/archive-file.ts';

/**
 * Fields every command body may carry. `replyTo` stands in for the MQTT 5 response topic on
 * 3.1.1 brokers, and `correlationId` for its correlation data; both come back in the reply.
 * Either topic must lie under the gateway's `reply/` prefix (checked by the handler).
 */
const Common = {
  correlationId: z.string().min(1).max(128).optional(),
  replyTo: z.string().min(1).max(256).regex(/^[^#+]+$/, 'must be a topic without wildcards').optional(),
};
const Who = z.string().min(1).max(64).describe('who asked, for the alarm, trip and config change records');
/** One replay asks for at most this many seqs beyond its first: a receiver asks per hole. */
export const MAX_REPLAY_SPAN = 1_000_000;
const Seq = intIn(1, Number.MAX_SAFE_INTEGER);

/** Request bodies by command name: `coldgate/v1/{gatewayId}/cmd/{name}`. */
export const COMMAND_BODIES = {
  ping: z.strictObject(Common),
  status: z.strictObject(Common),
  'get-config': z.strictObject(Common),
  'set-config': z.strictObject({
    ...Common,
    config: z.record(z.string(), z.unknown()).describe('the whole config file, as get-config returns it'),
    deadlineMs: intIn(1000, 120_000).default(20_000).describe('how long each step (stop, start, the devices answering) may take before the change is rolled back'),
    by: Who,
  }),
  'ack-alarm': z.strictObject({ ...Common, alarmId: z.string().min(1).max(200), by: Who }),
  'start-trip': z.strictObject({ ...Common, by: Who }),
  'end-trip': z.strictObject({ ...Common, by: Who }),
  'get-trip': z.strictObject({ ...Common, tripId: z.string().regex(TRIP_ID, 'expected a trip id as trips list shows it (letters, digits, "_", "." or "-")').describe('an archived trip') }),
  replay: z
    .strictObject({
      ...Common,
      incarnation: z.string().regex(/^[0-9a-f]{16}$/, 'expected the journal incarnation the batches carry (16 hex digits)'),
      fromSeq: Seq,
      toSeq: Seq,
      by: Who,
    })
    .refine((b) => b.toSeq >= b.fromSeq, { message: 'must be at least fromSeq', path: ['toSeq'] })
    .refine((b) => b.toSeq - b.fromSeq <= MAX_REPLAY_SPAN, { message: `the range may span at most ${MAX_REPLAY_SPAN} seqs beyond fromSeq: ask per hole`, path: ['toSeq'] }),
} as const;

export type CommandName = keyof typeof COMMAND_BODIES;
export type CommandBody<N extends CommandName> = z.output<(typeof COMMAND_BODIES)[N]>;

export const COMMAND_NAMES = Object.keys(COMMAND_BODIES) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_BODIES, name);
}

/** Every reply: `ok` says whether the command did what it asked; a failure carries `error` and, for a config, one line per problem. */
export interface ReplyHead {
  command: string;
  gatewayId: string;
  ok: boolean;
  correlationId?: string;
  error?: string;
  problems?: string[];
}
