import { forgetPending, IDLE, isOn, stepDebounce, type Debounce } from './debounce.ts';
import { beyond, type CompartmentRule, type Tier } from './limits.ts';
import type { Suppression } from './suppression.ts';

/** Per channel, per tier name: where its debounce stands. */
export type CompartmentState = Record<string, Record<string, Debounce>>;

export interface TierEdge {
  channel: string;
  tier: Tier;
  edge: 'on' | 'off';
  value?: number;
}

export interface CompartmentResult {
  state: CompartmentState;
  edges: TierEdge[];
  /** Some channel is beyond some limit right now (raw, no hysteresis): minutes out of range. */
  out: boolean;
  /** ... and not tolerated by a suppression: these minutes count against the budget. */
  counted: boolean;
}

/**
 * Suppression only holds limits above: a defrost or an open door warms the air, it never
 * excuses a compartment getting too cold. Beyond limit + allowance nothing is held.
 */
export function held(tier: Tier, value: number, sup: Suppression | undefined): boolean {
  if (!sup || tier.direction !== 'above') return false;
  return sup.allowance === undefined || value <= tier.limit + sup.allowance;
}

/**
 * One evaluation of a compartment at `nowMs` with the channels' current values.
 * Worked example (chilled: high 5 warning, criticalHigh 8; delay 300 s): value 6.0 from t=0 ->
 * high pending; at t=300 s an edge {tier high, on}. Value 9 from t=310 s -> criticalHigh edge
 * at t=610 s. With a door suppression (no allowance) both stay pending until it ends.
 */
export function evaluateCompartment(
  state: CompartmentState,
  values: ReadonlyMap<string, number>,
  nowMs: number,
  rule: CompartmentRule,
  sup: Suppression | undefined,
): CompartmentResult {
  const next: CompartmentState = {};
  const edges: TierEdge[] = [];
  let out = false;
  let counted = false;
  // Most evaluations change nothing: then `state` itself comes back, so the engine keeps it as it is.
  let changed = false;
  // Indexed loops: for every compartment a poll touches, in code that stays in V8's lower tiers,
  // where each for-of step allocates an iterator result.
  for (let c = 0; c < rule.channels.length; c++) {
    const channel = rule.channels[c]!;
    const value = values.get(channel);
    const before = state[channel];
    const tiers: Record<string, Debounce> = {};
    for (let t = 0; t < rule.tiers.length; t++) {
      const tier = rule.tiers[t]!;
      const d = before?.[tier.name] ?? IDLE;
      const cond = value === undefined ? undefined : beyond(value, tier, isOn(d), rule.hysteresis);
      const hold = value !== undefined && held(tier, value, sup);
      const r = stepDebounce(d, cond, nowMs, rule.timing, hold);
      tiers[tier.name] = r.d;
      if (r.d !== before?.[tier.name]) changed = true;
      if (r.edge) edges.push({ channel, tier, edge: r.edge, ...(value !== undefined && { value }) });
      if (value !== undefined && beyond(value, tier, false, 0)) {
        out = true;
        if (!hold) counted = true;
      }
    }
    next[channel] = tiers;
  }
  return { state: changed || channelCount(state) !== rule.channels.length ? next : state, edges, out, counted };
}

/** Without an array of keys: this runs for every compartment a poll touches. */
function channelCount(state: CompartmentState): number {
  let n = 0;
  for (const _ in state) n++;
  return n;
}

/** After a restart or a clock jump nothing pending survives: its timer ran while nobody watched the readings. */
export function resumeCompartment(state: CompartmentState): CompartmentState {
  const out: CompartmentState = {};
  for (const [channel, tiers] of Object.entries(state)) out[channel] = Object.fromEntries(Object.entries(tiers).map(([k, d]) => [k, forgetPending(d)]));
  return out;
}
