import type { Stamp } from '../core/clock.ts';
import type { EventDraft } from '../core/types.ts';
import type { AlarmTransition } from './alarms.ts';

/**
 * An alarm transition as it travels on the `events` lane. Only raising carries the alarm's
 * severity: an acknowledgement or a clear is news, not something to page anyone for.
 */
export function alarmEvent(t: AlarmTransition, stamp: Stamp): EventDraft {
  const a = t.alarm;
  const message = t.kind === 'raised' ? a.message : t.kind === 'acknowledged' ? `Acknowledged by ${a.ackedBy}: ${a.message}` : `Cleared: ${a.message}`;
  return {
    kind: 'event',
    ...stamp,
    type: `alarm.${t.kind}`,
    severity: t.kind === 'raised' ? a.severity : 'info',
    source: a.source,
    message,
    data: { alarmId: a.id, alarmType: a.type, alarm: a },
  };
}
