import type { Fix } from './route.ts';

/** `$BODY*HH`: HH is the XOR of the bytes between `$` and `*`. */
export function sentence(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum ^= body.charCodeAt(i);
  return `$${body}*${sum.toString(16).toUpperCase().padStart(2, '0')}\r\n`;
}

function coord(value: number, degDigits: number, pos: string, neg: string): string[] {
  const abs = Math.abs(value);
  const deg = Math.floor(abs);
  const min = (abs - deg) * 60;
  return [`${String(deg).padStart(degDigits, '0')}${min.toFixed(5).padStart(8, '0')}`, value >= 0 ? pos : neg];
}

function hhmmss(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}.00`;
}

/** One epoch as a receiver sends it: RMC then GGA, both for the same UTC second. */
export function epochSentences(fix: Fix, at: Date): string {
  const time = hhmmss(at);
  const p = (n: number) => String(n).padStart(2, '0');
  const date = `${p(at.getUTCDate())}${p(at.getUTCMonth() + 1)}${p(at.getUTCFullYear() % 100)}`;
  const [lat, ns] = coord(fix.lat, 2, 'N', 'S');
  const [lon, ew] = coord(fix.lon, 3, 'E', 'W');
  const knots = (fix.speed / 0.514444).toFixed(2);
  const track = fix.speed > 0.3 ? fix.track.toFixed(1) : '';
  const rmc = sentence(`GPRMC,${time},A,${lat},${ns},${lon},${ew},${knots},${track},${date},,,A`);
  const gga = sentence(`GPGGA,${time},${lat},${ns},${lon},${ew},1,09,0.9,52.3,M,46.1,M,,`);
  return rmc + gga;
}
