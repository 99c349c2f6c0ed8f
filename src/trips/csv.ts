import { tripRecords, type TripHeader } from './archive-file.ts';

export const CSV_HEADER = ['gateway', 'trip', 'compartment', 'probe', 'time_utc', 'value_c', 'quality', 'time_source', 'seq'] as const;

/** RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled. */
export function csvField(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvRow = (cells: readonly (string | number | null | undefined)[]) => `${cells.map(csvField).join(',')}\r\n`;

/**
 * The trip's temperature readings as CSV, one row per reading (faults too, with an empty
 * value), header first, CRLF line ends: in seq order, then readings whose seq is not known.
 */
export async function* tripCsv(file: string, h: TripHeader): AsyncGenerator<string> {
  yield csvRow(CSV_HEADER);
  for await (const chunk of tripRecords(file)) {
    let out = '';
    for (const r of chunk) if (r.kind === 'temperature') out += csvRow([h.gatewayId, h.tripId, r.compartment, r.probe, r.ts, r.value, r.quality, r.tq, r.seq]);
    yield out;
  }
}
