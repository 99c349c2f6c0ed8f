import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./modbus_slave.py', import.meta.url));

export interface UnitSpec {
  ir?: Record<number, number[]>;
  hr?: Record<number, number[]>;
  co?: Record<number, number[]>;
  di?: Record<number, number[]>;
  fail?: { ir?: number[]; hr?: number[] };
  delay?: number;
}
export type Transport = { tcp: number } | { rtuTcp: number } | { serial: string };

/**
 * A pymodbus slave (test/peers/modbus_slave.py) as a child process. Units missing from `units`
 * never answer. `set` changes registers while it runs; `stop` kills it and waits for the exit.
 */
export class PymodbusSlave {
  private proc: ChildProcess | undefined;
  private lines: string[] = [];
  private waiters: ((line: string) => void)[] = [];
  stderr = '';

  constructor(
    private readonly transport: Transport,
    private readonly units: Record<number, UnitSpec>,
  ) {}

  async start(): Promise<void> {
    const t = this.transport;
    const args = 'tcp' in t ? ['--tcp', String(t.tcp)] : 'rtuTcp' in t ? ['--rtu-tcp', String(t.rtuTcp)] : ['--serial', t.serial];
    const proc = spawn('/usr/bin/python3', [SCRIPT, ...args, JSON.stringify({ units: this.units })], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const w = this.waiters.shift();
      if (w) w(line);
      else this.lines.push(line);
    });
    const exited = new Promise<string>((resolve) => proc.once('exit', (code) => resolve(`pymodbus exited with ${code}: ${this.stderr}`)));
    const ready = await Promise.race([this.nextLine(), exited]);
    if (ready !== 'ready') throw new Error(ready);
  }

  private nextLine(): Promise<string> {
    const line = this.lines.shift();
    return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => this.waiters.push(resolve));
  }

  private async command(cmd: string): Promise<string> {
    this.proc!.stdin!.write(`${cmd}\n`);
    return this.nextLine();
  }

  async set(unit: number, table: 'ir' | 'hr' | 'co' | 'di', address: number, words: number[]): Promise<void> {
    const reply = await this.command(`set ${unit} ${table} ${address} ${words.join(' ')}`);
    if (reply !== 'ok') throw new Error(reply);
  }

  async get(unit: number, table: 'ir' | 'hr' | 'co', address: number, count: number): Promise<number[]> {
    return JSON.parse(await this.command(`get ${unit} ${table} ${address} ${count}`)) as number[];
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }
}
