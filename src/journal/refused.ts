import type { GapDraft, JournalRecord, Lane } from '../core/types.ts';

/** Events kept in memory while the disk refuses writes; older ones beyond this become a gap. */
export const MAX_HELD_EVENTS = 10_000;

/** What waits for an event to be on disk (shared by one group commit's appends). */
export interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface HeldEvent {
  record: JournalRecord;
  waiter: Waiter;
}

/** Records of one lane the disk refused for one reason: they become one gap record. */
interface Run {
  lane: Lane;
  reason: string;
  /** The last seq committed before the first of them. */
  afterSeq: number;
  fromTs: string;
  toTs: string;
  count: number;
}

/** What the next successful commit writes first: the gap records, then the held events. */
export interface Backlog {
  /** Without toSeq: that is the gap record's own seq, given when it is written. */
  gaps: Omit<GapDraft, 'toSeq'>[];
  events: JournalRecord[];
  /** Call once they are on disk. */
  written(): void;
}

const NOTHING_HELD: Backlog = Object.freeze({ gaps: [], events: [], written: () => undefined });

/**
 * What the journal could not write while the disk refused: events held for the retry
 * (bounded), and readings summed up as one run per lane and reason. E.g. 40 readings refused
 * with ENOSPC after seq 17, from 10:00:00 to 10:00:08 -> on the first commit that works, a gap
 * `{lane:'telemetry', reason:'ENOSPC', count:40, fromSeq:17, fromTs:'…10:00:00', toTs:'…10:00:08'}`.
 */
export class Refused {
  private held: HeldEvent[] = [];
  private runs: Run[] = [];
  /** Records never recorded since open (dropped events included). */
  total = 0;

  get heldEvents(): number {
    return this.held.length;
  }

  get empty(): boolean {
    return this.held.length === 0 && this.runs.length === 0;
  }

  /** For logs: `[{lane:'telemetry', reason:'ENOSPC', count:40}]`. */
  summary(): { lane: Lane; reason: string; count: number }[] {
    return this.runs.map(({ lane, reason, count }) => ({ lane, reason, count }));
  }

  /** Events kept for the retry; beyond MAX_HELD_EVENTS the oldest go into an events run. */
  hold(events: readonly HeldEvent[], reason: string, lastSeq: number): void {
    for (const h of events) this.held.push(h);
    const over = this.held.length - MAX_HELD_EVENTS;
    if (over <= 0) return;
    const dropped = this.held.splice(0, over);
    const error = new Error(`journal cannot write (${reason}) and holds at most ${MAX_HELD_EVENTS} events: this one was dropped (a gap record says so)`);
    for (const h of dropped) h.waiter.reject(error);
    this.lost('events', dropped.map((h) => h.record), reason, lastSeq);
  }

  /** Records that will never be written: counted into the current run of their lane and reason. */
  lost(lane: Lane, records: readonly JournalRecord[], reason: string, lastSeq: number): void {
    if (records.length === 0) return;
    let run = this.runs.filter((r) => r.lane === lane).pop();
    if (!run || run.reason !== reason) {
      run = { lane, reason, afterSeq: lastSeq, fromTs: records[0]!.ts, toTs: records[0]!.ts, count: 0 };
      this.runs.push(run);
    }
    for (const r of records) {
      if (r.ts < run.fromTs) run.fromTs = r.ts;
      if (r.ts > run.toTs) run.toTs = r.ts;
    }
    run.count += records.length;
    this.total += records.length;
  }

  /** What to write first; kept until `written` is called, so a commit that fails again loses nothing. */
  backlog(now: number): Backlog {
    const held = this.held;
    const runs = this.runs;
    // The common case, every commit of a healthy disk: nothing to build.
    if (held.length === 0 && runs.length === 0) return NOTHING_HELD;
    const ts = new Date(now).toISOString();
    return {
      gaps: runs.map(({ afterSeq, ...run }) => ({ kind: 'gap', ts, tq: 'system', ...run, fromSeq: afterSeq })),
      events: held.map((h) => h.record),
      written: () => {
        this.held = this.held.slice(held.length);
        this.runs = this.runs.slice(runs.length);
        for (const h of held) h.waiter.resolve();
      },
    };
  }

  /** The journal closes with the disk still refusing: the held events' appends reject. */
  abandon(error: Error): void {
    for (const h of this.held) h.waiter.reject(error);
    this.held = [];
    this.runs = [];
  }
}
