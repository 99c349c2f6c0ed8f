import type { Lane } from '../core/types.ts';

export const REPLAY_SCHEMA = 'coldgate.replay/1';
/** At most one replay rewinds a lane per this window; the ones within it are merged into one. */
export const REPLAY_WINDOW_MS = 5000;

/** Why a replay for `asked` is refused by a journal of incarnation `own` (undefined: it is not). */
export function incarnationRefusal(asked: string, own: string): string | undefined {
  return asked === own ? undefined : `refused: incarnation ${asked} is not this journal's (${own}); nothing of it is held here`;
}

/**
 * Rewinds a lane at most once per `windowMs`: a request within the window after one is
 * carried out at its end, and any more in between are merged into that one (a rewind resends
 * everything after the ack mark, so one covers them all).
 */
export class RewindThrottle {
  private readonly last: Record<Lane, number> = { events: -Infinity, telemetry: -Infinity };
  private readonly pending: Partial<Record<Lane, NodeJS.Timeout>> = {};

  constructor(
    private readonly windowMs: number,
    private readonly rewind: (lane: Lane) => void,
  ) {}

  request(lane: Lane): void {
    if (this.pending[lane]) return;
    const wait = this.last[lane] + this.windowMs - Date.now();
    if (wait <= 0) return this.run(lane);
    this.pending[lane] = setTimeout(() => {
      delete this.pending[lane];
      this.run(lane);
    }, wait);
  }

  private run(lane: Lane): void {
    this.last[lane] = Date.now();
    this.rewind(lane);
  }

  stop(): void {
    for (const timer of Object.values(this.pending)) clearTimeout(timer);
  }
}
