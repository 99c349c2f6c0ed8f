/**
 * `npm run bench [-- --json] [-- --all]`: the store-and-forward benchmark, ours against the
 * naive way (one LevelDB key and one QoS 1 message per reading), in one run. Each phase runs in
 * its own process so that disk bytes (/proc/self/io) and peak RSS (VmHWM) are that phase's
 * alone; the drain goes to a mosquitto started here on loopback, through a relay that counts
 * the bytes on the wire. `--all` then runs every scripts/bench-*.ts of other modules too.
 * Options: --readings N (ours, default 1,000,000), --naive-ingest N (300,000), --naive-drain N (200,000).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Mosquitto } from '../test/helpers/mosquitto.ts';
import { freePort } from '../test/helpers/net.ts';
import { countingRelay, printResult, type PhaseResult } from './bench/common.ts';
import * as naive from './bench/naive.ts';
import * as ours from './bench/ours.ts';

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
  },
});

/** Runs one phase in a fresh process and returns its result line (async: the relay lives in this process). */
async function phase(name: string, dir: string, extra: string[] = []): Promise<PhaseResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--phase', name, '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  if (code !== 0) throw new Error(`bench phase ${name} failed (exit ${code})`);
  return JSON.parse(out.trim().split('\n').pop()!) as PhaseResult;
}

async function runPhase(name: string): Promise<void> {
  const dir = values.dir!;
  const n = Number(values.readings);
  const url = values.url!;
  const table: Record<string, () => Promise<PhaseResult>> = {
    'ours-ingest': () => ours.ingest(dir, n),
    'ours-drain': () => ours.drain(dir, url),
    'naive-ingest': () => naive.ingest(dir, n),
    'naive-drain': () => naive.drain(dir, url, n),
  };
  const run = table[name];
  if (!run) throw new Error(`unknown phase ${name}`);
  printResult(await run());
  process.exit(0);
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(os.tmpdir(), 'coldgate-bench-'));
  const broker = new Mosquitto({ port: await freePort(), dir: path.join(work, 'broker') });
  await broker.start();
  const relay = await countingRelay(Number(new URL(broker.url).port));
  const url = `mqtt://127.0.0.1:${relay.port}`;
  try {
    const n = values.readings!;
    const progress = (s: string) => values.json || process.stderr.write(`${s}\n`);
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
    const result = {
      ...(await side('', 'ours', n, n)),
      ...(await side('naive_', 'naive', values['naive-ingest']!, values['naive-drain']!)),
      note: 'naive runs on fewer readings (rates, not totals, are compared); its drain peak RSS is for that smaller backlog',
      cpus: os.cpus().length,
      loadavg_1m: round(os.loadavg()[0]!, 2),
    };
    if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printTable(result);
  } finally {
    await relay.close();
    await broker.stop();
    rmSync(work, { recursive: true, force: true });
  }
  if (values.all) runOthers();
}

function printTable(r: Record<string, number | string>): void {
  const rows: [string, string, number][] = [
    ['ingest readings/s', 'ingest_readings_per_s', 1_000_000],
    ['drain readings/s (1M backlog)', 'drain_readings_per_s', 200_000],
    ['wire bytes/reading', 'wire_bytes_per_reading', 12],
    ['disk bytes/reading', 'disk_bytes_per_reading', NaN],
    ['drain peak RSS MB', 'drain_peak_rss_mb', 120],
    ['  of which before draining', 'drain_rss_baseline_mb', NaN],
  ];
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(32)}${b.padStart(12)}${c.padStart(12)}${d.padStart(14)}`;
  console.log(line('', 'ours', 'naive', 'target'));
  for (const [label, key, target] of rows) console.log(line(label, String(r[key]), String(r[`naive_${key}`]), Number.isNaN(target) ? '-' : `${key.includes('bytes') || key.includes('rss') ? '<=' : '>='} ${target.toLocaleString('en')}`));
  console.log(`(ours ${r.ingest_readings} readings; naive ingest ${r.naive_ingest_readings}, naive drain ${r.naive_drain_readings}; ${r.cpus} cpus, load ${r.loadavg_1m})`);
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
