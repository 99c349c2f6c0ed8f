/**
 * The one timing machine behind every alarm and geofence: a condition must hold for `delayMs`
 * before it turns on and be gone for `clearDelayMs` before it turns off, so a blip does neither.
 *
 *   idle --cond--> pending --held delayMs (and not `hold`)--> on  (edge 'on')
 *   on --!cond--> clearing --gone clearDelayMs--> idle             (edge 'off')
 *   pending --!cond--> idle;   clearing --cond--> on
 *
 * Worked example, delay 300 s, clear delay 120 s: out at t=0, 100, 200 -> pending since 0;
 * in at 250 -> idle (nothing raised); out from 400 on -> pending since 400, 'on' at t=700.
 * In at 800 -> clearing; out at 850 -> on again (no flapping); in from 900 -> 'off' at 1020.
 *
 * `cond` undefined means "no evidence" (no fresh reading): a pending start is forgotten and a
 * clearing one goes back to on, because neither may complete without evidence.
 * `hold` keeps a pending condition from turning on (suppression); its clock keeps running, so
 * when the hold lifts after the delay has passed, it turns on at once.
 */
export type Phase = 'idle' | 'pending' | 'on' | 'clearing';

export interface Debounce {
  phase: Phase;
  /** When the current phase began, ms since the epoch. */
  since: number;
}

export interface DebounceTiming {
  delayMs: number;
  clearDelayMs: number;
}

export const IDLE: Debounce = { phase: 'idle', since: 0 };

export function isOn(d: Debounce): boolean {
  return d.phase === 'on' || d.phase === 'clearing';
}

export function stepDebounce(d: Debounce, cond: boolean | undefined, nowMs: number, t: DebounceTiming, hold = false): { d: Debounce; edge?: 'on' | 'off' } {
  switch (d.phase) {
    case 'idle':
      return cond ? stepDebounce({ phase: 'pending', since: nowMs }, cond, nowMs, t, hold) : { d };
    case 'pending':
      if (!cond) return { d: IDLE };
      return nowMs - d.since >= t.delayMs && !hold ? { d: { phase: 'on', since: nowMs }, edge: 'on' } : { d };
    case 'on':
      return cond === false ? stepDebounce({ phase: 'clearing', since: nowMs }, cond, nowMs, t, hold) : { d };
    case 'clearing':
      if (cond !== false) return { d: { phase: 'on', since: nowMs } };
      return nowMs - d.since >= t.clearDelayMs ? { d: IDLE, edge: 'off' } : { d };
  }
}

/** A pending start whose timer ran while nobody watched (restart, clock jump) starts over. */
export function forgetPending(d: Debounce): Debounce {
  return d.phase === 'pending' ? IDLE : d;
}
