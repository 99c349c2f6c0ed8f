import { closeSync, createReadStream, fsync, ftruncateSync, openSync, statSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ChainedCommit } from '../journal/journal.ts';
import type { JournalRecord, Lane, PositionDraft, ReadingQuality, TemperatureDraft, TimeQuality } from '../core/types.ts';
import type { TripReport } from './trip.ts';

/**
 * The running trip's readings on disk as they come, so a kill -9 loses nothing the journal
 * has: one NDJSON line per batch the drivers hand over, written (write(2), into the page cache)
 * before the journal sees the batch, fsynced in groups. The seqs follow in a line of their own
 * once the journal has committed the batch. Lines:
 *   {"trip":ID,"startedAt":ISO,"probes":[[id,compartment|null],...]}   a session (each start of the box)
 *   {"b":7,"t0":MS,"r":[[i,probe,dt,value,tq,q,error?],...],"p":[[i,record],...]}
 *       batch 7 of the session: item i of the journal batch; probe an index into the session's
 *       probes, dt ms after t0, tq 0 system / 1 gps / 2 unsynced, q 0 good / 1 sensor-fault / 2 comms-error;
 *       `p` holds positions (and any reading whose time does not parse) whole
 *   {"s":[7,1200]}  batch 7 got seqs from 1200 (item i: 1200 + i); {"s":[7,[1200,1203]]} per item
 *   {"c":[1200,1233],"x":[...],"h":{"i":INC,"prev":{lane:hex},"head":{lane:hex}}}
 *       a journal commit of the trip (seqs 1200..1233, both lanes): `x` its events-lane records
 *       whole (the readings are in the b lines), `h` the chain hashes before and after it, on the
 *       first NOTE_FIRST_COMMITS commits of a session and every CHAIN_NOTE_MS (src/trips/chain.ts rebuilds the chain)
 *   {"in":[ID,true,MS]}  a digital input changed (door, defrost)
 *   {"full":MS}  the spool reached archive.maxTripBytes: readings after MS are counted, not kept
 *   {"end":REPORT}  the trip ended with this report
 * A torn last line (power loss mid-write) is skipped when read.
 */

/** How often a commit line carries the chain's hashes: where a run of the chain can (re)start and be cross-checked. */
export const CHAIN_NOTE_MS = 10_000;
const NOTE_FIRST_COMMITS = 5;

export const TQ_CODES: readonly TimeQuality[] = ['system', 'gps', 'unsynced'];
export const QUALITY_CODES: readonly ReadingQuality[] = ['good', 'sensor-fault', 'comms-error'];

export type SpoolReading = [i: number, probe: number, dt: number, value: number | null, tq: number, q: number, error?: string];

export interface SpoolProbe {
  id: string;
  compartment?: string;
}

/** Appends to one trip's spool; every write is synchronous, fsync follows within `syncMs` (one at a time). */
export class SpoolWriter {
  private readonly fd: number;
  private bytes: number;
  private batch = 0;
  private readonly probeIndex = new Map<string, number>();
  private syncTimer: NodeJS.Timeout | undefined;
  private syncImmediate: NodeJS.Immediate | undefined;
  /** An fsync is running; `syncAgain`: lines came after it started. */
  private syncing = false;
  private syncAgain = false;
  private full = false;
  private closed = false;
  /** Readings not kept since the spool reached its bound. */
  dropped = 0;
  /** When the last commit line with chain hashes was written; undefined: none yet this session (or one failed). */
  private noted: number | undefined;
  private commits = 0;

  constructor(
    readonly file: string,
    session: { trip: string; startedAt: string; probes: readonly SpoolProbe[] },
    private readonly opts: { maxBytes: number; syncMs: number | undefined; onError: (err: Error) => void },
  ) {
    this.fd = openSync(file, 'a');
    this.bytes = statSync(file).size;
    this.full = this.bytes >= opts.maxBytes;
    session.probes.forEach((p, i) => this.probeIndex.set(p.id, i));
    this.line({ trip: session.trip, startedAt: session.startedAt, probes: session.probes.map((p) => [p.id, p.compartment ?? null]) });
  }

  /** Spools the trip's readings of one journal batch; returns its batch number, or undefined if nothing was kept. */
  readings(items: readonly { i: number; draft: TemperatureDraft | PositionDraft }[], nowMs: number): number | undefined {
    if (items.length === 0) return undefined;
    if (this.full) {
      this.dropped += items.length;
      return undefined;
    }
    const b = ++this.batch;
    const t0 = Date.parse(items[0]!.draft.ts);
    const r: SpoolReading[] = [];
    const p: [number, TemperatureDraft | PositionDraft][] = [];
    for (const { i, draft } of items) {
      const ms = Date.parse(draft.ts);
      // Positions, and a reading whose time does not parse (a driver's bug), are kept whole.
      if (draft.kind === 'position' || Number.isNaN(ms) || Number.isNaN(t0)) {
        p.push([i, draft]);
        continue;
      }
      const reading: SpoolReading = [i, this.probe(draft), ms - t0, draft.value, TQ_CODES.indexOf(draft.tq), QUALITY_CODES.indexOf(draft.quality)];
      if (draft.error !== undefined) reading.push(draft.error);
      r.push(reading);
    }
    this.line({ b, t0, ...(r.length > 0 && { r }), ...(p.length > 0 && { p }) });
    if (this.bytes >= this.opts.maxBytes) {
      this.full = true;
      this.line({ full: nowMs });
    }
    return b;
  }

  /** The seqs the journal gave batch `b`: from `first` when consecutive, else one per item. */
  seqs(b: number, seqs: number | number[]): void {
    this.line({ s: [b, seqs] });
  }

  /** A journal commit while the trip runs: its seq range, its events-lane records, now and then its chain hashes. */
  commit(c: ChainedCommit, nowMs: number): void {
    if (this.full) return;
    const x = c.records.filter((r) => r.kind === 'event' || r.kind === 'gap');
    // The first commits of a session may hold readings from before the trip (not spooled):
    // the run of the chain starts at the first whole one, so each of them says where it starts.
    const note = this.commits++ < NOTE_FIRST_COMMITS || this.noted === undefined || nowMs - this.noted >= CHAIN_NOTE_MS;
    const line = { c: [c.records[0]!.seq, c.records.at(-1)!.seq], ...(x.length > 0 && { x }), ...(note && { h: { i: c.incarnation, prev: c.prev, head: c.head } }) };
    // A line that fails to write leaves `noted` unset: the next commit line carries the hashes.
    const saved = this.noted;
    this.noted = undefined;
    this.line(line);
    this.noted = note ? nowMs : saved;
  }

  input(id: string, on: boolean, atMs: number): void {
    this.line({ in: [id, on, atMs] });
  }

  end(report: TripReport): void {
    this.line({ end: report });
  }

  close(): void {
    clearTimeout(this.syncTimer);
    clearImmediate(this.syncImmediate);
    this.closed = true;
    closeSync(this.fd);
  }

  /** Makes sure what was written is on disk (a trip end, before the archive file is made). */
  sync(): Promise<void> {
    clearTimeout(this.syncTimer);
    clearImmediate(this.syncImmediate);
    this.syncTimer = undefined;
    this.syncImmediate = undefined;
    return new Promise((resolve, reject) => fsync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  private probe(d: TemperatureDraft): number {
    let i = this.probeIndex.get(d.probe);
    if (i === undefined) {
      // A probe the session did not list (it cannot happen with a validated config): a new session line names it.
      i = this.probeIndex.size;
      this.probeIndex.set(d.probe, i);
      this.line({ probe: [i, d.probe, d.compartment ?? null] });
    }
    return i;
  }

  private line(value: unknown) {
    // A commit that settles after the trip was archived: its fd number may already be another file's.
    if (this.closed) return;
    const buf = Buffer.from(`${JSON.stringify(value)}\n`);
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(this.fd, buf, done);
    } catch (err) {
      // A disk that filled mid-line: cut the part back off, so the next line starts clean.
      if (done > 0) ftruncateSync(this.fd, this.bytes);
      throw err;
    }
    this.bytes += buf.length;
    this.syncSoon();
  }

  /**
   * One fsync at a time, as the journal commits: lines written while one runs are synced by the
   * next, which starts when it ends. `syncMs` 0 syncs at the end of this turn (the journal's
   * commit wakeup), not on a timer of its own.
   */
  private syncSoon(): void {
    const ms = this.opts.syncMs;
    if (ms === undefined || this.closed) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    if (this.syncTimer || this.syncImmediate) return;
    const run = () => {
      this.syncTimer = undefined;
      this.syncImmediate = undefined;
      this.syncing = true;
      fsync(this.fd, (err) => {
        this.syncing = false;
        if (err) this.opts.onError(err);
        if (this.syncAgain) {
          this.syncAgain = false;
          this.syncSoon();
        }
      });
    };
    if (ms > 0) this.syncTimer = setTimeout(run, ms);
    else this.syncImmediate = setImmediate(run);
  }
}

/** One reading or position of the trip as the spool has it, with its seq if the journal's commit was recorded. */
export type SpooledRecord = (TemperatureDraft | PositionDraft) & { seq?: number };

/** Everything about a spool but its readings: enough for the archived trip's header. */
export interface SpoolSummary {
  trip?: string;
  startedAt?: string;
  /** Every probe any session named, in the order first seen. */
  probes: SpoolProbe[];
  inputs: { id: string; on: boolean; atMs: number }[];
  report?: TripReport;
  /** When the spool reached its bound, if it did. */
  fullAtMs?: number;
  /** Lines that did not parse (a torn last line after a power loss). */
  skipped: number;
  counts: { readings: number; good: number; positions: number; unsequenced: number };
  tq: Record<TimeQuality, number>;
}

type Line = {
  trip?: string;
  startedAt?: string;
  probes?: [string, string | null][];
  probe?: [number, string, string | null];
  b?: number;
  t0?: number;
  r?: SpoolReading[];
  p?: [number, TemperatureDraft | PositionDraft][];
  s?: [number, number | number[]];
  in?: [string, boolean, number];
  full?: number;
  end?: TripReport;
  c?: [number, number];
  x?: JournalRecord[];
  h?: ChainNote;
};

/** The chain hashes a commit line carries now and then: the journal's incarnation, the hash per lane before and after the commit. */
export interface ChainNote {
  i: string;
  prev: Record<Lane, string>;
  head: Record<Lane, string>;
}

/** A journal commit of the trip as the spool has it. */
export interface SpooledCommit {
  from: number;
  to: number;
  /** Its events-lane records. */
  x: JournalRecord[];
  h?: ChainNote;
}

/** The seqs of each batch by `session:batch`, as the journal reported them. */
type Seqs = Map<string, number | number[]>;

/** The spool's lines, parsed, with the session (start of the box) each belongs to; torn lines are counted. */
async function* spoolLines(file: string, torn: () => void): AsyncGenerator<{ l: Line; session: number }> {
  let session = 0;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const text of lines) {
    let l: Line;
    try {
      l = JSON.parse(text) as Line;
    } catch {
      torn();
      continue;
    }
    if (l.probes) session++;
    yield { l, session };
  }
}

/**
 * First pass over a spool: the header facts and the seqs, without keeping a reading (a 24 h
 * trip of 32 probes at 1 Hz is 2.8 million readings; as objects they would need ~800 MB).
 */
export async function scanSpool(file: string): Promise<{ summary: SpoolSummary; seqs: Seqs; commits: SpooledCommit[]; held: [from: number, to: number][] }> {
  const commits: SpooledCommit[] = [];
  /** Per batch the journal-batch items it holds: which of the batch's seqs the spool has. */
  const indexes = new Map<string, number[]>();
  const summary: SpoolSummary = { probes: [], inputs: [], skipped: 0, counts: { readings: 0, good: 0, positions: 0, unsequenced: 0 }, tq: { system: 0, gps: 0, unsynced: 0 } };
  const seqs: Seqs = new Map();
  const sizes = new Map<string, number>();
  const known = new Set<string>();
  const name = (id: string, compartment: string | null) => {
    if (known.has(id)) return;
    known.add(id);
    summary.probes.push({ id, ...(compartment !== null && { compartment }) });
  };
  for await (const { l, session } of spoolLines(file, () => summary.skipped++)) {
    if (l.probes) {
      summary.trip ??= l.trip;
      summary.startedAt ??= l.startedAt;
      for (const [id, c] of l.probes) name(id, c);
    } else if (l.probe) name(l.probe[1], l.probe[2]);
    else if (l.b !== undefined) {
      const r = l.r ?? [];
      summary.counts.readings += r.length;
      summary.counts.positions += l.p?.length ?? 0;
      for (const x of r) {
        if (x[5] === 0) summary.counts.good++;
        summary.tq[TQ_CODES[x[4]] ?? 'unsynced']++;
      }
      sizes.set(`${session}:${l.b}`, r.length + (l.p?.length ?? 0));
      indexes.set(`${session}:${l.b}`, [...r.map((x) => x[0]), ...(l.p ?? []).map((x) => x[0])]);
    } else if (l.s) seqs.set(`${session}:${l.s[0]}`, l.s[1]);
    else if (l.in) summary.inputs.push({ id: l.in[0], on: l.in[1], atMs: l.in[2] });
    else if (l.full !== undefined) summary.fullAtMs ??= l.full;
    else if (l.end) summary.report = l.end;
    else if (l.c) commits.push({ from: l.c[0], to: l.c[1], x: l.x ?? [], ...(l.h && { h: l.h }) });
  }
  for (const [key, n] of sizes) if (!seqs.has(key)) summary.counts.unsequenced += n;
  return { summary, seqs, commits, held: heldSeqs(seqs, indexes) };
}

/** The seqs the spool holds readings and positions for, as sorted, merged ranges (a day of 1 Hz readings is a few thousand). */
function heldSeqs(seqs: Seqs, indexes: Map<string, number[]>): [number, number][] {
  const ranges: [number, number][] = [];
  for (const [key, s] of seqs) {
    const items = (indexes.get(key) ?? []).sort((a, b) => a - b);
    if (typeof s === 'number' && items.length > 0 && items.at(-1)! - items[0]! === items.length - 1) ranges.push([s + items[0]!, s + items.at(-1)!]);
    else for (const i of items) {
      const seq = typeof s === 'number' ? s + i : s[i];
      if (seq !== undefined) ranges.push([seq, seq]);
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out.at(-1);
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** Second pass: the readings and positions, one batch at a time, with the seqs the first pass found. */
export async function* spoolRecords(file: string, seqs: Seqs): AsyncGenerator<SpooledRecord[]> {
  let probes: SpoolProbe[] = [];
  for await (const { l, session } of spoolLines(file, () => undefined)) {
    if (l.probes) probes = l.probes.map(([id, c]) => ({ id, ...(c !== null && { compartment: c }) }));
    else if (l.probe) probes[l.probe[0]] = { id: l.probe[1], ...(l.probe[2] !== null && { compartment: l.probe[2] }) };
    if (l.b === undefined) continue;
    const s = seqs.get(`${session}:${l.b}`);
    const seqOf = (i: number) => (s === undefined ? undefined : typeof s === 'number' ? s + i : s[i]);
    const items: [number, SpooledRecord][] = [];
    for (const [i, probe, dt, value, tq, q, error] of l.r ?? []) {
      const p = probes[probe];
      const r: SpooledRecord = { kind: 'temperature', ts: new Date(l.t0! + dt).toISOString(), tq: TQ_CODES[tq] ?? 'unsynced', probe: p?.id ?? `#${probe}`, value, quality: QUALITY_CODES[q] ?? 'comms-error' };
      if (p?.compartment !== undefined) r.compartment = p.compartment;
      if (error !== undefined) r.error = error;
      items.push([i, r]);
    }
    for (const [i, position] of l.p ?? []) items.push([i, position]);
    // In the order of the journal batch, so the seqs ascend.
    items.sort((a, b) => a[0] - b[0]);
    yield items.map(([i, r]) => {
      const seq = seqOf(i);
      if (seq !== undefined) r.seq = seq;
      return r;
    });
  }
}
