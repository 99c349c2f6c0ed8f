import { effectiveLimits, type CompartmentConfig } from '../config/schema-compartments.ts';
import type { DefrostConfig, DoorConfig } from '../config/schema-rules.ts';
import type { ProbeConfig } from '../config/schema-modbus.ts';
import type { DebounceTiming } from './debounce.ts';

export type TierName = 'high' | 'low' | 'criticalHigh' | 'criticalLow';

/** One limit with its own alarm: chilled has two above (5 C warning, 8 C critical). */
export interface Tier {
  name: TierName;
  direction: 'above' | 'below';
  limit: number;
  severity: 'warning' | 'critical';
}

/** Everything the evaluation needs about one compartment, resolved once from the config. */
export interface CompartmentRule {
  id: string;
  name: string;
  tiers: Tier[];
  combine: CompartmentConfig['combine'];
  /** Channels evaluated on their own: the compartment id, or `id/probe` per probe when combine is each. */
  channels: string[];
  probes: string[];
  timing: DebounceTiming;
  hysteresis: number;
  latch: boolean;
  budgetMs?: number;
  riseAllowance?: number;
  defrost?: DefrostConfig;
  door?: DoorConfig;
}

/** Below a third of the polling rate a probe's last value is too old to judge by. */
export const staleAfterMs = (p: Pick<ProbeConfig, 'intervalMs'> | undefined): number => Math.max(3 * (p?.intervalMs ?? 5000), 15_000);

/**
 * E.g. `{id: 'chiller', preset: 'chilled', combine: 'max'}` with probes p1, p2 ->
 * tiers high 5 (warning) and criticalHigh 8 (critical), channels ['chiller'].
 */
export function compartmentRule(c: CompartmentConfig, probes: readonly Pick<ProbeConfig, 'id' | 'compartment'>[]): CompartmentRule {
  const l = effectiveLimits(c);
  const tiers: Tier[] = [];
  if (l.high !== undefined) tiers.push({ name: 'high', direction: 'above', limit: l.high, severity: l.severity });
  if (l.low !== undefined) tiers.push({ name: 'low', direction: 'below', limit: l.low, severity: l.severity });
  if (l.criticalHigh !== undefined) tiers.push({ name: 'criticalHigh', direction: 'above', limit: l.criticalHigh, severity: 'critical' });
  if (l.criticalLow !== undefined) tiers.push({ name: 'criticalLow', direction: 'below', limit: l.criticalLow, severity: 'critical' });
  const own = probes.filter((p) => p.compartment === c.id).map((p) => p.id);
  return {
    id: c.id,
    name: c.name,
    tiers,
    combine: c.combine,
    channels: c.combine === 'each' ? own.map((p) => `${c.id}/${p}`) : [c.id],
    probes: own,
    timing: { delayMs: c.delaySec * 1000, clearDelayMs: c.clearDelaySec * 1000 },
    hysteresis: c.hysteresis,
    latch: c.latch,
    ...(c.budgetMin !== undefined && { budgetMs: c.budgetMin * 60_000 }),
    ...(l.riseAllowance !== undefined && { riseAllowance: l.riseAllowance }),
    ...(c.defrost && { defrost: c.defrost }),
    ...(c.door && { door: c.door }),
  };
}

/**
 * Beyond the limit; once in alarm (`on`), it must come back past limit -/+ hysteresis to count
 * as inside again, so a value hovering at the limit does not flap. High 5, hysteresis 0.5:
 * 5.2 is out; once in alarm 4.8 is still out (above 4.5) and 4.4 is back in.
 */
export function beyond(value: number, tier: Tier, on: boolean, hysteresis: number): boolean {
  const band = on ? hysteresis : 0;
  return tier.direction === 'above' ? value > tier.limit - band : value < tier.limit + band;
}

/**
 * One value per channel from the probes' latest good values (`fresh` gives a probe's, or
 * undefined when it has none within its stale time): p1 3.1, p2 4.2 -> max 4.2, min 3.1,
 * mean 3.65, each -> `{chiller/p1: 3.1, chiller/p2: 4.2}`. No fresh value, no entry.
 * Runs for every compartment a poll touches and again on every tick: no arrays on the way.
 */
export function channelValues(rule: Pick<CompartmentRule, 'id' | 'combine' | 'probes' | 'channels'>, fresh: (probe: string) => number | undefined): Map<string, number> {
  const out = new Map<string, number>();
  let n = 0;
  let acc = 0;
  for (let i = 0; i < rule.probes.length; i++) {
    const v = fresh(rule.probes[i]!);
    if (v === undefined) continue;
    // For combine 'each', channels[i] is probe i's channel (compartmentRule makes them so).
    if (rule.combine === 'each') out.set(rule.channels[i]!, v);
    else if (n === 0) acc = v;
    else if (rule.combine === 'max') acc = Math.max(acc, v);
    else if (rule.combine === 'min') acc = Math.min(acc, v);
    else acc += v;
    n++;
  }
  if (n > 0 && rule.combine !== 'each') out.set(rule.id, rule.combine === 'mean' ? acc / n : acc);
  return out;
}
