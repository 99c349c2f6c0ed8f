import type { Lane } from '../core/types.ts';

/** Ascending, inclusive, non-overlapping seq ranges: `[[1, 4], [7, 7]]` is 1, 2, 3, 4 and 7. */
export type SeqRanges = [number, number][];

export const REPLAY_SCHEMA = 'coldgate.replay/1';
/** At most one replay rewinds a lane per this window; the ones within it are merged into one. */
export const REPLAY_WINDOW_MS = 5000;

/** One sorted list of both lanes' ranges, adjacent ones joined: [[1,2],[5,5]] + [[3,4]] -> [[1,5]]. */
export function unionRanges(a: SeqRanges, b: SeqRanges): SeqRanges {
  const out: SeqRanges = [];
  for (const [from, to] of [...a, ...b].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
    else out.push([from, to]);
  }
  return out;
}

/** The seqs of [from, to] outside `held` (sorted): held [[3,4]] in [1,6] -> [[1,2],[5,6]]. */
export function missingRanges(held: SeqRanges, from: number, to: number): SeqRanges {
  const out: SeqRanges = [];
  let next = from;
  for (const [a, b] of held) {
    if (a > next) out.push([next, Math.min(a - 1, to)]);
    next = Math.max(next, b + 1);
    if (next > to) return out;
  }
  if (next <= to) out.push([next, to]);
  return out;
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
