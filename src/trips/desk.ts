import type { GatewayConfig } from '../config/schema.ts';
import type { SiteConfig } from '../config/schema-rules.ts';
import type { Logger } from '../core/log.ts';
import type { EventDraft, PositionDraft } from '../core/types.ts';
import type { Alarm, AlarmSpec, AlarmTransition } from '../rules/alarms.ts';
import { IDLE, stepDebounce, type Debounce } from '../rules/debounce.ts';
import type { CompartmentRule } from '../rules/limits.ts';
import { mean, meanKineticTemperature } from '../rules/stats.ts';
import { judgeEntry, type BudgetUse, type GateRecord } from './gate.ts';
import { calibrationStatus } from './calibration.ts';
import { inArea } from './geofence.ts';
import type { ShipmentRefs } from './shipment.ts';
import { accountTime, addReading, budgetSpent, FRESH_COMPARTMENT, newTrip, recordAlarm, tripReport, type Trip, type TripReport, type TripState } from './trip.ts';

/** The part of the rules engine's saved state that trips and the gate own. */
export interface TripFields {
  sites: Record<string, Debounce>;
  trip?: TripState;
  lastEntry?: GateRecord;
}

/**
 * What the desk needs from the rules engine: its state (saved with the alarms in one commit),
 * its alarm book, its clock and its events. The engine stays the one owner of alarms.
 */
export interface TripHost {
  readonly cfg: GatewayConfig;
  readonly rules: readonly CompartmentRule[];
  readonly log: Logger;
  /** The engine's current state object; the desk changes its trip fields in place. */
  state(): TripFields;
  /** The state changed; saved within the engine's save interval. */
  touch(): void;
  /** Saves now (a trip boundary or a gate decision). */
  save(now: number): void;
  openAlarms(): readonly Alarm[];
  raise(spec: AlarmSpec, now: number): string | undefined;
  /** The condition behind alarm `key` is gone. */
  clear(key: string, now: number): void;
  /** Runs every rule once at `now` (the trip's last minutes count before it ends). */
  evaluate(now: number): void;
  emit(e: Omit<EventDraft, 'kind' | 'ts' | 'tq'>): void;
  now(): number;
}

export interface TripView extends Trip {
  compartments: { id: string; min: number | null; max: number | null; mean: number | null; mkt: number | null; outOfRangeMin: number; excursionMin: number; budgetMin?: number }[];
}

export interface GateView {
  lastEntry?: GateRecord;
  doNotUnload: boolean;
  message?: string;
}

const tripOf = (t: TripState): Trip => ({ id: t.id, startedAt: t.startedAt, startedBy: t.startedBy, ...(t.shipment && { shipment: t.shipment }) });

/** Trips (statistics, budgets, report) and the entry gate (sites, verdicts), driven by the rules engine. */
export class TripDesk {
  constructor(private readonly host: TripHost) {}

  /** A good reading of a probe in `compartment`. */
  onReading(compartment: string, celsius: number): void {
    const s = this.host.state();
    if (!s.trip) return;
    const tc = s.trip.compartments[compartment] ?? FRESH_COMPARTMENT;
    s.trip = { ...s.trip, compartments: { ...s.trip.compartments, [compartment]: addReading(tc, celsius) } };
    this.host.touch();
  }

  /** One evaluation of `rule`: time out of range and against the budget. */
  account(rule: CompartmentRule, now: number, out: boolean, counted: boolean): void {
    const s = this.host.state();
    const trip = s.trip;
    if (!trip) return;
    const tc = accountTime(trip.compartments[rule.id] ?? FRESH_COMPARTMENT, now, out, counted);
    s.trip = { ...trip, compartments: { ...trip.compartments, [rule.id]: tc } };
    this.host.touch();
    if (!budgetSpent(tc, rule)) return;
    this.host.raise(
      {
        key: `budget:${rule.id}`,
        type: 'excursion-budget',
        severity: 'critical',
        source: rule.id,
        latched: true,
        message: `${rule.name}: out of range ${Math.round(tc.excursionMs / 60_000)} min this trip, budget ${(rule.budgetMs ?? 0) / 60_000} min spent`,
        data: { excursionMin: tc.excursionMs / 60_000, budgetMin: (rule.budgetMs ?? 0) / 60_000, tripId: trip.id },
      },
      now,
    );
  }

  /** An alarm transition: the trip keeps every alarm raised while it ran, as it last stood. */
  onAlarm(t: AlarmTransition): void {
    const s = this.host.state();
    if (s.trip && (t.kind === 'raised' || s.trip.alarms.some((a) => a.id === t.alarm.id))) s.trip = recordAlarm(s.trip, t.alarm);
  }

  /** A position fix (mode >= 2): entering and leaving sites. */
  onFix(r: PositionDraft, now: number): void {
    const s = this.host.state();
    const timing = { delayMs: this.host.cfg.trips.confirmSec * 1000, clearDelayMs: this.host.cfg.trips.confirmSec * 1000 };
    for (const site of this.host.cfg.sites) {
      const step = stepDebounce(s.sites[site.id] ?? IDLE, inArea(site.area, r), now, timing);
      if (step.d !== s.sites[site.id]) s.sites = { ...s.sites, [site.id]: step.d };
      if (step.edge === 'on') this.entered(site, now);
      if (step.edge === 'off') this.left(site, now);
    }
  }

  private entered(site: SiteConfig, now: number) {
    const h = this.host;
    h.log.info({ site: site.id }, 'rules: entered site');
    if (site.role === 'depot' && h.state().trip && h.cfg.trips.autoEnd) this.end(`auto: arrived at ${site.name}`);
    if (site.refuseOn.length === 0) return;
    const s = h.state();
    const verdict = judgeEntry(site.refuseOn, { open: h.openAlarms(), tripAlarms: s.trip?.alarms ?? [], budgets: this.budgets() });
    const record: GateRecord = { ...verdict, siteId: site.id, siteName: site.name, at: new Date(now).toISOString() };
    s.lastEntry = record;
    if (s.trip) s.trip = { ...s.trip, entries: [...s.trip.entries, record] };
    h.touch();
    if (!verdict.refuse) {
      h.emit({ type: 'entry-admitted', severity: 'info', source: site.id, message: `Entry to ${site.name}: cargo in range`, data: { gate: record } });
      h.save(now);
      return;
    }
    const message = `Entry refused at ${site.name}: do not unload. ${verdict.reasons.join(' ')}`;
    const alarmId = h.raise({ key: `entry:${site.id}`, type: 'entry-refused', severity: 'critical', source: site.id, latched: true, message, data: { gate: record } }, now);
    h.emit({ type: 'entry-refused', severity: 'critical', source: site.id, message, data: { alarmId, gate: record } });
  }

  private left(site: SiteConfig, now: number) {
    const h = this.host;
    h.log.info({ site: site.id }, 'rules: left site');
    h.clear(`entry:${site.id}`, now);
    if (site.role === 'depot' && !h.state().trip && h.cfg.trips.autoStart) this.start(`auto: left ${site.name}`);
  }

  private budgets(): BudgetUse[] {
    const trip = this.host.state().trip;
    if (!trip) return [];
    return this.host.rules.flatMap((rule) => {
      const tc = trip.compartments[rule.id];
      if (rule.budgetMs === undefined || !tc) return [];
      return [{ compartment: rule.id, name: rule.name, excursionMin: Number((tc.excursionMs / 60_000).toFixed(1)), budgetMin: rule.budgetMs / 60_000, spent: budgetSpent(tc, rule) }];
    });
  }

  /** Starts a trip with the shipment's references; a running trip is returned as it is (its references unchanged). */
  start(by: string, shipment?: ShipmentRefs): Trip {
    const h = this.host;
    const now = h.now();
    const s = h.state();
    const running = s.trip;
    if (running) return tripOf(running);
    const stamp = new Date(now).toISOString().replace(/[-:]|\.\d+/g, '');
    let trip = newTrip(`${h.cfg.gatewayId}-${stamp}`, by, now, h.rules.map((r) => r.id), shipment);
    // Alarms already open when the trip starts are part of its story (cargo loaded warm).
    for (const a of h.openAlarms()) trip = recordAlarm(trip, a);
    s.trip = trip;
    h.emit({ type: 'trip.started', severity: 'info', source: h.cfg.gatewayId, message: `Trip ${trip.id} started by ${by}`, data: { tripId: trip.id, by, ...(shipment && { shipment }) } });
    h.save(now);
    return tripOf(trip);
  }

  end(by: string): TripReport | undefined {
    const h = this.host;
    const now = h.now();
    if (!h.state().trip) return undefined;
    h.evaluate(now);
    for (const rule of h.rules) h.clear(`budget:${rule.id}`, now);
    const s = h.state();
    let trip = s.trip!;
    for (const a of h.openAlarms()) if (trip.alarms.some((t) => t.id === a.id)) trip = recordAlarm(trip, a);
    const calibration = calibrationStatus(h.cfg.probes, h.cfg.trips.calibrationMaxAgeDays, now);
    const report = tripReport(trip, h.rules, { gatewayId: h.cfg.gatewayId, by, nowMs: now, calibration });
    delete s.trip;
    h.emit({ type: 'trip.ended', severity: report.clean ? 'info' : 'warning', source: h.cfg.gatewayId, message: `Trip ${trip.id} ended by ${by}${report.clean ? '' : ': cargo went out of range'}`, data: { tripId: trip.id, report } });
    h.save(now);
    return report;
  }

  view(): TripView | undefined {
    const trip = this.host.state().trip;
    if (!trip) return undefined;
    return {
      ...tripOf(trip),
      compartments: this.host.rules.map((rule) => {
        const tc = trip.compartments[rule.id] ?? FRESH_COMPARTMENT;
        return {
          id: rule.id,
          min: tc.stats.min,
          max: tc.stats.max,
          mean: mean(tc.stats),
          mkt: meanKineticTemperature(tc.stats),
          outOfRangeMin: tc.outOfRangeMs / 60_000,
          excursionMin: tc.excursionMs / 60_000,
          ...(rule.budgetMs !== undefined && { budgetMin: rule.budgetMs / 60_000 }),
        };
      }),
    };
  }

  gate(): GateView {
    const lastEntry = this.host.state().lastEntry;
    const refused = this.host.openAlarms().find((a) => a.type === 'entry-refused' && a.active);
    return { ...(lastEntry && { lastEntry }), doNotUnload: refused !== undefined, ...(refused && { message: refused.message }) };
  }
}
