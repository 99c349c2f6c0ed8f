import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareEpochs, gpsdEpochs, ourEpochs, runDecode } from './gps-compare.ts';
import { FRAMING_CASES, frame } from './gps-framing-cases.ts';
import { capture, drive, prng, type Damage } from './gps-nmea-gen.ts';
import type { Tpv } from '../drivers/gps-nmea/tpv.ts';
import { freePort } from './helpers/net.ts';
import { tempDir } from './helpers/tmp.ts';

/**
 * A live differential test against gpsd itself (Debian's 3.22): gpsfake replays captures this
 * test generates to a real gpsd, and gpsd's TPVs are compared epoch by epoch with ours.
 */
const tmp = tempDir('coldgate-gpsd-');
afterAll(() => tmp.cleanup());

/** gpsd's TPV lines for a capture, via gpsfake (which starts and stops its own gpsd). */
async function gpsdTpvs(file: string): Promise<string[]> {
  return (await gpsfake(file)).filter((l) => l.startsWith('{"class":"TPV"'));
}

/** What a watcher of gpsd sees of a capture replayed by gpsfake; `nmea` adds the sentences gpsd accepted. */
async function gpsfake(file: string, nmea = false): Promise<string[]> {
  const port = await freePort();
  const watch = nmea ? ['-r', '?WATCH={"json":true,"nmea":true}'] : [];
  // Its own process group, so that a timeout takes gpsd down with gpsfake.
  const proc = spawn('gpsfake', ['-1', '-q', '-p', '-c', '0.004', ...watch, '-P', String(port), file], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const timer = setTimeout(() => process.kill(-proc.pid!, 'SIGKILL'), 40_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', resolve);
  }).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`gpsfake exited ${code}: ${err.slice(-500)}`);
  return out.split('\n');
}

interface Case {
  name: string;
  text: string;
  damaged: number;
}

function cases(): Case[] {
  const rnd = prng(20260303);
  const damage = (): Damage => {
    const r = rnd();
    return r < 0.03 ? 'bad-checksum' : r < 0.05 ? 'truncated' : r < 0.06 ? 'run-on' : 'none';
  };
  // GN talkers, RMC VTG GGA GSA GLL, two no-fix stretches (a tunnel, a depot).
  const town = drive({ startMs: Date.UTC(2026, 2, 3, 10, 0, 0), epochs: 150, talker: 'GN', noFix: (i) => (i >= 30 && i < 45) || (i >= 100 && i < 108) });
  // GP talkers across midnight, as a plain RMC+GGA receiver sends them, with the same damage.
  const night = drive({ startMs: Date.UTC(2026, 11, 31, 23, 58, 30), epochs: 120, talker: 'GP', speed: 25, noFix: (i) => i >= 60 && i < 70 });
  const plain = capture(night, (_, k) => (k === 0 || k === 2 ? damage() : 'none'));
  return [
    { name: 'town drive (GN, no-fix stretches, damaged lines)', ...capture(town, damage) },
    { name: 'night drive (GP RMC+GGA, across midnight into a new year)', text: plain.text.split('\r\n').filter((l) => !/VTG|GSA|GLL/.test(l)).join('\n'), damaged: plain.damaged },
  ];
}

describe('live comparison with gpsd (gpsfake)', () => {
  it('agrees with gpsd on every fix epoch of generated drives with no-fix periods, bad checksums and cut lines', async () => {
    const results = await Promise.all(
      cases().map(async (c, i) => {
        const file = path.join(tmp.dir, `drive-${i}.nmea`);
        writeFileSync(file, c.text);
        const [gpsd, ours] = await Promise.all([gpsdTpvs(file), runDecode([file])]);
        expect(ours.code).toBe(0);
        const tpvs = ours.stdout.trim().split('\n').map((l) => JSON.parse(l) as Tpv);
        return { c, gpsdLines: gpsd.length, ourFixes: tpvs.filter((t) => t.mode >= 2).length, a: compareEpochs(gpsdEpochs(gpsd), ourEpochs(tpvs)), stderr: ours.stderr };
      }),
    );
    for (const { c, a, gpsdLines, ourFixes, stderr } of results) {
      console.log(
        `gpsd live: ${c.name}: ${c.damaged} damaged sentences; gpsd ${gpsdLines} TPVs, ${a.compared} fix epochs compared, ` +
          `${a.agree} agree (time/lat/lon/speed), mode ${a.modeAgree}, track ${a.trackAgree}, alt ${a.altAgree}, status ${a.statusAgree}, ` +
          `extra ${a.extra}, false fixes ${a.falseFix}\n  ours: ${stderr.trim()}`,
      );
      // gpsd really ran and saw most of the drive.
      expect(a.compared, c.name).toBeGreaterThan(0.8 * ourFixes);
      expect(a.agree, `${c.name}\n${a.samples.join('\n')}`).toBe(a.compared);
      expect(a.modeAgree, `${c.name}\n${a.samples.join('\n')}`).toBe(a.compared);
      expect(a.trackAgree, c.name).toBe(a.compared);
      expect(a.statusAgree, c.name).toBe(a.compared);
      expect(a.falseFix, `${c.name}: no-fix epochs reported as fixes`).toBe(0);
      // gpsd 3.22 skips a report now and then when the sentence that ends its cycle was damaged.
      expect(a.extra, c.name).toBeLessThanOrEqual(Math.ceil(0.05 * ourFixes));
    }
  });

  it('accepts exactly the sentences gpsd accepts, line ends, stray bytes and leaders included', async () => {
    const cases = FRAMING_CASES.filter((c) => c.gpsd322);
    const text = `# Name: framing cases\n${cases.map((c) => c.bytes).join('')}`;
    const file = path.join(tmp.dir, 'framing.nmea');
    writeFileSync(file, text, 'latin1');
    const ours = frame(text).bodies;
    expect(ours, 'the cases together frame as they do apart').toEqual(cases.flatMap((c) => c.bodies));
    // gpsd echoes each sentence it accepted as it came, line end and all; its fields end at the first `*`.
    const gpsd = (await gpsfake(file, true)).filter((l) => l.startsWith('$')).map((l) => l.slice(1).replace(/[*\x00-\x1f][\s\S]*$/, ''));
    expect(gpsd).toEqual(ours);
  });
});
