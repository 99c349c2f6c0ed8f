import type { DeviceHealth } from '../core/types.ts';

export interface Readiness {
  ready: boolean;
  /** One line per device that is not there yet, e.g. `probe rear-1: timeout (no answer in 1000 ms)`. */
  problems: string[];
}

/** A probe that answered at all (a reading or a sensor fault) proves the bus, the unit id and the register map. */
function probeAnswered(h: DeviceHealth): boolean {
  const counts = h.counts as { good?: number; sensorFault?: number } | undefined;
  return (counts?.good ?? 0) + (counts?.sensorFault ?? 0) > 0;
}

/**
 * Whether a gateway started with a new config can reach its devices: every bus open, every
 * probe answered once, the GPS port open (a fix may take minutes under a roof: not required),
 * and the broker connected (without it the box could not be managed any more).
 *
 *   [{id:'t1', kind:'probe', state:'offline', detail:'timeout', counts:{good:0,sensorFault:0}},
 *    {id:'uplink', kind:'uplink', state:'ok'}]
 *   -> {ready: false, problems: ['probe t1: timeout']}
 */
export function assessReadiness(health: readonly DeviceHealth[]): Readiness {
  const problems: string[] = [];
  for (const h of health) {
    const ok =
      h.kind === 'probe' ? probeAnswered(h)
      : h.kind === 'bus' ? h.state === 'ok' || h.state === 'degraded'
      : h.kind === 'gps' ? h.online === true
      : h.kind === 'uplink' ? h.state === 'ok'
      : true;
    if (!ok) problems.push(`${h.kind} ${h.id}: ${h.detail ?? h.state}`);
  }
  return { ready: problems.length === 0, problems };
}
