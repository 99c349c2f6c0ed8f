/** Scripted time and readings for rules-engine tests: every second is a tick, readings as the script says. */
import { parseConfig } from '../src/config/load.ts';
import { Clock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { EventDraft } from '../src/core/types.ts';
import { createRulesEngine, memoryRulesStore, type RulesEngine, type RulesStore } from '../src/rules/index.ts';

/** 2026-03-01 10:00:00 UTC: plausible for the clock, and a round hour for defrost schedules. */
export const T0 = Date.UTC(2026, 2, 1, 10);

export const BUS = { id: 'b', type: 'tcp', host: '127.0.0.1' } as const;
export const probe = (id: string, compartment: string) => ({ id, bus: 'b', unit: 1, address: Number(id.replace(/\D/g, '')) || 0, compartment });

export interface Harness {
  engine: RulesEngine;
  events: EventDraft[];
  /** Seconds since T0 of the scripted clock. */
  readonly t: number;
  /** Moves the clock to `sec`, ticking every second on the way. */
  until(sec: number): void;
  /** Moves the clock by `sec` with no tick on the way, as a clock correction does. */
  jump(sec: number): void;
  temp(probe: string, value: number | null, quality?: 'good' | 'sensor-fault' | 'comms-error'): void;
  fix(lat: number, lon: number): void;
  /** Calls `step(t)` every `everySec` from the current time until `toSec`, ticking every second in between. */
  every(toSec: number, everySec: number, step: (t: number) => void): void;
  /**
   * Readings every `everySec` (first at the current time) until `toSec`, ticking every second.
   * `value(t)` gives one number for all listed probes, or one per probe.
   */
  series(probes: string[], toSec: number, value: (t: number) => number | number[], everySec?: number): void;
  /** Events of one type with their time in seconds since T0. */
  of(type: string): { at: number; e: EventDraft }[];
}

/** `cfg` is raw JSON as in a config file, validated here like one. */
export async function harness(cfg: Record<string, unknown>, opts: { store?: RulesStore; startSec?: number; systemNow?: () => number } = {}): Promise<Harness> {
  let now = T0 + (opts.startSec ?? 0) * 1000;
  const clock = new Clock(opts.systemNow ?? (() => now), () => now);
  const events: EventDraft[] = [];
  const { config } = parseConfig({ gatewayId: 'van-1', buses: [BUS], ...cfg }, 'test.json');
  const engine = createRulesEngine(config, { emit: (e) => events.push(e), store: opts.store ?? memoryRulesStore(), clock, log: silentLogger });
  await engine.start();
  engine.tick(now);
  const h: Harness = {
    engine,
    events,
    get t() {
      return (now - T0) / 1000;
    },
    until(sec) {
      while (now < T0 + sec * 1000) {
        now += 1000;
        engine.tick(now);
      }
    },
    jump(sec) {
      now += sec * 1000;
    },
    temp(id, value, quality = 'good') {
      engine.onRecord({ kind: 'temperature', ...clock.stamp(), probe: id, value: quality === 'good' ? value : null, quality });
    },
    fix(lat, lon) {
      engine.onRecord({ kind: 'position', ...clock.stamp(), mode: 3, lat, lon });
    },
    every(toSec, everySec, step) {
      while (h.t < toSec) {
        step(h.t);
        h.until(Math.min(h.t + everySec, toSec));
      }
    },
    series(probes, toSec, value, everySec = 10) {
      h.every(toSec, everySec, (t) => {
        const v = value(t);
        probes.forEach((p, i) => h.temp(p, Array.isArray(v) ? v[i]! : v));
      });
    },
    of(type) {
      return events.filter((e) => e.type === type).map((e) => ({ at: (Date.parse(e.ts) - T0) / 1000, e }));
    },
  };
  return h;
}
