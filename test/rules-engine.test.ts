import { describe, expect, it, vi } from 'vitest';
import { Clock } from '../src/core/clock.ts';
import type { Alarm } from '../src/rules/index.ts';
import { harness, probe, T0, type Harness } from './rules-harness.ts';

/** A chilled compartment; only the probes a test feeds are configured, since a silent probe is a fault. */
const chilled = (fields: Record<string, unknown> = {}, probes = ['p1']) => ({
  probes: probes.map((p) => probe(p, 'c1')),
  compartments: [{ id: 'c1', name: 'Chiller', preset: 'chilled', delaySec: 300, clearDelaySec: 120, ...fields }],
});
const raisedTemps = (h: Harness) => h.of('alarm.raised').filter((x) => x.e.data?.alarmType === 'temperature');
const alarmOf = (x: { e: { data?: Record<string, unknown> } }) => x.e.data?.alarm as Alarm;

describe('excursions and delays', () => {
  it('an excursion shorter than the delay raises nothing', async () => {
    const h = await harness(chilled({}, ['p1', 'p2']));
    h.series(['p1', 'p2'], 1200, (t) => (t >= 100 && t < 380 ? 7 : 3));
    expect(h.of('alarm.raised')).toEqual([]);
    expect(h.engine.snapshot().compartments[0]).toMatchObject({ state: 'ok', value: 3 });
  });

  it('a longer one raises exactly one alarm, at onset + delay', async () => {
    const h = await harness(chilled({}, ['p1', 'p2']));
    h.series(['p1', 'p2'], 1500, (t) => (t >= 100 ? [3, 6.5] : [3, 3]));
    const raised = raisedTemps(h);
    expect(raised.map((x) => [x.at, x.e.severity, alarmOf(x).data.tier])).toEqual([[400, 'warning', 'high']]);
    expect(raised[0]!.e).toMatchObject({ kind: 'event', tq: 'system', source: 'c1', message: 'Chiller above 5.0 C: 6.5 C' });
    expect(h.engine.snapshot().compartments[0]).toMatchObject({ state: 'warning', value: 6.5, limits: { high: 5, criticalHigh: 8 } });
  });

  it('a second, critical tier raises its own alarm with its own delay', async () => {
    const h = await harness(chilled());
    h.series(['p1'], 1500, (t) => (t >= 600 ? 9 : t >= 100 ? 6 : 3));
    expect(raisedTemps(h).map((x) => [x.at, x.e.severity])).toEqual([[400, 'warning'], [900, 'critical']]);
    expect(h.engine.snapshot().compartments[0]!.state).toBe('critical');
  });

  it.each([
    ['max', 'alarm', 'Chiller above 5.0 C: 7.0 C'],
    ['mean', 'none', undefined],
    ['min', 'none', undefined],
    ['each', 'alarm', 'Chiller (probe p2) above 5.0 C: 7.0 C'],
  ])('combine %s of probes at 3 and 7 C -> %s', async (combine, expected, message) => {
    const h = await harness(chilled({ combine }, ['p1', 'p2']));
    h.series(['p1', 'p2'], 600, () => [3, 7]);
    expect(raisedTemps(h).map((x) => x.e.message)).toEqual(expected === 'alarm' ? [message] : []);
  });

  it('clear delay and hysteresis keep a value hovering at the limit from flapping', async () => {
    const hover = (t: number) => (t < 400 ? 6 : t < 1000 ? [4.8, 5.1, 4.9, 5.2][(t / 10) % 4]! : 4);
    const quiet = await harness(chilled({ delaySec: 60, latch: false, hysteresis: 0.5, clearDelaySec: 120 }));
    quiet.series(['p1'], 1400, hover);
    expect(quiet.of('alarm.raised').map((x) => x.at)).toEqual([60]);
    expect(quiet.of('alarm.cleared').map((x) => x.at)).toEqual([1120]);
    // The same series without either flaps: the test would notice if they stopped working.
    const noisy = await harness(chilled({ delaySec: 0, latch: false, hysteresis: 0, clearDelaySec: 0 }));
    noisy.series(['p1'], 1400, hover);
    expect(noisy.of('alarm.raised').length).toBeGreaterThan(10);
  });

  it('a clock jump restarts a pending delay instead of completing it', async () => {
    const h = await harness(chilled());
    h.series(['p1'], 100, () => 7);
    h.jump(7200);
    h.series(['p1'], 7700, () => 7);
    expect(raisedTemps(h).map((x) => x.at)).toEqual([7600]);
  });

  it('only good readings count; a probe fault is a device alarm, never a temperature', async () => {
    const h = await harness(chilled());
    h.series(['p1'], 100, () => 3);
    h.temp('p1', null, 'sensor-fault');
    h.until(200);
    expect(h.engine.snapshot().compartments[0]).toMatchObject({ value: null, state: 'unknown' });
    expect(h.of('alarm.raised').map((x) => [x.at, x.e.data?.alarmType, x.e.source, x.e.severity])).toEqual([[130, 'probe-fault', 'p1', 'critical']]);
    h.series(['p1'], 300, () => 3);
    expect(h.of('alarm.cleared').map((x) => [x.at, x.e.data?.alarmType])).toEqual([[210, 'probe-fault']]);
  });
});

describe('defrost and door suppression', () => {
  const min = 60;
  const frozen = (fields: Record<string, unknown>) => ({
    probes: [probe('p1', 'f1')],
    inputs: [{ id: 'door', bus: 'b', unit: 1, address: 10 }],
    compartments: [{ id: 'f1', name: 'Freezer', preset: 'frozen', delaySec: 300, ...fields }],
  });
  // T0 is 10:00 UTC: the defrost runs 10:00-10:20; recovery would last until 10:50, but the hard maximum ends it at 10:40.
  const defrost = { defrost: { schedule: { startsUtc: ['10:00'], durationMin: 20 }, afterMin: 30, maxMin: 40 } };

  it.each([
    ['a spike within the allowance that recovers: nothing', (t: number) => (t >= 2 * min && t < 25 * min ? -16 : -20), []],
    ['a rise that outlasts the hard maximum: raised at the maximum', (t: number) => (t >= 2 * min ? -16 : -20), [40 * min]],
    ['a spike past the allowance: raised after the delay', (t: number) => (t >= 2 * min ? -14 : -20), [7 * min]],
  ])('%s', async (_name, value, expected) => {
    const h = await harness(frozen(defrost));
    h.series(['p1'], 60 * min, value);
    expect(raisedTemps(h).map((x) => x.at)).toEqual(expected);
  });

  it('shows the compartment as suppressed while the defrost runs', async () => {
    const h = await harness(frozen(defrost));
    h.series(['p1'], 5 * min, () => -16);
    expect(h.engine.snapshot().compartments[0]).toMatchObject({ state: 'suppressed', suppressedBy: ['defrost'] });
  });

  it.each([
    ['door open 8 min for a delivery: nothing', 8 * min, []],
    ['door held open past the maximum: raised at the maximum', 50 * min, [30 * min]],
  ])('%s', async (_name, openFor, expected) => {
    const h = await harness(frozen({ door: { input: 'door', afterMin: 5, maxMin: 30 } }), { startSec: -60 });
    h.series(['p1'], 0, () => -20);
    h.engine.onInput('door', true);
    // -16 C: within the frozen preset's 3 C allowance over -18 C.
    h.series(['p1'], openFor, (t) => (t >= 60 ? -16 : -20));
    h.engine.onInput('door', false);
    h.series(['p1'], 80 * min, (t) => (t < openFor + 2 * min ? -16 : -20));
    expect(raisedTemps(h).map((x) => x.at)).toEqual(expected);
  });
});

describe('alarm lifecycle through the engine', () => {
  it('a latched alarm outlives the excursion until acknowledged; every transition is an event', async () => {
    const h = await harness(chilled({ delaySec: 60, clearDelaySec: 60 }));
    h.series(['p1'], 300, (t) => (t < 200 ? 7 : 3));
    const [open] = h.engine.snapshot().alarms;
    expect(open).toMatchObject({ type: 'temperature', active: false, severity: 'warning' });
    expect(h.of('alarm.cleared')).toEqual([]);
    expect(h.engine.acknowledge(open!.id, 'anna')).toBe(true);
    expect(h.engine.acknowledge(open!.id, 'anna')).toBe(false);
    expect(h.events.filter((e) => e.type.startsWith('alarm.')).map((e) => [e.type, e.severity, e.data?.alarmId])).toEqual([
      ['alarm.raised', 'warning', open!.id],
      ['alarm.acknowledged', 'info', open!.id],
      ['alarm.cleared', 'info', open!.id],
    ]);
    expect(alarmOf(h.of('alarm.cleared')[0]!)).toMatchObject({ ackedBy: 'anna', data: { peak: 7 } });
    expect(h.engine.snapshot().alarms).toEqual([]);
  });

  it.each([
    ['uplink offline 30 min', { kind: 'uplink', id: 'uplink', state: 'offline' }, 'uplink-offline', 1800],
    ['journal 95 % full', { kind: 'journal', id: 'journal', state: 'ok', usedBytes: 95, maxBytes: 100 }, 'journal-full', 0],
    ['journal cannot write (always watched, 3 s)', { kind: 'journal', id: 'journal', state: 'offline', usedBytes: 1, maxBytes: 100, fault: 'ENOSPC' }, 'journal-failed', 3],
  ] as const)('device health: %s', async (_name, health, type, at) => {
    const h = await harness({});
    h.engine.onHealth([health]);
    h.until(2000);
    expect(h.of('alarm.raised').map((x) => [x.e.data?.alarmType, x.at])).toEqual([[type, at]]);
  });

  it('the 1 s tick takes that second\'s device reports and judges device health once', async () => {
    const h = await harness({});
    // Each health judgement asks the clock once whether it is synchronised.
    const judged = vi.spyOn(Clock.prototype, 'synchronised');
    h.engine.tick(T0 + 1000, [{ kind: 'journal', id: 'journal', state: 'ok', usedBytes: 95, maxBytes: 100 }]);
    expect(judged).toHaveBeenCalledTimes(1);
    judged.mockRestore();
    expect(h.of('alarm.raised').map((x) => x.e.data?.alarmType)).toEqual(['journal-full']);
  });

  it('device health: GPS lost and clock not synchronised', async () => {
    const h = await harness({ gps: { source: 'file:x' } }, { systemNow: () => 0 });
    h.until(400);
    expect(h.of('alarm.raised').map((x) => x.e.data?.alarmType)).toEqual(['gps-lost', 'clock-unsynced']);
  });
});
