import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NMEA_MAX, NmeaDecoder } from '../drivers/gps-nmea/decoder.ts';
import { coordinate, FieldError, num, resolveYear, timeOfDay } from '../drivers/gps-nmea/fields.ts';
import { MAX_PACKET, NmeaFramer } from '../drivers/gps-nmea/framing.ts';
import { parseSentence } from '../drivers/gps-nmea/sentences.ts';
import { toTpv } from '../drivers/gps-nmea/tpv.ts';
import { runDecode } from './gps-compare.ts';
import { FRAMING_CASES, frame } from './gps-framing-cases.ts';
import { sentence } from './gps-nmea-gen.ts';
import { tempDir } from './helpers/tmp.ts';

const decodeAll = (text: string, year = 2026) => {
  const d = new NmeaDecoder({ year, yearFromHeader: true });
  return { fixes: [...d.push(text), ...d.end()].map(toTpv), stats: d.stats };
};

const GLL = '$GPGLL,,,,,,V,N*64';

describe("framing and checksums, as gpsd's packet lexer (gpsd/packet.c)", () => {
  it.each(FRAMING_CASES.map((c) => [c.rule, c] as const))('%s', (_rule, c) => {
    expect(frame(c.bytes)).toEqual({ bodies: c.bodies, badChecksum: c.badChecksum, cut: c.cut, unframed: c.unframed, overlong: 0 });
  });

  it('frames the same across chunk boundaries, wherever they fall', () => {
    const text = `# Date: 2009-12-09\r\n\xff$GPGLL,,,,${GLL}\r\r\n,,V,N*64\n$IMGSA,1*00\r\n${GLL}\r\n$STI,1\r\n`;
    const whole = frame(text);
    expect(whole.bodies).toHaveLength(4);
    for (let at = 1; at < text.length; at++) expect(frame(text.slice(0, at), text.slice(at)), `cut at ${at}`).toEqual(whole);
  });

  it('drops a sentence too long to be NMEA without holding it in memory, and carries on', () => {
    const f = new NmeaFramer();
    expect(f.push(`$GPGLL,${'x'.repeat(MAX_PACKET)}`)).toEqual([]);
    expect(f.push('y'.repeat(10_000))).toEqual([]);
    expect((f as unknown as { pending: string }).pending).toBe('');
    expect(f.push(`tail\n${GLL}\n`).map((p) => p.kind)).toEqual(['nmea']);
    expect(f.stats).toEqual({ badChecksum: 0, cut: 0, unframed: 0, overlong: 1 });
  });

  it('decodes no sentence longer than gpsd does (NMEA_MAX, line end included)', () => {
    const body = `GPZDA,120000.00,01,03,2026,00,00,${'0'.repeat(NMEA_MAX)}`;
    const { stats } = decodeAll(`${sentence(body)}\r\n`);
    expect(stats).toMatchObject({ sentences: 1, overlong: 1, malformed: 0 });
  });
});

describe('fields: empty is unknown, never 0', () => {
  it.each([
    ['', undefined],
    ['12.5', 12.5],
    ['-0.3', -0.3],
    ['007', 7],
  ])('num(%j)', (field, value) => expect(num(field)).toBe(value));

  it.each(['1x', '1.2.3', 'NaN', ' 1'])('num(%j) is malformed', (field) => expect(() => num(field)).toThrow(FieldError));

  it('reads ddmm.mmmm coordinates', () => {
    expect(coordinate('4916.45', 'N', 'lat')).toBeCloseTo(49.274166667, 9);
    expect(coordinate('12311.12', 'W', 'lon')).toBeCloseTo(-123.185333333, 9);
    expect(coordinate('', '', 'lat')).toBeUndefined();
    expect(() => coordinate('4916.45', '', 'lat')).toThrow(FieldError);
    expect(() => coordinate('4960.00', 'N', 'lat')).toThrow(FieldError);
    expect(() => coordinate('9100.00', 'N', 'lat')).toThrow(FieldError);
  });

  it('reads times of day, leap second included', () => {
    expect(timeOfDay('152505.50')).toBe(55_505_500);
    expect(timeOfDay('000000')).toBe(0);
    expect(timeOfDay('235960')).toBe(86_400_000);
    expect(timeOfDay('')).toBeUndefined();
    expect(() => timeOfDay('245959')).toThrow(FieldError);
  });

  it.each([
    [9, 2009, 2009],
    [99, 2026, 1999],
    [26, 2026, 2026],
    [5, 2098, 2105],
    [2021, 1990, 2021],
  ])('resolveYear(%i, %i) -> %i', (yy, ref, year) => expect(resolveYear(yy, ref)).toBe(year));
});

describe('sentences from any talker', () => {
  it('decodes RMC into gpsd units', () => {
    expect(parseSentence('GPRMC,152505.00,A,5547.82113,N,02334.14130,E,0.253,,091209,,,A')).toMatchObject({
      type: 'RMC', talker: 'GP', tod: 55_505_000, valid: true, speed: expect.closeTo(0.130154, 6), track: undefined, date: { year: 9, month: 12, day: 9 }, faa: 'A',
    });
  });

  it.each(['GP', 'GN', 'GL', 'GA', 'GB', 'BD', 'QZ'])('accepts talker %s', (talker) => {
    expect(parseSentence(`${talker}GGA,120000,4807.038,N,01131.324,E,1,08,0.9,545.4,M,46.9,M,,`)).toMatchObject({ type: 'GGA', talker, quality: 1, altMSL: 545.4 });
  });

  it('reads both VTG layouts', () => {
    expect(parseSentence('GPVTG,054.7,T,034.4,M,005.5,N,010.2,K,A')).toMatchObject({ track: 54.7, speed: expect.closeTo(2.829, 3), faa: 'A' });
    expect(parseSentence('GPVTG,054.7,034.4,005.5,010.2')).toMatchObject({ track: 54.7, speed: expect.closeTo(2.829, 3) });
    expect(parseSentence('GPVTG,,T,,M,,N,10.8,K,A')).toMatchObject({ speed: expect.closeTo(3, 9) });
  });

  it('ignores proprietary and unused sentences, rejects malformed ones', () => {
    expect(parseSentence('PQGSV,1,1,00')).toBeUndefined();
    expect(parseSentence('GPGSV,1,1,00')).toBeUndefined();
    expect(() => parseSentence('GPRMC,1,A')).toThrow(FieldError);
    expect(() => parseSentence('GPGGA,120000,48x7.038,N,01131.324,E,1,08,0.9,545.4,M,46.9,M,,')).toThrow(FieldError);
  });
});

describe('epochs', () => {
  const rmc = (t: string, fields = 'A,4807.038,N,01131.000,E,022.4,084.4,230394') => sentence(`GPRMC,${t},${fields},003.1,W`);
  const gga = (t: string, q = 1, alt = '545.4') => sentence(`GPGGA,${t},4807.038,N,01131.000,E,${q},08,0.9,${alt},M,46.9,M,,`);

  it('merges the sentences of one epoch into one fix, gpsd style', () => {
    const { fixes } = decodeAll([rmc('123519'), gga('123519'), sentence('GPGSA,A,3,04,05,,09,12,,,24,,,,,2.5,1.3,2.1'), rmc('123520')].join('\r\n') + '\r\n', 1994);
    expect(fixes[0]).toEqual({ class: 'TPV', time: '1994-03-23T12:35:19.000Z', mode: 3, lat: 48.1173, lon: 11.516666667, speed: 11.524, track: 84.4, altMSL: 545.4, status: 1 });
    // An RMC says nothing about the dimension: the epoch keeps the previous fix's (as gpsd), with no altitude.
    expect(fixes[1]).toEqual({ class: 'TPV', time: '1994-03-23T12:35:20.000Z', mode: 3, lat: 48.1173, lon: 11.516666667, speed: 11.524, track: 84.4, status: 1 });
    // An RMC-only receiver gives 2D fixes.
    expect(decodeAll(`${rmc('123519')}\n${rmc('123520')}\n`).fixes.map((f) => f.mode)).toEqual([2, 2]);
  });

  it('never turns a no-fix epoch into a position, and splits epochs without times by repetition', () => {
    const noFix = [sentence('GPRMC,,V,,,,,,,,,,N'), sentence('GPGGA,,,,,,0,00,99.99,,,,,,'), sentence('GPGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99')];
    const { fixes } = decodeAll([...noFix, ...noFix, ...noFix].join('\n') + '\n');
    expect(fixes).toEqual([{ class: 'TPV', mode: 1 }, { class: 'TPV', mode: 1 }, { class: 'TPV', mode: 1 }]);
    // A stale position in a no-fix GGA is not a position either.
    expect(decodeAll(`${gga('123519', 0)}\n`).fixes).toEqual([{ class: 'TPV', mode: 1 }]);
  });

  it('uses no part of a sentence with a bad checksum', () => {
    const bad = rmc('123519').replace(/\*..$/, '*00');
    const { fixes, stats } = decodeAll([rmc('123518'), bad, gga('123519')].join('\n') + '\n', 1994);
    expect(stats).toMatchObject({ badChecksum: 1, sentences: 2 });
    // The 12:35:19 fix comes from the GGA alone: no speed, no track; the time still dated by the earlier RMC.
    expect(fixes[1]).toEqual({ class: 'TPV', time: '1994-03-23T12:35:19.000Z', mode: 3, lat: 48.1173, lon: 11.516666667, altMSL: 545.4, status: 1 });
  });

  it('dates only from RMC with status A or ZDA, and rolls the date over at midnight', () => {
    const { fixes } = decodeAll(
      [
        gga('235958'), // before any date: no time
        rmc('235959'),
        gga('000000'), // after midnight, no RMC yet
        sentence('GPZDA,000001.00,24,03,1994,00,00'),
        gga('000001'),
      ].join('\n') + '\n',
      2026,
    );
    expect(fixes.map((f) => f.time)).toEqual([undefined, '1994-03-23T23:59:59.000Z', '1994-03-24T00:00:00.000Z', '1994-03-24T00:00:01.000Z']);
  });

  it("does not pin a VTG whose RMC was lost on the epoch before, once it knows the receiver's last sentence", () => {
    const vtg = (track: string) => sentence(`GPVTG,${track},T,,M,005.5,N,010.2,K,A`);
    const gll = (t: string) => sentence(`GPGLL,4807.038,N,01131.000,E,${t},A,A`);
    const epoch = (t: string, track: string) => [rmc(t), vtg(track), gga(t), gll(t)];
    // 12:35:21 lost its VTG and 12:35:22 its RMC: the VTG that follows GLL 12:35:21 is 12:35:22's.
    const lostVtg = epoch('123521', '084.4').filter((_, k) => k !== 1);
    const lostRmc = epoch('123522', '300.0').slice(1);
    const { fixes } = decodeAll([...epoch('123519', '084.4'), ...epoch('123520', '084.4'), ...lostVtg, ...lostRmc, ...epoch('123523', '084.4')].join('\n') + '\n', 1994);
    expect(fixes.map((f) => [f.time?.slice(17, 19), f.track])).toEqual([['19', 84.4], ['20', 84.4], ['21', 84.4], ['22', 300], ['23', 84.4]]);
  });

  it('takes the century from a `# Date:` header', () => {
    const line = rmc('120000', 'A,4807.038,N,01131.000,E,0,0,010199');
    expect(decodeAll(`${line}\n`, 2026).fixes[0]?.time).toBe('1999-01-01T12:00:00.000Z');
    expect(decodeAll(`# Date: 2101-02-03\n${line}\n`, 2026).fixes[0]?.time).toBe('2099-01-01T12:00:00.000Z');
  });

  it('reports the epoch in progress on flush and again, more complete, when a late sentence joins it', () => {
    const d = new NmeaDecoder({ year: 1994 });
    expect(d.push(`${rmc('123519')}\n`)).toEqual([]);
    expect(d.flush().map(toTpv)).toMatchObject([{ mode: 2 }]);
    expect(d.flush()).toEqual([]);
    expect(d.push(`${gga('123519')}\n`)).toEqual([]);
    expect(d.flush().map(toTpv)).toMatchObject([{ mode: 3, altMSL: 545.4, time: '1994-03-23T12:35:19.000Z' }]);
  });

  it('reads status from GGA quality and FAA modes (DGPS, RTK)', () => {
    expect(decodeAll(`${gga('120000', 2)}\n`).fixes[0]).toMatchObject({ status: 2 });
    expect(decodeAll(`${gga('120000', 4)}\n`).fixes[0]).toMatchObject({ status: 3 });
    expect(decodeAll(`${gga('120000', 5)}\n`).fixes[0]).toMatchObject({ status: 4 });
    expect(decodeAll(`${sentence('GNGNS,120213.000,5957.0062,N,01100.6429,E,NDD,11,1.3,168.9,39.5,,,V')}\n`).fixes[0]).toMatchObject({ mode: 3, status: 2, altMSL: 168.9 });
  });
});

describe('coldgate gps decode', () => {
  const tmp = tempDir('coldgate-gpsdecode-');
  afterAll(() => tmp.cleanup());

  it('prints one TPV line per epoch and a summary on stderr; --date sets the century', async () => {
    const file = path.join(tmp.dir, 'one.nmea');
    writeFileSync(file, `# Date: 2009-12-09\n${sentence('GPRMC,152505.00,A,5547.82113,N,02334.14130,E,0.253,,091209,,,A')}\n$GPGGA,bad*00\n`);
    const run = await runDecode([file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('{"class":"TPV","mode":2,"time":"2009-12-09T15:25:05.000Z","lat":55.797018833,"lon":23.569021667,"speed":0.13,"status":1}\n');
    expect(run.stderr).toBe('gps decode: 1 sentences, 1 bad checksums, 0 cut short, 0 not framed, 0 malformed, 1 epochs, 1 fixes\n');
    const dated = await runDecode([file, '--date', '2105-01-01']);
    expect(dated.stdout).toContain('"time":"2109-12-09T15:25:05.000Z"');
  });

  it.each([[[]], [['a', 'b']], [['--frob', 'x']], [['x', '--date', '2026-1-1']], [['x', '--date']]])('exits 2 on bad usage %j', async (argv) => {
    const run = await runDecode(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/usage: coldgate gps decode FILE/);
  });

  it('exits 2 on an unreadable file', async () => {
    const run = await runDecode([path.join(tmp.dir, 'absent.nmea')]);
    expect(run).toMatchObject({ code: 2, stdout: '' });
    expect(run.stderr).toMatch(/cannot read .*absent\.nmea: ENOENT/);
  });
});
