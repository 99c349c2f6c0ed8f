import { tripRecords, type TripHeader } from './archive-file.ts';

export const CSV_HEADER = ['gateway', 'trip', 'compartment', 'probe', 'time_utc', 'value_c', 'quality', 'time_source', 'seq', 'bill_of_lading', 'order', 'sscc', 'lots'] as const;

/** RFC 4180: a field with a comma, a quote or a line break is quoted, quotes doubled. */
export function csvField(v: string | number | null | undefined): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const csvRow = (cells: readonly (string | number | null | undefined)[]) => `${cells.map(csvField).join(',')}\r\n`;

/**
 * The trip's temperature readings as CSV, one row per reading (faults too, with an empty
 * value), header first, CRLF line ends: in seq order, then readings whose seq is not known.
 * The shipment's references repeat on every row (SSCCs and lots space-separated), so a row
 * cut out of the sheet, or a sheet sorted with others, still says what it was for.
 */
export async function* tripCsv(file: string, h: TripHeader): AsyncGenerator<string> {
  yield csvRow(CSV_HEADER);
  const s = h.report?.shipment;
  const refs = [s?.billOfLading, s?.order, s?.sscc?.join(' '), s?.lots?.join(' ')];
  for await (const chunk of tripRecords(file)) {
    let out = '';
    for (const r of chunk) if (r.kind === 'temperature') out += csvRow([h.gatewayId, h.tripId, r.compartment, r.probe, r.ts, r.value, r.quality, r.tq, r.seq, ...refs]);
    yield out;
  }
}
