import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GatewayConfigInput } from '../../src/config/schema.ts';
import { freePort, waitFor } from './net.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** config/demo.json moved to free ports and a temp data dir, so tests run beside a live demo. */
export async function demoConfig(dir: string, patch: (cfg: GatewayConfigInput) => void = () => {}): Promise<{ file: string; brokerPort: number; httpPort: number }> {
  const cfg = JSON.parse(readFileSync(path.join(ROOT, 'config/demo.json'), 'utf8')) as GatewayConfigInput;
  const [modbus, nmea, broker, http] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  cfg.dataDir = path.join(dir, 'data');
  cfg.sim!.modbus!.port = modbus;
  cfg.sim!.nmea!.port = nmea;
  for (const bus of cfg.buses ?? []) if (bus.type === 'tcp' && bus.host === '127.0.0.1') bus.port = modbus;
  cfg.gps!.source = `tcp://127.0.0.1:${nmea}`;
  cfg.uplink!.embeddedBroker!.port = broker;
  cfg.uplink!.url = `mqtt://127.0.0.1:${broker}`;
  cfg.local!.http!.port = http;
  delete cfg.$schema;
  patch(cfg);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'gateway.json');
  writeFileSync(file, JSON.stringify(cfg, null, 2));
  return { file, brokerPort: broker, httpPort: http };
}

/** Gateways still running when the test worker exits (a failed test skips its stop): killed then. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/** `coldgate run` as a child process, the way an installer or systemd starts it. */
export class GatewayProcess {
  private proc: ChildProcess | undefined;
  output = '';

  constructor(
    private readonly configFile: string,
    private readonly env: NodeJS.ProcessEnv = {},
    /** How to start coldgate: the sources through tsx (default), or e.g. a built bundle with plain node. */
    private readonly entry: string[] = ['--import', 'tsx', path.join(ROOT, 'src/cli/coldgate.ts')],
  ) {}

  async start(readyPattern = /coldgate running/): Promise<void> {
    this.output = '';
    this.proc = spawn(process.execPath, [...this.entry, 'run', '--config', this.configFile], {
      cwd: ROOT,
      env: { ...process.env, COLDGATE_LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = this.proc;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    this.proc.stdout!.on('data', (d: Buffer) => (this.output += d.toString()));
    this.proc.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    await waitFor(() => readyPattern.test(this.output) || this.proc?.exitCode !== null, 20_000, 'the gateway to start');
    if (this.proc.exitCode !== null) throw new Error(`gateway exited with ${this.proc.exitCode}:\n${this.output}`);
  }

  /** Started and not exited. */
  running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `signal` and resolves with the exit code and how long the exit took. */
  async stop(signal: NodeJS.Signals = 'SIGINT'): Promise<{ code: number | null; ms: number }> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return { code: proc?.exitCode ?? null, ms: 0 };
    const t0 = Date.now();
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    proc.kill(signal);
    const code = await exited;
    return { code, ms: Date.now() - t0 };
  }
}
