import { held, type CompartmentState } from './compartment.ts';
import { IDLE } from './debounce.ts';
import type { CompartmentRule, Tier, TierName } from './limits.ts';
import type { Suppression, SuppressionCause } from './suppression.ts';

/** Which limit, on which channel, a display state is about. */
export interface DisplayTier {
  tier: TierName;
  severity: Tier['severity'];
  direction: Tier['direction'];
  limit: number;
  /** The compartment id, or `id/probe` for combine 'each'. */
  channel: string;
  /** The channel's value now; absent without a fresh good reading. */
  value?: number;
}

/** A suppression cause with its end; `openEnded`: the cause still lasts (door open), so `until` is the latest it can be. */
export interface DisplaySuppression {
  cause: SuppressionCause;
  until: string;
  openEnded: boolean;
}

/**
 * What the display shows for a compartment, decided here so that the page only renders it:
 * - `pending`: beyond a limit, the alarm delay running; fires at `firesAt` if it stays out.
 * - `alarm`: the tier's alarm condition holds; it starts clearing once the value is past `clearsPast` (limit -/+ hysteresis).
 * - `clearing`: back past the hysteresis, the clear delay running; the condition ends at `clearsAt`.
 * - `suppressed`: a defrost or open door holds raising; `held` when a limit is crossed meanwhile
 *   (the alarm fires at `firesAt` if still out when the suppression ends).
 */
export type DisplayState =
  | { kind: 'ok' }
  | { kind: 'unknown' }
  | (DisplayTier & { kind: 'pending'; since: string; firesAt: string })
  | (DisplayTier & { kind: 'alarm'; clearsPast: number })
  | (DisplayTier & { kind: 'clearing'; since: string; clearsAt: string })
  | { kind: 'suppressed'; by: DisplaySuppression[]; held?: DisplayTier & { since: string; firesAt: string; openEnded: boolean } };

type Rule = Pick<CompartmentRule, 'channels' | 'tiers' | 'timing' | 'hysteresis'>;

const iso = (ms: number) => new Date(ms).toISOString();
/** Critical before warning; within a severity, an alarm before one clearing before one pending. */
const KIND_RANK = { pending: 1, clearing: 2, alarm: 3 } as const;
const rank = (s: { severity: Tier['severity']; kind: keyof typeof KIND_RANK }) => (s.severity === 'critical' ? 10 : 0) + KIND_RANK[s.kind];

/**
 * One display state per compartment from the alarm machine's state (the debounce of every tier
 * on every channel), the channels' values and the active suppression, all as the engine has them.
 * Worked example (chilled: high 5 warning, criticalHigh 8; delay 300 s, clear delay 120 s, hysteresis 0.5):
 * - 6.0 since 10:00 -> pending high, firesAt 10:05.  9.0 while high is on -> pending criticalHigh (critical first).
 * - high raised at 10:05, now 4.8 -> still alarm, clearsPast 4.5 (inside the limit, not past the hysteresis).
 * - 4.4 from 10:20 -> clearing since 10:20, clearsAt 10:22; then ok.
 * - door opened 10:00 (afterMin 5, maxMin 30) and 6.0 -> suppressed by door until 10:30 (openEnded),
 *   held high since 10:00, firesAt 10:30; closed at 10:08 -> until 10:13, firesAt 10:13.
 * - no fresh reading and nothing on -> unknown; an alarm that is on stays shown without one.
 */
export function compartmentDisplay(rule: Rule, state: CompartmentState, values: ReadonlyMap<string, number>, sup: Suppression | undefined): DisplayState {
  let shown: Exclude<DisplayState, { kind: 'ok' | 'unknown' | 'suppressed' }> | undefined;
  let heldTier: (DisplayTier & { since: number }) | undefined;
  for (const channel of rule.channels) {
    const value = values.get(channel);
    for (const tier of rule.tiers) {
      const d = state[channel]?.[tier.name] ?? IDLE;
      if (d.phase === 'idle') continue;
      const about: DisplayTier = { tier: tier.name, severity: tier.severity, direction: tier.direction, limit: tier.limit, channel, ...(value !== undefined && { value }) };
      if (d.phase === 'pending' && value !== undefined && held(tier, value, sup)) {
        if (!heldTier || (tier.severity === 'critical' && heldTier.severity !== 'critical')) heldTier = { ...about, since: d.since };
        continue;
      }
      const s =
        d.phase === 'pending' ? { ...about, kind: 'pending' as const, since: iso(d.since), firesAt: iso(d.since + rule.timing.delayMs) }
        : d.phase === 'clearing' ? { ...about, kind: 'clearing' as const, since: iso(d.since), clearsAt: iso(d.since + rule.timing.clearDelayMs) }
        : { ...about, kind: 'alarm' as const, clearsPast: tier.direction === 'above' ? tier.limit - rule.hysteresis : tier.limit + rule.hysteresis };
      if (!shown || rank(s) > rank(shown)) shown = s;
    }
  }
  if (shown) return shown;
  if (values.size === 0) return { kind: 'unknown' };
  if (!sup) return { kind: 'ok' };
  const by = sup.windows.map((w) => ({ cause: w.cause, until: iso(w.until), openEnded: w.openEnded }));
  if (!heldTier) return { kind: 'suppressed', by };
  // Held until the last cause ends; past its delay by then, it fires at once.
  const last = sup.windows.reduce((a, b) => (b.until > a.until ? b : a));
  const { since, ...about } = heldTier;
  return { kind: 'suppressed', by, held: { ...about, since: iso(since), firesAt: iso(Math.max(since + rule.timing.delayMs, last.until)), openEnded: last.openEnded } };
}
