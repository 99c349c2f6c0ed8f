import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './net.ts';

/**
 * A real pseudo-terminal pair made by socat: `a` and `b` are symlinks to the two ends.
 * Killing it is an unplug; calling `plug()` again recreates both ends at the same paths.
 */
export class PtyPair {
  private proc: ChildProcess | undefined;
  readonly a: string;
  readonly b: string;

  constructor(dir: string, name = 'tty') {
    this.a = path.join(dir, `${name}-a`);
    this.b = path.join(dir, `${name}-b`);
  }

  async plug(): Promise<void> {
    // A SIGKILLed socat leaves its links behind, pointing at pts numbers that may be reused.
    rmSync(this.a, { force: true });
    rmSync(this.b, { force: true });
    const opts = 'raw,echo=0';
    this.proc = spawn('socat', ['-d', `pty,${opts},link=${this.a}`, `pty,${opts},link=${this.b}`], { stdio: 'ignore' });
    await waitFor(() => existsSync(this.a) && existsSync(this.b), 5000, `socat pty pair at ${this.a}`);
  }

  /** SIGKILL, as when the cable is pulled: no orderly close on either end. */
  async unplug(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
    this.proc = undefined;
  }
}
