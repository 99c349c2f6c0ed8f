import type { Level } from 'level';
import type { Logger } from '../core/log.ts';
import type { Lane } from '../core/types.ts';
import { chunkKey, lanePrefix } from './keys.ts';

/**
 * After many deletes at the front of a lane, LevelDB keeps their tombstones and the dead data
 * until a compaction reaches them: disk use grows and a read from the front steps over all of
 * them (33 ms after 200k deletes, 0.2 ms after compactRange). The journal reads from a cursor,
 * and this compacts the deleted range every COMPACT_AFTER deletes, one compaction at a time.
 */
export const COMPACT_AFTER = 2000;

interface CompactRange {
  compactRange(start: string, end: string): Promise<void>;
}

function canCompact(db: object): db is CompactRange {
  // classic-level (Node) has it; browser-level does not.
  return typeof (db as Partial<CompactRange>).compactRange === 'function';
}

export class Compactor {
  private pending: Record<Lane, number> = { events: 0, telemetry: 0 };
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  /** Compactions done, for tests and stats. */
  count = 0;

  constructor(
    private readonly db: Level<string, Buffer>,
    private readonly log: Logger,
  ) {}

  /** `keys` chunks of `lane` up to `through` were deleted. */
  deleted(keys: number, lane: Lane, through: number): void {
    this.pending[lane] += keys;
    if (this.pending[lane] < COMPACT_AFTER || this.busy || !canCompact(this.db)) return;
    this.pending[lane] = 0;
    this.busy = true;
    const db = this.db;
    this.running = db
      .compactRange(lanePrefix(lane).gte, chunkKey(lane, through))
      .then(
        () => void this.count++,
        (err: Error) => this.log.warn({ err: err.message, lane }, 'journal compaction failed; will try again after more deletes'),
      )
      .finally(() => (this.busy = false));
  }

  idle(): Promise<void> {
    return this.running;
  }
}
