import { FieldError, char, coordinate, dayMonthYear, ddmmyy, num, timeOfDay, type Ymd } from './fields.ts';

/**
 * The seven sentences that describe a fix, from any talker (GP, GN, GL, GA, GB, BD, QZ, ...),
 * decoded field by field. Units are already gpsd's: degrees, m/s, metres.
 *
 *   parseSentence("GPRMC,152505.00,A,5547.82113,N,02334.14130,E,0.253,,091209,,,A")
 *   -> { type: "RMC", talker: "GP", tod: 55505000, valid: true, lat: 55.797018833, lon: 23.569021667,
 *        speed: 0.130154, track: undefined, date: { year: 9, month: 12, day: 9 }, faa: "A" }
 */
export interface Rmc { type: 'RMC'; talker: string; tod?: number; valid: boolean; lat?: number; lon?: number; speed?: number; track?: number; date?: Ymd; faa?: string }
export interface Gga { type: 'GGA'; talker: string; tod?: number; lat?: number; lon?: number; quality?: number; altMSL?: number }
export interface Gns { type: 'GNS'; talker: string; tod?: number; lat?: number; lon?: number; modes?: string; altMSL?: number }
export interface Gll { type: 'GLL'; talker: string; tod?: number; lat?: number; lon?: number; valid: boolean; faa?: string }
export interface Vtg { type: 'VTG'; talker: string; track?: number; speed?: number; faa?: string }
export interface Gsa { type: 'GSA'; talker: string; fixMode?: number }
export interface Zda { type: 'ZDA'; talker: string; tod?: number; date?: Ymd }
export type Sentence = Rmc | Gga | Gns | Gll | Vtg | Gsa | Zda;
export type SentenceType = Sentence['type'];

/** gpsd's KNOTS_TO_MPS: one knot is 1852 m per hour. */
export const KNOTS_TO_MS = 1852 / 3600;
const KMH_TO_MS = 1 / 3.6;

type Fields = string[];
const PARSERS: Record<SentenceType, { minFields: number; parse: (f: Fields, talker: string) => Sentence }> = {
  // RMC: time, status, lat, N/S, lon, E/W, knots, track, ddmmyy, magvar, E/W, [FAA mode], [nav status]
  RMC: {
    minFields: 10,
    parse: (f, talker) => ({
      type: 'RMC', talker, tod: timeOfDay(f[1]), valid: f[2] === 'A', lat: lat(f, 3), lon: lon(f, 5), speed: knots(f[7]), track: num(f[8]), date: ddmmyy(f[9]), faa: char(f[12]),
    }),
  },
  // GGA: time, lat, N/S, lon, E/W, quality, satellites, hdop, altitude, M, geoid separation, M, ...
  GGA: {
    minFields: 10,
    parse: (f, talker) => ({ type: 'GGA', talker, tod: timeOfDay(f[1]), lat: lat(f, 2), lon: lon(f, 4), quality: num(f[6]), altMSL: num(f[9]) }),
  },
  // GNS: time, lat, N/S, lon, E/W, one mode character per constellation, satellites, hdop, altitude, ...
  GNS: {
    minFields: 10,
    parse: (f, talker) => ({ type: 'GNS', talker, tod: timeOfDay(f[1]), lat: lat(f, 2), lon: lon(f, 4), modes: char(f[6]), altMSL: num(f[9]) }),
  },
  // GLL: lat, N/S, lon, E/W, time, status, [FAA mode]
  GLL: {
    minFields: 7,
    parse: (f, talker) => ({ type: 'GLL', talker, lat: lat(f, 1), lon: lon(f, 3), tod: timeOfDay(f[5]), valid: f[6] === 'A', faa: char(f[7]) }),
  },
  // VTG: track,T, magnetic track,M, knots,N, km/h,K, [FAA mode]; NMEA 1.5 receivers send no unit letters.
  VTG: {
    minFields: 5,
    parse: (f, talker) => {
      if (f[2] !== 'T' && f.length < 9) return { type: 'VTG', talker, track: num(f[1]), speed: knots(f[3]) };
      return { type: 'VTG', talker, track: num(f[1]), speed: knots(f[5]) ?? kmh(f[7]), faa: char(f[9]) };
    },
  },
  // GSA: selection A/M, fix mode 1/2/3, 12 satellite ids, pdop, hdop, vdop, [system id]
  GSA: {
    minFields: 3,
    parse: (f, talker) => ({ type: 'GSA', talker, fixMode: num(f[2]) }),
  },
  // ZDA: time, day, month, year (four digits), local zone hours, minutes
  ZDA: {
    minFields: 5,
    parse: (f, talker) => ({ type: 'ZDA', talker, tod: timeOfDay(f[1]), date: dayMonthYear(f[2], f[3], f[4]) }),
  },
};

const ADDRESS = /^[A-Z]{2}[A-Z]{3}$/;

/**
 * A verified sentence body -> a decoded Sentence, or undefined for a sentence we do not use
 * (GSV, TXT, proprietary $P...). Throws FieldError when a field we use is malformed.
 */
export function parseSentence(body: string): Sentence | undefined {
  // The address decides before the split: most sentences on the wire (GSV, TXT) are not ours.
  const address = body.slice(0, body.indexOf(','));
  if (!ADDRESS.test(address) || address.charCodeAt(0) === 0x50 /* P: proprietary */) return undefined;
  const parser = PARSERS[address.slice(2) as SentenceType] as (typeof PARSERS)[SentenceType] | undefined;
  if (parser === undefined) return undefined;
  const fields = body.split(',');
  if (fields.length < parser.minFields) throw new FieldError(`${address}: ${fields.length} fields, expected at least ${parser.minFields}`);
  return parser.parse(fields, address.slice(0, 2));
}

const lat = (f: Fields, at: number) => coordinate(f[at], f[at + 1], 'lat');
const lon = (f: Fields, at: number) => coordinate(f[at], f[at + 1], 'lon');

function knots(field: string | undefined): number | undefined {
  const v = num(field);
  return v === undefined ? undefined : v * KNOTS_TO_MS;
}

function kmh(field: string | undefined): number | undefined {
  const v = num(field);
  return v === undefined ? undefined : v * KMH_TO_MS;
}
