import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { LoadedConfig } from '../config/load.ts';
import { systemTreeOf } from '../config/schema-common.ts';
import type { GatewayConfig } from '../config/schema.ts';

/**
 * Bytes one reading may cost in a batch at worst: a comms-error record as plain JSON (MQTT
 * 3.1.1 sends no compression) measures about 190 bytes; a good reading, deflated, about 3.
 */
const WORST_BYTES_PER_READING = 200;
/** A rate limit must let the uplink send twice what comes in, or a backlog never drains. */
const DRAIN_FACTOR = 2;

export interface RemoteChange {
  current: LoadedConfig;
  next: LoadedConfig;
  /** Whether the command itself carried `uplink.password` (not the "(unchanged)" marker). */
  passwordSent: boolean;
}

/** Readings per second the probes and the GPS (while moving) produce at most. */
function readingsPerSec(cfg: GatewayConfig): number {
  const probes = cfg.probes.reduce((sum, p) => sum + 1000 / p.intervalMs, 0);
  return probes + (cfg.gps ? 1000 / cfg.gps.movingIntervalMs : 0);
}

/** The smallest `uplink.rateLimitBytesPerSec` (other than 0, unlimited) under which the journal would only grow. */
export function minUplinkRate(cfg: GatewayConfig): number {
  return Math.ceil(readingsPerSec(cfg) * WORST_BYTES_PER_READING * DRAIN_FACTOR);
}

/** `dir` with the symbolic links of its existing part resolved: a link into /proc counts as /proc. */
function realDir(dir: string): string {
  let existing = dir;
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  return path.join(realpathSync(existing), path.relative(existing, dir));
}

/** Host and port with the scheme's default port, and whether it is TLS: `mqtts://b` -> `tls b:8883`. */
function endpoint(url: string): string {
  const u = new URL(url);
  const tls = ['mqtts:', 'ssl:', 'wss:'].includes(u.protocol);
  const port = u.port || { 'mqtt:': '1883', 'tcp:': '1883', 'mqtts:': '8883', 'ssl:': '8883', 'ws:': '80', 'wss:': '443' }[u.protocol];
  return `${tls ? 'tls' : 'plain'} ${u.hostname}:${port}`;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * What a remote `set-config` may not do, as `field: why` lines (empty: allowed). The rules come
 * from the running config, never from the one that is sent, so a command cannot grant itself
 * a permission. Fields are compared after defaults and environment overrides.
 */
export function remoteChangeProblems({ current, next, passwordSent }: RemoteChange): string[] {
  const was = current.config;
  const now = next.config;
  const allow = was.local.remoteChanges;
  const problems: string[] = [];
  if (now.gatewayId !== was.gatewayId) problems.push(`gatewayId: stays "${was.gatewayId}" (it names this gateway's topics and records; provision the box again to change it)`);
  if (!same(now.local.remoteChanges, allow)) problems.push('local.remoteChanges: can only be changed in the file on the box');
  if (now.local.pin !== was.local.pin && !allow.pin) problems.push('local.pin: cannot be changed or removed remotely (local.remoteChanges.pin is off in the file on the box); send "(unchanged)"');
  if (now.dataDir !== was.dataDir && !allow.dataDir) problems.push(`dataDir: cannot be changed remotely (local.remoteChanges.dataDir is off in the file on the box); it stays ${was.dataDir}`);
  const tree = systemTreeOf(realDir(now.dataDir));
  if (tree) problems.push(`dataDir: ${now.dataDir} is under ${tree}: give a folder on a disk`);
  if (was.uplink.tls?.rejectUnauthorized !== false && now.uplink.tls?.rejectUnauthorized === false) problems.push('uplink.tls.rejectUnauthorized: cannot be turned off remotely (the box would send its credentials to any server)');
  const [from, to] = [endpoint(was.uplink.url), endpoint(now.uplink.url)];
  const ownPassword = passwordSent && !next.overrides.includes('COLDGATE_MQTT_PASSWORD');
  if (from !== to && now.uplink.password !== undefined && !ownPassword)
    problems.push(`uplink.password: the broker changes from ${from} to ${to}; the stored password is only for the current broker: send the new broker's password in the command`);
  const rate = now.uplink.rateLimitBytesPerSec;
  const floor = minUplinkRate(now);
  if (rate > 0 && rate < floor && rate !== was.uplink.rateLimitBytesPerSec)
    problems.push(`uplink.rateLimitBytesPerSec: ${rate} B/s is below what the probes and GPS produce (${readingsPerSec(now).toFixed(1)} readings/s need at least ${floor} B/s): give 0 (unlimited) or at least ${floor}`);
  return problems;
}
