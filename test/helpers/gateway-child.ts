/**
 * A gateway's store-and-forward core (the real Journal and Uplink) in a child process, under
 * load from simulated probes, for tests that kill it, cut its broker or fill its disk; and the
 * cloud side: a collector with a persistent session that decodes what arrives.
 *
 * Child protocol, one line each on stdout:
 *   R                      ready: journal open, uplink started
 *   A <from> <to>          seqs from..to are ACCEPTED: their append resolved, i.e. the group
 *                          commit is on disk (fsynced when journal.fsync). Written only after that.
 *   S <json>               every 100 ms: journal stats, journal and uplink health
 * SIGTERM stops it in order (uplink, then journal) and exits 0.
 *
 * Run as a script: `node --import tsx test/helpers/gateway-child.ts '<ChildOptions JSON>'`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceHealth, JournalRecord, RecordDraft } from '../../src/core/types.ts';
import type { JournalStats } from '../../src/journal/journal.ts';
import { decodeBatch, decodeJson } from '../../src/uplink/decode.ts';
import { waitFor } from './net.ts';

export interface ChildOptions {
  dataDir: string;
  url: string;
  gatewayId: string;
  /** Readings per second over all probes; 0 = no load (just drain the journal). */
  readingsPerSec: number;
  probes?: number;
  /** An alarm event this often (ms); 0 = none. */
  eventEveryMs?: number;
  /** Raw config sections, validated by the real schemas. */
  journal?: Record<string, unknown>;
  uplink?: Record<string, unknown>;
  logLevel?: string;
  /** Sign batch heads with the box key in this folder (made if missing: src/chain/keys.ts). */
  keysDir?: string;
  /** RLIMIT_FSIZE in bytes (prlimit, soft limit: a test may lift it): writes past it fail with EFBIG, as on a full disk. */
  fileSizeLimit?: number;
}

export interface ChildStatus {
  stats: JournalStats;
  journal: DeviceHealth;
  uplink: DeviceHealth;
}

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '../..');

/** The parent's handle on one child gateway. */
export class GatewayChild {
  readonly proc: ChildProcess;
  /** Accepted seq ranges, from complete lines only (a kill may cut the last one). */
  readonly accepted: [number, number][] = [];
  status: ChildStatus | undefined;
  ready = false;
  stderr = '';
  private buffer = '';
  readonly exited: Promise<number | null>;

  constructor(opts: ChildOptions, env: NodeJS.ProcessEnv = {}) {
    const node = [process.execPath, '--import', 'tsx', SELF, JSON.stringify(opts)];
    const argv = opts.fileSizeLimit ? ['prlimit', `--fsize=${opts.fileSizeLimit}:unlimited`, '--', ...node] : node;
    this.proc = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => resolve(code)));
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      const lines = this.buffer.split('\n');
      this.buffer = lines.pop()!;
      for (const line of lines) this.line(line);
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
  }

  private line(line: string): void {
    if (line === 'R') this.ready = true;
    else if (line.startsWith('A ')) {
      const [, from, to] = line.split(' ');
      this.accepted.push([Number(from), Number(to)]);
    } else if (line.startsWith('S ')) this.status = JSON.parse(line.slice(2)) as ChildStatus;
  }

  acceptedCount(): number {
    return this.accepted.reduce((n, [a, b]) => n + b - a + 1, 0);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }

  async waitReady(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      () => {
        if (!this.ready && this.proc.exitCode !== null) throw new Error(`gateway child exited ${this.proc.exitCode}: ${this.stderr}`);
        return this.ready;
      },
      timeoutMs,
      'gateway child ready',
    );
  }
}

export interface Arrival {
  topic: string;
  /** Decoded records for telemetry and events batches, and the journal incarnation they are of. */
  records?: JournalRecord[];
  incarnation?: string;
  payloadBytes: number;
  /** The payload as it came (for captures that `coldgate verify` reads). */
  payload: Buffer;
  contentType?: string;
  contentEncoding?: string;
  /** A retained copy sent on subscribe, not a live publish. */
  retained: boolean;
  body?: unknown;
  at: number;
}

/**
 * The cloud side: a persistent session on `{root}/{gatewayId}/#` that decodes every batch and
 * keeps what arrived, in order, with a fingerprint per seq to catch a seq used twice. `seen`
 * is keyed on seq alone, so it serves one journal: across a new incarnation, key on
 * (incarnation, seq) from the arrivals instead (test/journal-incarnation.test.ts).
 */
export class Collector {
  readonly arrivals: Arrival[] = [];
  readonly seen = new Map<number, string>();
  duplicates = 0;
  /** Seqs with two different records: must never happen. */
  readonly conflicts: number[] = [];
  readonly gaps: { fromSeq: number; toSeq: number; count: number; reason: string; seq: number }[] = [];
  private client: MqttClient | undefined;

  constructor(
    private readonly url: string,
    private readonly filter: string,
    private readonly clientId = `collector-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
  ) {}

  async connect(): Promise<void> {
    // The session keeps the subscription: subscribing again on reconnect would replay retained copies.
    const client = mqtt.connect(this.url, { clientId: this.clientId, clean: false, protocolVersion: 5, properties: { sessionExpiryInterval: 3600 }, reconnectPeriod: 100, resubscribe: false });
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      const user = packet.properties?.userProperties?.['content-encoding'];
      const contentEncoding = Array.isArray(user) ? user[0] : user;
      const arrival: Arrival = { topic, payloadBytes: payload.length, payload, contentType: packet.properties?.contentType, contentEncoding, retained: packet.retain, at: Date.now() };
      if (topic.endsWith('/telemetry') || topic.endsWith('/events')) {
        const batch = decodeBatch(payload);
        arrival.records = batch.records;
        arrival.incarnation = batch.incarnation;
        for (const r of arrival.records) this.take(r);
      } else arrival.body = decodeJson(payload);
      this.arrivals.push(arrival);
    });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(this.filter, { qos: 1 });
  }

  private take(r: JournalRecord): void {
    const print = JSON.stringify(r);
    const before = this.seen.get(r.seq);
    if (before === undefined) this.seen.set(r.seq, print);
    else if (before === print) this.duplicates++;
    else this.conflicts.push(r.seq);
    if (r.kind === 'gap') this.gaps.push({ fromSeq: r.fromSeq, toSeq: r.toSeq, count: r.count, reason: r.reason, seq: r.seq });
  }

  /** Accepted seqs that never arrived. */
  missing(accepted: readonly [number, number][]): number[] {
    const out: number[] = [];
    for (const [a, b] of accepted) for (let s = a; s <= b; s++) if (!this.seen.has(s)) out.push(s);
    return out;
  }

  /**
   * Seqs up to `through` (default: the highest that arrived) which neither arrived nor lie in a
   * gap record's range. Events go at once and telemetry once per interval, so a gateway stopped
   * under load leaves telemetry below its last event's seq unsent: pass what was accepted then.
   */
  unexplained(through?: number): number[] {
    const out: number[] = [];
    let max = through ?? 0;
    if (through === undefined) for (const s of this.seen.keys()) if (s > max) max = s;
    const inGap = (s: number) => this.gaps.some((g) => s >= g.fromSeq && s <= g.toSeq);
    for (let s = 1; s <= max; s++) if (!this.seen.has(s) && !inGap(s)) out.push(s);
    return out;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.client ? this.client.end(true, {}, () => resolve()) : resolve()));
  }
}

async function childMain(opts: ChildOptions): Promise<void> {
  // Past RLIMIT_FSIZE the kernel also sends SIGXFSZ, which would kill the process: a real full
  // disk sends none, so ignore it and let the write fail with EFBIG.
  if (opts.fileSizeLimit) process.on('SIGXFSZ', () => undefined);
  const { Journal } = await import('../../src/journal/journal.ts');
  const { Uplink } = await import('../../src/uplink/uplink.ts');
  const { JournalConfig } = await import('../../src/config/schema-journal.ts');
  const { UplinkConfig } = await import('../../src/config/schema-uplink.ts');
  const { REDACT } = await import('../../src/core/log.ts');
  const { pino } = await import('pino');
  // stdout carries the protocol: logs go to stderr.
  const log = pino({ level: opts.logLevel ?? 'warn', redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination(2));
  const journal = await Journal.open(opts.dataDir, JournalConfig.parse(opts.journal ?? {}), log);
  const { ensureBoxKey } = await import('../../src/chain/keys.ts');
  const uplink = new Uplink(UplinkConfig.parse({ url: opts.url, ...opts.uplink }), {
    journal,
    ...(opts.keysDir && { key: ensureBoxKey(opts.keysDir).key }),
    log,
    gatewayId: opts.gatewayId,
    version: 'test',
    latest: () => ({ doc: { gatewayId: opts.gatewayId, ts: new Date().toISOString(), nextSeq: journal.stats().nextSeq }, changeKey: '' }),
  });
  uplink.start();

  let runFrom = 0;
  let runTo = -1;
  let flushQueued = false;
  const flushRun = () => {
    flushQueued = false;
    if (runTo >= runFrom) process.stdout.write(`A ${runFrom} ${runTo}\n`);
    runTo = runFrom - 1;
  };
  const accept = (seq: number) => {
    if (seq === runTo + 1) runTo = seq;
    else {
      flushRun();
      runFrom = runTo = seq;
    }
    if (!flushQueued) {
      flushQueued = true;
      setImmediate(flushRun);
    }
  };
  const sink = (d: RecordDraft) =>
    journal.append(d).then(
      (r) => accept(r.seq),
      () => undefined,
    );

  const probes = opts.probes ?? 8;
  const values = Array.from({ length: probes }, () => 40);
  const tickMs = 10;
  let owed = 0;
  const load = setInterval(() => {
    owed += (opts.readingsPerSec * tickMs) / 1000;
    const ts = new Date().toISOString();
    for (; owed >= 1; owed--) {
      const p = Math.floor(Math.random() * probes);
      values[p]! += Math.round(Math.random() * 2 - 1);
      void sink({ kind: 'temperature', ts, tq: 'system', probe: `p${p}`, compartment: p % 2 ? 'rear' : 'front', value: values[p]! / 10, quality: 'good' });
    }
  }, tickMs);
  const alarms = opts.eventEveryMs
    ? setInterval(() => void sink({ kind: 'event', ts: new Date().toISOString(), tq: 'system', type: 'alarm', severity: 'critical', source: 'p1', message: 'p1 above 5 C' }), opts.eventEveryMs)
    : undefined;
  const status = setInterval(() => process.stdout.write(`S ${JSON.stringify({ stats: journal.stats(), journal: journal.health(), uplink: uplink.health() })}\n`), 100);
  process.once('SIGTERM', () => {
    clearInterval(load);
    clearInterval(alarms);
    clearInterval(status);
    void (async () => {
      await uplink.stop();
      await journal.close();
      flushRun();
      process.exit(0);
    })();
  });
  process.stdout.write('R\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  childMain(JSON.parse(process.argv[2]!) as ChildOptions).catch((err: unknown) => {
    process.stderr.write(`gateway child failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
