import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../test/helpers/net.ts';
import { Managed } from './processes.ts';
import { addBuckets, histogram, sample, type Buckets } from './prometheus.ts';

/** The receivers' /metrics names the simulation reads (src/receiver/README.md). */
export const METRICS = {
  commitSeconds: 'coldgate_receiver_commit_seconds',
  records: 'coldgate_receiver_records_total',
  duplicates: 'coldgate_receiver_duplicates_total',
} as const;

export interface ReceiverSpec {
  name: string;
  mqtt: string;
  db: string;
  share: string;
  reorderTimeoutMs: number;
  dir: string;
  root: string;
}

/**
 * One `coldgate receive` process, as an operator runs it; the simulation kills it with SIGKILL
 * and starts it again. Its /metrics are scraped every few seconds: a killed process's counters
 * die with it, so the last scrape of each start is kept and they are summed at the end.
 */
export class ReceiverProc {
  private managed: Managed | undefined;
  private metricsPort = 0;
  /** Per start, the last /metrics text read. */
  private readonly scrapes: string[] = [];
  peakRssMib = 0;

  constructor(readonly spec: ReceiverSpec) {}

  async start(): Promise<void> {
    this.metricsPort = await freePort();
    const config = path.join(this.spec.dir, `${this.spec.name}.json`);
    writeFileSync(config, JSON.stringify({ metricsPort: this.metricsPort, reorderTimeoutMs: this.spec.reorderTimeoutMs, name: this.spec.name }, null, 2));
    const argv = [process.execPath, '--import', 'tsx', 'src/cli/coldgate.ts', 'receive', '--mqtt', this.spec.mqtt, '--db', this.spec.db, '--share', this.spec.share, '--config', config];
    this.managed ??= new Managed(this.spec.name, argv, path.join(this.spec.dir, `${this.spec.name}.log`), { cwd: this.spec.root });
    this.managed.start();
    this.scrapes.push('');
    await this.waitMetrics();
  }

  private async waitMetrics(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.scrape())) {
      if (!this.managed!.running()) throw new Error(`receiver ${this.spec.name} exited at start; its log (${this.managed!.logFile}) ends:\n${this.managed!.tail()}`);
      if (Date.now() > deadline) throw new Error(`receiver ${this.spec.name}: no /metrics on port ${this.metricsPort} within ${timeoutMs} ms; its log ends:\n${this.managed!.tail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Reads /metrics once (keeps it as this start's latest) and samples RSS; false when it did not answer. */
  async scrape(): Promise<boolean> {
    if (!this.managed?.running()) return false;
    this.peakRssMib = Math.max(this.peakRssMib, this.managed.rssMib());
    try {
      const res = await fetch(`http://127.0.0.1:${this.metricsPort}/metrics`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) return false;
      this.scrapes[this.scrapes.length - 1] = await res.text();
      return true;
    } catch {
      return false;
    }
  }

  rssMib(): number {
    return this.managed?.rssMib() ?? 0;
  }

  kill9(): Promise<void> {
    return this.managed!.kill('SIGKILL');
  }

  /** SIGTERM: the receiver finishes its transaction and leaves. */
  stop(): Promise<void> {
    return this.managed?.kill('SIGTERM') ?? Promise.resolve();
  }

  get starts(): number {
    return this.managed?.starts ?? 0;
  }

  /** Commit latency buckets over every start's last scrape. */
  commitBuckets(): Buckets {
    return this.scrapes.reduce((acc, text) => addBuckets(acc, histogram(text, METRICS.commitSeconds)), new Map() as Buckets);
  }

  /** A counter summed over every start's last scrape. */
  counter(name: string): number {
    return this.scrapes.reduce((n, text) => n + (sample(text, name) ?? 0), 0);
  }
}
