/**
 * NMEA field syntax. An empty field means "unknown" and becomes undefined, never 0. A field
 * that is present but malformed throws FieldError: the caller drops the whole sentence, so a
 * sentence is used entirely or not at all.
 */
export class FieldError extends Error {
  override name = 'FieldError';
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)$/;

/** "12.5" -> 12.5, "" -> undefined, "1x" -> FieldError. */
export function num(field: string | undefined): number | undefined {
  if (field === undefined || field === '') return undefined;
  if (!NUMBER.test(field)) throw new FieldError(`not a number: ${JSON.stringify(field)}`);
  return Number(field);
}

/** "4916.45","N" -> 49.274166..., "12311.12","W" -> -123.18533...; both empty -> undefined. */
export function coordinate(value: string | undefined, hemi: string | undefined, axis: 'lat' | 'lon'): number | undefined {
  const v = num(value);
  if (v === undefined && (hemi === undefined || hemi === '')) return undefined;
  const [pos, neg, maxDeg] = axis === 'lat' ? ['N', 'S', 90] : ['E', 'W', 180];
  if (v === undefined || (hemi !== pos && hemi !== neg) || v < 0) throw new FieldError(`bad ${axis}: ${value},${hemi}`);
  const deg = Math.trunc(v / 100);
  const min = v - deg * 100;
  const out = deg + min / 60;
  if (min >= 60 || out > maxDeg) throw new FieldError(`bad ${axis}: ${value},${hemi}`);
  return hemi === neg ? -out : out;
}

const TIME = /^(\d{2})(\d{2})(\d{2})(\.\d*)?$/;

/** "152505.50" -> milliseconds since midnight UTC (55505500); "" -> undefined. */
export function timeOfDay(field: string | undefined): number | undefined {
  if (field === undefined || field === '') return undefined;
  const m = TIME.exec(field);
  if (!m) throw new FieldError(`bad time: ${JSON.stringify(field)}`);
  const h = Number(m[1]);
  const min = Number(m[2]);
  const s = Number(m[3]);
  // 60 is a leap second.
  if (h > 23 || min > 59 || s > 60) throw new FieldError(`bad time: ${field}`);
  const frac = m[4] && m[4].length > 1 ? Math.round(Number(m[4]) * 1000) : 0;
  return ((h * 60 + min) * 60 + s) * 1000 + frac;
}

/** A calendar date; `year` may still be two digits (RMC) until resolveYear gives it a century. */
export interface Ymd {
  year: number;
  month: number;
  day: number;
}

/** RMC's "091209" -> { year: 9, month: 12, day: 9 }; "" -> undefined. */
export function ddmmyy(field: string | undefined): Ymd | undefined {
  if (field === undefined || field === '') return undefined;
  if (!/^\d{6}$/.test(field)) throw new FieldError(`bad date: ${JSON.stringify(field)}`);
  return checkYmd({ day: Number(field.slice(0, 2)), month: Number(field.slice(2, 4)), year: Number(field.slice(4, 6)) });
}

/** ZDA's "09","12","2009" -> { year: 2009, month: 12, day: 9 }; all empty -> undefined. */
export function dayMonthYear(d: string | undefined, m: string | undefined, y: string | undefined): Ymd | undefined {
  if (!d && !m && !y) return undefined;
  if (!/^\d{2}$/.test(d ?? '') || !/^\d{2}$/.test(m ?? '') || !/^\d{4}$/.test(y ?? '')) throw new FieldError(`bad date: ${d},${m},${y}`);
  return checkYmd({ day: Number(d), month: Number(m), year: Number(y) });
}

function checkYmd(ymd: Ymd): Ymd {
  if (ymd.month < 1 || ymd.month > 12 || ymd.day < 1 || ymd.day > 31) throw new FieldError(`bad date: ${ymd.day}/${ymd.month}`);
  return ymd;
}

/**
 * A two-digit year, placed in the century that puts it nearest the reference year.
 *   resolveYear(9, 2009) -> 2009;  resolveYear(99, 2026) -> 1999;  resolveYear(5, 2098) -> 2105
 * Four-digit years pass through.
 */
export function resolveYear(year: number, refYear: number): number {
  if (year >= 100) return year;
  const base = refYear - (refYear % 100) + year;
  const candidates = [base - 100, base, base + 100];
  return candidates.reduce((best, y) => (Math.abs(y - refYear) < Math.abs(best - refYear) ? y : best));
}

/** A single character field such as a status or mode indicator: "" -> undefined. */
export function char(field: string | undefined): string | undefined {
  return field === undefined || field === '' ? undefined : field;
}
