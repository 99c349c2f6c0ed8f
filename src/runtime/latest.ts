import type { LatestSnapshot } from '../uplink/uplink.ts';
import type { LiveSnapshot } from './live-state.ts';

/**
 * The retained `latest` message: the whole live snapshot, and as its change key what a person
 * or a dispatcher acts on (compartment states and display, open alarms, trip, gate, device
 * states). Values, counters and timestamps change every second and are left out of the key:
 * they reach the cloud in telemetry, and `latest` refreshes them slowly (uplink.ts).
 */
export function latestOf(s: LiveSnapshot): LatestSnapshot {
  const key = {
    compartments: s.compartments.map((c) => [c.id, c.state, c.suppressedBy, c.display]),
    alarms: s.alarms,
    trip: s.trip?.id,
    gate: s.gate,
    health: s.health.map((h) => [h.id, h.state]),
  };
  return { doc: s, changeKey: JSON.stringify(key) };
}
