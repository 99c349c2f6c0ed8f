import { once } from 'node:events';
import { createWriteStream, existsSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ArchiveConfig } from '../config/schema-archive.ts';
import { silentLogger } from '../core/log.ts';
import { archiveDir, checkTripId, TripArchive, tripSummary, type ArchiveEntry } from '../trips/archive.ts';
import { TripFileError } from '../trips/archive-file.ts';
import { tripBundle } from '../trips/bundle.ts';
import { tripCsv } from '../trips/csv.ts';
import { DEFAULT_INTERVAL_MS, tripEpcis } from '../trips/epcis.ts';
import { describeShipment } from '../trips/shipment.ts';
import { renderTripReportHtml } from '../trips/report-html.ts';
import { loadConfigArg } from './config-arg.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';

const WHERE = { data: { type: 'string' }, config: { type: 'string' } } as const;

/**
 * The archive the command reads: `--config FILE` (its archive.dir or {dataDir}/trips), or
 * `--data DIR` (a gateway's dataDir: DIR/trips). Files are read directly, so this works while
 * the gateway runs. Undefined (after saying why) when there is none.
 */
function openArchive(command: string, values: { data?: string; config?: string }, io: CommandIo): TripArchive | undefined {
  let dir: string;
  const dataDir = values.data ?? (values.config ? undefined : process.env.COLDGATE_DATA_DIR);
  if (dataDir !== undefined) dir = archiveDir({ dataDir: path.resolve(dataDir), archive: ArchiveConfig.parse({}) });
  else if (values.config === undefined && process.env.COLDGATE_CONFIG === undefined) {
    io.stderr.write(`${command}: pass --config FILE (the gateway's config) or --data DIR (its dataDir)\n`);
    return undefined;
  } else {
    const loaded = loadConfigArg(command, values.config, io);
    if (!loaded) return undefined;
    dir = archiveDir(loaded.config);
  }
  if (!existsSync(dir)) {
    io.stderr.write(`${command}: no trip archive in ${dir}: check --data (the gateway's dataDir) or --config; the folder appears when the gateway first starts\n`);
    return undefined;
  }
  // Pruning is the gateway's: the limits here are never used.
  return new TripArchive(dir, ArchiveConfig.parse({}), silentLogger);
}

async function entryOf(command: string, archive: TripArchive, id: string | undefined, io: CommandIo): Promise<ArchiveEntry | number> {
  const problem = id === undefined ? 'pass the trip id (coldgate trips list shows them)' : checkTripId(id);
  if (problem) {
    io.stderr.write(`${command}: ${problem}\n`);
    return EXIT_USAGE;
  }
  const entry = await archive.get(id!);
  if (!entry) {
    io.stderr.write(`${command}: no trip ${id} in ${archive.dir} (coldgate trips list shows what is archived)\n`);
    return EXIT_FAILURE;
  }
  return entry;
}

/** `coldgate trips list [--json] [--since DATE] [--data DIR | --config FILE]`, newest first. */
export async function tripsListCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...WHERE, json: { type: 'boolean' }, since: { type: 'string' } }, strict: true });
  const since = values.since === undefined ? undefined : Date.parse(values.since);
  if (since !== undefined && Number.isNaN(since)) {
    io.stderr.write(`trips list: --since ${JSON.stringify(values.since)} is not a date: use e.g. 2026-03-01 or 2026-03-01T06:00:00Z\n`);
    return EXIT_USAGE;
  }
  const archive = openArchive('trips list', values, io);
  if (!archive) return EXIT_USAGE;
  const trips = (await archive.list())
    .filter((e) => since === undefined || Date.parse(e.header.endedAt) >= since)
    .map(tripSummary)
    .reverse();
  if (values.json) {
    io.stdout.write(`${JSON.stringify(trips)}\n`);
    return EXIT_OK;
  }
  if (trips.length === 0) io.stdout.write(`no trips archived in ${archive.dir}${values.since ? ` since ${values.since}` : ''}\n`);
  for (const t of trips) {
    const verdict = t.clean === null ? 'no report' : t.clean ? 'in range' : 'OUT OF RANGE';
    io.stdout.write(`${t.tripId}  ${t.startedAt} .. ${t.endedAt}  ${t.durationMin ?? '-'} min  ${verdict}  ${t.readings} readings  ${t.bytes} bytes${t.incomplete ? '  INCOMPLETE' : ''}\n`);
  }
  return EXIT_OK;
}

/** `coldgate trips show ID [--json]`: the report, probes, episodes and time quality. */
export async function tripsShowCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...WHERE, json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  const archive = openArchive('trips show', values, io);
  if (!archive) return EXIT_USAGE;
  const entry = await entryOf('trips show', archive, positionals[0], io);
  if (typeof entry === 'number') return entry;
  const h = entry.header;
  if (values.json) {
    io.stdout.write(`${JSON.stringify(h)}\n`);
    return EXIT_OK;
  }
  const r = h.report;
  const out: string[] = [`trip ${h.tripId} of ${h.gatewayId}: ${h.startedAt} .. ${h.endedAt}${r ? ` (${r.durationMin} min), started by ${r.startedBy}, ended by ${r.endedBy}` : ''}`];
  out.push(r ? (r.clean ? 'cargo in range throughout' : 'cargo OUT OF RANGE during this trip') : 'no report: the end of this trip was not recorded');
  if (r?.shipment) out.push(`  shipment: ${describeShipment(r.shipment)}`);
  for (const c of r?.compartments ?? [])
    out.push(`  ${c.name}: ${c.samples} samples, min ${c.min ?? '-'} max ${c.max ?? '-'} mean ${c.mean ?? '-'} MKT ${c.mkt ?? '-'} C, ${c.outOfRangeMin} min out of range${c.budgetMin === undefined ? '' : `, budget ${c.excursionMin}/${c.budgetMin} min${c.budgetSpent ? ' SPENT' : ''}`}`);
  for (const a of r?.alarms ?? []) out.push(`  alarm ${a.severity} ${a.message}: raised ${a.raisedAt}${a.ackedBy ? `, acknowledged by ${a.ackedBy} ${a.ackedAt}` : ''}${a.clearedAt ? `, cleared ${a.clearedAt}` : ', open'}`);
  for (const e of r?.entries ?? []) out.push(`  gate ${e.siteName} ${e.at}: ${e.refuse ? `REFUSED (${e.reasons.join('; ')})` : 'admitted'}`);
  for (const e of h.episodes) out.push(`  input ${e.input} (${e.uses.map((u) => `${u.compartment} ${u.cause}`).join(', ') || 'unused'}) on ${e.from} .. ${e.to ?? 'end'}`);
  for (const p of r?.calibration ?? []) if (p.calibration) out.push(`  calibration ${p.probe}: ${p.calibration.calibratedAt} (${p.ageDays} days before the end), +/- ${p.calibration.accuracyC} C${p.calibration.certificate ? `, certificate ${p.calibration.certificate}` : ''}${p.calibration.serial ? `, serial ${p.calibration.serial}` : ''}${p.warning ? `  WARNING: ${p.warning}` : ''}`);
  out.push(`  probes: ${h.probes.map((p) => `${p.id}${p.compartment ? ` (${p.compartment})` : ''}`).join(', ')}`);
  const tq = h.timeQuality.readings;
  out.push(`  ${h.counts.readings} readings (${h.counts.good} good), ${h.counts.positions} positions; time from system ${tq.system}, gps ${tq.gps}, unsynced ${tq.unsynced}; clock synchronised at the end: ${h.timeQuality.synchronisedAtEnd ? 'yes' : 'no'}`);
  for (const i of h.incomplete ?? []) out.push(`  INCOMPLETE: ${i}`);
  io.stdout.write(`${out.join('\n')}\n`);
  return EXIT_OK;
}

/** `--interval MIN` of the epcis export: whole minutes 1..1440, or undefined after saying why. */
function intervalMs(value: string | undefined, io: CommandIo): number | undefined {
  if (value === undefined) return DEFAULT_INTERVAL_MS;
  const min = Number(value);
  if (Number.isInteger(min) && min >= 1 && min <= 1440) return min * 60_000;
  io.stderr.write(`trips export: --interval ${JSON.stringify(value)} is not a recording interval: give whole minutes 1..1440 (default 5, EN 12830)\n`);
  return undefined;
}

/** What each `--format` writes, as chunks of text (a long trip's csv or bundle is never whole in memory). */
const EXPORTS: Record<string, (e: ArchiveEntry, o: { intervalMs: number }) => AsyncIterable<string>> = {
  csv: (e) => tripCsv(e.file, e.header),
  epcis: (e, o) => epcisOf(e, o.intervalMs),
  html: (e) => htmlOf(e),
  bundle: (e) => tripBundle(e.file, e.header, new Date().toISOString()),
};

async function* htmlOf(e: ArchiveEntry): AsyncGenerator<string> {
  if (!e.header.report) throw new TripFileError(`${e.file}: this trip has no report (its end was not recorded): export csv or bundle instead`);
  yield renderTripReportHtml(e.header.report, e.header.chain);
}

/** The EPCIS document: one summary per interval and compartment, so it is small enough to build whole. */
async function* epcisOf(e: ArchiveEntry, intervalMs: number): AsyncGenerator<string> {
  yield `${JSON.stringify(await tripEpcis(e.file, e.header, { intervalMs, nowMs: Date.now() }), null, 1)}\n`;
}

/** `coldgate trips export ID --format csv|epcis|html|bundle [--interval MIN] [--out FILE]`. */
export async function tripsExportCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...WHERE, format: { type: 'string' }, out: { type: 'string' }, interval: { type: 'string' } }, strict: true, allowPositionals: true });
  const make = values.format === undefined ? undefined : EXPORTS[values.format];
  if (!make) {
    io.stderr.write(`trips export: --format ${values.format ?? '(missing)'} is not known: use --format ${Object.keys(EXPORTS).join('|')}\n`);
    return EXIT_USAGE;
  }
  const interval = intervalMs(values.interval, io);
  if (interval === undefined) return EXIT_USAGE;
  const archive = openArchive('trips export', values, io);
  if (!archive) return EXIT_USAGE;
  const entry = await entryOf('trips export', archive, positionals[0], io);
  if (typeof entry === 'number') return entry;
  // The first chunk before any output: a trip that cannot be exported this way leaves no file behind.
  const chunks = make(entry, { intervalMs: interval })[Symbol.asyncIterator]();
  let first: IteratorResult<string>;
  try {
    first = await chunks.next();
  } catch (err) {
    if (!(err instanceof TripFileError)) throw err;
    io.stderr.write(`trips export: ${err.message}\n`);
    return EXIT_FAILURE;
  }
  async function* all() {
    if (!first.done) yield first.value;
    for (let c = await chunks.next(); !c.done; c = await chunks.next()) yield c.value;
  }
  if (values.out === undefined) {
    // A year-long trip is many MB: wait for a slow pipe instead of holding it all in memory.
    for await (const chunk of all()) if (!io.stdout.write(chunk)) await once(io.stdout, 'drain');
    return EXIT_OK;
  }
  await pipeline(Readable.from(all()), createWriteStream(values.out));
  io.stderr.write(`trips export: ${values.format} of ${entry.header.tripId} (${entry.header.counts.readings} readings) written to ${values.out}\n`);
  return EXIT_OK;
}

