import type pg from 'pg';

/** RFC 4180: quoted when it holds a comma, quote or line break. */
function field(v: unknown): string {
  const s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const EXPORT_COLUMNS = ['gateway_id', 'ts', 'probe', 'compartment', 'value', 'quality', 'error', 'time_quality', 'incarnation', 'seq'] as const;

/**
 * One gateway's readings with from <= ts < to, from the stable view coldgate_readings, in
 * time order, as CSV lines written to `write` page by page (a month of a van is millions of rows).
 */
export async function exportReadingsCsv(pool: pg.Pool, gatewayId: string, from: Date, to: Date, write: (chunk: string) => void): Promise<number> {
  write(`${EXPORT_COLUMNS.join(',')}\r\n`);
  const PAGE = 10_000;
  let n = 0;
  let after: { ts: Date; incarnation: string; seq: string } | undefined;
  for (;;) {
    const res = await pool.query<Record<(typeof EXPORT_COLUMNS)[number], unknown> & { ts: Date; incarnation: string; seq: string }>(
      `SELECT ${EXPORT_COLUMNS.join(', ')} FROM coldgate_readings
       WHERE gateway_id = $1 AND ts >= $2 AND ts < $3 ${after ? 'AND (ts, incarnation, seq) > ($4, $5, $6)' : ''}
       ORDER BY ts, incarnation, seq LIMIT ${PAGE}`,
      after ? [gatewayId, from, to, after.ts, after.incarnation, after.seq] : [gatewayId, from, to],
    );
    for (const row of res.rows) write(`${EXPORT_COLUMNS.map((c) => field(row[c])).join(',')}\r\n`);
    n += res.rows.length;
    if (res.rows.length < PAGE) return n;
    const last = res.rows[res.rows.length - 1]!;
    after = { ts: last.ts, incarnation: last.incarnation, seq: last.seq };
  }
}
