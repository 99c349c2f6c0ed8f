import type { GatewayConfig } from '../config/schema.ts';
import type { SiteConfig } from '../config/schema-rules.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth, EventDraft, PositionDraft, ReadingQuality, RecordDraft, TemperatureDraft } from '../core/types.ts';
import { acknowledgeAlarm, conditionGone, EMPTY_BOOK, notePeak, raiseAlarm, type Alarm, type AlarmBook, type AlarmSpec, type AlarmTransition } from './alarms.ts';
import { evaluateCompartment, resumeCompartment, type CompartmentState } from './compartment.ts';
import { forgetPending, IDLE, isOn, stepDebounce, type Debounce } from './debounce.ts';
import { compartmentDisplay, type DisplayState } from './display-state.ts';
import { alarmEvent } from './events.ts';
import { judgeEntry, type BudgetUse, type GateRecord } from './gate.ts';
import { inArea } from './geofence.ts';
import { healthConditions, healthKey, probeCondition, type HealthCondition, type ProbeSeen } from './health.ts';
import { channelValues, compartmentRule, staleAfterMs, type CompartmentRule, type TierName } from './limits.ts';
import { SaveQueue, type RulesStore } from './persist.ts';
import { meanKineticTemperature, mean } from './stats.ts';
import { activeSuppression, followInput, scheduledEpisode, type Episode, type Suppression, type SuppressionCause } from './suppression.ts';
import { accountTime, addReading, budgetSpent, FRESH_COMPARTMENT, newTrip, recordAlarm, tripReport, type Trip, type TripReport, type TripState } from './trip.ts';

export interface RulesDeps {
  emit: (e: EventDraft) => void;
  store: RulesStore;
  clock: Clock;
  log: Logger;
}

export type CompartmentStatus = 'ok' | 'warning' | 'critical' | 'suppressed' | 'unknown';

export interface CompartmentView {
  id: string;
  name: string;
  /** The combined value (max for combine 'each'); null when no probe has a fresh good reading. */
  value: number | null;
  probes: { id: string; value: number | null; quality?: ReadingQuality; at?: string }[];
  limits: Partial<Record<TierName, number>>;
  state: CompartmentStatus;
  suppressedBy: SuppressionCause[];
  /** What the display shows: pending, alarm, clearing, suppressed with times (display-state.ts). */
  display: DisplayState;
}

export interface TripView extends Trip {
  compartments: { id: string; min: number | null; max: number | null; mean: number | null; mkt: number | null; outOfRangeMin: number; excursionMin: number; budgetMin?: number }[];
}

export interface RulesSnapshot {
  at: string;
  compartments: CompartmentView[];
  /** Open alarms, oldest first. */
  alarms: Alarm[];
  trip?: TripView;
  gate: { lastEntry?: GateRecord; doNotUnload: boolean; message?: string };
}

export interface RulesEngine {
  /** Loads the saved state; call once before anything else. */
  start(): Promise<void>;
  onRecord(r: TemperatureDraft | PositionDraft): void;
  /** The records of one commit (one poll of a bus) together; kinds other than temperature and position are ignored. */
  onRecords(rs: readonly RecordDraft[]): void;
  onHealth(h: readonly DeviceHealth[]): void;
  /** A digital input (door contact, defrost relay) by its id in `inputs[]`. */
  onInput(id: string, on: boolean): void;
  /** Timers: delays, suppression ends, budgets, device health. The runtime calls it every second. */
  tick(nowMs: number): void;
  acknowledge(alarmId: string, who: string): boolean;
  startTrip(by: string): Trip;
  endTrip(by: string): TripReport | undefined;
  snapshot(): RulesSnapshot;
  /** Resolves once the current state is on disk. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Bumped when the saved shape changes: a state of another version is dropped with a warning, never misread. */
const STATE_VERSION = 1;

interface State {
  v: typeof STATE_VERSION;
  book: AlarmBook;
  compartments: Record<string, CompartmentState>;
  health: Record<string, Debounce>;
  /** Input-driven episodes by `compartment:cause`. */
  episodes: Record<string, Episode>;
  sites: Record<string, Debounce>;
  trip?: TripState;
  lastEntry?: GateRecord;
}

const freshState = (): State => ({ v: STATE_VERSION, book: EMPTY_BOOK, compartments: {}, health: {}, episodes: {}, sites: {} });

/** A device condition that flickers back for a moment does not clear and re-raise its alarm. */
const HEALTH_CLEAR_MS = 10_000;
/** Longer than any gap between ticks and readings of a running box. */
const CLOCK_JUMP_MS = 5 * 60_000;
/** Trip statistics change with every reading; between alarm transitions they are saved this often. */
const SAVE_EVERY_MS = 10_000;

interface ProbeLatest {
  value: number | null;
  quality: ReadingQuality;
  error?: string;
  at: number;
}

const CAUSES = ['defrost', 'door'] as const;

export function createRulesEngine(cfg: GatewayConfig, deps: RulesDeps): RulesEngine {
  return new Engine(cfg, deps);
}

class Engine implements RulesEngine {
  private state: State = freshState();
  private readonly rules: CompartmentRule[];
  private readonly probeCfg: Map<string, GatewayConfig['probes'][number]>;
  /** A probe's compartment rule: the one rule its reading can change. */
  private readonly ruleOf = new Map<string, CompartmentRule>();
  /** A probe's `health:probe-fault:` key, made once rather than per reading. */
  private readonly faultKey = new Map<string, string>();
  private readonly probes = new Map<string, ProbeLatest>();
  private readonly inputs = new Map<string, boolean>();
  private readonly devices = new Map<string, DeviceHealth>();
  private lastFixAt: number | undefined;
  private startedMs = 0;
  private lastNow = 0;
  private lastSaveMs = 0;
  private dirty = false;
  private readonly saver: SaveQueue;

  constructor(
    private readonly cfg: GatewayConfig,
    private readonly deps: RulesDeps,
  ) {
    this.rules = cfg.compartments.map((c) => compartmentRule(c, cfg.probes));
    this.probeCfg = new Map(cfg.probes.map((p) => [p.id, p]));
    for (const rule of this.rules) for (const id of rule.probes) this.ruleOf.set(id, rule);
    for (const p of cfg.probes) this.faultKey.set(p.id, healthKey('probe-fault', p.id));
    this.saver = new SaveQueue(deps.store, () => this.state, (err) => deps.log.error({ err }, 'rules: saving state failed'));
  }

  async start(): Promise<void> {
    const saved = await this.deps.store.load();
    if (saved !== undefined) {
      if (typeof saved === 'object' && saved !== null && (saved as { v?: unknown }).v === STATE_VERSION) {
        this.state = saved as State;
        this.forgetPending();
      } else this.deps.log.warn('rules: saved state has another version, starting fresh');
    }
    this.startedMs = this.now();
    this.lastSaveMs = this.startedMs;
  }

  private forgetPending() {
    const s = this.state;
    const each = (r: Record<string, Debounce>) => Object.fromEntries(Object.entries(r).map(([k, d]) => [k, forgetPending(d)]));
    this.state = { ...s, compartments: Object.fromEntries(Object.entries(s.compartments).map(([k, c]) => [k, resumeCompartment(c)])), health: each(s.health), sites: each(s.sites) };
  }

  /**
   * Time never runs backwards here, and a jump forward (a box that booted without a real-time
   * clock getting GPS time) restarts pending delays instead of completing them all at once.
   */
  private now(at?: number): number {
    const t = at ?? this.deps.clock.nowMs().ms;
    if (this.lastNow > 0 && t - this.lastNow > CLOCK_JUMP_MS) {
      this.deps.log.warn({ jumpMs: t - this.lastNow }, 'rules: clock jumped forward, restarting pending delays');
      this.forgetPending();
    }
    this.lastNow = Math.max(this.lastNow, t);
    return this.lastNow;
  }

  onRecord(r: TemperatureDraft | PositionDraft): void {
    this.onRecords([r]);
  }

  /**
   * Readings are judged at once, but they change only their compartments and their probes'
   * health: everything else changes with time and is the tick's (all of it per reading was
   * quadratic in the probes). A compartment is judged once, with all of the poll's readings in.
   */
  onRecords(rs: readonly RecordDraft[]): void {
    const now = this.now();
    const touched = new Set<CompartmentRule>();
    let fix = false;
    for (const r of rs) {
      if (r.kind === 'temperature') {
        this.onTemperature(r, now);
        const rule = this.ruleOf.get(r.probe);
        if (rule) touched.add(rule);
      } else if (r.kind === 'position') {
        if (r.mode >= 2) this.onFix(r, now);
        fix = true;
      }
    }
    if (fix) this.evaluate(now);
    else for (const rule of touched) this.evaluateRule(rule, now);
    for (const r of rs) if (r.kind === 'temperature') this.evaluateProbeHealth(r.probe, now);
  }

  private onTemperature(r: TemperatureDraft, now: number) {
    // A "good" reading without a finite number is a broken driver or probe: a fault, never a temperature.
    const good = r.quality === 'good' && typeof r.value === 'number' && Number.isFinite(r.value);
    this.probes.set(r.probe, { value: good ? r.value : null, quality: good ? 'good' : r.quality === 'good' ? 'sensor-fault' : r.quality, ...(r.error && { error: r.error }), at: now });
    const compartment = this.probeCfg.get(r.probe)?.compartment;
    const trip = this.state.trip;
    if (good && trip && compartment !== undefined) {
      const tc = trip.compartments[compartment] ?? FRESH_COMPARTMENT;
      this.state.trip = { ...trip, compartments: { ...trip.compartments, [compartment]: addReading(tc, r.value as number) } };
      this.dirty = true;
    }
  }

  onHealth(h: readonly DeviceHealth[]): void {
    for (const d of h) this.devices.set(d.id, d);
    this.evaluateHealth(this.now());
  }

  onInput(id: string, on: boolean): void {
    if (this.inputs.get(id) === on) return;
    this.inputs.set(id, on);
    const now = this.now();
    for (const c of this.cfg.compartments) {
      for (const cause of CAUSES) {
        const cc = c[cause];
        if (cc?.input !== id) continue;
        const key = `${c.id}:${cause}`;
        const ep = followInput(this.state.episodes[key], on, now, cc);
        if (ep) this.state.episodes = { ...this.state.episodes, [key]: ep };
      }
    }
    this.dirty = true;
    this.evaluate(now);
  }

  tick(nowMs: number): void {
    const now = this.now(nowMs);
    this.evaluate(now);
    if (this.dirty && now - this.lastSaveMs >= SAVE_EVERY_MS) this.save(now);
  }

  // ---- evaluation -------------------------------------------------------------------------

  private evaluate(now: number) {
    for (const rule of this.rules) this.evaluateRule(rule, now);
    this.evaluateHealth(now);
  }

  private freshValues(rule: CompartmentRule, now: number) {
    const fresh: { probe: string; value: number }[] = [];
    for (const id of rule.probes) {
      const p = this.probes.get(id);
      if (p && p.value !== null && now - p.at <= staleAfterMs(this.probeCfg.get(id))) fresh.push({ probe: id, value: p.value });
    }
    return fresh;
  }

  private suppression(rule: CompartmentRule, now: number): Suppression | undefined {
    const causes = CAUSES.flatMap((cause) => {
      const cc = rule[cause];
      if (!cc) return [];
      const scheduled = cause === 'defrost' && rule.defrost?.schedule ? scheduledEpisode(rule.defrost.schedule, now) : undefined;
      return [{ cause, cfg: cc, episodes: [this.state.episodes[`${rule.id}:${cause}`], scheduled] }];
    });
    return activeSuppression(causes, now, rule.riseAllowance);
  }

  private evaluateRule(rule: CompartmentRule, now: number) {
    const values = channelValues(rule, this.freshValues(rule, now));
    const sup = this.suppression(rule, now);
    const r = evaluateCompartment(this.state.compartments[rule.id] ?? {}, values, now, rule, sup);
    this.state.compartments = { ...this.state.compartments, [rule.id]: r.state };
    for (const e of r.edges) {
      const key = `temp:${e.channel}:${e.tier.name}`;
      if (e.edge === 'off') {
        this.apply(conditionGone(this.state.book, key, now));
        continue;
      }
      const probe = e.channel.includes('/') ? ` (probe ${e.channel.split('/')[1]})` : '';
      const word = e.tier.direction === 'above' ? 'above' : 'below';
      this.apply(
        raiseAlarm(this.state.book, {
          key,
          type: 'temperature',
          severity: e.tier.severity,
          source: rule.id,
          latched: rule.latch,
          message: `${rule.name}${probe} ${word} ${e.tier.limit.toFixed(1)} C: ${e.value?.toFixed(1)} C`,
          data: { channel: e.channel, tier: e.tier.name, limit: e.tier.limit, value: e.value, peak: e.value, delaySec: rule.timing.delayMs / 1000 },
        }, now),
      );
    }
    for (const [channel, value] of values) {
      for (const tier of rule.tiers) if (isOn(r.state[channel]?.[tier.name] ?? IDLE)) this.state.book = notePeak(this.state.book, `temp:${channel}:${tier.name}`, value, tier.direction);
    }
    this.accountTrip(rule, now, r.out, r.counted);
  }

  private accountTrip(rule: CompartmentRule, now: number, out: boolean, counted: boolean) {
    const trip = this.state.trip;
    if (!trip) return;
    const tc = accountTime(trip.compartments[rule.id] ?? FRESH_COMPARTMENT, now, out, counted);
    this.state.trip = { ...trip, compartments: { ...trip.compartments, [rule.id]: tc } };
    this.dirty = true;
    if (!budgetSpent(tc, rule)) return;
    this.raise(
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

  private probeSeen(p: GatewayConfig['probes'][number]): ProbeSeen {
    const seen = this.probes.get(p.id);
    return { id: p.id, staleMs: staleAfterMs(p), ...(seen && { lastAt: seen.at, quality: seen.quality, ...(seen.error && { error: seen.error }) }) };
  }

  /** A probe with no fault condition running that read good within its stale time: nothing to judge. */
  private settled(p: GatewayConfig['probes'][number], now: number): boolean {
    const seen = this.probes.get(p.id);
    return seen !== undefined && seen.quality === 'good' && now - seen.at <= staleAfterMs(p) && (this.state.health[this.faultKey.get(p.id)!] ?? IDLE).phase === 'idle';
  }

  /** After a reading: judges that probe's fault condition alone, and only when it can change. */
  private evaluateProbeHealth(id: string, now: number) {
    const p = this.probeCfg.get(id);
    if (p === undefined || this.settled(p, now)) return;
    const c = probeCondition(this.probeSeen(p), { nowMs: now, sinceMs: this.startedMs }, this.cfg.healthAlarms);
    if (c) this.stepHealth(c, now);
  }

  private evaluateHealth(now: number) {
    const facts = {
      nowMs: now,
      sinceMs: this.startedMs,
      // Settled probes would only say "ok" again: at 128 probes, twice a second, that was most of a tick.
      probes: this.cfg.probes.filter((p) => !this.settled(p, now)).map((p) => this.probeSeen(p)),
      devices: [...this.devices.values()],
      ...(this.cfg.gps && { gps: { staleMs: this.cfg.gps.staleAfterMs, ...(this.lastFixAt !== undefined && { lastFixAt: this.lastFixAt }) } }),
      clockSynced: this.deps.clock.synchronised(),
    };
    for (const c of healthConditions(facts, this.cfg.healthAlarms)) this.stepHealth(c, now);
  }

  private stepHealth(c: HealthCondition, now: number) {
    const r = stepDebounce(this.state.health[c.key] ?? IDLE, c.cond, now, { delayMs: c.delayMs, clearDelayMs: HEALTH_CLEAR_MS });
    if (r.d !== this.state.health[c.key]) this.state.health = { ...this.state.health, [c.key]: r.d };
    if (r.edge === 'on') this.raise({ key: c.key, type: c.type, severity: c.severity, source: c.source, latched: false, message: c.message, data: {} }, now);
    if (r.edge === 'off') this.apply(conditionGone(this.state.book, c.key, now));
  }

  // ---- sites, gate and trips --------------------------------------------------------------

  private onFix(r: PositionDraft, now: number) {
    this.lastFixAt = now;
    const timing = { delayMs: this.cfg.trips.confirmSec * 1000, clearDelayMs: this.cfg.trips.confirmSec * 1000 };
    for (const site of this.cfg.sites) {
      const step = stepDebounce(this.state.sites[site.id] ?? IDLE, inArea(site.area, r), now, timing);
      if (step.d !== this.state.sites[site.id]) this.state.sites = { ...this.state.sites, [site.id]: step.d };
      if (step.edge === 'on') this.entered(site, now);
      if (step.edge === 'off') this.left(site, now);
    }
  }

  private entered(site: SiteConfig, now: number) {
    this.deps.log.info({ site: site.id }, 'rules: entered site');
    if (site.role === 'depot' && this.state.trip && this.cfg.trips.autoEnd) this.endTrip(`auto: arrived at ${site.name}`);
    if (site.refuseOn.length === 0) return;
    const verdict = judgeEntry(site.refuseOn, { open: this.state.book.open, tripAlarms: this.state.trip?.alarms ?? [], budgets: this.budgets() });
    const record: GateRecord = { ...verdict, siteId: site.id, siteName: site.name, at: new Date(now).toISOString() };
    this.state.lastEntry = record;
    if (this.state.trip) this.state.trip = { ...this.state.trip, entries: [...this.state.trip.entries, record] };
    this.dirty = true;
    if (!verdict.refuse) {
      this.emit({ type: 'entry-admitted', severity: 'info', source: site.id, message: `Entry to ${site.name}: cargo in range`, data: { gate: record } });
      this.save(now);
      return;
    }
    const message = `Entry refused at ${site.name}: do not unload. ${verdict.reasons.join(' ')}`;
    const alarmId = this.raise({ key: `entry:${site.id}`, type: 'entry-refused', severity: 'critical', source: site.id, latched: true, message, data: { gate: record } }, now);
    this.emit({ type: 'entry-refused', severity: 'critical', source: site.id, message, data: { alarmId, gate: record } });
  }

  private left(site: SiteConfig, now: number) {
    this.deps.log.info({ site: site.id }, 'rules: left site');
    this.apply(conditionGone(this.state.book, `entry:${site.id}`, now));
    if (site.role === 'depot' && !this.state.trip && this.cfg.trips.autoStart) this.startTrip(`auto: left ${site.name}`);
  }

  private budgets(): BudgetUse[] {
    const trip = this.state.trip;
    if (!trip) return [];
    return this.rules.flatMap((rule) => {
      const tc = trip.compartments[rule.id];
      if (rule.budgetMs === undefined || !tc) return [];
      return [{ compartment: rule.id, name: rule.name, excursionMin: Number((tc.excursionMs / 60_000).toFixed(1)), budgetMin: rule.budgetMs / 60_000, spent: budgetSpent(tc, rule) }];
    });
  }

  startTrip(by: string): Trip {
    const now = this.now();
    const running = this.state.trip;
    if (running) return { id: running.id, startedAt: running.startedAt, startedBy: running.startedBy };
    const stamp = new Date(now).toISOString().replace(/[-:]|\.\d+/g, '');
    let trip = newTrip(`${this.cfg.gatewayId}-${stamp}`, by, now, this.rules.map((r) => r.id));
    // Alarms already open when the trip starts are part of its story (cargo loaded warm).
    for (const a of this.state.book.open) trip = recordAlarm(trip, a);
    this.state.trip = trip;
    this.emit({ type: 'trip.started', severity: 'info', source: this.cfg.gatewayId, message: `Trip ${trip.id} started by ${by}`, data: { tripId: trip.id, by } });
    this.save(now);
    return { id: trip.id, startedAt: trip.startedAt, startedBy: by };
  }

  endTrip(by: string): TripReport | undefined {
    const now = this.now();
    if (!this.state.trip) return undefined;
    this.evaluate(now);
    for (const rule of this.rules) this.apply(conditionGone(this.state.book, `budget:${rule.id}`, now));
    let trip = this.state.trip;
    for (const a of this.state.book.open) if (trip.alarms.some((t) => t.id === a.id)) trip = recordAlarm(trip, a);
    const report = tripReport(trip, this.rules, { gatewayId: this.cfg.gatewayId, by, nowMs: now });
    delete this.state.trip;
    this.emit({ type: 'trip.ended', severity: report.clean ? 'info' : 'warning', source: this.cfg.gatewayId, message: `Trip ${trip.id} ended by ${by}${report.clean ? '' : ': cargo went out of range'}`, data: { tripId: trip.id, report } });
    this.save(now);
    return report;
  }

  // ---- alarms -----------------------------------------------------------------------------

  acknowledge(alarmId: string, who: string): boolean {
    const r = acknowledgeAlarm(this.state.book, alarmId, who, this.now());
    this.apply(r);
    return r.transitions.length > 0;
  }

  private raise(spec: AlarmSpec, now: number): string | undefined {
    const r = raiseAlarm(this.state.book, spec, now);
    this.apply(r);
    return this.state.book.open.find((a) => a.key === spec.key)?.id;
  }

  /** The one place alarm transitions become state, trip evidence, events and a save. */
  private apply(r: { book: AlarmBook; transitions: AlarmTransition[] }) {
    if (r.book === this.state.book) return;
    this.state.book = r.book;
    this.dirty = true;
    for (const t of r.transitions) {
      const trip = this.state.trip;
      if (trip && (t.kind === 'raised' || trip.alarms.some((a) => a.id === t.alarm.id))) this.state.trip = recordAlarm(trip, t.alarm);
      this.deps.emit(alarmEvent(t, this.deps.clock.stamp()));
    }
    if (r.transitions.length > 0) this.save(this.lastNow);
  }

  private emit(e: Omit<EventDraft, 'kind' | 'ts' | 'tq'>) {
    this.deps.emit({ kind: 'event', ...this.deps.clock.stamp(), ...e });
  }

  // ---- views and persistence --------------------------------------------------------------

  snapshot(): RulesSnapshot {
    const now = this.now();
    const compartments = this.rules.map((rule) => this.view(rule, now));
    const trip = this.state.trip;
    const refused = this.state.book.open.find((a) => a.type === 'entry-refused' && a.active);
    return {
      at: new Date(now).toISOString(),
      compartments,
      alarms: this.state.book.open,
      ...(trip && { trip: this.tripView(trip) }),
      gate: { ...(this.state.lastEntry && { lastEntry: this.state.lastEntry }), doNotUnload: refused !== undefined, ...(refused && { message: refused.message }) },
    };
  }

  private view(rule: CompartmentRule, now: number): CompartmentView {
    const values = channelValues(rule, this.freshValues(rule, now));
    const sup = this.suppression(rule, now);
    const st = this.state.compartments[rule.id] ?? {};
    const on = rule.tiers.filter((t) => rule.channels.some((ch) => isOn(st[ch]?.[t.name] ?? IDLE)));
    const state: CompartmentStatus = on.some((t) => t.severity === 'critical') ? 'critical' : on.length > 0 ? 'warning' : values.size === 0 ? 'unknown' : sup ? 'suppressed' : 'ok';
    return {
      id: rule.id,
      name: rule.name,
      value: values.size === 0 ? null : Math.max(...values.values()),
      probes: rule.probes.map((id) => {
        const p = this.probes.get(id);
        return { id, value: p?.value ?? null, ...(p && { quality: p.quality, at: new Date(p.at).toISOString() }) };
      }),
      limits: Object.fromEntries(rule.tiers.map((t) => [t.name, t.limit])),
      state,
      suppressedBy: sup?.windows.map((w) => w.cause) ?? [],
      display: compartmentDisplay(rule, st, values, sup),
    };
  }

  private tripView(trip: TripState): TripView {
    return {
      id: trip.id,
      startedAt: trip.startedAt,
      startedBy: trip.startedBy,
      compartments: this.rules.map((rule) => {
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

  private save(now: number) {
    this.lastSaveMs = now;
    this.dirty = false;
    void this.saver.request();
  }

  flush(): Promise<void> {
    this.dirty = false;
    return this.saver.request();
  }

  async stop(): Promise<void> {
    await this.flush();
  }
}
