import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { waitFor } from './net.ts';

export interface MosquittoOptions {
  port: number;
  /** Folder for its config, log and persistence; kept across restart() so sessions survive. */
  dir: string;
  /** Extra lines for mosquitto.conf (listeners, TLS, auth). */
  extra?: string[];
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Brokers still running when the test worker exits (a failed test skips its stop): killed then. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/**
 * A real mosquitto with its own config and persistence. As root it drops to user mosquitto,
 * so the folder is handed to that user and every folder above it must be traversable.
 */
export class Mosquitto {
  private proc: ChildProcess | undefined;
  readonly url: string;

  constructor(private readonly opts: MosquittoOptions) {
    this.url = `mqtt://127.0.0.1:${opts.port}`;
    mkdirSync(opts.dir, { recursive: true });
    // mkdtemp folders are 0700: open the folder and its parent so user mosquitto can reach it.
    chmodSync(path.dirname(opts.dir), 0o755);
    chmodSync(opts.dir, 0o755);
    const conf = [
      `listener ${opts.port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${opts.dir}/`,
      'autosave_interval 1',
      'max_queued_messages 100000',
      `log_dest file ${opts.dir}/mosquitto.log`,
      ...(opts.extra ?? []),
    ];
    writeFileSync(path.join(opts.dir, 'mosquitto.conf'), `${conf.join('\n')}\n`);
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'mosquitto']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'mosquitto']).toString().trim());
      chownSync(opts.dir, uid, gid);
    }
  }

  async start(): Promise<void> {
    const proc = spawn('mosquitto', ['-c', path.join(this.opts.dir, 'mosquitto.conf')], { stdio: 'ignore' });
    this.proc = proc;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    await waitFor(() => canConnect(this.opts.port), 10_000, `mosquitto on port ${this.opts.port}`);
  }

  /** SIGTERM: mosquitto saves its persistence file and exits, as a service restart does. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    await exited;
    this.proc = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
