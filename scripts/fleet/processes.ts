import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';

/** Children still running when the simulation exits (it failed, or a test timed out): killed then. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const proc of running) proc.kill('SIGKILL');
});

/** A SIGTERM that is not obeyed within this long becomes a SIGKILL. */
const TERM_GRACE_MS = 15_000;

/** A child process the simulation starts, kills with SIGKILL and starts again; its output appends to one log file. */
export class Managed {
  proc: ChildProcess | undefined;
  /** Starts so far: 1 after the first. */
  starts = 0;

  constructor(
    readonly name: string,
    private readonly argv: string[],
    readonly logFile: string,
    private readonly options: { cwd: string; ipc?: boolean },
  ) {}

  start(): ChildProcess {
    const out = openSync(this.logFile, 'a');
    const proc = spawn(this.argv[0]!, this.argv.slice(1), { cwd: this.options.cwd, stdio: ['ignore', out, out, ...(this.options.ipc ? ['ipc' as const] : [])] });
    this.proc = proc;
    this.starts++;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    return proc;
  }

  running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Sends `signal` and waits for the exit (a SIGKILL follows an ignored SIGTERM). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running()) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill(signal);
    const timer = signal === 'SIGKILL' ? undefined : setTimeout(() => proc.kill('SIGKILL'), TERM_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Resident set now, in MiB (0 when not running). */
  rssMib(): number {
    if (!this.running()) return 0;
    try {
      const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.proc!.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return 0;
    }
  }

  /** The last lines of its log, for a failure message. */
  tail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines - 1).join('\n');
    } catch {
      return '';
    }
  }
}
