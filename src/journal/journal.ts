import { mkdirSync, accessSync, constants } from 'node:fs';
import { Level } from 'level';
import type { Logger } from '../core/log.ts';
import { laneOf, type JournalRecord, type Lane, type RecordDraft } from '../core/types.ts';
import type { JournalConfig } from '../config/schema-journal.ts';
import { ackKey, chunkKey, lanePrefix, SEQ_KEY } from './keys.ts';

export const LANES: readonly Lane[] = ['events', 'telemetry'];

interface Pending {
  draft: RecordDraft;
  resolve: (r: JournalRecord) => void;
  reject: (e: Error) => void;
}

export interface LaneStats {
  /** Records committed and not yet acknowledged by the broker. */
  records: number;
  bytes: number;
  ackedThrough: number;
}

export interface JournalStats {
  nextSeq: number;
  lanes: Record<Lane, LaneStats>;
}

export class JournalError extends Error {
  override name = 'JournalError';
}

/**
 * Durable store-and-forward on LevelDB. A record is accepted when its group commit is on disk;
 * it leaves only when `ack` says the broker confirmed it. One value holds many records, so the
 * write rate is bounded by batches, not by records.
 */
export class Journal {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly listeners = new Set<(lane: Lane) => void>();

  private constructor(
    readonly db: Level<string, string>,
    private readonly cfg: JournalConfig,
    private readonly log: Logger,
    private nextSeq: number,
    private readonly lanes: Record<Lane, LaneStats>,
  ) {}

  static async open(dir: string, cfg: JournalConfig, log: Logger): Promise<Journal> {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      throw new JournalError(`data directory ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): create it or give the coldgate user write access`);
    }
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new JournalError(`cannot open the journal in ${dir}: ${cause}${/lock/i.test(cause) ? ' (is another coldgate running on this data directory?)' : ''}`);
    }
    const storedSeq = await db.get(SEQ_KEY);
    const lanes = {} as Record<Lane, LaneStats>;
    for (const lane of LANES) {
      const acked = Number((await db.get(ackKey(lane))) ?? 0);
      lanes[lane] = { records: 0, bytes: 0, ackedThrough: acked };
      for await (const value of db.values(lanePrefix(lane))) {
        const records = JSON.parse(value) as JournalRecord[];
        lanes[lane].records += records.filter((r) => r.seq > acked).length;
        lanes[lane].bytes += value.length;
      }
    }
    const journal = new Journal(db, cfg, log, Number(storedSeq ?? 1), lanes);
    log.info({ dir, nextSeq: journal.nextSeq, pending: { events: lanes.events.records, telemetry: lanes.telemetry.records } }, 'journal opened');
    return journal;
  }

  /** Resolves once the record is committed (and fsynced if configured); the seq is then final. */
  append(draft: RecordDraft): Promise<JournalRecord> {
    if (this.closed) return Promise.reject(new JournalError('journal is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ draft, resolve, reject });
      this.timer ??= setTimeout(() => this.flush(), this.cfg.commitIntervalMs);
    });
  }

  /** Called with the lane whenever new records are committed to it. */
  onCommit(listener: (lane: Lane) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Commits what is queued now; callers may await it to force a commit (shutdown, tests). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(() => this.commit());
    return this.flushing;
  }

  private async commit(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    const byLane = new Map<Lane, JournalRecord[]>();
    let seq = this.nextSeq;
    const records = batch.map((p) => {
      const record = { ...p.draft, seq: seq++ } as JournalRecord;
      const lane = laneOf(p.draft);
      const list = byLane.get(lane) ?? [];
      list.push(record);
      byLane.set(lane, list);
      return record;
    });
    const ops: { type: 'put'; key: string; value: string }[] = [{ type: 'put', key: SEQ_KEY, value: String(seq) }];
    const sizes = new Map<Lane, number>();
    for (const [lane, list] of byLane) {
      const value = JSON.stringify(list);
      sizes.set(lane, value.length);
      ops.push({ type: 'put', key: chunkKey(lane, list[list.length - 1]!.seq), value });
    }
    try {
      await this.db.batch(ops, { sync: this.cfg.fsync });
    } catch (err) {
      const error = new JournalError(`journal write failed: ${(err as Error).message} (is the disk full or read-only?)`);
      this.log.error({ err: error, records: batch.length }, 'journal commit failed');
      for (const p of batch) p.reject(error);
      return;
    }
    this.nextSeq = seq;
    for (const [lane, list] of byLane) {
      this.lanes[lane].records += list.length;
      this.lanes[lane].bytes += sizes.get(lane)!;
    }
    batch.forEach((p, i) => p.resolve(records[i]!));
    for (const lane of byLane.keys()) for (const l of this.listeners) l(lane);
  }

  /** Up to `limit` committed records of `lane` with seq > afterSeq, in seq order. */
  async read(lane: Lane, afterSeq: number, limit: number): Promise<JournalRecord[]> {
    const out: JournalRecord[] = [];
    const floor = Math.max(afterSeq, this.lanes[lane].ackedThrough);
    for await (const value of this.db.values({ gte: chunkKey(lane, floor + 1), lt: lanePrefix(lane).lt })) {
      for (const record of JSON.parse(value) as JournalRecord[]) {
        if (record.seq <= floor) continue;
        out.push(record);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /** The broker confirmed every record of `lane` up to `seq`: they may go. */
  async ack(lane: Lane, seq: number): Promise<void> {
    const stats = this.lanes[lane];
    if (seq <= stats.ackedThrough) return;
    const range = { gte: lanePrefix(lane).gte, lte: chunkKey(lane, seq) };
    let freed = 0;
    let bytes = 0;
    const ops: ({ type: 'del'; key: string } | { type: 'put'; key: string; value: string })[] = [];
    for await (const [key, value] of this.db.iterator(range)) {
      ops.push({ type: 'del', key });
      bytes += value.length;
      freed += (JSON.parse(value) as JournalRecord[]).filter((r) => r.seq > stats.ackedThrough).length;
    }
    // The chunk that straddles `seq` stays on disk; its records up to `seq` are acked all the same.
    for await (const value of this.db.values({ gt: chunkKey(lane, seq), lt: lanePrefix(lane).lt, limit: 1 })) {
      freed += (JSON.parse(value) as JournalRecord[]).filter((r) => r.seq > stats.ackedThrough && r.seq <= seq).length;
    }
    ops.push({ type: 'put', key: ackKey(lane), value: String(seq) });
    await this.db.batch(ops);
    stats.ackedThrough = seq;
    stats.records -= freed;
    stats.bytes -= bytes;
  }

  stats(): JournalStats {
    return { nextSeq: this.nextSeq, lanes: structuredClone(this.lanes) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.db.close();
  }
}
