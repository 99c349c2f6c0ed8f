import { describe, expect, it } from 'vitest';
import { compartmentDisplay, type DisplayState } from '../src/rules/display-state.ts';
import type { Tier } from '../src/rules/limits.ts';
import { harness, probe, T0, type Harness } from './rules-harness.ts';

const min = 60;
const at = (sec: number) => new Date(T0 + sec * 1000).toISOString();

/** Chilled (high 5 warning, criticalHigh 8), delay 300 s, clear delay 120 s, hysteresis 0.5, a door contact. */
const chilled = {
  probes: [probe('p1', 'c1')],
  inputs: [{ id: 'door', bus: 'b', unit: 1, address: 10 }],
  compartments: [{ id: 'c1', name: 'Chiller', preset: 'chilled', delaySec: 300, clearDelaySec: 120, hysteresis: 0.5, latch: false, door: { input: 'door', afterMin: 5, maxMin: 30 } }],
};
const high = { tier: 'high', severity: 'warning', direction: 'above', limit: 5, channel: 'c1' } as const;
const critical = { tier: 'criticalHigh', severity: 'critical', direction: 'above', limit: 8, channel: 'c1' } as const;

/** Each script runs on a fresh engine from T0 (10:00 UTC) with readings every 10 s. */
const cases: [string, (h: Harness) => void, DisplayState][] = [
  ['in range -> ok', (h) => h.series(['p1'], 100, () => 3), { kind: 'ok' }],
  ['no reading -> unknown', (h) => h.until(100), { kind: 'unknown' }],
  ['out of range within the delay -> pending, fires at onset + delay', (h) => h.series(['p1'], 100, () => 6), { kind: 'pending', ...high, value: 6, since: at(0), firesAt: at(300) }],
  [
    'door open, out of range past the delay -> suppressed (not pending), held until the maximum',
    (h) => {
      h.engine.onInput('door', true);
      h.series(['p1'], 10 * min, () => 6);
    },
    { kind: 'suppressed', by: [{ cause: 'door', until: at(30 * min), openEnded: true }], held: { ...high, value: 6, since: at(0), firesAt: at(30 * min), openEnded: true } },
  ],
  [
    'door closed after 8 min -> suppressed until 5 min later',
    (h) => {
      h.engine.onInput('door', true);
      h.series(['p1'], 8 * min, () => 6);
      h.engine.onInput('door', false);
      h.series(['p1'], 10 * min, () => 6);
    },
    { kind: 'suppressed', by: [{ cause: 'door', until: at(13 * min), openEnded: false }], held: { ...high, value: 6, since: at(0), firesAt: at(13 * min), openEnded: false } },
  ],
  [
    'door open, in range -> suppressed with nothing held',
    (h) => {
      h.engine.onInput('door', true);
      h.series(['p1'], 100, () => 3);
    },
    { kind: 'suppressed', by: [{ cause: 'door', until: at(30 * min), openEnded: true }] },
  ],
  ['raised, back inside the limit but not past the hysteresis -> still alarm (not clearing)', (h) => h.series(['p1'], 400, (t) => (t < 320 ? 6 : 4.8)), { kind: 'alarm', ...high, value: 4.8, clearsPast: 4.5 }],
  ['raised, past the hysteresis within the clear delay -> clearing', (h) => h.series(['p1'], 400, (t) => (t < 320 ? 6 : 4.4)), { kind: 'clearing', ...high, value: 4.4, since: at(320), clearsAt: at(440) }],
  ['raised, past the hysteresis for the clear delay -> ok', (h) => h.series(['p1'], 500, (t) => (t < 320 ? 6 : 4.4)), { kind: 'ok' }],
  ['warning raised, then above critical -> critical pending before the warning', (h) => h.series(['p1'], 400, (t) => (t < 350 ? 6 : 9)), { kind: 'pending', ...critical, value: 9, since: at(350), firesAt: at(650) }],
];

describe('the display state the engine sends per compartment', () => {
  it.each(cases)('%s', async (_name, script, expected) => {
    const h = await harness(chilled);
    script(h);
    expect(h.engine.snapshot().compartments[0]!.display).toEqual(expected);
  });
});

describe('compartmentDisplay, from a given alarm-machine state', () => {
  const tiers: Tier[] = [
    { name: 'high', direction: 'above', limit: 5, severity: 'warning' },
    { name: 'criticalHigh', direction: 'above', limit: 8, severity: 'critical' },
    { name: 'low', direction: 'below', limit: 0, severity: 'warning' },
  ];
  const rule = { channels: ['c1/a', 'c1/b'], tiers, timing: { delayMs: 300_000, clearDelayMs: 120_000 }, hysteresis: 0.5 };
  const door = { windows: [{ cause: 'door' as const, until: T0 + 1_800_000, openEnded: true }] };

  it.each([
    ['an alarm on one probe wins over a pending one on another', { 'c1/a': { high: { phase: 'pending', since: T0 } }, 'c1/b': { high: { phase: 'on', since: T0 } } }, { 'c1/a': 6, 'c1/b': 6 }, undefined, 'alarm c1/b high'],
    ['a suppression holds limits above only: too cold is pending', { 'c1/a': { low: { phase: 'pending', since: T0 } } }, { 'c1/a': -1, 'c1/b': 3 }, door, 'pending c1/a low'],
    ['a critical tier is held before a warning one', { 'c1/a': { high: { phase: 'pending', since: T0 } }, 'c1/b': { high: { phase: 'pending', since: T0 }, criticalHigh: { phase: 'pending', since: T0 } } }, { 'c1/a': 6, 'c1/b': 9 }, door, 'suppressed c1/b criticalHigh'],
    ['beyond the allowance nothing is held', { 'c1/a': { high: { phase: 'pending', since: T0 } } }, { 'c1/a': 9, 'c1/b': 3 }, { ...door, allowance: 3 }, 'pending c1/a high'],
    ['an alarm stays shown without a reading', { 'c1/a': { high: { phase: 'on', since: T0 } } }, {}, undefined, 'alarm c1/a high'],
  ] as const)('%s', (_name, state, values, sup, expected) => {
    const d = compartmentDisplay(rule, state, new Map(Object.entries(values)), sup);
    const about = d.kind === 'suppressed' ? d.held : d.kind === 'ok' || d.kind === 'unknown' ? undefined : d;
    expect(`${d.kind} ${about?.channel} ${about?.tier}`).toBe(expected);
  });
});
