import type { LatestSnapshot } from '../uplink/uplink.ts';
import type { LiveState } from './live-state.ts';

/**
 * The retained `latest` message: the whole live snapshot, keyed by what a person acts on
 * (LiveState.changeKey). The snapshot is built only when the uplink reads `doc` to send it (on
 * change, on its slow refresh, after a connect), not every second it asks.
 */
export function latestOf(live: LiveState): LatestSnapshot {
  return {
    changeKey: live.changeKey(),
    get doc() {
      return live.snapshot();
    },
  };
}
