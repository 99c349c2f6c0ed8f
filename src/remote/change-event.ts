import type { EventDraft } from '../core/types.ts';
import type { ConfigChange } from './config-diff.ts';
import type { ApplyOutcome } from './supervisor.ts';

/** Field paths named in the message; the data carries them all. */
const NAMED_IN_MESSAGE = 8;

/**
 * The `events` record of a remote config change: who, the outcome, and what changed field by
 * field (secrets already redacted by configChanges). Problems are left out: they may quote a
 * refused value, and the sender has them in the reply.
 *   ('remote:ops', 'applied', [{path:'probes[1]', to:{...}}]) -> message "Config applied (set-config by remote:ops): probes[1]"
 */
export function configChangeEvent(gatewayId: string, by: string, outcome: ApplyOutcome['outcome'], changes: ConfigChange[]): Omit<EventDraft, 'kind' | 'ts' | 'tq'> {
  const paths = changes.map((c) => c.path);
  const named = paths.slice(0, NAMED_IN_MESSAGE).join(', ') + (paths.length > NAMED_IN_MESSAGE ? `, and ${paths.length - NAMED_IN_MESSAGE} more` : '');
  return {
    type: `config.${outcome}`,
    severity: outcome === 'applied' ? 'info' : 'warning',
    source: gatewayId,
    message: `Config ${outcome} (set-config by ${by}): ${named || 'no field changed'}`,
    data: { by, outcome, changes },
  };
}
