import { resolveYear, type Ymd } from './fields.ts';
import { mergeEpoch, type EpochParts, type FixCore } from './merge.ts';
import type { Sentence } from './sentences.ts';

/** One epoch's fix. `timeMs` is UTC and present only when the epoch's time of day has a date. */
export interface Fix extends FixCore {
  timeMs?: number;
  /** Arrival time (caller's clock) of the epoch's first sentence: when the receiver spoke. */
  rxMs?: number;
}

const DAY_MS = 86_400_000;

interface Epoch extends EpochParts {
  tod?: number;
  /** UTC midnight of the epoch's own date (from RMC with status A, or ZDA). */
  midnightMs?: number;
  seen: Set<Sentence['type']>;
  lastType?: Sentence['type'];
  rxMs?: number;
  /** Sentences arrived since this epoch was last reported. */
  dirty: boolean;
  /** The mode of the epoch before: re-reporting this one must not see its own. */
  prevMode: Fix['mode'];
}

/**
 * Groups sentences into epochs and reports one Fix per epoch.
 *
 * Where an epoch ends: a sentence with a time of day other than the epoch's starts the next
 * one; so does a sentence kind the epoch already has when time cannot tell (no-fix receivers
 * send empty time fields). GSA may repeat (one per constellation). VTG and GSA carry no time
 * and join the epoch in progress, unless it already had the sentence that ends this
 * receiver's epochs (learned, like gpsd, from two epochs in a row ending with the same kind):
 * then they open the next one, so a VTG whose RMC was lost is not pinned on the epoch before.
 *
 *   GGA 12:00:00, GSA, RMC 12:00:00, VTG, GGA 12:00:01  -> the GGA at :01 reports :00
 *   RMC (no time) V, GGA (no time) q0, RMC (no time) V  -> the second RMC reports a no-fix
 *   ... GLL 12:00:00 | RMC 12:00:01 (bad checksum), VTG  -> with GLL learned as the end, the VTG opens 12:00:01
 *
 * Dates: like gpsd, only an RMC with status A and a ZDA date a fix; later epochs carry that
 * date forward, rolling over at midnight. Two-digit years take the century nearest `refYear`.
 */
export class EpochAssembler {
  private cur: Epoch = newEpoch(0);
  private lastDated: { midnightMs: number; tod: number } | undefined;
  /** The last epoch's mode, for an epoch that says nothing about its dimension. */
  private lastMode: Fix['mode'] = 0;
  /** The kind of sentence that ends this receiver's epochs, once seen twice in a row. */
  private endType: Sentence['type'] | undefined;
  private lastEndType: Sentence['type'] | undefined;

  constructor(public refYear: number) {}

  /** Adds a sentence; returns the previous epoch's fix when this one started a new epoch. */
  add(s: Sentence, rxMs?: number): Fix | undefined {
    const tod = s.type === 'VTG' || s.type === 'GSA' ? undefined : s.tod;
    let done: Fix | undefined;
    if (this.startsNewEpoch(s.type, tod)) {
      if (tod !== undefined) this.learnEnd(this.cur.lastType);
      done = this.report();
      this.cur = newEpoch(this.lastMode);
    }
    const e = this.cur;
    if (e.seen.size === 0) e.rxMs = rxMs;
    e.seen.add(s.type);
    e.lastType = s.type;
    e.dirty = true;
    if (tod !== undefined) e.tod = tod;
    switch (s.type) {
      case 'RMC':
        e.rmc = s;
        if (s.valid && s.date && tod !== undefined) e.midnightMs = this.midnight(s.date);
        break;
      case 'ZDA':
        if (s.date && tod !== undefined) e.midnightMs = this.midnight(s.date);
        break;
      case 'GSA':
        if (s.fixMode !== undefined) e.gsaModes.push(s.fixMode);
        break;
      case 'GGA':
        e.gga = s;
        break;
      case 'GNS':
        e.gns = s;
        break;
      case 'GLL':
        e.gll = s;
        break;
      case 'VTG':
        e.vtg = s;
        break;
    }
    return done;
  }

  /**
   * Reports the epoch in progress now (when the line went quiet, or at the end of a stream),
   * if anything arrived since it was last reported. It stays open: a late sentence of the same
   * epoch joins it and the epoch is reported again, more complete.
   */
  flush(): Fix | undefined {
    return this.report();
  }

  private startsNewEpoch(type: Sentence['type'], tod: number | undefined): boolean {
    const e = this.cur;
    if (e.seen.size === 0) return false;
    if (tod !== undefined && e.tod !== undefined) return tod !== e.tod;
    if (tod === undefined && this.endType !== undefined && type !== this.endType && e.seen.has(this.endType)) return true;
    return type !== 'GSA' && e.seen.has(type);
  }

  private learnEnd(type: Sentence['type'] | undefined): void {
    if (type !== undefined && type === this.lastEndType) this.endType = type;
    this.lastEndType = type;
  }

  private report(): Fix | undefined {
    const e = this.cur;
    if (!e.dirty) return undefined;
    e.dirty = false;
    const fix: Fix = mergeEpoch(e, e.prevMode);
    fix.timeMs = this.timeOf(e);
    fix.rxMs = e.rxMs;
    this.lastMode = fix.mode;
    return fix;
  }

  private timeOf(e: Epoch): number | undefined {
    if (e.tod === undefined) return undefined;
    let midnightMs = e.midnightMs;
    if (midnightMs === undefined) {
      if (this.lastDated === undefined) return undefined;
      // Undated epoch after a dated one: same day, unless the clock went past midnight.
      const rolled = e.tod < this.lastDated.tod - DAY_MS / 2;
      midnightMs = this.lastDated.midnightMs + (rolled ? DAY_MS : 0);
    }
    this.lastDated = { midnightMs, tod: e.tod };
    return midnightMs + e.tod;
  }

  private midnight(d: Ymd): number {
    return Date.UTC(resolveYear(d.year, this.refYear), d.month - 1, d.day);
  }
}

function newEpoch(prevMode: Fix['mode']): Epoch {
  return { gsaModes: [], seen: new Set(), dirty: false, prevMode };
}
