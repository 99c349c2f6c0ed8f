import type { Logger } from '../../src/core/log.ts';
import { backoffDelay, nextDue } from './backoff.ts';
import type { Span } from './coalesce.ts';
import { classifyError, type CommsFault } from './faults.ts';
import type { BusLink } from './link.ts';

/** What the scheduler needs of a link; tests drive it with a scripted one. */
export type PollLink = Pick<BusLink, 'cfg' | 'read' | 'writeCoil' | 'readBit'>;
import type { ProbePlan, ReadJob } from './plan.ts';
import type { PollOutcome } from './reading.ts';

/** One probe's result of a poll. */
export interface Poll {
  plan: ProbePlan;
  outcome: PollOutcome;
}

interface Slave {
  failures: number;
  until: number;
}

/** A one-off request between the polls: a coil write (ahead of everything) or a door or defrost contact read. */
interface Urgent {
  kind: 'write' | 'read';
  /** For errors people read, e.g. "coil write". */
  what: string;
  unit: number;
  address: number;
  send: () => Promise<unknown>;
  /** Lost or garbled answers are retried this often before the caller hears of it. */
  attempts: number;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

interface Scheduled extends ReadJob {
  due: number;
}

const WRITE_ATTEMPTS = 3;

const inside = (s: Span, r: Span) => s.address >= r.address && s.address + s.count <= r.address + r.count;

export interface BusCounters {
  requests: number;
  timeouts: number;
  /** Poll slots dropped because the bus was still busy with earlier ones. */
  overruns: number;
  coilWrites: number;
}

/**
 * The one poller of a bus: a single loop that sends one request at a time (what RTU demands and
 * what keeps a TCP gateway's serial side sane), runs each job on its own fixed cadence, puts coil
 * writes ahead of polls, and leaves a slave alone for a while after repeated timeouts so that
 * the others keep their rate.
 */
export class BusScheduler {
  private readonly jobs: Scheduled[];
  private readonly slaves = new Map<number, Slave>();
  private readonly urgent: Urgent[] = [];
  /** Bit reads take turns with due polls, so contacts polled fast never starve the probes. */
  private lastWasRead = false;
  private stopped = true;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  readonly counters: BusCounters = { requests: 0, timeouts: 0, overruns: 0, coilWrites: 0 };

  constructor(
    private readonly link: PollLink,
    jobs: readonly ReadJob[],
    /** Every probe of a job at once (one coalesced read): the journal then commits them with one promise. */
    private readonly onPolls: (polls: Poll[]) => void,
    private readonly log: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.jobs = jobs.map((j) => ({ ...j, reads: j.reads.map((r) => ({ ...r })), due: 0 }));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const t = this.now();
    for (const j of this.jobs) j.due = t;
    this.loopDone = this.loop();
  }

  /** Stops after the request in flight (the link's stop() cuts that short); pending writes are refused. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    for (const u of this.urgent.splice(0)) u.reject(new Error(`${u.what} to unit ${u.unit} address ${u.address} not sent: the bus was stopped`));
    await this.loopDone;
  }

  /** Runs every job once, in order, without the cadence: what `coldgate check` needs. */
  async pollOnce(): Promise<void> {
    for (const job of this.jobs) await this.runJob(job);
  }

  /** Slaves currently skipped after repeated timeouts. */
  backingOff(): number[] {
    const t = this.now();
    // Asked every second by the health sweep: forEach, no entry arrays or iterators.
    const out: number[] = [];
    this.slaves.forEach((s, unit) => {
      if (s.until > t) out.push(unit);
    });
    return out;
  }

  writeCoil(unit: number, address: number, value: boolean): Promise<void> {
    this.counters.coilWrites += 1;
    return this.enqueue('write', 'coil write', unit, address, WRITE_ATTEMPTS, () => this.link.writeCoil(unit, address, value)).then(() => undefined);
  }

  /** One digital input (function 1 coil or 2 discrete input), read between polls. */
  readBit(unit: number, fn: 1 | 2, address: number): Promise<boolean> {
    const slave = this.slave(unit);
    if (slave.until > this.now()) return Promise.reject(new Error(`${fn === 1 ? 'coil' : 'discrete input'} read on bus ${this.link.cfg.id} unit ${unit} address ${address} skipped: unit not answering (${slave.failures} timeouts in a row)`));
    return this.enqueue('read', fn === 1 ? 'coil read' : 'discrete input read', unit, address, 1, () => this.link.readBit(unit, fn, address)) as Promise<boolean>;
  }

  private enqueue(kind: Urgent['kind'], what: string, unit: number, address: number, attempts: number, send: () => Promise<unknown>): Promise<unknown> {
    if (this.stopped) return Promise.reject(new Error(`${what} to unit ${unit} address ${address} not sent: the bus is not running`));
    return new Promise((resolve, reject) => {
      this.urgent.push({ kind, what, unit, address, send, attempts, resolve, reject });
      this.wake?.();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const job = this.jobs.reduce<Scheduled | undefined>((a, j) => (a === undefined || j.due < a.due ? j : a), undefined);
      const jobDue = job !== undefined && job.due <= this.now();
      const writeAt = this.urgent.findIndex((u) => u.kind === 'write');
      const nextAt = writeAt >= 0 ? writeAt : jobDue && this.lastWasRead ? -1 : this.urgent.length > 0 ? 0 : -1;
      if (nextAt >= 0) {
        const [urgent] = this.urgent.splice(nextAt, 1);
        this.lastWasRead = urgent!.kind === 'read';
        await this.runUrgent(urgent!);
        continue;
      }
      this.lastWasRead = false;
      const wait = job ? job.due - this.now() : 3_600_000;
      if (!job || wait > 0) {
        await this.sleep(wait);
        continue;
      }
      await this.runJob(job);
      const next = nextDue(job.due, job.intervalMs, this.now());
      job.due = next.due;
      this.counters.overruns += next.skipped;
    }
  }

  /** An alarm output must not stay silent because one answer was lost: lost or garbled answers are retried. */
  private async runUrgent(u: Urgent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.counters.requests += 1;
      try {
        const value = await u.send();
        if (u.kind === 'read') this.slave(u.unit).failures = 0;
        return u.resolve(value);
      } catch (err) {
        const fault = classifyError(err, this.link.cfg.timeoutMs);
        if (u.kind === 'read' && fault.kind === 'timeout') this.timedOut(u.unit, this.slave(u.unit));
        if (attempt < u.attempts && (fault.kind === 'timeout' || fault.kind === 'crc') && !this.stopped) continue;
        return u.reject(new Error(`${u.what} on bus ${this.link.cfg.id} unit ${u.unit} address ${u.address} failed: ${fault.text}`));
      }
    }
  }

  private slave(unit: number): Slave {
    let s = this.slaves.get(unit);
    if (!s) this.slaves.set(unit, (s = { failures: 0, until: 0 }));
    return s;
  }

  private async runJob(job: Scheduled): Promise<void> {
    const slave = this.slave(job.unit);
    if (slave.until > this.now()) {
      const fault: CommsFault = { kind: 'backoff', text: `unit not answering (${slave.failures} timeouts in a row), next try in ${Math.ceil((slave.until - this.now()) / 1000)} s` };
      this.onPolls(job.probes.map((plan) => ({ plan, outcome: { ok: false, fault } })));
      return;
    }
    const words = new Map<number, number>();
    const faults = new Map<number, CommsFault>();
    for (let i = 0; i < job.reads.length; i++) {
      const read = job.reads[i]!;
      this.counters.requests += 1;
      try {
        const data = await this.link.read(job.unit, job.fn, read.address, read.count);
        for (let k = 0; k < data.length; k++) words.set(read.address + k, data[k]!);
        slave.failures = 0;
      } catch (err) {
        const fault = classifyError(err, this.link.cfg.timeoutMs);
        const spans = job.spans.filter((s) => inside(s, read));
        // A merged read may span a register the device does not have: fall back to the wanted runs alone.
        if (fault.kind === 'exception' && fault.code === 2 && spans.length > 1) {
          this.log.warn({ event: 'modbus.read.split', bus: this.link.cfg.id, unit: job.unit, fn: job.fn, address: read.address, count: read.count }, 'device refused a merged read (exception 02); reading its registers one run at a time');
          job.reads.splice(i, 1, ...spans.map((s) => ({ ...s })));
          i -= 1;
          continue;
        }
        const lost = fault.kind === 'timeout' || fault.kind === 'disconnected' ? job.reads.slice(i) : [read];
        for (const r of lost) for (let a = r.address; a < r.address + r.count; a++) faults.set(a, fault);
        if (fault.kind === 'timeout') this.timedOut(job.unit, slave);
        else if (fault.kind !== 'disconnected') slave.failures = 0;
        // The rest of this job asks the same silent slave or a closed link: do not spend the bus on it.
        if (fault.kind === 'timeout' || fault.kind === 'disconnected') break;
      }
    }
    this.onPolls(job.probes.map((plan) => ({ plan, outcome: this.outcome(plan, words, faults) })));
  }

  private timedOut(unit: number, slave: Slave): void {
    this.counters.timeouts += 1;
    slave.failures += 1;
    const delay = backoffDelay(slave.failures, this.link.cfg.maxBackoffMs);
    if (delay > 0) {
      slave.until = this.now() + delay;
      this.log.debug({ event: 'modbus.slave.backoff', bus: this.link.cfg.id, unit, failures: slave.failures, delayMs: delay }, 'slave not answering; backing off');
    }
  }

  /** Runs for every probe of every poll: one array of words per probe. */
  private outcome(p: ProbePlan, words: Map<number, number>, faults: Map<number, CommsFault>): PollOutcome {
    const values: number[] = [];
    const n = p.value.count + (p.status === undefined ? 0 : 1);
    for (let k = 0; k < n; k++) {
      const a = k < p.value.count ? p.value.address + k : p.status!;
      const fault = faults.get(a);
      if (fault) return { ok: false, fault };
      const w = words.get(a);
      if (w === undefined) return { ok: false, fault: { kind: 'io', text: `register ${a} missing from the answer` } };
      values.push(w);
    }
    if (p.status === undefined) return { ok: true, words: values };
    const status = values.pop()!;
    return { ok: true, words: values, status };
  }
}
