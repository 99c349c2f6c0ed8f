/**
 * Runs `work` about once a period, preferably in a turn of the event loop that something else
 * woke anyway. Every wakeup of an idle process costs a good deal beyond the work itself
 * (the timer machinery, and code and data gone cold in the caches), so the runtime nudges this
 * when a poll's readings come in: at 1 Hz polls the 1 s sweep runs right after a poll, and the
 * process wakes once a second, not twice. Without nudges (no probes, a bus polled every 5 s) its
 * own timer runs the work at most `graceMs` after the period.
 *
 * Example (period 1000 ms, grace 100 ms): nudges at 0.35, 1.35, 2.35 s -> work at 0.35 (the first
 * nudge after start), 1.35, 2.35 s; no nudges from there -> work at 3.45, 4.55 s from the timer.
 * Nudges that come back after the timer took over (a bus back after an outage) take over again
 * within period / grace runs: each timer run is `grace` later against them.
 */
export class Ticker {
  /** When the work last ran; undefined before the first run, which the first nudge makes. */
  private last: number | undefined;
  private readonly timer: NodeJS.Timeout;
  private soon: NodeJS.Immediate | undefined;

  constructor(
    private readonly work: () => void,
    private readonly periodMs = 1000,
    private readonly graceMs = 100,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.timer = setTimeout(() => this.run(), periodMs + graceMs);
  }

  /**
   * Something woke the process: the work runs in this turn (after what is running now) when a
   * period has passed, less the grace, since it last ran. Nudges closer together change nothing.
   */
  nudge(): void {
    if (this.soon !== undefined || (this.last !== undefined && this.now() - this.last < this.periodMs - this.graceMs)) return;
    this.soon = setImmediate(() => {
      this.soon = undefined;
      this.run();
    });
  }

  private run(): void {
    this.last = this.now();
    // The fallback starts again from now: it fires only when no nudge comes in time.
    this.timer.refresh();
    this.work();
  }

  stop(): void {
    clearTimeout(this.timer);
    if (this.soon !== undefined) clearImmediate(this.soon);
  }
}
