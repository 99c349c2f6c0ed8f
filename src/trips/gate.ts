import type { RefuseReason } from '../config/schema-rules.ts';
import type { Alarm } from '../rules/alarms.ts';

export interface BudgetUse {
  compartment: string;
  name: string;
  excursionMin: number;
  budgetMin: number;
  spent: boolean;
}

/** What the gate looks at: open alarms, the trip's alarms, and the budgets of compartments that have one. */
export interface GateFacts {
  open: readonly Alarm[];
  tripAlarms: readonly Alarm[];
  budgets: readonly BudgetUse[];
}

export interface GateEvidence {
  alarms: Alarm[];
  budgets: BudgetUse[];
}

export interface GateVerdict {
  refuse: boolean;
  /** One plain sentence per reason, for the driver and the person at the gate. */
  reasons: string[];
  evidence: GateEvidence;
}

/** Entry to one site: the verdict and where and when it was given. */
export interface GateRecord extends GateVerdict {
  siteId: string;
  siteName: string;
  at: string;
}

const criticalExcursion = (a: Alarm) => a.type === 'temperature' && a.severity === 'critical';

function describe(a: Alarm): string {
  const peak = typeof a.data.peak === 'number' ? `, peak ${a.data.peak.toFixed(1)} C` : '';
  const state = a.clearedAt ? `cleared ${a.clearedAt}` : a.active ? 'still out of range' : 'back in range, not acknowledged';
  return `${a.message} (raised ${a.raisedAt}${peak}; ${state})`;
}

/**
 * Pure verdict. refuseOn ['open-critical', 'budget-spent'] with an open critical chiller alarm
 * -> refuse, reasons ['Chiller above 8.0 C ... (raised ...; still out of range)'];
 * with only cleared warnings and budgets unspent -> admit, no reasons.
 */
export function judgeEntry(refuseOn: readonly RefuseReason[], f: GateFacts): GateVerdict {
  const alarms = new Map<string, Alarm>();
  if (refuseOn.includes('open-critical')) for (const a of f.open.filter(criticalExcursion)) alarms.set(a.id, a);
  if (refuseOn.includes('any-critical')) for (const a of f.tripAlarms.filter(criticalExcursion)) alarms.set(a.id, f.open.find((o) => o.id === a.id) ?? a);
  const budgets = refuseOn.includes('budget-spent') ? f.budgets.filter((b) => b.spent) : [];
  const reasons = [
    ...[...alarms.values()].map(describe),
    ...budgets.map((b) => `${b.name}: ${b.excursionMin} min out of range this trip, budget ${b.budgetMin} min`),
  ];
  return { refuse: reasons.length > 0, reasons, evidence: { alarms: [...alarms.values()], budgets } };
}
