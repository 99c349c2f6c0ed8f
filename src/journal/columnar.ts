import type { JournalRecord, TemperatureDraft, TimeQuality } from '../core/types.ts';
import { decimalsOf, isCompactable, isoFormatter, POW10, stampParser, type Compactable } from '../core/readings.ts';

/**
 * Columnar form of a list of records, as the journal stores them (the wire has its own codec,
 * uplink/wire/), so a reading costs a few bytes instead of a hundred. Good temperature readings become one series
 * per (probe, compartment, tq) with delta-coded seq, timestamp and value columns; everything
 * else (events, gaps, positions, faults, odd values) stays a verbatim record. Decoding gives
 * back exactly the records that went in (same fields and values; -0 becomes 0 as in JSON), in seq order.
 *
 * Worked example, readings of probe p1 (compartment front, tq system) at seq 11, 13, 14:
 *   {ts 2024-01-01T00:00:00.000Z, value 4.2}, {ts ...00:01.000Z, 4.3}, {ts ...00:02.000Z, 4.2}
 * becomes
 *   {probe:'p1', compartment:'front', tq:'system', scale:1,
 *    seq:[11, 2, 1], ts:[1704067200000, 1000, 1000], v:[42, 1, -1]}
 * (first entry absolute, then differences; values in units of 10^-scale degrees).
 */
export interface TemperatureSeries {
  probe: string;
  compartment?: string;
  tq: TimeQuality;
  /** Values are integers in units of 10^-scale degrees Celsius (0 to 3). */
  scale: number;
  seq: number[];
  ts: number[];
  v: number[];
}

export interface Columnar {
  temperatures: TemperatureSeries[];
  /** Records that are not compact good temperature readings, verbatim. */
  records: JournalRecord[];
}

interface Building {
  series: TemperatureSeries;
  values: number[];
  lastSeq: number;
  lastTs: number;
}

/** Records (in seq order) to columns. */
export function toColumnar(records: readonly JournalRecord[]): Columnar {
  // Keyed by probe, then a short scan on compartment and tq: no key string built per reading.
  const byProbe = new Map<string, Building[]>();
  const all: Building[] = [];
  const verbatim: JournalRecord[] = [];
  const msOf = stampParser();
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
    let list = byProbe.get(t.probe);
    if (!list) byProbe.set(t.probe, (list = []));
    let b: Building | undefined;
    for (let j = 0; j < list.length; j++) if (list[j]!.series.compartment === t.compartment && list[j]!.series.tq === t.tq) b = list[j];
    if (!b) {
      const series: TemperatureSeries = { probe: t.probe, tq: t.tq, scale: 0, seq: [], ts: [], v: [] };
      if (t.compartment !== undefined) series.compartment = t.compartment;
      b = { series, values: [], lastSeq: 0, lastTs: 0 };
      list.push(b);
      all.push(b);
    }
    const s = b.series;
    s.seq.push(t.seq - b.lastSeq);
    s.ts.push(ms - b.lastTs);
    b.lastSeq = t.seq;
    b.lastTs = ms;
    b.values.push(t.value);
    if (d > s.scale) s.scale = d;
  }
  const temperatures: TemperatureSeries[] = [];
  for (let k = 0; k < all.length; k++) {
    const { series, values } = all[k]!;
    // The scale is known only once the series is complete: values are scaled and delta-coded now.
    const f = POW10[series.scale]!;
    let last = 0;
    for (let i = 0; i < values.length; i++) {
      const n = Math.round(values[i]! * f);
      series.v.push(n - last);
      last = n;
    }
    temperatures.push(series);
  }
  return { temperatures, records: verbatim };
}

/** Columns back to records, in seq order. */
export function fromColumnar(c: Columnar): JournalRecord[] {
  const out: JournalRecord[] = c.records.slice();
  const iso = isoFormatter();
  for (const s of c.temperatures) {
    const f = POW10[s.scale]!;
    let seq = 0;
    let ts = 0;
    let v = 0;
    for (let i = 0; i < s.seq.length; i++) {
      seq += s.seq[i]!;
      ts += s.ts[i]!;
      v += s.v[i]!;
      const r: TemperatureDraft & { seq: number } = { kind: 'temperature', ts: iso(ts), tq: s.tq, probe: s.probe, value: v / f, quality: 'good', seq };
      if (s.compartment !== undefined) r.compartment = s.compartment;
      out.push(r);
    }
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** Every seq in the columns, ascending, without building records (for counting acks). */
export function seqsOf(c: Columnar): number[] {
  const out = c.records.map((r) => r.seq);
  for (const s of c.temperatures) {
    let seq = 0;
    for (const d of s.seq) out.push((seq += d));
  }
  return out.sort((a, b) => a - b);
}
