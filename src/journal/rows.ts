import type { JournalRecord, TemperatureDraft, TimeQuality } from '../core/types.ts';
import { isCompactable, isoFormatter, stampParser } from '../core/readings.ts';
import type { NameTable } from './names.ts';

/**
 * The body of a row chunk (format 3, chunk.ts): plain JSON, not deflated, for the commits a box
 * makes at steady state (one poll's readings, a few events). A row holds good readings with
 * consecutive seqs: t its first stamp (epoch ms), s its first seq, p indexes into the journal's
 * names (names.ts), v the values as JSON numbers, d each stamp minus t (left out: all 0), tq left
 * out when 'system'. Everything else (faults, positions, events, gaps, odd fields) is in
 * `records` verbatim. Decoding gives back exactly the records that went in (-0 becomes 0, as in
 * JSON), in seq order. 32 probes read in one poll:
 *   {"rows":[{"t":1733011200000,"s":1201,"p":[0,1,2,...,31],"v":[3.1,2.9,...]}],"records":[]}
 * about 230 bytes, where the deflated columnar form (format 2) took 350 and a zlib stream to make.
 */
export interface RowsBody {
  rows: Row[];
  records: JournalRecord[];
}

interface Row {
  t: number;
  s: number;
  tq?: TimeQuality;
  p: number[];
  v: number[];
  d?: number[];
}

/** The body, or undefined when the name table is full (then the chunk is columnar). */
export function toRows(records: readonly JournalRecord[], names: NameTable): RowsBody | undefined {
  const rows: Row[] = [];
  const verbatim: JournalRecord[] = [];
  const msOf = stampParser();
  let row: Row | undefined;
  let lastSeq = -1;
  // Indexed: this runs unoptimised at steady state, where each for-of step allocates.
  for (let k = 0; k < records.length; k++) {
    const r = records[k]!;
    const ms = isCompactable(r) && Number.isFinite(r.value) ? msOf(r.ts) : NaN;
    if (Number.isNaN(ms)) {
      verbatim.push(r);
      continue;
    }
    const t = r as TemperatureDraft & { seq: number; value: number };
    const at = names.indexOf(t.probe, t.compartment);
    if (at < 0) return undefined;
    if (!row || t.seq !== lastSeq + 1 || t.tq !== (row.tq ?? 'system')) {
      row = { t: ms, s: t.seq, p: [], v: [] };
      if (t.tq !== 'system') row.tq = t.tq;
      rows.push(row);
    }
    if (ms !== row.t) row.d ??= new Array<number>(row.p.length).fill(0);
    row.d?.push(ms - row.t);
    row.p.push(at);
    row.v.push(t.value);
    lastSeq = t.seq;
  }
  return { rows, records: verbatim };
}

function checked(body: unknown): RowsBody {
  const b = body as RowsBody;
  if (!b || !Array.isArray(b.rows) || !Array.isArray(b.records)) throw new Error('journal row chunk: no rows or records');
  for (const [i, row] of b.rows.entries()) {
    if (!Array.isArray(row.p) || !Array.isArray(row.v) || row.p.length !== row.v.length || (row.d !== undefined && (!Array.isArray(row.d) || row.d.length !== row.p.length))) {
      throw new Error(`journal row chunk: rows[${i}] has ${row.p?.length} names, ${row.v?.length} values and ${row.d?.length ?? 'no'} offsets`);
    }
  }
  return b;
}

/** A row chunk's body back to its records, in seq order. */
export function fromRows(json: string, names: NameTable): JournalRecord[] {
  const body = checked(JSON.parse(json));
  const out: JournalRecord[] = body.records.slice();
  const iso = isoFormatter();
  for (const row of body.rows) {
    const base = iso(row.t);
    const tq = row.tq ?? 'system';
    for (let i = 0; i < row.p.length; i++) {
      const name = names.entry(row.p[i]!);
      if (!name) throw new Error(`journal row chunk: name ${row.p[i]} is not in the journal's names (${names.size}); the m!names entry is damaged`);
      const record: TemperatureDraft & { seq: number } = { kind: 'temperature', ts: row.d && row.d[i] !== 0 ? iso(row.t + row.d[i]!) : base, tq, probe: name[0], value: row.v[i]!, quality: 'good', seq: row.s + i };
      if (name[1] !== null) record.compartment = name[1];
      out.push(record);
    }
  }
  // Rows come in seq order; verbatim records sit between them.
  return body.records.length > 0 ? out.sort((a, b) => a.seq - b.seq) : out;
}

/** Every seq of a row chunk's body, ascending, without building records. */
export function rowSeqs(json: string): number[] {
  const body = checked(JSON.parse(json));
  const out = body.records.map((r) => r.seq);
  for (const row of body.rows) for (let i = 0; i < row.p.length; i++) out.push(row.s + i);
  return out.sort((a, b) => a - b);
}
