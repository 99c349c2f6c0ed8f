import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from './net.ts';

/**
 * A real PostgreSQL server in a temporary cluster (initdb + pg_ctl), on a free port with its
 * socket in the cluster's folder. PostgreSQL refuses to run as root, so as root the cluster
 * belongs to, and the server runs as, user `postgres` (Debian's package creates it) or `nobody`.
 */
export interface PgCluster {
  /** postgres://postgres@127.0.0.1:PORT/coldgate: a superuser without a password (trust on loopback). */
  url: string;
  port: number;
  dir: string;
  /** A URL to another database of the same server, created on first use. */
  database(name: string): Promise<string>;
  /** pg_ctl stop (fast), then the folder is removed. */
  stop(): Promise<void>;
  /** pg_ctl stop -m immediate: the server dies without a checkpoint, as on a crash. */
  crash(): void;
  /** pg_ctl start again on the same folder and port. */
  start(): Promise<void>;
}

/** The newest /usr/lib/postgresql/N/bin that has initdb; PGBIN overrides. */
export function pgBin(): string | undefined {
  if (process.env.PGBIN) return process.env.PGBIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
      const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
      return { name, uid, gid };
    } catch {
      // next candidate
    }
  }
  throw new Error('running as root, but neither user postgres nor nobody exists to run PostgreSQL as');
}

/** `bin/cmd args` as the server's user (pg_ctl, like the server, refuses to run as root). */
function runAs(user: { uid: number; gid: number } | undefined, bin: string, cmd: string, args: string[], cwd?: string) {
  const full = path.join(bin, cmd);
  return user ? spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', full, ...args], { encoding: 'utf8', cwd }) : spawnSync(full, args, { encoding: 'utf8', cwd });
}

/** Servers still running when the test worker exits (a failed test skips its stop): stopped then. */
const running = new Map<string, () => void>();
process.once('exit', () => {
  for (const stop of running.values()) stop();
});

export async function startPg(): Promise<PgCluster> {
  const bin = pgBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/install-peers.sh (as root) or apt-get install postgresql');
  const user = serverUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coldgate-pg-'));
  const data = path.join(dir, 'data');
  mkdirSync(data);
  const run = (cmd: string, args: string[]) => {
    const res = runAs(user, bin, cmd, args, dir);
    if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}): ${res.stderr || res.stdout}`);
  };
  if (user) {
    // mkdtemp folders are 0700 and root's: hand the cluster's folder to the server's user.
    chmodSync(dir, 0o755);
    chownSync(dir, user.uid, user.gid);
    chownSync(data, user.uid, user.gid);
  }
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  writeFileSync(
    path.join(data, 'postgresql.auto.conf'),
    [`port = ${port}`, `listen_addresses = '127.0.0.1'`, `unix_socket_directories = '${dir}'`, 'fsync = on', 'max_connections = 200', 'shared_buffers = 64MB'].join('\n') + '\n',
  );
  if (user) chownSync(path.join(data, 'postgresql.auto.conf'), user.uid, user.gid);
  const start = async () => {
    run('pg_ctl', ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start']);
    running.set(dir, () => runAs(user, bin, 'pg_ctl', ['-D', data, '-m', 'immediate', 'stop']));
    await waitFor(() => existsSync(path.join(dir, `.s.PGSQL.${port}`)), 10_000, 'the PostgreSQL socket');
  };
  await start();
  const psql = (sql: string) => run('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', sql]);
  psql('CREATE DATABASE coldgate');
  const created = new Set(['coldgate', 'postgres']);
  const urlOf = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;
  return {
    url: urlOf('coldgate'),
    port,
    dir,
    async database(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${name}: lower-case letters, digits and _ only`);
      if (!created.has(name)) psql(`CREATE DATABASE ${name}`);
      created.add(name);
      return urlOf(name);
    },
    async stop() {
      if (running.has(dir)) run('pg_ctl', ['-D', data, '-w', '-m', 'fast', 'stop']);
      running.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
    crash() {
      run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      running.delete(dir);
    },
    start,
  };
}
