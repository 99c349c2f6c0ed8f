/**
 * `npm run bench -- --only receiver`: the receiver's ingest into PostgreSQL, its batch writer
 * (src/receiver/store.ts writeBatches: one transaction per call, de-duplication against the
 * ledger of received ranges; called once per message as `coldgate receive` does, and with
 * `group` messages per call) against the naive way (one INSERT per reading with ON
 * CONFLICT DO NOTHING on a unique (gateway, incarnation, seq) index, one transaction per
 * batch, as a consumer that acks each MQTT message after its commit), in the same run, on the
 * same batches, into one real PostgreSQL server (test/helpers/postgres.ts, fsync on).
 *
 * The batches are real: each gateway's readings go through the real Journal and come out as
 * the uplink sends them (readChained, encodeBatch), decoded with decodeBatch before the clock
 * starts, so the figure is the database write alone. One batch in 20 arrives twice (a
 * redelivery after a lost PUBACK), so both sides also pay for their de-duplication.
 */
import path from 'node:path';
import pg from 'pg';
import { JournalConfig } from '../../src/config/schema-journal.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Journal } from '../../src/journal/journal.ts';
import { migrate } from '../../src/receiver/migrate.ts';
import { writeBatches } from '../../src/receiver/store.ts';
import { decodeBatch, type DecodedBatch } from '../../src/uplink/decode.ts';
import { encodeBatch } from '../../src/uplink/wire/batch.ts';
import { startPg } from '../../test/helpers/postgres.ts';
import { PROBES, readingSource } from './common.ts';

export interface ReceiverBenchOptions {
  /** Readings per gateway; the total is this times `gateways`. */
  readingsPerGateway: number;
  gateways: number;
  /** Records per batch: a 5 s batch of 16 probes at 1 Hz is 80. */
  batchRecords: number;
  /** Batches per writeBatches call in the grouped run (`coldgate receive` writes one per call). */
  group: number;
  /** The naive way is slow: it gets the first this many batches, and rates are compared. */
  naiveBatches: number;
  workDir: string;
}

export interface ReceiverBenchResult {
  readings: number;
  batches: number;
  redelivered_batches: number;
  ours_readings_per_s: number;
  ours_grouped_readings_per_s: number;
  naive_readings_per_s: number;
  ours_db_bytes_per_reading: number;
  naive_db_bytes_per_reading: number;
  naive_readings: number;
  note: string;
}

const NAIVE_SCHEMA = `
CREATE TABLE naive_readings (
  gateway_id text NOT NULL, incarnation text NOT NULL, seq bigint NOT NULL,
  ts timestamptz NOT NULL, tq text NOT NULL, probe text NOT NULL, compartment text,
  value double precision, quality text NOT NULL, error text, received_at timestamptz NOT NULL DEFAULT now());
CREATE UNIQUE INDEX naive_readings_key ON naive_readings (gateway_id, incarnation, seq);
CREATE INDEX naive_readings_gateway_ts ON naive_readings (gateway_id, ts);`;

const NAIVE_INSERT = `INSERT INTO naive_readings (gateway_id, incarnation, seq, ts, tq, probe, compartment, value, quality, error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (gateway_id, incarnation, seq) DO NOTHING`;

/** Writes `batches` with writeBatches, `group` at a time; returns the seconds it took and checks that every reading landed once. */
async function oursWrite(pool: pg.Pool, batches: DecodedBatch[], group: number, readings: number): Promise<number> {
  await migrate(pool);
  const t0 = performance.now();
  for (let i = 0; i < batches.length; i += group) await writeBatches(pool, batches.slice(i, i + group));
  const seconds = (performance.now() - t0) / 1000;
  const rows = await rowsOf(pool, 'readings');
  if (rows !== readings) throw new Error(`receiver bench: ours stored ${rows} readings of ${readings} (de-duplication or loss): fix src/receiver/store.ts before measuring it`);
  return seconds;
}

/** The tables ours writes for readings: the rows, the ledger and the per-journal counters. */
const OURS_TABLES = ['readings', 'received_ranges', 'incarnations', 'gateways', 'chain_batches'];

/** Each gateway's readings as the uplink publishes them, decoded; every 20th batch twice. */
async function makeBatches(opts: ReceiverBenchOptions): Promise<{ batches: DecodedBatch[]; readings: number; redelivered: number }> {
  const perGateway: DecodedBatch[][] = [];
  let readings = 0;
  const next = readingSource();
  for (let g = 1; g <= opts.gateways; g++) {
    const journal = await Journal.open(path.join(opts.workDir, `journal-${g}`), JournalConfig.parse({ fsync: false }), silentLogger);
    const drafts = next(opts.readingsPerGateway);
    for (let i = 0; i < drafts.length; i += PROBES) void journal.appendMany(drafts.slice(i, i + PROBES));
    await journal.flush();
    const source = { gatewayId: `bench-${g}`, incarnation: journal.stats().incarnation };
    const out: DecodedBatch[] = [];
    perGateway.push(out);
    for (let after = 0; ; ) {
      const { records, prev, head } = await journal.readChained('telemetry', after, opts.batchRecords);
      if (records.length === 0) break;
      out.push(decodeBatch(encodeBatch(source, 'telemetry', records, 'deflate', { prev, head })));
      readings += records.length;
      after = records[records.length - 1]!.seq;
    }
    await journal.close();
  }
  // Interleave the gateways, as a share group sees them, and redeliver one batch in 20.
  const interleaved: DecodedBatch[] = [];
  for (let i = 0; perGateway.some((list) => i < list.length); i++) for (const list of perGateway) if (list[i]) interleaved.push(list[i]!);
  const batches: DecodedBatch[] = [];
  let redelivered = 0;
  interleaved.forEach((b, i) => {
    batches.push(b);
    if (i % 20 === 19) {
      batches.push(interleaved[i - 10]!);
      redelivered++;
    }
  });
  return { batches, readings, redelivered };
}

const bytesOf = async (pool: pg.Pool, tables: string[]) => Number((await pool.query<{ n: string }>(`SELECT sum(pg_total_relation_size(t::regclass)) AS n FROM unnest($1::text[]) AS t`, [tables])).rows[0]!.n);
const rowsOf = async (pool: pg.Pool, table: string) => Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);

async function naiveWrite(pool: pg.Pool, batches: DecodedBatch[]): Promise<void> {
  const client = await pool.connect();
  try {
    for (const b of batches) {
      await client.query('BEGIN');
      for (const r of b.records) {
        if (r.kind !== 'temperature') continue;
        await client.query(NAIVE_INSERT, [b.gatewayId, b.incarnation, r.seq, r.ts, r.tq, r.probe, r.compartment ?? null, r.value, r.quality, r.error ?? null]);
      }
      await client.query('COMMIT');
    }
  } finally {
    client.release();
  }
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export async function receiverBench(opts: ReceiverBenchOptions): Promise<ReceiverBenchResult> {
  const { batches, readings, redelivered } = await makeBatches(opts);
  const cluster = await startPg();
  const ours = new pg.Pool({ connectionString: cluster.url, max: 2 });
  const grouped = new pg.Pool({ connectionString: await cluster.database('grouped'), max: 2 });
  const naive = new pg.Pool({ connectionString: await cluster.database('naive'), max: 2 });
  try {
    const oursSeconds = await oursWrite(ours, batches, 1, readings);
    const groupedSeconds = await oursWrite(grouped, batches, opts.group, readings);

    await naive.query(NAIVE_SCHEMA);
    const naiveSet = batches.slice(0, opts.naiveBatches);
    const t0 = performance.now();
    await naiveWrite(naive, naiveSet);
    const naiveSeconds = (performance.now() - t0) / 1000;
    const naiveRows = await rowsOf(naive, 'naive_readings');
    const naiveOffered = naiveSet.reduce((n, b) => n + b.records.length, 0);

    // Rates count the readings offered (redeliveries included): both sides did that work.
    const offered = batches.reduce((n, b) => n + b.records.length, 0);
    await ours.query('VACUUM ANALYZE');
    await naive.query('VACUUM ANALYZE');
    return {
      readings,
      batches: batches.length,
      redelivered_batches: redelivered,
      ours_readings_per_s: Math.round(offered / oursSeconds),
      ours_grouped_readings_per_s: Math.round(offered / groupedSeconds),
      naive_readings_per_s: Math.round(naiveOffered / naiveSeconds),
      ours_db_bytes_per_reading: round((await bytesOf(ours, OURS_TABLES)) / readings),
      naive_db_bytes_per_reading: round((await bytesOf(naive, ['naive_readings'])) / naiveRows),
      naive_readings: naiveRows,
      note: `${opts.gateways} gateways, ${opts.batchRecords} readings a batch, ours one transaction a batch (as coldgate receive) and ${opts.group} a transaction (grouped), naive one transaction a batch; one batch in 20 redelivered; bytes: pg_total_relation_size (heap, indexes, TOAST) after VACUUM / rows stored`,
    };
  } finally {
    await ours.end();
    await grouped.end();
    await naive.end();
    await cluster.stop();
  }
}
