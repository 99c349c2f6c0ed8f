/** The simulation's timeline: what happened when, logged as it happens and kept for the report. */
export interface FaultEntry {
  /** Seconds since the fleet started producing. */
  t: number;
  what: string;
}

export class Timeline {
  readonly entries: FaultEntry[] = [];
  private t0 = Date.now();

  constructor(private readonly print: (line: string) => void) {}

  /** From now on times count from here (the fleet is producing). */
  begin(): void {
    this.t0 = Date.now();
  }

  seconds(): number {
    return (Date.now() - this.t0) / 1000;
  }

  log(what: string): void {
    const entry = { t: Math.round(this.seconds() * 10) / 10, what };
    this.entries.push(entry);
    this.print(`[${entry.t.toFixed(1).padStart(6)} s] ${what}`);
  }

  /** Waits until `t` seconds since begin() (at once if that has passed). */
  async until(t: number): Promise<void> {
    const ms = this.t0 + t * 1000 - Date.now();
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
