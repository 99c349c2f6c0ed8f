import { describe, expect, it } from 'vitest';
import { TemperatureHistory } from '../src/local/history.ts';
import { PinGate } from '../src/local/pin.ts';

const T = Date.UTC(2026, 2, 1, 10);
const s = (sec: number) => T + sec * 1000;

describe('chart history', () => {
  it('keeps min and max per bucket (the worked example) and forgets beyond the window', () => {
    const h = new TemperatureHistory(60_000, 30_000);
    h.add('chiller', s(5), 4.0);
    h.add('chiller', s(20), 4.6);
    h.add('chiller', s(31), 4.2);
    expect(h.snapshot().chiller).toEqual([[s(0), 4.0, 4.6], [s(30), 4.2, 4.2]]);
    // A reading from before the last bucket (clock stepped back) does not reorder the chart.
    h.add('chiller', s(1), 9.9);
    expect(h.snapshot().chiller).toHaveLength(2);
    // 60 s window: at 95 s everything before 35 s is gone.
    h.add('chiller', s(95), 5.0);
    expect(h.snapshot().chiller).toEqual([[s(90), 5.0, 5.0]]);
  });
});

describe('PIN gate', () => {
  // [seconds, pin, expected verdict] in order, for one client; PIN is 2468.
  const script: [number, string, string][] = [
    [0, '1111', 'wrong 4'],
    [0, '1112', 'wrong 3'],
    [0, '2468', 'ok'], // a right PIN forgets the failures
    [1, '1', 'wrong 4'],
    [1, '2', 'wrong 3'],
    [1, '3', 'wrong 2'],
    [1, '4', 'wrong 1'],
    [1, '5', 'locked 30'],
    [11, '2468', 'locked 20'], // locked: even the right PIN waits, and the try does not count
    [32, '6', 'locked 60'], // each further wrong PIN doubles the wait
    [93, '2468', 'ok'],
  ];
  it('locks out after five wrong PINs and doubles the wait', () => {
    const gate = new PinGate('2468');
    const seen = script.map(([sec, pin]) => {
      const v = gate.check('10.0.0.9', pin, s(sec));
      return v.ok ? 'ok' : v.reason === 'wrong' ? `wrong ${v.attemptsLeft}` : v.reason === 'locked' ? `locked ${v.retryAfterSec}` : v.reason;
    });
    expect(seen).toEqual(script.map(([, , want]) => want));
  });

  it('keeps clients apart and refuses everything without a configured PIN', () => {
    const gate = new PinGate('2468');
    for (let i = 0; i < 5; i++) gate.check('a', '0000', s(0));
    expect(gate.check('a', '2468', s(1)).ok).toBe(false);
    expect(gate.check('b', '2468', s(1)).ok).toBe(true);
    expect(new PinGate(undefined).check('a', '2468', s(0))).toEqual({ ok: false, reason: 'no-pin' });
  });
});
