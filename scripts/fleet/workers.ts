import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Managed } from './processes.ts';
import type { JournalReport, ParentMessage, WorkerMessage, WorkerOptions } from './protocol.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.ts');

/** The parent's handle on one process of simulated gateways (worker.ts). */
export class FleetWorker {
  private readonly managed: Managed;

  constructor(name: string, opts: WorkerOptions, logFile: string, root: string) {
    this.managed = new Managed(name, [process.execPath, '--import', 'tsx', WORKER, JSON.stringify(opts)], logFile, { cwd: root, ipc: true });
  }

  get name(): string {
    return this.managed.name;
  }

  /** Starts it (again, on the same data folders) and waits until every gateway runs. */
  async start(timeoutMs = 60_000): Promise<void> {
    await this.next(this.managed.start(), 'ready', timeoutMs);
  }

  kill9(): Promise<void> {
    return this.managed.kill('SIGKILL');
  }

  /** Stops the probes; resolves with each journal's last committed seq. */
  async stopProducing(): Promise<JournalReport[]> {
    const proc = this.managed.proc!;
    const report = this.next(proc, 'report', 30_000);
    this.send({ type: 'stop-producing' });
    return (await report).journals;
  }

  async close(): Promise<void> {
    if (!this.managed.running()) return;
    const proc = this.managed.proc!;
    const exited = new Promise((r) => proc.once('exit', r));
    this.send({ type: 'close' });
    const timer = setTimeout(() => void this.managed.kill(), 20_000);
    await exited;
    clearTimeout(timer);
  }

  rssMib(): number {
    return this.managed.rssMib();
  }

  private send(message: ParentMessage): void {
    this.managed.proc!.send(message);
  }

  private next<T extends WorkerMessage['type']>(proc: NonNullable<Managed['proc']>, type: T, timeoutMs: number): Promise<Extract<WorkerMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`${this.name}: no ${type} within ${timeoutMs} ms; its log ends:\n${this.managed.tail()}`)), timeoutMs);
      const onMessage = (m: WorkerMessage) => {
        if (m.type === type) done(undefined, m as Extract<WorkerMessage, { type: T }>);
      };
      const onExit = (code: number | null) => done(new Error(`${this.name} exited (${code}) before ${type}; its log (${this.managed.logFile}) ends:\n${this.managed.tail()}`));
      const done = (err?: Error, m?: Extract<WorkerMessage, { type: T }>) => {
        clearTimeout(timer);
        proc.off('message', onMessage);
        proc.off('exit', onExit);
        if (err) reject(err);
        else resolve(m!);
      };
      proc.on('message', onMessage);
      proc.once('exit', onExit);
    });
  }
}
