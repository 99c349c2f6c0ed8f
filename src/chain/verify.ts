import type { KeyObject } from 'node:crypto';
import type { JournalRecord, Lane } from '../core/types.ts';
import { laneOf } from '../core/types.ts';
import { decodeJson, parseBatch } from '../uplink/decode.ts';
import { BATCH_SCHEMA, recordsOf, type BatchDoc } from '../uplink/wire/batch.ts';
import { canonicalRecord } from './canonical.ts';
import { chainEnd, genesis, hashesOf, link } from './hash.ts';
import { fingerprintOf } from './keys.ts';
import { signatureProblem } from './sign.ts';

/**
 * `coldgate verify` on a capture of MQTT batches, one JSON per line: either
 * `{"topic": "...", "payload": "<the MQTT payload, base64>"}` (status lines give the key's
 * fingerprint; latest, commands and replies are skipped) or a batch document as JSON
 * (coldgate.batch/4, as decode.ts parses it). Per (gatewayId, incarnation, lane) it checks each
 * batch's records against its `prev` and `head`, each batch's `prev` against the hash of the
 * lane's record before it, and each signature; a problem names the record and what is wrong.
 */
export type ProblemKind = 'unreadable' | 'changed' | 'removed' | 'inserted' | 'reordered' | 'signature' | 'break' | 'conflict' | 'unsigned';

export interface Problem {
  kind: ProblemKind;
  line: number;
  lane?: Lane;
  seq?: number;
  message: string;
}

export interface VerifyReport {
  problems: Problem[];
  /** What was not checked or is not yet covered: no failure. */
  notes: string[];
  batches: number;
  records: number;
  signatures: { valid: number; unchecked: number };
}

/** A search for one inserted or swapped record costs n chains of n records: bounded. */
const SEARCH_MAX_RECORDS = 1000;
const RETENTION = new Set(['max-bytes', 'max-age']);

interface Batch {
  line: number;
  doc: BatchDoc;
  records: JournalRecord[];
  /** Hash after each record, when the batch's records hash to its head. */
  hashes?: string[];
}

export function verifyCapture(text: string, key?: KeyObject): VerifyReport {
  const report: VerifyReport = { problems: [], notes: [], batches: 0, records: 0, signatures: { valid: 0, unchecked: 0 } };
  const problem = (p: Problem) => report.problems.push(p);
  const streams = new Map<string, Batch[]>();
  const keyFingerprint = key && fingerprintOf(key);
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    let doc: BatchDoc | undefined;
    try {
      const entry = JSON.parse(raw) as { topic?: unknown; payload?: unknown; schema?: unknown };
      if (typeof entry.topic === 'string' && typeof entry.payload === 'string') {
        const payload = Buffer.from(entry.payload, 'base64');
        if (entry.topic.endsWith('/status')) {
          const status = decodeJson(payload) as { keyFingerprint?: string };
          if (keyFingerprint && status.keyFingerprint && status.keyFingerprint !== keyFingerprint) problem({ kind: 'signature', line, message: `the status birth names key ${status.keyFingerprint}, not the given key ${keyFingerprint}` });
          return;
        }
        if (!/\/(telemetry|events)$/.test(entry.topic)) return;
        doc = parseBatch(payload);
      } else if (entry.schema === BATCH_SCHEMA) doc = entry as BatchDoc;
      else throw new Error(`neither {topic, payload} nor a ${BATCH_SCHEMA} document`);
    } catch (err) {
      return problem({ kind: 'unreadable', line, message: `line ${line}: ${(err as Error).message}` });
    }
    const batch = readBatch(line, doc, problem);
    if (!batch) return;
    report.batches++;
    report.records += batch.records.length;
    const id = `${doc.gatewayId} ${doc.incarnation} ${doc.lane}`;
    if (!streams.has(id)) streams.set(id, []);
    streams.get(id)!.push(batch);
  });
  const gaps = [...streams.values()].flat().flatMap((b) => b.records.filter((r) => r.kind === 'gap' && RETENTION.has(r.reason)));
  // Both lanes share one seq space: a seq that no lane holds is a hole.
  const seqsOf = new Map<string, Set<number>>();
  for (const [id, batches] of streams) {
    const journal = id.slice(0, id.lastIndexOf(' '));
    if (!seqsOf.has(journal)) seqsOf.set(journal, new Set());
    for (const b of batches) for (const r of b.records) seqsOf.get(journal)!.add(r.seq);
  }
  for (const [id, batches] of streams) checkStream(id, batches, gaps as Extract<JournalRecord, { kind: 'gap' }>[], seqsOf.get(id.slice(0, id.lastIndexOf(' ')))!, key, report);
  if (!key && report.signatures.unchecked > 0) report.notes.push(`${report.signatures.unchecked} signatures not checked: pass --key (the box's public key, from coldgate keys show)`);
  return report;
}

/** The batch's records, with what its own structure says about them. */
function readBatch(line: number, doc: BatchDoc, problem: (p: Problem) => void): Batch | undefined {
  const where = `line ${line} (${doc.lane} batch seq ${doc.fromSeq}..${doc.toSeq})`;
  const verbatim = Array.isArray(doc.records) ? doc.records : [];
  for (let i = 1; i < verbatim.length; i++) {
    if (verbatim[i]!.seq < verbatim[i - 1]!.seq) problem({ kind: 'reordered', line, lane: doc.lane, seq: verbatim[i]!.seq, message: `${where}: seq ${verbatim[i]!.seq} comes after seq ${verbatim[i - 1]!.seq}` });
  }
  const held = verbatim.length + (doc.rows ?? []).reduce((n, r) => n + (r.v?.length ?? 0), 0);
  if (held !== doc.count) {
    const kind = held > doc.count ? 'inserted' : 'removed';
    problem({ kind, line, lane: doc.lane, message: `${where}: the batch says ${doc.count} records and holds ${held}: ${Math.abs(held - doc.count)} ${kind}` });
  }
  let records: JournalRecord[];
  try {
    records = recordsOf({ ...doc, count: held });
  } catch (err) {
    problem({ kind: 'unreadable', line, lane: doc.lane, message: `${where}: ${(err as Error).message}` });
    return undefined;
  }
  for (let i = 1; i < records.length; i++) {
    if (records[i]!.seq === records[i - 1]!.seq) problem({ kind: 'inserted', line, lane: doc.lane, seq: records[i]!.seq, message: `${where}: two records with seq ${records[i]!.seq}` });
  }
  for (const r of records) if (laneOf(r) !== doc.lane) problem({ kind: 'inserted', line, lane: doc.lane, seq: r.seq, message: `${where}: seq ${r.seq} is a ${r.kind} record, which never travels on ${doc.lane}` });
  return { line, doc, records };
}

function checkStream(id: string, batches: Batch[], gaps: Extract<JournalRecord, { kind: 'gap' }>[], held: ReadonlySet<number>, key: KeyObject | undefined, report: VerifyReport): void {
  const problem = (p: Problem) => report.problems.push(p);
  const [, incarnation, lane] = id.split(' ') as [string, string, Lane];
  /** Per seq the hash after it; undefined inside a batch that did not hash to its head (reported once). */
  const known = new Map<number, { hash?: string; canonical?: string; line: number }>();
  const chained = batches.filter((b) => b.doc.prev !== undefined && b.doc.head !== undefined);
  if (chained.length < batches.length) report.notes.push(`${id}: ${batches.length - chained.length} batches carry no chain (records from before the chain): not checked`);
  for (const b of chained) {
    const hashes = hashesOf(b.doc.prev!, b.records);
    if (hashes.at(-1) === b.doc.head) {
      b.hashes = hashes;
      b.records.forEach((r, i) => {
        const canonical = canonicalRecord(r);
        const seen = known.get(r.seq);
        if (seen && seen.canonical !== canonical) problem({ kind: 'conflict', line: b.line, lane, seq: r.seq, message: `${lane} seq ${r.seq}: line ${b.line} and line ${seen.line} hold different records under one seq (each batch hashes to its own head: check the signatures)` });
        known.set(r.seq, { hash: hashes[i]!, canonical, line: b.line });
      });
    } else {
      problem(diagnose(b, lane, held));
      // Its claimed head still carries the chain on: the next batch is judged against it.
      for (const r of b.records) if (!known.has(r.seq)) known.set(r.seq, { line: b.line });
      known.set(b.doc.toSeq, { hash: b.doc.head, line: b.line });
    }
  }
  // Continuity: each batch's prev is the hash after the lane's record before it.
  const seqs = [...known.keys()].sort((a, b) => a - b);
  const before = (seq: number) => {
    let lo = 0;
    let hi = seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? seqs[lo - 1] : undefined;
  };
  const start = genesis(incarnation, lane);
  const sorted = chained.slice().sort((a, b) => a.doc.fromSeq - b.doc.fromSeq);
  sorted.forEach((b, i) => {
    const pred = before(b.doc.fromSeq);
    if (pred === undefined) {
      if (b.doc.prev !== start && i === 0) report.notes.push(`${id}: the capture starts inside the chain, at seq ${b.doc.fromSeq}`);
      if (b.doc.prev === start || i === 0) return;
    }
    const expected = pred === undefined ? start : known.get(pred)!.hash;
    if (expected === undefined || b.doc.prev === expected) return;
    const retention = pred !== undefined && gaps.some((g) => g.fromSeq <= b.doc.fromSeq - 1 && g.toSeq >= pred + 1);
    if (retention) return void report.notes.push(`${id}: the chain resumes at seq ${b.doc.fromSeq} after records retention dropped (a gap record says so)`);
    problem({ kind: 'break', line: b.line, lane, seq: b.doc.fromSeq, message: `${lane} seq ${b.doc.fromSeq} (line ${b.line}): break in the chain after seq ${pred ?? 0}: the batch's prev ${b.doc.prev!.slice(0, 16)}... is not the hash after seq ${pred ?? 0} (${expected.slice(0, 16)}...): records between them were removed, or changed and re-chained` });
  });
  // Signatures, and how much of the chain they vouch for.
  let signedThrough = 0;
  for (const b of batches) {
    const sig = b.doc.sig;
    if (!sig) continue;
    if (!key) {
      report.signatures.unchecked++;
      continue;
    }
    const where = `${lane} batch seq ${b.doc.fromSeq}..${b.doc.toSeq} (line ${b.line})`;
    const fingerprint = fingerprintOf(key);
    const wrong = signatureProblem(key, fingerprint, b.doc);
    if (wrong === 'other-key') {
      problem({ kind: 'signature', line: b.line, lane, seq: b.doc.toSeq, message: `${where}: signed by key ${sig.key}, not the given key ${fingerprint}` });
      continue;
    }
    if (wrong === 'invalid') problem({ kind: 'signature', line: b.line, lane, seq: b.doc.toSeq, message: `${where}: wrong signature over head ${b.doc.head?.slice(0, 16)}... at seq ${b.doc.toSeq}` });
    else {
      report.signatures.valid++;
      signedThrough = Math.max(signedThrough, b.doc.toSeq);
    }
  }
  if (key && chained.length > 0) {
    const last = Math.max(...chained.map((b) => b.doc.toSeq));
    if (signedThrough === 0) problem({ kind: 'unsigned', line: chained[0]!.line, lane, message: `${id}: no valid signature: nothing proves these records came from the key's box` });
    else if (signedThrough < last) report.notes.push(`${id}: seq ${signedThrough + 1}..${last} not yet covered by a signature (the next signed batch covers them)`);
  }
}

/** Why a batch's records do not hash to its head: one inserted record, one swapped pair, a hole, or else a change. */
function diagnose(b: Batch, lane: Lane, held: ReadonlySet<number>): Problem {
  const { records, doc, line } = b;
  const prev = doc.prev!;
  const where = `${lane} batch seq ${doc.fromSeq}..${doc.toSeq} (line ${line})`;
  if (records.length <= SEARCH_MAX_RECORDS) {
    const forward = hashesOf(prev, records);
    for (let i = 0; i < records.length; i++) {
      const at = i === 0 ? prev : forward[i - 1]!;
      if (chainEnd(at, records, i + 1) === doc.head) return { kind: 'inserted', line, lane, seq: records[i]!.seq, message: `${lane} seq ${records[i]!.seq} (line ${line}): inserted record: the batch hashes to its head without it` };
      const next = records[i + 1];
      if (next) {
        const swapped = link(link(at, { ...next, seq: records[i]!.seq }), { ...records[i]!, seq: next.seq });
        if (chainEnd(swapped, records, i + 2) === doc.head) return { kind: 'reordered', line, lane, seq: records[i]!.seq, message: `${lane} seq ${records[i]!.seq} and ${next.seq} (line ${line}): reordered pair: each holds the other's record` };
      }
    }
  }
  // A seq inside the batch's range that no lane of the capture holds: a record was taken out.
  for (let s = doc.fromSeq; s <= doc.toSeq; s++) {
    if (!held.has(s)) return { kind: 'removed', line, lane, seq: s, message: `${lane} seq ${s} (line ${line}): removed record: inside ${where} and in no batch of the capture` };
  }
  const why = records.length <= SEARCH_MAX_RECORDS ? 'no single inserted, removed or swapped record explains it' : `too many to search for one inserted or swapped record (over ${SEARCH_MAX_RECORDS})`;
  return { kind: 'changed', line, lane, seq: doc.fromSeq, message: `${where}: changed record: its ${records.length} records do not hash to the batch's head (${why}); the batch is the smallest unit the wire vouches for` };
}
