import { parseArgs } from 'node:util';
import type pg from 'pg';
import { parsePublicKey } from '../chain/keys.ts';
import { ConfigError } from '../config/errors.ts';
import { createLogger } from '../core/log.ts';
import { loadReceiverConfig, type ReceiverConfig } from '../receiver/config.ts';
import { exportReadingsCsv } from '../receiver/export-csv.ts';
import { addGatewayKey, listGatewayKeys } from '../receiver/keys-table.ts';
import { migrate } from '../receiver/migrate.ts';
import { openPool } from '../receiver/pool.ts';
import { startReceiver } from '../receiver/receiver.ts';
import { gatewayStatus, type GatewayStatus } from '../receiver/status.ts';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CommandIo } from './io.ts';
import { stopWithin } from './run.ts';

/** `coldgate receive` and `coldgate receiver status|export|keys` (src/receiver/README.md). */

const STOP_DEADLINE_MS = 5000;

function need(io: CommandIo, command: string, value: string | undefined, flag: string, example: string): value is string {
  if (value !== undefined && value !== '') return true;
  io.stderr.write(`${command}: pass ${flag} (e.g. ${flag} ${example})\n`);
  return false;
}

/** Runs `work` with a pool on `url`; a database that cannot be reached is one line naming it. */
async function withDb(io: CommandIo, command: string, url: string, work: (pool: pg.Pool) => Promise<number>): Promise<number> {
  const pool = await openPool(url, 2);
  pool.on('error', () => undefined);
  try {
    await migrate(pool);
    return await work(pool);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    io.stderr.write(`${command}: database ${redact(url)}: ${e.code ? `${e.code} ` : ''}${e.message}\n`);
    return EXIT_FAILURE;
  } finally {
    await pool.end();
  }
}

const redact = (url: string) => url.replace(/(\/\/[^:/@]*):[^@/]*@/, '$1:(redacted)@');

export async function receiveCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { mqtt: { type: 'string' }, db: { type: 'string' }, share: { type: 'string' }, config: { type: 'string' }, 'metrics-port': { type: 'string' }, name: { type: 'string' } },
    strict: true,
  });
  if (!need(io, 'receive', values.mqtt, '--mqtt', 'mqtt://broker:1883') || !need(io, 'receive', values.db, '--db', 'postgres://user@host/coldgate')) return EXIT_USAGE;
  let config: ReceiverConfig;
  try {
    config = loadReceiverConfig(values.config);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.stderr.write(`receive: ${err.message}\n`);
    return EXIT_USAGE;
  }
  if (values.share !== undefined) config.shareGroup = values.share;
  if (values.name !== undefined) config.name = values.name;
  if (values['metrics-port'] !== undefined) {
    const port = Number(values['metrics-port']);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      io.stderr.write(`receive: --metrics-port ${values['metrics-port']}: expected a port number 0-65535\n`);
      return EXIT_USAGE;
    }
    config.metricsPort = port;
  }
  const log = createLogger(config.logLevel);
  process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection'));
  let receiver;
  try {
    receiver = await startReceiver({ mqttUrl: values.mqtt, db: values.db, config, log });
  } catch (err) {
    // Only a bad option gets here: the database and the broker are waited for.
    io.stderr.write(`receive: not started: ${(err as Error).message}\n`);
    return EXIT_FAILURE;
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  log.info({ signal }, 'stopping');
  await stopWithin(STOP_DEADLINE_MS, () => receiver.stop(), log);
  return EXIT_OK;
}

function statusLine(s: GatewayStatus): string {
  const holes = s.holes.length ? s.holes.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',') : 'none';
  const gaps = s.gaps.length ? s.gaps.map((g) => `${g.fromSeq}-${g.toSeq} ${g.reason}`).join(', ') : 'none';
  return `${s.gatewayId}  incarnation ${s.incarnation || '-'}  records ${s.records}  duplicates ${s.duplicatesDropped}  contiguous through ${s.contiguousThrough}  holes ${holes}  gaps ${gaps}  chain ${s.chain}  last batch ${s.lastBatchAt ?? 'never'}${s.incarnations.length > 1 ? `  (${s.incarnations.length} incarnations)` : ''}`;
}

export async function receiverStatusCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { db: { type: 'string' }, json: { type: 'boolean' }, gateway: { type: 'string' } }, strict: true });
  if (!need(io, 'receiver status', values.db, '--db', 'postgres://user@host/coldgate')) return EXIT_USAGE;
  return withDb(io, 'receiver status', values.db, async (pool) => {
    const list = await gatewayStatus(pool, values.gateway);
    if (values.json) io.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    else if (list.length === 0) io.stdout.write('no gateway has sent anything yet\n');
    else for (const s of list) io.stdout.write(`${statusLine(s)}\n`);
    return EXIT_OK;
  });
}

function parseTime(io: CommandIo, flag: string, v: string): Date | undefined {
  const d = new Date(v);
  if (!Number.isNaN(d.getTime())) return d;
  io.stderr.write(`receiver export: ${flag} ${v}: expected an ISO 8601 time, e.g. 2026-03-01T00:00:00Z\n`);
  return undefined;
}

export async function receiverExportCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { db: { type: 'string' }, gateway: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, format: { type: 'string', default: 'csv' } }, strict: true });
  const c = 'receiver export';
  if (!need(io, c, values.db, '--db', 'postgres://user@host/coldgate') || !need(io, c, values.gateway, '--gateway', 'van-17') || !need(io, c, values.from, '--from', '2026-03-01T00:00:00Z') || !need(io, c, values.to, '--to', '2026-03-02T00:00:00Z')) return EXIT_USAGE;
  if (values.format !== 'csv') {
    io.stderr.write(`${c}: --format ${values.format}: only csv\n`);
    return EXIT_USAGE;
  }
  const from = parseTime(io, '--from', values.from);
  const to = parseTime(io, '--to', values.to);
  if (!from || !to) return EXIT_USAGE;
  return withDb(io, c, values.db, async (pool) => {
    await exportReadingsCsv(pool, values.gateway!, from, to, (chunk) => io.stdout.write(chunk));
    return EXIT_OK;
  });
}

export async function receiverKeysCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { db: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  const [action, gatewayId, pubkey] = positionals;
  const c = 'receiver keys';
  if (action !== 'add' && action !== 'list') {
    io.stderr.write(`${c}: add GATEWAY PUBKEY | list (PUBKEY: a PEM file or the raw key in base64, as coldgate keys show prints)\n`);
    return EXIT_USAGE;
  }
  if (!need(io, c, values.db, '--db', 'postgres://user@host/coldgate')) return EXIT_USAGE;
  if (action === 'list') {
    return withDb(io, c, values.db, async (pool) => {
      const keys = await listGatewayKeys(pool);
      if (values.json) io.stdout.write(`${JSON.stringify(keys)}\n`);
      else for (const k of keys) io.stdout.write(`${k.gatewayId}  ${k.fingerprint}  added ${k.addedAt}\n`);
      if (!values.json && keys.length === 0) io.stdout.write('no keys registered: chains are not checked (coldgate receiver keys add GATEWAY PUBKEY)\n');
      return EXIT_OK;
    });
  }
  if (gatewayId === undefined || pubkey === undefined) {
    io.stderr.write(`${c} add: pass GATEWAY and PUBKEY (e.g. receiver keys add van-17 box.pub)\n`);
    return EXIT_USAGE;
  }
  let key;
  try {
    key = parsePublicKey(pubkey);
  } catch (err) {
    io.stderr.write(`${c} add: PUBKEY: ${(err as Error).message.replace(/^--key /, '')}\n`);
    return EXIT_USAGE;
  }
  return withDb(io, c, values.db, async (pool) => {
    try {
      const { fingerprint, replaced } = await addGatewayKey(pool, gatewayId, key);
      io.stdout.write(`${gatewayId}: key ${fingerprint} ${replaced ? 'replaces the previous one' : 'registered'}; batches from now on are checked\n`);
      return EXIT_OK;
    } catch (err) {
      if ((err as { code?: string }).code) throw err;
      io.stderr.write(`${c} add: PUBKEY: ${(err as Error).message}\n`);
      return EXIT_USAGE;
    }
  });
}
