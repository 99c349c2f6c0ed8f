import { mkdirSync, accessSync, constants } from 'node:fs';
import { Level } from 'level';
import type { Logger } from '../core/log.ts';
import { laneOf, type DeviceHealth, type JournalRecord, type Lane, type RecordDraft } from '../core/types.ts';
import type { JournalConfig } from '../config/schema-journal.ts';
import { chunkHeader, chunkSeqs, decodeChunk, encodeChunk } from './chunk.ts';
import { Compactor } from './compactor.ts';
import { openIncarnation } from './incarnation.ts';
import { chunkKey, laneMetaKey, lanePrefix, seqOfChunkKey, SEQ_KEY, stateKey } from './keys.ts';
import { planRetention, type LaneMeta, type StoredChunk } from './retention.ts';

export const LANES: readonly Lane[] = ['events', 'telemetry'];
const DAY_MS = 86_400_000;
/**
 * A commit at a million readings a second holds tens of thousands: split it, so that a reader
 * never decodes more than this many records at once (the drain's memory stays small).
 */
const MAX_CHUNK_RECORDS = 4096;

/** One per group commit, shared by all its appends: a promise per reading is the cost to avoid. */
interface Commit {
  done: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newCommit(): Commit {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { done, resolve, reject };
}

export interface LaneStats {
  /** Records committed and not yet acknowledged by the broker. */
  records: number;
  /** Bytes stored for this lane (keys and values, compressed). */
  bytes: number;
  ackedThrough: number;
  /** Readings retention dropped (each run announced by a gap record). */
  dropped: number;
}

export interface JournalStats {
  /** Minted when the journal was created (incarnation.ts): records are (gatewayId, incarnation, seq). */
  incarnation: string;
  nextSeq: number;
  usedBytes: number;
  maxBytes: number;
  /** compactRange runs since open (see compactor.ts). */
  compactions: number;
  lanes: Record<Lane, LaneStats>;
}

export interface JournalOptions {
  /** Wall clock for commit times and retention by age (tests move it). */
  now?: () => number;
}

/**
 * LevelDB's own memory, native and outside the V8 heap: classic-level's defaults (8 MB block
 * cache, 4 MB memtable) would be a fifth of the box's RSS. Reads are sequential (the uplink's
 * cursor, a drain) and served by the OS page cache; a small memtable only flushes sooner.
 */
const LEVELDB_MEMORY = { cacheSize: 1 << 20, writeBufferSize: 1 << 20 } as const;

export class JournalError extends Error {
  override name = 'JournalError';
}

type Op = { type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string };
type Db = Level<string, Buffer>;

const metaValue = (m: LaneMeta) => Buffer.from(JSON.stringify(m));
const emptyMeta = (): LaneMeta => ({ ackedThrough: 0, deletedThrough: 0, count: 0, bytes: 0, dropped: 0 });

/**
 * Durable store-and-forward on LevelDB. A record is accepted when its group commit is on disk;
 * it leaves only when `ack` says the broker confirmed it, or when retention drops it for room
 * and writes a gap record in the same atomic batch. One value holds a whole lane's share of a
 * commit in columnar, compressed form, so the write rate is bounded by commits, not records.
 */
export class Journal {
  private queue: JournalRecord[] = [];
  private next: Commit | undefined;
  private puts = new Map<string, Buffer>();
  private timer: NodeJS.Timeout | undefined;
  /** Commits and acks run one at a time: both rewrite lane metadata and delete chunks. */
  private serial: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly listeners = new Set<(lane: Lane) => void>();
  /** The last chunk read, decoded: the uplink reads one chunk in several batches. */
  private cached: { key: string; records: JournalRecord[] } | undefined;
  private writeError: string | undefined;
  private writeErrors = 0;
  private overflowing = false;
  private readonly compactor: Compactor;
  private readonly now: () => number;

  private constructor(
    readonly db: Db,
    private readonly cfg: JournalConfig,
    private readonly log: Logger,
    private readonly incarnation: string,
    private nextSeq: number,
    private readonly lanes: Record<Lane, LaneMeta>,
    /** Per lane: records of the first stored chunk already acked (a chunk can straddle an ack). */
    private readonly headAcked: Record<Lane, number>,
    opts: JournalOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.compactor = new Compactor(db, log);
  }

  static async open(dir: string, cfg: JournalConfig, log: Logger, opts: JournalOptions = {}): Promise<Journal> {
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      throw new JournalError(`data directory ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): create it or give the coldgate user write access`);
    }
    const db: Db = new Level<string, Buffer>(dir, { valueEncoding: 'buffer', ...LEVELDB_MEMORY });
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: Error }).cause?.message ?? (err as Error).message;
      throw new JournalError(`cannot open the journal in ${dir}: ${cause}${/lock/i.test(cause) ? ' (is another coldgate running on this data directory?)' : ''}`);
    }
    let incarnation: string;
    try {
      incarnation = await openIncarnation(db, dir, log);
    } catch (err) {
      await db.close();
      throw new JournalError(`cannot write the journal's incarnation in ${dir}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message} (is the disk full or read-only?)`);
    }
    const storedSeq = await db.get(SEQ_KEY);
    const lanes = {} as Record<Lane, LaneMeta>;
    const headAcked = {} as Record<Lane, number>;
    for (const lane of LANES) {
      const meta = await db.get(laneMetaKey(lane));
      lanes[lane] = meta ? { ...emptyMeta(), ...(JSON.parse(meta.toString()) as LaneMeta) } : emptyMeta();
      headAcked[lane] = await straddling(db, lane, lanes[lane]);
    }
    const journal = new Journal(db, cfg, log, incarnation, storedSeq ? Number(storedSeq.toString()) : 1, lanes, headAcked, opts);
    const s = journal.stats();
    log.info({ dir, incarnation, nextSeq: s.nextSeq, usedBytes: s.usedBytes, pending: { events: s.lanes.events.records, telemetry: s.lanes.telemetry.records } }, 'journal opened');
    return journal;
  }

  /**
   * Resolves once the record is committed (and fsynced if configured); the seq is then final.
   * One reading at a time costs a promise each: drivers that read several at once use appendMany.
   */
  append(draft: RecordDraft): Promise<JournalRecord> {
    return this.appendMany([draft]).then((records) => records[0]!);
  }

  /**
   * Appends the drafts in order and resolves once their group commit is on disk (fsynced if
   * configured), with the records in the same order; a failed commit rejects them all. One
   * promise per call, not per reading: that promise was most of the cost of a reading.
   * Each draft object itself gets the `seq` and becomes the record (no copy per reading); a
   * draft that already has one is copied, so appending the same object twice is safe.
   */
  appendMany(drafts: readonly RecordDraft[]): Promise<JournalRecord[]> {
    if (this.closed) return Promise.reject(new JournalError('journal is closed'));
    // The drafts' own array is returned unless one of them had to be copied.
    let records = drafts as JournalRecord[];
    for (let i = 0; i < drafts.length; i++) {
      let record = drafts[i] as JournalRecord;
      // A draft appended again (or twice in one commit) must not share one seq: it gets a copy.
      if ('seq' in record) {
        if (records === drafts) records = drafts.slice() as JournalRecord[];
        records[i] = record = { ...record };
      }
      // Gets its seq in commit() and is final once the commit is on disk.
      record.seq = 0;
      this.queue.push(record);
    }
    if (records.length === 0) return Promise.resolve(records);
    const commit = (this.next ??= newCommit());
    this.timer ??= setTimeout(() => void this.flush(), this.cfg.commitIntervalMs);
    return commit.done.then(() => records);
  }

  /**
   * Writes the state `name` in the same atomic batch as the next group commit. State that
   * describes appended records, such as the rules' open alarms, is then never on disk without
   * the events appended before it: a crash loses both or neither.
   */
  putState(name: string, value: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new JournalError('journal is closed'));
    this.puts.set(stateKey(name), value);
    const commit = (this.next ??= newCommit());
    this.timer ??= setTimeout(() => void this.flush(), this.cfg.commitIntervalMs);
    return commit.done;
  }

  /** The state last committed under `name` by putState, if any. */
  readState(name: string): Promise<Buffer | undefined> {
    return this.db.get(stateKey(name));
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
    return this.exclusive(() => this.commit());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async commit(): Promise<void> {
    const batch = this.queue;
    const pending = this.next;
    const puts = this.puts;
    this.queue = [];
    this.puts = new Map();
    this.next = undefined;
    if (!pending) return;
    if (batch.length === 0 && puts.size === 0) return pending.resolve();
    const now = this.now();
    let seq = this.nextSeq;
    const byLane: Record<Lane, JournalRecord[]> = { events: [], telemetry: [] };
    for (const record of batch) {
      // The draft is the record: copying a million readings a second costs more than the rest.
      record.seq = seq++;
      byLane[laneOf(record)].push(record);
    }
    try {
      const chunks: Record<Lane, { key: string; value: Buffer }[]> = { events: [], telemetry: [] };
      const encode = (lane: Lane) => {
        const list = byLane[lane];
        chunks[lane] = [];
        let bytes = 0;
        for (let i = 0; i < list.length; i += MAX_CHUNK_RECORDS) {
          const part = list.slice(i, i + MAX_CHUNK_RECORDS);
          const key = chunkKey(lane, part[part.length - 1]!.seq);
          const value = encodeChunk(part, now);
          chunks[lane].push({ key, value });
          bytes += key.length + value.length;
        }
        return bytes;
      };
      const added = { events: encode('events'), telemetry: encode('telemetry') };
      const plan = await planRetention({
        telemetry: this.lanes.telemetry,
        headAcked: this.headAcked.telemetry,
        otherBytes: this.lanes.events.bytes + added.events + added.telemetry,
        maxBytes: this.cfg.maxBytes,
        maxAgeMs: this.cfg.maxAgeDays * DAY_MS,
        now,
        nextChunk: (after) => this.nextChunk('telemetry', after),
      });
      if (plan.gaps.length > 0) {
        // The gap goes in the same atomic batch as the drop: the hole is never unannounced.
        for (const gap of plan.gaps) byLane.events.push({ ...gap, seq: seq++ });
        added.events = encode('events');
      }
      const next: Record<Lane, LaneMeta> = { events: { ...this.lanes.events }, telemetry: plan.telemetry };
      const ops: Op[] = plan.deletes.map((key) => ({ type: 'del', key }));
      for (const lane of LANES) {
        for (const chunk of chunks[lane]) ops.push({ type: 'put', ...chunk });
        next[lane].count += byLane[lane].length;
        next[lane].bytes += added[lane];
      }
      for (const lane of LANES) ops.push({ type: 'put', key: laneMetaKey(lane), value: metaValue(next[lane]) });
      ops.push({ type: 'put', key: SEQ_KEY, value: Buffer.from(String(seq)) });
      for (const [key, value] of puts) ops.push({ type: 'put', key, value });
      await this.db.batch(ops, { sync: this.cfg.fsync });
      if (plan.deletes.length > 0) {
        this.headAcked.telemetry = 0;
        const dropped = plan.gaps.reduce((n, g) => n + g.count, 0);
        this.log.warn({ dropped, gaps: plan.gaps.map(({ fromSeq, toSeq, reason }) => ({ fromSeq, toSeq, reason })), maxBytes: this.cfg.maxBytes }, 'journal full or expired: oldest readings dropped, gap recorded');
        this.compactor.deleted(plan.deletes.length, 'telemetry', plan.telemetry.deletedThrough);
      }
      if (plan.overflowing && !this.overflowing) this.log.error({ usedBytes: next.events.bytes + next.telemetry.bytes, maxBytes: this.cfg.maxBytes }, 'journal over maxBytes with only events left: events are never dropped; raise journal.maxBytes or restore the uplink');
      this.overflowing = plan.overflowing;
      this.lanes.events = next.events;
      this.lanes.telemetry = next.telemetry;
      this.nextSeq = seq;
      if (this.writeError) this.log.info({ after: this.writeErrors }, 'journal writes work again');
      this.writeError = undefined;
    } catch (err) {
      const error = new JournalError(`journal write failed: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message} (is the disk full or read-only?)`);
      this.writeErrors++;
      // One line per failure would flood a full disk's log: say it when it starts, then count.
      if (!this.writeError) this.log.error({ err: error.message, records: batch.length }, 'journal commit failed: samples are not being recorded');
      this.writeError = error.message;
      pending.reject(error);
      return;
    }
    pending.resolve();
    for (const lane of LANES) if (byLane[lane].length > 0) for (const l of this.listeners) l(lane);
  }

  /** The first stored chunk of `lane` keyed after `seq`. */
  private async nextChunk(lane: Lane, seq: number): Promise<StoredChunk | undefined> {
    for await (const [key, value] of this.db.iterator({ gt: chunkKey(lane, seq), lt: lanePrefix(lane).lt, limit: 1 })) {
      return { key, lastSeq: seqOfChunkKey(key), bytes: key.length + value.length, header: chunkHeader(value) };
    }
    return undefined;
  }

  /** Up to `limit` committed records of `lane` with seq > afterSeq, in seq order. */
  async read(lane: Lane, afterSeq: number, limit: number): Promise<JournalRecord[]> {
    const out: JournalRecord[] = [];
    const m = this.lanes[lane];
    const floor = Math.max(afterSeq, m.ackedThrough, 0);
    // Seek straight past everything deleted: LevelDB would otherwise step over its tombstones.
    const from = chunkKey(lane, Math.max(floor, m.deletedThrough));
    for await (const [key, value] of this.db.iterator({ gt: from, lt: lanePrefix(lane).lt })) {
      let records = this.cached?.key === key ? this.cached.records : undefined;
      if (!records) {
        records = decodeChunk(value);
        this.cached = { key, records };
      }
      for (const record of records) {
        if (record.seq <= floor) continue;
        out.push(record);
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  /** The broker confirmed every record of `lane` up to `seq`: they may go. */
  ack(lane: Lane, seq: number): Promise<void> {
    return this.exclusive(async () => {
      const m = this.lanes[lane];
      const through = Math.min(seq, this.nextSeq - 1);
      if (through <= m.ackedThrough) return;
      const next = { ...m, ackedThrough: through, deletedThrough: Math.max(m.deletedThrough, through) };
      const ops: Op[] = [];
      for await (const [key, value] of this.db.iterator({ gt: chunkKey(lane, m.deletedThrough), lte: chunkKey(lane, through) })) {
        ops.push({ type: 'del', key });
        next.count -= chunkHeader(value).count;
        next.bytes -= key.length + value.length;
      }
      // Chunks up to `through` are keyed at or below next.deletedThrough: only the straddler is seen.
      const headAcked = await straddling(this.db, lane, next);
      ops.push({ type: 'put', key: laneMetaKey(lane), value: metaValue(next) });
      // Not synced: a lost ack only means those records are sent again (duplicates, not holes).
      await this.db.batch(ops);
      this.lanes[lane] = next;
      this.headAcked[lane] = headAcked;
      if (ops.length > 1) this.compactor.deleted(ops.length - 1, lane, next.deletedThrough);
    });
  }

  stats(): JournalStats {
    const lanes = {} as Record<Lane, LaneStats>;
    for (const lane of LANES) {
      const m = this.lanes[lane];
      lanes[lane] = { records: m.count - this.headAcked[lane], bytes: m.bytes, ackedThrough: m.ackedThrough, dropped: m.dropped };
    }
    return { incarnation: this.incarnation, nextSeq: this.nextSeq, usedBytes: this.lanes.events.bytes + this.lanes.telemetry.bytes, maxBytes: this.cfg.maxBytes, compactions: this.compactor.count, lanes };
  }

  /** For the display, /metrics and the rules' journal-full alarm (which reads usedBytes / maxBytes). */
  health(): DeviceHealth {
    const s = this.stats();
    const pending = s.lanes.events.records + s.lanes.telemetry.records;
    const dropped = s.lanes.telemetry.dropped;
    let state: DeviceHealth['state'] = 'ok';
    let detail = `${pending} records waiting for the broker`;
    if (this.writeError) {
      state = 'offline';
      detail = this.writeError;
    } else if (this.overflowing) {
      state = 'degraded';
      detail = `full with events alone (${s.usedBytes} of ${s.maxBytes} bytes)`;
    } else if (s.usedBytes + 0.05 * s.maxBytes >= s.maxBytes) {
      state = 'degraded';
      detail = `full: dropping the oldest readings (${dropped} dropped so far)`;
    }
    return { id: 'journal', kind: 'journal', state, detail, usedBytes: s.usedBytes, maxBytes: s.maxBytes, pendingRecords: pending, droppedRecords: dropped, errors: this.writeErrors };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.serial;
    await this.compactor.idle();
    await this.db.close();
  }
}

/** How many records of the lane's first stored chunk are at or below its ack cursor. */
async function straddling(db: Db, lane: Lane, m: LaneMeta): Promise<number> {
  for await (const value of db.values({ gt: chunkKey(lane, m.deletedThrough), lt: lanePrefix(lane).lt, limit: 1 })) {
    if (chunkHeader(value).firstSeq > m.ackedThrough) return 0;
    return chunkSeqs(value).filter((s) => s <= m.ackedThrough).length;
  }
  return 0;
}
