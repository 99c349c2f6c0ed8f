/**
 * The engine's work per reading must not grow with the number of probes: a reading is judged at
 * once in its own compartment and its own probe's health; the sweep over every probe and every
 * compartment is the 1 s tick's. Counted, not timed: the evaluations are spied on.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { evaluateCompartment } from '../src/rules/compartment.ts';
import { compartmentRule } from '../src/rules/limits.ts';
import { CompartmentConfig } from '../src/config/schema-compartments.ts';
import { harness, probe, T0 } from './rules-harness.ts';

const calls = vi.hoisted(() => ({ sweeps: 0, probeConditions: 0, compartments: 0, channelValues: 0, displays: 0 }));

vi.mock('../src/rules/health.ts', async (original) => {
  const m = await original<typeof import('../src/rules/health.ts')>();
  return {
    ...m,
    healthConditions: (...a: Parameters<typeof m.healthConditions>) => (calls.sweeps++, m.healthConditions(...a)),
    probeCondition: (...a: Parameters<typeof m.probeCondition>) => (calls.probeConditions++, m.probeCondition(...a)),
  };
});
vi.mock('../src/rules/compartment.ts', async (original) => {
  const m = await original<typeof import('../src/rules/compartment.ts')>();
  return { ...m, evaluateCompartment: (...a: Parameters<typeof m.evaluateCompartment>) => (calls.compartments++, m.evaluateCompartment(...a)) };
});

vi.mock('../src/rules/limits.ts', async (original) => {
  const m = await original<typeof import('../src/rules/limits.ts')>();
  return { ...m, channelValues: (...a: Parameters<typeof m.channelValues>) => (calls.channelValues++, m.channelValues(...a)) };
});
vi.mock('../src/rules/display-state.ts', async (original) => {
  const m = await original<typeof import('../src/rules/display-state.ts')>();
  return { ...m, compartmentDisplay: (...a: Parameters<typeof m.compartmentDisplay>) => (calls.displays++, m.compartmentDisplay(...a)) };
});

const PROBES = 128;
const ids = Array.from({ length: PROBES }, (_, i) => `p${i}`);
/** 16 compartments of 8 probes, as a 4-unit van of the steady-state bench. */
const van = () => ({
  probes: ids.map((id, i) => probe(id, `c${Math.floor(i / 8)}`)),
  compartments: Array.from({ length: PROBES / 8 }, (_, c) => ({ id: `c${c}`, name: `Compartment ${c}`, preset: 'chilled', delaySec: 60, clearDelaySec: 60 })),
});

const reset = () => Object.assign(calls, { sweeps: 0, probeConditions: 0, compartments: 0, channelValues: 0, displays: 0 });
beforeEach(reset);

describe('the engine at 128 probes', () => {
  it('a reading evaluates its own compartment only and sweeps no device health', async () => {
    const h = await harness(van());
    h.series(ids, 30, () => 3, 1);
    reset();
    for (const id of ids) h.temp(id, 3);
    expect(calls).toEqual({ sweeps: 0, probeConditions: 0, compartments: PROBES, channelValues: PROBES, displays: 0 });
    // The tick still sweeps everything, once.
    h.until(h.t + 1);
    expect(calls).toEqual({ sweeps: 1, probeConditions: 0, compartments: PROBES + PROBES / 8, channelValues: PROBES + PROBES / 8, displays: 0 });
  });

  it('one poll handed over at once judges each compartment once, with all its readings in', async () => {
    const h = await harness(van());
    h.series(ids, 30, () => 3, 1);
    reset();
    h.engine.onRecords(ids.map((probe) => ({ kind: 'temperature', ts: new Date().toISOString(), tq: 'system', probe, value: 9, quality: 'good' })));
    expect(calls).toEqual({ sweeps: 0, probeConditions: 0, compartments: PROBES / 8, channelValues: PROBES / 8, displays: 0 });
    // Judged at once: the alarm delay (60 s) starts with this poll, for every compartment.
    expect(h.engine.snapshot().compartments.map((c) => c.display.kind)).toEqual(Array(PROBES / 8).fill('pending'));
  });

  it('status() shows the last evaluation: read every second by the display and by `latest`, it judges nothing again', async () => {
    const h = await harness(van());
    h.series(ids, 30, () => 3, 1);
    h.temp('p0', 9);
    reset();
    const first = h.engine.status();
    const again = h.engine.status();
    // One display state per compartment, built once; no values or alarm steps worked out again.
    expect(calls).toEqual({ sweeps: 0, probeConditions: 0, compartments: 0, channelValues: 0, displays: PROBES / 8 });
    expect(again).toEqual(first);
    expect(first.compartments[0]).toMatchObject({ id: 'c0', value: 9, state: 'ok', display: { kind: 'pending', tier: 'criticalHigh', value: 9 } });
    // The next evaluation (a poll of c0, then the tick) shows at once.
    h.temp('p0', 3);
    expect(h.engine.status().compartments[0]).toMatchObject({ value: 3, display: { kind: 'ok' } });
    h.until(h.t + 1);
    expect(h.engine.snapshot().compartments.map((c) => c.display.kind)).toEqual(Array(PROBES / 8).fill('ok'));
  });

  it('the tick right after a poll judges again only the compartments that poll did not judge', async () => {
    const h = await harness(van());
    h.series(ids, 30, () => 3, 1);
    // Most of a second after the last tick, as the runtime's poll and tick are.
    h.jump(0.9);
    reset();
    const at = T0 + h.t * 1000;
    // c0's eight probes came in one poll; the runtime's 1 s tick lands in the same millisecond.
    h.engine.onRecords(ids.slice(0, 8).map((probe) => ({ kind: 'temperature', ts: new Date(at).toISOString(), tq: 'system', probe, value: 3, quality: 'good' })));
    h.engine.tick(at);
    expect(calls.compartments).toBe(PROBES / 8);
    // A second on, nothing was polled: the tick judges every compartment, c0 included.
    h.until(h.t + 1);
    expect(calls.compartments).toBe(PROBES / 8 + PROBES / 8);
  });

  it('an evaluation that changes no alarm state hands back the state it was given (nothing to copy into the engine)', () => {
    const rule = compartmentRule(CompartmentConfig.parse({ id: 'c', name: 'C', preset: 'chilled', delaySec: 60 }), [{ id: 'p', compartment: 'c' }]);
    const first = evaluateCompartment({}, new Map([['c', 3]]), T0, rule, undefined);
    expect(evaluateCompartment(first.state, new Map([['c', 3.2]]), T0 + 1000, rule, undefined).state).toBe(first.state);
    // A step (out of range: pending) is a new state, and the one before is left as it was.
    const pending = evaluateCompartment(first.state, new Map([['c', 6]]), T0 + 2000, rule, undefined);
    expect(pending.state).not.toBe(first.state);
    expect(pending.state.c!.high).toEqual({ phase: 'pending', since: T0 + 2000 });
    expect(first.state.c!.high).toEqual({ phase: 'idle', since: 0 });
  });

  it('device alarms still come within their delays: a faulty probe on its reading, a silent one on the tick', async () => {
    const h = await harness(van());
    h.series(ids, 100, () => 3, 1);
    // From t=100 p5 reads a sensor fault and p77 is silent; the other 126 read on.
    h.series(ids.filter((id) => id !== 'p77'), 200, (t) => ids.filter((id) => id !== 'p77').map((id) => (id === 'p5' && t >= 100 ? NaN : 3)), 1);
    expect(h.of('alarm.raised').map((x) => [x.at, x.e.data?.alarmType, x.e.source])).toEqual([
      // healthAlarms.probeFault.afterSec 30 after the first faulty reading.
      [130, 'probe-fault', 'p5'],
      // No reading for more than 15 s (3 polling intervals, at least 15 s), then 30 s: the first tick after 99 + 15 + 30.
      [145, 'probe-fault', 'p77'],
    ]);
    expect(h.engine.snapshot().alarms.map((a) => [a.source, a.message])).toEqual([
      ['p5', expect.stringContaining('Probe p5: sensor-fault')],
      ['p77', expect.stringMatching(/^Probe p77: no reading for \d+ s$/)],
    ]);
  });
});
