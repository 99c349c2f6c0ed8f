import type { JournalRecord, Lane } from '../core/types.ts';
import { link } from '../chain/hash.ts';
import { rawPublicKey, type BoxKey } from '../chain/keys.ts';
import { signHead, type BatchSignature, type SignedTripHeader } from '../chain/sign.ts';
import type { ChainNote, SpooledCommit, SpooledRecord } from './spool.ts';

/**
 * The trip's part of the journal's hash chain (src/uplink/contract/CHAIN.md), rebuilt from the
 * spool when the trip is archived, so that `trips export --format bundle` can hand an auditor
 * every record with its hash and `coldgate verify` can check it a year later.
 *
 * A run is a stretch of consecutive journal commits of one incarnation whose every record the
 * spool holds (readings and positions in its b lines, events and gaps in its c lines): both
 * lanes' records, so each lane's chain is complete from the run's `prev` to its `head`. A run
 * starts at a commit line with chain hashes (`h`: the first few of each session, then every
 * CHAIN_NOTE_MS) and ends where a commit is missing or not whole (readings the journal took
 * before the trip began, a spool line lost to kill -9). Where a commit line carries the
 * journal's own hashes the rebuilt chain is checked against them, and a lane is signed with
 * the box key only when it agrees: the box signs what its journal chained, nothing else.
 */
export interface RunLane {
  /** The lane's chain hash before the run's first record of this lane. */
  prev: string;
  /** After its last. */
  head: string;
  lastSeq: number;
  count: number;
  /** Over `coldgate.sig/1 {gatewayId} {incarnation} {lane} {lastSeq} {head}` (src/chain/sign.ts); absent: no box key, or the rebuilt chain disagreed with the journal. */
  sig?: BatchSignature;
}

export interface ChainRun {
  incarnation: string;
  fromSeq: number;
  toSeq: number;
  lanes: Partial<Record<Lane, RunLane>>;
}

export interface TripChain {
  /** The signing key: fingerprint and the raw Ed25519 public key in base64 (as `coldgate keys show` prints it). */
  key?: { fingerprint: string; publicKey: string };
  runs: ChainRun[];
  /** Readings and positions of the trip outside every run (archived, in the csv, but not in the chain's proof). */
  unchained: number;
  /** Sentences: where the rebuilt chain disagreed with the journal (those lanes are not signed). */
  problems?: string[];
  /** The box's signature over the rest of the header (src/chain/sign.ts signTripHeader); absent without a box key. */
  header?: SignedTripHeader;
}

interface Planned {
  run: ChainRun;
  prev: Record<Lane, string>;
  /** The journal's hashes after seq `to`, to check the rebuilt chain against. */
  checks: { to: number; head: Record<Lane, string> }[];
  events: JournalRecord[];
}

/** How many of the seqs from..to the sorted, merged ranges hold. */
function heldIn(held: readonly [number, number][], from: number, to: number): number {
  let lo = 0;
  let hi = held.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (held[mid]![1] < from) lo = mid + 1;
    else hi = mid;
  }
  let n = 0;
  for (let i = lo; i < held.length && held[i]![0] <= to; i++) n += Math.min(to, held[i]![1]) - Math.max(from, held[i]![0]) + 1;
  return n;
}

/** The runs of whole, consecutive commits (see above). */
export function planRuns(commits: readonly SpooledCommit[], held: readonly [number, number][]): Planned[] {
  const out: Planned[] = [];
  let cur: Planned | undefined;
  const start = (c: SpooledCommit, h: ChainNote) => {
    cur = { run: { incarnation: h.i, fromSeq: c.from, toSeq: c.to, lanes: {} }, prev: h.prev, checks: [{ to: c.to, head: h.head }], events: [...c.x] };
    out.push(cur);
  };
  for (const c of commits) {
    const whole = heldIn(held, c.from, c.to) + c.x.length === c.to - c.from + 1;
    if (!whole) cur = undefined;
    else if (cur && c.from === cur.run.toSeq + 1 && (!c.h || c.h.i === cur.run.incarnation)) {
      cur.run.toSeq = c.to;
      cur.events.push(...c.x);
      if (c.h) cur.checks.push({ to: c.from - 1, head: c.h.prev }, { to: c.to, head: c.h.head });
    } else if (c.h) start(c, c.h);
    else cur = undefined;
  }
  return out;
}

/** One lane of one run being hashed, checked against the journal's hashes as it goes. */
class LaneHasher {
  h: string;
  count = 0;
  lastSeq = 0;
  private next = 0;
  mismatch: string | undefined;

  constructor(
    private readonly lane: Lane,
    private readonly p: Planned,
  ) {
    this.h = p.prev[lane];
  }

  add(r: JournalRecord): void {
    this.check(r.seq - 1);
    if (r.seq <= this.lastSeq) this.mismatch ??= `seq ${r.seq} comes after seq ${this.lastSeq} in the spool`;
    this.h = link(this.h, r);
    this.count++;
    this.lastSeq = r.seq;
  }

  /** Compares with every journal hash noted at or before `seq`. */
  check(seq: number): void {
    const checks = this.p.checks;
    while (this.next < checks.length && checks[this.next]!.to <= seq) {
      const c = checks[this.next++]!;
      if (c.head[this.lane] !== this.h) this.mismatch ??= `after seq ${c.to} the journal's ${this.lane} chain is at ${c.head[this.lane].slice(0, 16)}..., the archived records give ${this.h.slice(0, 16)}...`;
    }
  }
}

/**
 * Hashes the runs' records: the events from the commit lines, the readings and positions from
 * a pass over the spool (in seq order, as the journal took them). Signs each lane's head.
 */
export async function tripChain(planned: Planned[], records: AsyncIterable<readonly SpooledRecord[]>, gatewayId: string, key: BoxKey | undefined): Promise<TripChain> {
  const hashers = planned.map((p) => ({ telemetry: new LaneHasher('telemetry', p), events: new LaneHasher('events', p) }));
  planned.forEach((p, i) => p.events.sort((a, b) => a.seq - b.seq).forEach((r) => hashers[i]!.events.add(r)));
  let unchained = 0;
  let k = 0;
  for await (const batch of records) {
    for (const r of batch) {
      if (r.seq === undefined) {
        unchained++;
        continue;
      }
      while (k < planned.length && planned[k]!.run.toSeq < r.seq) k++;
      const p = planned[k];
      if (!p || p.run.fromSeq > r.seq) unchained++;
      else hashers[k]!.telemetry.add(r as JournalRecord);
    }
  }
  const problems: string[] = [];
  const runs = planned.map((p, i) => {
    for (const lane of ['telemetry', 'events'] as const) {
      const h = hashers[i]![lane];
      h.check(p.run.toSeq);
      if (h.count === 0) continue;
      const l: RunLane = { prev: p.prev[lane], head: h.h, lastSeq: h.lastSeq, count: h.count };
      if (h.mismatch) problems.push(`${lane} seq ${p.run.fromSeq}..${p.run.toSeq}: ${h.mismatch}: not signed`);
      else if (key) l.sig = signHead(key, { gatewayId, incarnation: p.run.incarnation, lane, lastSeq: l.lastSeq, head: l.head });
      p.run.lanes[lane] = l;
    }
    return p.run;
  });
  return {
    ...(key && { key: { fingerprint: key.fingerprint, publicKey: rawPublicKey(key.publicKey).toString('base64') } }),
    runs,
    unchained,
    ...(problems.length > 0 && { problems }),
  };
}

/** The events-lane records of the runs, in seq order: the archive keeps them whole. */
export function runEvents(planned: readonly Planned[]): JournalRecord[] {
  return planned.flatMap((p) => p.events);
}
