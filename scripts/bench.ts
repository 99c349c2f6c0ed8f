/**
 * `npm run bench [-- --json] [-- --all]`: the store-and-forward benchmark, ours against the
 * naive way (one LevelDB key and one QoS 1 message per reading), in one run. Each phase runs in
 * its own process so that disk bytes (/proc/self/io) and peak RSS (VmHWM) are that phase's
 * alone; the drain goes to a mosquitto started here on loopback, through a relay that counts
 * the bytes on the wire. Phases run on plain node on an esbuild bundle, as the service runs the
 * gateway (dist/coldgate.mjs; the tsx loader alone would hold ~30 MB), with the NODE_OPTIONS of
 * scripts/systemd/coldgate.service. `--all` then runs every scripts/bench-*.ts of other modules too.
 * Then the steady state (bench/steady.ts): 32 and 128 probes at 1 Hz from a pymodbus slave on
 * MQTT 5, and 32 on MQTT 3.1.1, each with the gateway as the service runs it, and after it the
 * same I/O by the bare libraries (bench/floor.ts): the CPU the host charges for the I/O alone.
 * Then the receiver (bench/receiver.ts): its batch writer into PostgreSQL against one INSERT per
 * reading with ON CONFLICT, readings/s and database bytes per reading.
 * Options: --readings N (ours, default 1,000,000), --naive-ingest N (300,000), --naive-drain N (200,000),
 * --steady-seconds N (measured window, 60), --probes 32|128 (only the steady phases of that size), --mqtt 5|3.1.1 (only that protocol's),
 * --only drain|steady|chain|trip-export|receiver (comma-separated for several), --case N (one trip case, scripts/bench/trips.ts).
 * `chain` (scripts/bench/chain.ts): the hash chain's cost per reading, journal ingest with and
 * without it. `trip-export` (scripts/bench/trips.ts): a 24 h trip of 32 probes at 1 Hz (and of 8
 * probes a minute) archived, exported as csv, html and bundle, the bundle verified, each in a
 * process of its own: seconds, peak RSS, archived bytes per reading and per trip-day.
 * `receiver` (scripts/bench/receiver.ts): the receiver's batch writer into PostgreSQL against one
 * INSERT per reading with ON CONFLICT, readings/s and database bytes per reading;
 * --receiver-readings N (400,000; the naive way gets a quarter).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Mosquitto } from '../test/helpers/mosquitto.ts';
import { freePort } from '../test/helpers/net.ts';
import { countingRelay, printResult, PROBES, type PhaseResult } from './bench/common.ts';
import * as naive from './bench/naive.ts';
import * as ours from './bench/ours.ts';
import { receiverBench, type ReceiverBenchResult } from './bench/receiver.ts';
import { steady, type SteadyResult } from './bench/steady.ts';
import { bareLibraries, type FloorResult } from './bench/floor.ts';
import { chainCost } from './bench/chain.ts';
import { archiveTrip, exportTrip, TRIP_CASES, verifyTrip } from './bench/trips.ts';

const SELF = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    json: { type: 'boolean' },
    all: { type: 'boolean' },
    phase: { type: 'string' },
    dir: { type: 'string' },
    url: { type: 'string' },
    readings: { type: 'string', default: '1000000' },
    'naive-ingest': { type: 'string', default: '300000' },
    'naive-drain': { type: 'string', default: '200000' },
    'steady-seconds': { type: 'string', default: '60' },
    only: { type: 'string' },
    probes: { type: 'string' },
    'modbus-port': { type: 'string' },
    mqtt: { type: 'string' },
    case: { type: 'string' },
    format: { type: 'string' },
    'receiver-readings': { type: 'string', default: '400000' },
  },
});
/** Which groups of phases run: all by default. */
const ONLY = new Set(values.only?.split(',') ?? ['drain', 'steady', 'chain', 'trip-export', 'receiver']);

const ROOT = path.resolve(path.dirname(SELF), '..');
/**
 * Inside the project, so that the bundle's package imports resolve to its node_modules; not in
 * node_modules itself, which git worktrees may share (a bench in one would run another's bundle).
 */
const CACHE = path.join(ROOT, 'dist/bench');
const BUNDLE = path.join(CACHE, 'bench.mjs');
/** The gateway as the service runs it (scripts/build.mjs makes the same file as dist/coldgate.mjs). */
const SERVICE = path.join(CACHE, 'coldgate.mjs');

/** This script and the coldgate command as ESM files for plain node; packages stay imports, as installed on a box. */
async function bundle(): Promise<void> {
  // Imported here: the phases (this same file, bundled) do not need it.
  const { build } = await import('esbuild');
  await build({ entryPoints: [SELF], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: BUNDLE, logLevel: 'warning' });
  const service = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), '--outfile', SERVICE], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (service.status !== 0) throw new Error('scripts/build.mjs failed');
}

/** The service's NODE_OPTIONS (heap sizing), so that the drain's peak RSS is the product's. */
function serviceNodeOptions(): string[] {
  const unit = readFileSync(path.join(ROOT, 'scripts/systemd/coldgate.service'), 'utf8');
  const m = /^Environment="NODE_OPTIONS=([^"]*)"$/m.exec(unit);
  if (!m) throw new Error('scripts/systemd/coldgate.service has no Environment="NODE_OPTIONS=..." line');
  return m[1]!.split(/\s+/).filter(Boolean);
}

/** Runs one phase in a fresh process and returns its result line (async: the relay lives in this process). */
async function phase<T = PhaseResult>(name: string, dir: string, extra: string[] = []): Promise<T> {
  const child = spawn(process.execPath, [...serviceNodeOptions(), BUNDLE, '--phase', name, '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`bench phase ${name} failed (exit ${code})`);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

async function runPhase(name: string): Promise<void> {
  const dir = values.dir!;
  const n = Number(values.readings);
  const url = values.url!;
  const c = TRIP_CASES[Number(values.case ?? 0)]!;
  const table: Record<string, () => Promise<object>> = {
    'ours-ingest': () => ours.ingest(dir, n),
    'ours-drain': () => ours.drain(dir, url),
    'naive-ingest': () => naive.ingest(dir, n),
    'naive-drain': () => naive.drain(dir, url, n),
    chain: () => chainCost(dir),
    'trip-archive': () => archiveTrip(dir, c.probes, c.everySec, c.gpsEverySec),
    'trip-export': () => exportTrip(dir, values.format!),
    'trip-verify': () => verifyTrip(dir),
    'steady-floor': () => bareLibraries({ dir, modbusPort: Number(values['modbus-port']), brokerUrl: url, probes: Number(values.probes), seconds: Number(values['steady-seconds']), warmupSeconds: 10 }),
  };
  const run = table[name];
  if (!run) throw new Error(`unknown phase ${name}`);
  printResult((await run()) as PhaseResult);
  process.exit(0);
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const progress = (s: string) => values.json || process.stderr.write(`${s}\n`);

/** Ours then naive: ingest a backlog, then drain it to mosquitto through the counting relay. */
async function drainPhases(work: string): Promise<Record<string, number | string>> {
  const broker = new Mosquitto({ port: await freePort(), dir: path.join(work, 'broker') });
  await broker.start();
  const relay = await countingRelay(Number(new URL(broker.url).port));
  const url = `mqtt://127.0.0.1:${relay.port}`;
  try {
    /** One side's ingest then drain; `prefix` '' for ours, 'naive_' for the naive way. */
    const side = async (prefix: string, who: 'ours' | 'naive', ingestN: string, drainN: string) => {
      progress(`${who}: ingest ${ingestN} readings, then drain ${drainN} of them to mosquitto`);
      const dir = path.join(work, who);
      const ingest = await phase(`${who}-ingest`, dir, ['--readings', ingestN]);
      const before = relay.sent();
      const drain = await phase(`${who}-drain`, dir, ['--url', url, '--readings', drainN]);
      const wire = relay.sent() - before;
      return {
        [`${prefix}ingest_readings_per_s`]: Math.round(ingest.readings / ingest.seconds),
        [`${prefix}drain_readings_per_s`]: Math.round(drain.readings / drain.seconds),
        [`${prefix}wire_bytes_per_reading`]: round(wire / drain.readings, 2),
        [`${prefix}disk_bytes_per_reading`]: round(ingest.diskBytes! / ingest.readings, 2),
        [`${prefix}drain_peak_rss_mb`]: round(drain.peakRssMb!),
        [`${prefix}drain_rss_baseline_mb`]: round(drain.baselineRssMb!),
        [`${prefix}ingest_readings`]: ingest.readings,
        [`${prefix}drain_readings`]: drain.readings,
      };
    };
    return {
      ...(await side('', 'ours', values.readings!, values.readings!)),
      ...(await side('naive_', 'naive', values['naive-ingest']!, values['naive-drain']!)),
      note: 'naive runs on fewer readings (rates, not totals, are compared); its drain peak RSS is for that smaller backlog',
      ingest_path: `journal.appendMany, ${PROBES} readings per call (one poll of the van's probes), default journal config: fsync on, group commit at the end of the appending event-loop turn`,
    };
  } finally {
    await relay.close();
    await broker.stop();
  }
}

/** The steady state at 32 and 128 probes on MQTT 5, and 32 on MQTT 3.1.1 (the embedded demo broker's). */
async function steadyPhases(work: string): Promise<SteadyResult[]> {
  const out: SteadyResult[] = [];
  for (const [probes, protocolVersion] of [[32, 5], [128, 5], [32, 4]] as const) {
    if (values.probes !== undefined && Number(values.probes) !== probes) continue;
    if (values.mqtt !== undefined && (values.mqtt === '5') !== (protocolVersion === 5)) continue;
    progress(`steady: ${probes} probes at 1 Hz, MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}, ${values['steady-seconds']} s measured`);
    const workDir = path.join(work, `steady-${probes}-${protocolVersion}`);
    const floor = (modbusPort: number, brokerUrl: string) =>
      phase<FloorResult>('steady-floor', workDir, ['--modbus-port', String(modbusPort), '--url', brokerUrl, '--probes', String(probes), '--steady-seconds', values['steady-seconds']!]);
    out.push(await steady({ probes, protocolVersion, seconds: Number(values['steady-seconds']), warmupSeconds: 15, bundle: SERVICE, nodeOptions: serviceNodeOptions(), workDir, floor }));
  }
  return out;
}

/** Each trip case archived, then exported in every format and the bundle verified, each step a process of its own. */
async function tripPhases(work: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < TRIP_CASES.length; i++) {
    if (values.case !== undefined && Number(values.case) !== i) continue;
    const c = TRIP_CASES[i]!;
    progress(`trip-export: 24 h of ${c.probes} probes every ${c.everySec} s${c.gpsEverySec ? ', a GPS fix a second' : ''}: archive, export csv/html/bundle, verify`);
    const dir = path.join(work, `trip-${i}`);
    const archived = await phase<Record<string, unknown>>('trip-archive', dir, ['--case', String(i)]);
    const exports: Record<string, unknown> = {};
    for (const format of ['csv', 'html', 'bundle']) exports[format] = await phase('trip-export', dir, ['--format', format]);
    out.push({ ...c, ...archived, exports, verify: await phase('trip-verify', dir) });
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

/** The receiver's batch writer against the naive INSERT per reading (bench/receiver.ts), in this process: the database does the work. */
async function receiverPhase(work: string): Promise<ReceiverBenchResult> {
  const gateways = 20;
  const batchRecords = 80;
  // Whole batches per gateway, so that every gateway sends the same.
  const perGateway = Math.max(1, Math.round(Number(values['receiver-readings']) / gateways / batchRecords)) * batchRecords;
  progress(`receiver: ${perGateway * gateways} readings from ${gateways} gateways into PostgreSQL, batch writer against one INSERT per reading`);
  const batches = (perGateway * gateways) / batchRecords;
  return receiverBench({ readingsPerGateway: perGateway, gateways, batchRecords, group: 16, naiveBatches: Math.ceil(batches / 4), workDir: path.join(work, 'receiver') });
}

async function main(): Promise<void> {
  if (values.only !== undefined && !['drain', 'steady', 'receiver'].includes(values.only)) throw new Error(`--only ${values.only}: expected drain, steady or receiver`);
  if (values.only !== 'receiver') await bundle();
  const work = mkdtempSync(path.join(os.tmpdir(), 'coldgate-bench-'));
  try {
    const result = {
      ...(ONLY.has('drain') && (await drainPhases(work))),
      ...(ONLY.has('steady') && { steady: await steadyPhases(work) }),
      ...(ONLY.has('chain') && { chain: await phase<Record<string, number>>('chain', work) }),
      ...(ONLY.has('trip-export') && { trips: await tripPhases(work) }),
      ...(ONLY.has('receiver') && { receiver: await receiverPhase(work) }),
      runtime: `node ${process.version} ${serviceNodeOptions().join(' ')} (the service's), on an esbuild bundle, as the service runs (dist/coldgate.mjs); the receiver's writer runs in this process (tsx)`,
      cpus: os.cpus().length,
      loadavg_1m: round(os.loadavg()[0]!, 2),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printTable(result);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (values.all) runOthers();
}

type BenchResult = Record<string, unknown> & { steady?: SteadyResult[]; chain?: Record<string, number>; trips?: Record<string, unknown>[]; receiver?: ReceiverBenchResult };

function printTable(r: BenchResult): void {
  const line = (a: string, ...cols: string[]) => `${a.padEnd(32)}${cols.map((c) => c.padStart(14)).join('')}`;
  if (r.ingest_readings !== undefined) {
    const rows: [string, string, number][] = [
      ['ingest readings/s', 'ingest_readings_per_s', 1_000_000],
      ['drain readings/s (1M backlog)', 'drain_readings_per_s', 200_000],
      ['wire bytes/reading', 'wire_bytes_per_reading', 12],
      ['disk bytes/reading', 'disk_bytes_per_reading', NaN],
      ['drain peak RSS MB', 'drain_peak_rss_mb', 120],
      ['  of which before draining', 'drain_rss_baseline_mb', NaN],
    ];
    console.log(line('', 'ours', 'naive', 'target'));
    for (const [label, key, target] of rows) console.log(line(label, String(r[key]), String(r[`naive_${key}`]), Number.isNaN(target) ? '-' : `${key.includes('bytes') || key.includes('rss') ? '<=' : '>='} ${target.toLocaleString('en')}`));
    console.log(`(ours ${r.ingest_readings} readings; naive ingest ${r.naive_ingest_readings}, naive drain ${r.naive_drain_readings})`);
    console.log(`ingest: ${r.ingest_path}`);
  }
  if (r.steady) {
    console.log(`\n${line('steady state', ...r.steady.map((s) => `${s.probes} p ${s.protocol === 'MQTT 5' ? 'v5' : 'v3.1.1'}`))}`);
    const rows: [string, keyof SteadyResult][] = [
      ['CPU, % of one core', 'cpu_percent'],
      ['  the same I/O, bare libraries', 'floor_cpu_percent'],
      ['main thread wakeups/s', 'main_wakeups_per_s'],
      ['  the same I/O, bare libraries', 'floor_main_wakeups_per_s'],
      ['RSS median MiB', 'rss_mib_median'],
      ['RSS max MiB', 'rss_mib_max'],
      ['bytes to broker per reading', 'wire_bytes_per_reading'],
      ['  with latest every 60 s', 'wire_bytes_per_reading_with_latest'],
      ['latest message bytes', 'latest_bytes'],
      ['  same readings in /3, payload', 'v3_payload_bytes_per_reading'],
      ['readings/s at the subscriber', 'readings_per_s'],
      ['reading delay median ms', 'delay_ms_median'],
      ['reading delay p99 ms', 'delay_ms_p99'],
      ['launch to first reading s', 'launch_to_first_reading_s'],
      ['alarm to broker median ms', 'alarm_to_broker_ms_median'],
      ['alarm to broker p99 ms', 'alarm_to_broker_ms_p99'],
      ['alarm samples', 'alarm_samples'],
      ['broker back to delivery s', 'broker_back_to_delivery_s'],
    ];
    for (const [label, key] of rows) console.log(line(label, ...r.steady.map((s) => String(s[key]))));
    for (const topic of ['telemetry', 'events', 'latest'] as const) console.log(line(`  payload B/reading, ${topic}`, ...r.steady.map((s) => String(s.payload_bytes_per_reading[topic]))));
  }
  if (r.chain) {
    console.log('\nhash chain');
    for (const [k, v] of Object.entries(r.chain)) console.log(line(`  ${k}`, String(v)));
  }
  for (const t of r.trips ?? []) {
    const x = t as Record<string, number> & { exports: Record<string, { export_s: number; bytes: number; peak_rss_mb: number }>; verify: { verify_s: number; peak_rss_mb: number } };
    console.log(`\ntrip of 24 h, ${x.probes} probes every ${x.everySec} s${x.gpsEverySec ? ', a GPS fix a second' : ', no GPS'}: ${x.readings} readings, ${x.positions} positions`);
    console.log(`  archived ${x.archived_bytes} B = ${x.bytes_per_reading} B/reading, ${x.bytes_per_trip_day} B per trip-day; archiving ${x.archive_s} s, peak RSS ${x.peak_rss_mb_before_archiving} -> ${x.peak_rss_mb} MB; chain runs ${x.chain_runs}, unchained ${x.unchained}`);
    for (const [format, e] of Object.entries(x.exports)) console.log(`  export ${format}: ${e.export_s} s, ${e.bytes} B, peak RSS ${e.peak_rss_mb} MB`);
    console.log(`  verify bundle: ${x.verify.verify_s} s, peak RSS ${x.verify.peak_rss_mb} MB`);
  }
  if (r.receiver) {
    const x = r.receiver;
    console.log(`\n${line('receiver into PostgreSQL', 'batch writer', '16 a commit', 'naive')}`);
    console.log(line('readings/s', String(x.ours_readings_per_s), String(x.ours_grouped_readings_per_s), String(x.naive_readings_per_s)));
    console.log(line('database bytes/reading', String(x.ours_db_bytes_per_reading), '', String(x.naive_db_bytes_per_reading)));
    console.log(`(${x.readings} readings in ${x.batches} batches, ${x.redelivered_batches} redelivered; naive stored ${x.naive_readings}) ${x.note}`);
  }
  console.log(`runtime: ${r.runtime}; ${r.cpus} cpus, load ${r.loadavg_1m}`);
}

/** Other modules' benchmarks (scripts/bench-*.ts), each as its own process, output as they print it. */
function runOthers(): void {
  const dir = path.dirname(SELF);
  for (const file of readdirSync(dir).filter((f) => /^bench-.+\.ts$/.test(f)).sort()) {
    console.log(`\n== ${file}`);
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(dir, file), ...(values.json ? ['--json'] : [])], { stdio: 'inherit' });
    if (r.status !== 0) process.exitCode = 1;
  }
}

if (values.phase) await runPhase(values.phase);
else await main();
