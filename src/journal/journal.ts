import { mkdirSync, accessSync, constants } from 'node:fs';
import { Level } from 'level';
import type { Logger } from '../core/log.ts';
import type { Range } from '../core/seq-ranges.ts';
import { laneOf, type DeviceHealth, type JournalRecord, type Lane, type RecordDraft } from '../core/types.ts';
import type { JournalConfig } from '../config/schema-journal.ts';
import { chunkHeader, chunkSeqs, decodeChunk, encodeChunk } from './chunk.ts';
import { Compactor } from './compactor.ts';
import { openIncarnation } from './incarnation.ts';
import { chainKey, chunkKey, laneMetaKey, lanePrefix, NAMES_KEY, seqOfChunkKey, SEQ_KEY, stateKey } from './keys.ts';
import { NameTable } from './names.ts';
import { chainEnd, genesis, type ChainHead } from '../chain/hash.ts';
import { ChainedReader, type ChainedRead } from './chained-read.ts';
import { Tail, type TailChunk } from './tail.ts';
import { keepAll, planRetention, type LaneMeta, type RetentionInput, type StoredChunk } from './retention.ts';
import { Refused, type Waiter } from './refused.ts';
import { faultCode, probeWrite } from './write-fault.ts';

export const LANES: readonly Lane[] = ['events', 'telemetry'];
const DAY_MS = 86_400_000;
/**
 * A commit at a million readings a second holds tens of thousands: split it, so that a reader
 * never decodes more than this many records at once (the drain's memory stays small).
 */
const MAX_CHUNK_RECORDS = 4096;
/** Key, header and a deflated gap record: what retention's own gap record adds (~150 B), rounded up. */
const GAP_CHUNK_RESERVE = 256;
/** A failed write is tried again after 1 s, then 2, 4, 8 and every 10 s. */
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10_000;
/** Records per lane kept decoded after their commit (tail.ts): a few seconds of batches at steady state, about 1 MB at most. */
const TAIL_RECORDS = MAX_CHUNK_RECORDS;

interface Deferred {
  done: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting on one of them (an events-only commit has no telemetry callers).
  done.catch(() => undefined);
  return { done, resolve, reject };
}

/** One per group commit, shared by all its appends: a promise per reading is the cost to avoid. */
interface Commit {
  /** Settles with this commit's write; readings, mixed appends and putState wait on it. */
  written: Deferred;
  /**
   * One per append of events alone (alarms are few): it resolves when they are on disk, now or
   * after the retry that writes them, and rejects only if they had to be dropped.
   */
  eventCalls: Deferred[];
}

const newCommit = (): Commit => ({ written: deferred(), eventCalls: [] });
/** Events of an append that also had readings: its promise already rejected with the commit. */
const NO_WAITER: Waiter = { resolve: () => undefined, reject: () => undefined };

interface WriteFault {
  /** ENOSPC, EROFS, EFBIG, ...: the reason of the gap records. */
  code: string;
  message: string;
  since: number;
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
  /** False while the disk refuses writes (see README: when the disk fails). */
  writable: boolean;
  /** Events from failed commits held in memory until the disk takes them. */
  heldEvents: number;
  /** Records since open that were never recorded (announced by gap records once it can write). */
  unrecorded: number;
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

/** One commit as the chain saw it: its records in seq order, and per lane the hash before and after them. */
export interface ChainedCommit {
  incarnation: string;
  prev: Record<Lane, string>;
  head: Record<Lane, string>;
  records: readonly JournalRecord[];
}

export type { ChainedRead } from './chained-read.ts';

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
  /** The armed commit: a timer when commitIntervalMs is set, else an immediate (see nextCommit). */
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** A commit is armed or waiting its turn and has not taken the queue yet: appends join it. */
  private armed = false;
  /** Commits and acks run one at a time: both rewrite lane metadata and delete chunks. */
  private serial: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly listeners = new Set<(lane: Lane) => void>();
  private readonly chainListeners = new Set<(c: ChainedCommit) => void>();
  /** The last chunk read, decoded: the uplink reads one chunk in several batches. */
  private cached: { key: string; records: JournalRecord[]; prev?: string; hashes?: string[] } | undefined;
  /** The last nextChunk answer found (see there). */
  private front: { lane: Lane; after: number; chunk: StoredChunk } | undefined;
  private fault: WriteFault | undefined;
  private writeErrors = 0;
  private readonly refusals = new Refused();
  /** The append each queued event of an events-only call waits with. */
  private readonly waiterOf = new WeakMap<JournalRecord, Deferred>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retries = 0;
  private overflowing = false;
  private readonly compactor: Compactor;
  private readonly now: () => number;
  /** Per lane: the newest chunks, decoded (tail.ts). */
  private readonly tails: Record<Lane, Tail>;

  private constructor(
    readonly db: Db,
    private readonly cfg: JournalConfig,
    private readonly log: Logger,
    private readonly incarnation: string,
    private nextSeq: number,
    private readonly lanes: Record<Lane, LaneMeta>,
    /** Per lane: records of the first stored chunk already acked (a chunk can straddle an ack). */
    private readonly headAcked: Record<Lane, number>,
    /** Per lane: the chain head on disk (src/chain/hash.ts), written in every commit's batch. */
    private readonly chain: Record<Lane, ChainHead>,
    /** The names row chunks refer to (names.ts). */
    private readonly names: NameTable,
    opts: JournalOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.compactor = new Compactor(db, log);
    // Chunks on disk now are keyed at or below nextSeq - 1; every later one is committed here.
    this.tails = { events: new Tail(nextSeq - 1, TAIL_RECORDS), telemetry: new Tail(nextSeq - 1, TAIL_RECORDS) };
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
    let meta: Awaited<ReturnType<typeof loadMeta>>;
    try {
      meta = await loadMeta(db, incarnation);
    } catch (err) {
      await db.close();
      throw new JournalError(`cannot read the journal's metadata in ${dir}: ${(err as Error).message} (the journal is damaged: stop coldgate, move ${dir} aside to keep its records for recovery, and start again with an empty data directory)`);
    }
    const { nextSeq, lanes, headAcked, chain, names } = meta;
    const journal = new Journal(db, cfg, log, incarnation, nextSeq, lanes, headAcked, chain, names, opts);
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
   * configured), with the records in the same order. One promise per call, not per reading:
   * that promise was most of the cost of a reading. When the disk refuses the commit, readings
   * reject (a gap record will announce them) and events are held in memory: a call of events
   * alone resolves once a retry has written them, and rejects only if they had to be dropped.
   * Each draft object itself gets the `seq` and becomes the record (no copy per reading); a
   * draft that already has one is copied, so appending the same object twice is safe.
   */
  appendMany(drafts: readonly RecordDraft[]): Promise<JournalRecord[]> {
    if (this.closed) return Promise.reject(new JournalError('journal is closed'));
    // The drafts' own array is returned unless one of them had to be copied.
    let records = drafts as JournalRecord[];
    let eventsOnly = true;
    for (let i = 0; i < drafts.length; i++) {
      let record = drafts[i] as JournalRecord;
      if (eventsOnly && laneOf(record) !== 'events') eventsOnly = false;
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
    const commit = this.nextCommit();
    if (!eventsOnly) return commit.written.done.then(() => records);
    const waiter = deferred();
    for (const record of records) this.waiterOf.set(record, waiter);
    commit.eventCalls.push(waiter);
    return waiter.done.then(() => records);
  }

  /**
   * Group commit as PostgreSQL does it with commit_delay 0: the first append arms a commit at the
   * end of this event-loop turn (the poll's reply and its commit are one wakeup, not two), and
   * appends that arrive while a commit is being written join the next one, which starts as soon
   * as that write is done. commitIntervalMs > 0 adds a window of that many ms before the commit.
   */
  private nextCommit(): Commit {
    if (!this.armed) {
      this.armed = true;
      const ms = this.cfg.commitIntervalMs;
      if (ms > 0) this.timer = setTimeout(this.flushArmed, ms);
      else this.immediate = setImmediate(this.flushArmed);
    }
    return (this.next ??= newCommit());
  }

  private readonly flushArmed = (): void => void this.flush();

  /**
   * Writes the state `name` in the same atomic batch as the next group commit. State that
   * describes appended records, such as the rules' open alarms, is then never on disk without
   * the events appended before it: a crash loses both or neither. When the disk refuses the
   * commit this rejects, and the newest state is kept and written with the held events.
   */
  putState(name: string, value: Buffer): Promise<void> {
    if (this.closed) return Promise.reject(new JournalError('journal is closed'));
    this.puts.set(stateKey(name), value);
    return this.nextCommit().written.done;
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

  /** Called after each commit with its records and the chain hash before it per lane (the trip archive keeps them). */
  onChained(listener: (c: ChainedCommit) => void): () => void {
    this.chainListeners.add(listener);
    return () => this.chainListeners.delete(listener);
  }

  /** Commits what is queued now; callers may await it to force a commit (shutdown, tests). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    return this.exclusive(this.commitQueued);
  }

  private readonly commitQueued = (): Promise<void> => this.commit();

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.serial.then(fn);
    this.serial = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes what is queued, with the events held from failed commits and a gap record per run
   * of readings the disk refused. While the disk is known to refuse, only the retry timer
   * (`retrying`) writes: the commits in between just hold their events and count their readings.
   */
  private async commit(retrying = false): Promise<void> {
    const fresh = this.queue;
    const pending = this.next;
    const puts = this.puts;
    // Appends from here on arm the next commit, which waits for this one's write (exclusive).
    this.armed = false;
    this.queue = [];
    this.puts = new Map();
    this.next = undefined;
    if (!retrying && fresh.length === 0 && puts.size === 0) return this.settled(pending);
    if (this.fault && !retrying) return this.refused(fresh, puts, pending, this.fault);
    const now = this.now();
    const backlog = this.refusals.backlog(now);
    let seq = this.nextSeq;
    const byLane: Record<Lane, JournalRecord[]> = { events: [], telemetry: [] };
    // The holes first: their gap records sit right after the last record before them.
    for (let i = 0; i < backlog.gaps.length; i++) byLane.events.push({ ...backlog.gaps[i]!, toSeq: seq, seq: seq++ });
    for (let i = 0; i < backlog.events.length; i++) {
      const record = backlog.events[i]!;
      record.seq = seq++;
      byLane.events.push(record);
    }
    // Indexed loops in a commit: it runs in V8's baseline tier, where each for-of step allocates.
    for (let i = 0; i < fresh.length; i++) {
      const record = fresh[i]!;
      // The draft is the record: copying a million readings a second costs more than the rest.
      record.seq = seq++;
      byLane[laneOf(record)].push(record);
    }
    let chained: ChainedCommit | undefined;
    try {
      // The tail keeps the chunks without their values (values only go into the batch).
      const chunks: Record<Lane, TailChunk[]> = { events: [], telemetry: [] };
      const values: Record<Lane, Buffer[]> = { events: [], telemetry: [] };
      // Chained from the head on disk each time: a failed commit renumbers and chains again.
      const heads: Record<Lane, ChainHead> = { events: this.chain.events, telemetry: this.chain.telemetry };
      const encode = (lane: Lane) => {
        const list = byLane[lane];
        const laneChunks: TailChunk[] = (chunks[lane] = []);
        const laneValues: Buffer[] = (values[lane] = []);
        let head = this.chain[lane];
        let bytes = 0;
        for (let i = 0; i < list.length; i += MAX_CHUNK_RECORDS) {
          // A commit of one poll is one chunk: its lane's list is the chunk's, no copy.
          const part = i === 0 && list.length <= MAX_CHUNK_RECORDS ? list : list.slice(i, i + MAX_CHUNK_RECORDS);
          const prev = head.hash;
          const last = part[part.length - 1]!.seq;
          head = { seq: last, hash: chainEnd(prev, part) };
          const key = chunkKey(lane, last);
          const value = encodeChunk(part, now, prev, this.names);
          const size = key.length + value.length;
          laneChunks.push({ key, lastSeq: last, bytes: size, count: part.length, prev, records: part });
          laneValues.push(value);
          bytes += size;
        }
        heads[lane] = head;
        return bytes;
      };
      const added = { events: encode('events'), telemetry: encode('telemetry') };
      const retention: RetentionInput = {
        telemetry: this.lanes.telemetry,
        headAcked: this.headAcked.telemetry,
        // Room for the gap record a drop writes into this commit's events chunk, or it overshoots.
        otherBytes: this.lanes.events.bytes + added.events + added.telemetry + GAP_CHUNK_RESERVE,
        maxBytes: this.cfg.maxBytes,
        maxAgeMs: this.cfg.maxAgeDays * DAY_MS,
        now,
        // A clock stepped back can only delay an age drop (by at most maxAge), never cause one.
        committedSince: this.front?.lane === 'telemetry' ? this.front.chunk.header.committedAt : undefined,
        nextChunk: (after) => this.nextChunk('telemetry', after),
      };
      const plan = keepAll(retention) ?? (await planRetention(retention));
      if (plan.gaps.length > 0) {
        // The gap goes in the same atomic batch as the drop: the hole is never unannounced.
        for (const gap of plan.gaps) byLane.events.push({ ...gap, seq: seq++ });
        added.events = encode('events');
      }
      const next: Record<Lane, LaneMeta> = { events: { ...this.lanes.events }, telemetry: plan.telemetry };
      const ops: Op[] = [];
      for (let i = 0; i < plan.deletes.length; i++) ops.push({ type: 'del', key: plan.deletes[i]! });
      for (let l = 0; l < LANES.length; l++) {
        const lane = LANES[l]!;
        const laneChunks = chunks[lane];
        for (let i = 0; i < laneChunks.length; i++) ops.push({ type: 'put', key: laneChunks[i]!.key, value: values[lane][i]! });
        next[lane].count += byLane[lane].length;
        next[lane].bytes += added[lane];
      }
      // A lane's metadata changes with its records (and telemetry's with retention's drops).
      for (let l = 0; l < LANES.length; l++) {
        const lane = LANES[l]!;
        if (byLane[lane].length > 0 || (lane === 'telemetry' && plan.deletes.length > 0)) ops.push({ type: 'put', key: laneMetaKey(lane), value: metaValue(next[lane]) });
      }
      for (let l = 0; l < LANES.length; l++) {
        const lane = LANES[l]!;
        if (byLane[lane].length > 0) ops.push({ type: 'put', key: chainKey(lane), value: Buffer.from(JSON.stringify(heads[lane])) });
      }
      ops.push({ type: 'put', key: SEQ_KEY, value: Buffer.from(String(seq)) });
      if (puts.size > 0) for (const [key, value] of puts) ops.push({ type: 'put', key, value });
      // New names go in the batch of the first chunk that uses them.
      const names = this.names.size;
      const namesValue = this.names.unwritten();
      if (namesValue) ops.push({ type: 'put', key: NAMES_KEY, value: namesValue });
      await this.db.batch(ops, { sync: this.cfg.fsync });
      this.names.wrote(names);
      if (plan.deletes.length > 0) {
        this.tails.telemetry.deleted(plan.telemetry.deletedThrough);
        this.headAcked.telemetry = 0;
        const dropped = plan.gaps.reduce((n, g) => n + g.count, 0);
        this.log.warn({ dropped, gaps: plan.gaps.map(({ fromSeq, toSeq, reason }) => ({ fromSeq, toSeq, reason })), maxBytes: this.cfg.maxBytes }, 'journal full or expired: oldest readings dropped, gap recorded');
        this.compactor.deleted(plan.deletes.length, 'telemetry', plan.telemetry.deletedThrough);
      }
      if (plan.overflowing && !this.overflowing) this.log.error({ usedBytes: next.events.bytes + next.telemetry.bytes, maxBytes: this.cfg.maxBytes }, 'journal over maxBytes with only events left: events are never dropped; raise journal.maxBytes or restore the uplink');
      this.overflowing = plan.overflowing;
      this.lanes.events = next.events;
      this.lanes.telemetry = next.telemetry;
      for (let l = 0; l < LANES.length; l++) {
        const lane = LANES[l]!;
        for (let i = 0; i < chunks[lane].length; i++) this.tails[lane].add(chunks[lane][i]!);
      }
      chained = this.chainListeners.size > 0 ? { incarnation: this.incarnation, prev: { events: this.chain.events.hash, telemetry: this.chain.telemetry.hash }, head: { events: heads.events.hash, telemetry: heads.telemetry.hash }, records: inSeqOrder(byLane) } : undefined;
      this.chain.events = heads.events;
      this.chain.telemetry = heads.telemetry;
      this.nextSeq = seq;
    } catch (err) {
      const code = faultCode(err);
      const message = `journal write failed: ${code}: ${(err as { cause?: Error }).cause?.message ?? (err as Error).message} (is the disk full or read-only?)`;
      this.writeErrors++;
      // One line per failure would flood a full disk's log: say it when it starts, then count.
      if (!this.fault) this.log.error({ err: message, code, records: byLane.events.length + byLane.telemetry.length }, 'journal commit failed: readings are not being recorded, events are held in memory; retrying');
      this.fault = { code, message, since: this.fault?.since ?? now };
      // Held events and runs stay as they were: the next attempt renumbers and rebuilds them.
      return this.refused(fresh, puts, pending, this.fault);
    }
    if (this.fault) this.log.info({ after: this.writeErrors, heldEvents: backlog.events.length, gaps: this.refusals.summary() }, 'journal writes work again: held events and gap records written');
    backlog.written();
    if (this.fault) {
      this.fault = undefined;
      this.retries = 0;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.settled(pending);
    for (let l = 0; l < LANES.length; l++) {
      const lane = LANES[l]!;
      if (byLane[lane].length > 0) for (const listener of this.listeners) listener(lane);
    }
    if (chained && chained.records.length > 0) for (const listener of this.chainListeners) listener(chained);
  }

  private settled(pending: Commit | undefined): void {
    if (!pending) return;
    pending.written.resolve();
    const calls = pending.eventCalls;
    for (let i = 0; i < calls.length; i++) calls[i]!.resolve();
  }

  /**
   * The disk refused (or is known to refuse) this commit: its readings join the run of
   * unrecorded ones, its events wait in memory, its state is kept unless newer state came.
   */
  private refused(fresh: JournalRecord[], puts: Map<string, Buffer>, pending: Commit | undefined, fault: WriteFault): void {
    const events: JournalRecord[] = [];
    const readings: JournalRecord[] = [];
    for (const record of fresh) (laneOf(record) === 'events' ? events : readings).push(record);
    this.refusals.hold(events.map((record) => ({ record, waiter: this.waiterOf.get(record) ?? NO_WAITER })), fault.code, this.nextSeq - 1);
    this.refusals.lost('telemetry', readings, fault.code, this.nextSeq - 1);
    for (const [key, value] of puts) if (!this.puts.has(key)) this.puts.set(key, value);
    pending?.written.reject(new JournalError(fault.message));
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.retries);
    this.retries++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.exclusive(() => this.retry());
    }, delay);
  }

  /**
   * Asks the filesystem first (a full or read-only disk answers at once, and LevelDB is left
   * alone so the uplink can still drain it); once the filesystem takes writes, writes the held
   * records. LevelDB may keep refusing after its own write error: then it is closed, reopened
   * and its counters read back from disk, so no seq on disk is ever used again.
   */
  private async retry(): Promise<void> {
    if (!this.fault || this.closed) return;
    const code = await probeWrite(this.db.location);
    if (code) {
      this.fault.code = code;
      return this.scheduleRetry();
    }
    if (this.db.status === 'open') await this.commit(true);
    if (!this.fault) return;
    try {
      await this.reopen();
      await this.commit(true);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'journal: reopening the database failed; will try again');
    }
    if (this.fault) this.scheduleRetry();
  }

  private async reopen(): Promise<void> {
    await this.db.close();
    await this.db.open();
    const disk = await loadMeta(this.db, this.incarnation);
    if (disk.nextSeq !== this.nextSeq) this.log.warn({ disk: disk.nextSeq, memory: this.nextSeq }, 'journal: a write reported as failed reached the disk; continuing from the disk');
    this.nextSeq = Math.max(disk.nextSeq, this.nextSeq);
    for (const lane of LANES) {
      this.lanes[lane] = disk.lanes[lane];
      this.headAcked[lane] = disk.headAcked[lane];
      this.chain[lane] = disk.chain[lane];
    }
    this.cached = undefined;
    this.front = undefined;
    // A write reported as failed may have reached the disk: only later chunks are known here.
    for (const lane of LANES) this.tails[lane].reset(this.nextSeq - 1);
    // The names in memory hold the disk's (append-only); whether the last ones got there is unsure.
    this.names.unsure();
  }

  /**
   * The first stored chunk of `lane` keyed after `seq`. The last one found is kept: chunks are
   * only added after it and deleted at or below the lane's deletedThrough, so the answer for the
   * same `seq` stands until the lane's front moves (each commit's retention check asks it; a
   * LevelDB iterator for it was most of a steady-state commit's time).
   */
  private async nextChunk(lane: Lane, seq: number): Promise<StoredChunk | undefined> {
    const known = this.front;
    if (known?.lane === lane && known.after === seq) return known.chunk;
    for await (const [key, value] of this.db.iterator({ gt: chunkKey(lane, seq), lt: lanePrefix(lane).lt, limit: 1 })) {
      const chunk = { key, lastSeq: seqOfChunkKey(key), bytes: key.length + value.length, header: chunkHeader(value) };
      this.front = { lane, after: seq, chunk };
      return chunk;
    }
    return undefined;
  }

  /** Up to `limit` committed records of `lane` with seq > afterSeq, in seq order. */
  async read(lane: Lane, afterSeq: number, limit: number): Promise<JournalRecord[]> {
    return (await this.readChained(lane, afterSeq, limit, false)).records;
  }

  /**
   * As `read`, with the lane's chain hash before the first record and after the last (what a
   * batch carries; see chained-read.ts). Chunks committed since the tail last had to let go
   * come from memory (tail.ts), older ones from the disk.
   */
  async readChained(lane: Lane, afterSeq: number, limit: number, hashes = true): Promise<ChainedRead> {
    const m = this.lanes[lane];
    const floor = Math.max(afterSeq, m.ackedThrough, 0);
    const reader = new ChainedReader(floor, limit, hashes);
    // Seek straight past everything deleted: LevelDB would otherwise step over its tombstones.
    const fromSeq = Math.max(floor, m.deletedThrough);
    const tail = this.tails[lane];
    if (tail.covers(fromSeq)) {
      for (const chunk of tail.from(fromSeq)) if (!reader.add(chunk, () => chunk)) break;
      return reader.result(this.chain[lane]);
    }
    for await (const [key, value] of this.db.iterator({ gt: chunkKey(lane, fromSeq), lt: lanePrefix(lane).lt })) {
      // The header alone says whether this chunk is wanted: the one being read stays cached.
      const header = chunkHeader(value);
      const decode = () => (this.cached?.key === key ? this.cached : (this.cached = { key, records: decodeChunk(value, this.names), prev: header.prev }));
      if (!reader.add(header, decode)) break;
    }
    return reader.result(this.chain[lane]);
  }

  /**
   * The seqs of `lane` in [fromSeq, toSeq] that are still stored and not acked, as ascending
   * inclusive ranges of consecutive seqs (a cmd/replay answer). Acked or dropped seqs are all at
   * or below the lane's `deletedThrough`, so only chunks after it are looked at, and only their
   * seqs are decoded. E.g. telemetry holds 11..15 and 17..20 of 1..20, events 16: telemetry
   * gives [[11, 15], [17, 20]], events [[16, 16]].
   */
  async heldRanges(lane: Lane, fromSeq: number, toSeq: number): Promise<Range[]> {
    const out: Range[] = [];
    const m = this.lanes[lane];
    const floor = Math.max(fromSeq - 1, m.ackedThrough, m.deletedThrough);
    if (floor >= toSeq) return out;
    for await (const value of this.db.values({ gt: chunkKey(lane, floor), lt: lanePrefix(lane).lt })) {
      if (chunkHeader(value).firstSeq > toSeq) break;
      for (const seq of chunkSeqs(value)) {
        if (seq <= floor || seq > toSeq) continue;
        const last = out[out.length - 1];
        if (last && last[1] === seq - 1) last[1] = seq;
        else out.push([seq, seq]);
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
      const tail = this.tails[lane];
      let headAcked: number;
      if (tail.covers(m.deletedThrough)) {
        // Gone from the tail before the write: if it fails, those chunks are read from the disk.
        for (const chunk of tail.deleted(through)) {
          ops.push({ type: 'del', key: chunk.key });
          next.count -= chunk.count;
          next.bytes -= chunk.bytes;
        }
        headAcked = ackedIn(tail.first(), through);
      } else {
        for await (const [key, value] of this.db.iterator({ gt: chunkKey(lane, m.deletedThrough), lte: chunkKey(lane, through) })) {
          ops.push({ type: 'del', key });
          next.count -= chunkHeader(value).count;
          next.bytes -= key.length + value.length;
        }
        // Chunks up to `through` are keyed at or below next.deletedThrough: only the straddler is seen.
        headAcked = await straddling(this.db, lane, next);
        // Newer chunks the tail holds may be among the deleted ones.
        tail.deleted(through);
      }
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
    return {
      incarnation: this.incarnation,
      nextSeq: this.nextSeq,
      usedBytes: this.lanes.events.bytes + this.lanes.telemetry.bytes,
      maxBytes: this.cfg.maxBytes,
      compactions: this.compactor.count,
      writable: this.fault === undefined,
      heldEvents: this.refusals.heldEvents,
      unrecorded: this.refusals.total,
      lanes,
    };
  }

  /**
   * For the display, /metrics and the rules' journal alarms: journal-full reads usedBytes /
   * maxBytes, journal-failed reads state `offline` (the disk refuses writes).
   */
  health(): DeviceHealth {
    const s = this.stats();
    const pending = s.lanes.events.records + s.lanes.telemetry.records;
    const dropped = s.lanes.telemetry.dropped;
    let state: DeviceHealth['state'] = 'ok';
    let detail = `${pending} records waiting for the broker`;
    if (this.fault) {
      state = 'offline';
      const since = new Date(this.fault.since).toISOString();
      detail = `cannot write since ${since} (${this.fault.code}): ${s.heldEvents} events held in memory, ${s.unrecorded} records not recorded; ${this.fault.message}`;
    } else if (this.overflowing) {
      state = 'degraded';
      detail = `full with events alone (${s.usedBytes} of ${s.maxBytes} bytes)`;
    } else if (s.usedBytes + 0.05 * s.maxBytes >= s.maxBytes) {
      state = 'degraded';
      detail = `full: dropping the oldest readings (${dropped} dropped so far)`;
    }
    return {
      id: 'journal',
      kind: 'journal',
      state,
      detail,
      usedBytes: s.usedBytes,
      maxBytes: s.maxBytes,
      pendingRecords: pending,
      droppedRecords: dropped,
      errors: this.writeErrors,
      ...(this.fault && { fault: this.fault.code, heldEvents: s.heldEvents }),
      unrecordedRecords: s.unrecorded,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    // A last try for what the disk refused: a shutdown after the disk came back loses nothing.
    if (this.fault) await this.exclusive(() => this.commit(true));
    this.closed = true;
    clearTimeout(this.retryTimer);
    await this.serial;
    if (!this.refusals.empty) {
      this.log.error({ heldEvents: this.refusals.heldEvents, unrecorded: this.refusals.summary() }, 'journal closed while the disk refused writes: held events and the gap records are lost');
      this.refusals.abandon(new JournalError(`journal closed before the disk took these events (${this.fault?.code})`));
    }
    await this.compactor.idle();
    await this.db.close();
  }
}

/** Where the journal left off: read at open, and again after reopening on a write error. */
async function loadMeta(db: Db, incarnation: string): Promise<{ nextSeq: number; lanes: Record<Lane, LaneMeta>; headAcked: Record<Lane, number>; chain: Record<Lane, ChainHead>; names: NameTable }> {
  const storedSeq = await db.get(SEQ_KEY);
  const names = NameTable.parse(await db.get(NAMES_KEY));
  const lanes = {} as Record<Lane, LaneMeta>;
  const headAcked = {} as Record<Lane, number>;
  const chain = {} as Record<Lane, ChainHead>;
  for (const lane of LANES) {
    const head = await db.get(chainKey(lane));
    // A new journal, or one from before the chain: its next record is chained from the genesis.
    chain[lane] = head ? (JSON.parse(head.toString()) as ChainHead) : { seq: 0, hash: genesis(incarnation, lane) };
    const meta = await db.get(laneMetaKey(lane));
    lanes[lane] = meta ? { ...emptyMeta(), ...(JSON.parse(meta.toString()) as LaneMeta) } : emptyMeta();
    headAcked[lane] = await straddling(db, lane, lanes[lane]);
  }
  return { nextSeq: storedSeq ? Number(storedSeq.toString()) : 1, lanes, headAcked, chain, names };
}

/** Both lanes' records of one commit in seq order; a steady commit has one lane only and needs no sort. */
function inSeqOrder(byLane: Record<Lane, JournalRecord[]>): JournalRecord[] {
  if (byLane.events.length === 0) return byLane.telemetry;
  if (byLane.telemetry.length === 0) return byLane.events;
  return [...byLane.events, ...byLane.telemetry].sort((a, b) => a.seq - b.seq);
}

/** How many records of a lane's first stored chunk (from the tail) are at or below its ack cursor. */
function ackedIn(first: TailChunk | undefined, ackedThrough: number): number {
  let n = 0;
  if (first) for (const record of first.records) if (record.seq <= ackedThrough) n++;
  return n;
}

/** How many records of the lane's first stored chunk are at or below its ack cursor. */
async function straddling(db: Db, lane: Lane, m: LaneMeta): Promise<number> {
  for await (const value of db.values({ gt: chunkKey(lane, m.deletedThrough), lt: lanePrefix(lane).lt, limit: 1 })) {
    if (chunkHeader(value).firstSeq > m.ackedThrough) return 0;
    return chunkSeqs(value).filter((s) => s <= m.ackedThrough).length;
  }
  return 0;
}
