import type { GatewayConfig } from '../config/schema.ts';
import { MAX_SKEW_MS, type Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { DeviceHealth, EventDraft, PositionDraft, ReadingQuality, RecordDraft, TemperatureDraft } from '../core/types.ts';
import { acknowledgeAlarm, conditionGone, notePeak, raiseAlarm, type Alarm, type AlarmBook, type AlarmSpec, type AlarmTransition } from './alarms.ts';
import { evaluateCompartment, resumeCompartment } from './compartment.ts';
import { forgetPending, IDLE, isOn, stepDebounce, type Debounce } from './debounce.ts';
import { compartmentDisplay, type DisplayState } from './display-state.ts';
import { alarmEvent } from './events.ts';
import { healthConditions, healthKey, probeCondition, type HealthCondition, type ProbeSeen } from './health.ts';
import { channelValues, compartmentRule, staleAfterMs, type CompartmentRule, type TierName } from './limits.ts';
import { SaveQueue, UnreadableState, type RulesStore } from './persist.ts';
import { checkSavedState, freshState, type SavedState as State } from './saved-state.ts';
import { activeSuppression, followInput, scheduledEpisode, type Suppression, type SuppressionCause } from './suppression.ts';
import { TripDesk, type GateView, type TripView } from '../trips/desk.ts';
import type { Trip, TripReport } from '../trips/trip.ts';
import type { ShipmentRefs } from '../trips/shipment.ts';

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

/** A compartment's judgement without its probes and limits: what changes a display or `latest` (cheap, for every second). */
export type CompartmentStatusView = Pick<CompartmentView, 'id' | 'value' | 'state' | 'suppressedBy' | 'display'>;

/** What the runtime reads every second: enough for the chart, the outputs and `latest`'s change key, without a snapshot. */
export interface RulesStatus {
  compartments: CompartmentStatusView[];
  /** Open alarms, oldest first (the engine's own array: read, do not change). */
  alarms: readonly Alarm[];
  tripId?: string;
  gate: GateView;
}

export interface RulesSnapshot {
  at: string;
  compartments: CompartmentView[];
  /** Open alarms, oldest first. */
  alarms: Alarm[];
  trip?: TripView;
  gate: GateView;
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
  /**
   * Timers: delays, suppression ends, budgets, device health. The runtime calls it every second
   * with that second's device reports: one health judgement a second (onHealth judges at once).
   */
  tick(nowMs: number, devices?: readonly DeviceHealth[]): void;
  acknowledge(alarmId: string, who: string): boolean;
  startTrip(by: string, shipment?: ShipmentRefs): Trip;
  endTrip(by: string): TripReport | undefined;
  snapshot(): RulesSnapshot;
  /** The part of the snapshot the runtime needs every second, without building it (no probe lists, no timestamps). */
  status(): RulesStatus;
  /** Resolves once the current state is on disk. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** A device condition that flickers back for a moment does not clear and re-raise its alarm. */
const HEALTH_CLEAR_MS = 10_000;
/** Longer than any gap between ticks and readings of a running box. */
const CLOCK_JUMP_MS = 5 * 60_000;
/** Trip statistics change with every reading; between alarm transitions they are saved this often. */
const SAVE_EVERY_MS = 10_000;

/** Changed in place on every reading (an object per reading was garbage at once). */
interface ProbeLatest {
  value: number | null;
  quality: ReadingQuality;
  error: string | undefined;
  at: number;
}

type ProbeCfg = GatewayConfig['probes'][number];

/** A configured probe as the engine tracks it: what a reading needs, found with one lookup. */
interface ProbeTrack {
  cfg: ProbeCfg;
  /** Its compartment's rule: the one rule its reading can change. */
  rule: CompartmentRule | undefined;
  staleMs: number;
  /** Its `health:probe-fault:` key. */
  faultKey: string;
  /** Its latest reading; undefined until the first. */
  seen: ProbeLatest | undefined;
}

/** What the last evaluation of a compartment saw: `status()` and `snapshot()` show it without judging again. */
interface Judgement {
  /** When (rules time): the 1 s tick leaves a compartment its poll judged just before. */
  at: number;
  values: Map<string, number>;
  sup: Suppression | undefined;
  /** Built from the rest when first asked for, then kept until the next evaluation. */
  view?: CompartmentStatusView;
}

const CAUSES = ['defrost', 'door'] as const;
/** Half the runtime's 1 s tick: a transition due by time alone is judged at most this much later. */
const RECENT_MS = 500;

export function createRulesEngine(cfg: GatewayConfig, deps: RulesDeps): RulesEngine {
  return new Engine(cfg, deps);
}

class Engine implements RulesEngine {
  private state: State = freshState();
  private readonly rules: CompartmentRule[];
  /** Per configured probe id; readings of other probes change nothing. */
  private readonly tracks = new Map<string, ProbeTrack>();
  /** Per compartment id, its last evaluation (evaluateRule): the display and `latest` read it every second. */
  private readonly judgements = new Map<string, Judgement>();
  private readonly inputs = new Map<string, boolean>();
  private readonly devices = new Map<string, DeviceHealth>();
  private lastFixAt: number | undefined;
  private startedMs = 0;
  private lastNow = 0;
  private lastSaveMs = 0;
  private dirty = false;
  private readonly saver: SaveQueue;
  private readonly trips: TripDesk;

  constructor(
    private readonly cfg: GatewayConfig,
    private readonly deps: RulesDeps,
  ) {
    this.rules = cfg.compartments.map((c) => compartmentRule(c, cfg.probes));
    for (const p of cfg.probes) {
      const rule = this.rules.find((r) => r.probes.includes(p.id));
      this.tracks.set(p.id, { cfg: p, rule, staleMs: staleAfterMs(p), faultKey: healthKey('probe-fault', p.id), seen: undefined });
    }
    this.saver = new SaveQueue(deps.store, () => this.state, (err) => deps.log.error({ err }, 'rules: saving state failed'));
    this.trips = new TripDesk({
      cfg,
      rules: this.rules,
      log: deps.log,
      state: () => this.state,
      touch: () => (this.dirty = true),
      save: (now) => this.save(now),
      openAlarms: () => this.state.book.open,
      raise: (spec, now) => this.raise(spec, now),
      clear: (key, now) => this.apply(conditionGone(this.state.book, key, now)),
      evaluate: (now) => this.evaluate(now),
      emit: (e) => this.emit(e),
      now: () => this.now(),
    });
  }

  async start(): Promise<void> {
    const problem = await this.restore();
    this.startedMs = this.now();
    this.lastSaveMs = this.startedMs;
    if (problem === undefined) return;
    // A state that cannot be read must not stop the box (a service restarting forever alarms
    // nobody): start fresh, say so on the events lane, and overwrite it in the same commit.
    this.deps.log.warn({ problem }, 'rules: saved state unusable, starting fresh');
    this.emit({
      type: 'rules.state-reset',
      severity: 'warning',
      source: this.cfg.gatewayId,
      message: `Rules state of the last run could not be used (${problem}); started fresh: alarms, trip and suppressions from before the restart are no longer tracked`,
      data: { problem },
    });
    this.save(this.startedMs);
  }

  /** Loads the saved state; returns what was wrong with it when it cannot be used. */
  private async restore(): Promise<string | undefined> {
    let saved: unknown;
    try {
      saved = await this.deps.store.load();
    } catch (err) {
      if (err instanceof UnreadableState) return err.message;
      throw err;
    }
    if (saved === undefined) return undefined;
    const checked = checkSavedState(saved);
    if ('problem' in checked) return checked.problem;
    this.state = checked.state;
    this.forgetPending();
    return undefined;
  }

  private forgetPending() {
    const s = this.state;
    const each = (r: Record<string, Debounce>) => Object.fromEntries(Object.entries(r).map(([k, d]) => [k, forgetPending(d)]));
    this.state = { ...s, compartments: Object.fromEntries(Object.entries(s.compartments).map(([k, c]) => [k, resumeCompartment(c)])), health: each(s.health), sites: each(s.sites) };
    // What was judged before shows pending delays that no longer run.
    this.judgements.clear();
  }

  /**
   * A jump forward (a box that booted without a real-time clock getting GPS time) restarts
   * pending delays instead of completing them all at once. Jitter backwards (GPS time carried
   * on the monotonic clock, corrected by the next fix) is held at the latest time; a step back
   * beyond that is a correction and is followed, restarting pending delays: holding at the
   * latest time would freeze every snapshot at a wrong future time until real time caught up.
   */
  private now(at?: number): number {
    const t = at ?? this.deps.clock.nowMs().ms;
    const stepMs = t - this.lastNow;
    if (this.lastNow > 0 && (stepMs > CLOCK_JUMP_MS || stepMs < -MAX_SKEW_MS)) {
      this.deps.log.warn({ jumpMs: stepMs }, `rules: clock jumped ${stepMs > 0 ? 'forward' : 'back'}, restarting pending delays`);
      this.forgetPending();
      this.lastNow = t;
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
    // Indexed loops: code run per reading stays in V8's interpreter and baseline tiers (the
    // service's --interrupt-budget), where every step of a for-of allocates an iterator result.
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      if (r.kind === 'temperature') {
        const track = this.tracks.get(r.probe);
        if (track === undefined) continue;
        this.onTemperature(track, r, now);
        if (track.rule) touched.add(track.rule);
      } else if (r.kind === 'position') {
        if (r.mode >= 2) this.onFix(r, now);
        fix = true;
      }
    }
    if (fix) this.evaluate(now);
    else for (const rule of touched) this.evaluateRule(rule, now);
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i]!;
      const track = r.kind === 'temperature' ? this.tracks.get(r.probe) : undefined;
      if (track) this.evaluateProbeHealth(track, now);
    }
  }

  private onTemperature(track: ProbeTrack, r: TemperatureDraft, now: number) {
    // A "good" reading without a finite number is a broken driver or probe: a fault, never a temperature.
    const good = r.quality === 'good' && typeof r.value === 'number' && Number.isFinite(r.value);
    const value = good ? (r.value as number) : null;
    const quality = good ? 'good' : r.quality === 'good' ? 'sensor-fault' : r.quality;
    const { seen } = track;
    if (seen === undefined) track.seen = { value, quality, error: r.error, at: now };
    else {
      seen.value = value;
      seen.quality = quality;
      seen.error = r.error;
      seen.at = now;
    }
    const { compartment } = track.cfg;
    if (good && compartment !== undefined) this.trips.onReading(compartment, r.value as number);
  }

  onHealth(h: readonly DeviceHealth[]): void {
    this.noteDevices(h);
    this.evaluateHealth(this.now());
  }

  /** Probes and buses are judged from readings (tracks): only the devices healthConditions reads are kept. */
  private noteDevices(h: readonly DeviceHealth[]) {
    for (let i = 0; i < h.length; i++) {
      const d = h[i]!;
      if (d.kind === 'uplink' || d.kind === 'journal') this.devices.set(d.id, d);
    }
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

  tick(nowMs: number, devices?: readonly DeviceHealth[]): void {
    if (devices) this.noteDevices(devices);
    const now = this.now(nowMs);
    // What changes with time alone (delays, stale probes, schedules) is judged here; a compartment
    // its poll judged less than RECENT_MS ago would be judged again with the same readings.
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i]!;
      const at = this.judgements.get(rule.id)?.at;
      // now < at: the clock was stepped back (see now()), and the judgement's age means nothing.
      if (at === undefined || now - at >= RECENT_MS || now < at) this.evaluateRule(rule, now);
    }
    this.evaluateHealth(now);
    if (this.dirty && now - this.lastSaveMs >= SAVE_EVERY_MS) this.save(now);
  }

  // ---- evaluation -------------------------------------------------------------------------

  private evaluate(now: number) {
    for (const rule of this.rules) this.evaluateRule(rule, now);
    this.evaluateHealth(now);
  }

  /** The probe's latest good value, unless older than its stale time. */
  private freshValue(id: string, now: number): number | undefined {
    const track = this.tracks.get(id);
    const p = track?.seen;
    return p && p.value !== null && now - p.at <= track.staleMs ? p.value : undefined;
  }

  private suppression(rule: CompartmentRule, now: number): Suppression | undefined {
    // Most compartments have neither: nothing to build per evaluation.
    if (!rule.defrost && !rule.door) return undefined;
    const causes = CAUSES.flatMap((cause) => {
      const cc = rule[cause];
      if (!cc) return [];
      const scheduled = cause === 'defrost' && rule.defrost?.schedule ? scheduledEpisode(rule.defrost.schedule, now) : undefined;
      return [{ cause, cfg: cc, episodes: [this.state.episodes[`${rule.id}:${cause}`], scheduled] }];
    });
    return activeSuppression(causes, now, rule.riseAllowance);
  }

  private evaluateRule(rule: CompartmentRule, now: number) {
    const values = channelValues(rule, (id) => this.freshValue(id, now));
    const sup = this.suppression(rule, now);
    const before = this.state.compartments[rule.id];
    const r = evaluateCompartment(before ?? {}, values, now, rule, sup);
    if (r.state !== before) this.state.compartments = { ...this.state.compartments, [rule.id]: r.state };
    this.judgements.set(rule.id, { at: now, values, sup });
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
    // forEach, not for-of: no iterator entries per evaluation.
    values.forEach((value, channel) => {
      for (let t = 0; t < rule.tiers.length; t++) {
        const tier = rule.tiers[t]!;
        if (isOn(r.state[channel]?.[tier.name] ?? IDLE)) this.state.book = notePeak(this.state.book, `temp:${channel}:${tier.name}`, value, tier.direction);
      }
    });
    this.trips.account(rule, now, r.out, r.counted);
  }

  private probeSeen({ cfg, staleMs, seen }: ProbeTrack): ProbeSeen {
    return { id: cfg.id, staleMs, ...(seen && { lastAt: seen.at, quality: seen.quality, ...(seen.error && { error: seen.error }) }) };
  }

  /** A probe with no fault condition running that read good within its stale time: nothing to judge. */
  private settled({ seen, staleMs, faultKey }: ProbeTrack, now: number): boolean {
    return seen !== undefined && seen.quality === 'good' && now - seen.at <= staleMs && (this.state.health[faultKey] ?? IDLE).phase === 'idle';
  }

  /** After a reading: judges that probe's fault condition alone, and only when it can change. */
  private evaluateProbeHealth(track: ProbeTrack, now: number) {
    if (this.settled(track, now)) return;
    const c = probeCondition(this.probeSeen(track), { nowMs: now, sinceMs: this.startedMs }, this.cfg.healthAlarms);
    if (c) this.stepHealth(c, now);
  }

  private evaluateHealth(now: number) {
    const facts = {
      nowMs: now,
      sinceMs: this.startedMs,
      // Settled probes would only say "ok" again: at 128 probes, twice a second, that was most of a tick.
      probes: this.unsettled(now),
      devices: Array.from(this.devices.values()),
      ...(this.cfg.gps && { gps: { staleMs: this.cfg.gps.staleAfterMs, ...(this.lastFixAt !== undefined && { lastFixAt: this.lastFixAt }) } }),
      clockSynced: this.deps.clock.synchronised(),
    };
    for (const c of healthConditions(facts, this.cfg.healthAlarms)) this.stepHealth(c, now);
  }

  private unsettled(now: number): ProbeSeen[] {
    const out: ProbeSeen[] = [];
    this.tracks.forEach((track) => {
      if (!this.settled(track, now)) out.push(this.probeSeen(track));
    });
    return out;
  }

  private stepHealth(c: HealthCondition, now: number) {
    const r = stepDebounce(this.state.health[c.key] ?? IDLE, c.cond, now, { delayMs: c.delayMs, clearDelayMs: HEALTH_CLEAR_MS });
    if (r.d !== this.state.health[c.key]) this.state.health = { ...this.state.health, [c.key]: r.d };
    if (r.edge === 'on') this.raise({ key: c.key, type: c.type, severity: c.severity, source: c.source, latched: false, message: c.message, data: {} }, now);
    if (r.edge === 'off') this.apply(conditionGone(this.state.book, c.key, now));
  }

  // ---- sites, gate and trips (src/trips) --------------------------------------------------

  private onFix(r: PositionDraft, now: number) {
    this.lastFixAt = now;
    this.trips.onFix(r, now);
  }

  startTrip(by: string, shipment?: ShipmentRefs): Trip {
    return this.trips.start(by, shipment);
  }

  endTrip(by: string): TripReport | undefined {
    return this.trips.end(by);
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
      this.trips.onAlarm(t);
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
    const trip = this.trips.view();
    return { at: new Date(now).toISOString(), compartments, alarms: this.state.book.open, ...(trip && { trip }), gate: this.trips.gate() };
  }

  status(): RulesStatus {
    const now = this.now();
    const tripId = this.state.trip?.id;
    return { compartments: this.rules.map((rule) => this.judged(rule, now)), alarms: this.state.book.open, ...(tripId !== undefined && { tripId }), gate: this.trips.gate() };
  }

  /**
   * A compartment as its last evaluation left it (its poll's, or the tick's when no poll judged it
   * within RECENT_MS): the display, the outputs and `latest` read this every second, twice or
   * more, and judging again each time was most of their cost.
   */
  private judged(rule: CompartmentRule, now: number): CompartmentStatusView {
    const j = this.judgements.get(rule.id);
    if (j !== undefined) return (j.view ??= this.statusView(rule, j));
    // Not evaluated yet (before the first tick): judged as it stands, without stepping its alarms.
    return this.statusView(rule, { values: channelValues(rule, (id) => this.freshValue(id, now)), sup: this.suppression(rule, now) });
  }

  private statusView(rule: CompartmentRule, { values, sup }: Pick<Judgement, 'values' | 'sup'>): CompartmentStatusView {
    const st = this.state.compartments[rule.id] ?? {};
    const on = rule.tiers.filter((t) => rule.channels.some((ch) => isOn(st[ch]?.[t.name] ?? IDLE)));
    const state: CompartmentStatus = on.some((t) => t.severity === 'critical') ? 'critical' : on.length > 0 ? 'warning' : values.size === 0 ? 'unknown' : sup ? 'suppressed' : 'ok';
    return {
      id: rule.id,
      value: values.size === 0 ? null : Math.max(...values.values()),
      state,
      suppressedBy: sup?.windows.map((w) => w.cause) ?? [],
      display: compartmentDisplay(rule, st, values, sup),
    };
  }

  private view(rule: CompartmentRule, now: number): CompartmentView {
    const { id, value, state, suppressedBy, display } = this.judged(rule, now);
    return {
      id,
      name: rule.name,
      value,
      probes: rule.probes.map((id) => {
        const p = this.tracks.get(id)?.seen;
        return { id, value: p?.value ?? null, ...(p && { quality: p.quality, at: new Date(p.at).toISOString() }) };
      }),
      limits: Object.fromEntries(rule.tiers.map((t) => [t.name, t.limit])),
      state,
      suppressedBy,
      display,
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
