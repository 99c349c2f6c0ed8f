/**
 * The fleet simulation (scripts/fleet/README.md): simulated gateways in several processes
 * (worker.ts), one mosquitto without persistence, `coldgate receive` processes in one share
 * group, one PostgreSQL; faults on a timeline; then, from the database, the verdict
 * (completeness.ts) and the figures.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate } from '../../src/receiver/migrate.ts';
import { gatewayStatus } from '../../src/receiver/status.ts';
import { Mosquitto } from '../../test/helpers/mosquitto.ts';
import { freePort } from '../../test/helpers/net.ts';
import { startPg, type PgCluster } from '../../test/helpers/postgres.ts';
import { judge, type Verdict } from './completeness.ts';
import { sleep, Timeline, type FaultEntry } from './faults.ts';
import { registerKeys } from './keys.ts';
import { readLanded } from './landed.ts';
import { addBuckets, quantile, type Buckets } from './prometheus.ts';
import type { JournalReport, WorkerOptions } from './protocol.ts';
import { ReceiverProc } from './receivers.ts';
import { FleetWorker } from './workers.ts';

/** How long mosquitto may take to exit on SIGTERM before it is killed. */
const BROKER_TERM_MS = 10_000;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface FleetOptions {
  gateways: number;
  processes: number;
  /** How long the fleet produces; the faults are placed at fractions of it. */
  seconds: number;
  probes: number;
  /** Polls per second per gateway. */
  hz: number;
  /** The boxes' uplink.batchIntervalMs (a box's default is 5000): shorter is more messages for the receivers. */
  batchIntervalMs: number;
  receivers: number;
  /** After the fleet stops producing: how long the receivers may take to have every seq. */
  settleSeconds: number;
  /** The receivers' reorder timeout and the boxes' resend wait: short, so a short run recovers. */
  reorderTimeoutMs: number;
  resendAfterMs: number;
  /** The boxes' uplink.endToEnd.mode: `off` shows what the faults cost without the end-to-end acknowledgement. */
  endToEnd: 'auto' | 'off';
  /** Keep the run's folder (logs, journals, the database) instead of removing it. */
  keep: boolean;
  /** Progress and the timeline, one line each. */
  print: (line: string) => void;
}

export const FLEET_DEFAULTS: Omit<FleetOptions, 'print'> = {
  gateways: 200,
  processes: 4,
  seconds: 120,
  probes: 4,
  hz: 1,
  batchIntervalMs: 5000,
  receivers: 2,
  settleSeconds: 120,
  reorderTimeoutMs: 5000,
  resendAfterMs: 5000,
  endToEnd: 'auto',
  keep: false,
};

export interface FleetResult {
  pass: boolean;
  verdict: Omit<Verdict, 'gateways'> & { gatewaysOk: number; gatewaysFailed: number };
  timeline: FaultEntry[];
  figures: {
    gateways: number;
    processes: number;
    receivers: number;
    seconds: number;
    batchIntervalMs: number;
    offeredReadingsPerSec: number;
    /** Readings rows that landed while the fleet produced, per second (from the database). */
    landedReadingsPerSec: number;
    readingsLanded: number;
    /** From stop-producing until the status had every committed seq (or the settle timeout). */
    settleSeconds: number;
    commitLatencyMs: { p50?: number; p99?: number; samples: number };
    receiverPeakRssMib: Record<string, number>;
    workerPeakRssMib: number;
  };
  workDir?: string;
}

/** Splits gateways 1..n over `processes` workers, in turns (sim-0001 to the first, sim-0002 to the second, ...). */
function assign(n: number, processes: number, dir: string): { gatewayId: string; dataDir: string }[][] {
  const out: { gatewayId: string; dataDir: string }[][] = Array.from({ length: processes }, () => []);
  for (let i = 1; i <= n; i++) {
    const gatewayId = `sim-${String(i).padStart(4, '0')}`;
    out[(i - 1) % processes]!.push({ gatewayId, dataDir: path.join(dir, 'gateways', gatewayId) });
  }
  return out;
}

/** Whether the receivers' status has every seq each journal reported (the cheap test while settling). */
async function settled(pool: pg.Pool, reports: JournalReport[]): Promise<boolean> {
  const status = new Map<string, { holes: [number, number][]; contiguousThrough: number }>();
  for (const s of await gatewayStatus(pool)) for (const inc of s.incarnations) status.set(`${s.gatewayId}/${inc.incarnation}`, inc);
  return reports.every((r) => {
    const s = status.get(`${r.gatewayId}/${r.incarnation}`);
    return s !== undefined && s.holes.length === 0 && s.contiguousThrough >= r.lastSeq;
  });
}

const countReadings = async (pool: pg.Pool) => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM coldgate_readings')).rows[0]!.n);

/** What makes a fleet impossible, one line each, naming the options (empty: fine). */
export function fleetProblems(opts: Omit<FleetOptions, 'print'>): string[] {
  return [
    opts.gateways < opts.processes && `--gateways ${opts.gateways} --processes ${opts.processes}: need at least one gateway per process`,
    opts.receivers < 2 && `--receivers ${opts.receivers}: the share group needs at least 2`,
  ].filter((p): p is string => typeof p === 'string');
}

export async function runFleet(opts: FleetOptions): Promise<FleetResult> {
  const problems = fleetProblems(opts);
  if (problems.length) throw new Error(problems.join('; '));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coldgate-fleet-'));
  const logs = path.join(dir, 'logs');
  mkdirSync(logs);
  const timeline = new Timeline(opts.print);
  const cleanups: (() => Promise<void>)[] = [];
  let pass = false;
  try {
    opts.print(`fleet-sim: ${opts.gateways} gateways in ${opts.processes} processes, ${opts.receivers} receivers, ${opts.seconds} s, end-to-end ${opts.endToEnd}; folder ${dir}`);
    const cluster: PgCluster = await startPg();
    cleanups.push(() => cluster.stop());
    const pool = new pg.Pool({ connectionString: cluster.url, max: 4 });
    cleanups.push(() => pool.end());
    await migrate(pool);

    // Without persistence: a restart forgets every session and queue, as the issue's fault asks.
    const broker = new Mosquitto({ port: await freePort(), dir: path.join(dir, 'broker'), extra: ['persistence false'] });
    await broker.start();
    cleanups.push(() => broker.stop());

    const receivers = Array.from({ length: opts.receivers }, (_, i) => new ReceiverProc({ name: `receiver-${i + 1}`, mqtt: broker.url, db: cluster.url, share: 'fleet-sim', reorderTimeoutMs: opts.reorderTimeoutMs, dir: logs, root: ROOT }));
    cleanups.push(async () => void (await Promise.all(receivers.map((r) => r.stop()))));
    await Promise.all(receivers.map((r) => r.start()));

    const base: Omit<WorkerOptions, 'gateways'> = {
      url: broker.url,
      probes: opts.probes,
      hz: opts.hz,
      eventEveryMs: 7000,
      // fsync off: the faults kill processes, not the machine, and LevelDB's log write reaches the
      // kernel before a commit resolves; 200 fsyncing journals would measure this disk instead.
      journal: { fsync: false },
      uplink: { batchIntervalMs: opts.batchIntervalMs, reconnectMaxMs: 5000, endToEnd: { mode: opts.endToEnd, resendAfterMs: opts.resendAfterMs } },
      logLevel: 'warn',
    };
    const shares = assign(opts.gateways, opts.processes, dir);
    // Keys made and registered before the first batch, so that the receivers check every chain from its start.
    await registerKeys(pool, shares.flat());
    const workers = shares.map((gateways, i) => new FleetWorker(`gateways-${i + 1}`, { ...base, gateways }, path.join(logs, `gateways-${i + 1}.log`), ROOT));
    cleanups.push(async () => void (await Promise.all(workers.map((w) => w.close()))));
    await Promise.all(workers.map((w) => w.start()));

    let workerPeakRss = 0;
    const scraper = setInterval(() => {
      for (const r of receivers) void r.scrape();
      for (const w of workers) workerPeakRss = Math.max(workerPeakRss, w.rssMib());
    }, 2000);
    cleanups.push(async () => clearInterval(scraper));

    timeline.begin();
    timeline.log(`producing: ${opts.gateways} gateways x ${opts.probes} probes x ${opts.hz} Hz`);
    const n = opts.seconds;
    const warm = Math.min(5, n * 0.1);
    await timeline.until(warm);
    const landedAtWarm = await countReadings(pool);
    const warmAt = timeline.seconds();

    await timeline.until(n * 0.2);
    const victim = receivers[0]!;
    await victim.scrape();
    await victim.kill9();
    timeline.log(`kill -9 ${victim.spec.name}`);
    await sleep(3000);
    await victim.start();
    timeline.log(`${victim.spec.name} started again`);

    await timeline.until(n * 0.45);
    await Promise.all(receivers.map((r) => r.scrape()));
    await Promise.all(receivers.map((r) => r.stop()));
    timeline.log('receivers stopped');
    await sleep(2000);
    // mosquitto 2.0.11 was once seen not to exit on SIGTERM for minutes with the receivers' queues full: then it is killed.
    const termed = await Promise.race([broker.stop('SIGTERM').then(() => true), sleep(BROKER_TERM_MS).then(() => false)]);
    if (!termed) await broker.stop('SIGKILL');
    timeline.log(`broker stopped${termed ? '' : ` (SIGKILL: no exit within ${BROKER_TERM_MS / 1000} s of SIGTERM)`} (no persistence: the receivers' queues are gone)`);
    await sleep(1000);
    await broker.start();
    timeline.log('broker started');
    await sleep(3000);
    await Promise.all(receivers.map((r) => r.start()));
    timeline.log('receivers started');

    await timeline.until(n * 0.7);
    const killed = workers.slice(0, Math.max(1, Math.floor(workers.length / 2)));
    await Promise.all(killed.map((w) => w.kill9()));
    timeline.log(`kill -9 ${killed.map((w) => w.name).join(', ')}`);
    await sleep(2000);
    await Promise.all(killed.map((w) => w.start()));
    timeline.log(`${killed.map((w) => w.name).join(', ')} started again on the same data folders`);

    await timeline.until(n);
    const landedAtStop = await countReadings(pool);
    const stopAt = timeline.seconds();
    const reports = (await Promise.all(workers.map((w) => w.stopProducing()))).flat();
    timeline.log(`stopped producing; journals committed ${reports.reduce((s, r) => s + r.lastSeq, 0)} records`);

    const settleStart = Date.now();
    while (!(await settled(pool, reports)) && Date.now() - settleStart < opts.settleSeconds * 1000) await sleep(1000);
    const settleSeconds = (Date.now() - settleStart) / 1000;
    timeline.log(`receivers settled after ${settleSeconds.toFixed(1)} s${settleSeconds >= opts.settleSeconds ? ' (timeout)' : ''}`);
    await Promise.all(receivers.map((r) => r.scrape()));

    // With end-to-end mode the boxes keep whatever is not committed: a not-held range is a loss.
    const verdict = judge(reports, await readLanded(pool), opts.endToEnd === 'auto' ? ['not-held'] : []);
    pass = verdict.pass;
    const buckets = receivers.reduce((acc, r) => addBuckets(acc, r.commitBuckets()), new Map() as Buckets);
    const ms = (q: number) => {
      const s = quantile(buckets, q);
      return s === undefined ? undefined : Math.round(s * 1000 * 10) / 10;
    };
    const { gateways: perGateway, ...totals } = verdict;
    return {
      pass,
      verdict: { ...totals, gatewaysOk: perGateway.filter((g) => g.ok).length, gatewaysFailed: perGateway.filter((g) => !g.ok).length },
      timeline: timeline.entries,
      figures: {
        gateways: opts.gateways,
        processes: opts.processes,
        receivers: opts.receivers,
        seconds: opts.seconds,
        batchIntervalMs: opts.batchIntervalMs,
        offeredReadingsPerSec: opts.gateways * opts.probes * opts.hz,
        landedReadingsPerSec: Math.round((landedAtStop - landedAtWarm) / (stopAt - warmAt)),
        readingsLanded: await countReadings(pool),
        settleSeconds: Math.round(settleSeconds * 10) / 10,
        commitLatencyMs: { p50: ms(0.5), p99: ms(0.99), samples: buckets.get(Infinity) ?? 0 },
        receiverPeakRssMib: Object.fromEntries(receivers.map((r) => [r.spec.name, Math.round(r.peakRssMib)])),
        workerPeakRssMib: Math.round(workerPeakRss),
      },
      ...((opts.keep || !pass) && { workDir: dir }),
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        opts.print(`cleanup: ${(err as Error).message}`);
      }
    }
    // A failed run keeps its logs and journals for a look (the database went with its server).
    if (!opts.keep && pass) rmSync(dir, { recursive: true, force: true });
  }
}
