import type { DefrostConfig, DoorConfig } from '../config/schema-rules.ts';

/** One defrost or door opening: when it started and, once over, when it ended (ms). */
export interface Episode {
  start: number;
  end?: number;
}

type Window = Pick<DoorConfig, 'afterMin' | 'maxMin'>;

/**
 * Suppressed from the start until `afterMin` after the end, never past `maxMin` from the start.
 * afterMin 5, maxMin 30: door open 10:00-10:08 -> suppressed until 10:13; door open from 10:00
 * and never closed -> suppressed until 10:30, then the alarm fires anyway.
 */
export function suppressing(ep: Episode | undefined, nowMs: number, w: Window): boolean {
  return ep !== undefined && nowMs >= ep.start && nowMs < suppressedUntil(ep, w);
}

/** When an episode stops suppressing (as above: 10:13; still open: 10:30, the latest it can be, closing earlier ends it sooner). */
export function suppressedUntil(ep: Episode, w: Window): number {
  const max = ep.start + w.maxMin * 60_000;
  return ep.end === undefined ? max : Math.min(max, ep.end + w.afterMin * 60_000);
}

/**
 * Follows a digital input. An opening while the last episode still suppresses continues it
 * (same start), so a van opened every few minutes cannot stretch suppression past the maximum.
 */
export function followInput(ep: Episode | undefined, on: boolean, nowMs: number, w: Window): Episode | undefined {
  if (on) {
    if (ep && suppressing(ep, nowMs, w)) return ep.end === undefined ? ep : { start: ep.start };
    return { start: nowMs };
  }
  return ep && ep.end === undefined ? { start: ep.start, end: nowMs } : ep;
}

/** The latest scheduled defrost that began at or before now: starts ['06:00','18:00'] at 07:10 -> 06:00 today. */
export function scheduledEpisode(schedule: NonNullable<DefrostConfig['schedule']>, nowMs: number): Episode | undefined {
  const day = 86_400_000;
  const midnight = Math.floor(nowMs / day) * day;
  let best: number | undefined;
  for (const hhmm of schedule.startsUtc) {
    const [h = 0, m = 0] = hhmm.split(':').map(Number);
    const today = midnight + (h * 60 + m) * 60_000;
    const start = today <= nowMs ? today : today - day;
    if (best === undefined || start > best) best = start;
  }
  return best === undefined ? undefined : { start: best, end: best + schedule.durationMin * 60_000 };
}

export type SuppressionCause = 'defrost' | 'door';

/** One cause suppressing now and until when; `openEnded`: the cause still lasts, so `until` is its maximum. */
export interface SuppressionWindow {
  cause: SuppressionCause;
  until: number;
  openEnded: boolean;
}

export interface Suppression {
  windows: SuppressionWindow[];
  /** Largest rise tolerated over a limit; undefined = any rise (until the maximum). */
  allowance?: number;
}

/** Which causes suppress now; a cause without its own allowance takes the compartment's (preset) one. */
export function activeSuppression(
  causes: readonly { cause: SuppressionCause; cfg: Window & { allowance?: number }; episodes: readonly (Episode | undefined)[] }[],
  nowMs: number,
  riseAllowance: number | undefined,
): Suppression | undefined {
  const active = causes.flatMap((c) => {
    // A cause can have an input episode and a scheduled one at once: the later end counts.
    const last = c.episodes
      .filter((ep): ep is Episode => suppressing(ep, nowMs, c.cfg))
      .reduce<Episode | undefined>((a, b) => (a && suppressedUntil(a, c.cfg) >= suppressedUntil(b, c.cfg) ? a : b), undefined);
    if (!last) return [];
    return [{ ...c, window: { cause: c.cause, until: suppressedUntil(last, c.cfg), openEnded: last.end === undefined } }];
  });
  if (active.length === 0) return undefined;
  const allowances = active.map((c) => c.cfg.allowance ?? riseAllowance);
  const unlimited = allowances.some((a) => a === undefined);
  return { windows: active.map((c) => c.window), ...(!unlimited && { allowance: Math.max(...(allowances as number[])) }) };
}
