import { describe, expect, it } from 'vitest';
import { NmeaDecoder } from '../drivers/gps-nmea/decoder.ts';
import type { Fix } from '../drivers/gps-nmea/epoch.ts';
import { capture, drive, prng, type EpochSpec } from './gps-nmea-gen.ts';

/**
 * Fuzzing the decoder: random bytes and damaged captures, cut into random chunks. It must never
 * throw, and a fix must always be true: a damaged line is rejected, never half-used.
 */
const START = Date.UTC(2026, 5, 1, 12, 0, 0);
// Fixed seeds keep failures reproducible; one fresh seed per run widens the search over time.
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 767831, Date.now() % 1_000_000];

function decodeChunked(bytes: Buffer, rnd: () => number): { fixes: Fix[]; decoder: NmeaDecoder } {
  const decoder = new NmeaDecoder({ year: 2026 });
  const fixes: Fix[] = [];
  for (let at = 0; at < bytes.length; ) {
    const n = 1 + Math.floor(rnd() * 200);
    fixes.push(...decoder.push(bytes.subarray(at, at + n)));
    if (rnd() < 0.05) fixes.push(...decoder.flush());
    at += n;
  }
  fixes.push(...decoder.end());
  return { fixes, decoder };
}

/** One random change to a line: flip, insert or delete a byte, or cut the line. */
function mutate(line: string, rnd: () => number): string {
  const at = Math.floor(rnd() * line.length);
  const byte = String.fromCharCode(Math.floor(rnd() * 256));
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return line.slice(0, at) + byte + line.slice(at + 1);
    case 1:
      return line.slice(0, at) + byte + line.slice(at);
    case 2:
      return line.slice(0, at) + line.slice(at + 1);
    default:
      return line.slice(0, at);
  }
}

/** Every fix must be the truth for its epoch: right time, right place, and an epoch that had a fix. */
function checkFixes(fixes: Fix[], truth: EpochSpec[], seed: number): number {
  const byTime = new Map(truth.map((e) => [e.timeMs, e]));
  let checked = 0;
  for (const f of fixes.filter((x) => x.mode >= 2)) {
    const why = `seed ${seed}: ${JSON.stringify(f)}`;
    // Without a time (its dating sentence was lost) the position must still be one of the drive's.
    const e = f.timeMs !== undefined ? byTime.get(f.timeMs) : truth.find((t) => Math.abs(t.lat - f.lat!) < 1e-6 && Math.abs(t.lon - f.lon!) < 1e-6);
    expect(e, why).toBeDefined();
    expect(e!.fix, why).toBe(true);
    expect(f.lat, why).toBeCloseTo(e!.lat, 6);
    expect(f.lon, why).toBeCloseTo(e!.lon, 6);
    if (f.altMSL !== undefined) expect(f.altMSL, why).toBeCloseTo(e!.alt, 1);
    // VTG carries no time: when both the sentence that ends one epoch and the RMC that opens the
    // next are lost, nothing tells which epoch the VTG between them belongs to, and when whole
    // epochs between were lost too it may be from two or three on (seed 767831: epoch 06 lost,
    // 07's RMC damaged, 07's VTG taken for 05). It is a true VTG of an epoch nearby, never a
    // damaged one.
    const i = truth.indexOf(e!);
    const near = truth.slice(Math.max(0, i - 3), i + 4);
    if (f.speed !== undefined) expect(near.some((n) => Math.abs(n.speed - f.speed!) < 0.01), why).toBe(true);
    if (f.track !== undefined) expect(near.some((n) => Math.abs(n.track - f.track!) < 0.01), why).toBe(true);
    checked++;
  }
  return checked;
}

describe('decoder fuzz', () => {
  it.each(SEEDS)('random bytes never crash it and never make a fix (seed %i)', (seed) => {
    const rnd = prng(seed);
    // Bias towards NMEA's own alphabet so that the checker and the field parsers get exercised too.
    const alphabet = '$*,.0123456789ABCDEFGPRMCNVWSE\r\n';
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rnd() < 0.5 ? Math.floor(rnd() * 256) : alphabet.charCodeAt(Math.floor(rnd() * alphabet.length));
    const { fixes, decoder } = decodeChunked(bytes, rnd);
    expect(fixes.filter((f) => f.mode >= 2)).toEqual([]);
    // Most random `$`s have no talker after them; those that do reach the checksum and fail there.
    expect(decoder.stats.unframed).toBeGreaterThan(1000);
    expect(decoder.stats.badChecksum + decoder.stats.cut).toBeGreaterThan(10);
  });

  it.each(SEEDS)('damaged captures yield only true fixes (seed %i)', (seed) => {
    const rnd = prng(seed);
    const truth = drive({ startMs: START, epochs: 300, talker: rnd() < 0.5 ? 'GN' : 'GP', noFix: (i) => i % 50 >= 40 });
    const lines = capture(truth, () => 'none').text.split('\r\n');
    // A fifth of the lines get one random change each; some lines lose their line end and run on.
    const damaged = lines.map((l) => (rnd() < 0.2 ? mutate(l, rnd) : l)).map((l) => l + (rnd() < 0.02 ? '' : rnd() < 0.5 ? '\r\n' : '\n'));
    const { fixes, decoder } = decodeChunked(Buffer.from(damaged.join(''), 'latin1'), rnd);
    const checked = checkFixes(fixes, truth, seed);
    // Damage costs some fixes, not most of them.
    expect(checked, `seed ${seed}`).toBeGreaterThan(150);
    expect(decoder.stats.badChecksum + decoder.stats.cut, `seed ${seed}`).toBeGreaterThan(0);
  });

  it('cutting a stream into chunks changes nothing', () => {
    const rnd = prng(99);
    const text = capture(drive({ startMs: START, epochs: 200, noFix: (i) => i % 30 < 5 }), () => 'none').text;
    const whole = new NmeaDecoder({ year: 2026 });
    const expected = [...whole.push(text), ...whole.end()];
    const { fixes } = decodeChunked(Buffer.from(text, 'latin1'), rnd);
    const key = (f: Fix) => JSON.stringify({ ...f, rxMs: undefined });
    // Flushes in the middle may report an epoch early; its final report is the same.
    const last = (fs: Fix[]) => [...new Map(fs.map((f) => [f.timeMs, key(f)])).values()];
    expect(last(fixes)).toEqual(last(expected));
  });
});
