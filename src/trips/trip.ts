import type { Alarm } from '../rules/alarms.ts';
import type { GateRecord } from './gate.ts';
import type { CompartmentRule, TierName } from '../rules/limits.ts';
import { addSample, EMPTY_STATS, mean, meanKineticTemperature, type RunningStats } from '../rules/stats.ts';
import type { ProbeCalibrationStatus } from './calibration.ts';
import type { ShipmentRefs } from './shipment.ts';

/** Time accounting per compartment: what the last evaluation saw holds until the next one. */
export interface TripCompartment {
  stats: RunningStats;
  outOfRangeMs: number;
  excursionMs: number;
  lastAt?: number;
  lastOut: boolean;
  lastCounted: boolean;
}

export interface TripState {
  id: string;
  startedAt: string;
  startedBy: string;
  compartments: Record<string, TripCompartment>;
  /** Every alarm raised while the trip ran, as it last stood. */
  alarms: Alarm[];
  entries: GateRecord[];
  shipment?: ShipmentRefs;
}

/** What the display and the snapshot show of a running trip. */
export interface Trip {
  id: string;
  startedAt: string;
  startedBy: string;
  shipment?: ShipmentRefs;
}

export interface CompartmentReport {
  id: string;
  name: string;
  limits: Partial<Record<TierName, number>>;
  samples: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  mkt: number | null;
  outOfRangeMin: number;
  excursionMin: number;
  budgetMin?: number;
  budgetSpent: boolean;
}

export interface TripReport {
  gatewayId: string;
  tripId: string;
  startedAt: string;
  startedBy: string;
  endedAt: string;
  endedBy: string;
  durationMin: number;
  compartments: CompartmentReport[];
  alarms: Alarm[];
  entries: GateRecord[];
  /** No critical temperature alarm and no budget spent: the cargo stayed in range. */
  clean: boolean;
  /** The references given when the trip started (absent: none were). */
  shipment?: ShipmentRefs;
  /** Each probe's calibration as the config recorded it when the trip ended (absent in reports of older versions). */
  calibration?: ProbeCalibrationStatus[];
}

/** A box that was off, or readings that stopped, must not count as minutes out of range. */
export const MAX_GAP_MS = 60_000;

export const FRESH_COMPARTMENT: TripCompartment = { stats: EMPTY_STATS, outOfRangeMs: 0, excursionMs: 0, lastOut: false, lastCounted: false };

export function newTrip(id: string, by: string, nowMs: number, compartmentIds: readonly string[], shipment?: ShipmentRefs): TripState {
  const compartments = Object.fromEntries(compartmentIds.map((c) => [c, FRESH_COMPARTMENT]));
  return { id, startedAt: new Date(nowMs).toISOString(), startedBy: by, compartments, alarms: [], entries: [], ...(shipment && { shipment }) };
}

/** Left sum: out at t=0 and t=10 s, in at t=20 s -> 20 s out of range. */
export function accountTime(tc: TripCompartment, nowMs: number, out: boolean, counted: boolean): TripCompartment {
  const dt = tc.lastAt === undefined ? 0 : Math.min(Math.max(nowMs - tc.lastAt, 0), MAX_GAP_MS);
  return {
    ...tc,
    outOfRangeMs: tc.outOfRangeMs + (tc.lastOut ? dt : 0),
    excursionMs: tc.excursionMs + (tc.lastCounted ? dt : 0),
    lastAt: nowMs,
    lastOut: out,
    lastCounted: counted,
  };
}

export function addReading(tc: TripCompartment, celsius: number): TripCompartment {
  return { ...tc, stats: addSample(tc.stats, celsius) };
}

export function budgetSpent(tc: TripCompartment, rule: Pick<CompartmentRule, 'budgetMs'>): boolean {
  return rule.budgetMs !== undefined && tc.excursionMs >= rule.budgetMs;
}

/** Replaces the trip's copy of the alarm by id, so the report shows how each one ended. */
export function recordAlarm(trip: TripState, alarm: Alarm): TripState {
  const known = trip.alarms.some((a) => a.id === alarm.id);
  return { ...trip, alarms: known ? trip.alarms.map((a) => (a.id === alarm.id ? alarm : a)) : [...trip.alarms, alarm] };
}

const round = (x: number | null, digits: number) => (x === null ? null : Number(x.toFixed(digits)));
const minutes = (ms: number) => Number((ms / 60_000).toFixed(1));

export function tripReport(trip: TripState, rules: readonly CompartmentRule[], ended: { gatewayId: string; by: string; nowMs: number; calibration?: ProbeCalibrationStatus[] }): TripReport {
  const compartments = rules.map((rule): CompartmentReport => {
    const tc = trip.compartments[rule.id] ?? FRESH_COMPARTMENT;
    return {
      id: rule.id,
      name: rule.name,
      limits: Object.fromEntries(rule.tiers.map((t) => [t.name, t.limit])),
      samples: tc.stats.n,
      min: tc.stats.min,
      max: tc.stats.max,
      mean: round(mean(tc.stats), 2),
      mkt: round(meanKineticTemperature(tc.stats), 3),
      outOfRangeMin: minutes(tc.outOfRangeMs),
      excursionMin: minutes(tc.excursionMs),
      ...(rule.budgetMs !== undefined && { budgetMin: rule.budgetMs / 60_000 }),
      budgetSpent: budgetSpent(tc, rule),
    };
  });
  const critical = trip.alarms.some((a) => a.type === 'temperature' && a.severity === 'critical');
  return {
    gatewayId: ended.gatewayId,
    tripId: trip.id,
    startedAt: trip.startedAt,
    startedBy: trip.startedBy,
    endedAt: new Date(ended.nowMs).toISOString(),
    endedBy: ended.by,
    durationMin: minutes(ended.nowMs - Date.parse(trip.startedAt)),
    compartments,
    alarms: trip.alarms,
    entries: trip.entries,
    clean: !critical && !compartments.some((c) => c.budgetSpent),
    ...(trip.shipment && { shipment: trip.shipment }),
    ...(ended.calibration && { calibration: ended.calibration }),
  };
}
