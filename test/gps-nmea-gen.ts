/**
 * Builds NMEA for tests: sentences with correct checksums, and simulated drives (a route at
 * a given speed, with no-fix stretches) as receivers emit them. Test-only.
 */
import { checksumOf } from '../drivers/gps-nmea/checksum.ts';
import { KNOTS_TO_MS } from '../drivers/gps-nmea/sentences.ts';

export const sentence = (body: string) => `$${body}*${checksumOf(body)}`;

/** 55.797018833 -> "5547.82113","N"; minutes with `decimals` digits, as receivers print them. */
export function ddmm(deg: number, axis: 'lat' | 'lon', decimals = 5): [string, string] {
  const a = Math.abs(deg);
  let d = Math.floor(a);
  let m = Number(((a - d) * 60).toFixed(decimals));
  if (m >= 60) {
    d += 1;
    m -= 60;
  }
  const width = axis === 'lat' ? 2 : 3;
  const hemi = axis === 'lat' ? (deg < 0 ? 'S' : 'N') : deg < 0 ? 'W' : 'E';
  return [`${String(d).padStart(width, '0')}${m.toFixed(decimals).padStart(3 + decimals, '0')}`, hemi];
}

export interface EpochSpec {
  timeMs: number;
  fix: boolean;
  lat: number;
  lon: number;
  /** m/s */
  speed: number;
  track: number;
  alt: number;
  talker: string;
}

const hhmmss = (ms: number) => new Date(ms).toISOString().slice(11, 23).replace(/:/g, '').slice(0, 9);
const ddmmyy = (ms: number) => {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(8, 10)}${iso.slice(5, 7)}${iso.slice(2, 4)}`;
};

/** One epoch as a u-blox-like receiver sends it: RMC, VTG, GGA, GSA, GLL. */
export function epochSentences(e: EpochSpec): string[] {
  const t = hhmmss(e.timeMs);
  const [la, ns] = e.fix ? ddmm(e.lat, 'lat') : ['', ''];
  const [lo, ew] = e.fix ? ddmm(e.lon, 'lon') : ['', ''];
  const kn = e.fix ? (e.speed / KNOTS_TO_MS).toFixed(3) : '';
  const trk = e.fix ? e.track.toFixed(2) : '';
  const T = e.talker;
  return [
    sentence(`${T}RMC,${t},${e.fix ? 'A' : 'V'},${la},${ns},${lo},${ew},${kn},${trk},${ddmmyy(e.timeMs)},,,${e.fix ? 'A' : 'N'}`),
    sentence(`${T}VTG,${trk},T,,M,${kn},N,${e.fix ? (e.speed * 3.6).toFixed(3) : ''},K,${e.fix ? 'A' : 'N'}`),
    sentence(`${T}GGA,${t},${la},${ns},${lo},${ew},${e.fix ? 1 : 0},${e.fix ? '08' : '00'},${e.fix ? '1.01' : '99.99'},${e.fix ? e.alt.toFixed(1) : ''},M,${e.fix ? '47.0' : ''},M,,`),
    sentence(`${T}GSA,A,${e.fix ? 3 : 1},${e.fix ? '02,05,12,15,18,24,25,29' : ',,,,,,,'},,,,,${e.fix ? '1.80,1.01,1.49' : '99.99,99.99,99.99'}`),
    sentence(`${T}GLL,${la},${ns},${lo},${ew},${t},${e.fix ? 'A' : 'V'},${e.fix ? 'A' : 'N'}`),
  ];
}

/**
 * A drive: `epochs` fixes `stepMs` (a second) apart from `startMs`, heading north-east at
 * `speed` m/s, with no fix where `noFix(i)` says so (a tunnel, a depot roof).
 */
export function drive(opts: { startMs: number; epochs: number; stepMs?: number; speed?: number; talker?: string; noFix?: (i: number) => boolean; lat?: number; lon?: number }): EpochSpec[] {
  const out: EpochSpec[] = [];
  let lat = opts.lat ?? 59.95;
  let lon = opts.lon ?? 11.01;
  const speed = opts.speed ?? 12;
  for (let i = 0; i < opts.epochs; i++) {
    const track = 45 + 10 * Math.sin(i / 20);
    out.push({ timeMs: opts.startMs + i * (opts.stepMs ?? 1000), fix: !(opts.noFix?.(i) ?? false), lat, lon, speed, track, alt: 120 + i * 0.1, talker: opts.talker ?? 'GN' });
    const metres = (speed * (opts.stepMs ?? 1000)) / 1000;
    lat += (metres * Math.cos((track * Math.PI) / 180)) / 111_320;
    lon += (metres * Math.sin((track * Math.PI) / 180)) / (111_320 * Math.cos((lat * Math.PI) / 180));
  }
  return out;
}

/** A deterministic pseudo-random sequence in [0, 1) (mulberry32), so a failing capture can be made again. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What went wrong on the wire in a capture, per sentence. */
export type Damage = 'none' | 'bad-checksum' | 'truncated' | 'run-on';

/**
 * A capture file's text: a `# Date:` header, then each epoch's sentences with some damaged:
 * a flipped character (bad checksum), a line cut short, or a sentence cut and run into the
 * next one on the same line. Returns the text and how many sentences were damaged.
 */
export function capture(epochs: EpochSpec[], damage: (epoch: number, sentence: number) => Damage): { text: string; damaged: number } {
  const first = epochs[0];
  const lines = first ? [`# Date: ${new Date(first.timeMs).toISOString().slice(0, 10)}`] : [];
  let damaged = 0;
  let runOn = '';
  for (const [i, e] of epochs.entries()) {
    for (const [k, s] of epochSentences(e).entries()) {
      const d = damage(i, k);
      if (d !== 'none') damaged++;
      if (d === 'bad-checksum') lines.push(runOn + flipOne(s));
      else if (d === 'truncated') lines.push(runOn + s.slice(0, Math.ceil(s.length / 2)));
      else if (d === 'none') lines.push(runOn + s);
      runOn = d === 'run-on' ? s.slice(0, Math.ceil(s.length / 3)) : '';
    }
  }
  return { text: lines.join('\r\n') + '\r\n', damaged };
}

/** Changes one digit of the payload so that the checksum no longer matches. */
function flipOne(s: string): string {
  const at = s.search(/\d/);
  return `${s.slice(0, at)}${(Number(s[at]) + 1) % 10}${s.slice(at + 1)}`;
}
