import type { JournalRecord, Lane, TemperatureDraft, TimeQuality } from '../../core/types.ts';
import { decimalsOf, isCompactable, isoFormatter, POW10, stampParser, type Compactable } from '../../core/readings.ts';
import type { BatchSignature } from '../../chain/sign.ts';
import { pack, type Encoding } from './envelope.ts';

export const BATCH_SCHEMA = 'coldgate.batch/4';

/**
 * coldgate.batch/4 (contract: ../contract/batch.schema.json): one MQTT message carrying many
 * records of one lane. Good temperature readings travel as rows: the readings of one poll have
 * consecutive seqs and stamps a few ms apart, so a row is one stamp delta, one seq delta, and
 * per probe a value delta and a stamp offset; each batch names its own probes (no manifest to look up, so a reading can never be
 * put on another probe's account after a config change). Everything else (faults, nulls,
 * positions, events, gaps, odd values) is in `records` verbatim. Decoding gives back exactly
 * the records that went in, in seq order.
 *
 * Worked example: p1 (front) and p2 (rear) read at seq 11, 12 (4.2, -18.5) and seq 14, 15 one
 * second later (4.3, -18.5; p2 read 2 ms after p1), with an alarm event at seq 13 on the other lane:
 *   probes [{probe:'p1', compartment:'front', scale:1}, {probe:'p2', compartment:'rear', scale:1}]
 *   rows   [{t:1704067200000, s:11, p:[0,1], v:[42,-185]}, {t:1000, s:2, v:[1,0], d:[0,2]}]
 * t: the row's first stamp, epoch ms, then the difference to the previous row's; d: each
 * reading's stamp minus the row's (left out: all 0); s: the row's first seq, then its difference
 * to the previous row's last seq; the row's readings have seqs s, s+1, ...; p: indexes into
 * probes (left out: the previous row's); v: value in 10^-scale C of that probe, then the
 * difference to the same probe's previous value; tq left out: the previous row's ('system' for
 * the first).
 */
export interface BatchDoc extends BatchSource, BatchChain {
  schema: typeof BATCH_SCHEMA;
  lane: Lane;
  /** First and last seq and how many records, so a consumer sees gaps without decoding them all. */
  fromSeq: number;
  toSeq: number;
  count: number;
  probes: ProbeEntry[];
  rows: Row[];
  records: JournalRecord[];
}

/**
 * The lane's hash chain around the batch (contract/CHAIN.md): the hash before its first record
 * and after its last, and now and then a signature over the head. Absent for records a journal
 * kept from before the chain.
 */
export interface BatchChain {
  prev?: string;
  head?: string;
  sig?: BatchSignature;
}

/** Who wrote the records: the gateway and its journal's incarnation (journal/incarnation.ts). */
export interface BatchSource {
  gatewayId: string;
  incarnation: string;
}

export interface ProbeEntry {
  probe: string;
  compartment?: string;
  /** Values are integers in units of 10^-scale degrees Celsius (0 to 3). */
  scale: number;
}

export interface Row {
  t: number;
  s: number;
  tq?: TimeQuality;
  p?: number[];
  v: number[];
  d?: number[];
}

interface Building {
  ms: number;
  tq: TimeQuality;
  first: number;
  last: number;
  p: number[];
  values: number[];
  /** Stamp offsets from ms, or undefined while all are 0. */
  d: number[] | undefined;
}

/** Records of one lane (in seq order, at least one) to a batch document. */
export function batchDoc(source: BatchSource, lane: Lane, records: readonly JournalRecord[], chain: BatchChain = {}): BatchDoc {
  const probes: ProbeEntry[] = [];
  // probe id -> entries by compartment: no key string built per reading.
  const index = new Map<string, number[]>();
  const rows: Building[] = [];
  const verbatim: JournalRecord[] = [];
  const msOf = stampParser();
  let row: Building | undefined;
  // Indexed loops: this runs unoptimised at steady state, where each for-of step allocates.
  for (let k = 0; k < records.length; k++) {
    const r = records[k]!;
    const ms = isCompactable(r) ? msOf(r.ts) : NaN;
    const d = Number.isNaN(ms) ? -1 : decimalsOf((r as Compactable).value);
    if (d < 0) {
      verbatim.push(r);
      continue;
    }
    const t = r as Compactable;
    let ids = index.get(t.probe);
    if (!ids) index.set(t.probe, (ids = []));
    let at = -1;
    for (let j = 0; j < ids.length; j++) if (probes[ids[j]!]!.compartment === t.compartment) at = ids[j]!;
    if (at < 0) {
      at = probes.length;
      ids.push(at);
      probes.push(t.compartment === undefined ? { probe: t.probe, scale: d } : { probe: t.probe, compartment: t.compartment, scale: d });
    } else if (d > probes[at]!.scale) probes[at]!.scale = d;
    if (!row || row.tq !== t.tq || row.last + 1 !== t.seq || row.p.includes(at)) {
      row = { ms, tq: t.tq, first: t.seq, last: t.seq, p: [], values: [], d: undefined };
      rows.push(row);
    }
    if (ms !== row.ms) row.d ??= new Array<number>(row.p.length).fill(0);
    row.d?.push(ms - row.ms);
    row.last = t.seq;
    row.p.push(at);
    row.values.push(t.value);
  }
  // Scales are known once every reading is seen: values are scaled and delta-coded now.
  const lastValue = new Array<number>(probes.length).fill(0);
  const out: Row[] = [];
  let prev: Building | undefined;
  for (let k = 0; k < rows.length; k++) {
    const b = rows[k]!;
    const v = new Array<number>(b.values.length);
    for (let i = 0; i < v.length; i++) {
      const at = b.p[i]!;
      const n = Math.round(b.values[i]! * POW10[probes[at]!.scale]!);
      v[i] = n - lastValue[at]!;
      lastValue[at] = n;
    }
    const o: Row = { t: b.ms - (prev?.ms ?? 0), s: b.first - (prev?.last ?? 0), v };
    if (b.tq !== (prev?.tq ?? 'system')) o.tq = b.tq;
    if (!prev || !sameList(prev.p, b.p)) o.p = b.p;
    if (b.d) o.d = b.d;
    out.push(o);
    prev = b;
  }
  return { schema: BATCH_SCHEMA, gatewayId: source.gatewayId, incarnation: source.incarnation, lane, fromSeq: records[0]!.seq, toSeq: records[records.length - 1]!.seq, count: records.length, ...chain, probes, rows: out, records: verbatim };
}

/** The payload of one batch message. */
export function encodeBatch(source: BatchSource, lane: Lane, records: readonly JournalRecord[], encoding: Encoding, chain?: BatchChain): Buffer {
  return pack(JSON.stringify(batchDoc(source, lane, records, chain)), encoding);
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A batch document back to its records, in seq order; throws, naming the field, on a document that does not add up. */
export function recordsOf(doc: BatchDoc): JournalRecord[] {
  const out: JournalRecord[] = doc.records.slice();
  const iso = isoFormatter();
  const lastValue = new Array<number>(doc.probes.length).fill(0);
  let ms = 0;
  let last = 0;
  let tq: TimeQuality = 'system';
  let p: number[] | undefined;
  doc.rows.forEach((row, r) => {
    ms += row.t;
    tq = row.tq ?? tq;
    p = row.p ?? p;
    if (!p || p.length !== row.v.length || (row.d && row.d.length !== p.length)) {
      throw new Error(`batch rows[${r}]: ${p ? `${row.v.length} values and ${row.d?.length ?? 'no'} offsets for ${p.length} probes` : 'no p in the first row'}`);
    }
    const base = iso(ms);
    let seq = last + row.s;
    for (let i = 0; i < p.length; i++, seq++) {
      const entry = doc.probes[p[i]!];
      if (!entry) throw new Error(`batch rows[${r}].p[${i}]: no probe ${p[i]} (the batch names ${doc.probes.length})`);
      const n = (lastValue[p[i]!]! += row.v[i]!);
      const ts = row.d && row.d[i] !== 0 ? iso(ms + row.d[i]!) : base;
      const rec: TemperatureDraft & { seq: number } = { kind: 'temperature', ts, tq, probe: entry.probe, value: n / POW10[entry.scale]!, quality: 'good', seq };
      if (entry.compartment !== undefined) rec.compartment = entry.compartment;
      out.push(rec);
    }
    last = seq - 1;
  });
  if (out.length !== doc.count) throw new Error(`batch count ${doc.count} but it holds ${out.length} records`);
  return out.sort((a, b) => a.seq - b.seq);
}
