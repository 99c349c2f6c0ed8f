import type { JournalRecord, TemperatureDraft } from './types.ts';

/**
 * What the journal's storage codec (journal/columnar.ts) and the wire codec (uplink/wire/)
 * share about a reading: whether it can travel as integers (a good temperature with only the
 * standard fields, a canonical stamp, at most 3 decimals), and fast exact stamp conversion.
 */
const MAX_SCALE = 3;
/** 10^scale for the scales 0..3 that compact values use. */
export const POW10 = [1, 10, 100, 1000];
/** The fields of a compact reading (isCompactable): compartment is the only optional one. */
const TEMPERATURE_KEYS = ['kind', 'ts', 'tq', 'probe', 'compartment', 'value', 'quality', 'seq'] as const;

/** Fewest decimals (0..3) that give `v` back exactly, or -1: 4 -> 0, 4.25 -> 2, 1/3 -> -1. */
export function decimalsOf(v: number): number {
  for (let d = 0; d <= MAX_SCALE; d++) if (Math.round(v * POW10[d]!) / POW10[d]! === v) return d;
  return -1;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const digits = (ts: string, at: number, n: number): number => {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const c = ts.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
};

/** Epoch ms of the date part 'YYYY-MM-DDT' of a canonical stamp (checked), else NaN. */
function dayMs(ts: string): number {
  if (ts[4] !== '-' || ts[7] !== '-' || ts[10] !== 'T') return NaN;
  const y = digits(ts, 0, 4);
  const mo = digits(ts, 5, 2);
  const d = digits(ts, 8, 2);
  // NaN fails every comparison, so a non-digit anywhere lands in the NaN branch. Date.UTC
  // reads years 0-99 as 1900-1999: such stamps stay verbatim.
  if (!(mo >= 1 && mo <= 12 && d >= 1 && y >= 100)) return NaN;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > DAYS[mo - 1]! + (leap ? 1 : 0)) return NaN;
  return Date.UTC(y, mo - 1, d);
}

/** Ms into the day of the time part 'hh:mm:ss.sssZ' of a 24-character stamp (checked), else NaN. */
function timeOfDayMs(ts: string): number {
  if (ts.length !== 24 || ts[13] !== ':' || ts[16] !== ':' || ts[19] !== '.' || ts[23] !== 'Z') return NaN;
  const h = digits(ts, 11, 2);
  const mi = digits(ts, 14, 2);
  const s = digits(ts, 17, 2);
  const ms = digits(ts, 20, 3);
  if (!(h < 24 && mi < 60 && s < 60 && ms >= 0)) return NaN;
  return ((h * 60 + mi) * 60 + s) * 1000 + ms;
}

/**
 * A parser for epoch ms of canonical `toISOString()` timestamps, else NaN (such a record stays
 * verbatim). Parsed by hand: Date.parse plus a toISOString round trip cost more than the rest
 * of the encoding; and the date part is checked once per day seen, since the readings of one
 * commit share a day or two. '2024-02-29T23:59:59.999Z' -> 1709251199999;
 * '2023-02-29T00:00:00.000Z' -> NaN.
 */
export function stampParser(): (ts: string) => number {
  let day: string | undefined;
  let dayStart = NaN;
  // The readings of one poll share a stamp: it is parsed once.
  let last: string | undefined;
  let lastMs = NaN;
  return (ts) => {
    if (ts === last) return lastMs;
    const t = timeOfDayMs(ts);
    if (Number.isNaN(t)) return NaN;
    if (day === undefined || !ts.startsWith(day)) {
      day = ts.slice(0, 11);
      dayStart = dayMs(ts);
    }
    last = ts;
    return (lastMs = dayStart + t);
  };
}

export type Compactable = TemperatureDraft & { seq: number; value: number };

export function isCompactable(r: JournalRecord): r is Compactable {
  if (r.kind !== 'temperature' || r.quality !== 'good' || typeof r.value !== 'number') return false;
  if (typeof r.ts !== 'string' || typeof r.tq !== 'string' || typeof r.probe !== 'string' || typeof r.seq !== 'number') return false;
  const c = r.compartment;
  if (c !== undefined && typeof c !== 'string') return false;
  // Any other field (error, or one a driver added) would be lost in columns: keep such records
  // whole. The seven fields above are there, so a record with no others has exactly
  // TEMPERATURE_KEYS, or all but compartment (a key count is one builtin call; a key-by-key
  // look-up ran for every reading, unoptimised, at steady state).
  return Object.keys(r).length === ('compartment' in r ? TEMPERATURE_KEYS.length : TEMPERATURE_KEYS.length - 1);
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);
const pad3 = (n: number) => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`);

/**
 * `new Date(ms).toISOString()` with the date part cached per UTC day: decoding a backlog
 * formats a million stamps and toISOString is most of that. 1704067261005 -> '2024-01-01T00:01:01.005Z'.
 */
export function isoFormatter(): (ms: number) => string {
  let dayStart = NaN;
  let prefix = '';
  return (ms) => {
    const inDay = ms - dayStart;
    if (!(inDay >= 0 && inDay < 86_400_000)) {
      const iso = new Date(ms).toISOString();
      dayStart = ms - (ms % 86_400_000 + 86_400_000) % 86_400_000;
      prefix = iso.slice(0, 11);
      return iso;
    }
    const h = Math.floor(inDay / 3_600_000);
    const m = Math.floor(inDay / 60_000) % 60;
    const sec = Math.floor(inDay / 1000) % 60;
    return `${prefix}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${pad3(inDay % 1000)}Z`;
  };
}

