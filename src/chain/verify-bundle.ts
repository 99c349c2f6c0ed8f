import { createPublicKey, type KeyObject } from 'node:crypto';
import type { JournalRecord, Lane } from '../core/types.ts';
import { laneOf } from '../core/types.ts';
import { link } from './hash.ts';
import { fingerprintOf } from './keys.ts';
import { headSignatureValid, tripHeaderProblem, type SignedTripHeader } from './sign.ts';
import type { Problem, VerifyReport } from './verify.ts';

/**
 * `coldgate verify` on a trip bundle (src/trips/bundle.ts writes it; contract:
 * src/uplink/contract/CHAIN.md, "Trip bundles"), read line by line so a 24 h trip of 32 probes
 * at 1 Hz (~700 MB) needs no more memory than a short one. Per run: the seqs must be
 * consecutive across both lanes (a missing seq is a removed record); per lane each record must
 * hash from the hash before it to its own `hash`, the last to the run's head, and the head must
 * carry the box's signature. Each record line carries its hash, so a change is found at the
 * record: a record that does not hash to its line's hash while the next record links from
 * that hash was changed; one whose removal lets the chain link was inserted; two lines that link
 * when swapped were reordered. Someone who recomputes every hash after a change makes the chain
 * link again, but cannot make the head the box signed: then only the signature fails.
 */
interface Entry {
  line: number;
  seq: number;
  record: JournalRecord;
  hash: string;
}

interface RunLine {
  incarnation: string;
  fromSeq: number;
  toSeq: number;
  lanes: Partial<Record<Lane, { prev: string; head: string; lastSeq: number; count: number; sig?: { key: string; value: string } }>>;
}

interface LaneState {
  at: string;
  lastSeq: number;
  count: number;
  queue: Entry[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const MAX_PROBLEMS = 1000;

export async function verifyBundle(lines: AsyncIterable<string>, key?: KeyObject): Promise<VerifyReport> {
  const report: VerifyReport = { problems: [], notes: [], batches: 0, records: 0, signatures: { valid: 0, unchecked: 0 } };
  let untold = 0;
  // A bundle broken everywhere would print a line per record: the first MAX_PROBLEMS say enough.
  const problem = (p: Problem) => (report.problems.length < MAX_PROBLEMS ? report.problems.push(p) : untold++);
  let gatewayId = '';
  let signer = key;
  let headerRuns: string[] = [];
  let run: RunLine | undefined;
  let runLine = 0;
  let lanes: Record<Lane, LaneState> | undefined;
  let expected = 0;
  /** Seqs of the run no line has held (yet): removed, unless a later line brings them (reordered). */
  const missing = new Map<number, { after: number; line: number }>();
  let lastLine = 0;
  let ended = false;

  const accept = (s: LaneState, e: Entry) => {
    s.at = e.hash;
    s.lastSeq = Math.max(s.lastSeq, e.seq);
  };
  const removedBefore = (s: LaneState, seq: number) => [...missing.keys()].some((m) => m > s.lastSeq && m < seq);
  /** Judges the lane's first queued record with the one after it; returns how many it settled. */
  const step = (lane: Lane, s: LaneState, headOf: string | undefined): number => {
    const [e1, e2] = s.queue as [Entry, Entry | undefined];
    const where = (e: Entry) => `${lane} seq ${e.seq} (line ${e.line})`;
    if (link(s.at, e1.record) === e1.hash) {
      accept(s, e1);
      return 1;
    }
    if (e2 && link(s.at, e2.record) === e2.hash) {
      if (link(e2.hash, e1.record) === e1.hash) {
        problem({ kind: 'reordered', line: e1.line, lane, seq: e1.seq, message: `${where(e1)} and seq ${e2.seq} (line ${e2.line}): reordered pair: the chain links with the two swapped` });
        accept(s, e2);
        accept(s, e1);
        return 2;
      }
      problem({ kind: 'inserted', line: e1.line, lane, seq: e1.seq, message: `${where(e1)}: inserted record: the chain runs from the record before it to seq ${e2.seq} (line ${e2.line}) without it` });
      return 1;
    }
    const nextLinks = e2 ? link(e1.hash, e2.record) === e2.hash : e1.hash === headOf;
    if (nextLinks && removedBefore(s, e1.seq)) {
      // The removal (reported with its seq) explains it: the chain goes on from this record's hash.
    } else if (nextLinks) {
      problem({ kind: 'changed', line: e1.line, lane, seq: e1.seq, message: `${where(e1)}: changed record: it does not hash to the hash on its line, which the ${e2 ? 'next record' : "run's signed head"} links from (the record was edited after the box chained it; or the ${lane} record before it was edited together with its hash)` });
    } else {
      problem({ kind: 'break', line: e1.line, lane, seq: e1.seq, message: `${where(e1)}: break in the chain: the hash on its line is not the hash of the record before it and this record, and the next record does not link from it (its hash edited, or several records changed)` });
      // Judged on: the next record against what this one really hashes to.
      accept(s, { ...e1, hash: link(s.at, e1.record) });
      return 1;
    }
    accept(s, e1);
    return 1;
  };
  const drain = (lane: Lane, s: LaneState, all: boolean) => {
    const head = run?.lanes[lane]?.head;
    while (s.queue.length >= (all ? 1 : 2)) s.queue.splice(0, step(lane, s, head));
  };
  const closeRun = () => {
    if (!run || !lanes) return;
    for (const lane of ['telemetry', 'events'] as const) drain(lane, lanes[lane], true);
    for (let m = expected; m <= run.toSeq; m++) missing.set(m, { after: expected - 1, line: lastLine });
    for (const [seq, m] of [...missing].sort((a, b) => a[0] - b[0])) problem({ kind: 'removed', line: m.line, seq, message: `seq ${seq} (after seq ${m.after}, line ${m.line}): removed record: the run of seq ${run.fromSeq}..${run.toSeq} holds no record with it` });
    for (const lane of ['telemetry', 'events'] as const) checkLane(lane, lanes[lane]);
    missing.clear();
    run = undefined;
    lanes = undefined;
  };
  const checkLane = (lane: Lane, s: LaneState) => {
    const l = run!.lanes[lane];
    const where = `${lane} of the run seq ${run!.fromSeq}..${run!.toSeq} (line ${runLine})`;
    if (!l) {
      if (s.count > 0) problem({ kind: 'inserted', line: runLine, lane, message: `${where}: ${s.count} records of a lane the run has no chain for` });
      return;
    }
    const tailRemoved = [...missing.keys()].some((m) => m > s.lastSeq);
    if (s.at !== l.head && !tailRemoved && !report.problems.some((p) => p.lane === lane && p.line > runLine))
      problem({ kind: 'break', line: runLine, lane, seq: s.lastSeq, message: `${where}: its records end at hash ${s.at.slice(0, 16)}..., not at the run's head ${l.head.slice(0, 16)}... (records after seq ${s.lastSeq} were removed or changed)` });
    if (!l.sig) return void problem({ kind: 'unsigned', line: runLine, lane, message: `${where}: the box did not sign this head (the trip's chain.problems says why)` });
    if (!signer) return void report.signatures.unchecked++;
    const text = { gatewayId, incarnation: run!.incarnation, lane, lastSeq: l.lastSeq, head: l.head };
    if (l.sig.key !== fingerprintOf(signer)) problem({ kind: 'signature', line: runLine, lane, seq: l.lastSeq, message: `${where}: signed by key ${l.sig.key}, not the given key ${fingerprintOf(signer)}` });
    else if (!headSignatureValid(signer, text, l.sig))
      problem({ kind: 'signature', line: runLine, lane, seq: l.lastSeq, message: `${where}: wrong signature over head ${l.head.slice(0, 16)}... at seq ${l.lastSeq}: this is not the head the box signed${s.at === l.head ? ' although the records link to it: records were changed and every hash after them recomputed, so the changed record cannot be named (compare with the csv or the uplink batches)' : ''}` });
    else report.signatures.valid++;
  };

  let n = 0;
  for await (const raw of lines) {
    const line = ++n;
    if (raw.trim() === '') continue;
    lastLine = line;
    let doc: { format?: unknown; gatewayId?: unknown; key?: { fingerprint?: string; publicKey?: string }; trip?: { gatewayId: string; tripId: string; chain?: { runs?: unknown[]; header?: SignedTripHeader } }; run?: RunLine; hash?: unknown; record?: JournalRecord; end?: { runs: number; records: number } };
    try {
      doc = JSON.parse(raw) as typeof doc;
    } catch (err) {
      problem({ kind: 'unreadable', line, message: `line ${line}: not JSON (${(err as Error).message}): a line was cut or edited by hand` });
      continue;
    }
    if (line === 1) {
      if (typeof doc.gatewayId !== 'string') problem({ kind: 'unreadable', line, message: 'line 1: the bundle names no gatewayId' });
      gatewayId = String(doc.gatewayId);
      headerRuns = (doc.trip?.chain?.runs ?? []).map((r) => JSON.stringify(r));
      const own = doc.key?.publicKey;
      if (own && !key) {
        try {
          signer = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(own, 'base64').toString('base64url') }, format: 'jwk' });
          report.notes.push(`signatures checked with the key the bundle itself carries (fingerprint ${fingerprintOf(signer)}): compare it with the box's registered fingerprint, or pass --key`);
        } catch {
          problem({ kind: 'unreadable', line, message: 'line 1: the bundle\'s key is not a raw Ed25519 public key in base64' });
        }
      } else if (own && key && doc.key?.fingerprint !== fingerprintOf(key)) report.notes.push(`the bundle names key ${doc.key?.fingerprint}; checking with the given key ${fingerprintOf(key)}`);
      const signed = doc.trip?.chain?.header;
      if (!doc.trip || !signed) problem({ kind: 'unsigned', line, message: "line 1: the trip's header (its report) carries no signature of the box" });
      else if (signer) {
        const why = signed.sig.key !== fingerprintOf(signer) ? `the trip's header is signed by key ${signed.sig.key}, not the given key ${fingerprintOf(signer)}` : tripHeaderProblem(signer, doc.trip, signed);
        if (why) problem({ kind: 'signature', line, message: `line 1: ${why}` });
        else report.signatures.valid++;
      } else report.signatures.unchecked++;
      continue;
    }
    if (doc.run) {
      closeRun();
      run = doc.run;
      runLine = line;
      report.batches++;
      if (headerRuns.length > 0 && !headerRuns.includes(JSON.stringify(run))) problem({ kind: 'conflict', line, message: `line ${line}: this run (seq ${run.fromSeq}..${run.toSeq}) differs from the one the trip's header lists` });
      const at = (lane: Lane) => run!.lanes[lane]?.prev ?? '';
      lanes = { telemetry: { at: at('telemetry'), lastSeq: 0, count: 0, queue: [] }, events: { at: at('events'), lastSeq: 0, count: 0, queue: [] } };
      expected = run.fromSeq;
      continue;
    }
    if (doc.end) {
      closeRun();
      ended = true;
      if (doc.end.records !== report.records) report.notes.push(`the end line counts ${doc.end.records} records, the bundle holds ${report.records}`);
      continue;
    }
    const r = doc.record;
    if (!run || !lanes) {
      problem({ kind: 'inserted', line, message: `line ${line}: a record before any run line` });
      continue;
    }
    if (typeof doc.hash !== 'string' || !HEX64.test(doc.hash) || !r || typeof r !== 'object' || !Number.isInteger(r.seq) || !['temperature', 'position', 'event', 'gap'].includes(r.kind)) {
      problem({ kind: 'unreadable', line, ...(Number.isInteger(r?.seq) && { seq: r!.seq }), message: `line ${line}: expected {"hash": 64 hex digits, "record": a temperature, position, event or gap record with its seq}` });
      continue;
    }
    report.records++;
    const seq = r.seq;
    if (missing.has(seq)) {
      // It came late: its place was taken by the lines in between.
      const m = missing.get(seq)!;
      missing.delete(seq);
      const sameLane = lanes[laneOf(r)].queue.some((e) => e.line === m.line) || lanes[laneOf(r)].lastSeq > seq;
      if (!sameLane) problem({ kind: 'reordered', line, seq, message: `seq ${seq} (line ${line}): reordered: it comes after seq ${seq + 1}.. (line ${m.line}) although the box committed it before them` });
    } else if (seq === expected) expected++;
    else if (seq > expected) {
      if (seq - expected > 100_000) problem({ kind: 'removed', line, seq, message: `seq ${expected}..${seq - 1} (before line ${line}): ${seq - expected} records removed` });
      else for (let m = expected; m < seq; m++) missing.set(m, { after: expected - 1, line });
      expected = seq + 1;
    }
    const s = lanes[laneOf(r)];
    s.count++;
    s.queue.push({ line, seq, record: r, hash: doc.hash });
    drain(laneOf(r), s, false);
  }
  closeRun();
  if (n === 0) problem({ kind: 'unreadable', line: 0, message: 'the bundle is empty' });
  else if (!ended) problem({ kind: 'removed', line: lastLine, message: `the bundle ends at line ${lastLine} without its end line: lines after it were cut off` });
  if (untold > 0) report.notes.push(`${untold} more problems not listed (the first ${MAX_PROBLEMS} are)`);
  return report;
}
