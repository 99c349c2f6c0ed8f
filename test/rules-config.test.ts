import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.ts';
import { ConfigError } from '../src/config/errors.ts';
import { effectiveLimits } from '../src/config/schema-compartments.ts';

const base = { gatewayId: 'van-1', buses: [{ id: 'b', type: 'tcp', host: 'x' }] };

function problems(extra: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...base, ...extra }, 'bad.json');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

// Fed by a probe: a compartment without one is refused on its own (config.test.ts).
const compartment = (fields: Record<string, unknown>) => ({ probes: [{ id: 'p', bus: 'b', unit: 1, address: 0, compartment: 'c' }], compartments: [{ id: 'c', name: 'C', ...fields }] });
const site = (fields: Record<string, unknown>) => ({ sites: [{ id: 's', name: 'S', area: { type: 'circle', lat: 1, lon: 1, radiusM: 100 }, ...fields }] });
const triangle = [{ lat: 0, lon: 0 }, { lat: 0, lon: 1 }, { lat: 1, lon: 0 }];

describe('rules config: bad input names the field', () => {
  it.each([
    ['unknown preset', compartment({ preset: 'fresh' }), 'compartments[0].preset: expected a preset: chilled, frozen, frozen-other, ice-cream, atp-red-meat, atp-poultry, atp-offal, atp-minced-meat, atp-milk, received "fresh"'],
    ['low >= high', compartment({ low: 5, high: 2 }), 'compartments[0].low: low limit 5 must be below high limit 2'],
    ['low above a preset high', compartment({ preset: 'frozen', low: -10 }), 'compartments[0].low: low limit -10 must be below high limit -18'],
    ['critical tier inside the range', compartment({ preset: 'chilled', criticalHigh: 4 }), 'compartments[0].criticalHigh: critical high 4 must be above high limit 5'],
    ['setpoint without tolerance', compartment({ setpoint: 4 }), 'compartments[0].setpoint: setpoint and tolerance go together'],
    ['setpoint and limits', compartment({ setpoint: 4, tolerance: 1, high: 3 }), 'compartments[0].setpoint: give either setpoint and tolerance or low/high, not both'],
    ['defrost with no trigger', compartment({ defrost: { maxMin: 30 } }), 'compartments[0].defrost: a defrost needs an input or a schedule'],
    ['bad defrost time', compartment({ defrost: { schedule: { startsUtc: ['25:00'], durationMin: 20 } } }), 'compartments[0].defrost.schedule.startsUtc[0]: expected a UTC time of day HH:MM, received "25:00"'],
    ['door input unknown', compartment({ door: { input: 'rear' } }), 'compartments[0].door.input: no input with id "rear" (known: none)'],
    ['input on unknown bus', { inputs: [{ id: 'rear', bus: 'zz', unit: 1, address: 0 }] }, 'inputs[0].bus: no bus with id "zz" (known: b)'],
    ['polygon of two points', site({ area: { type: 'polygon', points: triangle.slice(0, 2) } }), 'sites[0].area.points: a polygon needs at least 3 points, received [{"lat":0,"lon":0},{"lat":0,"lon":1}]'],
    ['unknown area type', site({ area: { type: 'square' } }), 'sites[0].area.type: expected an area of type "circle" or "polygon", received {"type":"square"}'],
    ['unknown refusal reason', site({ refuseOn: ['dirty'] }), 'sites[0].refuseOn[0]: expected open-critical, any-critical or budget-spent, received "dirty"'],
    ['health alarm out of range', { healthAlarms: { journalFull: { percent: 0 } } }, 'healthAlarms.journalFull.percent: expected an integer 1..100, received 0'],
  ])('%s', (_name, extra, expected) => {
    expect(problems(extra)).toEqual([expected]);
  });

  it('reports duplicate site ids', () => {
    const s = { id: 's', name: 'S', area: { type: 'polygon', points: triangle } };
    expect(problems({ sites: [s, s] })).toEqual(['sites[1].id: duplicate id "s" (also sites[0])']);
  });
});

describe('rules config: defaults and presets', () => {
  it('fills every rule default a minimal config leaves out', () => {
    const { config } = parseConfig({ ...base, inputs: [{ id: 'rear', bus: 'b', unit: 1, address: 3 }], ...compartment({ preset: 'frozen', door: { input: 'rear' } }) }, 'ok.json');
    expect(config.compartments[0]).toMatchObject({ combine: 'max', delaySec: 300, clearDelaySec: 120, hysteresis: 0.5, latch: true, door: { input: 'rear', afterMin: 5, maxMin: 30 } });
    expect(config.inputs[0]).toMatchObject({ function: 2, invert: false });
    expect(config.trips).toEqual({ autoStart: true, autoEnd: true, confirmSec: 15, calibrationMaxAgeDays: 365 });
    expect(config.healthAlarms.journalFull).toEqual({ enabled: true, afterSec: 0, severity: 'warning', percent: 90 });
  });

  it.each([
    [{ preset: 'chilled' }, { high: 5, criticalHigh: 8, severity: 'warning' }],
    [{ preset: 'chilled', high: 4 }, { high: 4, criticalHigh: 8, severity: 'warning' }],
    [{ preset: 'frozen' }, { high: -18, severity: 'critical', riseAllowance: 3 }],
    [{ preset: 'ice-cream' }, { high: -20, severity: 'critical', riseAllowance: 3 }],
    [{ preset: 'atp-minced-meat', severity: 'warning' }, { high: 2, severity: 'warning' }],
    [{ setpoint: -20, tolerance: 2 }, { low: -22, high: -18, severity: 'critical' }],
  ] as const)('%j -> %j', (fields, limits) => {
    expect(effectiveLimits(fields)).toEqual(limits);
  });
});

describe('rules config: the README example', () => {
  it('is a valid config', () => {
    const readme = readFileSync(new URL('../src/rules/README.md', import.meta.url), 'utf8');
    const json = /```json\n([\s\S]*?)```/.exec(readme)?.[1];
    const { config } = parseConfig(JSON.parse(json ?? 'null'), 'README.md');
    expect(config.compartments.map((c) => [c.id, c.preset])).toEqual([['chiller', 'chilled'], ['freezer', 'frozen']]);
    expect(config.sites.map((s) => [s.id, s.role, s.refuseOn])).toEqual([['depot-hh', 'depot', []], ['arena', 'customer', ['open-critical', 'budget-spent']]]);
  });
});
