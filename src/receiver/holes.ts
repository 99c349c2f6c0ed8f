import type { Range } from '../core/seq-ranges.ts';

interface Tracked {
  from: number;
  to: number;
  firstSeen: number;
  lastAsked?: number;
}

/**
 * Which holes to ask the box for (cmd/replay): those open for at least `timeoutMs` (a batch
 * overtaken by a later one fills its hole itself within that time), each again at most every
 * `timeoutMs`. A hole that shrinks or splits as records arrive keeps its age and its last
 * request. Worked example, timeout 10 s: hole [5,9] seen at t=0, [7,9] at t=4 s (5, 6 arrived):
 * at t=10 s [7,9] is due; asked; at t=15 s not again; at t=20 s again if still open.
 */
export class HoleTracker {
  private readonly journals = new Map<string, Tracked[]>();

  constructor(private readonly timeoutMs: number) {}

  /** The holes of one journal now; returns those to ask for now (and counts them as asked). */
  due(journal: string, holes: readonly Range[], now: number): Range[] {
    const old = this.journals.get(journal) ?? [];
    const next: Tracked[] = holes.map(([from, to]) => {
      const overlapping = old.filter((o) => o.from <= to && o.to >= from);
      const asked = overlapping.map((o) => o.lastAsked).filter((t): t is number => t !== undefined);
      return { from, to, firstSeen: Math.min(now, ...overlapping.map((o) => o.firstSeen)), lastAsked: asked.length ? Math.max(...asked) : undefined };
    });
    const out: Range[] = [];
    for (const h of next) {
      if (now - h.firstSeen < this.timeoutMs) continue;
      if (h.lastAsked !== undefined && now - h.lastAsked < this.timeoutMs) continue;
      h.lastAsked = now;
      out.push([h.from, h.to]);
    }
    if (next.length) this.journals.set(journal, next);
    else this.journals.delete(journal);
    return out;
  }

  /** Journals without holes any more are forgotten. */
  keepOnly(journals: ReadonlySet<string>): void {
    for (const j of this.journals.keys()) if (!journals.has(j)) this.journals.delete(j);
  }

  get open(): number {
    let n = 0;
    for (const list of this.journals.values()) n += list.length;
    return n;
  }
}
