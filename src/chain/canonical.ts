import type { JournalRecord } from '../core/types.ts';

/**
 * The bytes of a record that the chain hashes: its logical fields (core/types.ts, per kind),
 * as JSON with the keys sorted at every level and no whitespace, numbers and strings written
 * as ECMAScript's JSON.stringify writes them (this is RFC 8785, JCS), UTF-8. A field that is
 * absent or undefined is left out. So the box (from its draft), the journal (from its chunk)
 * and a consumer (from a decoded batch) get the same bytes whatever key order they hold.
 *
 *   {"compartment":"front","kind":"temperature","probe":"p1","quality":"good","seq":11,"tq":"system","ts":"2024-01-01T00:00:00.000Z","value":4.2}
 */
const FIELDS: Record<string, readonly string[]> = {
  temperature: ['compartment', 'error', 'kind', 'probe', 'quality', 'seq', 'tq', 'ts', 'value'],
  position: ['altMSL', 'kind', 'lat', 'lon', 'mode', 'seq', 'speed', 'tq', 'track', 'ts'],
  event: ['data', 'kind', 'message', 'seq', 'severity', 'source', 'tq', 'ts', 'type'],
  gap: ['count', 'fromSeq', 'fromTs', 'kind', 'lane', 'reason', 'seq', 'toSeq', 'toTs', 'tq', 'ts'],
};

/**
 * JSON strings of the few names a box repeats in every reading (probes, compartments,
 * qualities, the stamp its poll shares), kept: at steady state this code runs unoptimised, and
 * a JSON.stringify call there costs more than the rest of the record's text. Bounded, so that
 * stamps or odd names cannot make it grow without end.
 */
const QUOTED_MAX = 4096;
const quotedNames = new Map<string, string>();
let lastStamp = '';
let lastStampQuoted = '""';

function quoted(s: string): string {
  let q = quotedNames.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (quotedNames.size < QUOTED_MAX) quotedNames.set(s, q);
  }
  return q;
}

function quotedStamp(ts: string): string {
  if (ts !== lastStamp) {
    lastStampQuoted = JSON.stringify(ts);
    lastStamp = ts;
  }
  return lastStampQuoted;
}

/**
 * Per probe, the text of its reading up to the seq, for the compartment and quality it had
 * last: one look-up and fewer string joins per reading than quoting each name (bounded as above).
 */
interface ReadingHead {
  compartment: string | undefined;
  quality: string;
  text: string;
}
const readingHeads = new Map<string, ReadingHead>();

function readingHead(probe: string, compartment: string | undefined, quality: string): string {
  let head = readingHeads.get(probe);
  if (head === undefined || head.compartment !== compartment || head.quality !== quality) {
    const c = compartment === undefined ? '' : `"compartment":${quoted(compartment)},`;
    head = { compartment, quality, text: `{${c}"kind":"temperature","probe":${quoted(probe)},"quality":${quoted(quality)},"seq":` };
    if (readingHeads.size < QUOTED_MAX || readingHeads.has(probe)) readingHeads.set(probe, head);
  }
  return head.text;
}

export function canonicalRecord(record: JournalRecord): string {
  // The hot path (a million readings a second): a good reading has these fields and no others.
  if (record.kind === 'temperature' && record.error === undefined && typeof record.value === 'number') {
    const v = record.value;
    // A finite number's JSON text is its String(); JSON writes NaN and the infinities as null.
    return `${readingHead(record.probe, record.compartment, record.quality)}${record.seq},"tq":"${record.tq}","ts":${quotedStamp(record.ts)},"value":${v - v === 0 ? v : 'null'}}`;
  }
  const r = record as unknown as Record<string, unknown>;
  // A kind this version does not know is still chained: all of its fields.
  const fields = FIELDS[record.kind] ?? Object.keys(r).sort(byCodeUnits);
  let out = '{';
  for (const field of fields) {
    const value = r[field];
    if (value === undefined) continue;
    if (out.length > 1) out += ',';
    out += `"${field}":${canonicalJson(value)}`;
  }
  return `${out}}`;
}

/** JCS of any JSON value (event `data` is free-form). */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return canonicalJson((value as { toJSON: () => unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJson(v))).join(',')}]`;
  const o = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(o).sort(byCodeUnits)) {
    const v = o[key];
    if (v === undefined || typeof v === 'function') continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** JCS orders keys by UTF-16 code units, which is what `<` on strings does (not localeCompare). */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
