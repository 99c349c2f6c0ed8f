import { describe, expect, it } from 'vitest';
import { Clock, GPS_AGREE_MS, GPS_TRUST_FIXES, type GpsVerdict } from '../src/core/clock.ts';
import { harness, T0 } from './rules-harness.ts';

/**
 * The clock's GPS trust rule, fix by fix: a scripted monotonic clock, a box booted in 1970
 * (system time 0), and GPS times as offsets from the real time of arrival. The driver-level
 * case (a spoofed GGA on a pty) is in gps-serial.test.ts.
 */
const H3 = 3 * 3_600_000;

function feed(offsets: number[]): { verdicts: GpsVerdict['verdict'][]; clockOff: (number | undefined)[] } {
  let mono = 1000;
  const clock = new Clock(() => 0, () => mono);
  const verdicts: GpsVerdict['verdict'][] = [];
  const clockOff: (number | undefined)[] = [];
  for (const off of offsets) {
    mono += 1000;
    verdicts.push(clock.observeGps(T0 + mono + off).verdict);
    const now = clock.nowMs();
    clockOff.push(now.tq === 'gps' ? now.ms - (T0 + mono) : undefined);
  }
  return { verdicts, clockOff };
}

describe('clock: GPS time is trusted only after agreeing fixes', () => {
  it.each([
    ['three agreeing fixes make it trusted', [0, 30, -20], ['pending', 'pending', 'trusted'], [undefined, undefined, -20]],
    ['one outlier 3 h ahead in a good stream is ignored', [0, 0, 0, 0, H3, 0, 0], ['pending', 'pending', 'trusted', 'trusted', 'rejected', 'trusted', 'trusted'], [undefined, undefined, 0, 0, 0, 0, 0]],
    ['an outlier before trust breaks the run; it never becomes the clock', [0, 0, H3, 0, 0, 0], ['pending', 'pending', 'pending', 'pending', 'pending', 'trusted'], [undefined, undefined, undefined, undefined, undefined, 0]],
    ['a consistent new offset for three fixes is a step, adopted', [0, 0, 0, H3, H3, H3, H3], ['pending', 'pending', 'trusted', 'rejected', 'rejected', 'trusted', 'trusted'], [undefined, undefined, 0, 0, 0, H3, H3]],
    ['outliers interleaved with good fixes never add up to a step', [0, 0, 0, H3, 0, H3, 0, H3, H3], ['pending', 'pending', 'trusted', 'rejected', 'trusted', 'rejected', 'trusted', 'rejected', 'rejected'], [undefined, undefined, 0, 0, 0, 0, 0, 0, 0]],
    ['jitter within the bound follows the receiver', [0, 0, 0, GPS_AGREE_MS, 0], ['pending', 'pending', 'trusted', 'trusted', 'trusted'], [undefined, undefined, 0, GPS_AGREE_MS, 0]],
    ['just beyond the bound is an outlier', [0, 0, 0, GPS_AGREE_MS + 1, 0], ['pending', 'pending', 'trusted', 'rejected', 'trusted'], [undefined, undefined, 0, 0, 0]],
  ] as const)('%s', (_name, offsets, verdicts, clockOff) => {
    expect(GPS_TRUST_FIXES).toBe(3);
    expect(feed([...offsets])).toEqual({ verdicts, clockOff });
  });

  it('says by how much an outlier is off, and how far a step moved the clock', () => {
    let mono = 0;
    const clock = new Clock(() => 0, () => mono);
    for (let i = 0; i < 3; i++) clock.observeGps(T0 + (mono += 1000));
    expect(clock.observeGps(T0 + (mono += 1000) + H3)).toEqual({ verdict: 'rejected', offByMs: H3 });
    clock.observeGps(T0 + (mono += 1000) + H3);
    expect(clock.observeGps(T0 + (mono += 1000) + H3)).toEqual({ verdict: 'trusted', steppedMs: H3 });
  });
});

describe('rules snapshots follow the clock after a correction back', () => {
  it('a clock that jumped 3 h ahead and was put right: snapshots move with real time, not frozen at the future', async () => {
    const h = await harness({});
    h.until(60);
    h.jump(3 * 3600);
    h.until(3 * 3600 + 70);
    expect(Date.parse(h.engine.snapshot().at)).toBe(T0 + (3 * 3600 + 70) * 1000);
    // Put right: back to real time, and on from there.
    h.jump(-3 * 3600);
    const back = h.t;
    expect(Date.parse(h.engine.snapshot().at)).toBe(T0 + back * 1000);
    h.until(back + 5);
    expect(Date.parse(h.engine.snapshot().at)).toBe(T0 + (back + 5) * 1000);
  });

  it('jitter back within the skew bound is held, so time there never runs backwards', async () => {
    const h = await harness({});
    h.until(60);
    h.jump(-1);
    expect(Date.parse(h.engine.snapshot().at)).toBe(T0 + 60_000);
  });
});
