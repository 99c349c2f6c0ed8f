import { resolveProbe, type BusConfig, type ProbeConfig } from '../../src/config/schema-modbus.ts';
import type { Clock, Stamp } from '../../src/core/clock.ts';
import type { Logger } from '../../src/core/log.ts';
import type { DeviceHealth, RecordDraft, SampleBatchSink, SampleSink, TemperatureDraft } from '../../src/core/types.ts';
import { ProbeHealth } from './health.ts';
import { BusLink, describeBus } from './link.ts';
import { planJobs, type ProbePlan } from './plan.ts';
import { judgePoll } from './reading.ts';
import { BusScheduler, type Poll } from './scheduler.ts';
import { InputPoller } from './inputs.ts';
import type { InputConfig } from '../../src/config/schema-rules.ts';

export interface ProbeDrivers {
  /** Opens every bus in the background and starts polling; never throws for an absent device. */
  start(): Promise<void>;
  /** Closes every bus within 1 s. */
  stop(): Promise<void>;
  /** One entry per probe (kind 'probe') and one per bus (kind 'bus'). */
  health(): DeviceHealth[];
  /** Sets a coil (relay or buzzer module), sent through the bus's scheduler ahead of polls. */
  writeCoil(busId: string, unit: number, address: number, value: boolean): Promise<void>;
}

/** Either sink: `sinkMany` gets all readings of one coalesced read at once (what the runtime uses). */
export type ProbeDriverDeps = ProbeDriverCommon & ({ sink: SampleSink; sinkMany?: never } | { sinkMany: SampleBatchSink; sink?: never });

interface ProbeDriverCommon {
  clock: Clock;
  log: Logger;
  /** A door contact or defrost relay from `inputs[]` changed (the rules' suppression). */
  onInput?: (id: string, on: boolean) => void;
}

const START_GRACE_MS = 1000;

interface Bus {
  cfg: BusConfig;
  link: BusLink;
  scheduler: BusScheduler;
  /** describeBus(cfg), made once: the health sweep shows it every second. */
  at: string;
  lastOkAt?: string;
}

export function createProbeDrivers(cfg: { buses: BusConfig[]; probes: ProbeConfig[]; inputs?: InputConfig[] }, deps: ProbeDriverDeps): ProbeDrivers {
  const { clock } = deps;
  // Tests and tools may take readings one at a time; the runtime takes each read's readings together.
  const sinkMany: SampleBatchSink = deps.sinkMany ?? ((drafts) => drafts.forEach((d) => deps.sink!(d)));
  const log = deps.log.child({ driver: 'modbus-probe' });
  const health = new Map<string, ProbeHealth>();
  const buses = new Map<string, Bus>();

  for (const p of cfg.probes) {
    if (!cfg.buses.some((b) => b.id === p.bus)) throw new Error(`probe ${p.id}: no bus with id "${p.bus}" (known: ${cfg.buses.map((b) => b.id).join(', ') || 'none'})`);
    health.set(p.id, new ProbeHealth(p.id, p.bus, p.unit));
  }

  // One stamp per coalesced read: its registers came in one reply, so its readings share a time.
  function onPolls(bus: Bus, polls: Poll[]): void {
    const stamp = clock.stamp();
    const drafts = new Array<RecordDraft>(polls.length);
    for (let i = 0; i < polls.length; i++) drafts[i] = judged(bus, polls[i]!, stamp);
    sinkMany(drafts);
  }

  /** Updates the probe's health and logs changes of state; returns the reading. */
  function judged(bus: Bus, { plan, outcome }: Poll, { ts, tq }: Stamp): TemperatureDraft {
    const { probe } = plan;
    const h = health.get(probe.id)!;
    const wasFailing = h.failing;
    const j = judgePoll(probe, bus.cfg.id, outcome);
    if (j.quality === 'comms-error') h.commsError(j.fault.kind, j.fault.text);
    else {
      bus.lastOkAt = ts;
      if (j.quality === 'good') h.good(j.value, ts);
      else h.sensorFault(j.reason);
    }
    // Log changes of state, not every poll: a dead probe polled every 5 s must not flood the journal.
    if (!wasFailing && h.failing) log.warn({ event: 'modbus.probe.fault', probe: probe.id, bus: bus.cfg.id, unit: probe.unit, quality: j.quality }, 'error' in j ? j.error : 'probe failing');
    if (wasFailing && !h.failing) log.info({ event: 'modbus.probe.recovered', probe: probe.id, bus: bus.cfg.id, unit: probe.unit, value: j.value }, `probe ${probe.id} reads again`);
    // Two literals rather than spreads of optional fields (a good part of each reading's cost);
    // the key order stays kind, ts, tq, probe, compartment, value, quality, error.
    const { compartment } = probe;
    const draft: TemperatureDraft =
      compartment === undefined
        ? { kind: 'temperature', ts, tq, probe: probe.id, value: j.value, quality: j.quality }
        : { kind: 'temperature', ts, tq, probe: probe.id, compartment, value: j.value, quality: j.quality };
    if (j.quality !== 'good') draft.error = j.error;
    return draft;
  }

  for (const b of cfg.buses) {
    const link = new BusLink(b, log);
    const probes = cfg.probes.filter((p) => p.bus === b.id).map(resolveProbe);
    // Polls start only after start(), when `bus` exists.
    const scheduler = new BusScheduler(link, planJobs(probes, b), (polls) => onPolls(bus, polls), log);
    const bus: Bus = { cfg: b, link, scheduler, at: describeBus(b) };
    buses.set(b.id, bus);
  }

  function busOf(busId: string, what: string): Bus {
    const bus = buses.get(busId);
    if (!bus) throw new Error(`${what}: no bus with id "${busId}" (known: ${[...buses.keys()].join(', ') || 'none'})`);
    return bus;
  }
  const inputs = new InputPoller(cfg.inputs ?? [], (busId, unit, fn, address) => busOf(busId, 'input read').scheduler.readBit(unit, fn, address), deps.onInput ?? (() => {}), log);

  /** Built every second by the health sweep: optional fields set after the fact, no spreads. */
  function busHealth(bus: Bus): DeviceHealth {
    const { link, scheduler } = bus;
    const backingOff = scheduler.backingOff();
    const open = link.isOpen;
    const h: DeviceHealth = { id: bus.cfg.id, kind: 'bus', state: open ? (backingOff.length > 0 ? 'degraded' : 'ok') : link.lastError === undefined ? 'starting' : 'offline' };
    const detail = !open ? (link.lastError ?? 'connecting') : backingOff.length > 0 ? `not answering, polled less often: unit ${backingOff.join(', ')}` : undefined;
    if (detail !== undefined) h.detail = detail;
    if (bus.lastOkAt !== undefined) h.lastOkAt = bus.lastOkAt;
    const { counters } = scheduler;
    h.errors = counters.timeouts;
    h.at = bus.at;
    h.connects = link.connects;
    h.drops = link.drops;
    h.requests = counters.requests;
    h.timeouts = counters.timeouts;
    h.overruns = counters.overruns;
    h.coilWrites = counters.coilWrites;
    h.backingOff = backingOff;
    return h;
  }

  return {
    async start() {
      for (const bus of buses.values()) bus.link.start();
      // A moment to connect, so the first poll is not a needless "not connected"; an absent bus does not hold up the rest.
      await Promise.all([...buses.values()].map((b) => b.link.waitOpen(START_GRACE_MS)));
      for (const bus of buses.values()) bus.scheduler.start();
      inputs.start();
    },
    async stop() {
      inputs.stop();
      await Promise.all([...buses.values()].map((b) => Promise.all([b.scheduler.stop(), b.link.stop()])));
    },
    health() {
      const out: DeviceHealth[] = [];
      health.forEach((h) => out.push(h.snapshot()));
      buses.forEach((b) => out.push(busHealth(b)));
      return out;
    },
    async writeCoil(busId, unit, address, value) {
      return busOf(busId, 'coil write').scheduler.writeCoil(unit, address, value);
    },
  };
}
