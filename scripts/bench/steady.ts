/**
 * The steady-state phase of `npm run bench`: a box's normal life. A pymodbus slave (an
 * independent Modbus TCP implementation) serves N probes, 32 per unit, polled at 1 Hz; the
 * gateway runs as the service runs it (plain node on the esbuild bundle with the unit's
 * NODE_OPTIONS and a code cache folder, as systemd's CacheDirectory gives it) and publishes to a
 * mosquitto with persistence through a relay that counts every byte the gateway sends (all
 * topics, MQTT framing included). A subscriber on the broker measures when each reading arrives. After the measured window, one compartment's probe is
 * driven out of range and back repeatedly: each alarm event's delay from its stamp on the box
 * to its arrival at the subscriber is the alarm-to-broker delay. Last, the broker restarts:
 * the time from its being back to the next batch at the subscriber is the reconnect delay.
 * The same readings are also costed in the naive (coldgate.batch/3) format (format-v3.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { Mosquitto } from '../../test/helpers/mosquitto.ts';
import { freePort, waitFor } from '../../test/helpers/net.ts';
import { PymodbusSlave, type UnitSpec } from '../../test/peers/pymodbus.ts';
import type { JournalRecord } from '../../src/core/types.ts';
import { decodeBatch, decodeJson } from '../../src/uplink/decode.ts';
import { LATEST_REFRESH_MS } from '../../src/uplink/uplink.ts';
import { countingRelay } from './common.ts';
import type { FloorResult } from './floor.ts';
import { V3_BATCH_INTERVAL_MS, V3_LATEST_INTERVAL_MS, v3BatchBytes } from './format-v3.ts';

export interface SteadyOptions {
  probes: number;
  /** Measured window after the warm-up. */
  seconds: number;
  warmupSeconds: number;
  /** 5, or 4 for MQTT 3.1.1 (as the embedded demo broker speaks). */
  protocolVersion: 4 | 5;
  /** The bundle and the node flags the service uses. */
  bundle: string;
  nodeOptions: string[];
  workDir: string;
  /** The same I/O by the bare libraries (floor.ts), run once the gateway has stopped, on the same slave and broker. */
  floor?: (modbusPort: number, brokerUrl: string) => Promise<FloorResult>;
}

export interface SteadyResult {
  probes: number;
  protocol: string;
  cpu_percent: number;
  /** The CPU of the bare libraries doing the same I/O (floor.ts), over a window as long, right after: what the host charges for the I/O alone. */
  floor_cpu_percent?: number;
  /** The main thread's wakeups a second (voluntary context switches), the gateway's and the floor's. */
  main_wakeups_per_s: number;
  floor_main_wakeups_per_s?: number;
  /** The same split: node's main thread, and all others (V8 workers, libuv's pool, LevelDB's). */
  cpu_percent_by_thread: { main: number; others: number };
  rss_mib_median: number;
  rss_mib_max: number;
  wire_bytes_per_reading: number;
  /**
   * The same with `latest` at its steady rate, one refresh per LATEST_REFRESH_MS, whether or not
   * the window held one (nothing changes at steady state, so a short window may hold none).
   */
  wire_bytes_per_reading_with_latest: number;
  /** Payload bytes per reading at the subscriber, by topic (MQTT framing not included). */
  payload_bytes_per_reading: { telemetry: number; events: number; latest: number };
  /** One `latest` message (sent on change and every 60 s: the window may hold none), and its plain JSON. */
  latest_bytes: number;
  latest_json_bytes: number;
  /** The same readings' payload bytes in coldgate.batch/3 at its 500 ms cadence, with its 10 s plain `latest`. */
  v3_payload_bytes_per_reading: number;
  readings_per_s: number;
  delay_ms_median: number;
  delay_ms_p99: number;
  /** From spawn to the first reading at the subscriber, a fresh journal but V8's code cache made by an earlier start (every start of a box but its first). */
  launch_to_first_reading_s: number;
  alarm_to_broker_ms_median: number;
  alarm_to_broker_ms_p99: number;
  alarm_samples: number;
  /** From mosquitto's restart (its spawn, so its own start is counted) to the gateway's next batch at the subscriber. */
  broker_back_to_delivery_s: number;
  /** With COLDGATE_BENCH_CALLGRIND=DIR: machine instructions per second of the window, all threads (valgrind counts them exactly: an A/B that load on the cores does not blur). */
  instructions_per_s?: number;
}

const PER_UNIT = 32;
const GATEWAY = 'bench-steady';
/** Tenths of a degree: 3.0 C in range for a chilled compartment, 9.0 C out of it. */
const IN_RANGE = 30;
const OUT_OF_RANGE = 90;

const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Nanoseconds a thread has run on a CPU (/proc schedstat): exact, where utime + stime count 10 ms ticks. */
function runNs(pid: number, tid: number | string): number {
  return Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
}

/**
 * CPU time of the main thread (JS, the GC's main part, I/O callbacks) and of all others (V8
 * workers, libuv's pool: LevelDB writes and fsyncs), in ns. Threads that ended are not counted
 * (node's threads live as long as the process).
 */
export function cpuNs(pid: number): { main: number; others: number } {
  const out = { main: 0, others: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out[Number(tid) === pid ? 'main' : 'others'] += runNs(pid, tid);
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return out;
}

/** Dumps the instructions (Ir) counted since `callgrind_control -z` (the dump numbered .1). */
function windowInstructions(dir: string, pid: number): number {
  spawnSync('callgrind_control', ['-d', String(pid)], { stdio: 'ignore' });
  let total = 0;
  for (const f of readdirSync(dir).filter((f) => f === `callgrind.out.${pid}.1`)) {
    const m = /^summary:\s+(\d+)/m.exec(readFileSync(path.join(dir, f), 'utf8'));
    if (m) total += Number(m[1]);
  }
  return total;
}

/** The main thread's voluntary context switches so far: each is a sleep in epoll or on a lock, so their rate counts the wakeups exactly where CPU time is noisy. */
export function mainWakeups(pid: number): number {
  const m = /^voluntary_ctxt_switches:\s+(\d+)$/m.exec(readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

function rssMib(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** The config a van with `probes` probes on one Modbus TCP server would have. */
function steadyConfig(o: SteadyOptions, modbusPort: number, brokerUrl: string, httpPort: number): Record<string, unknown> {
  const probes = Array.from({ length: o.probes }, (_, i) => ({
    id: `p${i}`,
    bus: 'tcp',
    unit: 1 + Math.floor(i / PER_UNIT),
    address: i % PER_UNIT,
    compartment: i === 0 ? 'watched' : `c${Math.floor(i / 8)}`,
    intervalMs: 1000,
  }));
  const compartments = [
    // Raises and clears at once, so the alarm phase gets many transitions.
    { id: 'watched', name: 'Watched', preset: 'chilled', delaySec: 0, clearDelaySec: 0, latch: false },
    ...Array.from({ length: Math.ceil(o.probes / 8) }, (_, c) => ({ id: `c${c}`, name: `Compartment ${c}`, preset: 'chilled' })),
  ].filter((c) => probes.some((p) => p.compartment === c.id));
  return {
    gatewayId: GATEWAY,
    dataDir: path.join(o.workDir, 'data'),
    logLevel: 'warn',
    uplink: { url: brokerUrl, protocolVersion: o.protocolVersion },
    buses: [{ id: 'tcp', type: 'tcp', host: '127.0.0.1', port: modbusPort }],
    probes,
    compartments,
    local: { http: { host: '127.0.0.1', port: httpPort } },
  };
}

export async function steady(o: SteadyOptions): Promise<SteadyResult> {
  mkdirSync(o.workDir, { recursive: true });
  const units = Math.ceil(o.probes / PER_UNIT);
  const spec: Record<number, UnitSpec> = {};
  for (let u = 1; u <= units; u++) spec[u] = { ir: { 0: Array.from({ length: PER_UNIT }, () => IN_RANGE) } };
  const modbusPort = await freePort();
  const slave = new PymodbusSlave({ tcp: modbusPort }, spec);
  await slave.start();
  const broker = new Mosquitto({ port: await freePort(), dir: path.join(o.workDir, 'broker') });
  await broker.start();
  const relay = await countingRelay(Number(new URL(broker.url).port));
  const file = path.join(o.workDir, 'config.json');
  writeFileSync(file, JSON.stringify(steadyConfig(o, modbusPort, `mqtt://127.0.0.1:${relay.port}`, await freePort()), null, 2));

  const readingDelays: number[] = [];
  const alarmDelays: number[] = [];
  let readings = 0;
  let measuring = false;
  let firstReadingAt: number | undefined;
  let lastBatchAt = 0;
  const payloadBytes = { telemetry: 0, events: 0, latest: 0 };
  /** Measured readings by their 500 ms window, to cost them as /3 batches. */
  const v3Windows = new Map<number, JournalRecord[]>();
  let v3Events = 0;
  let latestPlainBytes = 0;
  let latestBytes = 0;
  let incarnation = '';
  // A persistent session: the subscription survives the broker restart at the end.
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clean: false, clientId: `steady-${process.pid}`, properties: { sessionExpiryInterval: 600 }, reconnectPeriod: 100 });
  sub.on('message', (topic, payload, packet) => {
    const now = Date.now();
    const leaf = topic.slice(topic.lastIndexOf('/') + 1);
    if (leaf === 'latest') {
      if (measuring && !packet.retain) payloadBytes.latest += payload.length;
      latestBytes = payload.length;
      latestPlainBytes = Buffer.byteLength(JSON.stringify(decodeJson(payload)));
      if (process.env.COLDGATE_BENCH_DUMP_LATEST) writeFileSync(process.env.COLDGATE_BENCH_DUMP_LATEST, JSON.stringify(decodeJson(payload)));
    }
    if (leaf !== 'telemetry' && leaf !== 'events') return;
    lastBatchAt = now;
    const batch = decodeBatch(payload);
    incarnation = batch.incarnation;
    if (measuring) {
      payloadBytes[leaf] += payload.length;
      if (leaf === 'events') v3Events += v3BatchBytes(GATEWAY, batch.incarnation, 'events', batch.records, o.protocolVersion === 5);
      else
        for (const r of batch.records) {
          const w = Math.floor(Date.parse(r.ts) / V3_BATCH_INTERVAL_MS);
          const window = v3Windows.get(w);
          if (window) window.push(r);
          else v3Windows.set(w, [r]);
        }
    }
    for (const r of batch.records) {
      if (r.kind === 'temperature') {
        firstReadingAt ??= now;
        if (!measuring) continue;
        readings++;
        readingDelays.push(now - Date.parse(r.ts));
      } else if (r.kind === 'event' && r.type === 'alarm.raised' && r.source === 'watched') alarmDelays.push(now - Date.parse(r.ts));
    }
  });
  await sub.subscribeAsync(`coldgate/v1/${GATEWAY}/#`, { qos: 1 });

  // COLDGATE_BENCH_NODE_FLAGS: extra flags for the gateway alone, e.g. --cpu-prof --cpu-prof-dir=/tmp/prof
  // or --trace-gc with COLDGATE_BENCH_STDOUT=FILE (the gateway's stdout, appended; else dropped).
  const extra = (process.env.COLDGATE_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  // The code cache a box has from its previous start: made by a start of its own (another gateway
  // id and journal, so none of its readings reach the subscriber), stopped once the cache is written.
  const codeCache = path.join(o.workDir, 'code-cache');
  mkdirSync(codeCache, { recursive: true });
  const env = { ...process.env, NODE_ENV: 'production', COLDGATE_CODE_CACHE: codeCache };
  const primeFile = path.join(o.workDir, 'prime.json');
  writeFileSync(primeFile, JSON.stringify({ ...steadyConfig(o, modbusPort, `mqtt://127.0.0.1:${relay.port}`, await freePort()), gatewayId: 'prime', dataDir: path.join(o.workDir, 'prime-data') }));
  const prime = spawn(process.execPath, [...o.nodeOptions, ...extra, o.bundle, 'run', '--config', primeFile], { stdio: 'ignore', env });
  await waitFor(() => readdirSync(codeCache).some((f) => f.endsWith('.v8cache')) || prime.exitCode !== null, 60_000, 'the code cache of a first start');
  if (prime.exitCode !== null) throw new Error(`the gateway's first start (for its code cache) exited ${prime.exitCode}`);
  prime.kill('SIGTERM');
  await new Promise((r) => (prime.exitCode === null ? prime.once('exit', r) : r(null)));

  const launchedAt = Date.now();
  const stdout = process.env.COLDGATE_BENCH_STDOUT ? openSync(process.env.COLDGATE_BENCH_STDOUT, 'a') : 'ignore';
  // COLDGATE_BENCH_CALLGRIND=DIR: the gateway runs under valgrind, counting only in the measured window.
  const callgrind = process.env.COLDGATE_BENCH_CALLGRIND;
  const command = [process.execPath, ...o.nodeOptions, ...extra, o.bundle, 'run', '--config', file];
  if (callgrind) command.unshift('valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${path.join(callgrind, 'callgrind.out.%p')}`);
  const gw = spawn(command[0]!, command.slice(1), { stdio: ['ignore', stdout, 'pipe'], env });
  let stderr = '';
  gw.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => gw.once('exit', r));
  try {
    await waitFor(() => firstReadingAt !== undefined || gw.exitCode !== null, callgrind ? 300_000 : 30_000, 'the first reading at the subscriber');
    if (gw.exitCode !== null) throw new Error(`gateway exited ${gw.exitCode}: ${stderr}`);
    const launchToFirst = (firstReadingAt! - launchedAt) / 1000;
    await new Promise((r) => setTimeout(r, o.warmupSeconds * 1000));

    const pid = gw.pid!;
    const t0 = Date.now();
    if (callgrind) {
      spawnSync('callgrind_control', ['-i', 'on', String(pid)], { stdio: 'ignore' });
      spawnSync('callgrind_control', ['-z', String(pid)], { stdio: 'ignore' });
    }
    const cpu0 = cpuNs(pid);
    const wakeups0 = mainWakeups(pid);
    const bytes0 = relay.sent();
    const rss: number[] = [];
    measuring = true;
    while (Date.now() - t0 < o.seconds * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      rss.push(rssMib(pid));
    }
    measuring = false;
    const elapsed = (Date.now() - t0) / 1000;
    const cpu1 = cpuNs(pid);
    const wakeups = mainWakeups(pid) - wakeups0;
    const instructions = callgrind ? windowInstructions(callgrind, pid) : undefined;
    const percentOf = (ns: number) => round((ns / 1e9 / elapsed) * 100, 2);
    const byThread = { main: percentOf(cpu1.main - cpu0.main), others: percentOf(cpu1.others - cpu0.others) };
    const bytes = relay.sent() - bytes0;
    const counted = readings;
    let v3 = v3Events + latestPlainBytes * (elapsed * 1000 / V3_LATEST_INTERVAL_MS);
    for (const records of v3Windows.values()) v3 += v3BatchBytes(GATEWAY, incarnation, 'telemetry', records, o.protocolVersion === 5);

    // Alarms: the watched probe goes out of range and back every 1.5 s.
    for (let i = 0; i < 12; i++) {
      await slave.set(1, 'ir', 0, [i % 2 === 0 ? OUT_OF_RANGE : IN_RANGE]);
      await new Promise((r) => setTimeout(r, 1500));
    }

    // The broker restarts (down for 5 s): how long until the next batch arrives.
    await broker.stop();
    await new Promise((r) => setTimeout(r, 5000));
    // Timed from the broker's spawn, not from start()'s readiness check: that polls every 25 ms,
    // and a batch delivered before it saw the port would leave this waiting for the next one (5 s on).
    const backAt = Date.now();
    await broker.start();
    await waitFor(() => lastBatchAt > backAt, 60_000, 'a batch after the broker restart');
    const brokerBack = round((lastBatchAt - backAt) / 1000, 2);
    gw.kill('SIGTERM');
    await exited;
    const floor = await o.floor?.(modbusPort, broker.url);
    const perReading = (n: number) => round(n / counted, 2);
    return {
      probes: o.probes,
      protocol: o.protocolVersion === 5 ? 'MQTT 5' : 'MQTT 3.1.1',
      cpu_percent: percentOf(cpu1.main + cpu1.others - cpu0.main - cpu0.others),
      cpu_percent_by_thread: byThread,
      main_wakeups_per_s: round(wakeups / elapsed, 2),
      ...(floor && { floor_cpu_percent: floor.cpu_percent, floor_main_wakeups_per_s: floor.main_wakeups_per_s }),
      rss_mib_median: round(percentile(rss, 50)),
      rss_mib_max: round(Math.max(...rss)),
      wire_bytes_per_reading: round(bytes / counted, 2),
      wire_bytes_per_reading_with_latest: round((bytes - payloadBytes.latest) / counted + latestBytes / ((LATEST_REFRESH_MS / 1000) * (counted / elapsed)), 2),
      payload_bytes_per_reading: { telemetry: perReading(payloadBytes.telemetry), events: perReading(payloadBytes.events), latest: perReading(payloadBytes.latest) },
      latest_bytes: latestBytes,
      latest_json_bytes: latestPlainBytes,
      v3_payload_bytes_per_reading: perReading(v3),
      readings_per_s: round(counted / elapsed),
      delay_ms_median: percentile(readingDelays, 50),
      delay_ms_p99: percentile(readingDelays, 99),
      launch_to_first_reading_s: round(launchToFirst, 2),
      alarm_to_broker_ms_median: percentile(alarmDelays, 50),
      alarm_to_broker_ms_p99: percentile(alarmDelays, 99),
      alarm_samples: alarmDelays.length,
      broker_back_to_delivery_s: brokerBack,
      ...(instructions !== undefined && { instructions_per_s: Math.round(instructions / elapsed) }),
    };
  } finally {
    gw.kill('SIGTERM');
    await exited;
    await sub.endAsync();
    await relay.close();
    await broker.stop();
    await slave.stop();
  }
}
